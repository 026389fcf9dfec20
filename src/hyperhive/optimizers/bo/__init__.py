"""Asynchronous Bayesian optimization (``optimizer="bo"``, and what ``"auto"`` runs).

Variants are built through the constructor of :class:`BO` (all options have
defaults chosen by benchmark; see its docstring)::

    BO()                                     # the default (= optimizer="auto")
    BO(surrogate="gp")                       # Gaussian process throughout
    BO(surrogate="et")                       # extremely randomized trees throughout
    BO(surrogate="rf", acquisition="ts")     # random forest, Thompson sampling
    BO(acquisition="ei", liar="believer")    # EI, kriging-believer batches
    BO(objective_bounds=[None, 0.9])         # second objective must reach 0.9

Names: surrogates ``"auto"`` (GP up to ``gp_max_points`` observations, trees
after), ``"gp"``, ``"et"``, ``"rf"`` (or a :class:`Surrogate` instance);
acquisitions ``"ucb"``, ``"ei"``, ``"pi"``, ``"ts"``; liars ``"qucb"``,
``"believer"``, ``"min"``, ``"mean"``, ``"max"``, None; scalings ``"auto"``,
``"minmax"``, ``"log"``, ``"quantile"``; failed trials ``"worst"``,
``"mean"``, ``"ignore"``; UCB schedules ``"constant"``, ``"decay"``,
``"periodic"``.

Modules: :mod:`.codec` (vectorized candidates), :mod:`.surrogates` and
:mod:`.gp` (models), :mod:`.acquisition`, :mod:`.candidates` (acquisition
optimization), :mod:`.transform` (targets), :mod:`.multi` (several
objectives, constraints), :mod:`.design` (initial designs), :mod:`.scoring`,
:mod:`.data`, :mod:`.optimizer`.
"""

from hyperhive.optimizers.bo.design import initial_design_size
from hyperhive.optimizers.bo.model import make_surrogate
from hyperhive.optimizers.bo.optimizer import BO
from hyperhive.optimizers.bo.surrogates import Prediction, Surrogate, TreeEnsemble

__all__ = ["BO", "Prediction", "Surrogate", "TreeEnsemble", "initial_design_size", "make_surrogate"]
