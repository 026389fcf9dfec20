"""SearchCV (BO) against RandomizedSearchCV and GridSearchCV on scikit-learn's own data.

Three data sets that ship with scikit-learn (breast cancer, wine, digits); one model, a
standardized RBF SVC tuned over ``C`` and ``gamma`` (log scales); per seed, every
method sees the same shuffled stratified 5-fold splits. Each method gets 2 workers:

- ``SearchCV``: hyperhive's default optimizer (BO), 50 trials, ``workers=2`` (process
  executor);
- ``RandomizedSearchCV``: 50 draws from log-uniform distributions, ``n_jobs=2``;
- ``GridSearchCV``: a comparable 7 x 7 = 49-point log grid over the same ranges,
  ``n_jobs=2``.

The table gives, per data set and method, the median over seeds (and min-max) of the
best mean cross-validated accuracy and of the wall time of ``fit``. Wall times depend
on the machine's load, which is printed.

    python benchmarks/sklearn_searchcv.py [--seeds 5] [--evals 50] [--datasets wine,digits]
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import common
import numpy as np
from scipy.stats import loguniform
from sklearn import datasets
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from hyperhive.sklearn import SearchCV

C_RANGE = (1e-2, 1e3)
GAMMA_RANGE = (1e-4, 1e0)
LOADERS = {
    "breast_cancer": datasets.load_breast_cancer,
    "wine": datasets.load_wine,
    "digits": datasets.load_digits,
}


def model() -> Pipeline:
    return Pipeline([("scale", StandardScaler()), ("svc", SVC())])


def run_one(method: str, X: Any, y: Any, seed: int, evals: int) -> dict[str, Any]:
    cv = StratifiedKFold(5, shuffle=True, random_state=seed)
    if method == "SearchCV (BO)":
        search: Any = SearchCV(
            model(),
            {"svc__C": (*C_RANGE, "log-uniform"), "svc__gamma": (*GAMMA_RANGE, "log-uniform")},
            max_evals=evals,
            cv=cv,
            workers=2,
            seed=seed,
        )
    elif method == "RandomizedSearchCV":
        search = RandomizedSearchCV(
            model(),
            {"svc__C": loguniform(*C_RANGE), "svc__gamma": loguniform(*GAMMA_RANGE)},
            n_iter=evals,
            cv=cv,
            n_jobs=2,
            random_state=seed,
        )
    else:
        side = max(2, round(evals**0.5))
        search = GridSearchCV(
            model(),
            {
                "svc__C": np.geomspace(*C_RANGE, side).tolist(),
                "svc__gamma": np.geomspace(*GAMMA_RANGE, side).tolist(),
            },
            cv=cv,
            n_jobs=2,
        )
    began = time.perf_counter()
    search.fit(X, y)
    wall = time.perf_counter() - began
    return {
        "method": method,
        "seed": seed,
        "best_score": float(search.best_score_),
        "wall_s": wall,
        "evals": len(search.cv_results_["params"]),
        "best_params": search.best_params_,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--evals", type=int, default=50)
    parser.add_argument("--datasets", default=",".join(LOADERS))
    args = parser.parse_args()
    names = [n for n in args.datasets.split(",") if n]
    unknown = sorted(set(names) - set(LOADERS))
    if unknown:
        parser.error(f"unknown data sets {unknown}; choose from {sorted(LOADERS)}")
    info = common.machine_info()
    print(common.machine_line(info), flush=True)
    methods = ["SearchCV (BO)", "RandomizedSearchCV", "GridSearchCV"]
    runs: list[dict[str, Any]] = []
    for name in names:
        X, y = LOADERS[name](return_X_y=True)
        for seed in range(args.seeds):
            for method in methods:  # interleaved, so load drifts hit every method alike
                run = {"dataset": name, **run_one(method, X, y, seed, args.evals)}
                runs.append(run)
                print(
                    f"{name:14s} seed {seed} {method:20s} best {run['best_score']:.4f} "
                    f"({run['evals']} evals) {run['wall_s']:.1f} s",
                    flush=True,
                )
    rows = []
    for name in names:
        for method in methods:
            mine = [r for r in runs if r["dataset"] == name and r["method"] == method]
            scores = [r["best_score"] for r in mine]
            walls = [r["wall_s"] for r in mine]
            rows.append(
                [
                    name,
                    method,
                    mine[0]["evals"],
                    f"{common.median(scores):.4f}",
                    f"{min(scores):.4f}-{max(scores):.4f}",
                    common.median(walls),
                    common.spread(walls),
                ]
            )
    headers = [
        "data set",
        "method",
        "evals",
        "best CV acc (median)",
        "min-max",
        "wall s",
        "min-max",
    ]
    print()
    print(
        f"{args.seeds} seeds, 5-fold stratified CV, 2 workers; load average at the end "
        f"{tuple(round(x, 1) for x in os.getloadavg())}"
    )
    print(common.markdown_table(headers, rows))
    path = common.write_results("sklearn_searchcv", {"machine": info, "runs": runs})
    print(f"\nraw numbers: {path}")


if __name__ == "__main__":
    main()
