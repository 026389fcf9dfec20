"""Where analysis reads a run from: a run directory, a store URL or a :class:`Result`.

Everything here only reads: a journal is opened with
:func:`hyperhive.storage.open_reader` (SQLite ``mode=ro``, no table creation, no
write lock), never with the writer, so a search running in the same run directory
is not disturbed.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Union

from hyperhive.search import Result
from hyperhive.space import Space
from hyperhive.storage import Store, open_reader
from hyperhive.trial import Trial
from hyperhive.trial.events import apply_event

__all__ = ["RunLike", "RunReader", "as_runs", "load_run"]

RunLike = Union[str, os.PathLike, Result, Store]  # noqa: UP007 - a runtime alias
"""A run: its directory, a journal path, a store URL (``sqlite:///...``,
``redis://...``), a :class:`~hyperhive.storage.Store` or a :class:`~hyperhive.Result`."""

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


class RunReader:
    """A run read incrementally: each :meth:`refresh` applies only the new events.

    Args:
        run: a run directory, a journal path, a store URL or a store.

    Raises:
        FileNotFoundError: nothing describes a run there.
        ValueError: an unsupported URL.
    """

    def __init__(self, run: str | os.PathLike[str] | Store) -> None:
        run_dir: Path | None = None
        if isinstance(run, Store):
            store = run
        else:
            text = os.fsdecode(os.fspath(run))
            if _URL.match(text) and not text.lower().startswith("sqlite:"):
                store = open_reader(text)
            else:
                path = Path(
                    text[len("sqlite:///") :] if text.lower().startswith("sqlite:") else text
                )
                if not path.exists():
                    raise FileNotFoundError(f"run {text!r} does not exist")
                run_dir = path if path.is_dir() else path.parent
                store = open_reader(path)
        self.store = store
        meta = self._files(run_dir)
        if meta is None:
            record = store.get_meta("run")
            if not isinstance(record, dict) or "space" not in record:
                raise FileNotFoundError(
                    f"{run!s} holds no hyperhive run (no run.json and no run record in the store)"
                )
            meta = (record, Space.from_dict(record["space"]))
            run_dir = run_dir if run_dir is not None and (run_dir / "run.json").is_file() else None
        self.meta: dict[str, Any] = meta[0]
        self.space: Space = meta[1]
        self.directions: list[str] = list(self.meta.get("directions") or ["minimize"])
        self.run_dir = run_dir
        self.trials: dict[int, Trial] = {}
        self.seq = 0

    @staticmethod
    def _files(run_dir: Path | None) -> tuple[dict[str, Any], Space] | None:
        if run_dir is None:
            return None
        run_json, space_json = run_dir / "run.json", run_dir / "space.json"
        if not (run_json.is_file() and space_json.is_file()):
            return None
        meta = json.loads(run_json.read_text(encoding="utf-8"))
        space = Space.from_dict(json.loads(space_json.read_text(encoding="utf-8")))
        return meta, space

    @property
    def label(self) -> str:
        """A short name: the run directory's name, or the store's."""
        if self.run_dir is not None:
            return self.run_dir.resolve().name
        return str(getattr(self.store, "run", None) or type(self.store).__name__)

    def refresh(self) -> bool:
        """Apply the events committed since the last call; True when there were any."""
        changed = False
        for seq, event in self.store.events(self.seq):
            self.seq = seq
            apply_event(self.trials, event)
            changed = True
        return changed

    def result(self) -> Result:
        """The trials read so far as a :class:`~hyperhive.Result`."""
        seed = self.meta.get("seed")
        return Result(
            list(self.trials.values()),
            self.space,
            self.directions,
            run_dir=self.run_dir,
            seed=int(seed) if seed is not None else None,
        )

    def close(self) -> None:
        """Close the store."""
        self.store.close()


def load_run(run: RunLike) -> Result:
    """Read a run, read-only, as a :class:`~hyperhive.Result` (a Result is returned as is).

    Raises:
        TypeError: ``run`` is none of the accepted kinds.
        FileNotFoundError: nothing describes a run there.
    """
    if isinstance(run, Result):
        return run
    if not isinstance(run, str | os.PathLike | Store):
        raise TypeError(
            "run must be a run directory, a store URL, a Store or a hyperhive Result, "
            f"got {type(run).__name__}"
        )
    reader = RunReader(run)
    try:
        reader.refresh()
        return reader.result()
    finally:
        if not isinstance(run, Store):
            reader.close()


def _label(run: Any, result: Result, index: int) -> str:
    if result.run_dir is not None:
        return Path(result.run_dir).resolve().name
    if isinstance(run, str) and _URL.match(run):
        return run
    return f"run {index + 1}"


def as_runs(run: RunLike | Sequence[RunLike]) -> list[tuple[str, Result]]:
    """One run or several (a list or tuple) as ``[(label, Result), ...]``; labels are unique.

    Raises:
        ValueError: an empty sequence.
    """
    runs: list[RunLike] = list(run) if isinstance(run, list | tuple) else [run]  # type: ignore[list-item]
    if not runs:
        raise ValueError("run must name at least one run, got an empty sequence")
    out: list[tuple[str, Result]] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(runs):
        result = load_run(item)
        label = _label(item, result, i)
        if label in seen:
            seen[label] += 1
            label = f"{label} ({seen[label]})"
        else:
            seen[label] = 1
        out.append((label, result))
    return out
