"""Neural architecture search for a sea-surface-temperature forecasting surrogate.

Part 1 searches a stacked-LSTM forecaster of the monthly sea surface temperature of
the El Niño 1+2 region (0-10°S, 90-80°W, NOAA ERSST v3b, 1950-2010; the series that
ships with statsmodels): from the last 24 months it predicts the next 3.

Part 2 runs the same pipeline on a gridded field: a proper orthogonal decomposition
(an SVD of the training snapshots) reduces the field to its leading modes, an LSTM
forecasts their coefficients a month ahead, and the field is rebuilt from them. The
field is generated here: a climatology, a seasonal cycle, a pattern driven by the
real Niño 1+2 anomaly, a westward-propagating wave and noise.

Each search treats the architecture (layers, cell types, widths, skip connections)
and the learning rate and batch size as one search space, trains every candidate
with early stopping on the validation years, keeps the trained weights, and reloads
the best model to score it on the test years beside a hand-designed LSTM.

    pip install "hyperhive[nas-examples]"      # torch and statsmodels
    python examples/forecasting_sst.py          # a few minutes on two CPU cores
    python examples/forecasting_sst.py --quick  # a smoke run (tiny budget)
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

import hyperhive as hh
from hyperhive import nas

WINDOW = 24  # months of history per input window
TRAIN_END, VAL_END = 1996, 2003  # train 1950-1995, validate 1996-2002, test 2003-2010


def load_sst() -> tuple[np.ndarray, np.ndarray]:
    """Monthly Niño 1+2 SST (°C) and the decimal year of each month."""
    from statsmodels.datasets import elnino

    table = elnino.load_pandas().data
    sst = table.drop(columns="YEAR").to_numpy(dtype=np.float64).ravel()
    years = np.repeat(table["YEAR"].to_numpy(), 12) + np.tile(np.arange(12) / 12, len(table))
    return sst, years


def windows(series: np.ndarray, years: np.ndarray, horizon: int) -> dict[str, tuple]:
    """Inputs ``(n, WINDOW, features + 2)`` (with the month as sin/cos) and targets
    ``(n, horizon * features)``, split by the year of the first forecast month."""
    series = series.reshape(len(series), -1)
    month = 2 * np.pi * (years % 1)
    feats = np.column_stack([series, np.sin(month), np.cos(month)])
    starts = np.arange(WINDOW, len(series) - horizon + 1)
    x = np.stack([feats[s - WINDOW : s] for s in starts]).astype(np.float32)
    y = np.stack([series[s : s + horizon].ravel() for s in starts]).astype(np.float32)
    year = years[starts]
    split = {"train": year < TRAIN_END, "val": (year >= TRAIN_END) & (year < VAL_END)}
    split["test"] = year >= VAL_END
    return {k: (torch.from_numpy(x[m]), torch.from_numpy(y[m])) for k, m in split.items()}


class HandLSTM(nn.Module):
    """The hand-designed baseline: two LSTM layers of 32 units and a linear head."""

    def __init__(self, features: int, outputs: int) -> None:
        super().__init__()
        self.lstm = nn.LSTM(features, 32, num_layers=2, batch_first=True)
        self.head = nn.Linear(32, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.lstm(x)[0][:, -1])


def search_surrogate(name, data, outputs, args) -> tuple[nn.Module, hh.Result]:
    """Search the stacked-LSTM space on ``data``; return the best trained model."""
    steps, features = data["train"][0].shape[1:]
    graph = nas.stacked_lstm_space(
        (steps, features), outputs, layers=3, units=(16, 32, 64), cells=("lstm", "gru")
    )
    space = graph.to_space() | hh.Space(
        {"lr": hh.Float(1e-3, 2e-2, log=True), "batch_size": hh.Categorical([16, 32, 64])}
    )
    epochs = args.epochs

    def objective(config: dict) -> float:
        torch.set_num_threads(1)
        model = graph.build(config)
        fit = nas.train(
            model,
            data["train"],
            data["val"],
            lr=config["lr"],
            batch_size=config["batch_size"],
            epochs=epochs,
            patience=6,
            save=True,  # keeps config + state_dict in the trial's artifact folder
        )
        return fit.best_value

    names = hh.optimizers.available_optimizers()
    optimizer = "evolution" if "evolution" in names else "auto"
    run_dir = Path(args.run_dir) / name
    result = hh.search(
        objective,
        space,
        optimizer=optimizer,
        max_evals=args.evals,
        workers=args.workers,
        run_dir=run_dir,
        seed=0,
    )
    best = nas.load_model(run_dir)  # rebuilds the best trial's model from the run dir
    print(f"\n[{name}] {len(result.done)} architectures trained ({optimizer!r} optimizer)")
    print(f"best trial {result.best.id}: validation MSE {result.best.objective:.4f}")
    print(f"  lr={best.config['lr']:.4g}  batch_size={best.config['batch_size']}")
    print("  " + best.describe().replace("\n", "\n  "))
    print(f"  {nas.count_parameters(best)} parameters")
    return best, result


def baseline(data, outputs, epochs: int) -> nn.Module:
    """Train the hand-designed LSTM with the same loop and budget."""
    model = HandLSTM(data["train"][0].shape[2], outputs)
    nas.train(model, data["train"], data["val"], lr=3e-3, epochs=epochs, patience=6)
    return model


def predict(model: nn.Module, x: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        return model.eval()(x).numpy()


def rmse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean((a - b) ** 2)))


def part_series(args) -> None:
    sst, years = load_sst()
    train_mask = years < TRAIN_END
    mean, std = sst[train_mask].mean(), sst[train_mask].std()
    horizon = 3
    data = windows((sst - mean) / std, years, horizon)
    best, _ = search_surrogate("series", data, horizon, args)
    hand = baseline(data, horizon, args.epochs)
    x, y = data["test"]
    truth = y.numpy() * std + mean
    persistence = np.repeat(x[:, -1:, 0].numpy(), horizon, axis=1) * std + mean
    print(f"\nNiño 1+2 SST, {horizon}-month forecasts for 2003-2010 ({len(y)} windows):")
    print(f"  {'model':28s}test RMSE (°C)")
    print(f"  {'persistence':28s}{rmse(persistence, truth):6.3f}")
    print(f"  {'hand-designed LSTM (2 x 32)':28s}{rmse(predict(hand, x) * std + mean, truth):6.3f}")
    print(f"  {'searched architecture':28s}{rmse(predict(best, x) * std + mean, truth):6.3f}")


def make_field(years: np.ndarray, sst: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A (months, lat, lon) field over 0-20°S, 120-70°W, driven by the real index."""
    lat = np.linspace(-20, 0, 16)[:, None]
    lon = np.linspace(-120, -70, 32)[None, :]
    month = years % 1
    clim = sst.mean() + 0.15 * lat + 0.02 * (lon + 95)
    seasonal = np.exp(-((lon + 85) ** 2) / 400) * np.cos(np.deg2rad(lat * 4))
    anomaly = sst - np.array([sst[np.isclose(month, m)].mean() for m in month])
    enso = np.exp(-((lat + 5) ** 2) / 60 - ((lon + 90) ** 2) / 500)
    t = np.arange(len(years))[:, None, None]
    wave = np.sin(2 * np.pi * (lon / 25.0 + t / 7.0)) * np.exp(-((lat + 10) ** 2) / 30)
    field = (
        clim[None]
        + 1.5 * np.sin(2 * np.pi * (month - 0.2))[:, None, None] * seasonal[None]
        + anomaly[:, None, None] * enso[None]
        + 0.3 * wave
    )
    return field + 0.05 * rng.standard_normal(field.shape)


