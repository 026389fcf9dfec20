"""Clauses, conditions (when a parameter is active) and forbidden combinations.

A :class:`Clause` is ``name op value`` with ``op`` one of ``eq``, ``in``, ``gt``,
``ge``, ``lt``, ``le``, compiled once into a vectorized predicate on the codes of
the parameter (see :mod:`hyperhive.space.params`). A clause on a parameter that is
inactive in a configuration never holds.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hyperhive.space.params import Param
from hyperhive.space.values import OP_SYMBOLS, RELATION_OPS, fmt_list, to_python

_MISSING: Any = object()


@dataclass(frozen=True)
class Relation:
    """A comparison for :meth:`Space.forbid <hyperhive.space.Space.forbid>`: ``gt(256)`` etc."""

    op: str
    value: Any

    def __post_init__(self) -> None:
        if self.op not in RELATION_OPS:
            raise ValueError(f"Relation op must be one of {list(RELATION_OPS)}, got {self.op!r}")
        object.__setattr__(self, "value", to_python(self.value))

    def __repr__(self) -> str:
        return f"{self.op}({self.value!r})"


def gt(value: Any) -> Relation:
    """Match values strictly greater than ``value`` (in :meth:`Space.forbid`)."""
    return Relation("gt", value)


def ge(value: Any) -> Relation:
    """Match values greater than or equal to ``value`` (in :meth:`Space.forbid`)."""
    return Relation("ge", value)


def lt(value: Any) -> Relation:
    """Match values strictly less than ``value`` (in :meth:`Space.forbid`)."""
    return Relation("lt", value)


def le(value: Any) -> Relation:
    """Match values less than or equal to ``value`` (in :meth:`Space.forbid`)."""
    return Relation("le", value)


class Clause:
    """``name op target`` on one parameter, with a compiled vectorized predicate."""

    __slots__ = ("name", "op", "target", "param", "_pred")

    def __init__(self, name: str, param: Param, op: str, value: Any) -> None:
        if op not in OP_SYMBOLS:
            raise ValueError(f"unknown clause operator {op!r}; use one of {list(OP_SYMBOLS)}")
        self.name = name
        self.op = op
        self.param = param
        self.target = param.canonical_target(op, value, name)
        self._pred = param.compile(op, self.target)

    def matches(self, codes: np.ndarray) -> np.ndarray:
        """Boolean array: which codes satisfy the clause."""
        return self._pred(codes)

    def holds_value(self, value: Any) -> bool:
        """True when one (validated) value satisfies the clause."""
        code = self.param.value_to_code(value)
        return bool(self._pred(np.array([code]))[0])

    def to_dict(self) -> dict[str, Any]:
        """``{"name": ..., "op": ..., "value": ...}`` (JSON-ready)."""
        value = list(self.target) if self.op == "in" else self.target
        return {"name": self.name, "op": self.op, "value": value}

    def _rhs(self) -> str:
        return fmt_list(self.target) if self.op == "in" else repr(self.target)

    def kwarg(self) -> str:
        """The clause as :meth:`Space.forbid` keyword text: ``units=gt(256)``."""
        if self.op == "eq":
            return f"{self.name}={self.target!r}"
        if self.op == "in":
            return f"{self.name}={list(self.target)!r}"
        return f"{self.name}={self.op}({self.target!r})"

    def __str__(self) -> str:
        return f"{self.name} {OP_SYMBOLS[self.op]} {self._rhs()}"

    def __repr__(self) -> str:
        return f"Clause({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Clause):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash((self.name, self.op, repr(self.target)))


# ---------------------------------------------------------------------------------------
# conditions
# ---------------------------------------------------------------------------------------
class Condition(abc.ABC):
    """When a child parameter is active: a tree of parent clauses, ``any_of`` and ``all_of``."""

    @abc.abstractmethod
    def parents(self) -> list[str]:
        """Names of the parameters the condition reads."""

    @abc.abstractmethod
    def evaluate(self, codes: Mapping[str, np.ndarray], active: Mapping[str, np.ndarray]) -> Any:
        """Vectorized truth value over rows of codes (parents' activity known)."""

    @abc.abstractmethod
    def holds(self, values: Mapping[str, Any], active: Mapping[str, bool]) -> bool:
        """Truth value for one configuration of validated values."""

    @abc.abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """The dict form accepted by :meth:`Space.condition` (``on``/``equals`` etc.)."""

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Condition):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(str(self))

    def __repr__(self) -> str:
        return f"Condition({str(self)!r})"


