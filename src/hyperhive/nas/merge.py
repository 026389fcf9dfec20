"""Merging several tensors into one: addition (with projection or padding) or concatenation.

A node with more than one incoming tensor (several inputs, or an active skip
connection) merges them before its operation. All tensors must have the same
rank and agree on every dimension but the last; the last dimension is then
handled by the merge:

* ``Add("project")``: tensors whose last dimension differs from the first (main)
  input's are projected to it by a bias-free linear layer, then summed;
* ``Add("pad")``: tensors are zero-padded to the widest, then summed;
* ``Add(None)``: the shapes must be equal;
* ``Concat()``: concatenated along the last dimension.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from hyperhive.nas.errors import ANY, Shape, ShapeError, fmt_shape

__all__ = ["Add", "Concat", "Merge", "as_merge"]

_ALIGNS = ("project", "pad", None)


@dataclass(frozen=True)
class Merge:
    """How a node combines several incoming tensors (use :func:`Add` or :func:`Concat`).

    Attributes:
        mode: ``"add"`` or ``"concat"``.
        align: for ``"add"``, ``"project"``, ``"pad"`` or None (shapes must match).
    """

    mode: str = "add"
    align: str | None = "project"

    def __post_init__(self) -> None:
        if self.mode not in ("add", "concat"):
            raise ValueError(f"a merge mode is 'add' or 'concat', got {self.mode!r}")
        if self.mode == "concat":
            object.__setattr__(self, "align", None)
        elif self.align not in _ALIGNS:
            raise ValueError(f"Add(align=...) is 'project', 'pad' or None, got {self.align!r}")

    @property
    def label(self) -> str:
        if self.mode == "concat":
            return "concat"
        return "add" if self.align is None else f"add({self.align})"

    def output_shape(self, shapes: Sequence[Shape]) -> Shape:
        """The merged shape.

        Raises:
            ShapeError: naming the shapes, when no projection or padding can merge them.
        """
        if len(shapes) == 1:
            return shapes[0]
        text = ", ".join(fmt_shape(s) for s in shapes)
        first = shapes[0]
        for s in shapes[1:]:
            if len(s) != len(first):
                raise ShapeError(f"{self.label} cannot merge shapes {text}: their ranks differ")
            if s[:-1] != first[:-1]:
                raise ShapeError(
                    f"{self.label} cannot merge shapes {text}: they differ before the last "
                    "dimension"
                )
        lasts = [s[-1] for s in shapes]
        unknown = ANY in lasts  # only while a graph is checked, see Graph.shapes
        if self.mode == "concat":
            return (*first[:-1], ANY if unknown else sum(lasts))
        if self.align == "project":
            return first
        if self.align == "pad":
            return (*first[:-1], ANY if unknown else max(lasts))
        if unknown:
            raise ShapeError(f"{self.label} cannot tell whether shapes {text} are equal")
        if len(set(lasts)) > 1:
            raise ShapeError(
                f"{self.label} cannot merge shapes {text}: they differ (use Add('project') or "
                "Add('pad') to align them)"
            )
        return first

    def build(self, shapes: Sequence[Shape]) -> nn.Module:
        """The merging module for inputs of ``shapes`` (checked by :meth:`output_shape`)."""
        out = self.output_shape(shapes)
        if self.mode == "concat":
            return _Concat()
        if self.align == "project":
            return _AddProject([s[-1] for s in shapes], out[-1])
        return _AddPad(out[-1])


def Add(align: str | None = "project") -> Merge:  # noqa: N802 - reads like a class
    """Merge by addition; ``align`` is ``"project"``, ``"pad"`` or None (see the module doc)."""
    return Merge("add", align)


def Concat() -> Merge:  # noqa: N802 - reads like a class
    """Merge by concatenation along the last dimension."""
    return Merge("concat", None)


def as_merge(value: object, where: str) -> Merge:
    """A :class:`Merge` from a Merge, ``"add"``, ``"concat"``, ``"add(pad)"`` and the like."""
    if isinstance(value, Merge):
        return value
    names = {m.label: m for m in (Add("project"), Add("pad"), Add(None), Concat())}
    names["add"] = Add("project")
    if isinstance(value, str) and value in names:
        return names[value]
    raise ValueError(f"{where}: merge must be Add(...), Concat() or one of {sorted(names)}")


class _Concat(nn.Module):
    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return torch.cat(xs, dim=-1)


class _AddProject(nn.Module):
    def __init__(self, widths: Sequence[int], target: int) -> None:
        super().__init__()
        self.proj = nn.ModuleList(
            nn.Identity() if w == target else nn.Linear(w, target, bias=False) for w in widths
        )

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = self.proj[0](xs[0])
        for p, x in zip(self.proj[1:], xs[1:], strict=True):
            out = out + p(x)
        return out


class _AddPad(nn.Module):
    def __init__(self, target: int) -> None:
        super().__init__()
        self.target = target

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = None
        for x in xs:
            if x.shape[-1] < self.target:
                x = F.pad(x, (0, self.target - x.shape[-1]))
            out = x if out is None else out + x
        return out  # type: ignore[return-value]
