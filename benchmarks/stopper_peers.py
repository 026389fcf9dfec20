"""Optuna 5.0.0's pruners on the same replayed learning curves as ``stopper_replay.py``.

Run it in its own environment (never hyperhive's development one)::

    python3 -m venv /work/venvs/bench-stoppers
    /work/venvs/bench-stoppers/bin/pip install optuna==5.0.0 numpy scipy pandas \\
        ConfigSpace cloudpickle threadpoolctl psutil typer rich scikit-learn
    PYTHONPATH=src /work/venvs/bench-stoppers/bin/python benchmarks/stopper_peers.py

Each pruner runs with Optuna's defaults under ``TPESampler(seed=seed)``, serially, as a
user would drive it (``trial.report`` / ``trial.should_prune`` at every epoch). A
suggested configuration is mapped to the nearest untried row of the table, as for
hyperhive's optimizer; the protocol, the budgets and the regret are those of
``stopper_replay.py`` (serial replay, exact epoch accounting).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from stopper_replay import CURVES, FRACTIONS, FULL_TRAININGS, Table, regret_at  # noqa: E402


def pruner(name: str) -> Any:
    import optuna

    return {
        "none": optuna.pruners.NopPruner(),
        "sha": optuna.pruners.SuccessiveHalvingPruner(),
        "hyperband": optuna.pruners.HyperbandPruner(),
        "median": optuna.pruners.MedianPruner(),
    }[name]


def replay(table: Table, name: str, seed: int) -> list[tuple[int, float, int]]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    budget = FULL_TRAININGS * table.epochs
    study = optuna.create_study(
        direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed), pruner=pruner(name)
    )
    draw = np.random.default_rng([seed, 29])
    used: set[int] = set()
    state = {"spent": 0}
    done: list[tuple[int, float, int]] = []

    def objective(trial: Any) -> float:
        cfg: dict[str, Any] = {}
        for pname, spec in table.specs.items():
            if spec[0] == "cat":
                cfg[pname] = trial.suggest_categorical(pname, list(spec[1]))
            elif spec[0] == "int":
                cfg[pname] = trial.suggest_int(pname, int(spec[1]), int(spec[2]), log=spec[3])
            else:
                cfg[pname] = trial.suggest_float(pname, spec[1], spec[2], log=spec[3])
        row = table.row_of(cfg, used)
        used.add(row)
        s = int(draw.integers(table.seeds))
        value = float("nan")
        for step in range(1, table.epochs + 1):
            if state["spent"] >= budget:
                raise optuna.TrialPruned()
            state["spent"] += 1
            value = float(table.curves[row, s, step - 1])
            trial.report(value, step)
            if step < table.epochs and trial.should_prune():
                raise optuna.TrialPruned()
        done.append((state["spent"], value, row))
        return value

    while state["spent"] < budget and len(used) < table.n:
        study.optimize(objective, n_trials=1)
    return done


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--pruners", nargs="*", default=["none", "sha", "hyperband", "median"])
    ap.add_argument("--tasks", nargs="*", default=None)
    args = ap.parse_args()
    import optuna

    with np.load(CURVES) as data:
        meta = json.loads(str(data["meta"]))
        tables = [Table(t, data, meta) for t in (args.tasks or meta["tasks"])]
    rows = []
    for table in tables:
        budgets = [int(f * FULL_TRAININGS * table.epochs) for f in FRACTIONS]
        for name in args.pruners:
            regrets = []
            for seed in range(args.seeds):
                done = replay(table, name, seed)
                regrets.append([regret_at(table, done, b) for b in budgets])
                print(table.name, name, seed, *(f"{r:.4f}" for r in regrets[-1]), flush=True)
            med = [statistics.median(r[i] for r in regrets) for i in range(len(budgets))]
            rows.append({"task": table.name, "pruner": name, "median": med, "regrets": regrets})
    print(f"\nOptuna {optuna.__version__}, TPE, serial; median regret at 25% / 50% / 100%\n")
    print("| task | pruner | 25% | 50% | 100% |")
    print("| --- | --- | --- | --- | --- |")
    for r in rows:
        m = r["median"]
        print(f"| {r['task']} | {r['pruner']} | {m[0]:.4f} | {m[1]:.4f} | {m[2]:.4f} |")
    out = HERE / "results" / f"stopper_peers-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"optuna": optuna.__version__, "rows": rows}, indent=1))
    print(f"\nraw numbers: {out}")


if __name__ == "__main__":
    main()
