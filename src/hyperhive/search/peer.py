"""The loop of one decentralized peer (used by :func:`hyperhive.worker`)."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import queue
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from hyperhive.executors import Executor, TrialTask
from hyperhive.optimizers import Optimizer
from hyperhive.search.callbacks import CallbackLike, SearchState
from hyperhive.search.claims import Coordinator
from hyperhive.search.engine import apply_outcome
from hyperhive.search.signals import StopFlag, stop_on_signals
from hyperhive.search.state import RunState, trial_seed
from hyperhive.trial import Trial, TrialStatus, end_event, report_event, submit_event

logger = logging.getLogger("hyperhive")

STOP_KEY = "stop"
"""The meta key a peer sets to stop every peer (a callback's stop, ``max_failures``): its
reason and ``max_evals``; a peer started later with a larger ``max_evals`` continues."""


@dataclass
class Peer:
    """Mutable state of one peer. Trials in :attr:`in_flight` are this peer's own
    copies; the trial table (``state.trials``) changes only by reading the store, so
    that it is always the replay of the shared journal."""

    name: str
    state: RunState
    coord: Coordinator
    optimizer: Optimizer
    executor: Executor
    max_evals: int | None
    timeout: float | None
    trial_timeout: float | None
    max_failures: int | None
    max_retries: int
    grace: float
    poll: float
    callbacks: list[CallbackLike]
    on_progress: Callable[[dict[str, Any]], None] | None
    view: SearchState
    inbox: queue.SimpleQueue
    in_flight: dict[int, Trial] = field(default_factory=dict)
    pending_events: list[dict[str, Any]] = field(default_factory=list)
    told: set[int] = field(default_factory=set)
    open_ids: set[int] = field(default_factory=set)
    others_open: dict[int, Trial] = field(default_factory=dict)
    orphans: dict[int, Trial] = field(default_factory=dict)
    retried: set[int] = field(default_factory=set)
    fenced: set[int] = field(default_factory=set)
    dead: set[str] = field(default_factory=set)
    release_as: tuple[TrialStatus, str] | None = None
    stop_reason: str | None = None
    start: float = 0.0
    busy: float = 0.0
    last_look: float = -1e18
    remote_stop: str | None = None

    # -- reading the store ----------------------------------------------------------
    def sink(self, trial_id: int, step: int | None, value: Any, t: float) -> None:
        self.inbox.put(("report", trial_id, step, value, t))

    def sync(self) -> None:
        """Read what any peer committed since the last call; tell the optimizer."""
        newly: list[Trial] = []
        for t in self.state.load():
            if t.retry_of is not None:
                self.retried.add(t.retry_of)
                self.orphans.pop(t.retry_of, None)
            if t.status.finished:
                self.open_ids.discard(t.id)
                self.others_open.pop(t.id, None)
                if t.id not in self.told:
                    self.told.add(t.id)
                    newly.append(t)
                lost = t.status == TrialStatus.LOST
                if lost and t.attempt < self.max_retries and t.id not in self.retried:
                    self.orphans[t.id] = t
                if t.id in self.in_flight and t.id not in self.fenced:
                    self.fenced.add(t.id)
                    logger.warning(
                        "peer %s: trial %d was reclaimed by another peer (%s); its late "
                        "result will stay in the journal but not count",
                        self.name,
                        t.id,
                        t.reason,
                    )
            else:
                self.open_ids.add(t.id)
                if t.peer and t.peer != self.name:
                    self.others_open[t.id] = t
        newly.sort(key=lambda t: (t.finished or 0.0, t.id))
        self.account(newly)

    def account(self, finished: list[Trial]) -> None:
        view = self.view
        view.tally(finished)
        if finished:
            self.optimizer.tell(finished)
        view.elapsed = time.monotonic() - self.start
        for t in finished:
            for cb in self.callbacks:
                cb(t, view)

    # -- creating trials ----------------------------------------------------------------
    def candidates(self, n: int) -> list[Trial]:
        """Trials to adopt: released/lost ones, then open ones of peers whose lease expired."""
        out = sorted(self.orphans.values(), key=lambda t: t.id)
        if len(out) < n and self.others_open:
            now = time.monotonic()
            if now - self.last_look >= self.poll:
                self.last_look = now
                owners = {t.peer for t in self.others_open.values() if t.peer}
                self.dead = owners - self.coord.live_peers(sorted(owners))
            out += [t for t in self.others_open.values() if t.peer in self.dead]
        return out[:n]

    def fill(self) -> None:
        free = self.executor.workers + self.executor.queue_slots() - len(self.in_flight)
        if free <= 0:
            return
        for old in self.candidates(free):
            lost = dataclasses.replace(old, status=TrialStatus.LOST)
            lost.reason = f"the lease of peer {old.peer} expired; reclaimed by peer {self.name}"
            lost.finished = time.time()
            submit = submit_event(
                None, old.config, attempt=old.attempt + 1, retry_of=old.id, peer=self.name
            )
            tid = self.coord.claim(submit, self.max_evals, adopt=old.id, lost=end_event(lost))
            if tid is None:  # alive after all, adopted by another peer, or no budget left
                self.dead.discard(old.peer or "")
            else:
                self.orphans.pop(old.id, None)
                self.others_open.pop(old.id, None)
                logger.info("peer %s re-runs trial %d as trial %d", self.name, old.id, tid)
                self.launch(tid, old.config, old.attempt + 1, old.id)
                free -= 1
        if free <= 0:
            return
        k = free
        if self.max_evals is not None:
            k = min(k, self.max_evals - self.view.counted - len(self.open_ids))
        if k <= 0:
            return
        pending = [self.state.trials[i] for i in self.open_ids if i in self.state.trials]
        pending += [t for t in self.in_flight.values() if t.id not in self.open_ids]
        for config in self.optimizer.ask(k, pending=pending):
            tid = self.coord.claim(submit_event(None, config, peer=self.name), self.max_evals)
            if tid is None:  # another peer took the last slots
                break
            self.launch(tid, config, 0, None)

    def launch(self, tid: int, config: dict[str, Any], attempt: int, retry_of: int | None) -> None:
        t = Trial(
            id=tid,
            config=dict(config),
            status=TrialStatus.RUNNING,
            seed=trial_seed(self.state.seed, tid),
            submitted=time.time(),
            attempt=attempt,
            retry_of=retry_of,
            peer=self.name,
        )
        self.in_flight[tid] = t
        self.open_ids.add(tid)
        task = TrialTask(
            trial_id=tid,
            config=dict(config),
            seed=t.seed,
            artifact_dir=self.state.artifact_dir(tid),
            timeout=self.trial_timeout,
        )
        fut = self.executor.submit(task)
        fut.add_done_callback(lambda f, i=tid: self.inbox.put(("done", i, f)))

    # -- receiving --------------------------------------------------------------------
    def drain(self, wait: float) -> int:
        """Collect reports and outcomes (blocking up to ``wait`` s); returns trials ended."""
        n = 0
        try:
            item = self.inbox.get(timeout=wait) if wait > 0 else self.inbox.get_nowait()
        except queue.Empty:
            return 0
        while True:
            if item[0] == "report":
                _, tid, step, value, t = item
                self.pending_events.append(report_event(tid, step, value, t))
            elif self._finish(item[1], item[2]):
                n += 1
            try:
                item = self.inbox.get_nowait()
            except queue.Empty:
                return n

    def _finish(self, tid: int, fut: Future) -> bool:
        trial = self.in_flight.pop(tid, None)
        if trial is None:
            return False
        apply_outcome(trial, fut, len(self.state.directions))
        if trial.status == TrialStatus.CANCELLED and self.release_as is not None:
            trial.status, trial.reason = self.release_as
        if trial.started is not None:
            self.busy += max(0.0, trial.finished - trial.started)
        self.pending_events.append(end_event(trial))
        return True

    def commit(self) -> None:
        if self.pending_events:
            events, self.pending_events = self.pending_events, []
            self.state.store.append(events)

    # -- the loop -------------------------------------------------------------------------
    def done_reason(self, flag: StopFlag) -> str | None:
        view = self.view
        if flag:
            return f"interrupted ({flag.signal})"
        if view.stop_reason:
            return view.stop_reason
        if self.max_failures is not None and view.failures >= self.max_failures:
            return f"max_failures={self.max_failures} reached"
        if self.timeout is not None and time.monotonic() - self.start >= self.timeout:
            return f"timeout={self.timeout} s reached"
        if self.max_evals is not None and view.counted >= self.max_evals:
            return "max_evals reached"
        if self.remote_stop:
            return f"stopped by another peer: {self.remote_stop}"
        return None

    def run(self) -> str:
        self.start = time.monotonic()
        flag = StopFlag()
        last_progress, last_stop_check = 0.0, -math.inf
        with stop_on_signals(flag):
            self.sync()
            while True:
                now = time.monotonic()
                if now - last_stop_check >= self.poll:
                    last_stop_check = now
                    self.remote_stop = self.stop_record()
                if now - last_progress > 0.25:
                    self.progress()
                    last_progress = now
                reason = self.done_reason(flag)
                if reason is not None:
                    break
                self.fill()
                wait = self.poll
                if self.timeout is not None:
                    left = self.timeout - (time.monotonic() - self.start)
                    wait = min(wait, max(0.0, left))
                self.drain(wait)
                self.commit()
                self.sync()
            self.stop_reason = reason
            self.wind_down(reason, flag)
        self.sync()
        self.progress(final=True)
        return reason

    def stop_record(self) -> str | None:
        """The reason another peer stopped the run, unless this peer has a larger budget."""
        record = self.state.store.get_meta(STOP_KEY)
        if not isinstance(record, dict) or not record.get("reason"):
            return None
        theirs = record.get("max_evals")
        if self.max_evals is not None and theirs is not None and self.max_evals > theirs:
            return None
        return str(record["reason"])

    def wind_down(self, reason: str, flag: StopFlag) -> None:
        """Finish or release this peer's trials so that the run stays resumable."""
        interrupted = bool(flag) or reason.startswith("timeout")
        if interrupted and self.in_flight:
            logger.info(
                "peer %s: %s; letting trials finish for %.0f s", self.name, reason, self.grace
            )
            deadline = time.monotonic() + self.grace
            while self.in_flight and time.monotonic() < deadline:
                self.drain(min(0.2, max(0.0, deadline - time.monotonic())))
                self.commit()
        local_stop = reason == self.view.stop_reason or reason.startswith("max_failures")
        if local_stop and not self.remote_stop:
            with contextlib.suppress(Exception):
                self.state.store.set_meta(STOP_KEY, {"reason": reason, "max_evals": self.max_evals})
        if not self.in_flight:
            self.commit()
            return
        if interrupted:
            self.release_as = (TrialStatus.LOST, f"released by peer {self.name}: {reason}")
        else:
            self.release_as = (TrialStatus.CANCELLED, f"search ended: {reason}")
        for tid in list(self.in_flight):
            with contextlib.suppress(Exception):
                self.executor.cancel(tid)
        deadline = time.monotonic() + 5.0
        while self.in_flight and time.monotonic() < deadline:
            self.drain(0.2)
        status, why = self.release_as
        for tid, t in list(self.in_flight.items()):
            t.status, t.reason, t.finished = status, why, time.time()
            self.pending_events.append(end_event(t))
            del self.in_flight[tid]
        self.commit()

    def progress(self, final: bool = False) -> None:
        if self.on_progress is None:
            return
        elapsed = time.monotonic() - self.start
        now = time.time()
        running = sum(now - (t.submitted or now) for t in self.in_flight.values())
        denom = self.executor.workers * elapsed
        view = self.view
        self.on_progress(
            {
                "counted": view.counted,
                "failures": view.failures,
                "running": len(self.in_flight),
                "max_evals": self.max_evals,
                "best": None if view.best is None else view.best.objective,
                "elapsed": elapsed,
                "utilization": (self.busy + running) / denom if denom > 0 else 0.0,
                "final": final,
                "peer": self.name,
            }
        )
