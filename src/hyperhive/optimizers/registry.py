"""Optimizers by name: ``get_optimizer("random")`` and ``register_optimizer``."""

from __future__ import annotations

import inspect
from typing import Any

from hyperhive.optimizers.base import Optimizer

_REGISTRY: dict[str, type[Optimizer]] = {}


def register_optimizer(name: str, cls: type[Optimizer], *, replace: bool = False) -> None:
    """Make ``cls`` available as ``name`` to :func:`get_optimizer`.

    Args:
        name: The name users pass (matched case-insensitively).
        cls: An :class:`Optimizer` subclass whose constructor takes ``seed``.
        replace: Allow a name already taken by another class to be rebound.

    Raises:
        TypeError: If ``cls`` is not a concrete Optimizer subclass.
        ValueError: If ``name`` is empty or taken by another class.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"an optimizer name must be a non-empty string, got {name!r}")
    if not (isinstance(cls, type) and issubclass(cls, Optimizer)) or inspect.isabstract(cls):
        raise TypeError(f"register_optimizer needs a concrete Optimizer subclass, got {cls!r}")
    key = name.strip().lower()
    old = _REGISTRY.get(key)
    if old is not None and old is not cls and not replace:
        raise ValueError(
            f"optimizer name {key!r} is already registered to {old.__qualname__}; "
            "pass replace=True to rebind it"
        )
    _REGISTRY[key] = cls


def available_optimizers() -> list[str]:
    """Sorted names accepted by :func:`get_optimizer`."""
    return sorted(_REGISTRY)


def optimizer_class(name: str) -> type[Optimizer]:
    """The class registered as ``name``.

    Raises:
        ValueError: If no optimizer has that name (the message lists valid names).
    """
    key = name.strip().lower() if isinstance(name, str) else name
    cls = _REGISTRY.get(key)
    if cls is None:
        valid = ", ".join(repr(n) for n in available_optimizers())
        raise ValueError(f"unknown optimizer {name!r}; valid names: {valid}")
    return cls


def get_optimizer(name_or_instance: str | Optimizer, seed: int | None = None) -> Optimizer:
    """An optimizer from its name, or the given instance unchanged.

    Args:
        name_or_instance: A registered name (``"auto"``, ``"random"``, ``"qmc"``,
            ...) or an :class:`Optimizer`, returned as is (``seed`` is then
            ignored: ``setup`` takes a seed too).
        seed: Seed passed to the constructor of a named optimizer.

    Raises:
        ValueError: On an unknown name.
        TypeError: If ``name_or_instance`` is neither a string nor an Optimizer.
    """
    if isinstance(name_or_instance, Optimizer):
        return name_or_instance
    if not isinstance(name_or_instance, str):
        raise TypeError(
            "optimizer must be a name or an Optimizer instance, "
            f"got {type(name_or_instance).__name__}"
        )
    cls: Any = optimizer_class(name_or_instance)
    return cls(seed=seed)
