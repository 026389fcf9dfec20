"""Executors by name: :func:`get_executor`."""

from __future__ import annotations

from hyperhive.executors.base import Executor
from hyperhive.executors.local import Serial, Thread
from hyperhive.executors.process import Process

__all__ = ["EXECUTORS", "LAZY_EXECUTORS", "get_executor"]

#: Registry name -> executor class.
EXECUTORS: dict[str, type[Executor]] = {"serial": Serial, "thread": Thread, "process": Process}

#: Executors of optional extras, imported on first use: name -> (module, class, extra).
LAZY_EXECUTORS: dict[str, tuple[str, str, str]] = {
    "dask": ("hyperhive.executors.dask", "Dask", "dask"),
    "ray": ("hyperhive.executors.ray", "Ray", "ray"),
    "mpi": ("hyperhive.executors.mpi", "MPI", "mpi"),
}


def _lazy(name: str) -> type[Executor] | None:
    spec = LAZY_EXECUTORS.get(name)
    if spec is None:
        return None
    import importlib

    return getattr(importlib.import_module(spec[0]), spec[1])


def get_executor(name_or_instance: str | Executor, workers: int = 1) -> Executor:
    """Resolve an executor name (or pass an instance through).

    Args:
        name_or_instance: ``"auto"`` (serial for one worker, process otherwise),
            ``"serial"``, ``"thread"``, ``"process"``, ``"dask"``, ``"ray"``, ``"mpi"``
            (optional extras), or an :class:`Executor`.
        workers: how many trials may run at once (ignored for an instance).

    Raises:
        ValueError: for an unknown name (the message lists the valid ones).
    """
    if isinstance(name_or_instance, Executor):
        return name_or_instance
    if not isinstance(name_or_instance, str):
        raise TypeError(
            f"executor must be a name or an Executor instance, got {name_or_instance!r}"
        )
    name = name_or_instance.strip().lower()
    if name == "auto":
        name = "serial" if workers == 1 else "process"
    cls = EXECUTORS.get(name) or _lazy(name)
    if cls is None:
        valid = ", ".join(repr(n) for n in ["auto", *EXECUTORS, *LAZY_EXECUTORS])
        raise ValueError(f"unknown executor {name_or_instance!r}; valid names: {valid}")
    return cls(workers)
