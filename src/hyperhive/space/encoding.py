"""Numeric encodings of configurations, for models and optimizers.

Unit encoding (:meth:`Space.to_unit` / :meth:`Space.from_unit`)
    One column per parameter, in :attr:`Space.names` order, each in ``[0, 1]``:

    * ``Float``: linear position between ``low`` and ``high`` (in log space when
      ``log``); 0.5 when ``low == high``;
    * ``Int``: bin centres: ``[low - 0.5, high + 0.5]`` (its log when ``log``) is
      mapped onto ``[0, 1]``, so every integer owns an equal share (equal in log
      space when ``log``) and a position maps back to the nearest integer;
    * ``Categorical`` and ``Ordinal``: ``index / (k - 1)``, rounded back to the nearest
      index (0.5 when there is one value); :attr:`Space.kinds` tells which columns
      are categorical (their order means nothing);
    * ``Constant``: always 0.5;
    * a parameter absent from the configuration (inactive): NaN.

    ``from_unit`` clips every column into ``[0, 1]``, takes NaN as "the default",
    applies the conditions (inactive parameters are dropped whatever their column
    holds) and does not repair forbidden combinations.

Model features (:meth:`Space.encode` / :meth:`Space.decode`)
    Like the unit encoding, except that

    * constants are dropped (they carry no information);
    * with ``onehot=True`` a categorical becomes one 0/1 column per choice (named
      ``"name=choice"``), all zeros when the parameter is inactive;
    * other inactive parameters are encoded as :data:`INACTIVE` (-1.0), outside the
      ``[0, 1]`` range of active values, so models can tell them apart.

    ``decode`` reads values below -0.5 (and NaN) as "no value" and an all-zero (or
    non-positive) one-hot block likewise; a parameter without value that is active
    after the conditions gets its default.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeGuard

import numpy as np

from hyperhive.space import sampling
from hyperhive.space.base import Param
from hyperhive.space.finite import Categorical

if TYPE_CHECKING:
    from hyperhive.space.space import Space

#: Feature value of an inactive numeric (or non-one-hot categorical) parameter.
INACTIVE = -1.0

_ABSENT: Any = object()


def _as_list(configs: Any) -> list[Mapping[str, Any]]:
    if isinstance(configs, Mapping):
        return [configs]
    try:
        items = list(configs)
    except TypeError:
        raise TypeError(
            f"expected a list of configurations (dicts), got {type(configs).__name__}"
        ) from None
    for c in items:
        if not isinstance(c, Mapping):
            raise TypeError(f"a configuration must be a dict, got {type(c).__name__}")
    return items


def configs_to_codes(
    space: Space, configs: Any
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], int]:
    """Codes and presence masks of configurations (values validated, unknown keys ignored)."""
    items = _as_list(configs)
    m = len(items)
    codes: dict[str, np.ndarray] = {}
    present: dict[str, np.ndarray] = {}
    for name, p in space._params.items():
        if p.kind == "constant":
            codes[name] = np.zeros(m, dtype=np.int64)
            present[name] = np.ones(m, dtype=bool)
            continue
        raw = [c.get(name, _ABSENT) for c in items]
        here = np.array([r is not _ABSENT for r in raw], dtype=bool)
        if here.all():
            col = p.values_to_codes(raw, name)
        else:
            col = np.zeros(m, dtype=np.float64 if p.kind == "float" else np.int64)
            col[here] = p.values_to_codes([r for r in raw if r is not _ABSENT], name)
        codes[name] = col
        present[name] = here
    return codes, present, m


def to_unit(space: Space, configs: Any) -> np.ndarray:
    """See :meth:`Space.to_unit` and the module docstring."""
    codes, present, m = configs_to_codes(space, configs)
    out = np.full((m, len(space._params)), np.nan)
    for j, (name, p) in enumerate(space._params.items()):
        here = present[name]
        out[here, j] = p.codes_to_unit(codes[name][here])
    return out


def from_unit(space: Space, unit: Any) -> list[dict[str, Any]]:
    """See :meth:`Space.from_unit` and the module docstring."""
    d = len(space._params)
    u = np.asarray(unit, dtype=float)
    if u.ndim == 1 and u.shape[0] == d:
        u = u[None, :]
    if u.ndim != 2 or u.shape[1] != d:
        raise ValueError(
            f"from_unit() needs an array of shape (n, {d}) (one column per parameter), "
            f"got shape {u.shape}"
        )
    m = u.shape[0]
    codes: dict[str, np.ndarray] = {}
    for j, (name, p) in enumerate(space._params.items()):
        col = u[:, j]
        nan = np.isnan(col)
        if nan.any():
            code = p.unit_to_codes(np.where(nan, 0.5, col))
            code[nan] = p.default_code  # exactly the default, not its unit position
        else:
            code = p.unit_to_codes(col)
        codes[name] = code
    active = sampling.activity(space, codes, m)
    return sampling.rows_to_dicts(space, codes, active, m)


def _one_hot(p: Param, onehot: bool) -> TypeGuard[Categorical]:
    return onehot and isinstance(p, Categorical)


def feature_names(space: Space, onehot: bool) -> list[str]:
    """Column names of :func:`encode`."""
    out: list[str] = []
    for name, p in space._params.items():
        if p.kind == "constant":
            continue
        if _one_hot(p, onehot):
            out.extend(f"{name}={c}" for c in p.choices)
        else:
            out.append(name)
    return out


def encode(space: Space, configs: Any, onehot: bool = True) -> np.ndarray:
    """See :meth:`Space.encode` and the module docstring."""
    codes, present, m = configs_to_codes(space, configs)
    blocks: list[np.ndarray] = []
    for name, p in space._params.items():
        if p.kind == "constant":
            continue
        here = present[name]
        if _one_hot(p, onehot):
            block = np.zeros((m, len(p.choices)))
            rows = np.flatnonzero(here)
            block[rows, codes[name][rows]] = 1.0
            blocks.append(block)
        else:
            col = np.full(m, INACTIVE)
            col[here] = p.codes_to_unit(codes[name][here])
            blocks.append(col[:, None])
    return np.hstack(blocks) if blocks else np.zeros((m, 0))


def decode(space: Space, features: Any, onehot: bool = True) -> list[dict[str, Any]]:
    """See :meth:`Space.decode` and the module docstring."""
    width = len(feature_names(space, onehot))
    x = np.asarray(features, dtype=float)
    if x.ndim == 1 and x.shape[0] == width:
        x = x[None, :]
    if x.ndim != 2 or x.shape[1] != width:
        raise ValueError(
            f"decode() needs an array of shape (n, {width}) (encode(..., onehot={onehot})), "
            f"got shape {x.shape}"
        )
    m = x.shape[0]
    unit = np.full((m, len(space._params)), np.nan)
    pos = 0
    for j, p in enumerate(space._params.values()):
        if p.kind == "constant":
            unit[:, j] = 0.5
        elif _one_hot(p, onehot):
            k = len(p.choices)
            block = np.nan_to_num(x[:, pos : pos + k], nan=-np.inf)
            pos += k
            idx = np.argmax(block, axis=1)
            col = idx / (k - 1) if k > 1 else np.full(m, 0.5)
            unit[:, j] = np.where(block.max(axis=1) > 0, col, np.nan)
        else:
            col = x[:, pos]
            pos += 1
            unit[:, j] = np.where(col < -0.5, np.nan, col)
    return from_unit(space, unit)
