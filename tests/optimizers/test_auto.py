"""Auto: the contract, and what it is made of (BO with its defaults)."""

from __future__ import annotations

from hyperhive.optimizers import BO, Auto, get_optimizer
from hyperhive.testing.optimizer_contract import OptimizerContract, make_case


class TestAutoContract(OptimizerContract):
    def make_optimizer(self, seed):
        return Auto(seed=seed)


def test_auto_is_bo_with_its_defaults():
    case = make_case("mixed")
    auto, bo = Auto(seed=3), BO(seed=3)
    auto.setup(case.space, case.directions)
    bo.setup(case.space, case.directions)
    assert auto.ask(12) == bo.ask(12)


def test_auto_from_registry_and_settings():
    opt = get_optimizer("auto", seed=1)
    assert isinstance(opt, Auto) and opt.seed == 1
    settings = opt.settings()
    assert settings["name"] == "auto" and settings["seed"] == 1
    assert {k: v for k, v in settings.items() if k != "name"} == {
        k: v for k, v in BO(seed=1).settings().items() if k != "name"
    }
