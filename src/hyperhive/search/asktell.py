"""Durable ask/tell: ``hh.Run``, for users who launch trials themselves."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hyperhive.executors import TrialOutcome
from hyperhive.executors.runner import HOST, classify
from hyperhive.optimizers import Optimizer, get_optimizer
from hyperhive.search.decisions import outcome_event
from hyperhive.search.options import check_initial_points, check_stopper, normalize_directions
from hyperhive.search.result import Result
from hyperhive.search.state import RunState, finish_order
from hyperhive.search.warm import warm_trials
from hyperhive.space import Space, as_space
from hyperhive.stoppers import Stopper
from hyperhive.storage.rungs import rungs_for
from hyperhive.trial import Trial, TrialStatus, report_event, submit_event

__all__ = ["Run"]


class Run:
    """A durable ask/tell search, for users who launch trials themselves (e.g. job arrays).

    Every ``ask`` and ``tell`` is journaled in ``run_dir`` at once, so several
    processes may share one run directory, and a run reopened later continues
    where it was: finished trials are told to the optimizer again.

    Args:
        space: the search space.
        run_dir: a folder for the journal; None keeps the run in memory.
        optimizer: a name or an :class:`hyperhive.optimizers.Optimizer`.
        direction: ``"minimize"``, ``"maximize"`` or a list of them.
        seed: the run's seed (None draws one, or takes the recorded one).
        initial_points: configurations the first asks return (e.g. a known good
            one), in order, skipping those the run already holds; they count as
            trials.
        warm_start: an earlier run (its directory, or a :class:`Result`) whose
            finished trials the optimizer learns from before its first proposal
            (see ``hh.search``); they are not trials of this run.
        stopper: None, a stopper's name or a :class:`hyperhive.stoppers.Stopper`;
            :meth:`report` asks it whether a trial should stop. Its rungs live in
            the run (shared by every process on ``run_dir``).

    Example:
        >>> run = hh.Run(space, run_dir="runs/arr")       # doctest: +SKIP
        >>> trial = run.ask()
        >>> run.tell(trial, train(**trial.config))
    """

    def __init__(
        self,
        space: Any,
        run_dir: str | Path | None = None,
        optimizer: str | Optimizer = "auto",
        direction: str | list[str] = "minimize",
        seed: int | None = None,
        initial_points: Sequence[Mapping[str, Any]] | None = None,
        warm_start: str | Path | Result | None = None,
        stopper: str | Stopper | None = None,
    ) -> None:
        directions = normalize_directions(direction)
        self.stopper = check_stopper(stopper)
        self.optimizer = get_optimizer(optimizer)
        space_obj = as_space(space)
        self._initial = check_initial_points(initial_points, space_obj)
        warm = warm_trials(warm_start, space_obj, directions) if warm_start is not None else []
        self._state = RunState(space_obj, directions, run_dir, seed, self.optimizer.settings())
        self._state.load()
        self.optimizer.setup(self._state.space, directions, seed=self._state.seed)
        if warm:
            self.optimizer.warm_start(warm)
        self.optimizer.tell(self._state.finished_in_order())
        self._told = {t.id for t in self._state.trials.values() if t.status.finished}
        if self.stopper is not None:
            self.stopper.setup(
                directions, seed=self._state.seed, rungs=rungs_for(self._state.store)
            )

    @property
    def space(self) -> Space:
        """The search space."""
        return self._state.space

    @property
    def seed(self) -> int:
        """The run's seed."""
        return self._state.seed

    def refresh(self) -> None:
        """Read what other processes wrote to the run since the last call."""
        changed = self._state.load()
        newly = finish_order(t for t in changed if t.status.finished and t.id not in self._told)
        self._told.update(t.id for t in newly)
        self.optimizer.tell(newly)

    def ask(self) -> Trial:
        """A new trial (journaled as running); its ``config``, ``id`` and ``seed`` are set."""
        self.refresh()
        if self._initial:  # skip the points the run already holds (another process)
            held = [t.config for t in self._state.trials.values()]
            while self._initial and self._initial[0] in held:
                self._initial.pop(0)
        if self._initial:
            config = self._initial.pop(0)
        else:
            pending = [t for t in self._state.trials.values() if not t.status.finished]
            (config,) = self.optimizer.ask(1, pending=pending)
        (trial,), _ = self._state.commit([submit_event(None, config)])
        return trial

    def artifact_dir(self, trial: Trial | int) -> Path | None:
        """The trial's artifact folder (None in memory)."""
        tid = trial.id if isinstance(trial, Trial) else int(trial)
        d = self._state.artifact_dir(tid, create=True)
        return Path(d) if d is not None else None

    def report(self, trial: Trial | int, value: float | Sequence[float], step: int) -> bool:
        """Record an intermediate value of a running trial, and say whether to stop it.

        The report is journaled (as ``hh.report`` inside a search); the run's stopper
        then decides. Stop the trial's training when this returns True, and
        :meth:`tell` its last value with ``status="stopped"``.

        Example:
            >>> for epoch in range(1, 28):                  # doctest: +SKIP
            ...     loss = train_one_epoch()
            ...     if run.report(trial, loss, step=epoch):
            ...         run.tell(trial, loss, status="stopped")
            ...         break
            ... else:
            ...     run.tell(trial, loss)

        Args:
            trial: the trial (or its id) from :meth:`ask`.
            value: a float, or one float per objective.
            step: the step (epoch) reached, from 1.

        Returns:
            True to stop the trial now; always False without a stopper.

        Raises:
            ValueError: for an unknown trial id, a trial that already ended, a step
                below 1, or a wrong number of values.
        """
        tid = trial.id if isinstance(trial, Trial) else trial
        if isinstance(step, bool) or not isinstance(step, int) or step < 1:
            raise ValueError(f"report(step=...) must be a positive integer, got step={step!r}")
        self._state.load()
        record = self._state.trials.get(int(tid)) if isinstance(tid, int) else None
        if record is None:
            raise ValueError(f"report(trial=...) got an unknown trial id {tid!r}")
        if record.status.finished:
            raise ValueError(f"trial {tid} already ended with status {record.status.value!r}")
        stored = tuple(float(v) for v in value) if isinstance(value, Sequence) else float(value)
        if self.stopper is not None:
            self.stopper.losses(stored)  # checks the number of values before journaling
        self._state.commit([report_event(record.id, step, stored, time.time())])
        if self.stopper is None:
            return False
        return self.stopper.report(record.id, stored, step)

    def tell(
        self,
        trial: Trial | int,
        value: Any = None,
        *,
        status: TrialStatus | str | None = None,
        reason: str | None = None,
    ) -> Trial:
        """Record the result of a trial.

        Args:
            trial: the trial (or its id) from :meth:`ask`.
            value: what the objective returned (float, sequence or mapping).
            status: force a status (e.g. ``"failed"``) instead of judging ``value``;
                with ``"stopped"`` (a trial :meth:`report` said to stop) ``value``, its
                last reported value, is kept as its objective.
            reason: why, for a forced status.

        Raises:
            ValueError: for an unknown trial id or a trial that already ended.
        """
        tid = trial.id if isinstance(trial, Trial) else trial
        self._state.load()
        record = self._state.trials.get(int(tid)) if isinstance(tid, int) else None
        if record is None:
            raise ValueError(f"tell(trial=...) got an unknown trial id {tid!r}")
        if record.status.finished:
            raise ValueError(f"trial {tid} already ended with status {record.status.value!r}")
        fields: dict[str, Any]
        if status is not None:
            st, fields = TrialStatus(status), {"reason": reason}
            if st == TrialStatus.STOPPED and value is not None:  # stopped: keep its value
                _, fields = classify(value)
                fields["reason"] = reason or "stopped early by a stopper"
        else:
            st, fields = classify(value)
        outcome = TrialOutcome(
            record.id,
            st,
            objective=fields.get("objective"),
            constraints=fields.get("constraints"),
            metadata=fields.get("metadata") or {},
            reason=fields.get("reason"),
            started=record.started or record.submitted,
            finished=time.time(),
            worker=record.worker,
            host=record.host or HOST,
        )
        self._state.commit([outcome_event(outcome, len(self._state.directions))])
        self._told.add(record.id)
        self.optimizer.tell([record])
        return record

    def result(self) -> Result:
        """The run so far as a :class:`hyperhive.Result`."""
        self.refresh()
        return self._state.result(optimizer=self.optimizer)
