"""Hypothesis strategies for random spaces, and a plain-Python oracle of their rules.

The oracle reads the space's ``to_dict()`` form and re-implements conditions and
forbidden clauses naively, so tests compare the vectorized implementation against
an independent one.
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import strategies as st

from hyperhive.space import Categorical, Constant, Float, Int, Ordinal, Space, ge, gt, le, lt

SCALARS = st.one_of(
    st.text(alphabet="abcxyz", max_size=3),
    st.integers(-5, 5),
    st.none(),
    st.booleans(),
    st.floats(-10, 10, allow_nan=False).map(lambda x: round(x, 3)),
)


def _num_key(v: Any) -> Any:
    if isinstance(v, bool):
        return ("b", v)
    if isinstance(v, int | float):
        return ("n", v)
    return ("o", v)


def same(a: Any, b: Any) -> bool:
    """Equality that tells bools from numbers (as the space does)."""
    return isinstance(a, bool) == isinstance(b, bool) and a == b


@st.composite
def params(draw: st.DrawFn, allow_bool: bool = True) -> Any:
    kind = draw(st.sampled_from(["float", "int", "categorical", "ordinal", "constant"]))
    scalars = SCALARS if allow_bool else SCALARS.filter(lambda v: not isinstance(v, bool))
    if kind == "float":
        if draw(st.booleans()):
            low = draw(st.floats(1e-6, 1e3))
            return Float(low, low * draw(st.floats(1.0, 1e6)), log=True)
        low = draw(st.floats(-1e3, 1e3))
        return Float(low, low + draw(st.floats(0.0, 1e3)))
    if kind == "int":
        if draw(st.booleans()):
            low = draw(st.integers(1, 100))
            return Int(low, low + draw(st.integers(0, 5000)), log=True)
        low = draw(st.integers(-100, 100))
        return Int(low, low + draw(st.integers(0, 300)))
    values = draw(st.lists(scalars, min_size=1, max_size=5, unique_by=_num_key))
    if kind == "categorical":
        default = draw(st.sampled_from(values)) if draw(st.booleans()) else None
        return Categorical(values, default=default)
    if kind == "ordinal":
        return Ordinal(values)
    return Constant(values[0])


def some_values(p: Any) -> list[Any]:
    """A few values of a parameter's domain (all of a finite one)."""
    if isinstance(p, Int):
        return list(range(p.low, min(p.high, p.low + 6) + 1))
    if isinstance(p, Float):
        return [p.low, p.high, p.default_value]
    return list(p.domain)


@st.composite
def spaces(
    draw: st.DrawFn,
    max_params: int = 6,
    conditions: bool = True,
    forbidden: bool = True,
    allow_bool: bool = True,
) -> Space:
    """Random spaces mixing every parameter type, conditions and forbidden clauses."""
    n = draw(st.integers(1, max_params))
    space = Space({f"p{i}": draw(params(allow_bool)) for i in range(n)})
    names = space.names
    if conditions:
        for i, child in enumerate(names):
            parents = [m for m in names[:i] if not isinstance(space[m], Float)]
            if not parents or space[child].kind == "constant" or not draw(st.booleans()):
                continue
            forms = [_clause_form(draw, space, draw(st.sampled_from(parents)))]
            if len(parents) > 1 and draw(st.booleans()):
                forms.append(_clause_form(draw, space, draw(st.sampled_from(parents))))
                space.condition(child, any_of=forms)
            else:
                space.condition(child, **forms[0])
    if forbidden:
        varied = [m for m in names if space[m].size > 1]
        for _ in range(draw(st.integers(0, 2)) if varied else 0):
            chosen = draw(st.lists(st.sampled_from(varied), min_size=1, max_size=2, unique=True))
            space.forbid(**{m: _forbid_value(draw, space[m]) for m in chosen})
    return space


def _clause_form(draw: st.DrawFn, space: Space, parent: str) -> dict[str, Any]:
    values = some_values(space[parent])
    if draw(st.booleans()):
        return {"on": parent, "equals": draw(st.sampled_from(values))}
    subset = draw(st.lists(st.sampled_from(values), min_size=1, max_size=3, unique_by=_num_key))
    return {"on": parent, "isin": subset}


def _forbid_value(draw: st.DrawFn, p: Any) -> Any:
    values = some_values(p)
    rel = draw(st.sampled_from([gt, ge, lt, le]))
    if isinstance(p, Float):
        lo, hi = p.low, p.high
        return rel(draw(st.floats(lo, hi)) if hi > lo else lo)
    if isinstance(p, Int | Ordinal) and draw(st.booleans()):
        return rel(draw(st.sampled_from(values)))
    if len(values) > 1 and draw(st.booleans()):
        return draw(st.lists(st.sampled_from(values), min_size=1, max_size=2, unique_by=_num_key))
    return draw(st.sampled_from(values))


# ---------------------------------------------------------------------------------------
# the oracle
# ---------------------------------------------------------------------------------------
def _cond_holds(cond: dict[str, Any], config: dict[str, Any]) -> bool:
    if "any_of" in cond:
        return any(_cond_holds(c, config) for c in cond["any_of"])
    if "all_of" in cond:
        return all(_cond_holds(c, config) for c in cond["all_of"])
    parent = cond["on"]
    if parent not in config:
        return False
    if "equals" in cond:
        return same(config[parent], cond["equals"])
    return any(same(config[parent], v) for v in cond["isin"])


def oracle_active(space: Space, config: dict[str, Any]) -> dict[str, bool]:
    """Which parameters should be present, judging from the others in ``config``."""
    conds = space.to_dict()["conditions"]
    return {n: all(_cond_holds(c, config) for c in conds.get(n, [])) for n in space.names}


def _clause_holds(space: Space, clause: dict[str, Any], config: dict[str, Any]) -> bool:
    name, op, target = clause["name"], clause["op"], clause["value"]
    if name not in config:
        return False
    v = config[name]
    if op == "eq":
        return same(v, target)
    if op == "in":
        return any(same(v, t) for t in target)
    p = space[name]
    if isinstance(p, Ordinal) and any(same(target, s) for s in p.sequence):
        seq = list(p.sequence)
        v = next(i for i, s in enumerate(seq) if same(v, s))
        target = next(i for i, s in enumerate(seq) if same(target, s))
    return {"gt": v > target, "ge": v >= target, "lt": v < target, "le": v <= target}[op]


def oracle_forbidden(space: Space, config: dict[str, Any]) -> bool:
    """True when ``config`` falls in one of the forbidden combinations."""
    return any(
        all(_clause_holds(space, c, config) for c in clauses)
        for clauses in space.to_dict()["forbidden"]
    )


def close(space: Space, a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Configurations equal, floats up to 1e-9 relative (or to the range's scale)."""
    if list(a) != list(b):
        return False
    for name, va in a.items():
        vb = b[name]
        p = space[name]
        if isinstance(p, Float):
            scale = 1e-12 * (abs(p.low) + abs(p.high))
            if not math.isclose(va, vb, rel_tol=1e-9, abs_tol=scale):
                return False
        elif not same(va, vb) or type(va) is not type(vb):
            return False
    return True
