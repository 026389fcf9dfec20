"""Operations by name: the built-in ones and your own ``nn.Module`` factories.

Example:
    >>> from torch import nn
    >>> from hyperhive import nas
    >>> nas.register_op("swish_dense", lambda in_shape, units: nn.Sequential(
    ...     nn.Linear(in_shape[-1], units), nn.SiLU()))
    >>> op = nas.op("swish_dense", units=16)
    >>> op.label, op.output_shape((8,))
    ('swish_dense(units=16)', (16,))
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from hyperhive.nas import ops
from hyperhive.nas.errors import ANY, Shape, ShapeError, fmt_shape

__all__ = ["CustomOp", "NotAModuleError", "available_ops", "op", "register_op"]

ModuleFactory = Callable[..., nn.Module]
ShapeFunction = Callable[..., Shape]

_BUILTIN: dict[str, Callable[..., ops.Op]] = {
    "identity": ops.Identity,
    "zero": ops.Zero,
    "dense": ops.Dense,
    "activation": ops.Activation,
    "dropout": ops.Dropout,
    "batch_norm": ops.BatchNorm,
    "layer_norm": ops.LayerNorm,
    "conv1d": ops.Conv1D,
    "lstm": ops.LSTM,
    "gru": ops.GRU,
    "last_step": ops.LastStep,
    "flatten": ops.Flatten,
    "gaussian": lambda **kw: _gaussian(**kw),
}


def _gaussian(**kwargs: Any) -> ops.Op:
    from hyperhive.nas.heads import Gaussian

    return Gaussian(**kwargs)


class NotAModuleError(TypeError):
    """A registered factory returned something that is not a ``torch.nn.Module``."""


@dataclass(frozen=True)
class _Entry:
    factory: ModuleFactory
    output_shape: ShapeFunction | None


_CUSTOM: dict[str, _Entry] = {}


@dataclass(frozen=True, eq=False)
class CustomOp(ops.Op):
    """An operation made by a registered factory (see :func:`register_op`).

    It carries the factory itself, so graphs that use it can be pickled (with
    cloudpickle) to worker processes where the name was never registered.
    """

    name: str
    factory: ModuleFactory
    kwargs: tuple[tuple[str, Any], ...] = ()
    shape_function: ShapeFunction | None = None
    _shapes: dict[Shape, Shape | str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def label(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs)
        return f"{self.name}({args})" if args else self.name

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CustomOp):
            return NotImplemented
        return (self.name, self.factory, self.kwargs) == (other.name, other.factory, other.kwargs)

    def __hash__(self) -> int:
        return hash((self.name, self.kwargs))

    def build(self, shape: Shape) -> nn.Module:
        kwargs = dict(self.kwargs)
        if _takes_shape(self.factory):
            kwargs["in_shape"] = shape
        module = self.factory(**kwargs)
        if not isinstance(module, nn.Module):
            raise NotAModuleError(
                f"the factory of operation {self.label!r} returned {type(module).__name__}, "
                "not a torch.nn.Module"
            )
        return module

    def output_shape(self, shape: Shape) -> Shape:
        if ANY in shape:
            raise ShapeError(f"{self.label}: input shape {fmt_shape(shape)} is not fully known")
        cached = self._shapes.get(shape)
        if cached is None:
            cached = self._infer(shape)
            self._shapes[shape] = cached
        if isinstance(cached, str):
            raise ShapeError(cached)
        return cached

    def _infer(self, shape: Shape) -> Shape | str:
        if self.shape_function is not None:
            try:
                return tuple(int(d) for d in self.shape_function(shape, **dict(self.kwargs)))
            except ShapeError as exc:
                return str(exc)
        # No shape function: a trial forward pass on a batch of two zeros.
        try:
            with torch.no_grad():
                out = self.build(shape)(torch.zeros((2, *shape)))
        except NotAModuleError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure means "cannot take it"
            return f"{self.label} cannot take input shape {fmt_shape(shape)}: {exc}"
        if not isinstance(out, torch.Tensor) or out.dim() < 2 or out.shape[0] != 2:
            return f"{self.label} must return one tensor with the batch dimension first"
        return tuple(int(d) for d in out.shape[1:])


def _takes_shape(factory: Callable[..., Any]) -> bool:
    try:
        return "in_shape" in inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return False


def register_op(
    name: str,
    factory: ModuleFactory,
    *,
    output_shape: ShapeFunction | None = None,
    replace: bool = False,
) -> None:
    """Make ``factory`` available as an operation named ``name``.

    Args:
        name: the name for :func:`op` (not a built-in name).
        factory: returns a new ``nn.Module``; it gets the operation's keyword
            arguments, and the input shape (without batch dimension) as ``in_shape``
            when it has a parameter of that name.
        output_shape: optional ``fn(in_shape, **kwargs) -> shape`` raising
            :class:`hyperhive.nas.ShapeError` for shapes the module cannot take;
            without it the shape is found by building the module once per input
            shape and running it on a batch of two zeros (give it for big modules).
        replace: allow rebinding a name already registered.

    Raises:
        ValueError: an empty or built-in name, or one already taken.
        TypeError: ``factory`` is not callable.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"an operation name must be an identifier, got {name!r}")
    if name in _BUILTIN:
        raise ValueError(f"{name!r} is a built-in operation; choose another name")
    if not callable(factory):
        raise TypeError(f"register_op({name!r}, factory) needs a callable, got {factory!r}")
    if name in _CUSTOM and not replace:
        raise ValueError(f"operation {name!r} is already registered; pass replace=True")
    _CUSTOM[name] = _Entry(factory, output_shape)


def op(name: str, **kwargs: Any) -> ops.Op:
    """An operation by name: a built-in (``"dense"``, ``"lstm"``, ...) or a registered one.

    Example:
        >>> op("dense", units=32, activation="relu").label
        'dense(32, relu)'

    Raises:
        ValueError: for an unknown name (the message lists the known ones).
    """
    if name in _BUILTIN:
        return _BUILTIN[name](**kwargs)
    entry = _CUSTOM.get(name)
    if entry is None:
        raise ValueError(f"unknown operation {name!r}; known: {available_ops()}")
    return CustomOp(name, entry.factory, tuple(sorted(kwargs.items())), entry.output_shape)


def available_ops() -> list[str]:
    """Sorted names accepted by :func:`op`."""
    return sorted([*_BUILTIN, *_CUSTOM])
