"""The Lightning callback inside real searches: one report per epoch, stop on request."""

from __future__ import annotations

import importlib
import math
import os
import warnings

import pytest

import hyperhive as hh

# Under CI=true a missing dependency fails instead of skipping.
if os.environ.get("CI") == "true":
    importlib.import_module("lightning")
else:
    pytest.importorskip("lightning")
import lightning as L  # noqa: E402
import torch  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

from hyperhive.integrations.lightning import ReportCallback  # noqa: E402


class Tiny(L.LightningModule):
    def __init__(self, lr: float) -> None:
        super().__init__()
        self.lr = lr
        self.net = torch.nn.Linear(4, 1)

    def training_step(self, batch, _):
        x, y = batch
        return torch.nn.functional.mse_loss(self.net(x), y)

    def validation_step(self, batch, _):
        x, y = batch
        self.log("val_loss", torch.nn.functional.mse_loss(self.net(x), y))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.lr)


def loaders():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 4, generator=g)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]]) + 0.1 * torch.randn(64, 1, generator=g)
    train = DataLoader(TensorDataset(x[:48], y[:48]), batch_size=16)
    val = DataLoader(TensorDataset(x[48:], y[48:]), batch_size=16)
    return train, val


def train(config, epochs, extra=()):
    torch.manual_seed(0)
    report = ReportCallback(monitor="val_loss", mode="min")
    trainer = L.Trainer(
        max_epochs=epochs,
        callbacks=[report, *extra],
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(Tiny(config["lr"]), *loaders())
    return report, trainer


def test_each_epoch_is_reported_in_a_search():
    def objective(config):
        report, _ = train(config, epochs=3)
        return {"objective": report.best, "history": [v for _, v in report.history]}

    result = hh.search(objective, {"lr": (0.01, 0.1)}, max_evals=2, optimizer="random", seed=0)
    assert result.count("done") == 2
    for _, row in result.trials.iterrows():
        assert len(row["m:history"]) == 3
    best = result.best
    assert [r.step for r in best.reports] == [0, 1, 2]  # the sanity check is not reported
    assert [r.value for r in best.reports] == pytest.approx(best.metadata["history"])
    assert best.objective == pytest.approx(min(best.metadata["history"]))


def test_training_stops_when_the_trial_should_stop():
    executor = hh.executors.Serial()

    class RequestStop(L.Callback):  # a stopper's request, made at the start of epoch 1
        def on_train_epoch_start(self, trainer, pl_module):
            if trainer.current_epoch == 1:
                executor.request_stop(hh.current_trial().id)

    def objective(config):
        report, trainer = train(config, epochs=6, extra=[RequestStop()])
        return {"objective": report.best, "epochs_run": trainer.current_epoch}

    ended = []
    hh.search(
        objective,
        {"lr": (0.01, 0.1)},
        max_evals=1,
        executor=executor,
        seed=0,
        callbacks=[lambda trial, state: ended.append(trial)],
    )
    (trial,) = ended
    assert str(trial.status) == "stopped"
    assert [r.step for r in trial.reports] == [0, 1]
    assert trial.metadata["epochs_run"] == 2  # not 6


def test_outside_a_search_and_a_missing_metric():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # hh.report outside a trial warns (once a process)
        report, _ = train({"lr": 0.05}, epochs=2)
    assert [e for e, _ in report.history] == [0, 1]
    assert report.best == min(v for _, v in report.history) and not math.isnan(report.best)
    with pytest.raises(ValueError, match="mode"):
        ReportCallback(mode="lowest")
    wrong = ReportCallback(monitor="val_acc")
    trainer = L.Trainer(
        max_epochs=1,
        callbacks=[wrong],
        logger=False,
        enable_progress_bar=False,
        enable_checkpointing=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
    )
    with pytest.raises(KeyError, match="val_acc"):
        trainer.fit(Tiny(0.05), *loaders())