class ParentIs(Condition):
    """The parent is active and its value equals (or is in) the target."""

    def __init__(self, clause: Clause) -> None:
        self.clause = clause

    def parents(self) -> list[str]:
        return [self.clause.name]

    def evaluate(self, codes: Mapping[str, np.ndarray], active: Mapping[str, np.ndarray]) -> Any:
        name = self.clause.name
        return active[name] & self.clause.matches(codes[name])

    def holds(self, values: Mapping[str, Any], active: Mapping[str, bool]) -> bool:
        name = self.clause.name
        return bool(active.get(name)) and name in values and self.clause.holds_value(values[name])

    def to_dict(self) -> dict[str, Any]:
        if self.clause.op == "eq":
            return {"on": self.clause.name, "equals": self.clause.target}
        return {"on": self.clause.name, "isin": list(self.clause.target)}

    def __str__(self) -> str:
        return str(self.clause)


class _Junction(Condition):
    word = ""

    def __init__(self, items: Sequence[Condition]) -> None:
        self.items = tuple(items)

    def parents(self) -> list[str]:
        out: dict[str, None] = {}
        for item in self.items:
            out.update(dict.fromkeys(item.parents()))
        return list(out)

    def to_dict(self) -> dict[str, Any]:
        return {f"{self.word}_of": [item.to_dict() for item in self.items]}

    def __str__(self) -> str:
        joiner = " or " if self.word == "any" else " and "
        return "(" + joiner.join(str(item) for item in self.items) + ")"


class AnyOf(_Junction):
    """True when at least one of the conditions holds."""

    word = "any"

    def evaluate(self, codes: Mapping[str, np.ndarray], active: Mapping[str, np.ndarray]) -> Any:
        out = self.items[0].evaluate(codes, active)
        for item in self.items[1:]:
            out = out | item.evaluate(codes, active)
        return out

    def holds(self, values: Mapping[str, Any], active: Mapping[str, bool]) -> bool:
        return any(item.holds(values, active) for item in self.items)


class AllOf(_Junction):
    """True when every condition holds."""

    word = "all"

    def evaluate(self, codes: Mapping[str, np.ndarray], active: Mapping[str, np.ndarray]) -> Any:
        out = self.items[0].evaluate(codes, active)
        for item in self.items[1:]:
            out = out & item.evaluate(codes, active)
        return out

    def holds(self, values: Mapping[str, Any], active: Mapping[str, bool]) -> bool:
        return all(item.holds(values, active) for item in self.items)


def parse_condition(spec: Any, params: Mapping[str, Param], child: str) -> Condition:
    """Build a condition from its dict form.

    Forms: ``{"on": parent, "equals": value}``, ``{"on": parent, "isin": [values]}``,
    ``{"any_of": [forms]}`` and ``{"all_of": [forms]}`` (nesting allowed).
    """
    if not isinstance(spec, Mapping):
        raise TypeError(f"condition for {child!r} must be a dict, got {spec!r}")
    keys = set(spec)
    for word in ("any_of", "all_of"):
        if word in keys:
            if keys != {word}:
                raise ValueError(
                    f"condition for {child!r}: {word!r} cannot be combined with "
                    f"{sorted(keys - {word})}"
                )
            items = spec[word]
            if isinstance(items, str | bytes | Mapping) or not isinstance(items, Sequence):
                raise TypeError(f"condition for {child!r}: {word} needs a list, got {items!r}")
            if not items:
                raise ValueError(f"condition for {child!r}: {word} needs at least one condition")
            cls = AnyOf if word == "any_of" else AllOf
            flat: list[Condition] = []
            for item in items:
                cond = parse_condition(item, params, child)
                flat.extend(cond.items if isinstance(cond, cls) else [cond])
            return flat[0] if len(flat) == 1 else cls(flat)
    if keys not in ({"on", "equals"}, {"on", "isin"}):
        raise ValueError(
            f"condition for {child!r} needs on= with equals= or isin=, or any_of=/all_of=, "
            f"got keys {sorted(keys)}"
        )
    parent = spec["on"]
    if not isinstance(parent, str) or parent not in params:
        raise ValueError(
            f"condition for {child!r} is on unknown parameter {parent!r}; "
            f"known parameters: {list(params)}"
        )
    if parent == child:
        raise ValueError(f"parameter {child!r} cannot be conditioned on itself")
    op, value = ("eq", spec["equals"]) if "equals" in spec else ("in", spec["isin"])
    try:
        clause = Clause(parent, params[parent], op, value)
    except ValueError as err:
        raise ValueError(
            f"condition for {child!r}: {value!r} is not a possible value of parent "
            f"{parent!r} ({err})"
        ) from None
    return ParentIs(clause)


