"""Uncertainty of deep ensembles: AutoDEUQ against the usual baselines (BENCHMARKS.md §6).

For each data set and seed: one search (fully connected space with a Gaussian head,
``loss="gaussian_nll"``, every trial's model saved) and, on the same splits,

- ``autodeuq``: ``ensemble.from_run`` (greedy selection, mixture, calibration "auto");
- ``autodeuq-uncal``: the same selection without recalibration;
- ``best``: the single best trial of the search (its own Gaussian);
- ``deep-ens``: 5 seeds of one hand-chosen architecture (2 x 64 ReLU, Gaussian head);
- ``mc-dropout``: that architecture with dropout 0.1, 30 stochastic passes;
- ``deephyper``: DeepHyper 0.13.2's ``GreedySelector`` (its defaults, k=5, loss
  ``NormalNegLogLikelihood``) + ``MixedNormalAggregator`` on the same members.

Targets are standardized with the training split, so NLL, CRPS and RMSE are in
standard-deviation units of the training targets. The friedman1 row also reports
the mean aleatoric std on test points divided by the true noise (1.0).
Then the time to build a 5-member ensemble (load, predict, greedy, calibrate) from
a ``--build-trials`` run. DeepHyper is imported when installed (``.[bench]``); run the
script with a Python that has it (see benchmarks/README.md).

    python benchmarks/ensemble_uq.py --seeds 5 --trials 30
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, machine_info, machine_line, markdown_table, median, write_results  # noqa: E402

import hyperhive as hh  # noqa: E402
from hyperhive import ensemble  # noqa: E402
from hyperhive.ensemble import metrics  # noqa: E402

SETS = ("friedman1", "hetero1d", "diabetes", "engel", "fair")
METHODS = ("autodeuq", "autodeuq-uncal", "best", "deep-ens", "mc-dropout", "deephyper")
METRICS = ("nll", "crps", "rmse", "coverage_95", "calibration_error")
FRIEDMAN_NOISE = 1.0
WORK = RESULTS / "ensemble_uq"


# -- data --------------------------------------------------------------------------------
def load_set(name: str, seed: int) -> dict[str, Any]:
    """Standardized train/val/test splits (60/20/20 unless generated)."""
    rng = np.random.default_rng(seed)
    if name == "hetero1d":

        def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
            x = np.concatenate([rng.uniform(-3, -1, n // 2), rng.uniform(1, 3, n - n // 2)])
            y = np.sin(1.5 * x) + np.where(x < 0, 0.1, 0.4) * rng.standard_normal(n)
            return x[:, None], y

        parts = [draw(400), draw(200), draw(400)]
    else:
        x, y = raw_set(name, seed)
        order = rng.permutation(len(y))
        a, b = int(0.6 * len(y)), int(0.8 * len(y))
        parts = [(x[order[s]], y[order[s]]) for s in (slice(0, a), slice(a, b), slice(b, None))]
    mx, sx = parts[0][0].mean(0), parts[0][0].std(0) + 1e-12
    my, sy = parts[0][1].mean(), parts[0][1].std()
    out = [
        (((px - mx) / sx).astype("float32"), ((py - my) / sy).astype("float32")) for px, py in parts
    ]
    return {"train": out[0], "val": out[1], "test": out[2], "y_std": float(sy)}


def raw_set(name: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    if name == "friedman1":
        from sklearn.datasets import make_friedman1

        return make_friedman1(1000, n_features=10, noise=FRIEDMAN_NOISE, random_state=seed)
    if name == "diabetes":
        from sklearn.datasets import load_diabetes

        return load_diabetes(return_X_y=True)
    import statsmodels.api as sm

    if name == "engel":
        d = sm.datasets.engel.load_pandas().data
        return d[["income"]].to_numpy(float), d["foodexp"].to_numpy(float)
    if name == "fair":
        d = sm.datasets.fair.load_pandas().data.sample(1000, random_state=seed)
        return d.drop(columns="affairs").to_numpy(float), d["affairs"].to_numpy(float)
    raise ValueError(f"unknown data set {name!r}; known: {SETS}")


# -- models ------------------------------------------------------------------------------
def hand_graph(d: int, dropout: float = 0.0) -> Any:
    from hyperhive import nas

    nodes: list[Any] = []
    prev = "x"
    for i in (1, 2):
        nodes.append(nas.Constant(f"h{i}", nas.Dense(64, "relu"), prev))
        prev = f"h{i}"
        if dropout:
            nodes.append(nas.Constant(f"d{i}", nas.Dropout(dropout), prev))
            prev = f"d{i}"
    nodes.append(nas.Constant("out", nas.Gaussian(1), prev))
    return nas.Graph({"x": (d,)}, nodes, "out")


def train_hand(data: dict, seed: int, epochs: int, folder: Path, dropout: float = 0.0) -> Any:
    import torch

    from hyperhive import nas

    torch.manual_seed(seed)
    model = hand_graph(data["train"][0].shape[1], dropout).build()
    nas.train(model, data["train"], data["val"], lr=3e-3, epochs=epochs, batch_size=64,
              patience=10, seed=seed, save=folder)  # fmt: skip
    return ensemble.load_member(folder)


def mc_dropout(member: Any, x: np.ndarray, passes: int = 30) -> list[ensemble.MemberOutput]:
    """``passes`` stochastic predictions of a dropout model (dropout on at test time)."""
    import torch

    model = member.model
    model.train()
    outs = []
    with torch.no_grad():
        for _ in range(passes):
            out = model(torch.as_tensor(x)).double().numpy()
            outs.append(ensemble.MemberOutput(mean=out[:, :1], variance=out[:, 1:]))
    model.eval()
    return outs


def search(data: dict, seed: int, trials: int, epochs: int, workers: int, run_dir: Path) -> Any:
    from hyperhive import nas

    d = data["train"][0].shape[1]
    arch = nas.fully_connected_space(
        input_shape=(d,), output_units=1, layers=3, units=(16, 32, 64, 128),
        activations=("relu", "tanh"), head="gaussian",
    )  # fmt: skip
    space = arch.to_space() | hh.Space(
        {"lr": hh.Float(1e-3, 3e-2, log=True), "batch_size": hh.Ordinal([32, 64, 128])}
    )
    train, val = data["train"], data["val"]

    def objective(config: dict) -> float:
        import torch

        torch.set_num_threads(1)
        model = arch.build(config)
        fit = nas.train(model, train, val, loss="gaussian_nll", lr=config["lr"], epochs=epochs,
                        batch_size=config["batch_size"], patience=10, save=True)  # fmt: skip
        return fit.best_value

    return hh.search(objective, space, max_evals=trials, workers=workers, executor="process",
                     run_dir=run_dir, seed=seed)  # fmt: skip


# -- DeepHyper on the same members ---------------------------------------------------------
def deephyper_ensemble(val: list, test: list, y_val: np.ndarray) -> tuple[Any, str]:
    """DeepHyper's GreedySelector (defaults, k=5) and MixedNormalAggregator."""
    try:
        from deephyper.ensemble.aggregator import MixedNormalAggregator
        from deephyper.ensemble.loss import NormalNegLogLikelihood
        from deephyper.ensemble.selector import GreedySelector
    except ImportError as exc:
        return None, f"deephyper missing: {exc}"

    def as_dh(outs: list) -> list[dict[str, np.ndarray]]:
        return [{"loc": o.mean, "scale": np.sqrt(o.variance)} for o in outs]

    agg = MixedNormalAggregator()
    selector = GreedySelector(NormalNegLogLikelihood(), agg, k=5)
    idx, weights = selector.select(y_val[:, None], as_dh(val))
    t = as_dh(test)
    out = agg.aggregate([t[i] for i in idx], list(weights))
    mean, std = out["loc"][:, 0], out["scale"][:, 0]
    return ensemble.Prediction(mean, std, std * np.nan, std * np.nan), f"{len(idx)} members"