def part_field(args) -> None:
    sst, years = load_sst()
    field = make_field(years, sst, np.random.default_rng(0))
    snaps = field.reshape(len(field), -1)
    train_mask = years < TRAIN_END
    mean_field = snaps[train_mask].mean(0)
    _, s, vt = np.linalg.svd(snaps[train_mask] - mean_field, full_matrices=False)
    energy = np.cumsum(s**2) / np.sum(s**2)
    modes = int(np.searchsorted(energy, 0.99) + 1)
    basis = vt[:modes].T  # (space, modes)
    coeffs = (snaps - mean_field) @ basis
    scale = coeffs[train_mask].std(0)
    print(
        f"\nGridded field {field.shape[1]} x {field.shape[2]}: {modes} POD modes keep "
        f"{100 * energy[modes - 1]:.1f}% of the training variance"
    )
    data = windows(coeffs / scale, years, 1)
    best, _ = search_surrogate("field", data, modes, args)
    hand = baseline(data, modes, args.epochs)
    x, y = data["test"]

    def rebuild(c: np.ndarray) -> np.ndarray:
        return (c * scale) @ basis.T + mean_field

    truth = snaps[years >= VAL_END]
    print("\nGridded field, 1-month forecasts for 2003-2010:")
    print(f"  {'model':28s}field RMSE (°C)")
    print(f"  {'projection on the modes':28s}{rmse(rebuild(y.numpy()), truth):6.3f}")
    print(f"  {'persistence':28s}{rmse(rebuild(x[:, -1, :modes].numpy()), truth):6.3f}")
    print(f"  {'hand-designed LSTM (2 x 32)':28s}{rmse(rebuild(predict(hand, x)), truth):6.3f}")
    print(f"  {'searched architecture':28s}{rmse(rebuild(predict(best, x)), truth):6.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tiny budget, for smoke tests")
    parser.add_argument("--run-dir", default="runs/forecasting_sst", help="folder of the runs")
    args = parser.parse_args()
    args.evals, args.epochs, args.workers = (2, 2, 1) if args.quick else (16, 40, 2)
    torch.manual_seed(0)
    torch.set_num_threads(1)
    start = time.perf_counter()
    part_series(args)
    part_field(args)
    print(f"\ntotal time {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":  # needed: process workers import this file
    main()
