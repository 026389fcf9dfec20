"""Known answers: a 1-D heteroscedastic function with two noise levels and a gap.

Training data lie on [-3, -1] (noise std 0.1) and [1, 3] (noise std 0.4). An
ensemble of small Gaussian-head networks must recover each noise level in its
aleatoric part, be more epistemically uncertain in the gap (-1, 1) and outside
[-3, 3] than inside the training intervals, and its 95% intervals must cover
about 95% of fresh points.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hyperhive import ensemble, nas  # noqa: E402

NOISE = {"left": 0.1, "right": 0.4}


def truth(x: np.ndarray) -> np.ndarray:
    return np.sin(1.5 * x)


def sample(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x = np.concatenate([rng.uniform(-3, -1, n // 2), rng.uniform(1, 3, n - n // 2)])
    noise = np.where(x < 0, NOISE["left"], NOISE["right"])
    return x[:, None].astype("float32"), (truth(x) + noise * rng.standard_normal(n)).astype(
        "float32"
    )


def graph(activation: str) -> nas.Graph:
    return nas.Graph(
        {"x": (1,)},
        [
            nas.Constant("h1", nas.Dense(32, activation), "x"),
            nas.Constant("h2", nas.Dense(32, activation), "h1"),
            nas.Constant("out", nas.Gaussian(1), "h2"),  # the head as a graph operation
        ],
        "out",
    )


@pytest.fixture(scope="module")
def problem(tmp_path_factory: pytest.TempPathFactory) -> dict:
    rng = np.random.default_rng(0)
    train, val, test = sample(400, rng), sample(200, rng), sample(2000, rng)
    root = tmp_path_factory.mktemp("members")
    members = []
    for i, activation in enumerate(["tanh", "relu", "tanh", "relu"]):
        torch.manual_seed(i)
        model = graph(activation).build()
        # No loss given: a model ending in a Gaussian head trains on gaussian_nll.
        nas.train(model, train, val, epochs=60, batch_size=64, lr=1e-2, seed=i, save=root / str(i))
        members.append(ensemble.load_member(root / str(i)))
    ens = ensemble.build(members, val, size=4, selector="topk")
    return {"ens": ens, "test": test, "val": val, "root": root}


def mean_over(ens: ensemble.Ensemble, lo: float, hi: float, part: str) -> float:
    x = np.linspace(lo, hi, 25, dtype="float32")[:, None]
    return float(getattr(ens.predict(x), part).mean())


def test_aleatoric_recovers_each_noise_level(problem: dict) -> None:
    ens = problem["ens"]
    assert mean_over(ens, -2.8, -1.2, "aleatoric") == pytest.approx(NOISE["left"], rel=0.2)
    assert mean_over(ens, 1.2, 2.8, "aleatoric") == pytest.approx(NOISE["right"], rel=0.2)


def test_epistemic_is_larger_in_the_gap_and_outside(problem: dict) -> None:
    ens = problem["ens"]
    inside = max(mean_over(ens, -2.8, -1.2, "epistemic"), mean_over(ens, 1.2, 2.8, "epistemic"))
    assert mean_over(ens, -0.5, 0.5, "epistemic") > 3 * inside
    assert mean_over(ens, -5.5, -4.5, "epistemic") > 3 * inside
    assert mean_over(ens, 4.5, 5.5, "epistemic") > 3 * inside


def test_95_percent_intervals_cover_fresh_points(problem: dict) -> None:
    scores = problem["ens"].evaluate(problem["test"])
    assert 0.92 <= scores["coverage_95"] <= 0.98
    assert 0.86 <= scores["coverage_90"] <= 0.94
    low, high = problem["ens"].predict(problem["test"][0]).interval(0.95)
    y = problem["test"][1]
    assert np.mean((low <= y) & (y <= high)) == pytest.approx(scores["coverage_95"])


def test_save_and_load_round_trip(problem: dict, tmp_path: Path) -> None:
    ens = problem["ens"]
    folder = ens.save(tmp_path / "uq-ensemble")
    assert not any(p.suffix == ".pkl" for p in folder.rglob("*"))  # weights and JSON only
    again = ensemble.load(folder)
    x = problem["test"][0][:100]
    a, b = ens.predict(x), again.predict(x)
    for part in ("mean", "std", "aleatoric", "epistemic"):
        np.testing.assert_allclose(getattr(a, part), getattr(b, part), rtol=1e-6)
    assert again.calibration == ens.calibration
    np.testing.assert_allclose(again.weights, ens.weights)
    ens.save(folder)  # replacing an ensemble is allowed, another folder's files are not
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not empty"):
        ens.save(tmp_path / "other")
