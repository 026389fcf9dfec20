"""Multi-fidelity early stopping: decide from rung summaries whether a trial goes on.

A stopper sees every intermediate value a trial reports (``hh.report(value, step=...)``)
and answers stop or go on (:meth:`Stopper.report`), from rung summaries kept in a
:class:`~hyperhive.storage.rungs.RungStore` that peers share. See ``docs/stoppers.md``
for choosing one.
"""

from hyperhive.stoppers.asha import ASHA, Hyperband
from hyperhive.stoppers.base import Stopper
from hyperhive.stoppers.constant import Constant
from hyperhive.stoppers.curve import LearningCurve
from hyperhive.stoppers.median import Median
from hyperhive.stoppers.registry import (
    available_stoppers,
    get_stopper,
    register_stopper,
    stopper_class,
)

register_stopper("asha", ASHA)
register_stopper("hyperband", Hyperband)
register_stopper("median", Median)
register_stopper("lce", LearningCurve)
register_stopper("constant", Constant)

__all__ = [
    "ASHA",
    "Constant",
    "Hyperband",
    "LearningCurve",
    "Median",
    "Stopper",
    "available_stoppers",
    "get_stopper",
    "register_stopper",
    "stopper_class",
]
