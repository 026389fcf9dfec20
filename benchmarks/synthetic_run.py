"""A synthetic run directory of any size, written straight into a journal (for reading benchmarks).

Eight workers run trials back to back (log-normal durations); every trial reports five
intermediate values; about 3% fail, 10% are stopped early. The space has eight
parameters, two of them conditional. Writing 10,000 trials takes a few seconds.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

import hyperhive as hh
from hyperhive.storage import RunDir
from hyperhive.trial import Trial, TrialStatus
from hyperhive.trial.events import end_event, report_event, submit_event


def space() -> hh.Space:
    s = hh.Space(
        {
            "lr": hh.Float(1e-5, 1e-1, log=True),
            "units": hh.Int(8, 512, log=True),
            "dropout": hh.Float(0.0, 0.5),
            "layers": hh.Int(1, 6),
            "activation": hh.Categorical(["relu", "tanh", "gelu"]),
            "optimizer": hh.Categorical(["adam", "sgd"]),
            "momentum": hh.Float(0.0, 0.99),
            "beta2": hh.Float(0.9, 0.9999),
        }
    )
    s.condition("momentum", "optimizer", "sgd")
    return s.condition("beta2", "optimizer", "adam")


def loss(config: dict) -> float:
    """Mostly lr and units matter."""
    return (
        (math.log10(config["lr"]) + 3.0) ** 2
        + 0.5 * (math.log2(config["units"]) - 7.0) ** 2
        + 0.1 * config["dropout"]
    )


def make_run(path: Path, n: int, seed: int = 0, workers: int = 8) -> Path:
    """Write a finished run of ``n`` trials to ``path`` (which must not hold a run)."""
    rng = np.random.default_rng(seed)
    sp = space()
    rd = RunDir(path)
    rd.write_json(rd.SPACE, sp.to_dict())
    rd.write_run_meta(directions=["minimize"], seed=seed, optimizer="random")
    configs = sp.sample(n, seed=seed)
    clock = [1.7e9] * workers
    batch: list[dict] = []
    for i, config in enumerate(configs):
        w = int(np.argmin(clock))
        start = clock[w]
        duration = float(rng.lognormal(0.0, 0.5))
        final = loss(config) + float(rng.normal(0, 0.05))
        draw = rng.random()
        status = TrialStatus.FAILED if draw < 0.03 else TrialStatus.STOPPED if draw < 0.13 else None
        steps = 2 if status is TrialStatus.STOPPED else 5
        batch.append(submit_event(i, config, seed=i, time=start))
        for s in range(steps):
            value = final * (1.0 + 2.0 / (s + 1))
            batch.append(report_event(i, s, value, start + duration * (s + 1) / 5))
        t = Trial(i, config, worker=f"process-{w}", host="bench", started=start)
        t.finished = start + duration * steps / 5
        if status is TrialStatus.FAILED:
            t.status, t.reason = status, "RuntimeError: CUDA out of memory (synthetic)"
        elif status is TrialStatus.STOPPED:
            t.status, t.reason = status, "stopped by the median rule"
        else:
            t.status, t.objective = TrialStatus.DONE, final
        batch.append(end_event(t))
        clock[w] = t.finished + 0.01
        if len(batch) > 5000:
            rd.store.append(batch)
            batch = []
    if batch:
        rd.store.append(batch)
    rd.close()
    return path
