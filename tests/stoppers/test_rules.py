"""What each rule decides, on curves small enough to check by hand."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from hyperhive.stoppers import ASHA, Constant, Hyperband, LearningCurve, Median
from hyperhive.stoppers.asha import rung_at
from hyperhive.storage.rungs import MemoryRungs


def test_rungs_are_geometric():
    assert [rung_at(s, 1, 3, 0) for s in (1, 2, 3, 8, 9, 26, 27)] == [1, 1, 3, 3, 9, 9, 27]
    assert rung_at(2, 1, 3, 1) is None
    assert rung_at(5, 2, 2, 1) == 4


def test_asha_keeps_the_top_third_at_each_rung():
    stopper = ASHA(max_steps=27)
    stopper.setup()
    # Trials reach rung 1 in order of worsening values: each is outside the best
    # max(1, n // 3) of the n values there when it arrives, but the first.
    decisions = [stopper.report(t, float(t), 1) for t in range(9)]
    assert decisions == [False] + [True] * 8
    # In a better order, the best third of each prefix goes on.
    again = ASHA(max_steps=27)
    again.setup()
    assert [again.report(t, -float(t), 1) for t in range(6)] == [False] * 6
    assert again.report(6, -2.5, 1) is True  # 3 of 7 values beat it; it needs rank < 2
    # A better value arriving late goes on; a report between rungs decides nothing.
    assert stopper.report(9, -1.0, 1) is False
    assert stopper.report(9, 100.0, 2) is False


def test_asha_min_early_stopping_rate_skips_rungs():
    stopper = ASHA(max_steps=27, min_early_stopping_rate=1)
    stopper.setup()
    assert not any(stopper.report(t, float(t), 1) for t in range(9))
    assert any(stopper.report(t, float(t), 3) for t in range(9))


def test_hyperband_brackets_are_reproducible_and_in_proportion():
    def brackets(seed):
        stopper = Hyperband(max_steps=27)
        stopper.setup(seed=seed)
        return [stopper.bracket(t) for t in range(3000)]

    assert brackets(1) == brackets(1)
    assert brackets(1) != brackets(2)
    stopper = Hyperband(max_steps=27)
    stopper.setup(seed=1)
    probs = stopper.brackets()
    assert len(probs) == 4 and probs[0] > probs[1] > probs[2] > probs[3]
    counts = Counter(brackets(1))
    for s, p in enumerate(probs):
        assert abs(counts[s] / 3000 - p) < 0.03


def test_hyperband_needs_max_steps():
    with pytest.raises(ValueError, match="max_steps"):
        Hyperband().setup()


def test_median_waits_for_min_trials_then_stops_the_worse_half():
    stopper = Median(min_steps=1, min_trials=3, max_steps=10)
    stopper.setup()
    for t in range(3):
        assert stopper.report(t, float(t), 1) is False  # fewer than 3 others yet
    assert stopper.report(3, 0.5, 1) is False  # better than the median of 0, 1, 2
    assert stopper.report(4, 5.0, 1) is True
    # The best value so far counts: a trial that was good at step 1 is judged by it.
    assert stopper.report(0, 99.0, 2) is False


def test_learning_curve_stops_a_hopeless_curve_and_keeps_a_promising_one():
    stopper = LearningCurve(min_steps=3, max_steps=27)
    stopper.setup()
    for step in range(1, 28):
        stopper.report(0, 0.5 + 1.0 / step, step)  # one trial ends at 0.537
    bad = [stopper.report(1, 2.0 + 1.0 / s, s) for s in range(1, 6)]
    assert bad[-1] is True
    good = [stopper.report(2, 0.1 + 1.0 / s, s) for s in range(1, 10)]
    assert not any(good)


def test_learning_curve_decides_nothing_before_a_trial_finished():
    stopper = LearningCurve(min_steps=3, max_steps=27)
    stopper.setup()
    assert not any(stopper.report(1, 5.0 + 1.0 / s, s) for s in range(1, 20))


def test_constant_stops_at_its_step_but_never_at_max_steps():
    stopper = Constant(3, max_steps=27)
    stopper.setup()
    assert [stopper.report(0, 1.0, s) for s in (1, 2, 3)] == [False, False, True]
    whole = Constant(3, max_steps=3)
    whole.setup()
    assert whole.report(0, 1.0, 3) is False


def test_nan_reports_count_as_the_worst():
    stopper = ASHA(max_steps=27)
    stopper.setup()
    for t in range(3):
        stopper.report(t, float(t), 1)
    assert stopper.report(3, math.nan, 1) is True


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: ASHA(reduction_factor=1), "reduction_factor"),
        (lambda: ASHA(min_early_stopping_rate=-1), "min_early_stopping_rate"),
        (lambda: ASHA(min_steps=0), "min_steps"),
        (lambda: ASHA(min_steps=5, max_steps=2), "max_steps"),
        (lambda: Median(min_trials=0), "min_trials"),
        (lambda: LearningCurve(probability=1.5), "probability"),
        (lambda: Constant(0), "step"),
    ],
)
def test_bad_arguments_name_the_parameter(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_a_shared_rung_store_is_seen_by_every_stopper_bound_to_it():
    rungs = MemoryRungs()
    a, b = ASHA(max_steps=27), ASHA(max_steps=27)
    a.setup(rungs=rungs)
    b.setup(rungs=rungs)
    for t in range(6):
        a.report(t, float(t), 1)
    assert b.report(6, 100.0, 1) is True


def test_asha_guard_spares_trials_where_the_best_finished_ones_started_poorly():
    def run(guard):
        stopper = ASHA(max_steps=9, guard=guard)
        stopper.setup()
        # Three trials that start poorly and end best finish first (crossing curves).
        for t in range(3):
            for step in range(1, 10):
                stopper.report(t, 5.0 - 0.5 * step, step)
        for t in range(3, 9):  # fast starters
            stopper.report(t, 1.0 + 0.1 * t, 1)
        return [stopper.report(t, 4.0 + 0.01 * t, 1) for t in range(9, 15)]

    assert all(run(0))  # plain ASHA stops what looks worse than the fast starters
    assert not any(run(3))  # but the finished best looked worse still at step 1


def test_asha_guard_waits_for_enough_finished_trials():
    stopper = ASHA(max_steps=9, guard=2)
    stopper.setup()
    assert not any(stopper.report(t, float(t), 1) for t in range(10))
    with pytest.raises(ValueError, match="guard"):
        ASHA(guard=-1)
