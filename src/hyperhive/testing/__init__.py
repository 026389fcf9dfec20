"""hyperhive.testing: reusable pytest suites, the contracts every implementation passes.

``ExecutorContract`` (executors), ``StoreContract`` (stores), ``OptimizerContract``
(optimizers) and ``StopperContract`` (stoppers) are imported on first access (they
need pytest); ``flight.max_in_flight`` measures the concurrency of a finished search.
"""

from typing import Any

__all__ = ["ExecutorContract", "OptimizerContract", "StopperContract", "StoreContract"]

_SUITES = {
    "ExecutorContract": "hyperhive.testing.executor_contract",
    "OptimizerContract": "hyperhive.testing.optimizer_contract",
    "StopperContract": "hyperhive.testing.stopper_contract",
    "StoreContract": "hyperhive.testing.store_contract",
}


def __getattr__(name: str) -> Any:
    """Import a contract suite on first use."""
    module = _SUITES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
