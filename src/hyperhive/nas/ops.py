"""Operations: what a node of the graph does to its (merged) input tensor.

Each operation is a small immutable description: its :attr:`Op.label` is the value
the search space uses for it, :meth:`Op.output_shape` propagates shapes when the
graph is defined (raising :class:`ShapeError` for inputs it cannot take) and
:meth:`Op.build` makes the ``torch.nn.Module`` once the input shape is known.

Shapes leave out the batch dimension: ``(features,)`` for tabular data and
``(steps, features)`` for sequences (batch first, channels last).
"""

from __future__ import annotations

import abc
import math
from dataclasses import dataclass

import torch
from torch import nn

from hyperhive.nas.errors import ANY, Shape, ShapeError, fmt_shape

__all__ = [
    "ACTIVATIONS",
    "GRU",
    "LSTM",
    "Activation",
    "BatchNorm",
    "Conv1D",
    "Dense",
    "Dropout",
    "Flatten",
    "Identity",
    "LastStep",
    "LayerNorm",
    "Op",
    "Zero",
]

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "gelu": nn.GELU,
    "elu": nn.ELU,
    "selu": nn.SELU,
    "silu": nn.SiLU,
    "leaky_relu": nn.LeakyReLU,
    "softplus": nn.Softplus,
}
"""Activation names accepted by :class:`Dense`, :class:`Conv1D` and :class:`Activation`."""


def _check_activation(name: str | None, where: str) -> str | None:
    if name is None or name in ("linear", "none"):
        return None
    if name not in ACTIVATIONS:
        raise ValueError(f"{where}: unknown activation {name!r}; known: {sorted(ACTIVATIONS)}")
    return name


def _check_positive_int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return value


def _with_activation(module: nn.Module, activation: str | None) -> nn.Module:
    if activation is None:
        return module
    return nn.Sequential(module, ACTIVATIONS[activation]())


class Op(abc.ABC):
    """An operation a node can apply (subclasses are frozen dataclasses)."""

    @property
    @abc.abstractmethod
    def label(self) -> str:
        """A short readable name, unique among a node's operations (the choice's value)."""

    @abc.abstractmethod
    def output_shape(self, shape: Shape) -> Shape:
        """The output shape for an input of ``shape``.

        Raises:
            ShapeError: when the operation cannot take ``shape``.
        """

    @abc.abstractmethod
    def build(self, shape: Shape) -> nn.Module:
        """A new module for inputs of ``shape`` (already checked by :meth:`output_shape`)."""

    def __str__(self) -> str:
        return self.label

    def _refuse(self, shape: Shape, why: str) -> ShapeError:
        return ShapeError(f"{self.label} cannot take input shape {fmt_shape(shape)}: {why}")


