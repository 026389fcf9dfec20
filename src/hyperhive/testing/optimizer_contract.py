"""The contract every optimizer must keep, as a reusable pytest base class.

Subclass :class:`OptimizerContract` in a test module and implement
:meth:`~OptimizerContract.make_optimizer`::

    class TestMyOptimizer(OptimizerContract):
        def make_optimizer(self, seed):
            return MyOptimizer(seed=seed)

The suite simulates asynchronous searches on small spaces of every kind
(continuous, mixed, conditional, forbidden, multi-objective, maximize) and
checks determinism by seed, validity of every proposal, robustness to failed and
odd trials, and that the state rebuilds by replaying finished trials.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from hyperhive.optimizers.base import Optimizer
from hyperhive.trial import Trial, TrialStatus

CASES = ("continuous", "mixed", "conditional", "forbidden", "multi_objective", "maximize")


@dataclass
class Case:
    """A space, its objective directions and a deterministic objective function."""

    name: str
    space: Any
    directions: list[str]
    objective: Callable[[dict[str, Any]], float | tuple[float, ...]]


def _unit_objective(space: Any, k: int) -> Callable[[dict[str, Any]], Any]:
    """A smooth objective of the unit encoding (inactive parameters count as 0)."""

    def f(config: dict[str, Any]) -> Any:
        u = np.nan_to_num(np.asarray(space.to_unit([config]), dtype=float)[0], nan=0.0)
        first = float(np.sum((u - 0.3) ** 2))
        if k == 1:
            return first
        return (first, float(np.sum(u)))

    return f


def make_case(name: str) -> Case:
    """Build one of the spaces of :data:`CASES`."""
    from hyperhive.space import Categorical, Constant, Float, Int, Ordinal, Space, gt

    directions = ["minimize"]
    if name in ("continuous", "multi_objective", "maximize"):
        space = Space({"x": Float(-5.0, 5.0), "y": Float(1e-3, 1.0, log=True)})
        directions = {
            "continuous": ["minimize"],
            "multi_objective": ["minimize", "maximize"],
            "maximize": ["maximize"],
        }[name]
    elif name == "mixed":
        space = Space(
            {
                "lr": Float(1e-4, 1e-1, log=True),
                "units": Int(8, 512, log=True),
                "act": Categorical(("relu", "tanh", "gelu")),
                "size": Ordinal(("s", "m", "l", "xl")),
                "opt": Constant("adam"),
            }
        )
    elif name == "conditional":
        space = Space(
            {
                "model": Categorical(("linear", "net")),
                "lr": Float(1e-4, 1e-1, log=True),
                "layers": Int(1, 4),
                "act": Categorical(("relu", "tanh")),
                "slope": Float(0.01, 0.3),
            }
        )
        space.condition("layers", on="model", equals="net")
        space.condition("act", on="model", equals="net")
        space.condition("slope", on="act", equals="relu")
    elif name == "forbidden":
        space = Space(
            {
                "depth": Ordinal((2, 8)),
                "units": Int(16, 1024, log=True),
                "act": Categorical(("relu", "tanh")),
                "lr": Float(1e-4, 1e-1, log=True),
            }
        )
        space.forbid(depth=8, units=gt(256))
        space.forbid(act="tanh", lr=gt(0.01))
    else:
        raise ValueError(f"unknown contract case {name!r}; valid: {CASES}")
    return Case(name, space, directions, _unit_objective(space, len(directions)))


@dataclass
class SearchLog:
    """What a simulated search asked and told."""

    asks: list[list[dict[str, Any]]] = field(default_factory=list)
    pendings: list[list[Trial]] = field(default_factory=list)
    tells: list[list[Trial]] = field(default_factory=list)

    @property
    def configs(self) -> list[dict[str, Any]]:
        """Every asked configuration, in order."""
        return [c for batch in self.asks for c in batch]


def simulate(
    opt: Optimizer,
    case: Case,
    rounds: int = 20,
    batch: int = 1,
    finish: int | Callable[[int], int] | None = None,
    status: Callable[[int], TrialStatus] | None = None,
    order_seed: int = 12345,
) -> SearchLog:
    """Run an asynchronous search of ``rounds`` asks of ``batch`` configurations.

    After each ask, ``finish`` of the running trials (default: ``batch``; a
    function of the round number for a varying count; the rest stay pending)
    finish in a shuffled order fixed by ``order_seed`` and are told (an empty
    tell when none finish); the last round tells every trial still running. ``status(id)``
    picks each trial's status (default DONE); trials that are not DONE get no
    objective. The optimizer must already be set up.
    """
    order = np.random.default_rng(order_seed)
    log = SearchLog()
    running: list[Trial] = []
    next_id = 0
    for r in range(rounds):
        pending = list(running)
        configs = opt.ask(batch, pending=pending)
        log.asks.append(configs)
        log.pendings.append(pending)
        for config in configs:
            running.append(Trial(id=next_id, config=config, status=TrialStatus.RUNNING))
            next_id += 1
        wanted = finish(r) if callable(finish) else (finish or batch)
        k = len(running) if r == rounds - 1 else min(len(running), wanted)
        chosen = sorted(order.choice(len(running), size=k, replace=False).tolist())
        done = [running[i] for i in chosen]
        order.shuffle(done)
        done_ids = {t.id for t in done}
        running = [t for t in running if t.id not in done_ids]
        told = []
        for t in done:
            st = status(t.id) if status is not None else TrialStatus.DONE
            value = case.objective(t.config) if st == TrialStatus.DONE else None
            told.append(Trial(id=t.id, config=t.config, status=st, objective=value))
        opt.tell(told)
        log.tells.append(told)
    return log


class OptimizerContract:
    """Tests every optimizer must pass; subclass it and implement :meth:`make_optimizer`.

    Class attributes tune the budget: ``rounds`` (asks per simulated search).
    """

    rounds: int = 20

    def make_optimizer(self, seed: int | None) -> Optimizer:
        """Return a fresh, unbound optimizer seeded with ``seed``."""
        raise NotImplementedError

    # -- helpers -----------------------------------------------------------------
    def bound(self, case: Case, seed: int | None = 0) -> Optimizer:
        """A fresh optimizer set up on ``case`` with ``seed``."""
        opt = self.make_optimizer(seed)
        opt.setup(case.space, case.directions, seed=seed)
        return opt

    @staticmethod
    def check_valid(case: Case, configs: Sequence[dict[str, Any]]) -> None:
        """Fail unless every configuration is a valid, non-forbidden one of the space."""
        for config in configs:
            case.space.validate(config)
            if case.space.is_forbidden(config):
                pytest.fail(f"forbidden configuration proposed on {case.name}: {config}")

    # -- determinism -------------------------------------------------------------
    @pytest.mark.parametrize("batch", [1, 4])
    @pytest.mark.parametrize("name", ["mixed", "conditional"])
    def test_same_seed_same_asks(self, name: str, batch: int) -> None:
        case = make_case(name)
        rounds = 30 // batch
        a = simulate(self.bound(case, 7), case, rounds, batch, finish=max(1, batch // 2))
        b = simulate(self.bound(case, 7), case, rounds, batch, finish=max(1, batch // 2))
        assert a.configs == b.configs

    @pytest.mark.parametrize("name", ["continuous", "mixed"])
    def test_different_seeds_differ(self, name: str) -> None:
        case = make_case(name)
        a = simulate(self.bound(case, 1), case, 10)
        b = simulate(self.bound(case, 2), case, 10)
        assert a.configs != b.configs

    def test_seed_from_constructor(self) -> None:
        case = make_case("continuous")
        a, b = self.make_optimizer(3), self.make_optimizer(3)
        a.setup(case.space, case.directions)
        b.setup(case.space, case.directions)
        assert a.ask(5) == b.ask(5)

    # -- validity ----------------------------------------------------------------
    @pytest.mark.parametrize("name", CASES)
    def test_proposals_valid_with_pending(self, name: str) -> None:
        case = make_case(name)
        log = simulate(self.bound(case, 0), case, self.rounds, batch=3, finish=2)
        assert sum(len(b) for b in log.asks) == 3 * self.rounds
        assert all(len(b) == 3 for b in log.asks)
        self.check_valid(case, log.configs)
        assert all(isinstance(c, dict) for c in log.configs)

    def test_conditional_inactive_absent(self) -> None:
        case = make_case("conditional")
        log = simulate(self.bound(case, 5), case, self.rounds, batch=2)
        configs = log.configs
        for c in configs:
            assert ("layers" in c) == (c["model"] == "net"), c
            assert ("act" in c) == (c["model"] == "net"), c
            assert ("slope" in c) == (c.get("act") == "relu"), c
        assert {c["model"] for c in configs} == {"linear", "net"}

    def test_batch_distinct_and_avoids_pending(self) -> None:
        case = make_case("continuous")
        opt = self.bound(case, 0)
        simulate(opt, case, 6)
        pending = [
            Trial(id=100 + i, config=c, status=TrialStatus.RUNNING)
            for i, c in enumerate(opt.ask(4))
        ]
        batch = opt.ask(8, pending=pending)
        keys = [json.dumps(c, sort_keys=True) for c in batch]
        assert len(set(keys)) == 8
        assert not set(keys) & {json.dumps(t.config, sort_keys=True) for t in pending}

    # -- robustness --------------------------------------------------------------
    @pytest.mark.parametrize("name", ["mixed", "conditional", "forbidden"])
    def test_survives_failures_and_odd_statuses(self, name: str) -> None:
        case = make_case(name)
        cycle = [
            TrialStatus.DONE,
            TrialStatus.FAILED,
            TrialStatus.TIMEOUT,
            TrialStatus.DONE,
            TrialStatus.LOST,
            TrialStatus.CANCELLED,
            TrialStatus.STOPPED,
        ]
        opt = self.bound(case, 0)
        log = simulate(opt, case, self.rounds, 2, status=lambda i: cycle[i % len(cycle)])
        self.check_valid(case, log.configs)
        told = [t for batch in log.tells for t in batch]
        ignored = {t.id for t in told if t.status in (TrialStatus.LOST, TrialStatus.CANCELLED)}
        assert ignored and not ignored & {t.id for t in opt.history}
        self.check_valid(case, opt.ask(4))

    @pytest.mark.parametrize("name", ["continuous", "conditional", "multi_objective"])
    def test_all_failed_history(self, name: str) -> None:
        case = make_case(name)
        opt = self.bound(case, 0)
        log = simulate(opt, case, self.rounds, 2, status=lambda i: TrialStatus.FAILED)
        self.check_valid(case, log.configs + opt.ask(3))
        assert np.isnan(opt.losses(opt.history)).all()

    @pytest.mark.parametrize("name", ["continuous", "maximize", "multi_objective"])
    def test_extreme_values(self, name: str) -> None:
        case = make_case(name)
        opt = self.bound(case, 0)
        extremes = [1e300, -1e300, 1e-300, 0.0, -0.0, 7.0, 1e15]
        k = len(case.directions)
        trials = []
        for i, config in enumerate(case.space.sample(len(extremes), 3)):
            v = extremes[i]
            trials.append(Trial(i, config, TrialStatus.DONE, objective=v if k == 1 else (v, -v)))
        opt.tell(trials[:3])
        opt.tell(trials[3:])
        configs = opt.ask(4)
        self.check_valid(case, configs)
        losses = opt.losses(opt.history)
        assert np.isfinite(losses).all() and losses.shape == (len(extremes), k)

    def test_lost_and_cancelled_ignored(self) -> None:
        case = make_case("mixed")
        a, b = self.bound(case, 4), self.bound(case, 4)
        log = simulate(self.bound(case, 4), case, 8)
        told = [t for batch in log.tells for t in batch]
        odd = [
            Trial(1000, told[0].config, TrialStatus.LOST),
            Trial(1001, told[1].config, TrialStatus.CANCELLED),
            Trial(1002, told[2].config, TrialStatus.RUNNING),
        ]
        a.tell(told[:4] + odd + told[4:])
        b.tell(told)
        assert [t.id for t in a.history] == [t.id for t in b.history]
        if a.replay_deterministic:
            assert a.ask(3) == b.ask(3)
        else:
            self.check_valid(case, a.ask(3))

    def test_ask_zero_and_empty_tell(self) -> None:
        case = make_case("mixed")
        a, b = self.bound(case, 9), self.bound(case, 9)
        assert a.ask(0) == []
        a.tell([])
        assert a.history == []
        assert a.ask(3) == b.ask(3)

    def test_bad_calls_raise(self) -> None:
        opt = self.make_optimizer(0)
        with pytest.raises(RuntimeError):
            opt.ask(1)
        case = make_case("continuous")
        opt.setup(case.space, case.directions)
        for n in (-1, 1.5, True):
            with pytest.raises(ValueError):
                opt.ask(n)  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            opt.setup(case.space, ["sideways"])

    # -- replay ------------------------------------------------------------------
    @pytest.mark.parametrize("name", ["mixed", "conditional", "forbidden", "multi_objective"])
    def test_state_rebuilt_by_replay(self, name: str) -> None:
        case = make_case(name)
        a = self.bound(case, 11)
        log = simulate(a, case, self.rounds, batch=2, finish=lambda r: (0, 1, 3)[r % 3])
        next_a = a.ask(4)
        # Same batches, no asks in between; then all finished trials in one tell.
        b = self.bound(case, 11)
        for batch in log.tells:
            b.tell(batch)
        c = self.bound(case, 11)
        c.tell([t for batch in log.tells for t in batch])
        assert [t.id for t in b.history] == [t.id for t in a.history]
        next_b, next_c = b.ask(4), c.ask(4)
        self.check_valid(case, next_b + next_c)
        if not a.replay_deterministic:
            return
        assert next_b == next_a
        assert next_c == next_a
        # Mid-search: replaying the tells up to a round and asking with that
        # round's pending trials gives what the original asked then.
        for cut in (0, 3, self.rounds // 2, self.rounds - 1):
            d = self.bound(case, 11)
            for batch in log.tells[:cut]:
                d.tell(batch)
            assert d.ask(2, pending=log.pendings[cut]) == log.asks[cut], f"round {cut}"

    # -- directions and settings -------------------------------------------------
    @pytest.mark.parametrize("name", ["maximize", "multi_objective"])
    def test_directions(self, name: str) -> None:
        case = make_case(name)
        opt = self.bound(case, 0)
        log = simulate(opt, case, 8)
        self.check_valid(case, log.configs)
        assert opt.directions == case.directions
        losses = opt.losses(opt.history)
        values = np.array([t.values for t in opt.history])
        assert np.allclose(losses[:, -1], -values[:, -1])

    def test_settings_json(self) -> None:
        opt = self.make_optimizer(5)
        before = json.loads(json.dumps(opt.settings()))
        assert before["name"] == opt.name and opt.name
        case = make_case("mixed")
        opt.setup(case.space, case.directions)
        simulate(opt, case, 3)
        after = json.loads(json.dumps(opt.settings()))
        assert after["seed"] == 5 and after["name"] == opt.name

    def test_no_seed(self) -> None:
        case = make_case("forbidden")
        opt = self.make_optimizer(None)
        opt.setup(case.space, case.directions)
        log = simulate(opt, case, 5, batch=2)
        self.check_valid(case, log.configs)
        json.dumps(opt.settings())
