"""Saving a trained model in a trial's artifact folder, and loading it back.

A saved model is three files: ``model.pt`` (the ``state_dict``), ``model.json``
(the configuration, the architecture choices and a summary) and the graph:
``graph.json`` (plain data) when it is made of built-in operations, else
``graph.pkl`` (pickled with cloudpickle, because user-registered operations carry
code). Loading needs nothing else; pass the graph to :func:`load_model` to rebuild
from your own code instead, and ``allow_pickle=False`` to refuse unpickling.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import cloudpickle
import torch
from torch import nn

from hyperhive.nas.graph import Graph
from hyperhive.nas.module import GraphModule

__all__ = ["GRAPH_DATA_FILE", "GRAPH_FILE", "META_FILE", "STATE_FILE", "load_model", "save_model"]

STATE_FILE = "model.pt"
META_FILE = "model.json"
GRAPH_FILE = "graph.pkl"
GRAPH_DATA_FILE = "graph.json"


def save_model(
    model: nn.Module,
    folder: str | os.PathLike[str],
    config: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``model``'s weights, configuration and graph into ``folder``.

    Args:
        model: a model built by :meth:`Graph.build` (or any module: then only its
            weights and ``config`` are written, and loading needs the graph).
        folder: where to write (created if missing).
        config: the configuration; defaults to ``model.config``.
        extra: more JSON-ready facts to keep in ``model.json`` (e.g. the best value).

    Returns:
        The folder.
    """
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    if config is None:
        config = getattr(model, "config", None)
    if config is None:
        raise ValueError("save_model needs the configuration: pass config=... for this model")
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    torch.save(state, path / STATE_FILE)
    meta: dict[str, Any] = {
        "format": 1,
        "config": _json_ready(config),
        "parameters": sum(p.numel() for p in model.parameters()),
        **{k: _json_ready(v) for k, v in (extra or {}).items()},
    }
    if isinstance(model, GraphModule):
        from hyperhive.nas.serialize import graph_to_data

        meta["architecture"] = model.architecture
        for key in ("task", "head"):
            if key in model.graph.metadata:
                meta.setdefault(key, _json_ready(model.graph.metadata[key]))
        data = graph_to_data(model.graph)
        if data is not None:
            (path / GRAPH_DATA_FILE).write_text(json.dumps(_json_ready(data)))
        else:
            (path / GRAPH_FILE).write_bytes(cloudpickle.dumps(model.graph))
    (path / META_FILE).write_text(json.dumps(meta, indent=2))
    return path


def _json_ready(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if hasattr(value, "item"):
        return value.item()
    return repr(value)


def load_model(
    path: str | os.PathLike[str],
    trial: int | None = None,
    graph: Graph | None = None,
    map_location: str | torch.device = "cpu",
    allow_pickle: bool = True,
) -> GraphModule:
    """Rebuild a saved model, by default the best of a run.

    Args:
        path: a run directory, or a folder written by :func:`save_model` (a trial's
            artifact folder).
        trial: in a run directory, the trial id to load; None takes the run's best
            trial (single objective; give an id for multi-objective runs, e.g. one of
            ``hh.load(path).pareto_front()``).
        graph: the graph to build from; None reads the saved one (``graph.json``, or
            the pickled ``graph.pkl`` of a graph with user-registered operations).
        map_location: where to load the weights.
        allow_pickle: unpickle ``graph.pkl`` when there is no ``graph.json``; False
            refuses (unpickling runs code: only load runs you trust).

    Returns:
        The model, in evaluation mode, with ``model.config`` set.

    Raises:
        FileNotFoundError: no saved model where expected (train with ``save=True``).
        ValueError: the run has no successful trial, or the graph is only pickled and
            ``allow_pickle`` is False.
    """
    folder = Path(path)
    if not (folder / STATE_FILE).is_file():
        folder = _trial_folder(folder, trial)
    meta_file, state_file = folder / META_FILE, folder / STATE_FILE
    if not state_file.is_file() or not meta_file.is_file():
        raise FileNotFoundError(
            f"no saved model in {str(folder)!r}; train with nas.train(..., save=True) "
            "in the objective to keep the trained weights"
        )
    meta = json.loads(meta_file.read_text())
    if graph is None:
        graph = _saved_graph(folder, allow_pickle)
    model = graph.build(meta["config"])
    state = torch.load(state_file, map_location=map_location, weights_only=True)
    model.load_state_dict(state)
    return model.eval()


def _saved_graph(folder: Path, allow_pickle: bool) -> Graph:
    if (folder / GRAPH_DATA_FILE).is_file():
        from hyperhive.nas.serialize import graph_from_data

        return graph_from_data(json.loads((folder / GRAPH_DATA_FILE).read_text()))
    if not (folder / GRAPH_FILE).is_file():
        raise FileNotFoundError(f"{str(folder)!r} holds no graph; pass graph=...")
    if not allow_pickle:
        raise ValueError(
            f"the graph in {str(folder)!r} is a pickle ({GRAPH_FILE}: it has user-registered "
            "operations); pass graph=... or allow unpickling for a run you trust"
        )
    graph: Graph = cloudpickle.loads((folder / GRAPH_FILE).read_bytes())
    return graph


def _trial_folder(run_dir: Path, trial: int | None) -> Path:
    from hyperhive.search import load
    from hyperhive.storage import RunDir

    if trial is None:
        best = load(run_dir).best
        if best is None:
            raise ValueError(f"run {str(run_dir)!r} has no successful trial to load")
        trial = best.id
    return run_dir / RunDir.TRIALS / str(int(trial))
