"""Deep ensembles with uncertainty from the models a search trains (AutoDEUQ).

The members a search saved (``nas.train(..., save=True)``, or
:func:`save_member` for scikit-learn estimators and callables) are selected on
validation data (``"topk"``, ``"greedy"``, or :class:`OnlineEnsemble` during the
search), aggregated (a mixture of Gaussians whose variance splits into aleatoric and
epistemic parts; averaged probabilities with an entropy split for classification),
recalibrated on validation data, scored and saved. Importing this module imports
no torch; ``nas`` members import it when loaded.

Example:
    >>> from hyperhive import ensemble
    >>> ens = ensemble.from_run("runs/uq", val_data=(x_val, y_val), size=5)  # doctest: +SKIP
    >>> pred = ens.predict(x_test)  # doctest: +SKIP
    >>> pred.mean, pred.std, pred.aleatoric, pred.epistemic  # doctest: +SKIP
    >>> ens.evaluate((x_test, y_test))  # doctest: +SKIP
    >>> ens.save("uq-ensemble"); ensemble.load("uq-ensemble")  # doctest: +SKIP
"""

from __future__ import annotations

from hyperhive.ensemble.aggregate import average_probabilities, mixture
from hyperhive.ensemble.build import build, from_run, run_members
from hyperhive.ensemble.calibration import Calibration, fit_calibration
from hyperhive.ensemble.ensemble import Ensemble, load
from hyperhive.ensemble.members import Member, MemberError, has_member, load_member, save_member
from hyperhive.ensemble.metrics import classification_metrics, regression_metrics
from hyperhive.ensemble.online import OnlineEnsemble
from hyperhive.ensemble.outputs import MemberOutput, Stack
from hyperhive.ensemble.prediction import ClassPrediction, Prediction
from hyperhive.ensemble.selectors import SELECTORS, greedy, topk

__all__ = [
    "SELECTORS",
    "Calibration",
    "ClassPrediction",
    "Ensemble",
    "Member",
    "MemberError",
    "MemberOutput",
    "OnlineEnsemble",
    "Prediction",
    "Stack",
    "average_probabilities",
    "build",
    "classification_metrics",
    "fit_calibration",
    "from_run",
    "greedy",
    "has_member",
    "load",
    "load_member",
    "mixture",
    "regression_metrics",
    "run_members",
    "save_member",
    "topk",
]
