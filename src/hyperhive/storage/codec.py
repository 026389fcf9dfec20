"""Strict JSON for the journal and the run directory (never pickle).

Non-finite floats (NaN, infinities) become ``null``; numpy scalars and arrays
become plain numbers and lists; sets become lists; path-like objects become
strings. Anything else that is not JSON raises :class:`TypeError`.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from typing import Any

__all__ = ["dumps", "jsonable", "loads"]


def _is_numpy(obj: Any) -> bool:
    return type(obj).__module__.split(".", 1)[0] == "numpy"


def _default(obj: Any) -> Any:
    if _is_numpy(obj) and hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, Mapping):
        return dict(obj)
    if isinstance(obj, set | frozenset):
        return list(obj)
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    raise TypeError(
        f"a value of type {type(obj).__name__!r} is not JSON serializable "
        "(stores keep JSON only: numbers, strings, booleans, None, lists, dicts)"
    )


def jsonable(obj: Any, _path: frozenset[int] = frozenset()) -> Any:
    """A copy of ``obj`` that strict JSON can encode (non-finite floats -> None).

    Raises:
        ValueError: ``obj`` contains itself.
        TypeError: a value has no JSON form.
    """
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if obj is None or isinstance(obj, str | int):
        return obj
    if isinstance(obj, Mapping | list | tuple | set | frozenset):
        if id(obj) in _path:
            raise ValueError("circular reference in a value given to the store")
        inner = _path | {id(obj)}
        if isinstance(obj, Mapping):
            return {k: jsonable(v, inner) for k, v in obj.items()}
        return [jsonable(v, inner) for v in obj]
    return jsonable(_default(obj), _path)


_COMPACT = json.JSONEncoder(allow_nan=True, default=_default, separators=(",", ":"))
_STRICT = json.JSONEncoder(allow_nan=False, default=_default, separators=(",", ":"))


def dumps(obj: Any, *, indent: int | None = None) -> str:
    """Encode ``obj`` as strict JSON text (ASCII, compact unless ``indent``).

    Raises:
        TypeError: a value has no JSON form.
        ValueError: ``obj`` contains itself.
    """
    if indent is not None:
        return json.dumps(jsonable(obj), allow_nan=False, indent=indent)
    text = _COMPACT.encode(obj)
    if "NaN" in text or "Infinity" in text:
        # A non-finite float somewhere (or only a string holding those letters).
        text = _STRICT.encode(jsonable(obj))
    return text


def loads(text: str | bytes) -> Any:
    """Decode JSON text (raises :class:`ValueError` when it is not JSON)."""
    return json.loads(text)
