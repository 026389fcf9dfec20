"""Checks of single configurations: validation, activity, forbidden combinations, default."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from hyperhive.space import sampling

if TYPE_CHECKING:
    from hyperhive.space.space import Space


def values_of(space: Space, config: Mapping[str, Any], strict: bool) -> dict[str, Any]:
    """Validated values of the known keys of ``config`` (unknown keys raise when strict)."""
    if not isinstance(config, Mapping):
        raise TypeError(f"a configuration must be a dict, got {type(config).__name__}")
    if strict:
        for key in config:
            if key not in space._params:
                raise ValueError(
                    f"unknown parameter {key!r} in configuration; known parameters: {space.names}"
                )
    return {n: p.validate_value(config[n], n) for n, p in space._params.items() if n in config}


def scalar_activity(space: Space, values: Mapping[str, Any]) -> dict[str, bool]:
    """Whether each parameter is active, for one configuration of validated values."""
    active: dict[str, bool] = {}
    for name in space._topo_order():
        active[name] = all(c.holds(values, active) for c in space._conditions.get(name, []))
    return active


def validate(space: Space, config: Mapping[str, Any]) -> dict[str, Any]:
    """See :meth:`Space.validate`."""
    values = values_of(space, config, strict=True)
    active = scalar_activity(space, values)
    for name in space._params:
        conds = " and ".join(str(c) for c in space._conditions.get(name, []))
        if active[name] and name not in values:
            why = f" (active because {conds})" if conds else ""
            raise ValueError(f"parameter {name!r} is missing from the configuration{why}")
        if not active[name] and name in values:
            raise ValueError(
                f"parameter {name!r} is inactive (its condition {conds} does not hold) "
                f"but was given {values[name]!r}; leave it out"
            )
    for f in space._forbidden:
        if f.holds(values, active):
            got = ", ".join(f"{n}={values[n]!r}" for n in f.names())
            raise ValueError(f"configuration is forbidden by clause {f}: got {got}")
    return {n: values[n] for n in space._params if n in values}


def is_active(space: Space, name: str, config: Mapping[str, Any]) -> bool:
    """See :meth:`Space.is_active`."""
    if name not in space._params:
        raise ValueError(f"unknown parameter {name!r}; known parameters: {space.names}")
    return scalar_activity(space, values_of(space, config, strict=False))[name]


def is_forbidden(space: Space, config: Mapping[str, Any]) -> bool:
    """See :meth:`Space.is_forbidden`."""
    values = values_of(space, config, strict=False)
    active = scalar_activity(space, values)
    return any(f.holds(values, active) for f in space._forbidden)


def default(space: Space) -> dict[str, Any]:
    """See :meth:`Space.default`."""
    codes = {n: np.array([p.default_code]) for n, p in space._params.items()}
    active = sampling.activity(space, codes, 1)
    cfg = sampling.rows_to_dicts(space, codes, active, 1)[0]
    for f in space._forbidden:
        if f.evaluate(codes, active)[0]:
            raise ValueError(
                f"the default configuration {cfg} is forbidden by {f}; "
                "give some parameter a default outside it"
            )
    return cfg
