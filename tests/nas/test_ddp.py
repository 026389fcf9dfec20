"""Data-parallel training on two processes matches one process with the same global batch."""

from __future__ import annotations

import copy

import pytest
import torch

import hyperhive as hh
from hyperhive import nas

# no dropout, no batch norm: the two runs must then agree up to rounding
GRAPH = nas.fully_connected_space(5, 1, layers=2, units=(8,), activations=("tanh",))


def data():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(70, 5, generator=gen)
    y = torch.sin(x).sum(1, keepdim=True)
    return (x[:50], y[:50]), (x[50:], y[50:])


def test_two_processes_match_one_and_report_through_the_trial() -> None:
    train, val = data()
    space = GRAPH.to_space() | hh.Space(
        {nas.PROCESSES_KEY: [2], "batch_size": [15], "lr": hh.Float(1e-2, 2e-2)}
    )
    config = space.sample(1, seed=5)[0]
    model = GRAPH.build(config)
    reference = copy.deepcopy(model)
    kwargs = {"epochs": 3, "batch_size": config["batch_size"], "lr": config["lr"], "seed": 7}
    single = nas.train(reference, train, val, processes=1, **kwargs)
    trained = {}

    def objective(cfg):
        assert nas.slots_per_trial(cfg) == 2
        fit = nas.train(model, train, val, processes=cfg[nas.PROCESSES_KEY], **kwargs)
        trained["fit"] = fit
        return fit.best_value

    result = hh.search(objective, space, max_evals=1)
    (trial,) = result.records
    assert trial.status == hh.TrialStatus.DONE, trial.traceback
    fit = trained["fit"]
    assert [r.value for r in trial.reports] == [h["value"] for h in fit.history]
    assert [h["value"] for h in fit.history] == pytest.approx(
        [h["value"] for h in single.history], rel=1e-4
    )
    for (name, a), (_, b) in zip(
        reference.state_dict().items(), model.state_dict().items(), strict=True
    ):
        assert torch.allclose(a, b, atol=1e-5), name


def test_a_failing_worker_raises_with_its_traceback() -> None:
    train, _ = data()

    def bad_loss(pred, y):
        raise RuntimeError("boom in the loss")

    with pytest.raises(nas.DataParallelError, match="boom in the loss"):
        nas.train(GRAPH.build(), train, processes=2, loss=bad_loss, epochs=1)


def test_slots_per_trial() -> None:
    assert nas.slots_per_trial({}) == 1
    assert nas.slots_per_trial({nas.PROCESSES_KEY: 4}) == 4
    assert nas.slots_per_trial({"n": 3}, key="n") == 3
    with pytest.raises(ValueError, match="positive integer"):
        nas.slots_per_trial({nas.PROCESSES_KEY: 0})
    with pytest.raises(ValueError, match="cannot feed 3 processes"):
        nas.train(GRAPH.build(), (torch.randn(2, 5), torch.randn(2, 1)), processes=3)
