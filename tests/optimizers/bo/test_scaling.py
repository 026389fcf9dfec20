"""The GP's choice of objective scaling by likelihood, and the change-of-variables term."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hyperhive.optimizers import BO
from hyperhive.optimizers.bo.transform import log_jacobian
from hyperhive.space import Float, Space
from hyperhive.trial import Trial, TrialStatus

SPACE = Space({"x": Float(0.0, 1.0), "y": Float(0.0, 1.0)})


def test_minmax_jacobian_is_minus_n_log_sd():
    y = np.random.default_rng(0).normal(3.0, 2.0, 50)
    assert log_jacobian(y, "minmax", clip=None) == pytest.approx(-50 * math.log(np.std(y)))


@pytest.mark.parametrize("scaling", ["minmax", "log"])
def test_jacobian_under_affine_changes(scaling):
    y = np.random.default_rng(1).lognormal(0.0, 2.0, 40)
    base = log_jacobian(y, scaling)
    # a shift changes nothing; a factor a adds -n log a (dz/dy shrinks by a)
    assert log_jacobian(y + 7.0, scaling) == pytest.approx(base, rel=1e-9)
    assert log_jacobian(5.0 * y, scaling) == pytest.approx(base - 40 * math.log(5.0), rel=1e-9)


def test_jacobian_rows_nan_and_degenerate_cases():
    y = np.array([1.0, 2.0, np.nan, 8.0, 30.0])
    whole = log_jacobian(y, "log")
    parts = log_jacobian(y, "log", rows=np.array([0, 1])) + log_jacobian(
        y, "log", rows=np.array([2, 3, 4])
    )
    assert parts == pytest.approx(whole)
    assert log_jacobian(np.full(5, 2.0), "log") == 0.0
    assert math.isnan(log_jacobian(np.array([-1e308, 1e308, 0.0, 1.0]), "minmax", clip=None))
    with pytest.raises(ValueError, match="scaling='quantile'"):
        log_jacobian(y, "quantile")


def _chosen(fn, n=40, fail=None):
    opt = BO(seed=0, surrogate="gp")
    opt.setup(SPACE, ["minimize"])
    pts = [{"x": float(a), "y": float(b)} for a, b in np.random.default_rng(0).random((n, 2))]
    trials = []
    for i, c in enumerate(pts):
        if fail is not None and fail(c):
            trials.append(Trial(i, c, TrialStatus.FAILED))
        else:
            trials.append(Trial(i, c, TrialStatus.DONE, objective=fn(c)))
    opt.tell(trials)
    opt.model()
    return opt._models._scaling


def test_gp_models_orders_of_magnitude_in_log_space():
    assert _chosen(lambda c: math.exp(12 * c["x"] + 3 * c["y"])) == "log"


def test_gp_keeps_a_bounded_smooth_loss_linear():
    assert _chosen(lambda c: math.sin(6 * c["x"]) + math.cos(5 * c["y"])) == "minmax"


def test_failures_keep_the_gp_linear():
    grows = lambda c: math.exp(12 * c["x"] + 3 * c["y"])  # noqa: E731
    assert _chosen(grows, fail=lambda c: c["y"] > 0.9) == "minmax"


def test_explicit_scaling_is_kept():
    opt = BO(seed=0, surrogate="gp", scaling="log")
    opt.setup(SPACE, ["minimize"])
    pts = [{"x": float(a), "y": float(b)} for a, b in np.random.default_rng(0).random((20, 2))]
    opt.tell([Trial(i, c, TrialStatus.DONE, objective=c["x"] + c["y"]) for i, c in enumerate(pts)])
    opt.model()
    assert opt._models._scaling == "log"


def test_several_objectives_keep_the_gp_linear():
    opt = BO(seed=0, surrogate="gp")
    opt.setup(SPACE, ["minimize", "minimize"])
    pts = [{"x": float(a), "y": float(b)} for a, b in np.random.default_rng(0).random((40, 2))]
    grows = [math.exp(12 * c["x"] + 3 * c["y"]) for c in pts]
    opt.tell(
        [
            Trial(i, c, TrialStatus.DONE, objective=(g, 1.0 / g))
            for i, (c, g) in enumerate(zip(pts, grows, strict=True))
        ]
    )
    opt.model()
    assert opt._models._scaling == "minmax"