class _Zeros(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(x)


@dataclass(frozen=True)
class Identity(Op):
    """Passes its input through (lets a searched layer be skipped)."""

    @property
    def label(self) -> str:
        return "identity"

    def output_shape(self, shape: Shape) -> Shape:
        return shape

    def build(self, shape: Shape) -> nn.Module:
        return nn.Identity()


@dataclass(frozen=True)
class Zero(Op):
    """Outputs zeros of the input's shape (cuts a connection)."""

    @property
    def label(self) -> str:
        return "zero"

    def output_shape(self, shape: Shape) -> Shape:
        return shape

    def build(self, shape: Shape) -> nn.Module:
        return _Zeros()


@dataclass(frozen=True)
class Dense(Op):
    """A fully connected layer on the last dimension, then an optional activation.

    Args:
        units: output features.
        activation: a name from :data:`ACTIVATIONS`, or None for a linear layer.
        bias: add a bias.
    """

    units: int
    activation: str | None = None
    bias: bool = True

    def __post_init__(self) -> None:
        _check_positive_int(self.units, "Dense(units=...)")
        object.__setattr__(self, "activation", _check_activation(self.activation, "Dense"))

    @property
    def label(self) -> str:
        act = f", {self.activation}" if self.activation else ""
        return f"dense({self.units}{act})"

    def output_shape(self, shape: Shape) -> Shape:
        return (*shape[:-1], self.units)

    def build(self, shape: Shape) -> nn.Module:
        return _with_activation(nn.Linear(shape[-1], self.units, bias=self.bias), self.activation)


@dataclass(frozen=True)
class Activation(Op):
    """An element-wise activation (a name from :data:`ACTIVATIONS`)."""

    name: str

    def __post_init__(self) -> None:
        if _check_activation(self.name, "Activation") is None:
            raise ValueError("Activation needs a function name; use Identity() for none")

    @property
    def label(self) -> str:
        return self.name

    def output_shape(self, shape: Shape) -> Shape:
        return shape

    def build(self, shape: Shape) -> nn.Module:
        return ACTIVATIONS[self.name]()


@dataclass(frozen=True)
class Dropout(Op):
    """Dropout with probability ``rate`` (active in training mode only)."""

    rate: float

    def __post_init__(self) -> None:
        if not 0.0 <= float(self.rate) < 1.0:
            raise ValueError(f"Dropout(rate=...) must be in [0, 1), got {self.rate!r}")

    @property
    def label(self) -> str:
        return f"dropout({self.rate:g})"

    def output_shape(self, shape: Shape) -> Shape:
        return shape

    def build(self, shape: Shape) -> nn.Module:
        return nn.Dropout(float(self.rate))


class _ChannelsLast(nn.Module):
    """Applies a channels-first module to ``(batch, steps, channels)`` tensors."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x.transpose(1, 2)).transpose(1, 2)


@dataclass(frozen=True)
class BatchNorm(Op):
    """Batch normalization of the features (the last dimension); rank 1 or 2 inputs."""

    @property
    def label(self) -> str:
        return "batch_norm"

    def output_shape(self, shape: Shape) -> Shape:
        if len(shape) > 2:
            raise self._refuse(shape, "inputs of rank 1 or 2 only")
        return shape

    def build(self, shape: Shape) -> nn.Module:
        bn = nn.BatchNorm1d(shape[-1])
        return bn if len(shape) == 1 else _ChannelsLast(bn)


@dataclass(frozen=True)
class LayerNorm(Op):
    """Layer normalization over the last dimension."""

    @property
    def label(self) -> str:
        return "layer_norm"

    def output_shape(self, shape: Shape) -> Shape:
        return shape

    def build(self, shape: Shape) -> nn.Module:
        return nn.LayerNorm(shape[-1])


@dataclass(frozen=True)
class Conv1D(Op):
    """A 1-D convolution over the steps of a ``(steps, channels)`` input.

    Args:
        filters: output channels.
        kernel_size: window length.
        stride: step between windows (``padding="same"`` needs 1).
        padding: ``"same"`` (output keeps the steps) or ``"valid"`` (no padding).
        activation: a name from :data:`ACTIVATIONS`, or None.
    """

    filters: int
    kernel_size: int = 3
    stride: int = 1
    padding: str = "same"
    activation: str | None = None

    def __post_init__(self) -> None:
        _check_positive_int(self.filters, "Conv1D(filters=...)")
        _check_positive_int(self.kernel_size, "Conv1D(kernel_size=...)")
        _check_positive_int(self.stride, "Conv1D(stride=...)")
        if self.padding not in ("same", "valid"):
            raise ValueError(f"Conv1D(padding=...) is 'same' or 'valid', got {self.padding!r}")
        if self.padding == "same" and self.stride != 1:
            raise ValueError("Conv1D(padding='same') needs stride=1")
        object.__setattr__(self, "activation", _check_activation(self.activation, "Conv1D"))

    @property
    def label(self) -> str:
        extra = "" if self.stride == 1 else f", stride={self.stride}"
        extra += "" if self.padding == "same" else ", valid"
        extra += f", {self.activation}" if self.activation else ""
        return f"conv1d({self.filters}, {self.kernel_size}{extra})"

    def output_shape(self, shape: Shape) -> Shape:
        if len(shape) != 2:
            raise self._refuse(shape, "needs a (steps, channels) input")
        steps = shape[0]
        if self.padding == "valid":
            steps = (shape[0] - self.kernel_size) // self.stride + 1
            if steps < 1:
                raise self._refuse(shape, f"{shape[0]} steps are fewer than the kernel size")
        return (steps, self.filters)

    def build(self, shape: Shape) -> nn.Module:
        conv = nn.Conv1d(shape[1], self.filters, self.kernel_size, self.stride, self.padding)
        return _with_activation(_ChannelsLast(conv), self.activation)


class _Recurrent(nn.Module):
    def __init__(self, rnn: nn.Module, return_sequences: bool) -> None:
        super().__init__()
        self.rnn = rnn
        self.return_sequences = return_sequences

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x)
        return out if self.return_sequences else out[:, -1]


@dataclass(frozen=True)
class LSTM(Op):
    """LSTM layer(s) on a ``(steps, features)`` input.

    Args:
        units: hidden size.
        return_sequences: output every step ``(steps, units)``; False for the last
            step only ``(units,)``.
        layers: stacked LSTM layers inside this one operation.
    """

    units: int
    return_sequences: bool = True
    layers: int = 1

    kind = "lstm"

    def __post_init__(self) -> None:
        _check_positive_int(self.units, f"{type(self).__name__}(units=...)")
        _check_positive_int(self.layers, f"{type(self).__name__}(layers=...)")

    @property
    def label(self) -> str:
        extra = "" if self.layers == 1 else f", layers={self.layers}"
        extra += "" if self.return_sequences else ", last"
        return f"{self.kind}({self.units}{extra})"

    def output_shape(self, shape: Shape) -> Shape:
        if len(shape) != 2:
            raise self._refuse(shape, "needs a (steps, features) input")
        return (shape[0], self.units) if self.return_sequences else (self.units,)

    def build(self, shape: Shape) -> nn.Module:
        cls = nn.LSTM if self.kind == "lstm" else nn.GRU
        rnn = cls(shape[1], self.units, num_layers=self.layers, batch_first=True)
        return _Recurrent(rnn, self.return_sequences)


@dataclass(frozen=True)
class GRU(LSTM):
    """GRU layer(s) on a ``(steps, features)`` input (arguments as :class:`LSTM`)."""

    kind = "gru"


class _Last(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, -1]


@dataclass(frozen=True)
class LastStep(Op):
    """The last step of a ``(steps, features)`` input: ``(features,)``."""

    @property
    def label(self) -> str:
        return "last_step"

    def output_shape(self, shape: Shape) -> Shape:
        if len(shape) != 2:
            raise self._refuse(shape, "needs a (steps, features) input")
        return (shape[1],)

    def build(self, shape: Shape) -> nn.Module:
        return _Last()


@dataclass(frozen=True)
class Flatten(Op):
    """All dimensions but the batch flattened into one."""

    @property
    def label(self) -> str:
        return "flatten"

    def output_shape(self, shape: Shape) -> Shape:
        return (ANY,) if ANY in shape else (math.prod(shape),)

    def build(self, shape: Shape) -> nn.Module:
        return nn.Flatten()
