"""A graph as plain JSON-ready data, so saved models load without unpickling code.

Graphs made of built-in operations (every operation of :mod:`hyperhive.nas.ops` and
the :class:`~hyperhive.nas.Gaussian` head), merges and nodes are written as data by
:func:`graph_to_data` and rebuilt by :func:`graph_from_data`. A graph with an
operation registered by the user (:class:`~hyperhive.nas.CustomOp`) carries code,
so :func:`graph_to_data` returns None for it and :func:`hyperhive.nas.save_model`
falls back to a pickle.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, cast

from hyperhive.nas import ops
from hyperhive.nas.graph import Graph
from hyperhive.nas.heads import Gaussian
from hyperhive.nas.merge import Merge
from hyperhive.nas.nodes import Constant, Input, Mirror, Variable

__all__ = ["graph_from_data", "graph_to_data"]

FORMAT = 1
_OPS: dict[str, type[ops.Op]] = {
    cls.__name__: cls
    for cls in (
        ops.Identity,
        ops.Zero,
        ops.Dense,
        ops.Activation,
        ops.Dropout,
        ops.BatchNorm,
        ops.LayerNorm,
        ops.Conv1D,
        ops.LSTM,
        ops.GRU,
        ops.LastStep,
        ops.Flatten,
        Gaussian,
    )
}


class _NotData(Exception):
    """The graph holds something that is not plain data (a user operation)."""


def _op(op: ops.Op) -> dict[str, Any]:
    name = type(op).__name__
    if _OPS.get(name) is not type(op):
        raise _NotData(name)
    fields = {f.name: getattr(op, f.name) for f in dataclasses.fields(cast(Any, op)) if f.init}
    return {"op": name, **fields}


def _merge(m: Merge) -> dict[str, Any]:
    return {"mode": m.mode, "align": m.align}


def graph_to_data(graph: Graph) -> dict[str, Any] | None:
    """The graph as JSON-ready data, or None when it holds user-registered operations."""
    nodes: list[dict[str, Any]] = []
    inputs = []
    try:
        for name, node in graph.nodes.items():
            if isinstance(node, Input):
                inputs.append({"name": name, "shape": list(node.shape)})
                continue
            common = {
                "name": name,
                "inputs": list(node.inputs),
                "skip": list(node.skip),
                "merge": _merge(node.merge),
            }
            if isinstance(node, Variable):
                nodes.append({"kind": "variable", "ops": [_op(o) for o in node.ops], **common})
            elif isinstance(node, Mirror):
                extra = {"of": node.of, "share_weights": node.share_weights}
                nodes.append({"kind": "mirror", **extra, **common})
            else:
                nodes.append({"kind": "constant", "op_spec": _op(node.op), **common})
    except _NotData:
        return None
    return {
        "format": FORMAT,
        "inputs": [i for n in graph.input_names for i in inputs if i["name"] == n],
        "nodes": nodes,
        "output": graph.output,
        "metadata": dict(graph.metadata),
    }


def _make_op(spec: Mapping[str, Any]) -> ops.Op:
    kwargs = dict(spec)
    name = kwargs.pop("op")
    if name not in _OPS:
        raise ValueError(f"unknown operation {name!r} in a saved graph; known: {sorted(_OPS)}")
    return _OPS[name](**kwargs)


def graph_from_data(data: Mapping[str, Any]) -> Graph:
    """Rebuild a graph written by :func:`graph_to_data`.

    Raises:
        ValueError: an unknown format or operation.
    """
    if data.get("format") != FORMAT:
        raise ValueError(f"unknown saved graph format {data.get('format')!r}; expected {FORMAT}")
    nodes: list[Any] = []
    for spec in data["nodes"]:
        common = {
            "skip": spec["skip"],
            "merge": Merge(spec["merge"]["mode"], spec["merge"]["align"]),
        }
        kind = spec["kind"]
        if kind == "variable":
            op_list = [_make_op(o) for o in spec["ops"]]
            nodes.append(Variable(spec["name"], op_list, spec["inputs"], **common))
        elif kind == "mirror":
            nodes.append(
                Mirror(
                    spec["name"],
                    spec["of"],
                    spec["inputs"],
                    share_weights=spec["share_weights"],
                    **common,
                )
            )
        elif kind == "constant":
            nodes.append(
                Constant(spec["name"], _make_op(spec["op_spec"]), spec["inputs"], **common)
            )
        else:
            raise ValueError(f"unknown node kind {kind!r} in a saved graph")
    inputs = [Input(i["name"], tuple(i["shape"])) for i in data["inputs"]]
    return Graph(inputs, nodes, data["output"], metadata=data.get("metadata"))
