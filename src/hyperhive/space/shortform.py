"""The short (DeepHyper-style) way of writing parameters in ``Space({...})``.

* ``(low, high)``: two ints give :class:`Int`, otherwise :class:`Float`;
* ``(low, high, "log-uniform")`` (or ``"uniform"``): the same on a log (linear) scale;
* a list: :class:`Categorical`;
* a scalar (str, int, float, bool, None): :class:`Constant`.
"""

from __future__ import annotations

from typing import Any

from hyperhive.space.params import Categorical, Constant, Float, Int, Param
from hyperhive.space.values import is_real, to_python

PRIORS = {"uniform": False, "log-uniform": True}


def check_name(name: Any) -> str:
    """Parameter names are non-empty strings."""
    if not isinstance(name, str):
        raise TypeError(f"parameter names must be str, got {name!r} of type {type(name).__name__}")
    if not name:
        raise ValueError("parameter names must be non-empty strings, got ''")
    return name


def to_param(spec: Any, name: str) -> Param:
    """A :class:`Param` from a parameter object or its short form."""
    if isinstance(spec, Param):
        return spec
    spec = to_python(spec)
    try:
        if isinstance(spec, tuple):
            return _range(spec, name)
        if isinstance(spec, list):
            return Categorical(spec)
        if spec is None or isinstance(spec, str | int | float | bool):
            return Constant(spec)
    except ValueError as err:
        raise ValueError(f"parameter {name!r}: {err}") from None
    raise TypeError(
        f"parameter {name!r}: cannot make a parameter from a {type(spec).__name__} ({spec!r}); "
        "use Float, Int, Categorical, Ordinal, Constant or the short form "
        "(low, high[, 'log-uniform']), [choices], or a constant"
    )


def _range(spec: tuple[Any, ...], name: str) -> Param:
    if len(spec) not in (2, 3):
        raise ValueError(f"the short form is (low, high[, prior]), got {spec!r}")
    low, high = to_python(spec[0]), to_python(spec[1])
    prior = spec[2] if len(spec) == 3 else "uniform"
    if prior not in PRIORS:
        raise ValueError(f"prior must be one of {list(PRIORS)}, got {prior!r} in {spec!r}")
    if not (is_real(low) and is_real(high)):
        raise ValueError(f"the short form (low, high[, prior]) needs two numbers, got {spec!r}")
    if isinstance(low, int) and isinstance(high, int):
        return Int(low, high, log=PRIORS[prior])
    return Float(low, high, log=PRIORS[prior])
