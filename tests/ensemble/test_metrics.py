"""Metrics of a Gaussian prediction: closed forms against hand values and integrals."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from hyperhive.ensemble import metrics
from hyperhive.ensemble.aggregate import gaussian_prediction


def test_nll_and_crps_by_hand() -> None:
    assert metrics.gaussian_nll(np.array([0.0]), np.array([0.0]), np.array([1.0])) == (
        pytest.approx(0.5 * math.log(2 * math.pi))
    )
    # At the mean: CRPS = sigma * (2 phi(0) - 1/sqrt(pi)).
    expected = 2.0 * (2 / math.sqrt(2 * math.pi) - 1 / math.sqrt(math.pi))
    assert metrics.crps_gaussian(np.array([3.0]), np.array([3.0]), np.array([2.0])) == (
        pytest.approx(expected)
    )


@pytest.mark.parametrize("y", [-1.3, 0.2, 2.5])
def test_crps_matches_its_integral(y: float) -> None:
    mu, sigma = 0.4, 0.7

    def integrand(t: float) -> float:
        return (stats.norm.cdf(t, mu, sigma) - float(t >= y)) ** 2

    numeric = sum(integrate.quad(integrand, a, b)[0] for a, b in ((-20, y), (y, 20)))
    closed = metrics.crps_gaussian(np.array([y]), np.array([mu]), np.array([sigma]))
    assert closed == pytest.approx(numeric, rel=1e-6)


def test_coverage_calibration_and_sharpness_of_a_true_forecast() -> None:
    rng = np.random.default_rng(0)
    mean = rng.normal(size=20000)
    std = rng.uniform(0.5, 2.0, size=20000)
    y = mean + std * rng.standard_normal(20000)
    scores = metrics.regression_metrics(gaussian_prediction(mean, std**2, np.zeros_like(std)), y)
    assert set(scores) == {
        "nll", "crps", "rmse", "coverage_90", "coverage_95", "calibration_error", "sharpness"
    }  # fmt: skip
    assert scores["coverage_90"] == pytest.approx(0.90, abs=0.01)
    assert scores["coverage_95"] == pytest.approx(0.95, abs=0.01)
    assert scores["calibration_error"] < 0.01
    assert scores["sharpness"] == pytest.approx(1.25, abs=0.02)
    # A forecast twice too wide is badly calibrated and covers nearly everything.
    wide = metrics.regression_metrics(gaussian_prediction(mean, 4 * std**2, 0 * std), y)
    assert wide["coverage_95"] > 0.99 and wide["calibration_error"] > 0.1
    assert wide["nll"] > scores["nll"] and wide["crps"] > scores["crps"]


def test_classification_metrics_by_hand() -> None:
    from hyperhive import ensemble

    pred = ensemble.average_probabilities(np.array([[[0.8, 0.2], [0.3, 0.7]]]))
    scores = metrics.classification_metrics(pred, np.array([0, 0]))
    assert scores["accuracy"] == 0.5
    assert scores["nll"] == pytest.approx(-(math.log(0.8) + math.log(0.3)) / 2)
    assert scores["brier"] == pytest.approx((0.04 + 0.04 + 0.49 + 0.49) / 2)
