"""The run: a store, an optional run directory, the trial table, and the checks that keep
a run directory consistent across resumes. Shared by ``hh.search``, ``hh.Run`` and ``hh.load``."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hyperhive.search.options import check_run_meta, check_seed
from hyperhive.space import Space, as_space
from hyperhive.storage import MemoryStore, RunDir, Store, open_store
from hyperhive.streams import trial_seed
from hyperhive.trial import Trial, apply_event

if TYPE_CHECKING:
    from hyperhive.search.result import Result

logger = logging.getLogger("hyperhive")


def finish_order(trials: Iterable[Trial]) -> list[Trial]:
    """Trials in the order they finished (ties by id): the order the optimizer is told,
    live and on resume alike."""
    return sorted(trials, key=lambda t: (t.finished or 0.0, t.id))


class RunState:
    """The trials of one run, kept in step with its store.

    Args:
        space: the search space (anything :func:`hyperhive.space.as_space` takes).
        directions: objective directions.
        run_dir: a folder or :class:`~hyperhive.storage.RunDir` (durable), or None
            (in memory).
        seed: the run's seed; None draws one, or takes the recorded one on resume.
        optimizer_settings: recorded in ``run.json`` on creation.
        store: a store (or a URL for :func:`hyperhive.storage.open_store`) to use
            instead of the run directory's own journal; a Redis run is named after
            ``run_dir`` unless the URL has ``?run=NAME``.
    """

    def __init__(
        self,
        space: Any,
        directions: Sequence[str],
        run_dir: str | Path | RunDir | None,
        seed: int | None,
        optimizer_settings: Mapping[str, Any] | None = None,
        store: Store | str | None = None,
    ) -> None:
        self.space: Space = as_space(space)
        self.directions = list(directions)
        self.run_dir: RunDir | None = (
            run_dir if isinstance(run_dir, RunDir) or run_dir is None else RunDir(run_dir)
        )
        self.resumed = False
        check_seed(seed)
        if self.run_dir is not None:
            self.seed = self._check_run_dir(seed, optimizer_settings or {})
        else:
            self.seed = int(seed) if seed is not None else secrets.randbits(32)
        if isinstance(store, Store):
            self.store = store
        elif store is not None:
            name = self.run_dir.path.resolve().name if self.run_dir is not None else None
            self.store = open_store(store, run=name or None)
        elif self.run_dir is not None:
            self.store = self.run_dir.store
        else:
            self.store = MemoryStore()
        self.trials: dict[int, Trial] = {}
        self.seq = 0

    # -- run directory -----------------------------------------------------------
    def _check_run_dir(self, seed: int | None, optimizer_settings: Mapping[str, Any]) -> int:
        rd = self.run_dir
        if rd is None:  # pragma: no cover - guarded by caller
            raise RuntimeError("no run directory")
        meta = rd.read_json("run.json") if (rd.path / "run.json").exists() else None
        if meta is None:
            used = int(seed) if seed is not None else secrets.randbits(32)
            rd.write_json("space.json", self.space.to_dict())
            rd.write_run_meta(
                directions=self.directions, seed=used, optimizer=dict(optimizer_settings)
            )
            return used
        self.resumed = True
        recorded = {**meta, "space": rd.read_json("space.json")}
        return check_run_meta(
            recorded,
            self.space,
            self.directions,
            seed,
            f"run_dir {str(rd.path)!r}",
            "use a new run_dir, or the same space and direction to resume",
        )

    # -- trial table ---------------------------------------------------------------
    def load(self) -> list[Trial]:
        """Read events committed since the last call; returns trials that changed."""
        changed: dict[int, Trial] = {}
        for seq, event in self.store.events(self.seq):
            self.seq = seq
            t = self.apply(event)
            if t is not None:
                changed[t.id] = t
        return list(changed.values())

    def commit(self, events: list[dict[str, Any]]) -> tuple[list[Trial], list[Trial]]:
        """Append events to the store (one atomic batch), then apply them to the table.

        Returns:
            The trials created by ``submit`` events, in order, and every trial an
            event changed.
        """
        if not events:
            return [], []
        ids = self.store.append(events)
        created: list[Trial] = []
        changed: dict[int, Trial] = {}
        for event, tid in zip(events, ids, strict=True):
            t = self.apply({**event, "trial": tid})
            if t is not None:
                changed[t.id] = t
                if event["kind"] == "submit":
                    created.append(t)
        return created, list(changed.values())

    def apply(self, event: dict[str, Any]) -> Trial | None:
        """Apply one committed event to the table (the only way a trial record changes);
        a new trial's seed is derived from the run's seed and its id."""
        t = apply_event(self.trials, event)
        if t is not None and t.seed is None:
            t.seed = trial_seed(self.seed, t.id)
        return t

    def artifact_dir(self, trial_id: int, create: bool = False) -> str | None:
        """The trial's artifact folder (None in memory)."""
        if self.run_dir is None:
            return None
        return str(self.run_dir.artifact_dir(trial_id, create=create))

    def result(self, stop_reason: str | None = None, optimizer: Any = None) -> Result:
        """The run as a :class:`Result`; with a run directory, also writes ``results.csv``.

        ``optimizer``: its ``incumbent()`` (when it has one) becomes ``Result.incumbent``.
        """
        from hyperhive.search.result import Result

        incumbent = None
        pick = getattr(optimizer, "incumbent", None)
        if callable(pick) and len(self.directions) == 1:
            chosen = pick()
            incumbent = chosen.id if chosen is not None else None

        result = Result(
            self.trials.values(),
            self.space,
            self.directions,
            run_dir=self.run_dir.path if self.run_dir else None,
            stop_reason=stop_reason,
            seed=self.seed,
            incumbent_id=incumbent,
        )
        if self.run_dir is not None:
            self.run_dir.write_results(result.trials)
        return result

    def finished_in_order(self) -> list[Trial]:
        """Finished trials in the order they finished (for replaying an optimizer)."""
        return finish_order(t for t in self.trials.values() if t.status.finished)
