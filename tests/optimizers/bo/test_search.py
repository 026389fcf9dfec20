"""BO through ``hh.search``: initial points, warm start, quality, the default optimizer."""

from __future__ import annotations

import math

import numpy as np
import pytest

import hyperhive as hh
from hyperhive.optimizers import BO, Auto, get_optimizer
from hyperhive.search.pareto import hypervolume

SPACE = hh.Space({"x": hh.Float(-5.0, 10.0), "y": hh.Float(0.0, 15.0)})


def branin(c):
    x, y = c["x"], c["y"]
    b, cc, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (y - b * x**2 + cc * x - 6) ** 2 + 10 * (1 - t) * math.cos(x) + 10


def test_registry_and_default():
    assert isinstance(get_optimizer("bo", seed=1), BO)
    assert isinstance(get_optimizer("auto"), BO) and isinstance(get_optimizer("auto"), Auto)
    settings = BO(seed=2, surrogate="et").settings()
    assert settings["name"] == "bo" and settings["surrogate"] == "et" and settings["seed"] == 2


def test_bo_beats_random_search_on_branin():
    bo, rnd = [], []
    for seed in range(5):
        bo.append(hh.search(branin, SPACE, optimizer="bo", max_evals=40, seed=seed).best.objective)
        rnd.append(
            hh.search(branin, SPACE, optimizer="random", max_evals=40, seed=seed).best.objective
        )
    assert np.median(bo) < np.median(rnd)
    assert np.median(bo) < 0.45  # the minimum is 0.3979


def test_initial_points_are_evaluated_first_and_counted():
    points = [{"x": -math.pi, "y": 12.275}, {"x": 3.0, "y": 3.0}]
    result = hh.search(branin, SPACE, max_evals=12, seed=0, initial_points=points)
    first = [t.config for t in sorted(result.records, key=lambda t: t.id)[:2]]
    assert first == points
    assert result.n_counted == 12
    assert result.best.objective == pytest.approx(0.397887, abs=1e-3)


def test_initial_points_are_validated():
    with pytest.raises(ValueError, match=r"initial_points\[1\]"):
        hh.search(branin, SPACE, max_evals=3, initial_points=[{"x": 0.0, "y": 1.0}, {"x": 99.0}])
    with pytest.raises(TypeError):
        hh.search(branin, SPACE, max_evals=3, initial_points={"x": 0.0, "y": 1.0})


def test_initial_points_not_repeated_on_resume(tmp_path):
    points = [{"x": 1.0, "y": 1.0}]
    hh.search(branin, SPACE, max_evals=3, seed=0, run_dir=tmp_path, initial_points=points)
    result = hh.search(branin, SPACE, max_evals=6, seed=0, run_dir=tmp_path, initial_points=points)
    assert sum(t.config == points[0] for t in result.records) == 1


def bowl(c):
    return (c["x"] - 1.0) ** 2 + (c["y"] - 2.0) ** 2


def test_warm_start_from_a_run_directory(tmp_path):
    old_dir = tmp_path / "old"
    old = hh.search(bowl, SPACE, optimizer="random", max_evals=30, seed=1, run_dir=old_dir)
    old_best = old.best
    # A new, overlapping space: one more parameter, whose default fills the old trials.
    space = SPACE | {"z": hh.Categorical(["a", "b"])}
    new = hh.search(
        lambda c: bowl(c) + (0.0 if c["z"] == "a" else 1.0),
        space,
        optimizer=BO(n_initial=8),
        max_evals=5,
        seed=2,
        warm_start=old_dir,
    )
    assert new.n_counted == 5 and len(new.records) == 5  # old trials neither counted nor stored
    first = min(new.records, key=lambda t: t.id)
    dist = math.hypot(first.config["x"] - old_best.config["x"], first.config["y"] - 2.0)
    assert dist < 2.0  # starts near the old best, not with a space-filling design
    old_values = [t.objective for t in old.done]
    assert first.objective < np.median(old_values)
    assert new.best.objective < np.percentile(old_values, 20)


def test_warm_start_accepts_a_result_and_checks_objectives(tmp_path):
    old = hh.search(branin, SPACE, optimizer="random", max_evals=10, seed=0)
    new = hh.search(branin, SPACE, optimizer=BO(n_initial=4), max_evals=3, seed=0, warm_start=old)
    assert new.n_counted == 3
    with pytest.raises(ValueError, match="objective"):
        hh.search(
            lambda c: (c["x"], c["y"]),
            SPACE,
            direction=["minimize", "minimize"],
            max_evals=2,
            warm_start=old,
        )


def test_multi_objective_search_and_hypervolume():
    def objective(c):
        return (c["x"], c["y"])

    result = hh.search(
        objective, SPACE, direction=["minimize", "maximize"], optimizer="bo", max_evals=15, seed=0
    )
    front = result.pareto_front()
    assert front
    hv = result.hypervolume([10.0, 0.0])
    manual = hypervolume(np.array([[t.objective[0], -t.objective[1]] for t in front]), [10.0, 0.0])
    assert hv == pytest.approx(manual) and hv > 0
    with pytest.raises(ValueError):
        result.hypervolume([1.0])


def test_hypervolume_exact_values():
    assert hypervolume([[1, 2], [2, 1]], [3, 3]) == pytest.approx(3.0)
    assert hypervolume([[0, 0, 1], [1, 1, 0]], [2, 2, 2]) == pytest.approx(5.0)
    assert hypervolume([[5, 5]], [3, 3]) == 0.0
    assert hypervolume(np.empty((0, 2)), [1, 1]) == 0.0
    rng = np.random.default_rng(0)
    pts, ref = rng.random((12, 3)), np.ones(3)
    grid = rng.random((100_000, 3))
    mc = (grid[:, None, :] >= pts[None]).all(-1).any(1).mean()
    assert hypervolume(pts, ref) == pytest.approx(mc, abs=0.01)


def test_adapt_config_fills_drops_and_rejects():
    from hyperhive.search.warm import adapt_config

    space = hh.Space({"model": ["a", "b"], "lr": hh.Float(1e-3, 1.0, log=True), "k": hh.Int(1, 4)})
    space.condition("k", on="model", equals="b")
    assert adapt_config({"model": "a", "lr": 0.1, "old": 3}, space) == {"model": "a", "lr": 0.1}
    assert adapt_config({"model": "b", "lr": 0.1}, space) == {"model": "b", "lr": 0.1, "k": 3}
    assert adapt_config({"model": "a", "lr": 0.1, "k": 2}, space) == {"model": "a", "lr": 0.1}
    assert adapt_config({"model": "c", "lr": 0.1}, space) is None
    assert adapt_config({"model": "a", "lr": 5.0}, space) is None


def test_optimizers_without_warm_start_ignore_it():
    old = hh.search(branin, SPACE, optimizer="random", max_evals=5, seed=0)
    new = hh.search(branin, SPACE, optimizer="random", max_evals=4, seed=0, warm_start=old)
    plain = hh.search(branin, SPACE, optimizer="random", max_evals=4, seed=0)
    assert [t.config for t in new.records] == [t.config for t in plain.records]
