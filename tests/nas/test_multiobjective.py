"""Multi-objective NAS: accuracy with model size or latency, as objectives or constraints."""

from __future__ import annotations

import numpy as np
import torch

import hyperhive as hh
from hyperhive import nas

GRAPH = nas.fully_connected_space(3, 1, layers=2, units=(4, 32), activations=("relu",))


def data():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(64, 3, generator=gen)
    return (x[:48], x[:48].prod(1, keepdim=True)), (x[48:], x[48:].prod(1, keepdim=True))


def test_count_parameters_and_latency() -> None:
    model = nas.Graph({"x": (3,)}, [nas.Constant("out", nas.Dense(2), "x")], "out").build()
    assert nas.count_parameters(model) == 3 * 2 + 2
    model.layers["out"].bias.requires_grad_(False)
    assert nas.count_parameters(model) == 6
    assert nas.count_parameters(model, trainable_only=False) == 8
    latency = nas.measure_latency(model, torch.randn(16, 3), repeats=5, warmup=1)
    assert 0 < latency < 1.0
    assert model.training  # restored


def test_accuracy_and_size_as_two_objectives() -> None:
    train, val = data()

    def objective(config):
        model = GRAPH.build(config)
        fit = nas.train(model, train, val, epochs=2, lr=1e-2)
        return fit.best_value, nas.count_parameters(model)

    result = hh.search(
        objective,
        GRAPH.to_space(),
        direction=["minimize", "minimize"],
        optimizer="random",
        max_evals=8,
        seed=1,
    )
    front = result.pareto_front()
    assert front and len(result.done) == 8
    values = np.array([t.values for t in front])
    for i in range(len(values)):  # nobody on the front dominates anybody else on it
        better_eq = np.all(values <= values[i], axis=1) & np.any(values < values[i], axis=1)
        assert not better_eq.any()
    sizes = {t.values[1] for t in result.done}
    assert min(sizes) in {t.values[1] for t in front}  # the smallest model is on the front


def test_size_as_a_constraint() -> None:
    train, val = data()
    limit = 200

    def objective(config):
        model = GRAPH.build(config)
        fit = nas.train(model, train, val, epochs=1, lr=1e-2)
        size = nas.count_parameters(model)
        return {"objective": fit.best_value, "constraints": [size - limit], "parameters": size}

    result = hh.search(objective, GRAPH.to_space(), optimizer="random", max_evals=6, seed=3)
    feasible = [t for t in result.done if t.feasible]
    if feasible:
        assert result.best.metadata["parameters"] <= limit
