"""QMC: the contract for both designs, coverage, stratification and the hand-over."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import qmc as scipy_qmc

from hyperhive.optimizers import QMC, RandomSearch
from hyperhive.optimizers.qmc import default_design_size, scrambled_halton
from hyperhive.space import Categorical, Float, Space
from hyperhive.testing.optimizer_contract import OptimizerContract, make_case
from hyperhive.trial import Trial, TrialStatus


class TestSobolContract(OptimizerContract):
    def make_optimizer(self, seed):
        return QMC(seed=seed, method="sobol")


class TestHaltonContract(OptimizerContract):
    def make_optimizer(self, seed):
        return QMC(seed=seed, method="halton")


class TestLHSContract(OptimizerContract):
    def make_optimizer(self, seed):
        return QMC(seed=seed, method="lhs", n_points=8)


class TestSobolForeverContract(OptimizerContract):
    def make_optimizer(self, seed):
        return QMC(seed=seed, n_points=4, then=None)


def _cube(d: int) -> Space:
    return Space({f"x{i}": Float(0.0, 1.0) for i in range(d)})


def _bound(opt, space, directions=("minimize",)):
    opt.setup(space, list(directions))
    return opt


@pytest.mark.parametrize("method", ["sobol", "halton", "lhs"])
def test_design_covers_better_than_random(method):
    space = _cube(3)
    for seed in range(5):
        design = _bound(QMC(seed=seed, method=method, n_points=32), space).ask(32)
        rand = _bound(RandomSearch(seed=seed), space).ask(32)
        d_design = scipy_qmc.discrepancy(space.to_unit(design))
        d_rand = scipy_qmc.discrepancy(space.to_unit(rand))
        assert d_design < d_rand, (seed, d_design, d_rand)


def test_lhs_is_stratified():
    space = _cube(4)
    configs = _bound(QMC(seed=0, method="lhs", n_points=16), space).ask(16)
    strata = np.floor(space.to_unit(configs) * 16).astype(int)
    for j in range(4):
        assert sorted(strata[:, j]) == list(range(16))


def test_sobol_balanced_in_each_dimension():
    space = _cube(5)
    configs = _bound(QMC(seed=1, n_points=16), space).ask(16)
    strata = np.floor(space.to_unit(configs) * 16).astype(int)
    for j in range(5):
        assert sorted(strata[:, j]) == list(range(16))


def test_halton_stratified_in_each_base():
    # Coordinate j is a scrambled radical inverse in the j-th prime base: the first
    # b^k points put exactly one point in each interval of length b^-k.
    points = scrambled_halton(0, 125, 3, np.random.default_rng(3))
    for j, (base, k) in enumerate([(2, 6), (3, 4), (5, 3)]):
        n = base**k
        strata = np.floor(points[:n, j] * n).astype(int)
        assert sorted(strata) == list(range(n)), j
    assert points.min() >= 0.0 and points.max() < 1.0


def test_halton_points_depend_on_index_and_seed_only():
    whole = scrambled_halton(0, 40, 7, np.random.default_rng(5))
    tail = scrambled_halton(25, 40, 7, np.random.default_rng(5))
    np.testing.assert_array_equal(whole[25:], tail)
    other = scrambled_halton(0, 40, 7, np.random.default_rng(6))
    assert not np.allclose(whole, other)
    assert scrambled_halton(3, 3, 4, np.random.default_rng(0)).shape == (0, 4)


def test_sequence_independent_of_batching():
    space = _cube(2)
    one = _bound(QMC(seed=2), space).ask(12)
    opt = _bound(QMC(seed=2), space)
    first = opt.ask(3)
    pending = [Trial(i, c, TrialStatus.RUNNING) for i, c in enumerate(first)]
    second = opt.ask(5, pending=pending)
    told = [Trial(i, c, TrialStatus.DONE, objective=0.0) for i, c in enumerate(first + second)]
    opt.tell(told)
    assert first + second + opt.ask(4) == one


def test_design_then_hand_over():
    space = _cube(2)
    forever = _bound(QMC(seed=5, n_points=4, then=None), space).ask(8)
    handed = _bound(QMC(seed=5, n_points=4, then="random"), space).ask(8)
    expected = space.from_unit(_bound(QMC(seed=5, n_points=4), space).design(0, 8))
    assert forever == expected
    assert handed[:4] == forever[:4]
    assert not {tuple(c.values()) for c in handed[4:]} & {tuple(c.values()) for c in forever}


def test_then_optimizer_instance_is_told_everything():
    space = _cube(2)
    inner = RandomSearch()
    opt = _bound(QMC(seed=1, n_points=2, then=inner), space)
    configs = opt.ask(3)
    opt.tell([Trial(i, c, TrialStatus.DONE, objective=1.0) for i, c in enumerate(configs)])
    assert [t.id for t in inner.history] == [0, 1, 2]
    assert opt.settings()["then"] == {"name": "random"}


def test_forbidden_points_replaced_deterministically():
    case = make_case("forbidden")
    a = _bound(QMC(seed=3), case.space, case.directions).ask(64)
    b = _bound(QMC(seed=3), case.space, case.directions).ask(64)
    assert a == b
    assert not any(case.space.is_forbidden(c) for c in a)
    raw = case.space.from_unit(_bound(QMC(seed=3, then=None), case.space).design(0, 64))
    assert any(case.space.is_forbidden(c) for c in raw)  # the test bites


def test_tiny_finite_space_does_not_hang():
    space = Space({"c": Categorical(["a", "b", "c"])})
    configs = _bound(QMC(seed=0, n_points=8, then=None), space).ask(10)
    assert len(configs) == 10
    assert {c["c"] for c in configs[:3]} == {"a", "b", "c"}


@pytest.mark.parametrize(("dim", "size"), [(1, 8), (4, 8), (5, 16), (9, 32), (20, 64)])
def test_default_design_size(dim, size):
    assert default_design_size(dim) == size


def test_bad_arguments():
    with pytest.raises(ValueError, match="method"):
        QMC(method="faure")
    with pytest.raises(ValueError, match="n_points"):
        QMC(n_points=0)
    with pytest.raises(ValueError, match="unknown optimizer 'nope'"):
        QMC(then="nope")
    with pytest.raises(TypeError, match="then"):
        QMC(then=3)  # type: ignore[arg-type]


def test_settings():
    assert QMC(seed=1, method="lhs", n_points=8, then=None).settings() == {
        "name": "qmc",
        "seed": 1,
        "method": "lhs",
        "n_points": 8,
        "then": None,
    }
