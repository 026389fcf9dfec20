"""The ``torch.nn.Module`` built from a graph and one configuration."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from hyperhive.nas.analysis import choice_root, module_owner
from hyperhive.nas.errors import GraphError, Shape, ShapeError
from hyperhive.nas.nodes import NO_SKIP, Input, Variable
from hyperhive.nas.ops import Op

if TYPE_CHECKING:
    from hyperhive.nas.graph import Graph

__all__ = ["GraphModule", "Step", "plan"]


@dataclass(frozen=True)
class Step:
    """One node of a built model.

    Attributes:
        name: the node.
        sources: the nodes whose outputs it merges, in order (inputs, then the skip).
        op: the chosen operation.
        module: the key of its layer in ``GraphModule.layers`` (another node's key
            for a weight-sharing mirror).
        in_shape: the merged input shape; out_shape: the output shape.
    """

    name: str
    sources: tuple[str, ...]
    op: Op
    module: str
    in_shape: Shape
    out_shape: Shape


def plan(graph: Graph, arch: Mapping[str, Any]) -> list[Step]:
    """The steps of the model for a validated architecture configuration.

    Only the nodes that feed the output under ``arch`` are kept.
    """
    nodes = graph.nodes
    sources: dict[str, tuple[str, ...]] = {}
    for name in graph.order:
        node = nodes[name]
        if isinstance(node, Input):
            continue
        skip_param = node.skip_param if node.skip else None
        extra = arch.get(skip_param, NO_SKIP) if skip_param is not None else NO_SKIP
        sources[name] = (*node.inputs, *(() if extra == NO_SKIP else (extra,)))
    live = {graph.output}
    for name in reversed(graph.order):
        if name in live:
            live.update(sources.get(name, ()))
    shapes: dict[str, Shape] = {n: s for n, s in graph.input_shapes.items()}
    steps: list[Step] = []
    for name in graph.order:
        node = nodes[name]
        if isinstance(node, Input) or name not in live:
            continue
        root = choice_root(nodes, name)
        if isinstance(root, Variable):
            op = root.ops[root.labels.index(arch[root.name])]
        else:
            op = root.op
        try:
            in_shape = node.merge.output_shape([shapes[s] for s in sources[name]])
            shapes[name] = op.output_shape(in_shape)
        except ShapeError as exc:  # only reached for configurations validate() let through
            raise GraphError(f"node {name!r} cannot be built: {exc}") from None
        owner = module_owner(nodes, name)
        steps.append(Step(name, sources[name], op, owner, in_shape, shapes[name]))
    return steps


class GraphModule(nn.Module):
    """A model built by :meth:`hyperhive.nas.Graph.build`.

    ``forward`` takes the graph's inputs positionally, in the order of
    :attr:`Graph.input_names`, or by name as keyword arguments; every tensor has a
    leading batch dimension.

    Attributes:
        graph: the graph it was built from.
        config: the configuration it was built for (architecture choices and any
            other keys, e.g. a learning rate, that came with it).
        steps: the nodes it runs, in order.
        layers: the operation modules by node name (a weight-sharing mirror has none
            of its own); merges: the merging modules by node name.
    """

    def __init__(self, graph: Graph, config: Mapping[str, Any], steps: list[Step]) -> None:
        super().__init__()
        self.graph = graph
        self.config = dict(config)
        self.steps = steps
        self.input_names = list(graph.input_names)
        self.output_name = graph.output
        layers: dict[str, nn.Module] = {}
        merges: dict[str, nn.Module] = {}
        for st in steps:
            node = graph.nodes[st.name]
            if len(st.sources) > 1 and not isinstance(node, Input):  # inputs never merge
                in_shapes = [self._shape_of(s) for s in st.sources]
                merges[st.name] = node.merge.build(in_shapes)
            if st.module not in layers:
                layers[st.module] = st.op.build(st.in_shape)
        self.layers = nn.ModuleDict(layers)
        self.merges = nn.ModuleDict(merges)

    def _shape_of(self, name: str) -> Shape:
        if name in self.graph.input_shapes:
            return self.graph.input_shapes[name]
        return next(st.out_shape for st in self.steps if st.name == name)

    def forward(self, *args: torch.Tensor, **kwargs: torch.Tensor) -> torch.Tensor:
        """Run the model on the graph's inputs (positional or by name)."""
        if len(args) + len(kwargs) != len(self.input_names):
            raise TypeError(
                f"the model takes {len(self.input_names)} input(s) {self.input_names}, "
                f"got {len(args)} positional and {sorted(kwargs)} by name"
            )
        values: dict[str, torch.Tensor] = dict(zip(self.input_names, args, strict=False))
        for k, v in kwargs.items():
            if k not in self.input_names or k in values:
                raise TypeError(f"unexpected or repeated input {k!r}; inputs: {self.input_names}")
            values[k] = v
        for st in self.steps:
            xs = [values[s] for s in st.sources]
            x = self.merges[st.name](*xs) if len(xs) > 1 else xs[0]
            values[st.name] = self.layers[st.module](x)
        return values[self.output_name]

    @property
    def architecture(self) -> dict[str, Any]:
        """The architecture choices of :attr:`config` (the graph's parameters only)."""
        return {k: self.config[k] for k in self.graph.params if k in self.config}

    def describe(self, compact: bool = True) -> str:
        """One line per node: its operation, what it takes, and its output shape
        (see :meth:`hyperhive.nas.Graph.describe`)."""
        return self.graph.describe(self.config, compact=compact)
