"""Initial designs: a repaired quasi-random sequence, and moves around warm-start trials."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from hyperhive.optimizers._sampling import config_key, sample_unique
from hyperhive.optimizers.bo.codec import Codec
from hyperhive.optimizers.qmc import QMC
from hyperhive.streams import Stream

if TYPE_CHECKING:
    from hyperhive.space import Space

__all__ = ["Design", "initial_design_size"]

#: Step (in unit space) of the moves around warm-start trials.
WARM_SIGMA = 0.05


def initial_design_size(dim: int) -> int:
    """Default size of the quasi-random initial design for ``dim`` varying parameters.

    ``dim + 3`` points, at least 6 and at most 24: a model can only be fitted
    once every parameter has varied, and every point spent on the design is one
    not spent on the model.
    """
    return int(min(max(dim + 3, 6), 24))


class Design:
    """The design points of a search, each a function of its position and the seed.

    Args:
        space: The search space.
        codec: Its candidate codec.
        seed: Seed of the scrambled Halton sequence.
        size: Nominal design size (the sequence continues beyond it on demand).
        derive_rng: The optimizer's ``derive_rng`` (generators from stream keys).
    """

    def __init__(
        self,
        space: Space,
        codec: Codec,
        seed: int,
        size: int,
        derive_rng: Callable[..., np.random.Generator],
    ) -> None:
        self.space = space
        self.codec = codec
        self.derive_rng = derive_rng
        # Halton rather than Sobol: computed with NumPy alone, so the first
        # proposals of a search do not wait for SciPy's QMC module to import.
        self.qmc = QMC(method="halton", n_points=max(size, 1), then=None)
        self.qmc.setup(space, ["minimize"], seed=seed)

    def unit(self, start: int, stop: int) -> np.ndarray:
        """Points ``start`` to ``stop - 1`` of the scrambled Halton sequence in ``[0, 1]^d``."""
        return self.qmc.design(start, stop)

    def sequence(
        self, start: int, n: int, seen: set[Hashable], taken: set[Hashable]
    ) -> list[dict[str, Any]]:
        """Design points ``start`` to ``start + n - 1``.

        A point that repeats a configuration in ``seen`` (told) or ``taken``
        (pending, earlier in the batch; updated), or lands in a forbidden
        combination, is replaced by a random configuration drawn from a
        generator seeded by its position.
        """
        if n <= 0:
            return []
        space = self.space
        if not space.names:
            return sample_unique(space, n, self.derive_rng(Stream.BO_REPAIR, start), seen, taken)
        out = []
        for i, config in enumerate(space.from_unit(self.unit(start, start + n)), start):
            key = config_key(config)
            if key in seen or key in taken or not space.is_valid(config):
                rng = self.derive_rng(Stream.BO_REPAIR, i)
                config = sample_unique(space, 1, rng, seen, taken)[0]
            else:
                taken.add(key)
            out.append(config)
        return out

    def around(
        self,
        start: int,
        n: int,
        bases: Sequence[Mapping[str, Any]],
        excluded: set[bytes],
        seen: set[Hashable],
        taken: set[Hashable],
    ) -> list[dict[str, Any]]:
        """Small moves around ``bases`` (position ``i`` moves ``bases[i % len(bases)]``).

        ``excluded`` holds :meth:`Codec.keys` not to propose (updated); a base
        with no allowed new neighbour gives a random configuration instead.
        """
        out: list[dict[str, Any]] = []
        for i in range(start, start + n):
            rng = self.derive_rng(Stream.BO_WARM, i)
            base = self.codec.from_configs([bases[i % len(bases)]], rng)
            config = None
            for _ in range(16):
                row = self.codec.mutate(base, rng, np.array([WARM_SIGMA]))
                key = self.codec.keys(row)[0]
                if self.codec.allowed(row)[0] and key not in excluded:
                    config = self.codec.to_configs(row)[0]
                    excluded.add(key)
                    break
            if config is None:
                config = sample_unique(self.space, 1, rng, seen, taken)[0]
            taken.add(config_key(config))
            out.append(config)
        return out