# -- one data set and seed: train, then score every method from the saved predictions ------
def outputs(members: list, x: np.ndarray) -> list[ensemble.MemberOutput]:
    return [m.predict(x) for m in members]


def one(name: str, seed: int, args: argparse.Namespace) -> dict[str, Any]:
    data = load_set(name, seed)
    where = WORK / f"{name}-{seed}"
    shutil.rmtree(where, ignore_errors=True)
    t0 = time.perf_counter()
    result = search(data, seed, args.trials, args.epochs, args.workers, where / "run")
    t_search = time.perf_counter() - t0
    t0 = time.perf_counter()
    auto = ensemble.from_run(where / "run", data["val"], size=5, selector="greedy")
    t_build = time.perf_counter() - t0
    members = ensemble.run_members(where / "run")  # best objective first
    hand = [train_hand(data, 100 + s, args.epochs, where / f"hand-{s}") for s in range(5)]
    drop = train_hand(data, 200, args.epochs, where / "dropout", dropout=0.1)
    preds = {
        "members_val": outputs(members, data["val"][0]),
        "members_test": outputs(members, data["test"][0]),
        "hand_val": outputs(hand, data["val"][0]),
        "hand_test": outputs(hand, data["test"][0]),
        "mc_test": mc_dropout(drop, data["test"][0]),
    }
    dump = WORK / "predictions" / f"{name}-{seed}.npz"
    dump.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        dump,
        y_val=data["val"][1],
        y_test=data["test"][1],
        y_std=data["y_std"],
        **{f"{k}_mean": np.stack([o.mean for o in v]) for k, v in preds.items()},
        **{f"{k}_var": np.stack([o.variance for o in v]) for k, v in preds.items()},
    )
    if not args.keep:
        shutil.rmtree(where, ignore_errors=True)
    row = score(dump)
    row.update(set=name, seed=seed, done=len(result.done), search_s=t_search, build_s=t_build,
               from_run=auto.composition)  # fmt: skip
    return row


