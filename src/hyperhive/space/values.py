"""Small helpers on parameter values: plain-Python conversion, keys, comparisons."""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np

RELATION_OPS = ("gt", "ge", "lt", "le")
OP_SYMBOLS = {"eq": "==", "in": "in", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}
_COMPARE = {"gt": operator.gt, "ge": operator.ge, "lt": operator.lt, "le": operator.le}


def to_python(value: Any) -> Any:
    """Turn numpy scalars (and 0-d arrays) into the matching plain Python value."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value.item()
    return value


def is_real(value: Any) -> bool:
    """True for int and float (bool excluded), after :func:`to_python`."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def value_key(value: Any) -> tuple[str, Any]:
    """A hashable key identifying a parameter value.

    ``1`` and ``1.0`` share a key (equal numbers), ``True`` and ``1`` do not.

    Raises:
        TypeError: for values that cannot be parameter values.
    """
    value = to_python(value)
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int | float):
        return ("num", value)
    if isinstance(value, str):
        return ("str", value)
    if value is None:
        return ("none", None)
    raise TypeError(f"unsupported value type {type(value).__name__}")


def check_choice(label: str, value: Any) -> Any:
    """Validate one value of a finite domain (a JSON scalar) and return it as plain Python."""
    v = to_python(value)
    if v is not None and not isinstance(v, str | int | float | bool):
        raise TypeError(
            f"{label}: values must be str, int, float, bool or None, "
            f"got {value!r} of type {type(value).__name__}"
        )
    if isinstance(v, float) and not math.isfinite(v):
        raise ValueError(f"{label}: values must be finite, got {v!r}")
    return v


def compare(op: str, left: Any, right: Any) -> bool:
    """``left op right`` for a relation name (``"gt"``, ...); TypeError if incomparable."""
    if left is None or right is None:
        raise TypeError("None cannot be ordered")
    return bool(_COMPARE[op](left, right))


def fmt_list(values: Any, limit: int = 12) -> str:
    """``[a, b, ...]`` with reprs, shortened after ``limit`` items."""
    values = list(values)
    shown = ", ".join(repr(v) for v in values[:limit])
    if len(values) > limit:
        shown += f", ... ({len(values)} values)"
    return f"[{shown}]"
