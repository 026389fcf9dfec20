"""A scale simulator: utilization of a search at thousands of workers, on a simulated clock.

Example::

    from hyperhive.simulate import simulate

    r = simulate(1024, mode="decentralized", optimizer="bo")
    print(r.utilization, r.bottleneck)

See :mod:`hyperhive.simulate.engine` for the model and
:mod:`hyperhive.simulate.costs` for how the optimizer's real compute is measured.
"""

from hyperhive.simulate.costs import ComputeMeter, CostProfile, Spike, default_space, sphere
from hyperhive.simulate.engine import MODES, SimResult, replay_cost, simulate

__all__ = [
    "MODES",
    "ComputeMeter",
    "CostProfile",
    "SimResult",
    "Spike",
    "default_space",
    "replay_cost",
    "simulate",
    "sphere",
]
