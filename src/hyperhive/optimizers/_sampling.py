"""Helpers shared by the sampling optimizers: configuration keys and unique draws."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from hyperhive.space import Space

#: Rounds of fresh draws before a sampler gives up on avoiding repeats (the
#: space is then taken as exhausted, or nearly so, and repeats are allowed).
MAX_ROUNDS = 8


def _freeze(value: Any) -> Hashable:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((str(k), _freeze(v)) for k, v in value.items()))
    if isinstance(value, float) and value == 0.0:
        return 0.0  # -0.0 and 0.0 are the same configuration
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


def config_key(config: Mapping[str, Any]) -> Hashable:
    """A hashable key equal for equal configurations (independent of key order)."""
    return tuple(sorted((name, _freeze(v)) for name, v in config.items()))


def keys_of(configs: Iterable[Mapping[str, Any]]) -> set[Hashable]:
    """The set of :func:`config_key` of ``configs``."""
    return {config_key(c) for c in configs}


def sample_unique(
    space: Space,
    n: int,
    rng: np.random.Generator,
    seen: set[Hashable] | frozenset[Hashable] = frozenset(),
    taken: set[Hashable] | None = None,
) -> list[dict[str, Any]]:
    """Draw ``n`` random configurations that avoid ``seen`` and each other.

    The space draws vectorized batches; after :data:`MAX_ROUNDS` rounds without
    enough new configurations (a finite space nearly or fully exhausted), the
    rest are plain draws that may repeat, so this never loops forever.

    Args:
        space: The space to sample.
        n: How many configurations.
        rng: The random generator (the result is a function of its state).
        seen: Keys of configurations to avoid (history and pending); not modified.
        taken: Keys already used by the caller in the same batch; updated in place.

    Returns:
        ``n`` valid configurations.
    """
    taken = set() if taken is None else taken
    out: list[dict[str, Any]] = []
    for _ in range(MAX_ROUNDS):
        need = n - len(out)
        if need <= 0:
            break
        for config in space.sample(max(2 * need, 4), rng):
            key = config_key(config)
            if key in seen or key in taken:
                continue
            taken.add(key)
            out.append(config)
            if len(out) == n:
                break
    if len(out) < n:
        extra = space.sample(n - len(out), rng)
        taken.update(keys_of(extra))
        out.extend(extra)
    return out
