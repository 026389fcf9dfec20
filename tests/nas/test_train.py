"""The training helper: loss goes down, reports, stop requests, early stopping, save/load."""

from __future__ import annotations

import math

import pytest
import torch

import hyperhive as hh
from hyperhive import nas
from hyperhive.nas import training as train_module


def regression_data(n: int = 96, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=gen)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5], [0.0]]) + 0.1
    return (x[:64], y[:64]), (x[64:], y[64:])


GRAPH = nas.fully_connected_space(4, 1, layers=2, units=(8, 16), activations=("tanh",))


def test_training_reduces_the_validation_loss() -> None:
    train, val = regression_data()
    model = GRAPH.build(GRAPH.to_space().default())
    first = nas.train(model, train, val, epochs=1, lr=1e-2, seed=0).best_value
    fit = nas.train(model, train, val, epochs=25, lr=1e-2, batch_size=16, seed=0)
    assert fit.epochs == 25 and fit.best_value < 0.5 * first
    assert fit.best_value == min(h["value"] for h in fit.history)
    assert not (fit.stopped or fit.early_stopped or fit.diverged)
    assert set(fit.history[0]) == {"epoch", "train_loss", "value", "seconds"}


def test_early_stopping_and_restoring_the_best_weights() -> None:
    train, val = regression_data()
    model = GRAPH.build(GRAPH.to_space().default())
    fit = nas.train(model, train, val, epochs=50, patience=2, min_delta=1e9, lr=1e-2)
    assert fit.early_stopped and fit.epochs == 3 and fit.best_epoch == 1
    x, y = val
    with torch.no_grad():
        restored = torch.nn.functional.mse_loss(model(x), y).item()
    assert restored == pytest.approx(fit.best_value, rel=1e-5)


def test_classification_with_accuracy() -> None:
    g = nas.fully_connected_space(2, 2, layers=1, units=(16,), task="classification")
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(128, 2, generator=gen)
    y = (x[:, 0] * x[:, 1] > 0).long()
    model = g.build(g.to_space().default())
    fit = nas.train(model, (x, y), (x, y), epochs=30, lr=3e-2, monitor="accuracy")
    assert 0.5 < fit.best_value <= 1.0  # maximized: the best epoch has the top accuracy
    assert fit.best_value == max(h["value"] for h in fit.history)


def test_no_validation_data_monitors_the_training_loss() -> None:
    train, _ = regression_data()
    model = GRAPH.build(GRAPH.to_space().default())
    fit = nas.train(model, train, epochs=2, optimizer="sgd", lr=1e-3, loss="mae")
    assert [h["value"] for h in fit.history] == [h["train_loss"] for h in fit.history]


def test_divergence_is_reported() -> None:
    train, val = regression_data()
    model = GRAPH.build(GRAPH.to_space().default())
    fit = nas.train(model, (train[0], train[1] * 1e30), val, epochs=5, lr=10.0, optimizer="sgd")
    assert fit.diverged and fit.epochs < 5 and math.isnan(fit.history[-1]["value"])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"epochs": 0}, "epochs"),
        ({"lr": -1.0}, "lr"),
        ({"monitor": "f1"}, "unknown monitor"),
        ({"loss": "hinge"}, "unknown loss"),
        ({"optimizer": "lbfgs"}, "unknown optimizer"),
    ],
)
def test_invalid_settings(kwargs: dict, match: str) -> None:
    train, _ = regression_data()
    with pytest.raises(ValueError, match=match):
        nas.train(GRAPH.build(GRAPH.to_space().default()), train, **kwargs)


def test_bad_data() -> None:
    model = GRAPH.build(GRAPH.to_space().default())
    with pytest.raises(ValueError, match="same, nonzero length"):
        nas.train(model, (torch.randn(5, 4), torch.randn(4, 1)))
    with pytest.raises(TypeError, match="pair"):
        nas.train(model, torch.randn(5, 4))


def test_reports_stop_requests_and_save_load_through_search(tmp_path, monkeypatch) -> None:
    train, val = regression_data()
    space = GRAPH.to_space() | hh.Space({"lr": hh.Float(1e-3, 3e-2, log=True)})
    predictions: dict[int, torch.Tensor] = {}

    def objective(config):
        model = GRAPH.build(config)
        fit = nas.train(model, train, val, lr=config["lr"], epochs=4, save=True)
        with torch.no_grad():
            predictions[hh.current_trial().id] = model(val[0])
        return fit.best_value

    result = hh.search(objective, space, max_evals=3, seed=0, run_dir=tmp_path / "run")
    assert all(len(t.reports) == 4 for t in result.records)
    assert [r.step for r in result.records[0].reports] == [1, 2, 3, 4]
    best = hh.load(tmp_path / "run").best
    model = nas.load_model(tmp_path / "run")
    assert model.config == best.config and not model.training
    with torch.no_grad():
        assert torch.allclose(model(val[0]), predictions[best.id])
    other = next(t.id for t in result.records if t.id != best.id)
    with torch.no_grad():
        assert torch.allclose(
            nas.load_model(tmp_path / "run", trial=other)(val[0]), predictions[other]
        )
    folder = tmp_path / "run" / "trials" / str(best.id)
    assert nas.load_model(folder, graph=GRAPH).config == best.config

    # hh.should_stop() ends training after the current epoch
    calls = iter([False, True])
    monkeypatch.setattr(train_module, "should_stop", lambda: next(calls))
    fit = nas.train(GRAPH.build(best.config), train, val, epochs=10)
    assert fit.stopped and fit.epochs == 2


def test_load_errors(tmp_path) -> None:
    result = hh.search(lambda c: 1.0, GRAPH.to_space(), max_evals=1, run_dir=tmp_path / "r")
    assert result.best is not None
    with pytest.raises(FileNotFoundError, match="no saved model"):
        nas.load_model(tmp_path / "r")
    with pytest.raises(FileNotFoundError, match="holds no hyperhive run"):
        nas.load_model(tmp_path / "nothing")
    train, _ = regression_data()
    with pytest.warns(UserWarning, match="the model is not saved"):
        fit = nas.train(GRAPH.build(GRAPH.to_space().default()), train, epochs=1, save=True)
    assert fit.saved is None
    fit = nas.train(GRAPH.build(GRAPH.to_space().default()), train, epochs=1, save=tmp_path / "m")
    assert nas.load_model(fit.saved).config == fit.model.config
