"""Asynchronous Bayesian optimization (``optimizer="bo"``).

Build variants through the constructor of :class:`BO`::

    BO(surrogate="et")                       # extremely randomized trees throughout
    BO(surrogate="gp", acquisition="ei")     # Gaussian process with expected improvement
    BO(liar="qucb", kappa_schedule="periodic")

Surrogate names: ``"auto"`` (GP, then trees past ``gp_max_points``), ``"gp"``,
``"et"``, ``"rf"``; acquisitions: ``"ucb"``, ``"ei"``, ``"pi"``, ``"ts"``;
liars: ``"min"``, ``"mean"``, ``"max"``, ``"qucb"``, None.
"""

from hyperhive.optimizers.bo.design import initial_design_size
from hyperhive.optimizers.bo.optimizer import BO, make_surrogate
from hyperhive.optimizers.bo.surrogates import Prediction, Surrogate, TreeEnsemble

__all__ = ["BO", "Prediction", "Surrogate", "TreeEnsemble", "initial_design_size", "make_surrogate"]
