"""Auto: the contract, and what it is made of for now."""

from __future__ import annotations

from hyperhive.optimizers import QMC, Auto, get_optimizer
from hyperhive.testing.optimizer_contract import OptimizerContract, make_case


class TestAutoContract(OptimizerContract):
    def make_optimizer(self, seed):
        return Auto(seed=seed)


def test_auto_is_a_sobol_design_then_random_search():
    case = make_case("mixed")
    auto, qmc = Auto(seed=3), QMC(seed=3, method="sobol", then="random")
    auto.setup(case.space, case.directions)
    qmc.setup(case.space, case.directions)
    assert auto.ask(40) == qmc.ask(40)


def test_auto_from_registry_and_settings():
    opt = get_optimizer("auto", seed=1)
    assert isinstance(opt, Auto) and opt.seed == 1
    assert opt.settings() == {
        "name": "auto",
        "seed": 1,
        "method": "sobol",
        "n_points": None,
        "then": "random",
    }
