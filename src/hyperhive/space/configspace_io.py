"""Conversion to and from ``ConfigSpace.ConfigurationSpace`` (ConfigSpace >= 1.2).

Export (:func:`to_configspace`):

* Float/Int become ``UniformFloatHyperparameter``/``UniformIntegerHyperparameter``
  (with ``low == high`` they become a ``Constant``), Categorical, Ordinal and
  Constant the hyperparameters of the same name; every default is written out.
* Conditions become ``EqualsCondition``/``InCondition`` joined by ``AndConjunction``
  and ``OrConjunction`` (several conditions on one child are ANDed).
* Forbidden combinations become ``ForbiddenEqualsClause``/``ForbiddenInClause``
  joined by ``ForbiddenAndConjunction``. Relations (``gt`` ...) on Float, Int and
  (for values in the sequence) Ordinal become ``ForbiddenGreaterThanClause`` etc.;
  on other finite domains they are expanded into a ``ForbiddenInClause`` of the
  matching values (a combination no value can match is left out).
* ``meta["hyperhive"]`` records the parameter order (ConfigSpace sorts
  hyperparameters) and the space itself (``Space.to_dict()``): ConfigSpace rounds
  float bounds to 13 decimals and loses relations on categoricals, so import
  returns the recorded space when exporting it again gives an equal
  ConfigurationSpace (the configuration space was not changed since).

Import (:func:`from_configspace`) reverses this. Normal and Beta hyperparameters
become uniform over their bounds and categorical weights are dropped (with a
warning). ``NotEqualsCondition``, ``GreaterThanCondition`` and ``LessThanCondition``
on finite parents are turned into ``isin``; on continuous parents they raise
ValueError, as do ``ForbiddenRelation`` clauses (between two hyperparameters).
A conditional ConfigSpace ``Constant`` becomes a one-choice :class:`Categorical`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import math
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ConfigSpace as CS
from ConfigSpace.exceptions import ForbiddenValueError
from ConfigSpace.forbidden import ForbiddenClause

from hyperhive.space.conditions import AllOf, AnyOf, Clause, Condition, Forbidden, ParentIs
from hyperhive.space.params import Categorical, Constant, Float, Int, Ordinal, Param
from hyperhive.space.values import compare, to_python

if TYPE_CHECKING:
    from hyperhive.space.space import Space

META_KEY = "hyperhive"
# Callables, not type[ForbiddenClause]: these concrete classes take (hyperparameter, value).
_REL_CLAUSES: dict[str, Callable[[Any, Any], ForbiddenClause]] = {
    "gt": CS.ForbiddenGreaterThanClause,
    "ge": CS.ForbiddenGreaterThanEqualsClause,
    "lt": CS.ForbiddenLessThanClause,
    "le": CS.ForbiddenLessThanEqualsClause,
}
_MAX_EXPANSION = 10_000


# ---------------------------------------------------------------------------------------
# export
# ---------------------------------------------------------------------------------------
def _hp(name: str, p: Param) -> Any:
    try:
        return _make_hp(name, p)
    except ValueError as err:
        raise ValueError(f"ConfigSpace refuses parameter {name!r} = {p!r}: {err}") from None


def _make_hp(name: str, p: Param) -> Any:
    if isinstance(p, Float | Int) and p.low == p.high:  # ConfigSpace needs low < high
        return CS.Constant(name, p.low)
    if isinstance(p, Float):
        return CS.UniformFloatHyperparameter(
            name, p.low, p.high, log=p.log, default_value=p.default_value
        )
    if isinstance(p, Int):
        return CS.UniformIntegerHyperparameter(
            name, p.low, p.high, log=p.log, default_value=p.default_value
        )
    if isinstance(p, Categorical):
        return CS.CategoricalHyperparameter(name, list(p.choices), default_value=p.default_value)
    if isinstance(p, Ordinal):
        return CS.OrdinalHyperparameter(name, list(p.sequence), default_value=p.default_value)
    if isinstance(p, Constant):
        return CS.Constant(name, p.value)
    raise TypeError(f"cannot export parameter {name!r} of type {type(p).__name__}")


def _cs_condition(cond: Condition, child: Any, hps: dict[str, Any]) -> Any:
    if isinstance(cond, ParentIs):
        c = cond.clause
        if c.op == "eq":
            return CS.EqualsCondition(child, hps[c.name], c.target)
        return CS.InCondition(child, hps[c.name], list(c.target))
    if not isinstance(cond, AnyOf | AllOf):
        raise TypeError(f"cannot export condition {cond} of type {type(cond).__name__}")
    parts = [_cs_condition(item, child, hps) for item in cond.items]
    if len(parts) == 1:
        return parts[0]
    return CS.OrConjunction(*parts) if isinstance(cond, AnyOf) else CS.AndConjunction(*parts)


def _cs_clause(clause: Clause, hps: dict[str, Any], forbidden: Forbidden) -> Any | None:
    hp, p, op, target = hps[clause.name], clause.param, clause.op, clause.target
    if op == "eq":
        return CS.ForbiddenEqualsClause(hp, target)
    if op == "in":
        return CS.ForbiddenInClause(hp, list(target))
    if isinstance(p, Int) and target != int(target):
        target = math.floor(target) if op in ("gt", "le") else math.ceil(target)
    if isinstance(p, Float) and p.low < p.high:  # ConfigSpace rounds its bounds
        return _REL_CLAUSES[op](hp, min(max(target, hp.lower), hp.upper))
    if isinstance(p, Int) and p.low < p.high:
        return _REL_CLAUSES[op](hp, target)
    if isinstance(p, Ordinal) and p.contains(target):
        return _REL_CLAUSES[op](hp, target)
    if isinstance(p, Float | Int):  # low == high, exported as a Constant
        return CS.ForbiddenEqualsClause(hp, p.low) if compare(op, p.low, target) else None
    if not isinstance(p, Categorical | Ordinal | Constant):
        raise TypeError(f"cannot export {clause}: unknown parameter type {type(p).__name__}")
    values = [v for v, hit in zip(p.domain, p.mask(op, target), strict=True) if hit]
    if not values:
        return None
    if len(values) > _MAX_EXPANSION:
        raise ValueError(f"cannot export {forbidden} to ConfigSpace: {clause} is too large")
    return CS.ForbiddenInClause(hp, values)


def _add(cs: CS.ConfigurationSpace, items: list[Any]) -> None:
    """``cs.add(*items)``, with ConfigSpace's refusals as clear ValueErrors."""
    try:
        # ConfigSpace 1.2.2 prints from ForbiddenGreaterThanEqualsClause while it
        # checks the default configuration: keep that debug output off stdout.
        with contextlib.redirect_stdout(io.StringIO()):
            cs.add(*items)
    except ForbiddenValueError as err:
        raise ValueError(
            f"ConfigSpace refuses a space whose default configuration is forbidden ({err}); "
            "give some parameter a default outside the forbidden combinations"
        ) from None
    except Exception as err:  # ConfigSpace's own errors, e.g. on tiny float ranges
        kind = type(err).__name__
        raise ValueError(f"ConfigSpace refuses this space: {kind}: {err}") from err


