"""Variance recalibration fitted on validation data."""

from __future__ import annotations

import numpy as np
import pytest

from hyperhive import ensemble
from hyperhive.ensemble import metrics


def overconfident(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    mean = rng.normal(size=(n, 1))
    var = np.full((n, 1), 0.25)  # says std 0.5, the truth is std 1
    return mean, var, mean + rng.standard_normal((n, 1))


def variance_dependent(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    mean = np.zeros((n, 1))
    var = rng.uniform(0.2, 3.0, size=(n, 1))  # the true variance is var ** 2
    return mean, var, var * rng.standard_normal((n, 1))


def test_scale_factor_is_the_mean_squared_z() -> None:
    mean, var, y = overconfident(4000, 0)
    cal = ensemble.fit_calibration("scale", mean, var, y)
    assert cal.factors == pytest.approx([np.mean((y - mean) ** 2 / var)])
    assert cal.factors[0] == pytest.approx(4.0, rel=0.08)
    mean2, var2, y2 = overconfident(4000, 1)
    std = np.sqrt(cal.apply(var2))
    assert metrics.coverage(y2, mean2, std, 0.95) == pytest.approx(0.95, abs=0.015)


def test_auto_prefers_isotonic_when_miscalibration_depends_on_the_variance() -> None:
    mean, var, y = variance_dependent(4000, 0)
    cal = ensemble.fit_calibration("auto", mean, var, y)
    assert cal.method == "isotonic"
    mean2, var2, y2 = variance_dependent(4000, 1)
    iso = metrics.gaussian_nll(y2, mean2, np.sqrt(cal.apply(var2)))
    scale = ensemble.fit_calibration("scale", mean, var, y)
    assert iso < metrics.gaussian_nll(y2, mean2, np.sqrt(scale.apply(var2)))
    # Beyond the fitted range a variance keeps growing (the end knot's ratio).
    far = cal.apply(np.array([[100.0], [1000.0]]))
    assert far[1, 0] > far[0, 0] > cal.apply(np.array([[3.0]]))[0, 0]


def test_auto_prefers_scale_for_a_constant_factor() -> None:
    mean, var, y = overconfident(4000, 2)
    assert ensemble.fit_calibration("auto", mean, var, y).method == "scale"


def test_round_trip_and_bad_method() -> None:
    mean, var, y = variance_dependent(200, 3)
    cal = ensemble.fit_calibration("isotonic", mean, var, y)
    again = ensemble.Calibration.from_dict(cal.to_dict())
    assert np.allclose(again.apply(var), cal.apply(var))
    with pytest.raises(ValueError, match="calibrate must be one of"):
        ensemble.fit_calibration("platt", mean, var, y)
