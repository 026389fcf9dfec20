"""``hyperhive ensemble``: build a deep ensemble with uncertainty from a run's saved models."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

#: The array names read from ``--val`` (the first pair found is used).
KEYS = (("x", "y"), ("x_val", "y_val"))


def read_npz(path: Path) -> tuple[Any, Any]:
    """``(x, y)`` from an ``.npz`` file holding ``x`` and ``y`` (or ``x_val``, ``y_val``)."""
    import numpy as np

    from hyperhive.cli.main import fail

    if not path.is_file():
        fail(f"--val {str(path)!r}: no such file")
    try:
        with np.load(path, allow_pickle=False) as arrays:
            for kx, ky in KEYS:
                if kx in arrays and ky in arrays:
                    return arrays[kx], arrays[ky]
            names = sorted(arrays.files)
    except (OSError, ValueError) as exc:
        fail(f"--val {str(path)!r} is not a readable .npz file: {exc}")
    fail(f"--val {str(path)!r} needs arrays 'x' and 'y' (or 'x_val' and 'y_val'); it has {names}")


def ensemble(
    run_dir: Path = typer.Argument(..., help="A run directory.", metavar="RUN_DIR"),
    val: Path = typer.Option(
        ..., "--val", metavar="FILE.npz", help="Validation data: an .npz with arrays x and y."
    ),
    out_dir: Path = typer.Option(..., "--out", metavar="DIR", help="Where to save the ensemble."),
    size: int = typer.Option(5, "--size", "-k", help="Ensemble size."),
    selector: str = typer.Option("greedy", "--selector", help="greedy or topk."),
    calibrate: str = typer.Option(
        "auto", "--calibrate", help="Variance recalibration: auto, scale, isotonic or none."
    ),
    candidates: int | None = typer.Option(
        None, "--candidates", help="Consider only this many best trials (default: all)."
    ),
    allow_pickle: bool = typer.Option(
        False,
        "--allow-pickle",
        metavar="",
        help="Load pickled members (scikit-learn, callables): runs their code; trusted runs only.",
    ),
) -> None:
    """Build a deep ensemble with uncertainty (AutoDEUQ) from the models a run saved.

    Members are the done trials' saved models (nas.train(..., save=True) or
    ensemble.save_member); they are selected on the validation data, recalibrated,
    and saved to --out (load it with hyperhive.ensemble.load).
    """
    from hyperhive import ensemble as ens_lib
    from hyperhive.cli.main import TRACEBACK_ENV, err, fail, out
    from hyperhive.ensemble.build import _check
    from hyperhive.storage import RunDir

    try:
        _check(size, selector, calibrate)
        if candidates is not None and candidates < 1:
            raise ValueError(f"--candidates must be a positive integer, got {candidates}")
    except ValueError as exc:
        fail(
            str(exc).replace("size must", "--size must").replace("selector must", "--selector must")
        )
    if not RunDir.exists(run_dir):
        fail(f"{str(run_dir)!r} is not a run directory (no journal)")
    if (
        out_dir.exists()
        and (not out_dir.is_dir() or any(out_dir.iterdir()))
        and not (out_dir / "ensemble.json").is_file()
    ):
        fail(f"--out {str(out_dir)!r} exists and holds no ensemble; choose another folder")
    data = read_npz(val)
    try:
        ens = ens_lib.from_run(
            run_dir,
            data,
            size=size,
            selector=selector,
            calibrate=calibrate,
            candidates=candidates,
            allow_pickle=allow_pickle,
        )
        scores = ens.evaluate(data)
        saved = ens.save(out_dir)
    except (ValueError, TypeError, FileNotFoundError, FileExistsError, ImportError) as exc:
        if os.environ.get(TRACEBACK_ENV) == "1":
            raise
        fail(str(exc))
    table = Table(title=f"ensemble of {len(ens.members)} from {ens.info['candidates']} members")
    table.add_column("trial", justify="right")
    table.add_column("weight", justify="right")
    for name, weight in ens.composition.items():
        table.add_row(name, f"{weight:.3f}")
    out.print(table)
    out.print(
        "validation (calibration "
        f"{ens.calibration.method}): " + ", ".join(f"{k} {v:.4g}" for k, v in scores.items()),
        highlight=False,
    )
    err.print(f"saved the ensemble to {escape(str(saved))}", highlight=False)
