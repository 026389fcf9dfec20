"""Load a problem file for ``hyperhive run``: a Python file defining ``space`` and ``objective``."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

#: Module-level names a problem file may set as defaults for ``hyperhive run`` options.
DEFAULT_NAMES = (
    "direction",
    "optimizer",
    "max_evals",
    "timeout",
    "trial_timeout",
    "max_failures",
    "max_retries",
    "workers",
    "executor",
    "run_dir",
    "seed",
    "callbacks",
    "initial_points",
    "warm_start",
    "slots_per_trial",
    "stopper",
)


class FileObjective:
    """The objective of a problem file, picklable into workers that never saw the file.

    Pickling carries the function by value (cloudpickle) with the file's folder; the
    worker puts the folder on ``sys.path`` *before* unpickling the function, so modules
    next to the problem file that it imports resolve in the worker whatever the start
    method of the worker processes.
    """

    def __init__(self, function: Callable[[dict[str, Any]], Any], folder: str) -> None:
        self.function = function
        self.folder = folder
        self.__name__ = getattr(function, "__name__", "objective")
        self.__doc__ = getattr(function, "__doc__", None)

    def __call__(self, config: dict[str, Any]) -> Any:
        return self.function(config)

    def __reduce__(self) -> tuple[Any, ...]:
        import cloudpickle

        return (_rebuild_objective, (self.folder, cloudpickle.dumps(self.function)))

    def __repr__(self) -> str:
        return f"FileObjective({self.__name__!r}, folder={self.folder!r})"


def _rebuild_objective(folder: str, payload: bytes) -> FileObjective:
    if folder not in sys.path:
        sys.path.insert(0, folder)
    import cloudpickle

    return FileObjective(cloudpickle.loads(payload), folder)


class ProblemError(Exception):
    """A problem file is missing, cannot be imported, or lacks what ``hyperhive run`` needs."""


@dataclass
class Problem:
    """What a problem file defines.

    Attributes:
        path: the resolved file path.
        module: the imported module.
        space: the file's ``space``.
        objective: the file's ``objective``, wrapped in a :class:`FileObjective`.
        defaults: values of the names in :data:`DEFAULT_NAMES` the file sets.
    """

    path: Path
    module: ModuleType
    space: Any
    objective: Any
    defaults: dict[str, Any] = field(default_factory=dict)


def module_name_for(path: Path) -> str:
    """A module name unique to ``path``, so two problem files never share a module."""
    stem = "".join(c if c.isalnum() or c == "_" else "_" for c in path.stem) or "problem"
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
    return f"hyperhive_problem_{stem}_{digest}"


def import_file(path: Path) -> ModuleType:
    """Import a Python file under a unique module name, its folder first on ``sys.path``.

    The module is registered in ``sys.modules`` and with cloudpickle for pickling by
    value, so the process executor's workers can unpickle the objective without
    importing the file themselves.

    Raises:
        ProblemError: when the file is missing, not a ``.py`` file, or raises on import.
    """
    if not path.exists():
        raise ProblemError(f"problem file {str(path)!r} does not exist")
    if not path.is_file():
        raise ProblemError(f"problem file {str(path)!r} is not a file")
    if path.suffix != ".py":
        raise ProblemError(f"problem file {str(path)!r} is not a Python file (.py)")
    path = path.resolve()
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = module_name_for(path)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:  # pragma: no cover - only for odd paths
        raise ProblemError(f"cannot import {str(path)!r}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as exc:
        sys.modules.pop(name, None)
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        raise ProblemError(
            f"importing problem file {str(path)!r} failed: {type(exc).__name__}: {exc}"
        ) from exc
    import cloudpickle

    cloudpickle.register_pickle_by_value(module)
    return module


def load_problem(path: str | Path) -> Problem:
    """Import a problem file and check that it defines ``space`` and a callable ``objective``.

    Raises:
        ProblemError: with a message naming the file and what is missing.
    """
    p = Path(path)
    module = import_file(p)
    missing = [n for n in ("space", "objective") if not hasattr(module, n)]
    if missing:
        names = " and ".join(repr(n) for n in missing)
        raise ProblemError(
            f"problem file {str(p)!r} defines no {names}; it must define a search space "
            "`space` and a function `objective(config)`"
        )
    objective = module.objective
    if not callable(objective):
        raise ProblemError(
            f"problem file {str(p)!r}: `objective` must be a function of one configuration, "
            f"got {type(objective).__name__}"
        )
    defaults = {}
    for n in DEFAULT_NAMES:
        value = getattr(module, n, None)
        # Skip imported helpers that happen to share a name (``from random import seed``).
        if value is None or isinstance(value, ModuleType):
            continue
        if callable(value) and n not in ("optimizer", "executor", "slots_per_trial"):
            continue
        defaults[n] = value
    path_ = p.resolve()
    wrapped = FileObjective(objective, str(path_.parent))
    return Problem(path_, module, module.space, wrapped, defaults)
