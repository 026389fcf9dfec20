"""RandomSearch: the optimizer contract plus duplicate handling."""

from __future__ import annotations

import json

from hyperhive.optimizers import RandomSearch
from hyperhive.space import Categorical, Float, Ordinal, Space
from hyperhive.testing.optimizer_contract import OptimizerContract, simulate
from hyperhive.trial import Trial, TrialStatus


class TestRandomContract(OptimizerContract):
    def make_optimizer(self, seed):
        return RandomSearch(seed=seed)


def _finite_space() -> Space:
    return Space({"a": Categorical(["x", "y"]), "b": Ordinal([1, 2, 3])})


def _key(config):
    return json.dumps(config, sort_keys=True)


def test_finite_space_visited_without_repeats_then_repeats():
    space = _finite_space()
    opt = RandomSearch(seed=0)
    opt.setup(space, ["minimize"])
    seen = []
    for i in range(6):
        (config,) = opt.ask(1)
        seen.append(_key(config))
        opt.tell([Trial(i, config, TrialStatus.DONE, objective=float(i))])
    assert len(set(seen)) == 6
    more = opt.ask(5)  # exhausted: repeats allowed, no endless loop
    assert len(more) == 5
    for config in more:
        space.validate(config)


def test_batch_in_finite_space_avoids_pending_and_itself():
    space = _finite_space()
    opt = RandomSearch(seed=1)
    opt.setup(space, ["minimize"])
    first = opt.ask(2)
    pending = [Trial(i, c, TrialStatus.RUNNING) for i, c in enumerate(first)]
    rest = opt.ask(4, pending=pending)
    assert len({_key(c) for c in first + rest}) == 6


def test_ask_stream_depends_on_position_not_call_pattern_history():
    space = Space({"x": Float(0.0, 1.0)})
    a, b = RandomSearch(seed=2), RandomSearch(seed=2)
    a.setup(space, ["minimize"])
    b.setup(space, ["minimize"])
    # Calls without pending still move forward (no repeated proposals).
    assert a.ask(1) != a.ask(1)
    # Same position (2 told, nothing pending) gives the same proposal.
    told = [Trial(i, c, TrialStatus.DONE, objective=0.0) for i, c in enumerate(space.sample(2, 0))]
    c = RandomSearch(seed=2)
    c.setup(space, ["minimize"])
    b.tell(told)
    c.tell(told)
    assert b.ask(3) == c.ask(3)


def test_settings():
    opt = RandomSearch(seed=4)
    assert opt.settings() == {"name": "random", "seed": 4}


def test_simulated_search_covers_categories():
    space = _finite_space()
    opt = RandomSearch(seed=3)
    opt.setup(space, ["maximize"])
    log = simulate(opt, _case(space), rounds=6)
    assert {c["a"] for c in log.configs} == {"x", "y"}


def _case(space):
    from hyperhive.testing.optimizer_contract import Case

    return Case("finite", space, ["maximize"], lambda c: float(c["b"]))
