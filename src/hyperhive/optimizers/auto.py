"""The default optimizer: whatever works best without tuning."""

from __future__ import annotations

from typing import ClassVar

from hyperhive.optimizers.qmc import QMC


class Auto(QMC):
    """The optimizer used when the user names none.

    For now a scrambled Sobol design (see :class:`QMC`) followed by random
    search; it will switch to Bayesian optimization once that exists, which is
    a change of the ``then`` argument below.

    Args:
        seed: Seed of the search; None for a fresh one.
    """

    name: ClassVar[str] = "auto"
    replay_deterministic: ClassVar[bool] = True

    def __init__(self, seed: int | None = None) -> None:
        super().__init__(seed=seed, method="sobol", n_points=None, then="random")
