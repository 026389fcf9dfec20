"""The engine of the asynchronous search loop: keeps workers busy, journals, tells."""

from __future__ import annotations

import contextlib
import queue
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from hyperhive.executors import Executor, TrialOutcome, TrialTask
from hyperhive.optimizers import Optimizer
from hyperhive.search.callbacks import CallbackLike, SearchState
from hyperhive.search.signals import StopFlag, stop_on_signals
from hyperhive.search.state import RunState
from hyperhive.trial import Trial, TrialStatus, end_event, report_event, submit_event


def apply_outcome(trial: Trial, fut: Future, n_objectives: int) -> None:
    """Copy the outcome a future resolved to onto ``trial``.

    An executor error loses the trial; a done trial with the wrong number of
    objective values fails.
    """
    try:
        out: TrialOutcome = fut.result()
    except BaseException as exc:  # noqa: BLE001 - an executor error loses the trial
        out = TrialOutcome(trial.id, TrialStatus.LOST, reason=f"executor error: {exc!r}")
    vals = out.objective
    n_vals = 0 if vals is None else (len(vals) if isinstance(vals, tuple) else 1)
    if out.status == TrialStatus.DONE and n_vals != n_objectives:
        out.status, out.objective = TrialStatus.FAILED, None
        out.reason = (
            f"objective returned {n_vals} value(s) but the search has {n_objectives} direction(s)"
        )
    trial.status, trial.reason = out.status, out.reason
    trial.objective, trial.constraints = out.objective, out.constraints
    trial.metadata, trial.traceback = out.metadata, out.traceback
    trial.started, trial.worker, trial.host = out.started, out.worker, out.host
    trial.finished = out.finished if out.finished is not None else time.time()


@dataclass
class Retry:
    """A configuration waiting to be submitted (a re-run, an initial point, or held)."""

    config: dict[str, Any]
    attempt: int
    retry_of: int | None


