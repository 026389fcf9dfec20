"""The run directory: a durable, resumable search on disk.

Layout::

    <run>/journal.sqlite   the event journal (SQLiteStore), the source of truth
    <run>/space.json       the search space
    <run>/run.json         optimizer, directions, seed used, creation time, versions
    <run>/driver.log       the driver's log (RunDir.attach_log)
    <run>/driver.lock      held by the driver while it runs (RunDir.driver_lock)
    <run>/results.csv      the trial table, derived from the journal
    <run>/trials/<id>/     each trial's artifact folder

Every metadata file is written atomically (temporary file, fsync, rename).
"""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import json
import logging
import os
import platform
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hyperhive.storage.atomic import atomic_write_text
from hyperhive.storage.codec import dumps
from hyperhive.storage.lock import DriverLock
from hyperhive.storage.sqlite import JOURNAL_NAME, SQLiteStore

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["RunDir", "environment_versions"]

_DISTRIBUTIONS = {
    "numpy": "numpy",
    "scipy": "scipy",
    "pandas": "pandas",
    "ConfigSpace": "ConfigSpace",
    "sklearn": "scikit-learn",
}
_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def environment_versions() -> dict[str, str]:
    """Versions of hyperhive, Python and the scientific packages that are installed."""
    from hyperhive import __version__

    out = {"hyperhive": __version__, "python": platform.python_version()}
    for key, dist in _DISTRIBUTIONS.items():
        try:
            out[key] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


