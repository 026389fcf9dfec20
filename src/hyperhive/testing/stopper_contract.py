"""The stopper contract suite: pytest tests that every :class:`~hyperhive.stoppers.Stopper` passes.

Subclass :class:`StopperContract` in a test module and implement :meth:`make_stopper`::

    class TestMyStopper(StopperContract):
        def make_stopper(self):
            return MyStopper(max_steps=self.max_steps)

The suite replays synthetic learning curves (seeded, some of them crossing) and checks
that decisions are deterministic for given curves and seed, that a trial at
``max_steps`` is never stopped, that several objectives work (two copies of one
objective decide as the objective alone), that the memory, SQLite and Redis rung
stores give the same decisions, that two peers sharing a rung store decide as one
stopper, and, for stoppers that declare ``order_independent``, that any interleaving
of the trials' reports gives the same decisions. The Redis case starts a throw-away
``redis-server`` (skipped when it is missing, failed under ``CI=true``).

This module needs pytest (the ``test`` extra).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hyperhive.stoppers import Stopper
from hyperhive.storage.rungs import MemoryRungs, RungStore, SQLiteRungs

__all__ = ["StopperContract", "synthetic_curves"]

Report = tuple[int, int, Any]  # trial id, step, value


def synthetic_curves(n_trials: int, max_steps: int, seed: int = 0) -> np.ndarray:
    """Loss curves (trials x steps): power laws with noise; a third start slow and end best."""
    rng = np.random.default_rng(seed)
    steps = np.arange(1, max_steps + 1, dtype=float)
    final = rng.uniform(0.1, 1.0, n_trials)
    scale = rng.uniform(0.5, 2.0, n_trials)
    rate = rng.uniform(0.3, 1.5, n_trials)
    slow = rng.random(n_trials) < 1 / 3
    rate[slow] = 0.15
    final[slow] *= 0.5
    curves = final[:, None] + scale[:, None] * steps[None, :] ** -rate[:, None]
    return curves + rng.normal(0.0, 0.01, curves.shape)


def trial_major(curves: np.ndarray, value: Callable[[float], Any] = float) -> list[Report]:
    """All reports, trial after trial (each to its last step)."""
    return [(t, s + 1, value(c)) for t, row in enumerate(curves) for s, c in enumerate(row)]


def round_robin(curves: np.ndarray, value: Callable[[float], Any] = float) -> list[Report]:
    """The first third of the trials run to the end, then the rest step by step in turn."""
    n, m = curves.shape
    head = trial_major(curves[: n // 3], value)
    rest = [(t, s + 1, value(curves[t, s])) for s in range(m) for t in range(n // 3, n)]
    return head + rest


def decide(stopper: Stopper, reports: Sequence[Report]) -> dict[int, int]:
    """Feed reports (skipping those of stopped trials); the step each trial stopped at."""
    stopped: dict[int, int] = {}
    for trial_id, step, value in reports:
        if trial_id in stopped:
            continue
        if stopper.report(trial_id, value, step):
            stopped[trial_id] = step
    return stopped


class StopperContract:
    """Tests every stopper passes; subclass it and implement :meth:`make_stopper`."""

    #: The full training length the suite's curves have.
    max_steps = 9
    #: Trials in the suite's curves.
    n_trials = 24
    #: Set False for a stopper that may legitimately stop nothing on the suite's curves.
    expect_stops = True

    def make_stopper(self) -> Stopper:
        """A new stopper for curves of :attr:`max_steps` steps."""
        raise NotImplementedError

    # -- helpers -----------------------------------------------------------------
    def bound(
        self, rungs: RungStore | None = None, directions: Any = "minimize", seed: int = 7
    ) -> Stopper:
        stopper = self.make_stopper()
        stopper.setup(directions, seed=seed, rungs=rungs, max_steps=self.max_steps)
        return stopper

    def curves(self, seed: int = 0) -> np.ndarray:
        return synthetic_curves(self.n_trials, self.max_steps, seed)

    @pytest.fixture(scope="class")
    @classmethod
    def redis_url(cls) -> Iterator[str]:
        from hyperhive.testing.redis_server import redis_server_or_skip

        server = redis_server_or_skip()
        try:
            yield server.url
        finally:
            server.stop()

    # -- the contract ---------------------------------------------------------------
    def test_is_a_stopper(self) -> None:
        stopper = self.make_stopper()
        assert isinstance(stopper, Stopper)
        assert repr(stopper).startswith(type(stopper).__name__)

    def test_decisions_are_deterministic(self) -> None:
        for seed in (0, 1):
            reports = round_robin(self.curves(seed))
            first = decide(self.bound(seed=seed), reports)
            assert decide(self.bound(seed=seed), reports) == first
            if self.expect_stops:
                assert first, "no trial was stopped on curves where most are hopeless"

    def test_a_trial_at_max_steps_is_never_stopped(self) -> None:
        curves = self.curves()
        stopper = self.bound()
        decide(stopper, round_robin(curves))
        for t in range(self.n_trials + 5):  # known trials and new ones, awful values
            for value in (1e9, math.nan, math.inf):
                assert stopper.report(t, value, self.max_steps) is False
                assert stopper.report(t, value, self.max_steps + 3) is False

    def test_stops_only_between_min_steps_and_max_steps(self) -> None:
        stopper = self.bound()
        for _trial_id, step in decide(stopper, round_robin(self.curves())).items():
            assert stopper.min_steps <= step < self.max_steps

    def test_maximize_mirrors_minimize(self) -> None:
        reports = round_robin(self.curves())
        flipped = [(t, s, -v) for t, s, v in reports]
        assert decide(self.bound(), reports) == decide(self.bound(directions="maximize"), flipped)

    def test_several_objectives(self) -> None:
        curves = self.curves()
        one = decide(self.bound(), round_robin(curves))
        two = decide(
            self.bound(directions=["minimize", "minimize"]),
            round_robin(curves, lambda c: (float(c), float(c))),
        )
        assert two == one  # a duplicated objective decides as the objective alone
        rng = np.random.default_rng(3)
        other = rng.permutation(curves.ravel()).reshape(curves.shape)
        pairs = [(t, s, (float(v), float(-other[t, s - 1]))) for t, s, v in round_robin(curves)]
        stopper = self.bound(directions=["minimize", "maximize"])
        first = decide(stopper, pairs)
        assert decide(self.bound(directions=["minimize", "maximize"]), pairs) == first

    def test_same_decisions_from_every_rung_store(self, tmp_path: Path, redis_url: str) -> None:
        from hyperhive.storage.redis_rungs import RedisRungs

        reports = round_robin(self.curves())
        pairs = round_robin(self.curves(), lambda c: (float(c), float(c) ** 2))
        expected = decide(self.bound(MemoryRungs()), reports)
        expected_mo = decide(self.bound(MemoryRungs(), ["minimize", "minimize"]), pairs)
        name = type(self).__name__.lower()
        stores: list[Callable[[str], RungStore]] = [
            lambda tag: SQLiteRungs(tmp_path / f"{tag}.sqlite"),
            lambda tag: RedisRungs(redis_url, run=f"{name}-{tag}"),
        ]
        for make in stores:
            assert decide(self.bound(make("one")), reports) == expected
            assert decide(self.bound(make("two"), ["minimize", "minimize"]), pairs) == expected_mo

    def test_peers_sharing_a_rung_store_decide_as_one(self) -> None:
        reports = round_robin(self.curves())
        expected = decide(self.bound(), reports)
        shared = MemoryRungs()
        peers = [self.bound(shared), self.bound(shared)]
        stopped: dict[int, int] = {}
        for trial_id, step, value in reports:  # each trial runs on one peer
            if trial_id not in stopped and peers[trial_id % 2].report(trial_id, value, step):
                stopped[trial_id] = step
        assert stopped == expected

    def test_interleavings(self) -> None:
        curves = self.curves()
        expected = decide(self.bound(), trial_major(curves))
        if not self.make_stopper().order_independent:
            # Rules that compare a trial with those that reached a rung before it: the
            # same order of arrival gives the same decisions (checked above); a different
            # one may not, as in every asynchronous rule.
            assert decide(self.bound(), trial_major(curves)) == expected
            return
        rng = np.random.default_rng(0)
        for _ in range(3):
            queues = [list(r) for r in np.array_split(trial_major(curves), self.n_trials)]
            order: list[Report] = []
            while any(queues):
                live = [q for q in queues if q]
                q = live[int(rng.integers(len(live)))]
                t, s, v = q.pop(0)
                order.append((int(t), int(s), float(v)))
            assert decide(self.bound(), order) == expected

    def test_bad_reports_are_refused(self) -> None:
        stopper = self.bound()
        with pytest.raises(ValueError, match="step"):
            stopper.report(0, 1.0, 0)
        with pytest.raises(ValueError, match="objective"):
            stopper.report(0, (1.0, 2.0), 1)
        with pytest.raises(TypeError, match="float"):
            stopper.report(0, "bad", 1)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="directions"):
            self.make_stopper().setup("up")
