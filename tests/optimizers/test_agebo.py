"""AgEBO: the optimizer contract, the split of the parameters and who learns what."""

from __future__ import annotations

import numpy as np
import pytest

from hyperhive.optimizers import BO, AgEBO, RandomSearch, RegularizedEvolution, get_optimizer
from hyperhive.optimizers.agebo import split_params, subspace
from hyperhive.space import Categorical, Constant, Float, Int, Ordinal, Space
from hyperhive.testing.optimizer_contract import OptimizerContract, make_case
from hyperhive.trial import Trial, TrialStatus


class TestAgEBOContract(OptimizerContract):
    def make_optimizer(self, seed):
        return AgEBO(seed=seed, population_size=6, sample_size=3)


class TestAgEBORandomHPContract(OptimizerContract):
    def make_optimizer(self, seed):
        return AgEBO(seed=seed, population_size=5, sample_size=2, hp_optimizer="random")


def nas_space() -> Space:
    return Space(
        {
            "op0": Categorical(["conv3", "conv1", "pool", "skip"]),
            "op1": Categorical(["conv3", "conv1", "pool", "skip"]),
            "op2": Categorical(["conv3", "conv1", "pool", "skip"]),
            "lr": Float(1e-4, 1e-1, log=True),
            "batch_size": Ordinal([16, 32, 64, 128]),
            "workers": Int(1, 8),
            "loss": Constant("ce"),
        }
    )


def test_default_split_sends_numbers_to_bo_and_choices_to_evolution():
    space = nas_space()
    arch, hp = split_params(space)
    assert arch == ["op0", "op1", "op2", "loss"]
    assert hp == ["lr", "batch_size", "workers"]
    arch, hp = split_params(space, hp_params=["lr", "op2"])
    assert hp == ["op2", "lr"] and "batch_size" in arch


def test_split_keeps_conditions_inside_a_part():
    case = make_case("conditional")
    arch, hp = split_params(case.space)
    assert hp == ["lr"] and arch == ["model", "layers", "act", "slope"]
    with pytest.raises(ValueError, match="cannot span"):
        split_params(case.space, hp_params=["lr", "layers"])
    with pytest.raises(ValueError, match="unknown"):
        split_params(case.space, hp_params=["nope"])
    sub = subspace(case.space, arch)
    assert sub.names == arch and set(sub.conditions) == {"layers", "act", "slope"}


def test_subspace_keeps_only_forbidden_clauses_inside():
    case = make_case("forbidden")
    sub = subspace(case.space, ["depth", "units", "lr"])
    assert len(sub.forbidden) == 1 and {c["name"] for c in sub.forbidden[0]} == {"depth", "units"}


def test_hp_params_go_to_bo_and_arch_params_to_evolution():
    space = nas_space()
    opt = AgEBO(seed=0, population_size=6, sample_size=2)
    opt.setup(space, ["maximize"])
    assert isinstance(opt.evolution, RegularizedEvolution) and isinstance(opt.hp, BO)
    assert opt.evolution.space.names == ["op0", "op1", "op2", "loss"]
    assert opt.hp.space.names == ["lr", "batch_size", "workers"]
    rng = np.random.default_rng(0)
    running, i = [], 0
    for _ in range(12):
        for c in opt.ask(2, pending=running):
            running.append(Trial(i, c, TrialStatus.RUNNING))
            i += 1
        t = running.pop(0)
        value = float(t.config["op0"] == "conv3") - abs(np.log10(t.config["lr"]) + 2.5)
        opt.tell([Trial(t.id, t.config, TrialStatus.DONE, objective=value + rng.normal())])
    # Each inner optimizer saw every result, restricted to its own part.
    assert [t.id for t in opt.evolution.history] == [t.id for t in opt.history]
    assert [t.id for t in opt.hp.history] == [t.id for t in opt.history]
    for full, a, h in zip(opt.history, opt.evolution.history, opt.hp.history, strict=True):
        assert a.config == {k: full.config[k] for k in ("op0", "op1", "op2", "loss")}
        assert h.config == {k: full.config[k] for k in ("lr", "batch_size", "workers")}
        assert a.objective == h.objective == full.objective
    # Proposals join an evolution child and a BO suggestion.
    before = (opt.evolution.position(), opt.hp.position())
    batch = opt.ask(3, pending=running)
    assert opt.evolution.position() >= before[0] + 3 and opt.hp.position() >= before[1] + 3
    for c in batch:
        space.validate(c)
        assert list(c) == space.names


def test_architecture_children_are_mutations_after_the_initial_population():
    space = nas_space()
    opt = AgEBO(seed=1, population_size=4, sample_size=2, hp_optimizer="random")
    opt.setup(space, ["minimize"])
    for i in range(4):
        (c,) = opt.ask(1)
        opt.tell([Trial(i, c, TrialStatus.DONE, objective=float(i))])
    pop = [t.config for t in opt.history]
    arch = ["op0", "op1", "op2"]
    for c in opt.ask(6):
        assert min(sum(c[k] != p[k] for k in arch) for p in pop) == 1


def test_one_part_only():
    cat = Space({"a": Categorical(list("abcd")), "b": Categorical(list("xyz"))})
    opt = AgEBO(seed=0, hp_optimizer="random")
    opt.setup(cat, ["minimize"])
    assert opt.hp is None and opt.evolution is not None
    num = Space({"x": Float(0.0, 1.0)})
    opt = AgEBO(seed=0)
    opt.setup(num, ["minimize"])
    assert opt.evolution is None and isinstance(opt.hp, BO)
    assert len(opt.ask(3)) == 3


def test_registry_settings_and_bad_arguments():
    opt = get_optimizer("agebo", seed=2)
    assert isinstance(opt, AgEBO) and opt.replay_deterministic
    s = opt.settings()
    assert s["name"] == "agebo" and s["hp_optimizer"] == "bo" and s["population_size"] == 30
    inst = AgEBO(hp_optimizer=RandomSearch(seed=5))
    assert inst.settings()["hp_optimizer"] == {"name": "random"}
    with pytest.raises(ValueError):
        AgEBO(population_size=2, sample_size=3)
    with pytest.raises(ValueError):
        AgEBO(hp_optimizer="nope")
    with pytest.raises(TypeError):
        AgEBO(hp_optimizer=3)  # type: ignore[arg-type]