class RunDir:
    """A run directory (created if missing) and its files.

    Args:
        path: the folder.
        durability: passed to the journal's :class:`SQLiteStore`.

    Attributes:
        path: the folder, as a :class:`~pathlib.Path`.
    """

    JOURNAL = JOURNAL_NAME
    SPACE = "space.json"
    RUN = "run.json"
    LOG = "driver.log"
    LOCK = "driver.lock"
    RESULTS = "results.csv"
    TRIALS = "trials"

    def __init__(self, path: str | os.PathLike[str], durability: str = "normal") -> None:
        self.path = Path(path).expanduser()
        if self.path.exists() and not self.path.is_dir():
            raise NotADirectoryError(f"run directory {str(self.path)!r} is a file")
        self.path.mkdir(parents=True, exist_ok=True)
        self.durability = durability
        self._store: SQLiteStore | None = None
        self._lock = threading.Lock()

    @staticmethod
    def exists(path: str | os.PathLike[str]) -> bool:
        """True when ``path`` is a run directory holding a journal."""
        return (Path(path).expanduser() / JOURNAL_NAME).is_file()

    # -- paths --------------------------------------------------------------------
    @property
    def journal_path(self) -> Path:
        """``journal.sqlite``."""
        return self.path / self.JOURNAL

    @property
    def log_path(self) -> Path:
        """``driver.log``."""
        return self.path / self.LOG

    @property
    def lock_path(self) -> Path:
        """``driver.lock``."""
        return self.path / self.LOCK

    def driver_lock(self) -> DriverLock:
        """The one-driver-per-run lock of this folder (not taken yet; see
        :class:`~hyperhive.storage.lock.DriverLock`)."""
        return DriverLock(self.lock_path)

    @property
    def results_path(self) -> Path:
        """``results.csv``."""
        return self.path / self.RESULTS

    def artifact_dir(self, trial_id: int, create: bool = True) -> Path:
        """``trials/<id>/``, the trial's own folder (created unless ``create`` is False)."""
        if isinstance(trial_id, bool) or int(trial_id) != trial_id or trial_id < 0:
            raise ValueError(f"trial ids are non-negative integers, got {trial_id!r}")
        folder = self.path / self.TRIALS / str(int(trial_id))
        if create:
            folder.mkdir(parents=True, exist_ok=True)
        return folder

    # -- the journal ------------------------------------------------------------------
    @property
    def store(self) -> SQLiteStore:
        """The journal, opened on first use (closed by :meth:`close`)."""
        with self._lock:
            if self._store is None:
                self._store = SQLiteStore(self.journal_path, self.durability)
            return self._store

    def close(self) -> None:
        """Close the journal if it was opened."""
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None

    def __enter__(self) -> RunDir:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    # -- metadata -------------------------------------------------------------------
    def _file(self, name: str) -> Path:
        if not name or Path(name).name != name or name in (".", ".."):
            raise ValueError(f"run directory files are plain file names, got {name!r}")
        return self.path / name

    def write_json(self, name: str, obj: Any) -> Path:
        """Write ``obj`` as JSON to ``<run>/<name>`` atomically; returns the path.

        Non-finite floats become null (see :mod:`hyperhive.storage.codec`).
        """
        target = self._file(name)
        atomic_write_text(target, dumps(obj, indent=2) + "\n")
        return target

    def read_json(self, name: str) -> Any:
        """Read ``<run>/<name>``.

        Raises:
            FileNotFoundError: the file does not exist.
            ValueError: the file is not JSON.
        """
        target = self._file(name)
        try:
            return json.loads(target.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{target} is not valid JSON: {exc}") from exc

    def write_run_meta(
        self,
        *,
        directions: list[str] | tuple[str, ...],
        seed: int,
        optimizer: str | Mapping[str, Any] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Write ``run.json``: the optimizer, directions, seed used, creation time, versions.

        Args:
            directions: one ``"minimize"``/``"maximize"`` per objective.
            seed: the seed the run actually uses.
            optimizer: its name, or a mapping of its name and settings.
            **extra: more JSON fields to record.

        Returns:
            What was written.
        """
        if isinstance(optimizer, str):
            optimizer = {"name": optimizer}
        now = time.time()
        meta: dict[str, Any] = {
            "optimizer": dict(optimizer) if optimizer is not None else None,
            "directions": list(directions),
            "seed": int(seed),
            "created": now,
            "created_utc": _dt.datetime.fromtimestamp(now, _dt.timezone.utc).isoformat(),
            "versions": environment_versions(),
            **extra,
        }
        self.write_json(self.RUN, meta)
        return meta

    def read_run_meta(self) -> dict[str, Any] | None:
        """The content of ``run.json`` (None when it is missing)."""
        try:
            return self.read_json(self.RUN)
        except FileNotFoundError:
            return None

    # -- results and log ----------------------------------------------------------------
    def write_results(self, trials_df: pd.DataFrame) -> Path:
        """Write the trial table to ``results.csv`` atomically; returns the path."""
        atomic_write_text(self.results_path, trials_df.to_csv(index=False))
        return self.results_path

    def export_results(self, directions: int | None = None) -> Path:
        """Rebuild ``results.csv`` from the journal.

        Args:
            directions: the number of objectives (read from ``run.json`` when None).
        """
        from hyperhive.storage.frame import trials_frame

        if directions is None:
            meta = self.read_run_meta() or {}
            directions = len(meta.get("directions") or ["minimize"])
        trials = sorted(self.store.trials().values(), key=lambda t: t.id)
        return self.write_results(trials_frame(trials, directions))

    def attach_log(self, logger: logging.Logger, level: int = logging.INFO) -> logging.FileHandler:
        """Send ``logger``'s records to ``driver.log`` (appending); returns the handler.

        A handler this method attached earlier to the same file is reused. If the
        logger would drop records at ``level`` it is lowered to ``level``. Remove
        the handler with :meth:`detach_log`.
        """
        target = os.path.abspath(self.log_path)
        for h in logger.handlers:
            if isinstance(h, logging.FileHandler) and h.baseFilename == target:
                return h
        handler = logging.FileHandler(target, mode="a", encoding="utf-8")
        handler.setLevel(level)
        handler.setFormatter(logging.Formatter(_LOG_FORMAT))
        logger.addHandler(handler)
        if logger.getEffectiveLevel() > level:
            logger.setLevel(level)
        return handler

    @staticmethod
    def detach_log(logger: logging.Logger, handler: logging.Handler) -> None:
        """Remove and close a handler returned by :meth:`attach_log`."""
        logger.removeHandler(handler)
        handler.close()
