"""Parameter importance: hyperhive's fANOVA against Optuna 5.0.0's fANOVA on the same trials.

For each test function, a seeded random search with hyperhive gives the trials; both
tools rank the parameters from exactly those trials: ``hyperhive.analysis.importance``
(method "fanova") and ``optuna.importance.get_param_importances`` with
``FanovaImportanceEvaluator`` (the trials copied into an Optuna study with
``create_trial``). Optuna ranks only the parameters present in every trial, so the
rankings are compared on those (Spearman's rho, and whether the two top parameters
agree). Needs Optuna: run it in a separate environment, e.g.

    python3 -m venv /work/venvs/bench-analysis
    /work/venvs/bench-analysis/bin/pip install -e ".[report]" optuna==5.0.0
    /work/venvs/bench-analysis/bin/python benchmarks/importance_fanova.py [--seeds 3]
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from typing import Any

import common
import numpy as np
from synthetic_run import loss as synthetic_loss
from synthetic_run import space as synthetic_space

import hyperhive as hh


def ten_space() -> hh.Space:
    s = hh.Space(
        {
            "a": hh.Float(0.0, 1.0),
            "lr": hh.Float(1e-5, 1e-1, log=True),
            "c": hh.Float(-1.0, 1.0),
            "d": hh.Int(1, 100, log=True),
            "e": hh.Ordinal([1, 2, 4, 8]),
            "f": hh.Float(0.0, 1.0),
            "model": hh.Categorical(["mlp", "tree", "linear"]),
            "width": hh.Int(8, 256, log=True),
            "depth": hh.Int(1, 10),
            "alpha": hh.Float(1e-3, 1.0, log=True),
        }
    )
    s.condition("width", "model", "mlp").condition("depth", "model", "tree")
    return s.condition("alpha", "model", "linear")


def ten(config: dict) -> float:
    return 10.0 * (config["a"] - 0.7) ** 2 + (math.log10(config["lr"]) + 3.0) ** 2


def h6_space() -> hh.Space:
    return hh.Space({f"x{i}": hh.Float(0.0, 1.0) for i in range(6)})


def h6(config: dict) -> float:
    return common.hartmann6([config[f"x{i}"] for i in range(6)])


def mixed_space() -> hh.Space:
    return hh.Space(
        {
            "x0": hh.Float(0.0, 1.0),
            "x1": hh.Float(0.0, 1.0),
            "x2": hh.Float(0.0, 1.0),
            "k": hh.Int(1, 8),
            "act": hh.Categorical(["relu", "tanh", "gelu", "elu"]),
        }
    )


def mixed(config: dict) -> float:
    bump = {"relu": 0.0, "tanh": 0.6, "gelu": 0.1, "elu": 0.3}[config["act"]]
    return 2.0 * config["x0"] * config["x1"] + 0.5 * config["x2"] + bump + 0.02 * config["k"]


PROBLEMS: dict[str, tuple[Callable[[], hh.Space], Callable[[dict], float], int]] = {
    "ten (2 matter, conditional)": (ten_space, ten, 300),
    "hartmann6": (h6_space, h6, 300),
    "mixed (interaction, categorical)": (mixed_space, mixed, 300),
    "synthetic NN (conditional)": (synthetic_space, synthetic_loss, 1000),
}


def optuna_importance(result: hh.Result, seed: int) -> dict[str, float]:
    import optuna
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = result.space
    dists: dict[str, Any] = {}
    for name, kind in zip(space.names, space.kinds, strict=True):
        p = space[name]
        if kind == "float":
            dists[name] = FloatDistribution(p.low, p.high, log=p.log)
        elif kind == "int":
            dists[name] = IntDistribution(p.low, p.high, log=p.log)
        elif kind in ("categorical", "ordinal"):
            dists[name] = CategoricalDistribution(list(p.domain))
    study = optuna.create_study()
    for t in result.done:
        params = {k: v for k, v in t.config.items() if k in dists}
        study.add_trial(
            optuna.trial.create_trial(
                params=params,
                distributions={k: dists[k] for k in params},
                value=float(t.objective),
            )
        )
    evaluator = optuna.importance.FanovaImportanceEvaluator(seed=seed)
    return dict(optuna.importance.get_param_importances(study, evaluator=evaluator))


def main() -> None:
    from scipy.stats import spearmanr

    from hyperhive.analysis import importance

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    info = common.machine_info()
    rows, raw = [], []
    for name, (make_space, fn, n) in PROBLEMS.items():
        for seed in range(args.seeds):
            result = hh.search(fn, make_space(), max_evals=n, seed=seed, optimizer="random")
            t = time.perf_counter()
            ours = importance(result, "fanova", seed=seed)
            t_ours = time.perf_counter() - t
            t = time.perf_counter()
            theirs = optuna_importance(result, seed)
            t_theirs = time.perf_counter() - t
            common_names = [p for p in ours.index if p in theirs]
            a = [ours[p] for p in common_names]
            b = [theirs[p] for p in common_names]
            rho = float(spearmanr(a, b).statistic) if len(common_names) > 2 else float("nan")
            ours_top = [p for p in ours.index if p in theirs][:2]
            theirs_top = sorted(theirs, key=lambda p: -theirs[p])[:2]
            raw.append(
                {
                    "problem": name,
                    "seed": seed,
                    "trials": n,
                    "hyperhive": ours.to_dict(),
                    "optuna": theirs,
                    "spearman": rho,
                    "seconds": {"hyperhive": t_ours, "optuna": t_theirs},
                }
            )
            rows.append(
                [
                    name,
                    seed,
                    n,
                    ", ".join(f"{p} {ours[p]:.2f}" for p in ours.index[:3]),
                    ", ".join(
                        f"{p} {theirs[p]:.2f}"
                        for p in theirs_top
                        + [q for q in sorted(theirs, key=lambda q: -theirs[q])[2:3]]
                    ),
                    f"{rho:.2f}",
                    "yes" if set(ours_top) == set(theirs_top) else "no",
                    f"{t_ours:.2f} / {t_theirs:.2f}",
                ]
            )
    print(
        common.markdown_table(
            [
                "problem",
                "seed",
                "trials",
                "hyperhive top 3",
                "optuna top 3",
                "spearman",
                "same top 2",
                "seconds hh / optuna",
            ],
            rows,
        )
    )
    rhos = [r["spearman"] for r in raw if not np.isnan(r["spearman"])]
    print(f"\nmedian Spearman rho over {len(rhos)} cases: {np.median(rhos):.2f}")
    print(common.machine_line(info))
    print(
        f"raw numbers: {common.write_results('importance_fanova', {'machine': info, 'runs': raw})}"
    )


if __name__ == "__main__":
    main()
