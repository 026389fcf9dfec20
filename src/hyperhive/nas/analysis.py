"""Checks made when a graph is defined: names, cycles, dangling nodes, shapes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hyperhive.nas.errors import ANY, GraphError, Shape, ShapeError, fmt_shape
from hyperhive.nas.nodes import NO_SKIP, Constant, Input, Mirror, Node, Variable
from hyperhive.nas.ops import Op
from hyperhive.nas.shapes import (
    DNF,
    TRUE,
    Budget,
    Position,
    Table,
    evaluate,
    satisfiable,
    simplify,
    solve,
)


def choice_root(nodes: Mapping[str, Node], name: str) -> Variable | Constant:
    """The node whose operation choice ``name`` uses (itself unless it is a mirror)."""
    seen = [name]
    node = nodes[name]
    while isinstance(node, Mirror):
        if node.of in seen:
            chain = " -> ".join(repr(n) for n in [*seen, node.of])
            raise GraphError(f"mirror nodes refer to each other in a cycle: {chain}")
        seen.append(node.of)
        node = nodes[node.of]
    if isinstance(node, Input):
        raise GraphError(f"mirror node {seen[-2]!r} mirrors input {node.name!r}; mirror a layer")
    return node


def module_owner(nodes: Mapping[str, Node], name: str) -> str:
    """The node whose module ``name`` runs (differs only for weight-sharing mirrors)."""
    node = nodes[name]
    while isinstance(node, Mirror) and node.share_weights:
        node = nodes[node.of]
    return node.name


def check_references(nodes: Mapping[str, Node]) -> None:
    """Every input, skip candidate and mirrored node names a node of the graph."""
    for node in nodes.values():
        if isinstance(node, Input):
            continue
        refs = [("input", r) for r in node.inputs] + [("skip candidate", r) for r in node.skip]
        if isinstance(node, Mirror):
            refs.append(("mirrored node", node.of))
        for what, ref in refs:
            if ref not in nodes:
                raise GraphError(
                    f"node {node.name!r}: {what} {ref!r} is not a node of the graph; "
                    f"nodes: {sorted(nodes)}"
                )
        if isinstance(node, Mirror):
            choice_root(nodes, node.name)


def edges(nodes: Mapping[str, Node]) -> dict[str, list[str]]:
    """Predecessors of each node: data inputs, skip candidates, and the owner of a
    shared module (which must be defined before the mirror that shares it)."""
    out: dict[str, list[str]] = {}
    for name, node in nodes.items():
        preds: list[str] = []
        if not isinstance(node, Input):
            preds = [*node.inputs, *node.skip]
            if isinstance(node, Mirror) and node.share_weights:
                preds.append(module_owner(nodes, node.of))
        out[name] = preds
    return out


def topological_order(nodes: Mapping[str, Node]) -> list[str]:
    """Nodes in an order where each comes after its predecessors.

    Raises:
        GraphError: naming the nodes of a cycle.
    """
    preds = edges(nodes)
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    order: list[str] = []
    for start in nodes:
        if state.get(start):
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        path = [start]
        state[start] = 1
        while stack:
            name, i = stack[-1]
            if i < len(preds[name]):
                stack[-1] = (name, i + 1)
                p = preds[name][i]
                if state.get(p) == 1:
                    cycle = path[path.index(p) :] + [p]
                    chain = " <- ".join(repr(n) for n in cycle)
                    raise GraphError(f"the graph has a cycle: {chain} (each arrow reads 'takes')")
                if not state.get(p):
                    state[p] = 1
                    stack.append((p, 0))
                    path.append(p)
            else:
                stack.pop()
                path.pop()
                state[name] = 2
                order.append(name)
    return order


def check_dangling(nodes: Mapping[str, Node], output: str) -> None:
    """Every node (inputs included) has a path to the output."""
    preds = edges(nodes)
    seen = {output}
    todo = [output]
    while todo:
        for p in preds[todo.pop()]:
            if p not in seen:
                seen.add(p)
                todo.append(p)
    dangling = [n for n in nodes if n not in seen]
    if dangling:
        raise GraphError(
            f"nodes {dangling} are dangling: no path leads from them to the output "
            f"{output!r}; connect them or remove them"
        )


@dataclass
class Analysis:
    """What shape propagation found."""

    order: list[str]
    domains: dict[str, tuple[Any, ...]]
    out: dict[str, dict[Shape, DNF]] = field(default_factory=dict)
    inp: dict[str, dict[Shape, DNF]] = field(default_factory=dict)
    forbidden: DNF = field(default_factory=list)
    budget: Budget = field(default_factory=Budget)
    example: dict[str, Any] = field(default_factory=dict)


def domains_of(nodes: Mapping[str, Node], order: Sequence[str]) -> dict[str, tuple[Any, ...]]:
    """The categorical parameters of the graph, in topological order."""
    out: dict[str, tuple[Any, ...]] = {}
    for name in order:
        node = nodes[name]
        if isinstance(node, Variable):
            out[name] = tuple(node.labels)
        if not isinstance(node, Input) and node.skip:
            out[f"{name}.skip"] = (NO_SKIP, *node.skip)
    return out


def propagate(nodes: Mapping[str, Node], output: str) -> Analysis:
    """Propagate shapes node by node; collect forbidden clauses.

    Raises:
        GraphError: a merge or an operation that no choice makes valid, a skip
            candidate or an operation that can never be used, or a graph whose every
            configuration is forbidden.
    """
    check_references(nodes)
    order = topological_order(nodes)
    check_dangling(nodes, output)
    domains = domains_of(nodes, order)
    # First only the sets of shapes, ignoring which choices give them: when nothing
    # can fail the graph has no forbidden clause and that is all there is to know.
    # Otherwise track the conditions of every shape (slower).
    try:
        an = _run(nodes, Analysis(order, domains), exact=False)
    except _NeedsConditions:
        an = _run(nodes, Analysis(order, domains), exact=True)
    an.forbidden = simplify(an.forbidden, an.domains) if an.forbidden else []
    found = satisfiable(an.domains, an.forbidden)
    if found is None:
        raise GraphError(
            "every configuration of the graph is forbidden: no combination of choices "
            "gives shapes that fit together"
        )
    an.example = found if isinstance(found, dict) else {}
    return an


class _NeedsConditions(Exception):
    """Some combination fails: conditions must be tracked."""


def _run(nodes: Mapping[str, Node], an: Analysis, exact: bool) -> Analysis:
    for name in an.order:
        node = nodes[name]
        if isinstance(node, Input):
            an.out[name] = {node.shape: TRUE}
            continue
        an.inp[name] = _merge_stage(nodes, node, an, exact)
        out = _op_stage(nodes, node, an, exact)
        an.out[name] = out if exact else _widen(out)
    return an


WIDEN = 48


def _widen(shapes: dict[Shape, DNF]) -> dict[Shape, DNF]:
    """Shapes that differ only in a last dimension taking many values, as one with ANY."""
    groups: dict[tuple[int, ...], list[Shape]] = {}
    for s in shapes:
        groups.setdefault(s[:-1], []).append(s)
    out: dict[Shape, DNF] = {}
    for lead, members in groups.items():
        if len(members) > WIDEN:
            out[(*lead, ANY)] = TRUE
        else:
            out.update((s, TRUE) for s in members)
    return out


def _solve(positions: list[Position], fn: Any, an: Analysis, where: str, exact: bool) -> Table:
    if exact:
        return solve(positions, fn, an.domains, where, an.budget)
    raw = evaluate(positions, fn, where)
    for r in raw.values():
        # a failure, or a shape that ANY made unreliable: track conditions exactly
        if isinstance(r, ShapeError) or any(d < 1 for d in r[:-1]) or r[-1] < ANY:
            raise _NeedsConditions
    return Table({r: TRUE for r in raw.values()}, [], raw)  # type: ignore[misc]


def _merge_stage(
    nodes: Mapping[str, Node], node: Any, an: Analysis, exact: bool
) -> dict[Shape, DNF]:
    """Shapes of the merged input of ``node``."""
    if len(node.inputs) == 1 and not node.skip:
        return an.out[node.inputs[0]]
    positions = [Position(list(an.out[i]), list(an.out[i].values())) for i in node.inputs]
    if node.skip and not exact:  # only the distinct shapes matter here
        shapes = {("", s) for c in node.skip for s in an.out[c]}
        values = [NO_SKIP, *sorted(shapes)]
        positions.append(Position(values, [TRUE] * len(values)))
    elif node.skip:
        var = node.skip_param
        skip = Position([NO_SKIP], [[frozenset({(var, NO_SKIP)})]])
        for c in node.skip:
            lit = frozenset({(var, c)})
            start = len(skip.values)
            for s, dnf in an.out[c].items():
                skip.values.append((c, s))
                skip.conds.append([t | lit for t in dnf if dict(t).get(var, c) == c])
            skip.groups[c] = (frozenset(range(start, len(skip.values))), [lit])
        positions.append(skip)

    def fn(*vals: Any) -> Shape:
        shapes = list(vals[: len(node.inputs)])
        if node.skip and vals[-1] != NO_SKIP:
            shapes.append(vals[-1][1])
        return node.merge.output_shape(shapes)

    where = f"node {node.name!r}"
    table = _solve(positions, fn, an, where, exact)
    if not table.shapes:
        raise GraphError(f"{where}: its incoming tensors can never be merged: {_msgs(table)}")
    if node.skip and exact:
        k = len(node.inputs)
        for c in node.skip:

            def is_c(combo: tuple[int, ...], c: str = c) -> bool:
                v = positions[k].values[combo[k]]
                return v != NO_SKIP and v[0] == c

            if not table.succeeds(is_c):
                raise GraphError(
                    f"{where}: skip candidate {c!r} can never be merged: {_msgs(table, is_c)}"
                )
    an.forbidden.extend(table.failures)
    return table.shapes


def _op_stage(nodes: Mapping[str, Node], node: Any, an: Analysis, exact: bool) -> dict[Shape, DNF]:
    """Shapes of the output of ``node``."""
    root = choice_root(nodes, node.name)
    positions = [Position(list(an.inp[node.name]), list(an.inp[node.name].values()))]
    if isinstance(root, Variable):
        lits = [[frozenset({(root.name, o.label)})] for o in root.ops]
        positions.append(Position(list(root.ops), lits))
    else:
        positions.append(Position([root.op], [TRUE]))
    owner = module_owner(nodes, node.name)
    shared = owner != node.name
    if shared:
        positions.append(Position(list(an.inp[owner]), list(an.inp[owner].values())))

    def fn(shape: Shape, op: Op, src: Shape | None = None) -> Shape:
        if shared and (src != shape or ANY in shape):
            raise ShapeError(
                f"{node.name!r} shares the layer of {owner!r}, whose input shape is "
                f"{fmt_shape(src)} but its own is {fmt_shape(shape)}"  # type: ignore[arg-type]
            )
        return op.output_shape(shape)

    where = f"node {node.name!r}"
    table = _solve(positions, fn, an, where, exact)
    if not table.shapes:
        raise GraphError(f"{where}: no operation accepts its input: {_msgs(table)}")
    if isinstance(node, Variable):
        for i, o in enumerate(node.ops):

            def is_op(combo: tuple[int, ...], i: int = i) -> bool:
                return combo[1] == i

            if not table.succeeds(is_op):
                raise GraphError(
                    f"{where}: operation {o.label!r} can never be applied: {_msgs(table, is_op)}"
                )
    an.forbidden.extend(table.failures)
    return table.shapes


def _msgs(table: Table, where: Any = None) -> str:
    msgs = table.messages(where) if where is not None else table.messages()
    more = f" (and {len(msgs) - 3} more)" if len(msgs) > 3 else ""
    return "; ".join(msgs[:3]) + more
