"""Ensemble members: what an objective saves in its trial's artifact folder, and loading it.

The member contract. A trial's artifact folder (``hh.current_trial().artifact_dir``,
``<run_dir>/trials/<id>/``) holds a member when the objective saved one of:

- a ``nas`` model: ``nas.train(..., save=True)`` (weights ``model.pt``, ``model.json``
  and the graph as data in ``graph.json``; nothing is unpickled). A
  :class:`~hyperhive.nas.Gaussian` head gives a mean and a variance per target; a
  linear head a mean only; a classification graph (``task="classification"``)
  gives logits, turned into probabilities by a softmax.
- a scikit-learn estimator or any callable predictor: :func:`save_member` (a pickle,
  ``member.pkl``, and ``member.json``). A classifier predicts with ``predict_proba``;
  a regressor with ``predict(x, return_std=True)`` when it takes ``return_std`` (e.g.
  ``GaussianProcessRegressor``, ``BayesianRidge``), else ``predict(x)`` (mean only).
  A callable ``f(x)`` returns the mean, a ``(mean, variance)`` pair, a mapping with
  ``"mean"`` and ``"variance"``, or, for classification, the probabilities.

A regression member without a variance is a zero-variance Gaussian in the mixture:
it adds to the epistemic part only. Pickles run code when loaded, so they are loaded
only with ``allow_pickle=True``: pass it for runs you trust.
"""

from __future__ import annotations

import json
import os
import pickle
from collections.abc import Mapping
from inspect import signature
from pathlib import Path
from typing import Any

import numpy as np

from hyperhive.ensemble.outputs import TASKS, MemberOutput

__all__ = ["MEMBER_FILES", "Member", "has_member", "load_member", "save_member"]

PICKLE_FILE = "member.pkl"
PICKLE_META = "member.json"
NAS_STATE = "model.pt"
NAS_META = "model.json"
MEMBER_FILES = (NAS_STATE, NAS_META, "graph.json", "graph.pkl", PICKLE_FILE, PICKLE_META)
"""The files of a member folder (copied when an ensemble is saved)."""

_BATCH = 4096


class MemberError(ValueError):
    """A member cannot be loaded or its prediction is unusable."""


class Member:
    """A loaded member: ``predict(x)`` returns a :class:`MemberOutput`.

    Attributes:
        folder: where it was loaded from.
        kind: ``"nas"``, ``"sklearn"`` or ``"callable"``.
        task: ``"regression"`` or ``"classification"``.
        name: a label (the trial id for members of a run).
    """

    def __init__(self, model: Any, kind: str, task: str, folder: Path, name: str) -> None:
        self.model, self.kind, self.task, self.folder, self.name = model, kind, task, folder, name
        self.head = "linear"

    def __repr__(self) -> str:
        return f"Member({self.name!r}, kind={self.kind!r}, task={self.task!r})"

    def predict(self, x: Any) -> MemberOutput:
        """The member's prediction for inputs ``x`` (an array, or a tuple of arrays for
        a multi-input ``nas`` model)."""
        if self.kind == "nas":
            return self._predict_nas(x)
        if self.task == "classification":
            fn = getattr(self.model, "predict_proba", None)
            probs = fn(x) if fn is not None else self.model(x)
            if isinstance(probs, Mapping):
                probs = probs["probs"]
            return MemberOutput(probs=np.asarray(probs, dtype=float))
        if self.kind == "sklearn":
            if "return_std" in signature(self.model.predict).parameters:
                mean, std = self.model.predict(x, return_std=True)
                return _regression(mean, np.asarray(std, dtype=float) ** 2)
            return _regression(self.model.predict(x), None)
        out = self.model(x)
        if isinstance(out, Mapping):
            return _regression(out["mean"], out.get("variance"))
        if isinstance(out, tuple):
            return _regression(out[0], out[1])
        return _regression(out, None)

    def _predict_nas(self, x: Any) -> MemberOutput:
        import torch

        xs = tuple(x) if isinstance(x, tuple | list) else (x,)
        ts = [torch.as_tensor(np.asarray(a, dtype=np.float32)) for a in xs]
        self.model.eval()
        with torch.no_grad():
            parts = [
                self.model(*(t[i : i + _BATCH] for t in ts)) for i in range(0, len(ts[0]), _BATCH)
            ]
        out = torch.cat(parts).double().numpy()
        if self.task == "classification":
            out = out - out.max(axis=-1, keepdims=True)
            e = np.exp(out)
            return MemberOutput(probs=e / e.sum(axis=-1, keepdims=True))
        if self.head == "gaussian":
            k = out.shape[-1] // 2
            return _regression(out[..., :k], out[..., k:])
        return _regression(out, None)


def _regression(mean: Any, variance: Any) -> MemberOutput:
    m = np.asarray(mean, dtype=float)
    m = m.reshape(len(m), -1)
    v = None if variance is None else np.asarray(variance, dtype=float).reshape(m.shape)
    return MemberOutput(mean=m, variance=v)


