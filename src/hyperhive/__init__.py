"""hyperhive: massively parallel, asynchronous hyperparameter and neural architecture search.

Example:
    >>> import hyperhive as hh
    >>> space = hh.Space({"x": hh.Float(-5.0, 5.0)})
    >>> result = hh.search(lambda c: (c["x"] - 1) ** 2, space, max_evals=20, seed=0)
    >>> round(result.best.config["x"], 1)  # doctest: +SKIP
    1.0

Heavy parts (executors for Dask, Ray and MPI; torch for NAS) are imported only when used.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    # space
    "Space": "hyperhive.space",
    "Float": "hyperhive.space",
    "Int": "hyperhive.space",
    "Categorical": "hyperhive.space",
    "Ordinal": "hyperhive.space",
    "Constant": "hyperhive.space",
    "as_space": "hyperhive.space",
    "gt": "hyperhive.space",
    "ge": "hyperhive.space",
    "lt": "hyperhive.space",
    "le": "hyperhive.space",
    # trials
    "Trial": "hyperhive.trial",
    "TrialStatus": "hyperhive.trial",
    "report": "hyperhive.trial",
    "should_stop": "hyperhive.trial",
    "current_trial": "hyperhive.trial",
    # search
    "search": "hyperhive.search",
    "load": "hyperhive.search",
    "Run": "hyperhive.search",
    "Result": "hyperhive.search",
    "EarlyStopping": "hyperhive.search",
    "SearchState": "hyperhive.search",
}
_SUBMODULES = {"executors", "optimizers", "storage", "space", "trial", "search", "testing"}

__all__ = sorted([*_EXPORTS, *_SUBMODULES, "__version__"])


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        module = importlib.import_module(f"hyperhive.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'hyperhive' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
