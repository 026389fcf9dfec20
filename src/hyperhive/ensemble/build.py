"""``from_run``: an ensemble from the members a search saved, selected on validation data."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hyperhive.ensemble.calibration import METHODS
from hyperhive.ensemble.ensemble import Ensemble, _pair
from hyperhive.ensemble.members import Member, has_member, load_member
from hyperhive.ensemble.outputs import MemberOutput, Stack
from hyperhive.ensemble.selectors import check_selector, check_size, select
from hyperhive.storage import RunDir

__all__ = ["build", "from_run", "run_members"]


def run_members(
    run_dir: str | os.PathLike[str], *, candidates: int | None = None, allow_pickle: bool = False
) -> list[Member]:
    """Load the members saved by the done trials of a run, best objective first.

    Args:
        run_dir: the run directory (read only, with ``hh.load``).
        candidates: keep only this many trials with the best objective (None: all).
        allow_pickle: load pickled members (see :func:`load_member`).

    Raises:
        FileNotFoundError: not a run directory.
        ValueError: no done trial saved a member.
        MemberError: a pickled member and ``allow_pickle`` is False.
    """
    from hyperhive.search import load

    result = load(Path(run_dir))
    if len(result.directions) != 1:
        raise ValueError("ensembles are built from single-objective runs")
    sign = 1.0 if result.directions[0] == "minimize" else -1.0
    done = sorted(result.done, key=lambda t: (sign * t.values[0], t.id))  # type: ignore[index]
    trials_dir = Path(run_dir) / RunDir.TRIALS
    with_member = [t for t in done if has_member(trials_dir / str(t.id))]
    if not with_member:
        raise ValueError(
            f"no done trial of {str(run_dir)!r} saved a member; save one in the objective "
            "with nas.train(..., save=True) or ensemble.save_member(model)"
        )
    if candidates is not None:
        with_member = with_member[: check_size(candidates)]
    graphs: dict[str, Any] = {}
    return [
        load_member(
            trials_dir / str(t.id), allow_pickle=allow_pickle, name=str(t.id), graphs=graphs
        )
        for t in with_member
    ]


def build(
    members: Sequence[Member],
    val_data: Any,
    *,
    size: int = 5,
    selector: str = "greedy",
    calibrate: str = "auto",
    outputs: Sequence[MemberOutput] | None = None,
) -> Ensemble:
    """Select an ensemble among ``members`` on validation data and calibrate it.

    Members whose validation prediction is not finite are left out.

    Args:
        members: candidate members.
        val_data: ``(x_val, y_val)``.
        size: the ensemble size (for ``"greedy"``, the most additions).
        selector: ``"greedy"`` or ``"topk"``.
        calibrate: ``"auto"``, ``"scale"``, ``"isotonic"`` or ``"none"``.
        outputs: the members' validation outputs when already computed.

    Raises:
        ValueError: bad arguments, or no member with a finite prediction.
    """
    _check(size, selector, calibrate)
    x, y = _pair(val_data, "val_data")
    outs = list(outputs) if outputs is not None else [m.predict(x) for m in members]
    usable = [i for i, o in enumerate(outs) if o.finite()]
    if not usable:
        raise ValueError("no member gives a finite prediction on the validation data")
    stack = Stack([outs[i] for i in usable], y)
    chosen = select(selector, stack, size)
    picked = [usable[i] for i in chosen]
    ens = Ensemble(
        [members[i] for i in picked],
        list(chosen.values()),
        info={"selector": selector, "size": size, "candidates": len(members)},
    )
    ens.info["val_loss"] = float(stack.loss(_weights(chosen, stack.m)))
    ens.calibrate_outputs([outs[i] for i in picked], y, calibrate)
    ens.info["calibration"] = ens.calibration.method
    return ens


def from_run(
    run_dir: str | os.PathLike[str],
    val_data: Any,
    *,
    size: int = 5,
    selector: str = "greedy",
    calibrate: str = "auto",
    candidates: int | None = None,
    allow_pickle: bool = False,
) -> Ensemble:
    """Build an ensemble from the members a search saved (AutoDEUQ).

    Every done trial whose artifact folder holds a member (see
    :mod:`hyperhive.ensemble.members`) is a candidate; the selector picks the
    ensemble on ``val_data`` and the variance calibration is fitted on it.

    Args:
        run_dir: the run directory (read only).
        val_data: ``(x_val, y_val)``, data the members were not trained on.
        size: the ensemble size.
        selector: ``"greedy"`` (Caruana, with replacement) or ``"topk"``.
        calibrate: ``"auto"``, ``"scale"``, ``"isotonic"`` or ``"none"``.
        candidates: consider only this many best trials (None: all).
        allow_pickle: load pickled members (scikit-learn, callables); only for runs
            you trust.

    Returns:
        The :class:`Ensemble`.
    """
    _check(size, selector, calibrate)
    _pair(val_data, "val_data")
    members = run_members(run_dir, candidates=candidates, allow_pickle=allow_pickle)
    ens = build(members, val_data, size=size, selector=selector, calibrate=calibrate)
    ens.info["run_dir"] = str(run_dir)
    return ens


def _check(size: int, selector: str, calibrate: str) -> None:
    check_size(size)
    check_selector(selector)
    if calibrate not in METHODS:
        raise ValueError(f"calibrate must be one of {list(METHODS)}, got {calibrate!r}")


def _weights(chosen: dict[int, float], m: int) -> np.ndarray:
    w = np.zeros(m)
    for i, v in chosen.items():
        w[i] = v
    return w