def load_dump(path: Path) -> dict[str, Any]:
    d = np.load(path)
    out: dict[str, Any] = {k: d[k] for k in ("y_val", "y_test")}
    out["y_std"] = float(d["y_std"])
    for k in ("members_val", "members_test", "hand_val", "hand_test", "mc_test"):
        out[k] = [
            ensemble.MemberOutput(mean=m, variance=v)
            for m, v in zip(d[f"{k}_mean"], d[f"{k}_var"], strict=True)
        ]
    return out


def score(path: Path) -> dict[str, Any]:
    """Every method's test scores from the members' saved predictions."""
    d = load_dump(path)
    y_val, y_test = d["y_val"], d["y_test"]
    stand_ins = [
        ensemble.Member(None, "nas", "regression", path.parent, str(i))
        for i in range(len(d["members_val"]))
    ]
    auto = ensemble.build(stand_ins, (None, y_val), size=5, selector="greedy",
                          outputs=d["members_val"])  # fmt: skip
    chosen = [d["members_test"][int(m.name)] for m in auto.members]
    pred = auto.combine(chosen)
    scores = {"autodeuq": metrics.regression_metrics(pred, y_test)}
    scores["autodeuq"]["aleatoric_std"] = float(np.mean(pred.aleatoric)) * d["y_std"]
    scores["autodeuq-uncal"] = metrics.regression_metrics(auto.combine(chosen, False), y_test)
    single = ensemble.Ensemble(stand_ins[:1])
    scores["best"] = metrics.regression_metrics(single.combine(d["members_test"][:1]), y_test)
    deep = ensemble.Ensemble([stand_ins[0]] * len(d["hand_test"]))
    scores["deep-ens"] = metrics.regression_metrics(deep.combine(d["hand_test"]), y_test)
    mc = ensemble.Ensemble([stand_ins[0]] * len(d["mc_test"]))
    scores["mc-dropout"] = metrics.regression_metrics(mc.combine(d["mc_test"]), y_test)
    dh, note = deephyper_ensemble(d["members_val"], d["members_test"], y_val)
    if dh is not None:
        scores["deephyper"] = metrics.regression_metrics(dh, y_test)
    return {
        "scores": scores,
        "ensemble": auto.composition,
        "calibration": auto.calibration.method,
        "deephyper": note,
    }


