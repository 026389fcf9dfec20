"""Record the learning curves the stopper benchmarks replay (run once; the output is committed).

Three tasks on data that ships with scikit-learn, each trained epoch by epoch for
27 epochs, from a few hundred random configurations and two training seeds; every
value is a loss to minimize, measured on a held-out split after each epoch:

``sgd_digits``
    scikit-learn ``SGDClassifier.partial_fit`` on the digits (loss, alpha, eta0,
    learning-rate schedule); validation error rate. Early rankings mostly hold.
``mlp_digits``
    a two-layer PyTorch MLP trained with Adam on the digits (learning rate, width,
    batch size, weight decay); validation error rate.
``mlp_digits_small``
    the same MLP on 250 training digits; validation cross-entropy. Large learning
    rates reach a low loss within a few epochs and then over-fit (the loss climbs),
    while small ones improve slowly and end best: the curves **cross**.

Output: ``benchmarks/stopper_curves.npz`` (compressed): for each task ``<task>/curves``
(configurations x seeds x epochs, float32), ``<task>/params`` (configurations x
parameters; a categorical is stored as its index) and ``meta`` (JSON: for each task its
parameters and their ranges, the metric and the seeds).

Usage::

    python benchmarks/stopper_curves.py [--configs 1024] [--epochs 27] [--jobs 16] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time
import warnings
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
OUT = HERE / "stopper_curves.npz"
SEEDS = (0, 1)

# name -> (kind, low/choices, high, log)
SGD_PARAMS: dict[str, tuple[Any, ...]] = {
    "loss": ("cat", ["hinge", "log_loss", "modified_huber"]),
    "alpha": ("float", 1e-6, 1e-1, True),
    "eta0": ("float", 1e-4, 1.0, True),
    "schedule": ("cat", ["constant", "invscaling", "adaptive"]),
}
MLP_PARAMS: dict[str, tuple[Any, ...]] = {
    "lr": ("float", 1e-4, 1e-1, True),
    "width": ("int", 16, 256, True),
    "batch": ("cat", [32, 64, 128, 256]),
    "weight_decay": ("float", 1e-7, 1e-2, True),
}


def _sample(params: dict[str, tuple[Any, ...]], n: int, rng: np.random.Generator) -> np.ndarray:
    cols = []
    for spec in params.values():
        if spec[0] == "cat":
            cols.append(rng.integers(0, len(spec[1]), n).astype(float))
        else:
            lo, hi, log = spec[1], spec[2], spec[3]
            u = rng.uniform(np.log(lo), np.log(hi), n) if log else rng.uniform(lo, hi, n)
            v = np.exp(u) if log else u
            cols.append(np.round(v) if spec[0] == "int" else v)
    return np.column_stack(cols)


def _config(params: dict[str, tuple[Any, ...]], row: np.ndarray) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for (name, spec), v in zip(params.items(), row, strict=True):
        out[name] = spec[1][int(v)] if spec[0] == "cat" else (int(v) if spec[0] == "int" else v)
    return out


@lru_cache(maxsize=4)
def _digits(n_train: int | None) -> tuple[np.ndarray, ...]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    xtr, xva, ytr, yva = train_test_split(x, y, test_size=0.3, random_state=0, stratify=y)
    if n_train is not None:
        xtr, ytr = xtr[:n_train], ytr[:n_train]
    return xtr, xva, ytr, yva


def sgd_curve(cfg: dict[str, Any], seed: int, epochs: int) -> list[float]:
    from sklearn.linear_model import SGDClassifier

    xtr, xva, ytr, yva = _digits(None)
    model = SGDClassifier(
        loss=cfg["loss"],
        alpha=cfg["alpha"],
        eta0=cfg["eta0"],
        learning_rate=cfg["schedule"],
        random_state=seed,
    )
    rng = np.random.default_rng(seed)
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(epochs):
            order = rng.permutation(len(xtr))
            model.partial_fit(xtr[order], ytr[order], classes=np.arange(10))
            out.append(float(np.mean(model.predict(xva) != yva)))
    return out


def _mlp_curve(
    cfg: dict[str, Any], seed: int, epochs: int, n_train: int | None, metric: str
) -> list[float]:
    import torch

    torch.set_num_threads(1)
    xtr, xva, ytr, yva = (torch.as_tensor(a) for a in _digits(n_train))
    torch.manual_seed(seed)
    w = int(cfg["width"])
    model = torch.nn.Sequential(
        torch.nn.Linear(64, w), torch.nn.ReLU(), torch.nn.Linear(w, w), torch.nn.ReLU()
    )
    model.append(torch.nn.Linear(w, 10))
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"])
    gen = torch.Generator().manual_seed(seed)
    bs = int(cfg["batch"])
    out = []
    for _ in range(epochs):
        perm = torch.randperm(len(xtr), generator=gen)
        for start in range(0, len(xtr), bs):
            idx = perm[start : start + bs]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(xtr[idx]), ytr[idx]).backward()
            opt.step()
        with torch.no_grad():
            logits = model(xva)
            if metric == "error":
                value = float((logits.argmax(1) != yva).float().mean())
            else:
                value = float(torch.nn.functional.cross_entropy(logits, yva))
        out.append(value if np.isfinite(value) else 10.0)
    return out


TASKS: dict[str, tuple[dict[str, tuple[Any, ...]], Callable[..., list[float]], str]] = {
    "sgd_digits": (SGD_PARAMS, sgd_curve, "validation error rate"),
    "mlp_digits": (
        MLP_PARAMS,
        lambda c, s, e: _mlp_curve(c, s, e, None, "error"),
        "validation error rate",
    ),
    "mlp_digits_small": (
        MLP_PARAMS,
        lambda c, s, e: _mlp_curve(c, s, e, 250, "xent"),
        "validation cross-entropy (250 training samples)",
    ),
}


def _record_one(job: tuple[str, tuple[float, ...], int, int]) -> list[float]:
    name, row, seed, epochs = job
    params, fn, _ = TASKS[name]
    return fn(_config(params, np.asarray(row)), seed, epochs)


def _merge(paths: list[Path], out: Path) -> None:
    arrays: dict[str, np.ndarray] = {}
    meta: dict[str, Any] = {}
    for path in paths:
        with np.load(path) as part:
            part_meta = json.loads(str(part["meta"]))
            arrays.update({k: part[k] for k in part.files if k != "meta"})
        tasks = {**meta.get("tasks", {}), **part_meta["tasks"]}
        meta = {**part_meta, "tasks": tasks}
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez_compressed(out, **arrays)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--configs", type=int, default=1024)
    ap.add_argument("--epochs", type=int, default=27)
    ap.add_argument("--tasks", nargs="*", default=list(TASKS))
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--jobs", type=int, default=1, help="worker processes")
    ap.add_argument("--merge", nargs="*", type=Path, help="merge these recordings into --out")
    args = ap.parse_args()
    if args.merge:
        _merge(args.merge, args.out)
        return
    arrays: dict[str, np.ndarray] = {}
    meta: dict[str, Any] = {"epochs": args.epochs, "seeds": list(SEEDS), "tasks": {}}
    for name in args.tasks:
        params, fn, metric = TASKS[name]
        rows = _sample(params, args.configs, np.random.default_rng(1000 + list(TASKS).index(name)))
        t0 = time.perf_counter()
        jobs = [(name, tuple(row), seed, args.epochs) for row in rows for seed in SEEDS]
        if args.jobs > 1:
            with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
                flat = pool.map(_record_one, jobs, chunksize=4)
        else:
            flat = [_record_one(job) for job in jobs]
        shape = (args.configs, len(SEEDS), args.epochs)
        curves = np.asarray(flat, dtype=np.float32).reshape(shape)
        arrays[f"{name}/curves"] = curves
        arrays[f"{name}/params"] = rows
        meta["tasks"][name] = {"params": params, "metric": metric}
        print(f"{name}: {args.configs} configurations in {time.perf_counter() - t0:.0f} s")
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez_compressed(args.out, **arrays)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
