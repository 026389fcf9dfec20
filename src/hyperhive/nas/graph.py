"""The architecture search space: a directed acyclic graph of nodes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hyperhive.nas.analysis import Analysis, propagate
from hyperhive.nas.errors import GraphError, Shape, fmt_shape
from hyperhive.nas.module import GraphModule, plan
from hyperhive.nas.nodes import NO_SKIP, Input, Mirror, Node
from hyperhive.nas.ops import Identity
from hyperhive.space import Categorical, Space

__all__ = ["Graph"]


class Graph:
    """An architecture search space: a DAG whose edges carry tensors.

    Shapes are propagated node by node here, at definition time. A cycle, an
    unknown or duplicate name, a dangling node, a merge that no projection or
    padding can make valid, and an operation or skip candidate that no choice can
    ever use are refused with a :class:`hyperhive.nas.GraphError`. Choices that
    only fail in some combinations become forbidden clauses of :meth:`to_space`, so
    no optimizer proposes a network that cannot be built.

    Args:
        inputs: the graph inputs: ``{"x": (8,)}``, or a list of :class:`Input`.
        nodes: the other nodes (:class:`Constant`, :class:`Variable`,
            :class:`Mirror`), in any order (inputs may name nodes listed later).
        output: the output node (its name or the node).
        metadata: free-form hints kept with the graph (the ready-made spaces put
            the default loss for :func:`hyperhive.nas.train` under ``"loss"``).

    Example:
        >>> from hyperhive import nas
        >>> arch = nas.Graph(
        ...     inputs={"x": (8,)},
        ...     nodes=[
        ...         nas.Variable("h1", [nas.Dense(16, "relu"), nas.Dense(32, "relu")], "x"),
        ...         nas.Variable("h2", [nas.Dense(16, "tanh"), nas.Identity()], "h1", skip=["x"]),
        ...         nas.Constant("out", nas.Dense(1), "h2"),
        ...     ],
        ...     output="out",
        ... )
        >>> arch.params
        ['h1', 'h2', 'h2.skip']
        >>> model = arch.build({"h1": "dense(32, relu)", "h2": "identity", "h2.skip": "x"})
    """

    def __init__(
        self,
        inputs: Mapping[str, Any] | Sequence[Input] | Input,
        nodes: Sequence[Node],
        output: str | Node,
        *,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        if isinstance(inputs, Input):
            inputs = [inputs]
        if isinstance(inputs, Mapping):
            inputs = [Input(k, v) for k, v in inputs.items()]
        ins = list(inputs)
        if not ins:
            raise GraphError("a graph needs at least one input")
        if hasattr(nodes, "name") or not isinstance(nodes, Sequence):
            raise TypeError(f"nodes must be a list of nodes, got {nodes!r}")
        table: dict[str, Node] = {}
        for node in [*ins, *nodes]:
            if not isinstance(node, Input) and not hasattr(node, "merge"):
                raise TypeError(f"not a hyperhive.nas node: {node!r}")
            if isinstance(node, Input) and node not in ins:
                raise GraphError(f"input {node.name!r} is listed among nodes; give it in inputs")
            if node.name in table:
                raise GraphError(f"two nodes are named {node.name!r}")
            table[node.name] = node
        out = output if isinstance(output, str) else getattr(output, "name", output)
        if out not in table:
            raise GraphError(f"the output {out!r} is not a node of the graph")
        if isinstance(table[out], Input):
            raise GraphError(f"the output {out!r} is an input; the output must be a layer")
        self._inputs = [i.name for i in ins]
        self._nodes = table
        self._output: str = out
        self.metadata: dict[str, Any] = dict(metadata or {})
        self._an: Analysis = propagate(table, out)
        self._space = self._make_space()

    # -- views -------------------------------------------------------------------------
    @property
    def nodes(self) -> dict[str, Node]:
        """Every node by name, inputs included (a copy)."""
        return dict(self._nodes)

    @property
    def order(self) -> list[str]:
        """Node names in topological order."""
        return list(self._an.order)

    @property
    def input_names(self) -> list[str]:
        """Input names, in the positional order of the built model's ``forward``."""
        return list(self._inputs)

    @property
    def input_shapes(self) -> dict[str, Shape]:
        """Input shapes by name (without the batch dimension)."""
        return {n: self._nodes[n].shape for n in self._inputs}  # type: ignore[union-attr]

    @property
    def output(self) -> str:
        """The output node's name."""
        return self._output

    @property
    def output_shapes(self) -> list[Shape]:
        """Every shape the output can take (see :meth:`shapes`)."""
        return sorted(self._an.out[self._output])

    @property
    def params(self) -> list[str]:
        """The names of the graph's parameters (node choices and ``"<node>.skip"``)."""
        return list(self._an.domains)

    def shapes(self, name: str) -> list[Shape]:
        """Every shape node ``name``'s output can take.

        Where a last dimension can take very many values (deep concatenations) and
        no choice can fail, they are summarized as one shape ending in
        ``nas.errors.ANY`` (-1).
        """
        if name not in self._an.out:
            raise KeyError(f"no node {name!r}; nodes: {sorted(self._nodes)}")
        return sorted(self._an.out[name])

    def __repr__(self) -> str:
        return (
            f"Graph(inputs={self.input_shapes}, nodes={len(self._nodes) - len(self._inputs)}, "
            f"params={len(self.params)}, forbidden={len(self._an.forbidden)}, "
            f"output={self._output!r})"
        )

    # -- the search space ------------------------------------------------------------------
    def _make_space(self) -> Space:
        example = self._an.example
        space = Space(
            {
                k: Categorical(list(vals), default=example.get(k, vals[0]))
                for k, vals in self._an.domains.items()
            }
        )
        rank = {k: i for i, k in enumerate(self._an.domains)}
        for clause in self._an.forbidden:
            space.forbid(dict(sorted(clause, key=lambda kv: rank[kv[0]])))
        return space

    def to_space(self) -> Space:
        """The architecture as an :class:`hyperhive.Space` of categorical parameters.

        A variable node ``"h"`` gives ``"h"`` (values: its operations' labels); skip
        candidates give ``"h.skip"`` (values: ``"none"`` and the candidates). Combine
        it with hyperparameters: ``arch.to_space() | hh.Space({"lr": ...})``.
        """
        return self._space.copy()

    def arch_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The graph's parameters of ``config`` (other keys ignored), validated.

        Raises:
            GraphError: a missing parameter, an unknown value or a forbidden combination.
        """
        if not isinstance(config, Mapping):
            raise TypeError(f"a configuration is a mapping, got {type(config).__name__}")
        missing = [k for k in self.params if k not in config]
        if missing:
            raise GraphError(f"the configuration lacks the graph parameters {missing}")
        arch = {k: config[k] for k in self.params}
        try:
            return self._space.validate(arch)
        except ValueError as exc:
            raise GraphError(f"this configuration cannot be built: {exc}") from None

    # -- building --------------------------------------------------------------------------
    def build(self, config: Mapping[str, Any] | None = None) -> GraphModule:
        """A new ``torch.nn.Module`` for ``config`` (None: the space's default).

        Keys that are not graph parameters (e.g. ``"lr"``) are kept in the module's
        ``config`` but otherwise ignored. Nodes that do not feed the output under
        ``config`` (an unused skip candidate) are not built.

        Raises:
            GraphError: for a configuration the space does not allow.
        """
        config = dict(self._space.default() if config is None else config)
        arch = self.arch_config(config)
        return GraphModule(self, config, plan(self, arch))

    def describe(self, config: Mapping[str, Any], compact: bool = True) -> str:
        """The architecture of ``config`` in text, one line per node that runs.

        Args:
            config: a configuration.
            compact: leave out pass-through nodes (an identity taking one tensor);
                the nodes after them name what they pass on.
        """
        arch = self.arch_config(config)
        lines = [f"{n}: input {fmt_shape(s)}" for n, s in self.input_shapes.items()]
        alias: dict[str, str] = {}
        for st in plan(self, arch):
            node = self._nodes[st.name]
            if isinstance(node, Input):  # listed above; a plan has no input steps
                continue
            sources = [alias.get(s, s) for s in st.sources]
            if compact and len(sources) == 1 and isinstance(st.op, Identity):
                if st.name != self._output:
                    alias[st.name] = sources[0]
                    continue
            takes = f" {node.merge.label} ".join(sources)
            note = ""
            if isinstance(node, Mirror):
                note = f"  [mirrors {node.of}{', shared weights' if node.share_weights else ''}]"
            lines.append(f"{st.name}: {st.op.label} <- {takes} -> {fmt_shape(st.out_shape)}{note}")
        return "\n".join(lines)

    def skip_values(self, name: str) -> list[str]:
        """The values of node ``name``'s skip parameter (``"none"`` first)."""
        node = self._nodes[name]
        if isinstance(node, Input) or not node.skip:
            raise KeyError(f"node {name!r} has no skip candidates")
        return [NO_SKIP, *node.skip]
