"""The Optimizer base class: argument checks, tell filtering, positions and streams."""

from __future__ import annotations

import pytest

from hyperhive.optimizers import Optimizer, RandomSearch
from hyperhive.space import Float, Space
from hyperhive.trial import Trial, TrialStatus


def _space() -> Space:
    return Space({"x": Float(0.0, 1.0)})


class _Short(Optimizer):
    name = "short"

    def _ask(self, n, pending):
        return self.space.sample(n - 1, self.rng)


@pytest.mark.parametrize("seed", [-1, 1.5, "3", True])
def test_bad_seed(seed):
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        RandomSearch(seed=seed)
    opt = RandomSearch()
    with pytest.raises(ValueError, match="seed must be"):
        opt.setup(_space(), ["minimize"], seed=seed)


def test_directions_checked_and_string_accepted():
    opt = RandomSearch(seed=0)
    with pytest.raises(ValueError, match="at least one"):
        opt.setup(_space(), [])
    with pytest.raises(ValueError, match="'up'"):
        opt.setup(_space(), ["minimize", "up"])
    opt.setup(_space(), "maximize")
    assert opt.directions == ["maximize"]


def test_wrong_count_from_subclass_is_an_error():
    opt = _Short(seed=0)
    opt.setup(_space(), ["minimize"])
    with pytest.raises(RuntimeError, match="returned 2 configurations"):
        opt.ask(3)


def test_tell_filters_and_dedupes():
    opt = RandomSearch(seed=0)
    opt.setup(_space(), ["minimize"])
    c = {"x": 0.5}
    opt.tell(
        [
            Trial(0, c, TrialStatus.DONE, objective=1.0),
            Trial(1, c, TrialStatus.RUNNING),
            Trial(2, c, TrialStatus.LOST),
            Trial(3, c, TrialStatus.CANCELLED),
            Trial(4, c, TrialStatus.FAILED),
            Trial(0, c, TrialStatus.DONE, objective=1.0),
        ]
    )
    opt.tell([Trial(4, c, TrialStatus.FAILED)])
    assert [t.id for t in opt.history] == [0, 4]


def test_position_counts_told_pending_and_own_asks():
    opt = RandomSearch(seed=0)
    opt.setup(_space(), ["minimize"])
    assert opt.position() == 0
    configs = opt.ask(3)
    assert opt.position() == 3
    pending = [Trial(i, c, TrialStatus.RUNNING) for i, c in enumerate(configs)]
    assert opt.position(pending) == 3
    opt.tell([Trial(0, configs[0], TrialStatus.DONE, objective=0.0)])
    assert opt.position(pending[1:]) == 3
    assert opt.position(pending[1:] + [Trial(9, {"x": 0.1}, TrialStatus.RUNNING)]) == 4


def test_setup_resets_state():
    opt = RandomSearch(seed=0)
    opt.setup(_space(), ["minimize"])
    first = opt.ask(2)
    opt.tell([Trial(0, first[0], TrialStatus.DONE, objective=0.0)])
    opt.setup(_space(), ["minimize"])
    assert opt.history == [] and opt.position() == 0
    assert opt.ask(2) == first


def test_setup_seed_overrides_constructor_seed():
    a, b = RandomSearch(seed=1), RandomSearch(seed=2)
    a.setup(_space(), ["minimize"], seed=5)
    b.setup(_space(), ["minimize"], seed=5)
    assert a.seed == 5 and a.ask(3) == b.ask(3)


def test_no_seed_draws_fresh_entropy():
    a, b = RandomSearch(), RandomSearch()
    a.setup(_space(), ["minimize"])
    b.setup(_space(), ["minimize"])
    assert a.seed is None and a.entropy != b.entropy
    assert a.ask(2) != b.ask(2)
