"""GPU checks: what only a machine with a CUDA device can show.

Run by hand on a GPU machine (it is not a test: CI has no GPU)::

    python benchmarks/gpu_check.py [--out DIR]

Each check prints one line (``ok``, ``FAILED`` or ``skipped`` with the reason) and the
whole report goes to ``DIR/gpu_check.json`` (default ``benchmarks/results/``):

1. ``nas.train`` on ``device="cuda"`` against the CPU on the same data and seed: the
   model trains on the GPU, reaches a validation loss close to the CPU's, and its time.
2. Data-parallel training through ``torch.distributed`` with the NCCL backend
   (``train_data_parallel(processes=1, device="cuda")``: one rank per GPU, so one rank
   on a one-GPU machine), gradients all-reduced on the device.
3. A search on 4 ``process`` workers whose trials each train on the GPU: every trial
   ends ``done`` and reports the CUDA device it used; the workers (forkserver children
   of a driver that never touched CUDA) initialise CUDA themselves.
4. ``hh.executors`` GPU placement (``CUDA_VISIBLE_DEVICES`` per slot) seen by real
   CUDA: a trial given device "0" sees one GPU, a trial given no device sees none.
5. With ``hyperhive.ensemble`` present: an AutoDEUQ ensemble of models trained on the
   GPU (gaussian head) predicts with finite mean, aleatoric and epistemic parts.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np

import hyperhive as hh

HERE = Path(__file__).resolve().parent


def _data(n: int = 20_000, d: int = 16, seed: int = 0) -> tuple[Any, Any, Any, Any]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype(np.float32)
    w = rng.normal(size=(d, 1)).astype(np.float32)
    y = (np.tanh(x @ w / np.sqrt(d)) + 0.05 * rng.normal(size=(n, 1))).astype(np.float32)
    k = int(0.8 * n)
    return x[:k], y[:k], x[k:], y[k:]


def _model(seed: int = 0):
    import torch

    from hyperhive import nas

    arch = nas.fully_connected_space(input_shape=(16,), output_units=1, layers=3, skip=False)
    space = arch.to_space()
    config = space.sample(1, seed=seed)[0]
    torch.manual_seed(seed)
    return arch, space, config


def check_train(report: dict) -> None:
    import torch

    from hyperhive import nas

    x, y, xv, yv = _data()
    arch, _, config = _model()
    out = {}
    for device in ("cpu", "cuda"):
        torch.manual_seed(0)
        model = arch.build(config)
        t0 = time.perf_counter()
        fit = nas.train(
            model, (x, y), (xv, yv), epochs=10, batch_size=256, device=device, seed=0, lr=3e-3
        )
        out[device] = {"val_loss": fit.best_value, "seconds": time.perf_counter() - t0}
    out["param_device_after"] = str(next(fit.model.parameters()).device)
    ratio = out["cuda"]["val_loss"] / out["cpu"]["val_loss"]
    out["loss_ratio_cuda_over_cpu"] = ratio
    report["train"] = out
    if not 0.5 < ratio < 2.0:
        raise RuntimeError(f"GPU and CPU validation losses differ too much: {out}")


def check_nccl(report: dict) -> None:
    import torch

    from hyperhive.nas.ddp import pick_backend, train_data_parallel
    from hyperhive.nas.fit import Settings, as_data

    backend, kind = pick_backend(1, "cuda")
    x, y, xv, yv = _data(8_000)
    arch, _, config = _model()
    torch.manual_seed(0)
    model = arch.build(config)
    settings = Settings(
        loss="mse",
        optimizer="adam",
        lr=3e-3,
        weight_decay=0.0,
        epochs=5,
        batch_size=256,
        patience=None,
        min_delta=0.0,
        monitor="loss",
        maximize=False,
        shuffle=True,
        seed=0,
        restore_best=True,
        clip_grad=None,
    )
    epochs: list[tuple[int, float]] = []

    def on_epoch(epoch: int, train_loss: float, value: float) -> bool:
        epochs.append((epoch, value))
        return False

    t0 = time.perf_counter()
    out = train_data_parallel(
        model,
        as_data((x, y), "train_data"),
        as_data((xv, yv), "val_data"),
        settings,
        on_epoch,
        processes=1,
        device="cuda",
    )
    report["nccl"] = {
        "backend": backend,
        "device_kind": kind,
        "best_value": float(out.best_value),
        "epochs_reported": len(epochs),
        "first_last": [epochs[0][1], epochs[-1][1]] if epochs else None,
        "seconds": time.perf_counter() - t0,
    }
    if backend != "nccl" or len(epochs) != 5 or not out.best_value < 0.5 * float(np.var(yv)):
        raise RuntimeError(f"NCCL training did not run as expected: {report['nccl']}")


def _gpu_objective(config: dict) -> dict:
    import torch

    from hyperhive import nas

    x, y, xv, yv = _data(4_000, seed=1)
    arch = nas.fully_connected_space(input_shape=(16,), output_units=1, layers=3, skip=False)
    model = arch.build({k: v for k, v in config.items() if k != "lr"})
    fit = nas.train(
        model, (x, y), (xv, yv), epochs=5, batch_size=256, device="cuda", lr=config["lr"]
    )
    return {
        "objective": fit.best_value,
        "device": str(next(fit.model.parameters()).device),
        "gpu": torch.cuda.get_device_name(0),
        "pid": os.getpid(),
    }


def check_process_search(report: dict, run_dir: Path) -> None:
    from hyperhive import nas

    arch = nas.fully_connected_space(input_shape=(16,), output_units=1, layers=3, skip=False)
    space = arch.to_space() | hh.Space({"lr": hh.Float(1e-4, 1e-2, log=True)})
    t0 = time.perf_counter()
    result = hh.search(
        _gpu_objective,
        space,
        max_evals=8,
        workers=4,
        executor="process",
        optimizer="random",
        seed=0,
        run_dir=str(run_dir),
    )
    df = result.trials
    report["process_search"] = {
        "statuses": df["status"].value_counts().to_dict(),
        "devices": sorted(set(df["m:device"].astype(str))),
        "worker_pids": int(df["m:pid"].nunique()),
        "seconds": time.perf_counter() - t0,
        "best": float(result.best.objective),
    }
    if report["process_search"]["statuses"] != {"done": 8} or report["process_search"][
        "devices"
    ] != ["cuda:0"]:
        raise RuntimeError(f"GPU trials did not all run on the GPU: {report['process_search']}")


def _count_gpus(config: dict) -> dict:
    import torch

    return {
        "objective": float(torch.cuda.device_count()),
        "visible": os.environ.get("CUDA_VISIBLE_DEVICES"),
    }


def check_placement(report: dict) -> None:
    """Run a child with CUDA_VISIBLE_DEVICES from hyperhive's placement rule."""
    import subprocess

    from hyperhive.executors.gpu import visible_env

    seen = {}
    for devices in (["0"], []):
        env = dict(os.environ)
        env.update(visible_env(devices))
        code = "import torch; print(torch.cuda.device_count())"
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
        )
        seen[",".join(devices) or "none"] = out.stdout.strip() or out.stderr.strip()[-200:]
    report["placement"] = seen
    if seen != {"0": "1", "none": "0"}:
        raise RuntimeError(f"placement not honoured by CUDA: {seen}")


