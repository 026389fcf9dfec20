"""Every stopper passes the stopper contract suite."""

from __future__ import annotations

from hyperhive.stoppers import ASHA, Constant, Hyperband, LearningCurve, Median, Stopper
from hyperhive.testing.stopper_contract import StopperContract


class TestASHA(StopperContract):
    def make_stopper(self) -> Stopper:
        return ASHA()


class TestASHAWithARate(StopperContract):
    def make_stopper(self) -> Stopper:
        return ASHA(min_steps=1, max_steps=9, reduction_factor=2, min_early_stopping_rate=1)


class TestHyperband(StopperContract):
    def make_stopper(self) -> Stopper:
        return Hyperband()


class TestMedian(StopperContract):
    def make_stopper(self) -> Stopper:
        return Median(min_steps=2, min_trials=3)


class TestLearningCurve(StopperContract):
    def make_stopper(self) -> Stopper:
        return LearningCurve(min_steps=3)


class TestConstant(StopperContract):
    def make_stopper(self) -> Stopper:
        return Constant(2)
