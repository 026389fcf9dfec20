"""Parameter types: :class:`Float`, :class:`Int`, :class:`Categorical`, :class:`Ordinal`,
:class:`Constant` (all built on :class:`~hyperhive.space.base.Param`)."""

from __future__ import annotations

from typing import Any

from hyperhive.space.base import Param
from hyperhive.space.finite import Categorical, Constant, Ordinal
from hyperhive.space.numeric import Float, Int

PARAM_TYPES: dict[str, type[Param]] = {
    "float": Float,
    "int": Int,
    "categorical": Categorical,
    "ordinal": Ordinal,
    "constant": Constant,
}


def param_from_dict(d: Any) -> Param:
    """Rebuild a parameter from :meth:`Param.to_dict` output."""
    if not isinstance(d, dict) or d.get("type") not in PARAM_TYPES:
        raise ValueError(
            f"a parameter description needs 'type' in {sorted(PARAM_TYPES)}, got {d!r}"
        )
    kind = d["type"]
    default = d.get("default")
    if kind == "float":
        return Float(d["low"], d["high"], log=d.get("log", False), default=default)
    if kind == "int":
        return Int(d["low"], d["high"], log=d.get("log", False), default=default)
    if kind == "categorical":
        return Categorical(d["choices"], default=default)
    if kind == "ordinal":
        return Ordinal(d["sequence"], default=default)
    return Constant(d["value"])


__all__ = [
    "PARAM_TYPES",
    "Categorical",
    "Constant",
    "Float",
    "Int",
    "Ordinal",
    "Param",
    "param_from_dict",
]
