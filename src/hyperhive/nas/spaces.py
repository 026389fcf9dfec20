"""Ready-made architecture spaces: fully connected with skip connections, stacked LSTM."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hyperhive.nas.errors import GraphError, check_shape
from hyperhive.nas.graph import Graph
from hyperhive.nas.heads import Gaussian
from hyperhive.nas.merge import Add
from hyperhive.nas.nodes import Constant, Node, Variable
from hyperhive.nas.ops import GRU, LSTM, Dense, Dropout, Identity, LastStep, Op

__all__ = ["fully_connected_space", "stacked_lstm_space"]

_TASKS = {"regression": "mse", "classification": "cross_entropy"}


def _check(layers: int, choices: Sequence[Any], what: str) -> None:
    if isinstance(layers, bool) or not isinstance(layers, int) or layers < 1:
        raise ValueError(f"layers must be a positive integer, got {layers!r}")
    if not choices:
        raise ValueError(f"{what} needs at least one value")


def _skip_merge(name: str, main: str, anchors: list[str], skip: bool) -> list[Node]:
    """A merge node taking ``main`` plus a choice among ``anchors`` (add with projection)."""
    if not skip or not anchors:
        return []
    return [Constant(name, Identity(), main, skip=list(anchors), merge=Add("project"))]


def fully_connected_space(
    input_shape: int | Sequence[int],
    output_units: int,
    *,
    layers: int = 3,
    units: Sequence[int] = (16, 32, 64, 128),
    activations: Sequence[str] = ("relu", "tanh"),
    dropout: Sequence[float] = (),
    skip: bool = True,
    task: str = "regression",
    head: str = "linear",
) -> Graph:
    """A fully connected space with skip connections, for tabular data.

    Layer ``i`` is a variable node ``dense_i`` choosing among ``Dense(u, a)`` for
    every unit count and activation, or ``identity`` (so depth is searched too);
    with ``dropout`` rates a variable node ``dropout_i`` follows it (identity or a
    rate). With ``skip``, a node ``merge_i`` adds to the layer's output one earlier
    output (the input, or an earlier layer's: the layer's own input makes a residual
    connection), chosen by ``merge_i.skip`` (or none), projected to the layer's width.
    The output is a linear ``Dense(output_units)``: a regression output, or class logits;
    with ``head="gaussian"`` it is a :class:`~hyperhive.nas.Gaussian` head (a mean and
    a variance per target, trained with ``loss="gaussian_nll"``, the graph's default
    loss then), the member :mod:`hyperhive.ensemble` needs to split uncertainty.

    Args:
        input_shape: the number of features (or a shape).
        output_units: outputs (targets for regression, classes for classification).
        layers: the maximum number of hidden layers.
        units, activations: the choices of each dense layer.
        dropout: dropout rates to choose from after each layer (none by default).
        skip: add the skip-connection choices.
        task: ``"regression"`` (default loss ``"mse"``) or ``"classification"``
            (``"cross_entropy"``); kept in ``graph.metadata["loss"]`` for
            :func:`hyperhive.nas.train`.
        head: ``"linear"`` (default) or ``"gaussian"`` (regression only).

    Returns:
        The :class:`Graph`; one input ``"x"``, the output node ``"output"``.
    """
    _check(layers, units, "units")
    _check(layers, activations, "activations")
    if task not in _TASKS:
        raise ValueError(f"task is 'regression' or 'classification', got {task!r}")
    check_head(head, task)
    shape = check_shape(input_shape, "fully_connected_space(input_shape=...)")
    nodes: list[Node] = []
    anchors = ["x"]
    prev = "x"
    for i in range(1, layers + 1):
        ops: list[Op] = [Dense(u, a) for u in units for a in activations]
        nodes.append(Variable(f"dense_{i}", [*ops, Identity()], prev))
        prev = f"dense_{i}"
        if dropout:
            rates = [Dropout(r) for r in dropout if r > 0]
            nodes.append(Variable(f"dropout_{i}", [Identity(), *rates], prev))
            prev = f"dropout_{i}"
        merge = _skip_merge(f"merge_{i}", prev, anchors, skip)
        nodes.extend(merge)
        if merge:
            prev = merge[0].name
        anchors.append(prev)
    nodes.append(Constant("output", _head(head, output_units), prev))
    return Graph({"x": shape}, nodes, "output", metadata=_metadata(task, head))


def stacked_lstm_space(
    input_shape: Sequence[int],
    output_units: int,
    *,
    layers: int = 3,
    units: Sequence[int] = (16, 32, 64),
    cells: Sequence[str] = ("lstm",),
    skip: bool = True,
    head: str = "linear",
) -> Graph:
    """A stacked recurrent space for time-series forecasting.

    Input ``"x"`` has shape ``(steps, features)``. Layer ``i`` is a variable node
    ``rnn_i`` choosing an LSTM (or GRU) of each unit count; from the second layer on
    it may also be ``identity`` (depth is searched). With ``skip``, a node
    ``merge_i`` adds an earlier sequence (the input or an earlier layer's output,
    chosen by ``merge_i.skip``, or none), projected to the layer's width. The last step of
    the final sequence goes through a linear ``Dense(output_units)``: e.g. the next
    values of the series, or of several series (forecast horizon x series).

    Args:
        input_shape: ``(steps, features)`` of one input window.
        output_units: outputs per window.
        layers: the maximum number of recurrent layers.
        units: hidden sizes to choose from.
        cells: ``"lstm"`` and/or ``"gru"``.
        skip: add the skip-connection choices.
        head: ``"linear"`` (default) or ``"gaussian"`` (a mean and a variance per output,
            default loss ``"gaussian_nll"``).

    Returns:
        The :class:`Graph` (its default loss in ``graph.metadata["loss"]``).
    """
    _check(layers, units, "units")
    _check(layers, cells, "cells")
    check_head(head, "regression")
    kinds = {"lstm": LSTM, "gru": GRU}
    bad = [c for c in cells if c not in kinds]
    if bad:
        raise ValueError(f"cells are 'lstm' or 'gru', got {bad}")
    shape = check_shape(input_shape, "stacked_lstm_space(input_shape=...)")
    if len(shape) != 2:
        raise GraphError(f"stacked_lstm_space needs input_shape=(steps, features), got {shape}")
    nodes: list[Node] = []
    anchors = ["x"]
    prev = "x"
    for i in range(1, layers + 1):
        ops: list[Op] = [kinds[c](u) for c in cells for u in units]
        if i > 1:
            ops.append(Identity())
        nodes.append(Variable(f"rnn_{i}", ops, prev))
        prev = f"rnn_{i}"
        merge = _skip_merge(f"merge_{i}", prev, anchors, skip)
        nodes.extend(merge)
        if merge:
            prev = merge[0].name
        anchors.append(prev)
    nodes.append(Constant("last", LastStep(), prev))
    nodes.append(Constant("output", _head(head, output_units), "last"))
    return Graph({"x": shape}, nodes, "output", metadata=_metadata("regression", head))


HEADS = ("linear", "gaussian")


def check_head(head: str, task: str) -> None:
    """Refuse an unknown head, and a Gaussian head for classification."""
    if head not in HEADS:
        raise ValueError(f"head is 'linear' or 'gaussian', got {head!r}")
    if head == "gaussian" and task != "regression":
        raise ValueError("head='gaussian' is for regression; classification uses softmax logits")


def _head(head: str, units: int) -> Op:
    return Gaussian(units) if head == "gaussian" else Dense(units)


def _metadata(task: str, head: str) -> dict[str, str]:
    loss = "gaussian_nll" if head == "gaussian" else _TASKS[task]
    return {"loss": loss, "task": task, "head": head}
