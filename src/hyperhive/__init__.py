"""hyperhive: massively parallel, asynchronous hyperparameter and neural architecture search.

Example:
    >>> import hyperhive as hh
    >>> space = hh.Space({"x": hh.Float(-5.0, 5.0)})
    >>> result = hh.search(lambda c: (c["x"] - 1) ** 2, space, max_evals=20, seed=0)
    >>> round(result.best.config["x"], 1)  # doctest: +SKIP
    1.0

Heavy optional parts (Dask, Ray and MPI executors; torch for NAS; plotting) are
imported only when used.
"""

from __future__ import annotations

from hyperhive import executors, optimizers, stoppers, storage
from hyperhive.search import EarlyStopping, Result, Run, SearchState, load, search, worker
from hyperhive.space import (
    Categorical,
    Constant,
    Float,
    Int,
    Ordinal,
    Space,
    as_space,
    ge,
    gt,
    le,
    lt,
)
from hyperhive.trial import Trial, TrialStatus, current_trial, report, should_stop

try:  # the installed distribution's version, so that it and `hyperhive --version` agree
    from importlib.metadata import PackageNotFoundError, version

    __version__ = version("hyperhive")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "Categorical",
    "Constant",
    "EarlyStopping",
    "Float",
    "Int",
    "Ordinal",
    "Result",
    "Run",
    "SearchState",
    "Space",
    "Trial",
    "TrialStatus",
    "__version__",
    "as_space",
    "current_trial",
    "executors",
    "ge",
    "gt",
    "le",
    "load",
    "lt",
    "optimizers",
    "report",
    "search",
    "should_stop",
    "stoppers",
    "storage",
    "worker",
]
