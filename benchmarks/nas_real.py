"""Real NAS: the fully connected space of ``hyperhive.nas`` trained on scikit-learn's digits.

Each trial builds the architecture proposed (``nas.fully_connected_space``: 3 layers
of 16-128 units, relu/tanh or identity, skip connections) plus a learning rate and
a batch size, trains it with ``nas.train`` (Adam, up to ``--epochs`` epochs, early
stopping after 5 without improvement, one torch thread) on 75 % of ``load_digits``
(1,797 8x8 images, 10 classes; bundled with scikit-learn, nothing is downloaded)
and returns the best validation cross-entropy on the other 25 % (the validation
accuracy goes to the trial's metadata). ``hh.search`` runs ``--workers`` process
workers until ``--evals`` architectures are trained.

Reported per method (median over ``--seeds`` searches): the best validation loss
and the accuracy of that trial after ``--evals`` evaluations, the wall time, and
the worker utilization (time spent inside the objective, from each trial's
``started``/``finished``, divided by ``workers x`` the search's wall time).

Run::

    .venv/bin/python benchmarks/nas_real.py --seeds 3 --methods evolution random agebo
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

LAYERS = 3
EPOCHS = 30
_DATA: Any = None


def graph() -> Any:
    """The architecture space: ``nas.fully_connected_space`` for 64 features, 10 classes."""
    from hyperhive import nas

    return nas.fully_connected_space(
        input_shape=(64,), output_units=10, layers=LAYERS, task="classification"
    )


def space() -> Any:
    """The architecture with the learning rate and the batch size."""
    import hyperhive as hh

    return graph().to_space() | hh.Space(
        {"lr": hh.Float(1e-4, 3e-2, log=True), "batch_size": hh.Ordinal([16, 32, 64, 128])}
    )


def data() -> tuple[Any, Any, Any, Any]:
    """Standardized digits, split 75/25 (stratified, fixed seed), as float32/int64 arrays."""
    global _DATA
    if _DATA is None:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split

        x, y = load_digits(return_X_y=True)
        xt, xv, yt, yv = train_test_split(x, y, test_size=0.25, stratify=y, random_state=0)
        mu, sd = xt.mean(axis=0), xt.std(axis=0) + 1e-6
        _DATA = (
            ((xt - mu) / sd).astype(np.float32),
            yt.astype(np.int64),
            ((xv - mu) / sd).astype(np.float32),
            yv.astype(np.int64),
        )
    return _DATA


def objective(config: Mapping[str, Any]) -> dict[str, Any]:
    """Train the configuration; the best validation cross-entropy, and its accuracy."""
    import torch

    from hyperhive import nas

    torch.set_num_threads(1)
    xt, yt, xv, yv = data()
    model = graph().build(config)
    fit = nas.train(
        model,
        (xt, yt),
        (xv, yv),
        lr=config["lr"],
        batch_size=config["batch_size"],
        epochs=EPOCHS,
        patience=5,
        seed=0,
    )
    with torch.no_grad():
        pred = fit.model(torch.from_numpy(xv)).argmax(dim=1).numpy()
    return {
        "objective": fit.best_value,
        "val_accuracy": float((pred == yv).mean()),
        "epochs": fit.epochs,
    }


def run(method: str, seed: int, evals: int, workers: int) -> dict[str, Any]:
    """One search; the best trial, wall time and utilization."""
    import nas_real  # the objective by reference, for the worker processes

    import hyperhive as hh

    t0 = time.time()
    res = hh.search(
        nas_real.objective,
        nas_real.space(),
        direction="minimize",
        optimizer=method,
        max_evals=evals,
        workers=workers,
        executor="process",
        seed=seed,
    )
    wall = time.time() - t0
    done = [t for t in res.records if t.status == hh.TrialStatus.DONE]
    busy = sum(
        t.finished - t.started
        for t in res.records
        if t.started is not None and t.finished is not None
    )
    best = min(done, key=lambda t: t.objective)
    return {
        "method": method,
        "seed": seed,
        "best_loss": float(best.objective),
        "best_accuracy": float(best.metadata.get("val_accuracy", float("nan"))),
        "max_accuracy": max(float(t.metadata.get("val_accuracy", 0.0)) for t in done),
        "done": len(done),
        "wall": wall,
        "utilization": busy / (workers * wall),
    }


def main(argv: Sequence[str] | None = None) -> None:
    from common import machine_info, machine_line, markdown_table, write_results

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--evals", type=int, default=100)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--methods", nargs="+", default=["evolution", "random", "agebo"])
    args = parser.parse_args(argv)
    info = machine_info()
    print(machine_line(info), flush=True)
    runs = []
    for seed in range(args.seeds):
        for method in args.methods:
            r = run(method, seed, args.evals, args.workers)
            print(
                f"  {method:>10} seed {seed}: loss {r['best_loss']:.4f}"
                f" acc {r['best_accuracy']:.4f} wall {r['wall']:.0f} s util {r['utilization']:.2f}",
                flush=True,
            )
            runs.append(r)
    rows = []
    for m in args.methods:
        rs = [r for r in runs if r["method"] == m]

        def med(key: str, rs: list[dict[str, Any]] = rs) -> float:
            return float(np.median([r[key] for r in rs]))

        rows.append(
            [
                m,
                f"{med('best_loss'):.4f}",
                f"{med('best_accuracy'):.4f}",
                f"{med('max_accuracy'):.4f}",
                f"{med('wall'):.0f}",
                f"{med('utilization'):.3f}",
            ]
        )
    headers = ["method", "best val loss", "its val acc", "best val acc", "wall (s)", "utilization"]
    table = markdown_table(headers, rows)
    print(
        f"\ndigits, fully connected space, {args.evals} trained architectures, "
        f"{args.workers} process workers, median over {args.seeds} seeds\n"
    )
    print(table)
    path = write_results("nas_real", {"runs": runs, "table": table, "args": vars(args), **info})
    print(f"\nraw numbers: {path}")


if __name__ == "__main__":
    main()
