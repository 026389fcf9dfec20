"""The dependency graph of conditions: cycle detection and evaluation order."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from hyperhive.space.conditions import Condition

Conditions = Mapping[str, Sequence[Condition]]


def parents_of(conditions: Conditions, name: str) -> list[str]:
    """The parameters ``name``'s conditions read."""
    return [p for cond in conditions.get(name, ()) for p in cond.parents()]


def dependency_path(conditions: Conditions, start: str, target: str) -> list[str] | None:
    """A chain ``start -> parent -> ... -> target`` through the conditions, if any."""
    if start == target:
        return [start]
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen = {start}
    while stack:
        node, path = stack.pop()
        for parent in parents_of(conditions, node):
            if parent == target:
                return [*path, parent]
            if parent not in seen:
                seen.add(parent)
                stack.append((parent, [*path, parent]))
    return None


def topological_order(names: Iterable[str], conditions: Conditions) -> list[str]:
    """Names with every parent before its children (otherwise in the given order).

    Raises:
        ValueError: the conditions form a cycle.
    """
    placed: dict[str, None] = {}
    pending = list(names)
    while pending:
        rest = [n for n in pending if not all(p in placed for p in parents_of(conditions, n))]
        if len(rest) == len(pending):
            raise ValueError(f"the conditions of {rest} form a cycle")
        placed.update((n, None) for n in pending if n not in rest)
        pending = rest
    return list(placed)
