"""Quick start: the Python API of hyperhive in one file (runs in a few seconds).

A small search space with a condition and a forbidden combination, an objective
that reports a value per "epoch", a parallel search journaled in a run directory,
and reading the run back. Run it twice: the second call resumes the run directory
and finds the budget already spent.

    python examples/quickstart.py
"""

from __future__ import annotations

import math

import hyperhive as hh

# Parameters; `momentum` only exists when the optimizer is "sgd", and the largest
# networks (4 layers of more than 256 units) are forbidden.
space = hh.Space(
    {
        "optimizer": hh.Categorical(["adam", "sgd"]),
        "lr": hh.Float(1e-4, 1e-1, log=True),
        "momentum": hh.Float(0.0, 0.99),
        "layers": hh.Int(1, 4),
        "units": hh.Ordinal([32, 64, 128, 256, 512]),
        "epochs": hh.Constant(8),
    }
)
space.condition("momentum", on="optimizer", equals="sgd")
space.forbid(layers=4, units=hh.gt(256))


def objective(config: dict) -> float:
    """A synthetic training run: a validation loss that decays over epochs."""
    best_lr = 3e-3 if config["optimizer"] == "adam" else 3e-2
    gap = abs(math.log10(config["lr"]) - math.log10(best_lr))
    if config["optimizer"] == "sgd":
        gap += 0.5 * abs(config["momentum"] - 0.9)
    capacity = config["layers"] * math.log2(config["units"])
    floor = 0.05 + 0.1 * gap + 0.5 / capacity
    loss = float("nan")
    for epoch in range(config["epochs"]):
        loss = floor + math.exp(-(epoch + 1) / 2.0)
        hh.report(loss, step=epoch)  # intermediate values, kept in the run directory
        if hh.should_stop():  # a stopper may end unpromising trials early
            break
    return loss


if __name__ == "__main__":  # needed: process workers import this file
    result = hh.search(
        objective,
        space,
        direction="minimize",
        max_evals=30,
        workers=2,
        run_dir="runs/quickstart",
        seed=0,
    )
    best = result.best
    print(f"stopped because: {result.stop_reason}")
    print(f"best loss {best.objective:.4f} (trial {best.id}) with {best.config}")
    print(result.summary()["status"])
    print(result.trials[["id", "status", "objective", "p:optimizer", "p:lr"]].head())

    # Read the run back later, from another process, without resuming it.
    again = hh.load("runs/quickstart")
    print(f"{len(again)} trials in {again.run_dir}; best id {again.best.id}")
