"""Aggregation on hand-made member predictions, against results computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hyperhive import ensemble
from hyperhive.ensemble.aggregate import gaussian_prediction


def test_mixture_of_two_gaussians_equal_weights() -> None:
    means = np.array([[[1.0]], [[3.0]]])
    variances = np.array([[[1.0]], [[2.0]]])
    mean, ale, epi = ensemble.mixture(means, variances)
    assert mean.item() == pytest.approx(2.0)
    assert ale.item() == pytest.approx(1.5)  # (1 + 2) / 2
    assert epi.item() == pytest.approx(1.0)  # ((1-2)^2 + (3-2)^2) / 2
    pred = gaussian_prediction(mean, ale, epi)
    assert pred.std.item() == pytest.approx(math.sqrt(2.5))
    assert pred.aleatoric.item() ** 2 + pred.epistemic.item() ** 2 == pytest.approx(2.5)


def test_mixture_weighted_and_without_variances() -> None:
    means = np.array([[[1.0]], [[3.0]]])
    variances = np.array([[[1.0]], [[2.0]]])
    mean, ale, epi = ensemble.mixture(means, variances, weights=[3, 1])
    assert (mean.item(), ale.item(), epi.item()) == pytest.approx((1.5, 1.25, 0.75))
    mean, ale, epi = ensemble.mixture(means)  # members without a variance: epistemic only
    assert (mean.item(), ale.item(), epi.item()) == pytest.approx((2.0, 0.0, 1.0))


def test_bad_weights_are_refused() -> None:
    with pytest.raises(ValueError, match="weights"):
        ensemble.mixture(np.zeros((2, 1, 1)), weights=[1.0, -1.0])
    with pytest.raises(ValueError, match="weights"):
        ensemble.mixture(np.zeros((2, 1, 1)), weights=[1.0])


def test_classification_entropy_split() -> None:
    # Two confident members that disagree: all epistemic.
    pred = ensemble.average_probabilities(np.array([[[1.0, 0.0]], [[0.0, 1.0]]]))
    assert pred.probs[0] == pytest.approx([0.5, 0.5])
    assert pred.entropy[0] == pytest.approx(math.log(2))
    assert pred.aleatoric[0] == pytest.approx(0.0)
    assert pred.epistemic[0] == pytest.approx(math.log(2))
    # Two members agreeing on a coin flip: all aleatoric.
    pred = ensemble.average_probabilities(np.array([[[0.5, 0.5]], [[0.5, 0.5]]]))
    assert pred.aleatoric[0] == pytest.approx(math.log(2))
    assert pred.epistemic[0] == pytest.approx(0.0)
    # Weighted: 3/4 of [0.8, 0.2] and 1/4 of [0.2, 0.8] -> [0.65, 0.35].
    pred = ensemble.average_probabilities(np.array([[[0.8, 0.2]], [[0.2, 0.8]]]), [3, 1])
    h = -(0.8 * math.log(0.8) + 0.2 * math.log(0.2))
    total = -(0.65 * math.log(0.65) + 0.35 * math.log(0.35))
    assert pred.probs[0] == pytest.approx([0.65, 0.35])
    assert pred.aleatoric[0] == pytest.approx(h)
    assert pred.epistemic[0] == pytest.approx(total - h)
    assert pred.label[0] == 0
