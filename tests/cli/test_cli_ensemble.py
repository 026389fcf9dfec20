"""``hyperhive ensemble``: build and save an ensemble from a run and an .npz file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import BayesianRidge

import hyperhive as hh
from hyperhive import ensemble


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(300, 2))
    y = x @ np.array([1.0, -2.0]) + 0.2 * rng.standard_normal(300)
    root = tmp_path_factory.mktemp("cli-ensemble")

    def objective(config: dict) -> float:
        n = config["n"]
        model = BayesianRidge(alpha_1=config["alpha"]).fit(x[:n], y[:n])
        ensemble.save_member(model)
        return float(np.mean((model.predict(x[200:]) - y[200:]) ** 2))

    space = hh.Space({"alpha": hh.Float(1e-6, 1.0, log=True), "n": hh.Int(10, 200)})
    hh.search(objective, space, max_evals=5, run_dir=root / "run", seed=0)
    np.savez(root / "val.npz", x=x[200:], y=y[200:])
    np.savez(root / "bad.npz", inputs=x[200:])
    return {"root": root, "run": root / "run", "val": root / "val.npz"}


def test_builds_and_saves_an_ensemble(cli: Callable, run: dict) -> None:
    out = run["root"] / "ens"
    res = cli("ensemble", run["run"], "--size", 3, "--selector", "greedy", "--val", run["val"],
              "--out", out, "--allow-pickle")  # fmt: skip
    assert res.exit_code == 0, res.stderr
    assert "coverage_95" in res.stdout and "saved the ensemble" in res.stderr
    ens = ensemble.load(out, allow_pickle=True)
    assert 1 <= len(ens.members) <= 3 and set(ens.composition) <= {str(i) for i in range(5)}
    res = cli("ensemble", run["run"], "--val", run["val"], "--out", out, "--allow-pickle",
              "--selector", "topk", "--size", 2)  # fmt: skip
    assert res.exit_code == 0 and len(ensemble.load(out, allow_pickle=True).members) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--selector", "best"], "--selector must be one of"),
        (["--size", "0"], "--size must be a positive integer"),
        (["--calibrate", "maybe"], "calibrate must be one of"),
        ([], "is a pickle"),
    ],
)
def test_user_errors_exit_2_with_one_line(
    cli: Callable, run: dict, args: list[str], message: str
) -> None:
    res = cli("ensemble", run["run"], "--val", run["val"], "--out", run["root"] / "e2", *args)
    assert res.exit_code == 2
    assert message in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_bad_files_exit_2(cli: Callable, run: dict, tmp_path: Path) -> None:
    res = cli("ensemble", run["run"], "--val", run["root"] / "bad.npz", "--out", tmp_path / "e")
    assert res.exit_code == 2 and "needs arrays 'x' and 'y'" in res.stderr
    res = cli("ensemble", run["run"], "--val", tmp_path / "none.npz", "--out", tmp_path / "e")
    assert res.exit_code == 2 and "no such file" in res.stderr
    res = cli("ensemble", tmp_path, "--val", run["val"], "--out", tmp_path / "e")
    assert res.exit_code == 2 and "not a run directory" in res.stderr
