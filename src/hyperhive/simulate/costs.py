"""The optimizer's real compute time, measured for the simulator.

A :class:`ComputeMeter` drives one real optimizer: it is told every simulated
result, and asked for configurations with the simulated trials still running as
``pending``. Each call is timed with :func:`time.process_time` (CPU time of every
thread of the process). To keep long simulations affordable, asks are measured
``samples`` times per bucket of (history size, pending trials, batch size) — the
buckets grow geometrically — and later asks in a bucket are charged the bucket's
median per-configuration cost. A measured ask far above its bucket's steady cost
(a model refit) is recorded as a *spike*; in a decentralized simulation every
peer's own optimizer pays each spike once.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hyperhive.optimizers import Optimizer, get_optimizer
from hyperhive.space import Space
from hyperhive.trial import Trial, TrialStatus

__all__ = ["ComputeMeter", "Spike", "default_space", "sphere"]

_SPIKE_RATIO = 3.0  # a measured ask this many times its bucket's median is a spike
_SPIKE_MIN = 0.005


def default_space() -> Space:
    """Five floats in [0, 1]: a stand-in for a small hyperparameter space."""
    from hyperhive.space import Float

    return Space({f"x{i}": Float(0.0, 1.0) for i in range(5)})


def sphere(config: dict[str, Any]) -> float:
    """A cheap synthetic objective of the configuration (for the optimizer's model)."""
    return float(sum((float(v) - 0.3) ** 2 for v in config.values() if isinstance(v, int | float)))


@dataclass
class Spike:
    """A measured ask that cost ``excess`` seconds above its bucket, at history size ``n``."""

    n: int
    excess: float


@dataclass
class _Bucket:
    per_config: list[float] = field(default_factory=list)
    samples: list[tuple[float, int, int]] = field(default_factory=list)  # cost, k, n
    flagged: set[int] = field(default_factory=set)

    def steady(self) -> float:
        return statistics.median_low(self.per_config)

    def add(self, cost: float, k: int, n: int) -> list[Spike]:
        """Record one measured ask; returns the samples newly found to be spikes."""
        self.per_config.append(cost / k)
        self.samples.append((cost, k, n))
        if len(self.samples) < 2:
            return []
        steady = self.steady()
        found = []
        for i, (c, kk, nn) in enumerate(self.samples):
            excess = c - steady * kk
            if i not in self.flagged and excess > max(_SPIKE_MIN, (_SPIKE_RATIO - 1) * steady * kk):
                self.flagged.add(i)
                found.append(Spike(nn, excess))
        return found


class ComputeMeter:
    """Runs and times a real optimizer on behalf of a simulation.

    Args:
        optimizer: a name, an instance, or a factory of a fresh optimizer.
        space: the search space (default :func:`default_space`).
        seed: seeds the optimizer and the stand-in configurations.
        samples: measured asks per bucket; None measures every ask.
        objective: the synthetic objective told to the optimizer.
        ratio: growth factor of the history-size buckets.
    """

    def __init__(
        self,
        optimizer: str | Optimizer | Callable[[], Optimizer] = "random",
        space: Space | None = None,
        seed: int = 0,
        samples: int | None = 3,
        objective: Callable[[dict[str, Any]], float] = sphere,
        ratio: float = 1.25,
    ) -> None:
        if callable(optimizer) and not isinstance(optimizer, Optimizer):
            optimizer = optimizer()
        self.optimizer: Optimizer = get_optimizer(optimizer)
        self.space = space if space is not None else default_space()
        self.optimizer.setup(self.space, ["minimize"], seed=seed)
        self.samples = samples
        self.objective = objective
        self._log_ratio = math.log(ratio)
        self._rng = np.random.default_rng(seed)
        self._buckets: dict[tuple[int, int, int], _Bucket] = {}
        self.spikes: list[Spike] = []
        self._pool: list[dict[str, Any]] = []
        self.n_told = 0
        self.tell_seconds = 0.0
        self.ask_seconds = 0.0
        self.real_asks = 0
        self.charged_asks = 0
        self.tell_per_trial = 0.0

    @property
    def name(self) -> str:
        """The optimizer's registry name."""
        return type(self.optimizer).name or type(self.optimizer).__name__

    def _key(self, k: int, n_pending: int) -> tuple[int, int, int]:
        nb = int(math.log(self.n_told + 1) / self._log_ratio)
        pb = int(2 * math.log2(n_pending + 1))
        kb = int(math.log2(k))
        return nb, pb, kb

    def ask(
        self, k: int, pending: Callable[[], Sequence[Trial]], n_pending: int
    ) -> tuple[list[dict[str, Any]], float, bool]:
        """``k`` configurations and the compute seconds to charge for them.

        Args:
            k: how many configurations.
            pending: builds the running trials (called only for a measured ask).
            n_pending: how many trials are running.

        Returns:
            The configurations, the seconds to charge, and whether the ask was
            measured (a measured ask already includes any spike it caused).
        """
        key = self._key(k, n_pending)
        bucket = self._buckets.setdefault(key, _Bucket())
        if self.samples is None or len(bucket.per_config) < self.samples:
            t0 = time.process_time()
            configs = self.optimizer.ask(k, pending=list(pending()))
            cost = time.process_time() - t0
            self.real_asks += 1
            self.ask_seconds += cost
            self.spikes.extend(bucket.add(cost, k, self.n_told))
            return configs, cost, True
        self.charged_asks += 1
        return self._stand_ins(k), bucket.steady() * k, False

    def _stand_ins(self, k: int) -> list[dict[str, Any]]:
        """Random configurations for asks that are charged, not run (sampled in bulk)."""
        while len(self._pool) < k:
            self._pool.extend(self.space.sample(max(4096, k), self._rng))
        return [self._pool.pop() for _ in range(k)]

    def tell(self, trials: Sequence[Trial]) -> float:
        """Tell finished trials (objectives filled in here); returns the seconds it took."""
        for t in trials:
            t.status = TrialStatus.DONE
            t.objective = self.objective(t.config)
        t0 = time.process_time()
        self.optimizer.tell(trials)
        cost = time.process_time() - t0
        self.n_told += len(trials)
        self.tell_seconds += cost
        if trials:
            per = cost / len(trials)
            self.tell_per_trial = (
                per if self.n_told == len(trials) else (0.9 * self.tell_per_trial + 0.1 * per)
            )
        return cost

    def summary(self) -> dict[str, Any]:
        """Measured totals: real asks, charged asks, seconds, spikes."""
        return {
            "optimizer": self.name,
            "real_asks": self.real_asks,
            "charged_asks": self.charged_asks,
            "ask_seconds": self.ask_seconds,
            "tell_seconds": self.tell_seconds,
            "spikes": len(self.spikes),
            "told": self.n_told,
        }
