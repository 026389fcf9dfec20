"""Neural architecture search: graph search spaces of ``torch`` models, training, DDP.

Import it as ``from hyperhive import nas`` (``import hyperhive`` alone does not import
torch). Define the architecture space as a graph, turn it into a search space, and
build a ``torch.nn.Module`` for any configuration an optimizer proposes:

Example:
    >>> import hyperhive as hh
    >>> from hyperhive import nas
    >>> arch = nas.fully_connected_space(input_shape=(8,), output_units=1, layers=3)
    >>> space = arch.to_space() | hh.Space({"lr": hh.Float(1e-4, 1e-1, log=True)})
    >>> def objective(config):
    ...     model = arch.build(config)
    ...     fit = nas.train(model, (x, y), (x_val, y_val), lr=config["lr"], epochs=20)
    ...     return fit.best_value
    >>> result = hh.search(objective, space, max_evals=20)  # doctest: +SKIP
"""

from __future__ import annotations

from hyperhive.nas.ddp import DataParallelError
from hyperhive.nas.errors import GraphError, Shape, ShapeError
from hyperhive.nas.graph import Graph
from hyperhive.nas.heads import Gaussian, gaussian_nll
from hyperhive.nas.io import load_model, save_model
from hyperhive.nas.merge import Add, Concat, Merge
from hyperhive.nas.metrics import count_parameters, measure_latency
from hyperhive.nas.module import GraphModule
from hyperhive.nas.nodes import Constant, Input, Mirror, Variable
from hyperhive.nas.ops import (
    GRU,
    LSTM,
    Activation,
    BatchNorm,
    Conv1D,
    Dense,
    Dropout,
    Flatten,
    Identity,
    LastStep,
    LayerNorm,
    Op,
    Zero,
)
from hyperhive.nas.registry import CustomOp, available_ops, op, register_op
from hyperhive.nas.spaces import fully_connected_space, stacked_lstm_space
from hyperhive.nas.training import PROCESSES_KEY, TrainResult, slots_per_trial, train

__all__ = [
    "GRU",
    "PROCESSES_KEY",
    "Gaussian",
    "LSTM",
    "Activation",
    "Add",
    "BatchNorm",
    "Concat",
    "Constant",
    "DataParallelError",
    "Conv1D",
    "CustomOp",
    "Dense",
    "Dropout",
    "Flatten",
    "Graph",
    "GraphError",
    "GraphModule",
    "Identity",
    "Input",
    "LastStep",
    "LayerNorm",
    "Merge",
    "Mirror",
    "Op",
    "Shape",
    "ShapeError",
    "TrainResult",
    "Variable",
    "Zero",
    "available_ops",
    "count_parameters",
    "fully_connected_space",
    "gaussian_nll",
    "load_model",
    "measure_latency",
    "op",
    "register_op",
    "save_model",
    "slots_per_trial",
    "stacked_lstm_space",
    "train",
]
