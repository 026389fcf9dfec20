"""AutoDEUQ end to end: nas members trained under the process executor, selected, saved."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import hyperhive as hh  # noqa: E402
from hyperhive import ensemble, nas  # noqa: E402


def data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, size=(n, 1)).astype("float32")
    y = np.sin(2 * x[:, 0]) + 0.2 * rng.standard_normal(n)
    return x, y.astype("float32")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    train, val = data(200, 0), data(100, 1)
    arch = nas.fully_connected_space(
        input_shape=(1,), output_units=1, layers=2, units=(8, 16), skip=False, head="gaussian"
    )
    space = arch.to_space() | hh.Space({"lr": hh.Float(3e-3, 3e-2, log=True)})

    def objective(config: dict) -> float:
        import torch

        torch.set_num_threads(1)
        model = arch.build(config)
        fit = nas.train(
            model, train, val, loss="gaussian_nll", lr=config["lr"], epochs=15, save=True
        )
        return fit.best_value

    run_dir = tmp_path_factory.mktemp("uq") / "run"
    online = ensemble.OnlineEnsemble(run_dir, val, size=3)
    result = hh.search(
        objective,
        space,
        max_evals=6,
        workers=2,
        executor="process",
        run_dir=run_dir,
        seed=0,
        callbacks=[online],
    )
    return {"run_dir": run_dir, "val": val, "result": result, "online": online}


def test_from_run_builds_a_calibrated_ensemble(run: dict, tmp_path: Path) -> None:
    ens = ensemble.from_run(run["run_dir"], val_data=run["val"], size=3, selector="greedy")
    done = {str(t.id) for t in run["result"].done}
    assert len(done) == 6 and {m.name for m in ens.members} <= done
    assert all(m.kind == "nas" and m.head == "gaussian" for m in ens.members)
    pred = ens.predict(data(50, 2)[0])
    assert pred.mean.shape == pred.std.shape == (50,)
    np.testing.assert_allclose(pred.std**2, pred.aleatoric**2 + pred.epistemic**2, rtol=1e-9)
    scores = ens.evaluate(data(300, 3))
    assert scores["rmse"] < 0.6 and np.isfinite(scores["nll"])
    # Greedy starts from the 3 best members equally weighted and only adds what helps.
    members = ensemble.run_members(run["run_dir"])
    stack = ensemble.Stack([m.predict(run["val"][0]) for m in members], run["val"][1])
    start = np.zeros(stack.m)
    start[list(ensemble.topk(stack, 3))] = 1 / 3
    assert ens.info["val_loss"] <= stack.loss(start) + 1e-9
    topk = ensemble.from_run(run["run_dir"], run["val"], size=2, selector="topk", candidates=4)
    assert len(topk.members) == 2 and topk.info["candidates"] == 4


def test_online_ensemble_followed_the_search(run: dict) -> None:
    online = run["online"]
    assert online.candidates == 6 and online.ensemble is not None
    offline = ensemble.from_run(run["run_dir"], run["val"], size=3)
    assert online.ensemble.composition == pytest.approx(offline.composition)
    late = ensemble.OnlineEnsemble(run["run_dir"], run["val"], size=3)  # a resumed search
    assert late.ensemble is None
    assert late.catch_up().composition == pytest.approx(offline.composition)
    assert late.candidates == 6 and late.catch_up() is late.ensemble  # nothing new


def test_bad_arguments_are_refused_before_work(run: dict, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="selector must be one of"):
        ensemble.from_run(run["run_dir"], run["val"], selector="best")
    with pytest.raises(ValueError, match="OnlineEnsemble"):
        ensemble.from_run(run["run_dir"], run["val"], selector="online")
    with pytest.raises(ValueError, match="size must be a positive integer"):
        ensemble.from_run(run["run_dir"], run["val"], size=0)
    with pytest.raises(ValueError, match="calibrate must be one of"):
        ensemble.OnlineEnsemble(run["run_dir"], run["val"], calibrate="yes")
    with pytest.raises(TypeError, match="val_data must be a pair"):
        ensemble.from_run(run["run_dir"], run["val"][0])
    hh.search(lambda c: c["x"], hh.Space({"x": hh.Float(0, 1)}), max_evals=2, run_dir=tmp_path)
    with pytest.raises(ValueError, match="saved a member"):
        ensemble.from_run(tmp_path, run["val"])
