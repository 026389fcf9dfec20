"""PPO: the optimizer contract, policy learning and replay of the updates."""

from __future__ import annotations

import numpy as np
import pytest

from hyperhive.optimizers import PPO, get_optimizer
from hyperhive.space import Categorical, Float, Int, Ordinal, Space
from hyperhive.testing.optimizer_contract import OptimizerContract
from hyperhive.trial import Trial, TrialStatus


class TestPPOContract(OptimizerContract):
    def make_optimizer(self, seed):
        return PPO(seed=seed, batch_size=3)


class TestPPODefaultsContract(OptimizerContract):
    def make_optimizer(self, seed):
        return PPO(seed=seed)


def run(opt, space, f, evals, seed, batch=1, directions=("minimize",)):
    """Asynchronous-style loop: ``batch`` asks, then the oldest finishes."""
    opt.setup(space, list(directions), seed=seed)
    noise = np.random.default_rng(seed + 100)
    running, i = [], 0
    while i < evals:
        for config in opt.ask(batch - len(running), pending=running):
            running.append(Trial(i, config, TrialStatus.RUNNING))
            i += 1
        t = running.pop(0)
        opt.tell([Trial(t.id, t.config, TrialStatus.DONE, objective=f(t.config, noise))])
    opt.tell(
        [Trial(t.id, t.config, TrialStatus.DONE, objective=f(t.config, noise)) for t in running]
    )
    return opt


def test_policy_concentrates_on_the_best_arm():
    space = Space({"arm": Categorical([f"a{i}" for i in range(8)])})
    means = {f"a{i}": 0.1 * i for i in range(8)}
    means["a5"] = 2.0  # best by far (maximize)

    def f(config, rng):
        return means[config["arm"]] + 0.3 * rng.standard_normal()

    for seed in range(3):
        opt = run(PPO(), space, f, 120, seed, batch=3, directions=("maximize",))
        p = opt.probabilities()["arm"]
        assert p.argmax() == 5 and p[5] > 0.6, p
        # Asks follow the policy (repeats allowed once the finite space is spent).
        assert sum(c["arm"] == "a5" for c in opt.ask(20)) >= 8


def test_policy_learns_independent_heads_and_numeric_bins():
    space = Space(
        {
            "op0": Categorical(["conv", "pool", "skip", "none"]),
            "op1": Categorical(["conv", "pool", "skip", "none"]),
            "width": Ordinal([8, 16, 32, 64]),
            "lr": Float(1e-4, 1.0, log=True),
        }
    )

    def f(config, rng):
        loss = (config["op0"] != "conv") + (config["op1"] != "skip") + (config["width"] != 32)
        return loss + abs(np.log10(config["lr"]) + 2.0) + 0.05 * rng.standard_normal()

    opt = run(PPO(), space, f, 300, 0, batch=4)
    p = opt.probabilities()
    assert p["op0"].argmax() == 0 and p["op1"].argmax() == 2 and p["width"].argmax() == 2
    assert len(p["lr"]) == 10 and p["lr"].argmax() in (4, 5)  # bins around lr = 1e-2
    last = [t.objective for t in opt.history[-40:]]
    first = [t.objective for t in opt.history[:40]]
    assert np.median(last) < 0.5 * np.median(first)


def test_update_schedule_and_replay_of_the_policy():
    space = Space({"a": Categorical(list("abcde")), "n": Int(1, 50)})

    def f(config, rng):
        return float(config["a"] == "c") * 5 - config["n"] / 50

    a = run(PPO(batch_size=5), space, f, 37, 3, batch=3)
    assert a._n_updates == 7  # floor(37 / 5)
    b = PPO(batch_size=5)
    b.setup(space, ["minimize"], seed=3)
    b.tell(list(a.history))
    for pa, pb in zip(a.logits, b.logits, strict=True):
        np.testing.assert_allclose(pa, pb)
    assert a.ask(4) == b.ask(4)


def test_conditional_inactive_heads_are_not_updated():
    space = Space({"model": Categorical(["linear", "net"]), "act": Categorical(["relu", "tanh"])})
    space.condition("act", on="model", equals="net")
    opt = PPO(batch_size=4, entropy_coef=0.0)
    opt.setup(space, ["minimize"], seed=0)
    trials = [Trial(i, {"model": "linear"}, TrialStatus.DONE, objective=float(i)) for i in range(8)]
    opt.tell(trials)
    acts, active = opt.actions([t.config for t in trials])
    assert not active[:, 1].any()
    np.testing.assert_allclose(opt.probabilities()["act"], [0.5, 0.5])


def test_rewards_are_quantiles_with_failures_worst():
    space = Space({"x": Float(0.0, 1.0)})
    opt = PPO()
    opt.setup(space, ["minimize"], seed=0)
    configs = space.sample(4, 0)
    trials = [
        Trial(0, configs[0], TrialStatus.DONE, objective=1e300),
        Trial(1, configs[1], TrialStatus.FAILED),
        Trial(2, configs[2], TrialStatus.DONE, objective=-1e300),
        Trial(3, configs[3], TrialStatus.DONE, objective=0.0),
    ]
    r = opt.rewards(trials, slice(0, 4))
    np.testing.assert_allclose(r, [1 / 3, 0.0, 1.0, 2 / 3])


def test_registry_and_settings():
    opt = get_optimizer("ppo", seed=1)
    assert isinstance(opt, PPO)
    s = opt.settings()
    assert s["name"] == "ppo" and s["batch_size"] == 4 and s["clip"] == 0.2


@pytest.mark.parametrize(
    "kwargs",
    [
        {"batch_size": 0},
        {"n_epochs": 1.5},
        {"learning_rate": 0.0},
        {"clip": 1.0},
        {"entropy_coef": -1.0},
        {"baseline_decay": 1.0},
        {"n_bins": True},
    ],
)
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        PPO(**kwargs)
