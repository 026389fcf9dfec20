"""Errors raised while defining or building an architecture space."""

from __future__ import annotations

from collections.abc import Iterable

Shape = tuple[int, ...]
"""A tensor shape without the batch dimension, e.g. ``(8,)`` or ``(24, 3)``."""


class GraphError(ValueError):
    """The graph is invalid: an unknown or duplicate name, a cycle, a dangling node,
    a merge or an operation that no choice can make valid, or an invalid configuration."""


class ShapeError(ValueError):
    """An operation or a merge cannot take the given input shape(s)."""


ANY = -1
"""A last dimension that takes too many values to list (see :meth:`Graph.shapes`)."""


def fmt_shape(shape: Shape) -> str:
    """``(8,)`` and ``(24, 3)``, with the batch dimension left out (``any`` for :data:`ANY`)."""
    dims = ["any" if d == ANY else str(d) for d in shape]
    return "(" + ", ".join(dims) + ("," if len(shape) == 1 else "") + ")"


def check_shape(shape: object, what: str) -> Shape:
    """A tuple of positive ints, or a :class:`GraphError` naming ``what``."""
    if isinstance(shape, int) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        if not isinstance(shape, Iterable):
            raise TypeError
        dims = list(shape)
        out = tuple(int(d) for d in dims)
    except TypeError:
        raise GraphError(f"{what}: a shape is a tuple of positive ints, got {shape!r}") from None
    if not out or any(d < 1 for d in out) or any(isinstance(d, bool) for d in dims):
        raise GraphError(
            f"{what}: a shape is a non-empty tuple of positive ints (no batch dimension), "
            f"got {shape!r}"
        )
    return out
