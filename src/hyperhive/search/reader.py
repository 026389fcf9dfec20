"""Reading a run back without resuming it (``hh.load``), and opening a shared store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hyperhive.search.result import Result
from hyperhive.space import Space
from hyperhive.storage import RunDir, Store, open_store
from hyperhive.streams import trial_seed

__all__ = ["load", "open_shared"]


def open_shared(store: str | Path | Store | None, run_dir: str | Path | None) -> Store:
    """The store peers share: ``store`` (a Redis run named after ``run_dir`` unless its
    URL has ``?run=``), or ``run_dir``'s SQLite journal.

    Raises:
        ValueError: neither is given.
    """
    if store is None:
        if run_dir is None:
            raise ValueError(
                "hh.worker needs a shared store: give store='redis://...' or a run_dir "
                "on a local disk (its SQLite journal)"
            )
        return RunDir(run_dir).store
    run = Path(run_dir).resolve().name if run_dir is not None else None
    return open_store(store, run=run or None)


def load(run_dir: str | Path | None, store: str | Store | None = None) -> Result:
    """Open a run and return its trials as a :class:`hyperhive.Result`, without resuming.

    Space, directions and seed come from ``run_dir`` (``space.json``, ``run.json``)
    when it holds them, else from the run record that peers keep in the store.

    Args:
        run_dir: the run directory.
        store: the run's store when it is not the run directory's journal (a URL such
            as ``"redis://host:6379/0"`` or a :class:`~hyperhive.storage.Store`).

    Raises:
        FileNotFoundError: when neither the run directory nor the store holds the run.
    """
    path = Path(run_dir) if run_dir is not None else None
    if store is None:
        if path is None or not RunDir.exists(path):
            raise FileNotFoundError(
                f"run_dir {str(path)!r} holds no hyperhive run (no journal found)"
            )
        st: Store = RunDir(path).store
    else:
        st = open_shared(store, run_dir)
    meta: Any
    if path is not None and (path / "run.json").is_file() and (path / "space.json").is_file():
        meta = json.loads((path / "run.json").read_text(encoding="utf-8"))
        space = Space.from_dict(json.loads((path / "space.json").read_text(encoding="utf-8")))
    else:
        meta = st.get_meta("run")
        if not isinstance(meta, dict) or "space" not in meta:
            raise FileNotFoundError(
                f"{st!r} holds no run record and {str(path)!r} no run.json; nothing to load"
            )
        space = Space.from_dict(meta["space"])
    seed = int(meta["seed"])
    trials = st.trials()
    for t in trials.values():
        if t.seed is None:
            t.seed = trial_seed(seed, t.id)
    return Result(trials.values(), space, meta["directions"], run_dir=path, seed=seed)
