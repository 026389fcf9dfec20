"""The Keras 3 callback (torch backend) inside real searches."""

from __future__ import annotations

import importlib
import os

import numpy as np
import pytest

import hyperhive as hh

# Under CI=true a missing dependency fails instead of skipping.
if os.environ.get("CI") == "true":
    keras = importlib.import_module("keras")
else:
    keras = pytest.importorskip("keras")

from hyperhive.integrations.keras import ReportCallback  # noqa: E402


def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5, 3.0], dtype="float32"))[:, None]
    return x, y


def fit(config, epochs, extra=()):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(config["lr"]), loss="mse")
    report = ReportCallback(monitor="val_loss")
    x, y = data()
    history = model.fit(
        x,
        y,
        validation_split=0.25,
        epochs=epochs,
        batch_size=16,
        verbose=0,
        callbacks=[*extra, report],
    )
    return report, history


def test_each_epoch_is_reported_in_a_search():
    assert keras.backend.backend() == "torch"

    def objective(config):
        report, history = fit(config, epochs=3)
        return {"objective": report.best, "history": history.history["val_loss"]}

    result = hh.search(objective, {"lr": (0.01, 0.1)}, max_evals=2, optimizer="random", seed=0)
    assert result.count("done") == 2
    best = result.best
    assert [r.step for r in best.reports] == [0, 1, 2]
    assert [r.value for r in best.reports] == pytest.approx(best.metadata["history"])


def test_training_stops_when_the_trial_should_stop():
    executor = hh.executors.Serial()

    class RequestStop(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                executor.request_stop(hh.current_trial().id)

    def objective(config):
        report, history = fit(config, epochs=6, extra=[RequestStop()])
        return {"objective": report.best, "epochs_run": len(history.history["val_loss"])}

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
    assert trial.metadata["epochs_run"] == 2


def test_missing_metric_is_named():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = data()
    with pytest.raises(KeyError, match="val_auc"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[ReportCallback(monitor="val_auc")])
