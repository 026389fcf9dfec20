"""Shape propagation over the choices of a graph, and the forbidden clauses it yields.

Every node gets a map from each shape its output can take to the condition under
which it takes it, a condition being a DNF: a list of partial assignments
(frozensets of ``(parameter, value)`` pairs), any of which suffices. Failures
(a merge or an operation that cannot take its inputs) are collected the same way;
they become the forbidden clauses of the search space.

A node is solved as a table over its "positions" (each input's shapes, the skip
choice, the operation choice): every combination is evaluated, then a position is
dropped wherever the result does not depend on it. Dropping is sound because the
conditions of all values of a position together cover every allowed configuration,
and it keeps the conditions small: an ``Add("project")`` merge or a dense layer does
not care which shape came in, so nothing upstream is recorded for it.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from hyperhive.nas.errors import GraphError, Shape, ShapeError

Assignment = frozenset  # of (parameter, value) pairs
DNF = list  # of Assignment
TRUE: DNF = [frozenset()]

MAX_COMBINATIONS = 1_000_000
MAX_TERMS = 100_000


@dataclass
class Position:
    """One axis of a node's table: its values and the condition of each."""

    values: list[Any]
    conds: list[DNF]
    #: named subsets of values whose conditions together reduce to a simpler one
    groups: dict[str, tuple[frozenset[int], DNF]] = field(default_factory=dict)

    def cond(self, token: tuple) -> DNF:
        if token[0] == "*":
            return TRUE
        if token[0] == "g":
            return self.groups[token[1]][1]
        return self.conds[token[1]]

    def covered(self, token: tuple) -> set[int]:
        if token[0] == "*":
            return set(range(len(self.values)))
        if token[0] == "g":
            return set(self.groups[token[1]][0])
        return {token[1]}


@dataclass
class Table:
    """The solved table of one node (stage)."""

    shapes: dict[Shape, DNF]
    failures: DNF
    raw: dict[tuple[int, ...], Shape | ShapeError]

    def messages(self, where: Callable[[tuple[int, ...]], bool] = lambda c: True) -> list[str]:
        """Distinct failure messages of the combinations selected by ``where``."""
        out: dict[str, None] = {}
        for combo, res in self.raw.items():
            if isinstance(res, ShapeError) and where(combo):
                out[str(res)] = None
        return list(out)

    def succeeds(self, where: Callable[[tuple[int, ...]], bool]) -> bool:
        """True when some combination selected by ``where`` succeeds."""
        return any(not isinstance(r, ShapeError) and where(c) for c, r in self.raw.items())


def conj(a: Assignment, b: Assignment) -> Assignment | None:
    """The conjunction of two partial assignments, None when they conflict."""
    if not b:
        return a
    d = dict(a)
    for k, v in b:
        if d.setdefault(k, v) != v:
            return None
    return frozenset(d.items())


@dataclass
class Budget:
    """How many condition terms one analysis may still produce."""

    left: int = field(default_factory=lambda: MAX_TERMS)

    def spend(self, n: int, where: str) -> None:
        self.left -= n
        if self.left < 0:
            raise GraphError(
                f"{where}: the combinations of choices whose shapes do not fit are too many "
                f"to list as forbidden clauses (over {MAX_TERMS} terms); let the merges "
                "align shapes (Add('project') or Add('pad')), or offer fewer skip candidates "
                "or shape-changing choices upstream"
            )


def product(dnfs: Sequence[DNF], where: str, budget: Budget | None = None) -> DNF:
    """The conjunction of several DNFs (conflicting terms dropped)."""
    acc: DNF = TRUE
    for dnf in dnfs:
        acc = [c for a in acc for b in dnf if (c := conj(a, b)) is not None]
        if budget is not None:
            budget.spend(len(acc), where)
    return acc


def simplify(dnf: DNF, domains: Mapping[str, Sequence[Hashable]]) -> DNF:
    """An equivalent, smaller DNF: duplicates and subsumed terms removed, and terms
    that differ only in one parameter covering its whole domain merged."""
    terms = _drop_subsumed(set(dnf))
    while frozenset() not in terms:
        by_rest: dict[tuple[str, Assignment], set] = defaultdict(set)
        for t in terms:
            for k, v in t:
                by_rest[(k, t - {(k, v)})].add(v)
        merged = {
            rest
            for (k, rest), vals in by_rest.items()
            if len(vals) == len(domains[k]) and rest not in terms
        }
        if not merged:
            break
        terms = _drop_subsumed(terms | merged)
    if frozenset() in terms:
        return TRUE
    return sorted(terms, key=lambda t: (len(t), sorted(map(repr, t))))