def condition_spec(
    on: str | None, equals: Any, isin: Any, any_of: Any, all_of: Any
) -> dict[str, Any]:
    """The dict form of :meth:`Space.condition` keyword arguments."""
    given = {
        k: v
        for k, v in (("on", on), ("isin", isin), ("any_of", any_of), ("all_of", all_of))
        if v is not None
    }
    if equals is not _MISSING:
        given["equals"] = equals
    return given


# ---------------------------------------------------------------------------------------
# forbidden combinations
# ---------------------------------------------------------------------------------------
class Forbidden:
    """A forbidden combination: every clause holds (all its parameters active)."""

    __slots__ = ("clauses",)

    def __init__(self, clauses: Sequence[Clause]) -> None:
        if not clauses:
            raise ValueError("forbid() needs at least one clause, e.g. forbid(depth=8)")
        self.clauses = tuple(clauses)

    def names(self) -> list[str]:
        """Parameters the combination involves."""
        return [c.name for c in self.clauses]

    def evaluate(self, codes: Mapping[str, np.ndarray], active: Mapping[str, np.ndarray]) -> Any:
        """Vectorized: which rows are forbidden by this combination."""
        out = None
        for c in self.clauses:
            hit = active[c.name] & c.matches(codes[c.name])
            out = hit if out is None else out & hit
        return out

    def holds(self, values: Mapping[str, Any], active: Mapping[str, bool]) -> bool:
        """True when one configuration (validated values) falls in this combination."""
        return all(
            bool(active.get(c.name)) and c.name in values and c.holds_value(values[c.name])
            for c in self.clauses
        )

    def to_dict(self) -> list[dict[str, Any]]:
        """A list of clause dicts (JSON-ready)."""
        return [c.to_dict() for c in self.clauses]

    def __str__(self) -> str:
        return "forbid(" + ", ".join(c.kwarg() for c in self.clauses) + ")"

    def __repr__(self) -> str:
        return str(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Forbidden):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(str(self))


def build_forbidden(params: Mapping[str, Param], clauses: Mapping[str, Any]) -> Forbidden:
    """A :class:`Forbidden` from :meth:`Space.forbid` keyword form."""
    built = []
    for name, spec in clauses.items():
        if not isinstance(name, str) or name not in params:
            raise ValueError(
                f"forbid() on unknown parameter {name!r}; known parameters: {list(params)}"
            )
        if isinstance(spec, Relation):
            op, value = spec.op, spec.value
        elif isinstance(spec, list | tuple | set | frozenset):
            op, value = "in", spec
        else:
            op, value = "eq", spec
        try:
            built.append(Clause(name, params[name], op, value))
        except ValueError as err:
            raise ValueError(f"forbid({name}={spec!r}): {err}") from None
    return Forbidden(built)


def forbidden_from_dicts(params: Mapping[str, Param], items: Any) -> Forbidden:
    """A :class:`Forbidden` from :meth:`Forbidden.to_dict` output."""
    if not isinstance(items, list):
        raise ValueError(f"a forbidden clause must be a list of clause dicts, got {items!r}")
    built = []
    for item in items:
        if not isinstance(item, Mapping) or set(item) != {"name", "op", "value"}:
            raise ValueError(f"a clause needs keys 'name', 'op', 'value', got {item!r}")
        name = item["name"]
        if name not in params:
            raise ValueError(f"forbidden clause on unknown parameter {name!r}")
        built.append(Clause(name, params[name], item["op"], item["value"]))
    return Forbidden(built)
