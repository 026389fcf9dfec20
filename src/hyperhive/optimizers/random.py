"""Random search: independent draws from the space."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, ClassVar

from hyperhive.optimizers._sampling import config_key, keys_of, sample_unique
from hyperhive.optimizers.base import Optimizer
from hyperhive.trial import Trial


class RandomSearch(Optimizer):
    """Sample configurations uniformly (on each parameter's own scale) from the space.

    Proposals avoid configurations already told or pending and repeat each other
    only when the space looks exhausted (a finite space with every configuration
    tried), so it never loops forever.

    Each ask draws from a generator derived from the seed and the number of
    configurations asked so far (told plus pending), so an optimizer rebuilt by
    replaying the finished trials asks what the original would have asked.

    Args:
        seed: Seed of the random draws; None for a fresh one.
    """

    name: ClassVar[str] = "random"
    replay_deterministic = True

    def _setup(self) -> None:
        self._seen: set[Hashable] = set()

    def _tell(self, trials: list[Trial]) -> None:
        self._seen.update(config_key(t.config) for t in trials)

    def _ask(self, n: int, pending: list[Trial]) -> list[dict[str, Any]]:
        if self.space is None:  # pragma: no cover - ask() checks it first
            raise RuntimeError("RandomSearch used before setup()")
        taken = keys_of(t.config for t in pending)
        return sample_unique(self.space, n, self.rng, self._seen, taken)