@dataclass
class Engine:
    """Mutable state of one search call."""

    state: RunState
    optimizer: Optimizer
    executor: Executor
    max_evals: int | None
    timeout: float | None
    trial_timeout: float | None
    max_failures: int | None
    max_retries: int
    callbacks: list[CallbackLike]
    on_progress: Callable[[dict[str, Any]], None] | None
    inbox: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)
    in_flight: dict[int, Trial] = field(default_factory=dict)
    retries: deque[Retry] = field(default_factory=deque)
    initial: deque[dict[str, Any]] = field(default_factory=deque)
    slots_per_trial: Callable[[dict[str, Any]], int] | None = None
    slots: dict[int, int] = field(default_factory=dict)
    held: deque[Retry] = field(default_factory=deque)
    pending_events: list[dict[str, Any]] = field(default_factory=list)
    view: SearchState | None = None
    start: float = 0.0
    busy: float = 0.0
    stop_reason: str | None = None
    cancel_reason: str | None = None
    #: Configurations asked ahead while the workers were busy (see :meth:`ask_ahead`).
    ready: list[dict[str, Any]] = field(default_factory=list)

    # -- bookkeeping -------------------------------------------------------------
    def sink(self, trial_id: int, step: int | None, value: Any, t: float) -> None:
        self.inbox.put(("report", trial_id, step, value, t))

    def _on_done(self, trial_id: int, fut: Future) -> None:
        self.inbox.put(("done", trial_id, fut))

    def counted(self) -> int:
        return self.view.counted if self.view else 0

    def remaining(self) -> int | None:
        if self.max_evals is None:
            return None
        return self.max_evals - self.counted() - len(self.in_flight)

    # -- submitting ----------------------------------------------------------------
    def need(self, config: dict[str, Any]) -> int:
        """Worker slots one trial of ``config`` occupies (1 unless ``slots_per_trial`` says)."""
        if self.slots_per_trial is None:
            return 1
        n = int(self.slots_per_trial(config))
        return max(1, min(n, self.executor.workers))

    def fill(self) -> None:
        """Submit new trials while worker slots and budget allow (one atomic journal write)."""
        queued = self.executor.queue_slots() if self.slots_per_trial is None else 0
        free = self.executor.workers + queued - sum(self.slots.values())
        rem = self.remaining()
        n = free if rem is None else min(free, rem)
        events = self.pending_events
        self.pending_events = []
        picks: list[tuple[dict[str, Any], int]] = []

        def take(item: Retry) -> bool:
            nonlocal free, n
            need = self.need(item.config)
            if need > free:
                self.held.appendleft(item)
                return False
            event = submit_event(None, item.config, attempt=item.attempt, retry_of=item.retry_of)
            picks.append((event, need))
            free -= need
            n -= 1
            return True

        blocked = False
        while n > 0 and not blocked and (self.held or self.retries or self.initial):
            if self.held:
                item = self.held.popleft()
            elif self.retries:
                item = self.retries.popleft()
            else:
                item = Retry(self.initial.popleft(), 0, None)
            blocked = not take(item)
        if n > 0 and not blocked:
            pending = list(self.in_flight.values())
            if self.slots_per_trial is None:
                early, self.ready = self.ready[:n], self.ready[n:]
                fresh = (
                    self.optimizer.ask(n - len(early), pending=pending) if n > len(early) else []
                )
                for cfg in (*early, *fresh):
                    take(Retry(cfg, 0, None))
            else:  # one at a time: how many fit depends on each configuration's slots
                while n > 0:
                    (cfg,) = self.optimizer.ask(1, pending=pending)
                    if not take(Retry(cfg, 0, None)):
                        break
                    pending.append(Trial(id=-len(picks), config=cfg, status=TrialStatus.RUNNING))
        events.extend(e for e, _ in picks)
        created = self.state.commit(events)
        for t, (_, need) in zip(created, picks, strict=True):
            self.in_flight[t.id] = t
            self.slots[t.id] = need
            task = TrialTask(
                trial_id=t.id,
                config=dict(t.config),
                seed=t.seed,
                artifact_dir=self.state.artifact_dir(t.id),
                timeout=self.trial_timeout,
            )
            fut = self.executor.submit(task)
            fut.add_done_callback(lambda f, tid=t.id: self._on_done(tid, f))

    def ask_ahead(self) -> None:
        """While every worker is busy and no result waits, ask the next configuration.

        Only for optimizers whose ask is costly (``Optimizer.ask_ahead``), with more than
        one worker (a serial search stays step-by-step deterministic) and while the budget
        leaves room for another trial. The worker that frees next then gets it at once
        instead of waiting for the ask; it was proposed without the result that freed
        the worker, as if one more trial had been pending.
        """
        if (
            self.ready
            or not self.optimizer.ask_ahead
            or self.executor.workers < 2
            or self.slots_per_trial is not None
            or not self.inbox.empty()
        ):
            return
        rem = self.remaining()
        if rem is not None and rem <= 0:
            return
        self.ready = self.optimizer.ask(1, pending=list(self.in_flight.values()))

    # -- receiving -----------------------------------------------------------------
    def drain(self, wait: float) -> list[Trial]:
        """Collect reports and finished trials; block up to ``wait`` seconds for the first."""
        finished: list[Trial] = []
        try:
            item = self.inbox.get(timeout=max(wait, 0.0)) if wait > 0 else self.inbox.get_nowait()
        except queue.Empty:
            return finished
        while True:
            if item[0] == "report":
                _, tid, step, value, t = item
                if tid in self.state.trials:
                    self.pending_events.append(report_event(tid, step, value, t))
            else:
                _, tid, fut = item
                trial = self._finish(tid, fut)
                if trial is not None:
                    finished.append(trial)
            try:
                item = self.inbox.get_nowait()
            except queue.Empty:
                return finished

    def _finish(self, tid: int, fut: Future) -> Trial | None:
        trial = self.in_flight.pop(tid, None)
        self.slots.pop(tid, None)
        if trial is None:
            return None
        apply_outcome(trial, fut, len(self.state.directions))
        if trial.status == TrialStatus.CANCELLED and self.cancel_reason:
            trial.reason = self.cancel_reason
        if trial.started is not None:
            self.busy += max(0.0, trial.finished - trial.started)
        self.pending_events.append(end_event(trial))
        if trial.status == TrialStatus.LOST and trial.attempt < self.max_retries:
            self.retries.append(Retry(dict(trial.config), trial.attempt + 1, trial.id))
        return trial

    def account(self, finished: list[Trial]) -> None:
        """Commit, tell the optimizer, update the view, run callbacks."""
        view = self.view
        if view is None:  # pragma: no cover - set in run()
            return
        view.tally(finished)
        self.optimizer.tell(finished)
        view.elapsed = time.monotonic() - self.start
        for t in finished:
            for cb in self.callbacks:
                cb(t, view)

    # -- the loop ----------------------------------------------------------------------
    def done_reason(self, flag: StopFlag) -> str | None:
        view = self.view
        if view is None:  # pragma: no cover
            return None
        if flag:
            return f"interrupted ({flag.signal})"
        if view.stop_reason:
            return view.stop_reason
        if self.max_failures is not None and view.failures >= self.max_failures:
            return f"max_failures={self.max_failures} reached"
        if self.timeout is not None and time.monotonic() - self.start >= self.timeout:
            return f"timeout={self.timeout} s reached"
        if self.max_evals is not None and view.counted >= self.max_evals and not self.in_flight:
            return "max_evals reached"
        return None

    def progress(self, force: bool = False) -> None:
        if self.on_progress is None:
            return
        now = time.time()
        elapsed = time.monotonic() - self.start
        # the oldest `workers` of the trials in flight run; the others wait in a queue
        since = sorted(t.submitted or now for t in self.in_flight.values())
        running_busy = sum(now - s for s in since[: self.executor.workers])
        denom = self.executor.workers * elapsed
        view = self.view
        self.on_progress(
            {
                "counted": view.counted if view else 0,
                "failures": view.failures if view else 0,
                "running": len(self.in_flight),
                "max_evals": self.max_evals,
                "best": None if view is None or view.best is None else view.best.objective,
                "elapsed": elapsed,
                # an estimate (a queued trial's wait may be counted): at most 1
                "utilization": min(1.0, (self.busy + running_busy) / denom) if denom > 0 else 0.0,
                "final": force,
            }
        )

    def cancel_all(self, reason: str) -> list[Trial]:
        """End every trial in flight as cancelled (waiting briefly for executors to confirm)."""
        self.cancel_reason = reason
        for tid in list(self.in_flight):
            with contextlib.suppress(Exception):
                self.executor.cancel(tid)
        deadline = time.monotonic() + 5.0
        finished: list[Trial] = []
        while self.in_flight and time.monotonic() < deadline:
            finished.extend(self.drain(0.2))
        now = time.time()
        for tid, t in list(self.in_flight.items()):
            t.status = TrialStatus.CANCELLED
            t.reason = reason
            t.finished = now
            self.pending_events.append(end_event(t))
            finished.append(t)
            del self.in_flight[tid]
            self.slots.pop(tid, None)
        return finished

    def run(self) -> str:
        if not self.start:  # set by the caller when the search call began
            self.start = time.monotonic()
        flag = StopFlag()
        last_progress = 0.0
        with stop_on_signals(flag):
            reason = self.done_reason(flag)
            while reason is None:
                if not flag and self.view and not self.view.stop_reason:
                    self.fill()
                if not self.in_flight:
                    reason = self.done_reason(flag) or "the optimizer proposed no more trials"
                    break
                if not flag and self.view and not self.view.stop_reason:
                    self.ask_ahead()
                wait = 0.5
                if self.timeout is not None:
                    wait = min(wait, max(0.0, self.timeout - (time.monotonic() - self.start)))
                finished = self.drain(wait)
                if finished:
                    self.state.commit(self.pending_events)
                    self.pending_events = []
                    self.account(finished)
                if time.monotonic() - last_progress > 0.25:
                    self.progress()
                    last_progress = time.monotonic()
                reason = self.done_reason(flag)
                if reason is None and self.max_evals is not None and self.remaining() == 0:
                    continue
            if self.in_flight:
                cancelled = self.cancel_all(f"search ended: {reason}")
                self.state.commit(self.pending_events)
                self.pending_events = []
                self.account([t for t in cancelled if t.status != TrialStatus.CANCELLED])
            elif self.pending_events:
                self.state.commit(self.pending_events)
                self.pending_events = []
        self.progress(force=True)
        return reason
