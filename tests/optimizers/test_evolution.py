"""Regularized evolution: the optimizer contract, aging, tournaments and search quality."""

from __future__ import annotations

import numpy as np
import pytest

from hyperhive.optimizers import RandomSearch, RegularizedEvolution, get_optimizer
from hyperhive.optimizers.evolution import nondominated_rank, scalar_scores
from hyperhive.space import Categorical, Float, Int, Space
from hyperhive.testing.optimizer_contract import OptimizerContract
from hyperhive.trial import Trial, TrialStatus


class TestEvolutionContract(OptimizerContract):
    def make_optimizer(self, seed):
        return RegularizedEvolution(seed=seed, population_size=6, sample_size=3)


class TestEvolutionDefaultsContract(OptimizerContract):
    rounds = 30

    def make_optimizer(self, seed):
        return RegularizedEvolution(seed=seed, population_size=10, sample_size=4, n_initial=4)


# -- a synthetic architecture landscape ------------------------------------------------

N_NODES, N_CHOICES = 6, 10


def onemax_space() -> Space:
    return Space({f"op{i}": Categorical(list(range(N_CHOICES))) for i in range(N_NODES)})


def onemax(config, rng=None) -> float:
    """Loss: distance to a hidden target architecture, plus a little noise when ``rng``."""
    target = [3, 7, 1, 9, 0, 5]
    score = sum(config[f"op{i}"] != t for i, t in enumerate(target))
    # Near misses: a choice one away from the target counts half.
    score -= 0.5 * sum(abs(config[f"op{i}"] - t) == 1 for i, t in enumerate(target))
    return float(score + (0.1 * rng.standard_normal() if rng is not None else 0.0))


def run(opt, space, f, evals, seed, directions=("minimize",)):
    opt.setup(space, list(directions), seed=seed)
    noise = np.random.default_rng(seed + 100)
    for i in range(evals):
        (config,) = opt.ask(1)
        opt.tell([Trial(i, config, TrialStatus.DONE, objective=f(config, noise))])
    return opt


def best_true(opt) -> float:
    noisy = [t.objective for t in opt.history]
    return onemax(opt.history[int(np.argmin(noisy))].config)


def test_evolution_beats_random_on_onemax():
    space = onemax_space()
    evo, rnd = [], []
    for seed in range(6):
        evo.append(best_true(run(RegularizedEvolution(), space, onemax, 200, seed)))
        rnd.append(best_true(run(RandomSearch(), space, onemax, 200, seed)))
    assert np.median(evo) + 1.0 <= np.median(rnd), (evo, rnd)
    assert np.mean(evo) < np.mean(rnd)


# -- aging and tournaments ---------------------------------------------------------------


def test_population_is_the_latest_trials_and_never_exceeds_p():
    space = onemax_space()
    opt = RegularizedEvolution(seed=0, population_size=7, sample_size=3)
    opt.setup(space, ["minimize"])
    for i in range(30):
        (config,) = opt.ask(1)
        # The best trial comes first: aging must remove it all the same.
        value = -100.0 if i == 0 else float(i)
        opt.tell([Trial(i, config, TrialStatus.DONE, objective=value)])
        pop = opt.population
        assert len(pop) == min(i + 1, 7)
        assert [t.id for t in pop] == list(range(max(0, i - 6), i + 1))
    assert 0 not in {t.id for t in opt.population}


def test_first_children_are_random_then_mutations_of_population_members():
    space = onemax_space()
    opt = RegularizedEvolution(seed=1, population_size=5, sample_size=2)
    opt.setup(space, ["minimize"])
    for i in range(5):
        (config,) = opt.ask(1)
        opt.tell([Trial(i, config, TrialStatus.DONE, objective=onemax(config))])
    pop = [t.config for t in opt.population]
    for child in opt.ask(10):
        diffs = [sum(child[k] != p[k] for k in child) for p in pop]
        assert min(diffs) == 1, (child, pop)


class _CountingRng:
    """Wraps a Generator and records the tournament draws of ``choice``."""

    def __init__(self, rng):
        self.rng = rng
        self.sizes = []

    def choice(self, a, size=None, replace=True):
        self.sizes.append((a, size, replace))
        return self.rng.choice(a, size=size, replace=replace)

    def __getattr__(self, name):
        return getattr(self.rng, name)


