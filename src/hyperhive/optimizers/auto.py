"""The default optimizer: whatever works best without tuning."""

from __future__ import annotations

from typing import Any, ClassVar

from hyperhive.optimizers.bo import BO


class Auto(BO):
    """The optimizer used when the user names none: Bayesian optimization with its defaults.

    A scrambled Halton initial design sized by the dimension, then a Gaussian
    process while there are few observations and extremely randomized trees
    after (see :class:`~hyperhive.optimizers.bo.BO`).

    Args:
        seed: Seed of the search; None for a fresh one.
    """

    name: ClassVar[str] = "auto"
    replay_deterministic = True

    def __init__(self, seed: int | None = None) -> None:
        super().__init__(seed=seed)

    def settings(self) -> dict[str, Any]:
        """JSON description: the name, the seed and the BO options it runs with."""
        return {**super().settings(), "name": self.name}
