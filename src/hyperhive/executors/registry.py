"""Executors by name: :func:`get_executor`, :func:`register_executor`,
:func:`available_executors`."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from hyperhive.executors.base import Executor
from hyperhive.executors.local import Serial, Thread
from hyperhive.executors.process import Process

__all__ = [
    "EXECUTORS",
    "LAZY_EXECUTORS",
    "ExecutorFactory",
    "available_executors",
    "get_executor",
    "register_executor",
]

#: Makes an executor from the number of workers (an :class:`Executor` class is one).
ExecutorFactory = Callable[[int], Executor]

#: Registry name -> executor factory (the built-in classes, and what was registered).
EXECUTORS: dict[str, ExecutorFactory] = {"serial": Serial, "thread": Thread, "process": Process}

#: Executors of optional extras, imported on first use: name -> (module, class, extra).
LAZY_EXECUTORS: dict[str, tuple[str, str, str]] = {
    "dask": ("hyperhive.executors.dask", "Dask", "dask"),
    "ray": ("hyperhive.executors.ray", "Ray", "ray"),
    "mpi": ("hyperhive.executors.mpi", "MPI", "mpi"),
}


def register_executor(name: str, factory: ExecutorFactory, *, replace: bool = False) -> None:
    """Make ``factory`` available as ``name`` to :func:`get_executor` (and so to
    ``hh.search(executor=name)`` and the CLI's ``--executor``).

    Args:
        name: The name users pass (matched case-insensitively; not ``"auto"``).
        factory: Called with the number of workers, returns an :class:`Executor`; an
            executor class whose first argument is ``workers`` is one.
        replace: Allow a name already taken by another factory to be rebound.

    Raises:
        TypeError: If ``factory`` is not callable.
        ValueError: If ``name`` is empty, ``"auto"``, or taken by another factory.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"an executor name must be a non-empty string, got {name!r}")
    if not callable(factory):
        raise TypeError(f"register_executor needs a callable factory, got {factory!r}")
    key = name.strip().lower()
    if key == "auto":
        raise ValueError("the executor name 'auto' is reserved")
    old: object = EXECUTORS.get(key)
    if old is None and key in LAZY_EXECUTORS:
        old = ".".join(LAZY_EXECUTORS[key][:2])
    if old is not None and old is not factory and not replace:
        raise ValueError(
            f"executor name {key!r} is already registered to {old!r}; "
            "pass replace=True to rebind it"
        )
    LAZY_EXECUTORS.pop(key, None)
    EXECUTORS[key] = factory


def available_executors() -> list[str]:
    """Sorted names accepted by :func:`get_executor` (those of optional extras too,
    installed or not; ``"auto"`` as well)."""
    return sorted({"auto", *EXECUTORS, *LAZY_EXECUTORS})


def _lazy(name: str) -> type[Executor] | None:
    spec = LAZY_EXECUTORS.get(name)
    if spec is None:
        return None
    cls: type[Executor] = getattr(importlib.import_module(spec[0]), spec[1])
    return cls


def get_executor(name_or_instance: str | Executor, workers: int = 1) -> Executor:
    """Resolve an executor name (or pass an instance through).

    Args:
        name_or_instance: ``"auto"`` (serial for one worker, process otherwise),
            ``"serial"``, ``"thread"``, ``"process"``, ``"dask"``, ``"ray"``, ``"mpi"``
            (optional extras), a name given to :func:`register_executor`, or an
            :class:`Executor`.
        workers: how many trials may run at once (ignored for an instance).

    Raises:
        ValueError: for an unknown name (the message lists the valid ones).
        TypeError: when a registered factory returns something that is not an Executor.
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
    factory = EXECUTORS.get(name) or _lazy(name)
    if factory is None:
        valid = ", ".join(repr(n) for n in ["auto", *EXECUTORS, *LAZY_EXECUTORS])
        raise ValueError(f"unknown executor {name_or_instance!r}; valid names: {valid}")
    executor = factory(workers)
    if not isinstance(executor, Executor):
        raise TypeError(
            f"the factory registered as executor {name!r} returned {executor!r}, not an Executor"
        )
    return executor