def has_member(folder: str | os.PathLike[str]) -> bool:
    """True when ``folder`` holds a saved member (a ``nas`` model or :func:`save_member`'s)."""
    f = Path(folder)
    return (f / NAS_STATE).is_file() or (f / PICKLE_FILE).is_file()


def save_member(
    model: Any,
    folder: str | os.PathLike[str] | None = None,
    *,
    task: str = "regression",
) -> Path:
    """Save a scikit-learn estimator or a callable predictor as an ensemble member.

    Call it inside an objective: the member goes to the trial's artifact folder
    (the search needs a ``run_dir``). The model is pickled with cloudpickle (so a
    closure works); :func:`load_member` unpickles it only with ``allow_pickle=True``.

    Args:
        model: a fitted estimator or a callable (see the module's member contract).
        folder: where to save; None takes ``hh.current_trial().artifact_dir``.
        task: ``"regression"`` or ``"classification"``.

    Returns:
        The folder.

    Raises:
        ValueError: an unknown task, or no folder (outside a trial with a run directory).
        TypeError: ``model`` neither predicts nor is callable.
    """
    import cloudpickle

    from hyperhive.trial import current_trial

    if task not in TASKS:
        raise ValueError(f"task must be one of {list(TASKS)}, got {task!r}")
    kind = _kind(model, task)
    if folder is None:
        trial = current_trial()
        folder = trial.artifact_dir if trial is not None else None
        if folder is None:
            raise ValueError(
                "save_member(folder=None) needs a running trial with an artifact folder "
                "(give the search a run_dir) or a folder"
            )
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    _write(path / PICKLE_FILE, cloudpickle.dumps(model))
    _write(path / PICKLE_META, json.dumps({"format": 1, "kind": kind, "task": task}).encode())
    return path


def _kind(model: Any, task: str) -> str:
    if task == "classification" and hasattr(model, "predict_proba"):
        return "sklearn"
    if task == "regression" and hasattr(model, "predict") and hasattr(model, "fit"):
        return "sklearn"
    if callable(model):
        return "callable"
    raise TypeError(
        f"a member is a fitted scikit-learn estimator or a callable predictor, got {model!r}"
    )


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def load_member(
    folder: str | os.PathLike[str],
    *,
    allow_pickle: bool = False,
    name: str | None = None,
    graphs: dict[str, Any] | None = None,
) -> Member:
    """Load the member saved in ``folder``.

    Args:
        folder: a trial's artifact folder, or a member folder of a saved ensemble.
        allow_pickle: load pickled members (:func:`save_member`'s, or ``nas`` models
            whose graph has user-registered operations). Unpickling runs code: only
            for runs you trust.
        name: a label (default: the folder's name).
        graphs: a cache of graphs by their saved text (members of one search share
            their space; rebuilding it once saves time).

    Raises:
        FileNotFoundError: no member in ``folder``.
        MemberError: a pickled member and ``allow_pickle`` is False.
    """
    f = Path(folder)
    label = name if name is not None else f.name
    if (f / NAS_STATE).is_file() and (f / NAS_META).is_file():
        return _load_nas(f, allow_pickle, label, graphs)
    if (f / PICKLE_FILE).is_file():
        if not allow_pickle:
            raise MemberError(
                f"the member in {str(f)!r} is a pickle ({PICKLE_FILE}); loading it runs code, "
                "so pass allow_pickle=True (--allow-pickle) only for a run you trust"
            )
        meta = json.loads((f / PICKLE_META).read_text())
        model = pickle.loads((f / PICKLE_FILE).read_bytes())  # noqa: S301 - allowed above
        return Member(model, meta["kind"], meta["task"], f, label)
    raise FileNotFoundError(
        f"no ensemble member in {str(f)!r}: save one in the objective with "
        "nas.train(..., save=True) or ensemble.save_member(model)"
    )


def _load_nas(f: Path, allow_pickle: bool, label: str, graphs: dict[str, Any] | None) -> Member:
    import torch

    from hyperhive.nas.io import GRAPH_DATA_FILE, load_model

    meta = json.loads((f / NAS_META).read_text())
    graph = None
    if graphs is not None and (f / GRAPH_DATA_FILE).is_file():
        text = (f / GRAPH_DATA_FILE).read_text()
        if text not in graphs:
            from hyperhive.nas.serialize import graph_from_data

            graphs[text] = graph_from_data(json.loads(text))
        graph = graphs[text]
    try:
        model = load_model(f, graph=graph, allow_pickle=allow_pickle)
    except ValueError as exc:
        raise MemberError(f"{exc} (allow_pickle=True / --allow-pickle)") from None
    model = model.to(torch.device("cpu"))
    task = meta.get("task") or model.graph.metadata.get("task", "regression")
    member = Member(model, "nas", task, f, label)
    member.head = "gaussian" if gaussian_output(model) else "linear"
    return member


def gaussian_output(model: Any) -> bool:
    """True when a ``nas`` model's output node is a :class:`~hyperhive.nas.Gaussian` head."""
    from hyperhive.nas.heads import Gaussian

    return any(isinstance(st.op, Gaussian) for st in model.steps if st.name == model.output_name)
