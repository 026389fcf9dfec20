"""The asynchronous search loop, durable ask/tell, and results."""

from hyperhive.search.callbacks import Callback, EarlyStopping, SearchState
from hyperhive.search.loop import search
from hyperhive.search.result import Result, pareto_mask
from hyperhive.search.run import Run, load
from hyperhive.search.worker import worker

__all__ = [
    "Callback",
    "EarlyStopping",
    "Result",
    "Run",
    "SearchState",
    "load",
    "pareto_mask",
    "search",
    "worker",
]