@pytest.mark.parametrize("sample_size", [1, 3, 8])
def test_tournament_size_respected_and_winner_is_best_of_sample(sample_size):
    space = Space({"x": Float(0.0, 1.0)})
    opt = RegularizedEvolution(seed=2, population_size=8, sample_size=sample_size)
    opt.setup(space, ["minimize"])
    configs = space.sample(8, 0)
    opt.tell([Trial(i, c, TrialStatus.DONE, objective=float(i)) for i, c in enumerate(configs)])
    for s in range(20):
        rng = _CountingRng(np.random.default_rng(s))
        winner = opt.tournament(rng)
        assert rng.sizes == [(8, sample_size, False)]
        drawn = np.random.default_rng(s).choice(8, size=sample_size, replace=False)
        assert winner.id == int(drawn.min())  # objective == id
    if sample_size == 8:
        assert all(opt.tournament(np.random.default_rng(s)).id == 0 for s in range(5))


def test_failed_trials_lose_tournaments():
    space = Space({"x": Float(0.0, 1.0)})
    opt = RegularizedEvolution(seed=3, population_size=4, sample_size=4)
    opt.setup(space, ["maximize"])
    configs = space.sample(4, 1)
    statuses = [TrialStatus.FAILED, TrialStatus.DONE, TrialStatus.TIMEOUT, TrialStatus.FAILED]
    opt.tell(
        [
            Trial(i, c, st, objective=-1e9 if st == TrialStatus.DONE else None)
            for i, (c, st) in enumerate(zip(configs, statuses, strict=True))
        ]
    )
    assert opt.tournament(np.random.default_rng(0)).id == 1


def test_children_avoid_told_and_pending_configurations():
    space = Space({"a": Categorical(["x", "y", "z"]), "b": Int(1, 3)})  # 9 configurations
    opt = RegularizedEvolution(seed=4, population_size=3, sample_size=2)
    opt.setup(space, ["minimize"])
    keys = set()
    for i in range(3):
        (config,) = opt.ask(1)
        opt.tell([Trial(i, config, TrialStatus.DONE, objective=float(i))])
        keys.add(tuple(config.items()))
    pending = [Trial(10, c, TrialStatus.RUNNING) for c in opt.ask(2)]
    keys |= {tuple(t.config.items()) for t in pending}
    batch = opt.ask(4, pending=pending)
    assert len({tuple(c.items()) for c in batch} | keys) == 9
    assert len(opt.ask(12)) == 12  # exhausted: repeats rather than a loop


def test_multi_objective_rank_and_scores():
    losses = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [2.0, 2.0], [np.nan, np.nan]])
    assert nondominated_rank(losses).tolist() == [0, 0, 1, 2, 3]
    scores = scalar_scores(losses, np.random.default_rng(0))
    assert np.argsort(scores)[2:].tolist() == [2, 3, 4]
    one = scalar_scores(np.array([[1.0], [np.nan], [0.5]]), np.random.default_rng(0))
    assert one.tolist() == [1.0, np.inf, 0.5]


def test_multi_objective_search_moves_towards_the_front():
    space = Space({"x": Float(0.0, 1.0), "y": Float(0.0, 1.0)})

    def f(config, rng):
        g = 1.0 + 9.0 * config["y"]  # the front is y == 0
        return (config["x"], g * (1.0 - np.sqrt(config["x"] / g)))

    opt = run(
        RegularizedEvolution(population_size=10, sample_size=3),
        space,
        f,
        150,
        0,
        directions=("minimize", "minimize"),
    )
    ys = [t.config["y"] for t in opt.history]
    assert np.mean(ys[-30:]) < 0.5 * np.mean(ys[:10])


def test_registry_and_settings():
    opt = get_optimizer("evolution", seed=3)
    assert isinstance(opt, RegularizedEvolution)
    assert (opt.population_size, opt.sample_size) == (30, 10)
    s = opt.settings()
    assert s["name"] == "evolution" and s["population_size"] == 30 and s["sample_size"] == 10


@pytest.mark.parametrize(
    "kwargs",
    [
        {"population_size": 0},
        {"sample_size": 0},
        {"population_size": 3, "sample_size": 4},
        {"n_initial": 0},
        {"mutation_k": True},
        {"sigma": 0.0},
    ],
)
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        RegularizedEvolution(**kwargs)
