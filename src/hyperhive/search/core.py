"""The one search loop, shared by ``hh.search``, ``hh.worker`` and (its records) ``hh.Run``.

:class:`Loop` keeps the executor's workers busy: it asks the optimizer, creates
trials through its :class:`~hyperhive.search.policy.CommitPolicy`, submits them,
collects reports and outcomes, journals them, and accounts for what ended (the
optimizer is told, callbacks run, budgets and utilization are tallied). Done
reasons, progress, draining, accounting and the wind-down (cancel or release,
then wait) exist only here. What differs between a central search and a
decentralized peer is the policy: how trials are created and how events reach
the journal (one central commit, or atomic claims and reads of a shared store).

Trial records change only by applying journal events: the loop builds the ``end``
event of a trial from its outcome (:func:`~hyperhive.search.decisions.outcome_event`),
commits it, and the trial table applies it (:meth:`Loop.flush` is the one place
pending events are committed; :meth:`Loop.absorb` the one place ended trials are
accounted for).

Hooks for what comes next:

- Stoppers decide on live reports in :meth:`Loop.drain`, where each report event
  is built (:meth:`Loop.decide`): the stopper sees the report after it is queued for
  the journal, and on "stop" the loop calls ``self.executor.request_stop(trial_id)``
  once; the trial's outcome then arrives as ``stopped``. The stopper is bound in
  :meth:`Loop.begin` to the run's shared rung store
  (:func:`~hyperhive.storage.rungs.rungs_for`), so peers and resumed runs see the
  same rungs.

Rules that live here:

- Crash loops end: a trial whose worker died (a ``lost`` outcome) is re-run up to
  ``max_retries`` times; the death after that ends it ``failed`` with the worker's
  fate as the reason (:meth:`Loop.finish`), so it counts toward ``max_evals`` and
  ``max_failures`` and the optimizer learns that the configuration fails.
  :meth:`Loop.deaths` counts the deaths of a configuration along its chain of re-runs;
  trials lost through no fault of their own (a dead driver, a stopped peer:
  :meth:`CommitPolicy.always_retry <hyperhive.search.policy.CommitPolicy.always_retry>`)
  are always re-run and do not count. :meth:`Loop.should_retry` is the one decision
  whether a ``lost`` trial is re-run.
- One driver per run: the policy takes the run's lock in ``begin``
  (:meth:`hyperhive.search.policy.CentralCommit.begin`) and gives it up in ``close``,
  called where :meth:`Loop.drive` returns.
"""

from __future__ import annotations

import contextlib
import logging
import math
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from functools import partial
from typing import TYPE_CHECKING, Any

from hyperhive.executors import Executor, TrialOutcome, TrialTask
from hyperhive.optimizers import Optimizer
from hyperhive.search.callbacks import SearchState
from hyperhive.search.decisions import (
    Pick,
    crash_reason,
    fill_count,
    finish_order,
    outcome_event,
    resolved,
    utilization,
)
from hyperhive.search.options import LoopOptions, ProgressHook, thread_limits
from hyperhive.search.signals import StopFlag, stop_on_signals
from hyperhive.search.state import RunState
from hyperhive.trial import Trial, TrialStatus, finish_event, report_event

if TYPE_CHECKING:
    from hyperhive.search.policy import CommitPolicy

__all__ = ["Loop"]

logger = logging.getLogger("hyperhive")