def check_ensemble(report: dict, run_dir: Path) -> None:
    try:
        from hyperhive import ensemble, nas
    except ImportError as exc:  # the ensemble part is not in this checkout
        raise _Skip(f"hyperhive.ensemble not importable: {exc}") from None
    import inspect

    if "head" not in inspect.signature(nas.fully_connected_space).parameters:
        raise _Skip("nas.fully_connected_space has no head= here")
    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 3, size=(2000, 1)).astype(np.float32)
    noise = np.where(x < 0, 0.1, 0.5).astype(np.float32)
    y = (np.sin(x) + noise * rng.normal(size=x.shape)).astype(np.float32)
    xv = rng.uniform(-3, 3, size=(500, 1)).astype(np.float32)
    yv = (np.sin(xv) + np.where(xv < 0, 0.1, 0.5) * rng.normal(size=xv.shape)).astype(np.float32)
    arch = nas.fully_connected_space(input_shape=(1,), output_units=1, layers=2, head="gaussian")
    space = arch.to_space() | hh.Space({"lr": hh.Float(1e-3, 1e-2, log=True)})

    def objective(config):
        model = arch.build({k: v for k, v in config.items() if k != "lr"})
        fit = nas.train(
            model,
            (x, y),
            (xv, yv),
            loss="gaussian_nll",
            lr=config["lr"],
            epochs=30,
            batch_size=128,
            device="cuda",
            save=True,
        )
        return fit.best_value

    hh.search(objective, space, max_evals=6, workers=2, seed=0, run_dir=str(run_dir))
    t0 = time.perf_counter()
    ens = ensemble.from_run(str(run_dir), val_data=(xv, yv), size=3, selector="greedy")
    pred = ens.predict(xv)
    parts = {k: np.asarray(getattr(pred, k)) for k in ("mean", "std", "aleatoric", "epistemic")}
    report["ensemble"] = {
        "build_seconds": time.perf_counter() - t0,
        "finite": {k: bool(np.isfinite(v).all()) for k, v in parts.items()},
        "aleatoric_left_right": [
            float(np.median(parts["aleatoric"][xv[:, 0] < 0])),
            float(np.median(parts["aleatoric"][xv[:, 0] > 0])),
        ],
        "metrics": {k: float(v) for k, v in ens.evaluate((xv, yv)).items()},
    }
    if not all(report["ensemble"]["finite"].values()):
        raise RuntimeError(f"non-finite ensemble predictions: {report['ensemble']}")


class _Skip(Exception):
    pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.environ.get("OUT") or str(HERE / "results"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"python": sys.version.split()[0]}
    try:
        import torch
    except ImportError:
        print("skipped: torch is not installed")
        return 0
    report["torch"] = torch.__version__
    report["cuda"] = torch.cuda.is_available()
    if not torch.cuda.is_available():
        print("skipped: no CUDA device")
        return 0
    report["gpu"] = torch.cuda.get_device_name(0)
    print(f"torch {torch.__version__} on {report['gpu']}", flush=True)
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="hh-gpu-"))
    checks = [
        ("train", lambda: check_train(report)),
        ("nccl", lambda: check_nccl(report)),
        ("process_search", lambda: check_process_search(report, tmp / "search")),
        ("placement", lambda: check_placement(report)),
        ("ensemble", lambda: check_ensemble(report, tmp / "uq")),
    ]
    failed = 0
    for name, fn in checks:
        t0 = time.perf_counter()
        try:
            fn()
            status = "ok"
        except _Skip as exc:
            status = f"skipped ({exc})"
        except Exception:  # noqa: BLE001 - every check reports, none stops the others
            failed += 1
            status = "FAILED"
            report.setdefault("errors", {})[name] = traceback.format_exc()
            print(traceback.format_exc(), flush=True)
        print(f"{name}: {status} ({time.perf_counter() - t0:.1f} s)", flush=True)
        print(json.dumps(report.get(name), default=str), flush=True)
    (out / "gpu_check.json").write_text(json.dumps(report, indent=2, default=str))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
