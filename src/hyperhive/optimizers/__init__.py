"""Ask/tell optimizers and the registry that finds them by name."""

from hyperhive.optimizers.agebo import AgEBO
from hyperhive.optimizers.auto import Auto
from hyperhive.optimizers.base import Optimizer
from hyperhive.optimizers.bo import BO
from hyperhive.optimizers.evolution import RegularizedEvolution
from hyperhive.optimizers.ppo import PPO
from hyperhive.optimizers.qmc import QMC
from hyperhive.optimizers.random import RandomSearch
from hyperhive.optimizers.registry import (
    available_optimizers,
    get_optimizer,
    optimizer_class,
    register_optimizer,
)

register_optimizer("random", RandomSearch)
register_optimizer("qmc", QMC)
register_optimizer("bo", BO)
register_optimizer("auto", Auto)
register_optimizer("evolution", RegularizedEvolution)
register_optimizer("ppo", PPO)
register_optimizer("agebo", AgEBO)

__all__ = [
    "BO",
    "PPO",
    "QMC",
    "AgEBO",
    "Auto",
    "Optimizer",
    "RandomSearch",
    "RegularizedEvolution",
    "available_optimizers",
    "get_optimizer",
    "optimizer_class",
    "register_optimizer",
]