def build_time(trials: int, workers: int) -> dict[str, Any]:
    """Seconds to build a 5-member ensemble from a ``trials``-trial run (2-epoch members)."""
    data = load_set("friedman1", 0)
    where = WORK / f"build-{trials}"
    shutil.rmtree(where, ignore_errors=True)
    t0 = time.perf_counter()
    search(data, 0, trials, 2, workers, where / "run")
    t_search = time.perf_counter() - t0
    t0 = time.perf_counter()
    ens = ensemble.from_run(where / "run", data["val"], size=5, selector="greedy")
    seconds = time.perf_counter() - t0
    shutil.rmtree(where, ignore_errors=True)
    return {"trials": trials, "build_s": seconds, "search_s": t_search, "members": len(ens.members)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sets", default=",".join(SETS))
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--trials", type=int, default=30, help="search trials per set and seed")
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--build-trials", type=int, default=200, help="0 skips the build timing")
    p.add_argument("--keep", action="store_true", help="keep the run directories")
    p.add_argument("--table", type=Path, help="only print the table of a results file")
    p.add_argument(
        "--rescore", action="store_true", help="with --table: score again from saved predictions"
    )
    args = p.parse_args()
    if args.table is not None:
        path = args.table
        saved = json.loads(path.read_text())
        rows = saved["rows"]
        if args.rescore:
            for r in rows:
                r.update(score(WORK / "predictions" / f"{r['set']}-{r['seed']}.npz"))
            path = write_results("ensemble_uq-rescored", {**saved, "rescored_from": str(path)})
        args = argparse.Namespace(**{**saved["args"], "seeds": len({r["seed"] for r in rows})})
        info = saved["machine"]
        info.setdefault("loadavg_end", info["loadavg"])
        print(report(rows, saved.get("build"), args, info, path))
        return
    import torch

    torch.set_num_threads(1)
    info = machine_info()
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    partial = RESULTS / "ensemble_uq-partial.json"
    for seed in range(args.seeds):  # seeds outside: a run cut short has every set
        for name in args.sets.split(","):
            rows.append(one(name, seed, args))
            partial.write_text(json.dumps({"machine": info, "args": vars(args), "rows": rows}))
            r = rows[-1]
            print(f"# {name} seed {seed}: search {r['search_s']:.0f}s, build {r['build_s']:.1f}s, "
                  f"nll " + ", ".join(f"{m} {s['nll']:.3f}" for m, s in r["scores"].items()),
                  file=sys.stderr, flush=True)  # fmt: skip
    build = build_time(args.build_trials, args.workers) if args.build_trials else None
    info["loadavg_end"] = os.getloadavg()
    info["wall_s"] = time.perf_counter() - started
    path = write_results(
        "ensemble_uq", {"machine": info, "args": vars(args), "rows": rows, "build": build}
    )
    print(report(rows, build, args, info, path))


def report(rows: list, build: dict | None, args: argparse.Namespace, info: dict, path: Path) -> str:
    lines = [
        f"Ensemble uncertainty, median over {args.seeds} seed(s) of test scores "
        f"({args.trials} trials per search, {args.epochs} epochs, {args.workers} process workers)",
        machine_line(info)
        + f"; load average at end {tuple(round(x, 1) for x in info['loadavg_end'])}",
        "",
    ]
    table = []
    for name in args.sets.split(","):
        for method in METHODS:
            vals = [r["scores"][method] for r in rows if r["set"] == name and method in r["scores"]]
            if not vals:
                continue
            table.append([name, method, *(median(v[k] for v in vals) for k in METRICS)])
    lines.append(markdown_table(["set", "method", *METRICS], table))
    fried = [r["scores"]["autodeuq"]["aleatoric_std"] for r in rows if r["set"] == "friedman1"]
    if fried:
        lines.append(f"\nfriedman1: median AutoDEUQ aleatoric std {median(fried):.3f} "
                     f"(true noise {FRIEDMAN_NOISE})")  # fmt: skip
    wins = []
    for name in args.sets.split(","):
        mine = [r["scores"] for r in rows if r["set"] == name]
        med = {m: median(s[m]["nll"] for s in mine if m in s) for m in METHODS}
        others = [v for m, v in med.items() if m not in ("autodeuq", "autodeuq-uncal")]
        wins.append(f"{name}: {'yes' if med['autodeuq'] < min(others) else 'no'}")
    lines.append("AutoDEUQ lowest median NLL: " + ", ".join(wins))
    builds = [r["build_s"] for r in rows]
    lines.append(f"ensemble build from {args.trials}-trial runs: median {median(builds):.1f} s")
    if build:
        lines.append(f"ensemble build from a {build['trials']}-trial run (5 members, greedy, "
                     f"calibrated): {build['build_s']:.1f} s")  # fmt: skip
    lines.append(f"raw numbers: {path}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