def to_configspace(space: Space) -> CS.ConfigurationSpace:
    """See :meth:`Space.to_configspace` and the module docstring."""
    meta = {META_KEY: {"order": space.names, "space": space.to_dict()}}
    cs = CS.ConfigurationSpace(meta=meta)
    hps = {name: _hp(name, p) for name, p in space._params.items()}
    _add(cs, list(hps.values()))
    conds = []
    for child, items in space._conditions.items():
        parts = [_cs_condition(c, hps[child], hps) for c in items]
        conds.append(parts[0] if len(parts) == 1 else CS.AndConjunction(*parts))
    if conds:
        _add(cs, conds)
    forbids = []
    for f in space._forbidden:
        clauses = [c for c in (_cs_clause(c, hps, f) for c in f.clauses) if c is not None]
        if len(clauses) < len(f.clauses):
            continue  # some clause matches no value: the combination never happens
        forbids.append(clauses[0] if len(clauses) == 1 else CS.ForbiddenAndConjunction(*clauses))
    if forbids:
        _add(cs, forbids)
    return cs


# ---------------------------------------------------------------------------------------
# import
# ---------------------------------------------------------------------------------------
def _default(value: Any, natural: Any, tol: float = 0.0) -> Any:
    value = to_python(value)
    if value == natural or (tol and abs(value - natural) <= tol * max(abs(natural), 1e-300)):
        return None
    return value


