"""Every BO variant keeps the optimizer contract."""

from __future__ import annotations

from hyperhive.optimizers import BO
from hyperhive.testing.optimizer_contract import OptimizerContract


class TestBOTrees(OptimizerContract):
    def make_optimizer(self, seed):
        return BO(
            seed=seed,
            surrogate="et",
            liar="believer",
            n_initial=4,
            n_trees=8,
            n_candidates=64,
            refit_fraction=0.3,
        )


class TestBOGaussianProcess(OptimizerContract):
    def make_optimizer(self, seed):
        return BO(
            seed=seed,
            surrogate="gp",
            n_initial=4,
            n_candidates=64,
            acquisition="ei",
            refit_fraction=0.3,
        )


class TestBOForestThompson(OptimizerContract):
    def make_optimizer(self, seed):
        return BO(
            seed=seed,
            surrogate="rf",
            acquisition="ts",
            liar="qucb",
            scaling="log",
            n_initial=3,
            n_trees=8,
            n_candidates=64,
            refit_fraction=0.5,
            onehot=False,
        )
