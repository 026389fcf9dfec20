"""Search: one loop core (:mod:`~hyperhive.search.core`) run by ``hh.search`` (central
commit) and ``hh.worker`` (claim and sync), durable ask/tell, and results.

Modules: ``central`` (``search``), ``worker`` (``worker``, ``peers``), ``asktell``
(``Run``), ``reader`` (``load``), ``core`` (the loop), ``decisions`` (its pure
decisions, shared with the simulator), ``policy`` and ``peer`` (how trials are
created and committed), ``options`` (every option and its validation), ``state``
(the run and its trial table), ``warm`` (initial points, warm starts).
"""

from hyperhive.search.asktell import Run
from hyperhive.search.callbacks import Callback, EarlyStopping, SearchState
from hyperhive.search.central import search
from hyperhive.search.reader import load
from hyperhive.search.result import Result, pareto_mask
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
