"""What a search returns: the trials, the best one, the Pareto front."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hyperhive.trial import Trial, TrialStatus

if TYPE_CHECKING:
    import pandas as pd

    from hyperhive.space import Space


def minimization_matrix(trials: Sequence[Trial], directions: Sequence[str]) -> np.ndarray:
    """Objective values of done trials as an ``(n, k)`` array to minimize."""
    sign = np.array([1.0 if d == "minimize" else -1.0 for d in directions])
    rows = [np.asarray(t.values, dtype=float) * sign for t in trials]
    return np.vstack(rows) if rows else np.empty((0, len(directions)))


def pareto_mask(losses: np.ndarray) -> np.ndarray:
    """Boolean mask of the non-dominated rows of a loss matrix (all minimized)."""
    n = len(losses)
    mask = np.ones(n, dtype=bool)
    for i in range(n):
        if not mask[i]:
            continue
        dominated = np.all(losses <= losses[i], axis=1) & np.any(losses < losses[i], axis=1)
        if dominated.any():
            mask[i] = False
    return mask


class Result:
    """The outcome of a search: every trial, the best one and the Pareto front.

    Attributes:
        space: the search space.
        directions: one ``"minimize"``/``"maximize"`` per objective.
        run_dir: the run directory (None for an in-memory search).
        stop_reason: why the search ended (``"max_evals"``, ``"timeout"``, ...).
    """

    def __init__(
        self,
        trials: Iterable[Trial],
        space: Space,
        directions: Sequence[str],
        run_dir: str | Path | None = None,
        stop_reason: str | None = None,
        seed: int | None = None,
        incumbent_id: int | None = None,
    ) -> None:
        self.records: list[Trial] = sorted(trials, key=lambda t: t.id)
        self._incumbent_id = incumbent_id
        self.space = space
        self.directions = list(directions)
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.stop_reason = stop_reason
        self.seed = seed
        self._frame: pd.DataFrame | None = None

    # -- tables ------------------------------------------------------------------
    @property
    def trials(self) -> pd.DataFrame:
        """One row per trial: id, status, objective(s), ``p:<param>``, ``m:<metadata>``, times."""
        if self._frame is None:
            from hyperhive.storage import trials_frame

            self._frame = trials_frame(self.records, len(self.directions))
        return self._frame

    def __len__(self) -> int:
        return len(self.records)

    @property
    def done(self) -> list[Trial]:
        """Trials that ended with status ``done`` and are feasible."""
        k = len(self.directions)
        return [
            t
            for t in self.records
            if t.status == TrialStatus.DONE and t.values is not None and len(t.values) == k
        ]

    @property
    def n_counted(self) -> int:
        """Trials that count toward ``max_evals``."""
        return sum(1 for t in self.records if t.counted)

    def count(self, status: TrialStatus | str) -> int:
        """How many trials ended with ``status``."""
        status = TrialStatus(status)
        return sum(1 for t in self.records if t.status == status)

    # -- incumbents --------------------------------------------------------------
    @property
    def best(self) -> Trial | None:
        """The best done trial (feasible ones first); None if no trial succeeded.

        With a stopper, a trial it stopped early ends ``stopped`` and is not ``done``:
        the best is the best trial that ran to its end. Only when no trial did are the
        stopped trials that returned a value considered: those that reached the highest
        step, and the best of them (feasible ones first).

        Raises:
            ValueError: for several objectives, where "best" is a set: use
                :meth:`pareto_front`.
        """
        if len(self.directions) > 1:
            raise ValueError(
                f"this search has {len(self.directions)} objectives, so there is no single best "
                "trial; use result.pareto_front() for the non-dominated trials"
            )
        done = self.done or self._furthest_stopped()
        if not done:
            return None
        feasible = [t for t in done if t.feasible] or done
        sign = 1.0 if self.directions[0] == "minimize" else -1.0
        return min(feasible, key=lambda t: (sign * t.values[0], t.id))  # type: ignore[index]

    def _furthest_stopped(self) -> list[Trial]:
        """The stopped trials with a value that reported the highest step among them."""
        stopped = [
            t
            for t in self.records
            if t.status == TrialStatus.STOPPED and t.values is not None and len(t.values) == 1
        ]

        def last_step(t: Trial) -> int:
            return max((r.step for r in t.reports if r.step is not None), default=0)

        top = max((last_step(t) for t in stopped), default=0)
        return [t for t in stopped if last_step(t) == top]

    @property
    def incumbent(self) -> Trial | None:
        """The trial the optimizer recommends; :attr:`best` unless it says otherwise.

        With ``BO(incumbent="mean")`` (noisy objectives) it is the done trial with the
        best posterior mean of the model, which is less fooled by one lucky evaluation
        than the best observed value.
        """
        if self._incumbent_id is not None:
            for t in self.records:
                if t.id == self._incumbent_id:
                    return t
        return self.best

    def pareto_front(self) -> list[Trial]:
        """The non-dominated done trials (feasible ones when any are), ordered by id."""
        done = self.done
        feasible = [t for t in done if t.feasible] or done
        if not feasible:
            return []
        mask = pareto_mask(minimization_matrix(feasible, self.directions))
        return [t for t, keep in zip(feasible, mask, strict=True) if keep]

    def hypervolume(self, reference: Sequence[float]) -> float:
        """Hypervolume of the Pareto front, bounded by ``reference``.

        Args:
            reference: One value per objective in the objective's own units and
                direction (e.g. an upper bound of a minimized loss, a lower
                bound of a maximized accuracy); front points not strictly
                better in every objective add nothing.

        Raises:
            ValueError: If ``reference`` has the wrong length or is not finite.
        """
        from hyperhive.search.pareto import hypervolume

        if len(reference) != len(self.directions):
            raise ValueError(
                f"reference needs one value per objective ({len(self.directions)}), "
                f"got {len(reference)}"
            )
        sign = np.array([1.0 if d == "minimize" else -1.0 for d in self.directions])
        losses = minimization_matrix(self.pareto_front(), self.directions)
        return hypervolume(losses, sign * np.asarray(reference, dtype=float))

    def trajectory(self) -> list[tuple[int, float]]:
        """``(trial id, best value so far)`` for a single objective, in order of finishing."""
        if len(self.directions) != 1:
            raise ValueError("trajectory() is defined for a single objective")
        sign = 1.0 if self.directions[0] == "minimize" else -1.0
        out: list[tuple[int, float]] = []
        best = np.inf
        for t in sorted(self.done, key=lambda t: (t.finished or 0.0, t.id)):
            v = sign * t.values[0]  # type: ignore[index]
            best = min(best, v)
            out.append((t.id, sign * best))
        return out

    def summary(self) -> dict[str, Any]:
        """Counts per status, best value and stop reason, as a plain dict."""
        counts = {s.value: self.count(s) for s in TrialStatus if self.count(s)}
        out: dict[str, Any] = {
            "trials": len(self.records),
            "counted": self.n_counted,
            "status": counts,
            "stop_reason": self.stop_reason,
        }
        if len(self.directions) == 1:
            b = self.best
            out["best"] = None if b is None else {"id": b.id, "objective": b.objective}
        else:
            out["pareto_front"] = [t.id for t in self.pareto_front()]
        return out

    def report(self, path: str | Path) -> Path:
        """Write the self-contained HTML report of this run to ``path`` (the ``report``
        extra); see :func:`hyperhive.analysis.write_report`."""
        from hyperhive.analysis import write_report

        return write_report(self, path)

    def __repr__(self) -> str:
        s = self.summary()
        return (
            f"Result(trials={s['trials']}, counted={s['counted']}, "
            f"stop_reason={self.stop_reason!r})"
        )
