"""Every random stream of hyperhive, named in one place.

Reproducibility rests on deriving each random generator from a seed and a fixed
key, never from shared state. Optimizers draw from
``SeedSequence(entropy, spawn_key=(Stream.X, ...))`` (see
:meth:`hyperhive.optimizers.Optimizer.derive_rng`); two keys that collide would
make two streams draw the same numbers, so every key is a member of
:class:`Stream` and an enum member cannot be defined twice. Trial and peer seeds
are derived from the run's seed here too.
"""

from __future__ import annotations

import enum
import zlib

import numpy as np

__all__ = ["Stream", "peer_seed", "trial_seed"]


class Stream(enum.IntEnum):
    """Keys of the random streams an optimizer derives from its seed."""

    # every optimizer (optimizers/base.py)
    ASK = 0
    TELL = 1
    # quasi-random designs (optimizers/qmc.py)
    QMC_DESIGN = 10
    QMC_REPAIR = 11
    QMC_THEN = 12
    # Bayesian optimization (optimizers/bo/)
    BO_DESIGN = 20
    BO_REPAIR = 21
    BO_FIT = 22
    BO_WARM = 24
    # AgEBO (optimizers/agebo.py)
    AGEBO_EVO = 30
    AGEBO_HP = 31


def trial_seed(run_seed: int, trial_id: int) -> int:
    """The seed of one trial, derived from the run's seed and the trial id."""
    return int(np.random.SeedSequence([run_seed, trial_id]).generate_state(1)[0])


def peer_seed(run_seed: int, peer: str) -> int:
    """The optimizer seed of one decentralized peer, derived from the run's seed and its name."""
    return int(np.random.SeedSequence([run_seed, zlib.crc32(peer.encode())]).generate_state(1)[0])
