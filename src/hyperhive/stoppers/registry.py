"""Stoppers by name: ``get_stopper("asha")`` and ``register_stopper``."""

from __future__ import annotations

import inspect

from hyperhive.stoppers.base import Stopper

__all__ = ["available_stoppers", "get_stopper", "register_stopper", "stopper_class"]

_REGISTRY: dict[str, type[Stopper]] = {}


def register_stopper(name: str, cls: type[Stopper], *, replace: bool = False) -> None:
    """Make ``cls`` available as ``name`` to :func:`get_stopper`.

    Args:
        name: The name users pass (matched case-insensitively).
        cls: A concrete :class:`Stopper` subclass whose constructor works without arguments.
        replace: Allow a name already taken by another class to be rebound.

    Raises:
        TypeError: If ``cls`` is not a concrete Stopper subclass.
        ValueError: If ``name`` is empty or taken by another class.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"a stopper name must be a non-empty string, got {name!r}")
    if not (isinstance(cls, type) and issubclass(cls, Stopper)) or inspect.isabstract(cls):
        raise TypeError(f"register_stopper needs a concrete Stopper subclass, got {cls!r}")
    key = name.strip().lower()
    old = _REGISTRY.get(key)
    if old is not None and old is not cls and not replace:
        raise ValueError(
            f"stopper name {key!r} is already registered to {old.__qualname__}; "
            "pass replace=True to rebind it"
        )
    _REGISTRY[key] = cls


def available_stoppers() -> list[str]:
    """Sorted names accepted by :func:`get_stopper`."""
    return sorted(_REGISTRY)


def stopper_class(name: str) -> type[Stopper]:
    """The class registered as ``name``.

    Raises:
        ValueError: If no stopper has that name (the message lists valid names).
    """
    key = name.strip().lower() if isinstance(name, str) else name
    cls = _REGISTRY.get(key)
    if cls is None:
        valid = ", ".join(repr(n) for n in available_stoppers())
        raise ValueError(f"unknown stopper {name!r}; valid names: {valid}")
    return cls


def get_stopper(stopper: str | Stopper | None) -> Stopper | None:
    """The stopper a search uses: None, a new one from its name, or the instance given.

    Args:
        stopper: None (no stopping), a registered name (``"asha"``, ``"hyperband"``,
            ``"median"``, ``"lce"``, ``"constant"``) built with its defaults, or a
            :class:`Stopper`, returned as is.

    Raises:
        ValueError: On an unknown name.
        TypeError: If ``stopper`` is none of these.
    """
    if stopper is None or isinstance(stopper, Stopper):
        return stopper
    if not isinstance(stopper, str):
        raise TypeError(
            f"stopper must be None, a name or a Stopper instance, got {type(stopper).__name__}"
        )
    return stopper_class(stopper)()
