"""Crash loops end: a trial whose worker dies is re-run up to ``max_retries`` times, then
ends ``failed`` (counted, told to the optimizer); trials a dead driver or a stopped peer
left are not the trial's fault and are re-run as before."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import Future

import pytest

import hyperhive as hh
from hyperhive.executors import Thread, TrialOutcome, TrialTask
from hyperhive.optimizers.random import RandomSearch
from hyperhive.search.core import Loop
from hyperhive.search.options import LoopOptions
from hyperhive.search.peer import RECLAIMED, RELEASED, PeerCommit
from hyperhive.search.policy import DRIVER_STOPPED, CentralCommit
from hyperhive.search.state import RunState
from hyperhive.storage import LocalClaims, MemoryStore
from hyperhive.trial import TrialStatus, finish_event, submit_event

SPACE = hh.Space({"x": hh.Float(0.0, 1.0)})
DEATH = "worker w-0 (pid 1) exited with code 3 while running the trial"


class DyingThread(Thread):
    """Threads whose 'worker dies' (a ``lost`` outcome) for every ``x < cut``."""

    def __init__(self, workers: int, cut: float = 2.0) -> None:
        super().__init__(workers)
        self.cut = cut

    def submit(self, task: TrialTask) -> Future[TrialOutcome]:
        if task.config["x"] < self.cut:
            fut: Future[TrialOutcome] = Future()
            fut.set_result(TrialOutcome(task.trial_id, TrialStatus.LOST, reason=DEATH))
            return fut
        return super().submit(task)


class Recording(RandomSearch):
    """Random search that keeps what it was told."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.told: list[hh.Trial] = []

    def tell(self, trials) -> None:
        self.told.extend(trials)
        super().tell(trials)


def _statuses(result: hh.Result) -> dict[str, int]:
    return result.trials.status.value_counts().to_dict()


def _failed(result: hh.Result) -> list[hh.Trial]:
    return [t for t in result.records if t.status == TrialStatus.FAILED]


@pytest.mark.parametrize("max_retries", [0, 1, 2])
def test_a_worker_that_always_dies_ends_failed_after_max_retries(max_retries):
    opt = Recording()
    res = hh.search(
        lambda c: c["x"],
        SPACE,
        max_evals=3,
        timeout=30,  # a regression fails instead of hanging
        max_retries=max_retries,
        executor=DyingThread(1),
        optimizer=opt,
        seed=0,
    )
    assert res.n_counted == 3 and res.stop_reason == "max_evals reached"
    assert _statuses(res) == {"failed": 3, **({"lost": 3 * max_retries} if max_retries else {})}
    for failed in _failed(res):
        assert failed.reason.startswith("the worker died")
        assert f"max_retries={max_retries}" in failed.reason and DEATH in failed.reason
        assert failed.attempt == max_retries
        # its chain of re-runs goes back to the first attempt, all lost
        by_id = {t.id: t for t in res.records}
        chain, cur = [], failed
        while cur.retry_of is not None:
            cur = by_id[cur.retry_of]
            chain.append(cur.status)
        assert chain == [TrialStatus.LOST] * max_retries
    # the optimizer learned that these configurations fail
    assert sorted(t.id for t in opt.told if t.status == TrialStatus.FAILED) == sorted(
        t.id for t in _failed(res)
    )


def test_crash_failures_count_toward_max_failures():
    res = hh.search(
        lambda c: c["x"],
        SPACE,
        max_evals=50,
        timeout=30,
        max_retries=0,
        max_failures=2,
        executor=DyingThread(1, cut=0.5),
        optimizer="random",
        seed=1,
    )
    assert res.stop_reason == "max_failures=2 reached"
    assert len(_failed(res)) == 2 and not any(t.status == TrialStatus.LOST for t in res.records)


def test_a_worker_death_then_success_is_a_normal_rerun():
    class DiesOnce(Thread):
        def __init__(self) -> None:
            super().__init__(1)
            self.died: set[float] = set()

        def submit(self, task: TrialTask) -> Future[TrialOutcome]:
            if task.config["x"] not in self.died:
                self.died.add(task.config["x"])
                fut: Future[TrialOutcome] = Future()
                fut.set_result(TrialOutcome(task.trial_id, TrialStatus.LOST, reason=DEATH))
                return fut
            return super().submit(task)

    res = hh.search(lambda c: c["x"], SPACE, max_evals=3, executor=DiesOnce(), seed=2)
    assert _statuses(res) == {"done": 3, "lost": 3}  # max_retries=1 by default


