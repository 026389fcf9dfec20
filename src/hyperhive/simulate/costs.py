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

import copy
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

__all__ = ["ComputeMeter", "CostProfile", "Spike", "default_space", "sphere"]

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


class CostProfile:
    """The optimizer's compute, measured once on a grid of history sizes and interpolated.

    :meth:`measure` tells a real optimizer up to ``max_n`` results in bulk and, at
    geometrically spaced history sizes, times ``ask(k)`` for a few batch sizes
    with ``pending`` trials running (the smallest of ``samples`` runs), the first
    ask after growing the history (which includes any model refit) and ``tell``.
    Costs in between are interpolated in log-log; refits are charged as spikes on
    the optimizer's own schedule when it declares one (``refit_fraction``: a refit
    each time the history grows by that fraction), at the measured refit cost.

    Args:
        name: the optimizer's name.
        grid: history sizes measured.
        ks: batch sizes measured.
        ask_table: seconds of ``ask(k)``, one row per grid size, one column per k.
        refit: seconds a refit adds, per grid size.
        tell: seconds per told trial, per grid size.
        refit_fraction: the refit schedule (None: no spikes).
        pending: the number of running trials the asks were measured with.
    """

    def __init__(
        self,
        name: str,
        grid: Sequence[int],
        ks: Sequence[int],
        ask_table: np.ndarray,
        refit: Sequence[float],
        tell: Sequence[float],
        refit_fraction: float | None,
        pending: int,
    ) -> None:
        self.name = name
        self.grid = np.asarray(grid, dtype=float)
        self.ks = np.asarray(ks, dtype=float)
        self.ask_table = np.maximum(np.asarray(ask_table, dtype=float), 1e-7)
        self.refit = np.maximum(np.asarray(refit, dtype=float), 0.0)
        self.tell_cost = np.maximum(np.asarray(tell, dtype=float), 0.0)
        self.refit_fraction = refit_fraction
        self.pending = pending
        self.measure_seconds = 0.0
        self.spikes: list[Spike] = []
        self.n_told = 0
        self.asks = 0
        self.ask_seconds = 0.0
        self.tell_seconds = 0.0
        self._next_refit = 2.0
        self._cache: dict[tuple[int, int], float] = {}

    def fresh(self) -> CostProfile:
        """A copy with nothing told or charged yet (to reuse the profile in a simulation)."""
        out = copy.copy(self)
        out.spikes, out.n_told, out.asks = [], 0, 0
        out.ask_seconds = out.tell_seconds = 0.0
        out._next_refit = 2.0
        return out

    @classmethod
    def measure(
        cls,
        optimizer: str | Optimizer | Callable[[], Optimizer] = "random",
        *,
        pending: int,
        max_n: int,
        space: Space | None = None,
        seed: int = 0,
        ks: Sequence[int] = (1, 4, 16, 64),
        samples: int = 2,
        grid_ratio: float = 3.0,
        objective: Callable[[dict[str, Any]], float] = sphere,
    ) -> CostProfile:
        """Measure a profile (see the class docstring)."""
        if callable(optimizer) and not isinstance(optimizer, Optimizer):
            optimizer = optimizer()
        opt = get_optimizer(optimizer)
        space = space if space is not None else default_space()
        opt.setup(space, ["minimize"], seed=seed)
        rng = np.random.default_rng(seed)
        running = [
            Trial(id=-1 - i, config=c, status=TrialStatus.RUNNING)
            for i, c in enumerate(space.sample(pending, rng) if pending > 0 else [])
        ]
        grid = [0]
        while grid[-1] < max_n:
            grid.append(min(max_n, max(10, int(grid[-1] * grid_ratio))))
        t_start = time.process_time()
        asks, refits, tells = [], [], []
        n, per_tell = 0, 0.0
        for g in grid:
            spent, told = 0.0, 0
            while n < g:
                m = min(20000, g - n)
                batch = [
                    Trial(id=n + j, config=c, status=TrialStatus.DONE, objective=objective(c))
                    for j, c in enumerate(space.sample(m, rng))
                ]
                t0 = time.process_time()
                opt.tell(batch)
                spent += time.process_time() - t0
                told, n = told + m, n + m
            per_tell = spent / told if told else per_tell
            tells.append(per_tell)
            t0 = time.process_time()
            opt.ask(1, pending=running)
            first = time.process_time() - t0
            row = []
            for k in ks:
                runs = []
                for _ in range(samples):
                    t0 = time.process_time()
                    opt.ask(int(k), pending=running)
                    runs.append(time.process_time() - t0)
                row.append(min(runs))
            asks.append(row)
            refits.append(max(0.0, first - row[0]))
        fraction = getattr(opt, "refit_fraction", None)
        profile = cls(
            type(opt).name or type(opt).__name__,
            grid,
            ks,
            np.array(asks),
            refits,
            tells,
            float(fraction) if isinstance(fraction, int | float) and fraction > 0 else None,
            pending,
        )
        profile.measure_seconds = time.process_time() - t_start
        return profile

    def _along_n(self, values: np.ndarray, n: float) -> Any:
        x = np.log1p(self.grid)
        return np.interp(math.log1p(n), x, values)

    def ask_cost(self, n: float, k: int) -> float:
        """Interpolated seconds of ``ask(k)`` at history size ``n`` (cached per 0.5 % of n)."""
        key = (int(math.log1p(n) * 200.0), int(k))
        cost = self._cache.get(key)
        if cost is None:
            cost = self._cache[key] = self._ask_cost(n, k)
        return cost

    def _ask_cost(self, n: float, k: int) -> float:
        column = np.exp(
            [self._along_n(np.log(self.ask_table[:, j]), n) for j in range(len(self.ks))]
        )
        top = self.ks[-1]
        if k > top:
            return float(column[-1] * k / top)
        return float(np.exp(np.interp(math.log(k), np.log(self.ks), np.log(column))))

    def refit_cost(self, n: float) -> float:
        """Interpolated seconds a refit at history size ``n`` adds."""
        return float(self._along_n(self.refit, n))

    @property
    def tell_per_trial(self) -> float:
        """Interpolated seconds to tell one trial at the current history size."""
        key = (int(math.log1p(self.n_told) * 200.0), 0)
        cost = self._cache.get(key)
        if cost is None:
            cost = self._cache[key] = float(self._along_n(self.tell_cost, self.n_told))
        return cost

    # -- the interface the engine uses (as ComputeMeter's) ---------------------------------
    def ask(
        self, k: int, pending: Callable[[], Sequence[Trial]], n_pending: int
    ) -> tuple[list[dict[str, Any]], float, bool]:
        """``k`` empty configurations and their interpolated cost (never measured)."""
        cost = self.ask_cost(self.n_told, k)
        self.asks += 1
        self.ask_seconds += cost
        return [{} for _ in range(k)], cost, False

    def tell(self, trials: Sequence[Trial]) -> float:
        """Count told trials, adding a spike at each refit of the schedule; returns seconds."""
        cost = self.tell_per_trial * len(trials)
        self.n_told += len(trials)
        self.tell_seconds += cost
        if self.refit_fraction is not None:
            while self._next_refit <= self.n_told:
                at = self._next_refit
                self.spikes.append(Spike(int(at), self.refit_cost(at)))
                self._next_refit = at + max(1.0, math.floor(at * self.refit_fraction))
        return cost

    def summary(self) -> dict[str, Any]:
        """Charged totals and what measuring the profile took."""
        return {
            "optimizer": self.name,
            "real_asks": 0,
            "charged_asks": self.asks,
            "ask_seconds": self.ask_seconds,
            "tell_seconds": self.tell_seconds,
            "spikes": len(self.spikes),
            "told": self.n_told,
            "profile_seconds": self.measure_seconds,
            "profile_grid": [int(g) for g in self.grid],
        }