def _drop_subsumed(terms: set[Assignment]) -> set[Assignment]:
    """``terms`` without those that contain another term.

    Each kept term is filed under its rarest literal; a term contained in ``t`` is
    then filed under one of ``t``'s literals, so only those buckets are searched.
    """
    freq: Counter = Counter(lit for t in terms for lit in t)
    buckets: dict[tuple[str, Any], list[Assignment]] = defaultdict(list)
    kept: set[Assignment] = set()
    for t in sorted(terms, key=len):
        if not t:
            return {t}
        if any(k <= t for lit in t for k in buckets.get(lit, ())):
            continue
        kept.add(t)
        buckets[min(t, key=freq.__getitem__)].append(t)
    return kept


def solve(
    positions: Sequence[Position],
    fn: Callable[..., Shape],
    domains: Mapping[str, Sequence[Hashable]],
    where: str,
    budget: Budget | None = None,
) -> Table:
    """Evaluate ``fn`` over every combination of the positions' values.

    Returns:
        The shapes with their conditions, the failure conditions and the raw table.
    """
    raw = evaluate(positions, fn, where)
    fail = ("fail",)
    rows = {
        tuple(("v", i) for i in combo): fail if isinstance(res, ShapeError) else res
        for combo, res in raw.items()
    }
    rows = _eliminate(rows, positions)
    shapes: dict[Shape, DNF] = defaultdict(list)
    failures: DNF = []
    for tokens, res in rows.items():
        dnf = product([p.cond(t) for p, t in zip(positions, tokens, strict=True)], where, budget)
        if res == fail:
            failures.extend(dnf)
        else:
            shapes[cast(Shape, res)].extend(dnf)
    out = {s: simplify(d, domains) for s, d in shapes.items() if d}
    return Table(out, simplify(failures, domains) if failures else [], raw)


def evaluate(
    positions: Sequence[Position], fn: Callable[..., Shape], where: str
) -> dict[tuple[int, ...], Shape | ShapeError]:
    """``fn`` on every combination of the positions' values (value indices as keys)."""
    sizes = [len(p.values) for p in positions]
    total = 1
    for s in sizes:
        total *= s
    if total > MAX_COMBINATIONS:
        raise GraphError(
            f"{where}: {total} combinations of input shapes and choices to check (more than "
            f"{MAX_COMBINATIONS}); reduce the shapes that can reach it, e.g. merge skip "
            "connections with Add('project') rather than Concat()"
        )
    raw: dict[tuple[int, ...], Shape | ShapeError] = {}
    for combo in itertools.product(*(range(s) for s in sizes)):
        try:
            raw[combo] = fn(*(p.values[i] for p, i in zip(positions, combo, strict=True)))
        except ShapeError as exc:
            raw[combo] = exc
    return raw


def _eliminate(rows: dict[tuple, Any], positions: Sequence[Position]) -> dict[tuple, Any]:
    """Replace a position's values by ``*`` (or a named group) where the result ignores them."""
    for _ in range(3):
        changed = False
        for p, pos in enumerate(positions):
            full = set(range(len(pos.values)))
            grouped: dict[tuple, set[tuple]] = defaultdict(set)
            for tokens, res in rows.items():
                grouped[(tokens[:p] + tokens[p + 1 :], res)].add(tokens[p])
            new: dict[tuple, Any] = {}
            for (rest, res), toks in grouped.items():
                covered = set().union(*(pos.covered(t) for t in toks))
                if covered == full and toks != {("*",)}:
                    toks, changed = {("*",)}, True
                else:
                    for name, (members, _) in pos.groups.items():
                        token = ("g", name)
                        if members <= covered and token not in toks:
                            toks = {t for t in toks if not pos.covered(t) <= members} | {token}
                            changed = True
                for t in toks:
                    new[rest[:p] + (t,) + rest[p:]] = res
            rows = new
        if not changed:
            break
    return rows


def satisfiable(
    domains: Mapping[str, Sequence[Hashable]], clauses: Sequence[Assignment], budget: int = 200_000
) -> dict[str, Any] | None | bool:
    """A configuration avoiding every clause, None when there is none, True when the
    search ran out of ``budget`` steps without deciding."""
    order = list(domains)
    rank = {k: i for i, k in enumerate(order)}
    by_last: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in clauses:
        d = dict(c)
        if not d:
            return None
        by_last[max(d, key=rank.__getitem__)].append(d)
    assign: dict[str, Any] = {}
    steps = 0

    def dfs(i: int) -> bool:
        nonlocal steps
        if i == len(order):
            return True
        k = order[i]
        for v in domains[k]:
            steps += 1
            if steps > budget:
                raise TimeoutError
            assign[k] = v
            if not any(all(assign[n] == x for n, x in c.items()) for c in by_last[k]) and dfs(
                i + 1
            ):
                return True
        del assign[k]
        return False

    try:
        return dict(assign) if dfs(0) else None
    except TimeoutError:
        return True
