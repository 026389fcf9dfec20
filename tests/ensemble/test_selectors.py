"""Selectors on hand-made member predictions, against results computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hyperhive import ensemble
from hyperhive.ensemble.selectors import select

HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def regression(mean: list[float], var: list[float] | None = None) -> ensemble.MemberOutput:
    m = np.array(mean, dtype=float)[:, None]
    return ensemble.MemberOutput(mean=m, variance=None if var is None else np.array(var)[:, None])


def test_member_losses_are_gaussian_nll() -> None:
    stack = ensemble.Stack([regression([1, 1], [1, 1]), regression([0, 0], [4, 4])], np.zeros(2))
    assert stack.member_losses() == pytest.approx([HALF_LOG_2PI + 0.5, HALF_LOG_2PI + math.log(2)])


def test_topk_takes_the_best_members_equally() -> None:
    outs = [
        regression([1, 1], [1, 1]),  # NLL 1.419
        regression([-1, -1], [1, 1]),  # NLL 1.419 (tie: lower index first)
        regression([0, 0], [4, 4]),  # NLL 1.612
        regression([3, 3], [1, 1]),  # NLL 5.419
    ]
    stack = ensemble.Stack(outs, np.zeros(2))
    assert ensemble.topk(stack, 2) == {0: 0.5, 1: 0.5}
    assert ensemble.topk(stack, 3) == pytest.approx({0: 1 / 3, 1: 1 / 3, 2: 1 / 3})
    assert ensemble.topk(stack, 10) == pytest.approx({i: 0.25 for i in range(4)})


def test_greedy_stops_when_the_loss_stops_improving() -> None:
    # Alone: A and B 1.419, C 1.612. A+B: N(0, 1 + 1) -> 1.266 (best addition).
    # Then A+A+B: N(1/3, 1 + 8/9) -> 1.2663 and A+B+C: N(0, 2 + 2/3) -> 1.409: no gain.
    outs = [regression([1, 1], [1, 1]), regression([-1, -1], [1, 1]), regression([0, 0], [4, 4])]
    stack = ensemble.Stack(outs, np.zeros(2))
    chosen = ensemble.greedy(stack, 5, init=1)
    assert chosen == {0: 0.5, 1: 0.5}
    assert ensemble.greedy(stack, 5, init=2) == {0: 0.5, 1: 0.5}
    # Sorted initialization with all three (the default, size >= 3): copies are added
    # up to 2 * size = 10 picks, ending at A x5, B x4, C x1: N(0.1, 1.3 + 0.89), NLL
    # 0.919 + 0.5 ln 2.19 + 0.01 / 4.38 = 1.313 (C is kept, diluted).
    chosen = ensemble.greedy(stack, 5)
    assert chosen == pytest.approx({0: 0.5, 1: 0.4, 2: 0.1})
    assert stack.loss(np.array([0.5, 0.4, 0.1])) == pytest.approx(
        HALF_LOG_2PI + 0.5 * math.log(2.19) + 0.01 / 4.38
    )
    assert stack.loss(np.array([0.5, 0.5, 0.0])) == pytest.approx(HALF_LOG_2PI + 0.5 * math.log(2))


def test_greedy_picks_with_replacement() -> None:
    # Members without variance, target 1: A predicts 0, B predicts 3.
    # A+B: N(1.5, 2.25) -> 1.380; A+A+B: N(1, 2) -> 1.266 beats A+B+B: N(2, 2) -> 1.516.
    # Once size members are in, only copies of them are added, up to 2 * size picks:
    # A+A+A+B: N(0.75, 1.6875) -> 1.199 beats A+A+B+B: N(1.5, 2.25) -> 1.380.
    stack = ensemble.Stack([regression([0.0]), regression([3.0])], np.ones(1))
    assert ensemble.greedy(stack, 2, init=1) == {0: 0.75, 1: 0.25}
    assert ensemble.greedy(stack, 2) == {0: 0.75, 1: 0.25}  # sorted init: A+B first
    assert ensemble.greedy(stack, 1) == {0: 1.0}  # one member: copies change nothing
    assert stack.loss(np.array([2 / 3, 1 / 3])) == pytest.approx(HALF_LOG_2PI + 0.5 * math.log(2))


def test_greedy_on_class_probabilities() -> None:
    # Labels [0, 1]. A is right on sample 0 only, B on sample 1 only; together best.
    a = ensemble.MemberOutput(probs=np.array([[0.9, 0.1], [0.9, 0.1]]))
    b = ensemble.MemberOutput(probs=np.array([[0.1, 0.9], [0.1, 0.9]]))
    c = ensemble.MemberOutput(probs=np.array([[0.6, 0.4], [0.6, 0.4]]))
    stack = ensemble.Stack([a, b, c], np.array([0, 1]))
    # Alone: A and B -(ln .9 + ln .1)/2 = 1.204; C -(ln .6 + ln .4)/2 = 0.714 (best).
    # C+A: [.75,.25] -> -(ln .75 + ln .25)/2 = 0.837; C+B: [.35,.65] -> 0.740; C+C: 0.714.
    assert ensemble.greedy(stack, 4, init=1) == {2: 1.0}
    assert ensemble.topk(stack, 1) == {2: 1.0}


def test_unknown_selector_and_bad_size() -> None:
    stack = ensemble.Stack([regression([0.0], [1.0])], np.zeros(1))
    with pytest.raises(ValueError, match="selector must be one of"):
        select("best", stack, 2)
    with pytest.raises(ValueError, match="size must be a positive integer, got 0"):
        select("greedy", stack, 0)


def test_stack_refuses_mixed_or_misaligned_outputs() -> None:
    with pytest.raises(ValueError, match="mix"):
        ensemble.Stack(
            [regression([0.0]), ensemble.MemberOutput(probs=np.array([[1.0, 0.0]]))], np.zeros(1)
        )
    with pytest.raises(ValueError, match="targets"):
        ensemble.Stack([regression([0.0, 1.0])], np.zeros(3))