def _param(hp: Any, conditional: bool) -> Param:
    name = hp.name
    if isinstance(hp, CS.CategoricalHyperparameter):
        if hp.weights is not None:
            warnings.warn(f"{name!r}: categorical weights are ignored", stacklevel=3)
        choices = [to_python(c) for c in hp.choices]
        return Categorical(choices, default=_default(hp.default_value, choices[0]))
    if isinstance(hp, CS.OrdinalHyperparameter):
        seq = [to_python(c) for c in hp.sequence]
        return Ordinal(seq, default=_default(hp.default_value, seq[(len(seq) - 1) // 2]))
    if isinstance(hp, CS.Constant):
        value = to_python(hp.value)
        return Categorical([value]) if conditional else Constant(value)
    if isinstance(hp, CS.hyperparameters.NumericalHyperparameter):
        is_int = isinstance(hp, CS.hyperparameters.IntegerHyperparameter)
        if not isinstance(hp, CS.UniformFloatHyperparameter | CS.UniformIntegerHyperparameter):
            warnings.warn(
                f"{name!r}: {type(hp).__name__} becomes a uniform parameter over its bounds",
                stacklevel=3,
            )
        cls = Int if is_int else Float
        p = cls(to_python(hp.lower), to_python(hp.upper), log=bool(hp.log))
        default = to_python(hp.default_value)
        if not p.contains(default):
            return p
        return dataclasses.replace(p, default=_default(default, p.default_value, 1e-9))
    raise TypeError(f"cannot import hyperparameter {name!r} of type {type(hp).__name__}")


def _parent_values(parent: Param, op: str, value: Any, what: str) -> list[Any]:
    if isinstance(parent, Float):
        raise ValueError(f"cannot import {what}: the parent is continuous")
    if isinstance(parent, Int):
        if parent.size > _MAX_EXPANSION:
            raise ValueError(f"cannot import {what}: the parent's range is too large")
        domain: list[Any] = list(range(parent.low, parent.high + 1))
    elif isinstance(parent, Categorical | Ordinal | Constant):
        domain = list(parent.domain)
    else:
        raise TypeError(f"cannot import {what}: unknown parent type {type(parent).__name__}")
    if op == "ne":
        key = parent.validate_value(value, "?")
        return [v for v in domain if v != key]
    if isinstance(parent, Ordinal) and parent.contains(value):
        i = parent.sequence.index(parent.validate_value(value, "?"))
        return [v for j, v in enumerate(domain) if compare(op, j, i)]
    return [v for v in domain if compare(op, v, value)]


def _condition(cond: Any, params: dict[str, Param]) -> dict[str, Any]:
    if isinstance(cond, CS.OrConjunction | CS.AndConjunction):
        word = "any_of" if isinstance(cond, CS.OrConjunction) else "all_of"
        return {word: [_condition(c, params) for c in cond.components]}
    parent = cond.parent.name
    if isinstance(cond, CS.EqualsCondition):
        return {"on": parent, "equals": to_python(cond.value)}
    if isinstance(cond, CS.InCondition):
        return {"on": parent, "isin": [to_python(v) for v in cond.values]}
    ops = {CS.NotEqualsCondition: "ne", CS.GreaterThanCondition: "gt", CS.LessThanCondition: "lt"}
    op = next((o for t, o in ops.items() if isinstance(cond, t)), None)
    if op is None:
        raise ValueError(f"cannot import condition {cond} of type {type(cond).__name__}")
    return {"on": parent, "isin": _parent_values(params[parent], op, to_python(cond.value), cond)}


def _clauses(f: Any, params: dict[str, Param]) -> list[Clause]:
    if isinstance(f, CS.ForbiddenAndConjunction):
        return [c for part in f.components for c in _clauses(part, params)]
    if isinstance(f, CS.ForbiddenEqualsClause):
        op, value = "eq", to_python(f.value)
    elif isinstance(f, CS.ForbiddenInClause):
        op, value = "in", [to_python(v) for v in f.values]
    else:
        rel = next((o for o, t in _REL_CLAUSES.items() if type(f) is t), None)
        if rel is None:
            raise ValueError(f"cannot import forbidden clause {f} of type {type(f).__name__}")
        op, value = rel, to_python(f.value)
    name = f.hyperparameter.name
    return [Clause(name, params[name], op, value)]


def _recorded(data: Any, cs: CS.ConfigurationSpace) -> Space | None:
    """The space recorded at export, if ``cs`` is still exactly what it exported."""
    if not isinstance(data, dict):
        return None
    from hyperhive.space.serialization import space_from_dict

    try:
        space = space_from_dict(data)
        return space if to_configspace(space) == cs else None
    except (ValueError, TypeError, KeyError):
        return None


def from_configspace(cs: CS.ConfigurationSpace) -> Space:
    """See :meth:`Space.from_configspace` and the module docstring."""
    from hyperhive.space.space import Space

    if not isinstance(cs, CS.ConfigurationSpace):
        raise TypeError(f"expected a ConfigSpace.ConfigurationSpace, got {type(cs).__name__}")
    meta = cs.meta.get(META_KEY) if isinstance(cs.meta, dict) else None
    meta = meta if isinstance(meta, dict) else {}
    recorded = _recorded(meta.get("space"), cs)
    if recorded is not None:
        return recorded
    hps = {hp.name: hp for hp in cs.values()}
    order = list(hps)
    if sorted(meta.get("order") or []) == sorted(order):
        order = list(meta["order"])
    conditional = {c.child.name for c in cs.conditions}
    params = {name: _param(hps[name], name in conditional) for name in order}
    space = Space(params)
    for cond in cs.conditions:
        spec = _condition(cond, params)
        for part in spec["all_of"] if set(spec) == {"all_of"} else [spec]:
            space.condition(cond.child.name, **part)
    for f in cs.forbidden_clauses:
        if isinstance(f, CS.ForbiddenOrConjunction):
            groups = [_clauses(part, params) for part in f.components]
        else:
            groups = [_clauses(f, params)]
        for group in groups:
            space._forbidden.append(Forbidden(group))
    return space
