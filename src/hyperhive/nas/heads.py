"""Probabilistic output heads: a Gaussian head and its negative log-likelihood.

A :class:`Gaussian` head of ``units`` outputs returns ``2 * units`` features: the
means first, then the variances (made positive by a softplus plus a small floor).
:func:`gaussian_nll` is the matching loss (``nas.train(..., loss="gaussian_nll")``)
and :func:`split_gaussian` separates the two halves of a prediction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812 - torch's own convention

from hyperhive.nas.errors import Shape
from hyperhive.nas.ops import Op, _check_positive_int

__all__ = ["MIN_VARIANCE", "Gaussian", "gaussian_nll", "split_gaussian"]

MIN_VARIANCE = 1e-6
"""The floor added to every predicted variance (keeps the likelihood finite)."""


class _GaussianHead(nn.Module):
    def __init__(self, in_features: int, units: int) -> None:
        super().__init__()
        self.linear = nn.Linear(in_features, 2 * units)
        self.units = units

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.linear(x)
        mean, raw = out[..., : self.units], out[..., self.units :]
        return torch.cat([mean, F.softplus(raw) + MIN_VARIANCE], dim=-1)


@dataclass(frozen=True)
class Gaussian(Op):
    """A linear layer giving a mean and a positive variance for each of ``units`` targets.

    The output has ``2 * units`` features: ``[mean_1..mean_u, var_1..var_u]``. Train
    it with ``loss="gaussian_nll"``; :mod:`hyperhive.ensemble` reads the two halves.

    Args:
        units: the number of regression targets.
    """

    units: int = 1

    def __post_init__(self) -> None:
        _check_positive_int(self.units, "Gaussian(units=...)")

    @property
    def label(self) -> str:
        return f"gaussian({self.units})"

    def output_shape(self, shape: Shape) -> Shape:
        return (*shape[:-1], 2 * self.units)

    def build(self, shape: Shape) -> nn.Module:
        return _GaussianHead(shape[-1], self.units)


def split_gaussian(pred: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(mean, variance)`` halves of a :class:`Gaussian` head's output.

    Raises:
        ValueError: the last dimension is odd (not a Gaussian head's output).
    """
    width = pred.shape[-1]
    if width % 2:
        raise ValueError(
            f"a Gaussian head's output has an even last dimension (means, variances); got {width}"
        )
    return pred[..., : width // 2], pred[..., width // 2 :]


def gaussian_nll(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The mean Gaussian negative log-likelihood of ``y`` (constant term included).

    Args:
        pred: a :class:`Gaussian` head's output, ``(n, 2 * k)``.
        y: targets, ``(n, k)`` or ``(n,)`` when ``k == 1``.
    """
    mean, var = split_gaussian(pred)
    y = y.reshape(mean.shape).to(mean.dtype)
    var = var.clamp_min(MIN_VARIANCE)
    return 0.5 * (torch.log(var) + (y - mean) ** 2 / var + math.log(2 * math.pi)).mean()
