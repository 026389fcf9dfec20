"""``OnlineEnsemble``: an ensemble kept current while a search runs (a search callback)."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

from hyperhive.ensemble.build import _check, build
from hyperhive.ensemble.ensemble import Ensemble, _pair
from hyperhive.ensemble.members import Member, has_member, load_member
from hyperhive.ensemble.outputs import MemberOutput
from hyperhive.storage import RunDir

__all__ = ["OnlineEnsemble"]

log = logging.getLogger(__name__)


class OnlineEnsemble:
    """A search callback that keeps an ensemble of the members saved so far.

    Pass it in ``hh.search(..., run_dir=..., callbacks=[online])``. As each trial
    ends, its member (if it saved one) is loaded and predicted on the validation data
    once; the ensemble is then re-selected from the cached predictions, so
    :attr:`ensemble` is usable at any moment, and a long search can be stopped with
    a calibrated ensemble in hand. A member that fails to load is logged and skipped:
    the search goes on. When a search is resumed, call :meth:`catch_up` to take in the
    trials that finished before.

    Args:
        run_dir: the search's run directory (where trials save their members).
        val_data: ``(x_val, y_val)``.
        size, selector, calibrate: as for :func:`hyperhive.ensemble.from_run`.
        allow_pickle: load pickled members (only for code you trust).

    Example:
        >>> online = ensemble.OnlineEnsemble("runs/uq", (x_val, y_val), size=5)
        >>> hh.search(objective, space, run_dir="runs/uq", callbacks=[online])  # doctest: +SKIP
        >>> online.ensemble.predict(x_test)  # doctest: +SKIP
    """

    def __init__(
        self,
        run_dir: str | os.PathLike[str],
        val_data: Any,
        *,
        size: int = 5,
        selector: str = "greedy",
        calibrate: str = "auto",
        allow_pickle: bool = False,
    ) -> None:
        _check(size, selector, calibrate)
        self.x, self.y = _pair(val_data, "val_data")
        self.run_dir = Path(run_dir)
        self.size, self.selector, self.calibrate = size, selector, calibrate
        self.allow_pickle = allow_pickle
        self._members: list[Member] = []
        self._outputs: list[MemberOutput] = []
        self._graphs: dict[str, Any] = {}
        self._ensemble: Ensemble | None = None
        self._lock = threading.Lock()

    @property
    def ensemble(self) -> Ensemble | None:
        """The current ensemble (None until a trial saved a usable member)."""
        return self._ensemble

    @property
    def candidates(self) -> int:
        """Members seen so far."""
        return len(self._members)

    def __call__(self, trial: Any, state: Any = None) -> None:
        """Take in a finished trial (the search calls this)."""
        status = getattr(trial.status, "value", trial.status)
        folder = self.run_dir / RunDir.TRIALS / str(trial.id)
        if status != "done" or not has_member(folder):
            return
        try:
            self.add(
                load_member(
                    folder, allow_pickle=self.allow_pickle, name=str(trial.id), graphs=self._graphs
                )
            )
        except Exception as exc:  # a member that fails is skipped; the search goes on
            log.warning("online ensemble: skipped the member of trial %s: %s", trial.id, exc)

    def catch_up(self) -> Ensemble | None:
        """Take in the done trials already in the run directory that were not seen yet
        (for a resumed search: trials finished before it are not passed to callbacks)."""
        from hyperhive.search import load

        if not RunDir.exists(self.run_dir):
            return self._ensemble
        seen = {m.name for m in self._members}
        for trial in load(self.run_dir).done:
            if str(trial.id) not in seen:
                self(trial)
        return self._ensemble

    def add(self, member: Member) -> Ensemble | None:
        """Add a member, re-select and return the current ensemble."""
        out = member.predict(self.x)
        with self._lock:
            if not out.finite():
                return self._ensemble
            self._members.append(member)
            self._outputs.append(out)
            self._ensemble = build(
                self._members,
                (self.x, self.y),
                size=self.size,
                selector=self.selector,
                calibrate=self.calibrate,
                outputs=self._outputs,
            )
            self._ensemble.info["run_dir"] = str(self.run_dir)
            return self._ensemble
