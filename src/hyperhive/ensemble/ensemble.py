"""The ensemble: weighted members, aggregation, calibration, evaluation, save and load."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hyperhive.ensemble import aggregate, metrics
from hyperhive.ensemble.calibration import Calibration, fit_calibration
from hyperhive.ensemble.members import MEMBER_FILES, Member, load_member
from hyperhive.ensemble.outputs import MemberOutput, Stack, stacked
from hyperhive.ensemble.prediction import ClassPrediction, Prediction

__all__ = ["ENSEMBLE_FILE", "Ensemble", "load"]

ENSEMBLE_FILE = "ensemble.json"
FORMAT = 1


class Ensemble:
    """A weighted set of members whose predictions are aggregated with uncertainty.

    Build one with :func:`hyperhive.ensemble.from_run` (from a search's saved
    models), :class:`hyperhive.ensemble.OnlineEnsemble` (while a search runs) or
    directly from loaded members.

    Args:
        members: the members (:func:`hyperhive.ensemble.load_member`).
        weights: one per member (None: equal); normalized to sum to one.
        calibration: a fitted variance calibration (regression), or None.
        info: JSON-ready facts kept with the ensemble (selector, validation loss...).

    Raises:
        ValueError: no members, members of mixed tasks, or bad weights.
    """

    def __init__(
        self,
        members: Sequence[Member],
        weights: Sequence[float] | None = None,
        calibration: Calibration | None = None,
        info: dict[str, Any] | None = None,
    ) -> None:
        if not members:
            raise ValueError("an ensemble needs at least one member")
        tasks = {m.task for m in members}
        if len(tasks) > 1:
            raise ValueError(f"members mix tasks {sorted(tasks)}")
        self.members = list(members)
        self.weights = aggregate.normalized_weights(weights, len(self.members))
        self.task: str = tasks.pop()
        self.calibration = calibration or Calibration()
        self.info: dict[str, Any] = dict(info or {})

    def __repr__(self) -> str:
        parts = ", ".join(
            f"{m.name}: {w:.3g}" for m, w in zip(self.members, self.weights, strict=True)
        )
        return f"Ensemble({self.task}, {{{parts}}}, calibration={self.calibration.method!r})"

    @property
    def composition(self) -> dict[str, float]:
        """Member names (trial ids for members of a run) and their weights."""
        return {m.name: float(w) for m, w in zip(self.members, self.weights, strict=True)}

    # -- predicting ------------------------------------------------------------------------
    def member_outputs(self, x: Any) -> list[MemberOutput]:
        """Every member's own prediction for ``x``."""
        return [m.predict(x) for m in self.members]

    def predict(self, x: Any) -> Prediction | ClassPrediction:
        """The aggregated prediction for inputs ``x``.

        Regression gives a :class:`Prediction` (``mean``, ``std``, ``aleatoric``,
        ``epistemic``, standard deviations, calibrated when a calibration was fitted);
        classification a :class:`ClassPrediction`.
        """
        return self.combine(self.member_outputs(x))

    def combine(
        self, outputs: Sequence[MemberOutput], calibrated: bool = True
    ) -> Prediction | ClassPrediction:
        """Aggregate members' outputs (one per member, in order) into a prediction."""
        if self.task == "classification":
            return aggregate.average_probabilities(stacked(outputs, "probs"), self.weights)
        means, variances = stacked(outputs, "mean"), stacked(outputs, "variance")
        mean, ale, epi = aggregate.mixture(means, variances, self.weights)
        if calibrated and self.calibration.method != "none":
            total = ale + epi
            ratio = self.calibration.apply(total) / np.maximum(total, 1e-300)
            ale, epi = ale * ratio, epi * ratio
        if mean.shape[1] == 1:
            mean, ale, epi = mean[:, 0], ale[:, 0], epi[:, 0]
        return aggregate.gaussian_prediction(mean, ale, epi)

    def evaluate(self, data: Any) -> dict[str, float]:
        """Scores on ``(x, y)``.

        Regression: ``nll``, ``crps``, ``rmse``, ``coverage_90``, ``coverage_95``,
        ``calibration_error``, ``sharpness`` (see :mod:`hyperhive.ensemble.metrics`).
        Classification: ``nll``, ``accuracy``, ``brier``, ``calibration_error`` and the
        mean ``entropy``, ``aleatoric`` and ``epistemic`` parts.
        """
        x, y = _pair(data, "data")
        pred = self.predict(x)
        if isinstance(pred, ClassPrediction):
            return metrics.classification_metrics(pred, y)
        return metrics.regression_metrics(pred, y)

    def calibrate(self, data: Any, method: str = "auto") -> Calibration:
        """Fit the variance calibration on validation ``(x, y)`` and keep it.

        See :mod:`hyperhive.ensemble.calibration`; classification is left as it is.
        """
        x, y = _pair(data, "val_data")
        return self.calibrate_outputs(self.member_outputs(x), y, method)

    def calibrate_outputs(
        self, outputs: Sequence[MemberOutput], y: Any, method: str = "auto"
    ) -> Calibration:
        """:meth:`calibrate` from members' outputs already computed on validation data."""
        if self.task == "classification" or method == "none":
            self.calibration = Calibration()
            return self.calibration
        self.calibration = Calibration()
        raw = self.combine(outputs, calibrated=False)
        if not isinstance(raw, Prediction):  # pragma: no cover - regression here
            raise TypeError("calibration needs a regression prediction")
        mean = raw.mean.reshape(len(raw.mean), -1)
        var = (raw.std**2).reshape(mean.shape)
        self.calibration = fit_calibration(
            method, mean, var, np.asarray(y, float).reshape(mean.shape)
        )
        return self.calibration

    # -- saving ----------------------------------------------------------------------------
    def save(self, folder: str | os.PathLike[str]) -> Path:
        """Write the ensemble to ``folder``: ``ensemble.json`` and ``members/<i>/``.

        Each member's files are copied, so the folder stands alone. An existing
        ensemble there is replaced; any other non-empty folder is refused.

        Raises:
            FileExistsError: ``folder`` is a non-empty folder without an ensemble.
        """
        path = Path(folder)
        if path.exists() and any(path.iterdir()) and not (path / ENSEMBLE_FILE).is_file():
            raise FileExistsError(
                f"{str(path)!r} is not empty and holds no ensemble; choose another folder"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
        try:
            entries = []
            for i, (m, w) in enumerate(zip(self.members, self.weights, strict=True)):
                dest = tmp / "members" / str(i)
                dest.mkdir(parents=True)
                for name in MEMBER_FILES:
                    if (m.folder / name).is_file():
                        shutil.copy2(m.folder / name, dest / name)
                entries.append(
                    {"folder": f"members/{i}", "name": m.name, "kind": m.kind, "weight": float(w)}
                )
            doc = {
                "format": FORMAT,
                "task": self.task,
                "members": entries,
                "calibration": self.calibration.to_dict(),
                "info": self.info,
            }
            (tmp / ENSEMBLE_FILE).write_text(json.dumps(doc, indent=2))
            if path.exists():
                old = path.with_name(f".{path.name}.old")
                shutil.rmtree(old, ignore_errors=True)
                path.rename(old)
                tmp.rename(path)
                shutil.rmtree(old, ignore_errors=True)
            else:
                tmp.rename(path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return path


def load(folder: str | os.PathLike[str], *, allow_pickle: bool = False) -> Ensemble:
    """Load an ensemble written by :meth:`Ensemble.save`.

    Args:
        folder: the ensemble's folder.
        allow_pickle: load pickled members (scikit-learn or callables); unpickling
            runs code, so only for ensembles you trust.

    Raises:
        FileNotFoundError: no ``ensemble.json`` in ``folder``.
        ValueError: an unknown format, or a pickled member without ``allow_pickle``.
    """
    path = Path(folder)
    if not (path / ENSEMBLE_FILE).is_file():
        raise FileNotFoundError(f"no ensemble in {str(path)!r} (missing {ENSEMBLE_FILE})")
    doc = json.loads((path / ENSEMBLE_FILE).read_text())
    if doc.get("format") != FORMAT:
        raise ValueError(f"unknown ensemble format {doc.get('format')!r} in {str(path)!r}")
    graphs: dict[str, Any] = {}
    members = [
        load_member(path / e["folder"], allow_pickle=allow_pickle, name=e["name"], graphs=graphs)
        for e in doc["members"]
    ]
    return Ensemble(
        members,
        [e["weight"] for e in doc["members"]],
        Calibration.from_dict(doc["calibration"]),
        doc.get("info"),
    )


def _pair(data: Any, what: str) -> tuple[Any, np.ndarray]:
    if not isinstance(data, tuple | list) or len(data) != 2:
        raise TypeError(f"{what} must be a pair (x, y), got {type(data).__name__}")
    return data[0], np.asarray(data[1])


def stack_of(outputs: Sequence[MemberOutput], y: Any) -> Stack:
    """A :class:`Stack` of outputs and targets (for selectors)."""
    return Stack(outputs, np.asarray(y))