class Loop:
    """The state of one search loop (a central search or one peer).

    Args:
        state: the run (store and trial table).
        optimizer: set up already.
        executor: not started yet (:meth:`drive` starts it).
        policy: how trials are created and events committed.
        options: budgets, limits, callbacks.
        on_progress: called with a progress dict about four times a second.
        start: ``time.monotonic()`` when the call began (the timeout counts from it).
    """

    def __init__(
        self,
        state: RunState,
        optimizer: Optimizer,
        executor: Executor,
        policy: CommitPolicy,
        options: LoopOptions,
        on_progress: ProgressHook | None = None,
        start: float | None = None,
    ) -> None:
        self.state, self.optimizer, self.executor = state, optimizer, executor
        self.policy, self.options, self.on_progress = policy, options, on_progress
        self.view = SearchState(directions=list(state.directions))
        self.start = time.monotonic() if start is None else start
        self.inbox: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        self.in_flight: dict[int, Trial] = {}  # this loop's trials, until their outcome
        self.open: dict[int, Trial] = {}  # every trial of the run not ended in the table
        self.slots: dict[int, int] = {}
        self.queue: deque[Pick] = deque()  # re-runs and held picks, before anything else
        self.initial: deque[dict[str, Any]] = deque()
        self.ready: list[dict[str, Any]] = []  # asked ahead (see ask_ahead)
        self.pending_events: list[dict[str, Any]] = []
        self.told: set[int] = set()
        self.retried: set[int] = set()
        self.released: set[int] = set()
        self.release_as: tuple[TrialStatus, str] | None = None
        self.remote_stop: str | None = None
        self.busy = 0.0
        self.stopper = options.stopper
        self.stop_asked: set[int] = set()  # trials the stopper asked to stop
        self.report_counts: dict[int, int] = {}  # reports without a step, per trial
        self.thread = threading.get_ident()  # the loop's thread (set again by drive)

    # -- the journal ----------------------------------------------------------------
    def sink(self, trial_id: int, step: int | None, value: Any, t: float) -> None:
        """Where the executor delivers intermediate reports (any thread). A report made
        in the loop's own thread (a serial executor runs the trial inside ``submit``) is
        taken at once, so that a stopper can stop the trial while it runs."""
        if threading.get_ident() == self.thread:
            self.take_report(trial_id, step, value, t)
        else:
            self.inbox.put(("report", trial_id, step, value, t))

    def take_report(self, trial_id: int, step: int | None, value: Any, t: float) -> None:
        """Queue a report event for the journal, then let the stopper decide on it;
        reports of trials the run does not know (a stale worker) are dropped."""
        if trial_id in self.state.trials:
            self.pending_events.append(report_event(trial_id, step, value, t))
            self.decide(trial_id, step, value)

    def flush(self, extra: Sequence[dict[str, Any]] = ()) -> list[Trial]:
        """Commit the pending events (and ``extra``) and account for what they ended.

        Returns the trials created by ``extra``'s ``submit`` events.
        """
        events = [*self.pending_events, *extra]
        self.pending_events = []
        if not events:
            return []
        created, changed = self.policy.commit(events)
        self.absorb(changed)
        return created

    def absorb(self, changed: Iterable[Trial], replay: bool = False) -> None:
        """Take in trials the table changed: track open and re-run trials, account for
        those that ended (in the order they finished). ``replay``: trials that ended
        before this loop began (told to the optimizer, not passed to callbacks)."""
        ended: list[Trial] = []
        for t in changed:
            if t.retry_of is not None:
                self.mark_retried(t.retry_of)
            if not t.status.finished:
                self.open[t.id] = t
                continue
            self.open.pop(t.id, None)
            if t.id in self.told:
                continue
            self.told.add(t.id)
            ended.append(t)
            if t.id in self.in_flight:
                logger.warning(
                    "%s: trial %d ended elsewhere (%s); its late result stays in the journal "
                    "but does not count",
                    self.policy.name,
                    t.id,
                    t.reason,
                )
        for t in finish_order(ended):
            if self.should_retry(t):
                self.queue.append(Pick(dict(t.config), t.attempt + 1, t.id))
        self.account(finish_order(ended), callbacks=not replay)

    def mark_retried(self, trial_id: int) -> None:
        """Note that ``trial_id`` has a re-run (any peer's); drop a queued one."""
        if trial_id in self.retried:
            return
        self.retried.add(trial_id)
        if any(p.retry_of == trial_id for p in self.queue):
            self.queue = deque(p for p in self.queue if p.retry_of != trial_id)

    def should_retry(self, t: Trial) -> bool:
        """Whether a trial that ended is re-run: ``lost`` ones whose configuration's
        worker died at most ``max_retries`` times (:meth:`deaths`), and those the policy
        always re-runs (trials a dead driver or a stopped peer left)."""
        if t.status != TrialStatus.LOST or t.id in self.retried:
            return False
        return self.policy.always_retry(t) or self.deaths(t) <= self.options.max_retries

    def deaths(self, t: Trial) -> int:
        """How often a worker died running ``t``'s configuration: the trials of its chain
        of re-runs (``t`` and the trials it re-runs) that ended ``lost``, except those
        lost through no fault of their own (:meth:`CommitPolicy.always_retry`)."""
        n, seen = 0, set()
        cur: Trial | None = t
        while cur is not None and cur.id not in seen:
            seen.add(cur.id)
            if cur.status == TrialStatus.LOST and not self.policy.always_retry(cur):
                n += 1
            cur = None if cur.retry_of is None else self.state.trials.get(cur.retry_of)
        return n

    def account(self, ended: list[Trial], callbacks: bool = True) -> None:
        """Tally, tell the optimizer, run callbacks (not for trials the wind-down ended)."""
        view = self.view
        view.tally(ended)
        if ended:
            self.optimizer.tell(ended)
        view.elapsed = time.monotonic() - self.start
        if not callbacks:
            return
        for t in ended:
            if t.id in self.released:
                continue
            for cb in self.options.callbacks:
                cb(t, view)

    # -- submitting -----------------------------------------------------------------
    def need(self, config: dict[str, Any]) -> int:
        """Worker slots one trial of ``config`` occupies (1 unless ``slots_per_trial`` says)."""
        if self.options.slots_per_trial is None:
            return 1
        n = int(self.options.slots_per_trial(config))
        return max(1, min(n, self.executor.workers))

    def room(self) -> int | None:
        """Trials the budget still allows to create (None: no budget)."""
        if self.options.max_evals is None:
            return None
        return self.options.max_evals - self.view.counted - len(self.open)

    def pending(self) -> list[Trial]:
        """Trials running anywhere in the run (for the optimizer's ``pending``)."""
        return [*self.open.values(), *(t for i, t in self.in_flight.items() if i not in self.open)]

    def fill(self) -> None:
        """Create and submit trials while worker slots and the budget allow."""
        per_trial = self.options.slots_per_trial is not None
        queued = 0 if per_trial else self.executor.queue_slots()
        free = self.executor.workers + queued - sum(self.slots.values())
        n = fill_count(self.executor.workers, queued, sum(self.slots.values()), self.room())
        picks: list[tuple[Pick, int]] = []

        def take(item: Pick) -> bool:
            nonlocal free, n
            need = self.need(item.config)
            if need > free:
                self.queue.appendleft(item)
                return False
            picks.append((item, need))
            free -= need
            n -= 1
            return True

        blocked = False
        while n > 0 and not blocked and (self.queue or self.initial):
            item = self.queue.popleft() if self.queue else Pick(self.initial.popleft())
            blocked = not take(item)
        if n > 0 and not blocked:
            for item in self.policy.reclaimable(self, n):
                if n <= 0 or not take(item):
                    break
        if n > 0 and not blocked:
            pending = self.pending()
            if not per_trial:
                early, self.ready = self.ready[:n], self.ready[n:]
                fresh = (
                    self.optimizer.ask(n - len(early), pending=pending) if n > len(early) else []
                )
                for cfg in (*early, *fresh):
                    take(Pick(cfg))
            else:  # one at a time: how many fit depends on each configuration's slots
                while n > 0:
                    (cfg,) = self.optimizer.ask(1, pending=pending)
                    if not take(Pick(cfg)):
                        break
                    pending.append(Trial(id=-len(picks), config=cfg, status=TrialStatus.RUNNING))
        for t, need in self.policy.create(self, picks):
            self.launch(t, need)

    def launch(self, t: Trial, need: int) -> None:
        """Hand a created trial to the executor."""
        self.in_flight[t.id] = t
        self.open[t.id] = t
        self.slots[t.id] = need
        if t.retry_of is not None:
            self.mark_retried(t.retry_of)
        task = TrialTask(
            trial_id=t.id,
            config=dict(t.config),
            seed=t.seed,
            artifact_dir=self.state.artifact_dir(t.id),
            timeout=self.options.trial_timeout,
        )
        fut = self.executor.submit(task)
        fut.add_done_callback(partial(self._on_done, t.id))

    def _on_done(self, trial_id: int, fut: Future[TrialOutcome]) -> None:
        self.inbox.put(("done", trial_id, fut))

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
            or self.options.slots_per_trial is not None
            or not self.inbox.empty()
        ):
            return
        rem = self.room()
        if rem is not None and rem <= 0:
            return
        self.ready = self.optimizer.ask(1, pending=self.pending())

    # -- receiving ------------------------------------------------------------------
    def drain(self, wait: float) -> int:
        """Collect reports and outcomes as pending events (blocking up to ``wait`` s for
        the first); returns how many of this loop's trials ended."""
        try:
            item = self.inbox.get(timeout=wait) if wait > 0 else self.inbox.get_nowait()
        except queue.Empty:
            return 0
        n = 0
        while True:
            if item[0] == "report":
                self.take_report(*item[1:])
            else:
                n += self.finish(item[1], item[2])
            try:
                item = self.inbox.get_nowait()
            except queue.Empty:
                return n

    def decide(self, trial_id: int, step: int | None, value: Any) -> None:
        """Ask the stopper about one report; on "stop", ask the executor to stop the trial
        (once). A report without a step counts as the trial's n-th report. A report the
        stopper cannot use (a wrong number of values) is logged and does not stop."""
        if self.stopper is None or trial_id in self.stop_asked or trial_id not in self.in_flight:
            return
        n = self.report_counts.get(trial_id, 0) + 1
        self.report_counts[trial_id] = n
        at = n if step is None else int(step)
        if at < 1:
            return
        try:
            stop = self.stopper.report(trial_id, value, at)
        except (TypeError, ValueError) as exc:
            logger.warning("stopper ignored a report of trial %d: %s", trial_id, exc)
            return
        if stop:
            self.stop_asked.add(trial_id)
            logger.debug("stopper: stop trial %d at step %d", trial_id, at)
            self.executor.request_stop(trial_id)

    def finish(self, trial_id: int, fut: Future[TrialOutcome]) -> int:
        """Build the ``end`` event of one of this loop's trials from its outcome; a
        ``lost`` outcome (the worker died) after ``max_retries`` re-runs ends it ``failed``."""
        trial = self.in_flight.pop(trial_id, None)
        if trial is None:
            return 0
        self.slots.pop(trial_id, None)
        self.report_counts.pop(trial_id, None)
        event = outcome_event(resolved(trial_id, fut), len(self.state.directions))
        if event["status"] == TrialStatus.LOST.value:  # its worker died
            died = self.deaths(trial) + 1  # the earlier deaths, and this one
            if died > self.options.max_retries:  # a crash loop ends: the trial failed
                why = crash_reason(event["reason"], died, self.options.max_retries)
                event.update(status=TrialStatus.FAILED.value, reason=why)
        if event["status"] == TrialStatus.CANCELLED.value and self.release_as is not None:
            status, reason = self.release_as
            event.update(status=status.value, reason=reason)
            self.released.add(trial_id)
        if event["started"] is not None:
            self.busy += max(0.0, event["finished"] - event["started"])
        self.pending_events.append(event)
        return 1

    # -- the loop -------------------------------------------------------------------
    def done_reason(self, flag: StopFlag) -> str | None:
        """Why the loop ends now, or None."""
        view, opts = self.view, self.options
        if flag:
            return f"interrupted ({flag.signal})"
        if view.stop_reason:
            return view.stop_reason
        if opts.max_failures is not None and view.failures >= opts.max_failures:
            return f"max_failures={opts.max_failures} reached"
        if opts.timeout is not None and time.monotonic() - self.start >= opts.timeout:
            return f"timeout={opts.timeout} s reached"
        if opts.max_evals is not None and view.counted >= opts.max_evals:
            if not any(tid in self.open for tid in self.in_flight):
                return "max_evals reached"
        if self.remote_stop:
            return f"stopped by another peer: {self.remote_stop}"
        return None

    def run(self) -> str:
        """Run until a done reason holds; wind down; returns the reason."""
        flag = StopFlag()
        last_progress, last_poll = 0.0, -math.inf
        with stop_on_signals(flag):
            while True:
                now = time.monotonic()
                if now - last_poll >= self.policy.poll:
                    last_poll = now
                    self.remote_stop = self.policy.remote_stop(self)
                if now - last_progress > 0.25:
                    self.progress()
                    last_progress = now
                reason = self.done_reason(flag)
                if reason is not None:
                    break
                self.fill()
                if not self.in_flight and not self.open:
                    reason = self.done_reason(flag) or "the optimizer proposed no more trials"
                    break
                self.ask_ahead()
                wait = self.policy.wait
                if self.options.timeout is not None:
                    left = self.options.timeout - (time.monotonic() - self.start)
                    wait = min(wait, max(0.0, left))
                if self.drain(wait) or not self.policy.batches_reports:
                    self.flush()
                self.absorb(self.policy.changes(self))
            self.wind_down(reason, flag)
        self.progress(final=True)
        return reason

    def wind_down(self, reason: str, flag: StopFlag) -> None:
        """End this loop's trials so that the run stays resumable: let them finish for
        the policy's grace (on a signal or timeout), then cancel or release them."""
        interrupted = bool(flag) or reason.startswith("timeout")
        grace = self.policy.grace if interrupted else 0.0
        if grace > 0 and self.in_flight:
            logger.info("%s: %s; letting trials finish for %.0f s", self.policy.name, reason, grace)
            deadline = time.monotonic() + grace
            while self.in_flight and time.monotonic() < deadline:
                self.drain(min(0.2, max(0.0, deadline - time.monotonic())))
                self.flush()
        self.policy.ended(self, reason)
        if self.in_flight:
            self.release_as = self.policy.release(reason, interrupted)
            for tid in list(self.in_flight):
                with contextlib.suppress(Exception):
                    self.executor.cancel(tid)
            deadline = time.monotonic() + 5.0
            while self.in_flight and time.monotonic() < deadline:
                self.drain(0.2)
            status, why = self.release_as
            now = time.time()
            for tid in list(self.in_flight):
                self.pending_events.append(finish_event(tid, status, reason=why, finished=now))
                self.released.add(tid)
                del self.in_flight[tid]
                self.slots.pop(tid, None)
        self.flush()
        self.absorb(self.policy.changes(self))

    def progress(self, final: bool = False) -> None:
        """Call ``on_progress`` with counts, the best value and utilization."""
        if self.on_progress is None:
            return
        now, view = time.time(), self.view
        elapsed = time.monotonic() - self.start
        since = [t.submitted or now for t in self.in_flight.values()]
        info: dict[str, Any] = {
            "counted": view.counted,
            "failures": view.failures,
            "running": len(self.in_flight),
            "max_evals": self.options.max_evals,
            "best": None if view.best is None else view.best.objective,
            "elapsed": elapsed,
            "utilization": utilization(self.busy, since, self.executor.workers, elapsed, now),
            "final": final,
        }
        info.update(self.policy.progress_info())
        self.on_progress(info)

    # -- the whole call -------------------------------------------------------------
    def begin(self, initial: Sequence[Mapping[str, Any]] = (), warm: Sequence[Trial] = ()) -> None:
        """Warm-start the optimizer, replay the run so far, queue the initial points
        the run does not hold yet."""
        if warm:
            self.optimizer.warm_start(list(warm))
        if self.stopper is not None:
            from hyperhive.storage.rungs import rungs_for

            self.stopper.setup(
                self.state.directions, seed=self.state.seed, rungs=rungs_for(self.state.store)
            )
        self.absorb(self.policy.begin(self), replay=True)
        held = [t.config for t in self.state.trials.values()]
        self.initial.extend(dict(c) for c in initial if c not in held)

    def drive(self, objective: Callable[[dict[str, Any]], Any]) -> str:
        """Start the executor (the optimizer prepares meanwhile), run, shut down."""
        opt, exe = self.optimizer, self.executor
        self.thread = threading.get_ident()
        # The optimizer's imports run beside the start-up of the workers, and are done
        # before the first ask that needs them (two threads importing the same modules
        # at once can see them half initialized). Not when workers are forked from this
        # process: a fork in the middle of an import can deadlock.
        if getattr(exe, "start_method", None) != "fork":
            opt.prepare_in_background()
        try:
            exe.start(objective, self.sink)
        finally:
            if not opt.prepares_lazily:
                opt.wait_prepared()
        opt.set_concurrency(exe.workers)
        try:
            with thread_limits(exe):
                return self.run()
        finally:
            exe.shutdown(wait=False)
            self.policy.close()