def _loop(state: RunState, policy, max_retries: int) -> Loop:
    opts = LoopOptions(max_retries=max_retries)
    return Loop(state, hh.optimizers.get_optimizer("random"), Thread(1), policy, opts)


def _chain(state: RunState, reasons: list[str]) -> hh.Trial:
    """Append a chain of lost re-runs with these reasons; returns the last trial."""
    prev = None
    for i, why in enumerate(reasons):
        (tid,) = state.store.append([submit_event(None, {"x": 0.5}, attempt=i, retry_of=prev)])
        state.store.append([finish_event(tid, TrialStatus.LOST, reason=why)])
        prev = tid
    state.load()
    return state.trials[prev]


def test_trials_a_dead_driver_left_are_rerun_and_not_counted_as_deaths():
    state = RunState(SPACE, ["minimize"], None, 0)
    last = _chain(state, [DRIVER_STOPPED] * 4)
    loop = _loop(state, CentralCommit(state), max_retries=0)
    assert loop.deaths(last) == 0 and loop.should_retry(last)
    # one real death after four driver stops: within max_retries=1, re-run
    state2 = RunState(SPACE, ["minimize"], None, 0)
    last2 = _chain(state2, [DRIVER_STOPPED, DRIVER_STOPPED, DEATH])
    loop2 = _loop(state2, CentralCommit(state2), max_retries=1)
    assert loop2.deaths(last2) == 1 and loop2.should_retry(last2)
    loop0 = _loop(state2, CentralCommit(state2), max_retries=0)
    assert not loop0.should_retry(last2)


def test_resume_reruns_what_a_dead_driver_left_running_even_at_max_retries_0(tmp_path):
    run_dir = tmp_path / "run"
    state = RunState(SPACE, ["minimize"], run_dir, 0)
    (tid,) = state.store.append([submit_event(None, {"x": 0.25}, attempt=3)])  # 'running'
    state.store.close()
    res = hh.search(lambda c: c["x"], SPACE, max_evals=2, max_retries=0, run_dir=run_dir)
    first = next(t for t in res.records if t.id == tid)
    assert first.status == TrialStatus.LOST and first.reason == DRIVER_STOPPED
    rerun = [t for t in res.records if t.retry_of == tid]
    assert len(rerun) == 1 and rerun[0].status == TrialStatus.DONE
    assert rerun[0].config == {"x": 0.25} and res.n_counted == 2


def test_peers_forgive_released_and_reclaimed_trials_but_not_deaths():
    state = RunState(SPACE, ["minimize"], None, 0, store=MemoryStore())
    peer = PeerCommit(state, LocalClaims(state.store), "A", None, grace=0.0, poll=0.1)
    released = RELEASED.format(peer="B", reason="interrupted (SIGINT)")
    reclaimed = RECLAIMED.format(peer="B", by="C")
    last = _chain(state, [released, reclaimed, released])
    loop = _loop(state, peer, max_retries=0)
    assert loop.deaths(last) == 0 and loop.should_retry(last)
    died = _chain(state, [reclaimed, DEATH])
    assert loop.deaths(died) == 1 and not loop.should_retry(died)


def test_a_peer_ends_a_crash_loop_too():
    res = hh.worker(
        lambda c: c["x"],
        SPACE,
        store=MemoryStore(),
        max_evals=3,
        timeout=30,
        max_retries=0,
        executor=DyingThread(1),
        seed=0,
        peer="A",
    )
    assert res.n_counted == 3 and _statuses(res) == {"failed": 3}


def _exits(config):
    os._exit(3)


def _kills_itself(config):
    os.kill(os.getpid(), signal.SIGKILL)


@pytest.mark.parametrize(
    ("objective", "words"),
    [(_exits, "exited with code 3"), (_kills_itself, "SIGKILL (signal 9); out of memory?")],
)
def test_process_worker_dying_in_every_trial_ends_promptly(objective, words):
    """The issue's reproduction: this used to end only at the timeout, with hundreds
    of lost trials."""
    start = time.monotonic()
    res = hh.search(
        objective,
        SPACE,
        max_evals=4,
        max_retries=0,
        max_failures=1,
        timeout=6,
        workers=2,
        executor="process",
        seed=0,
    )
    assert res.stop_reason == "max_failures=1 reached", (res.stop_reason, time.monotonic() - start)
    assert 1 <= len(_failed(res)) <= 2
    assert all(words in t.reason for t in _failed(res))
    assert not any(t.status == TrialStatus.LOST for t in res.records)
