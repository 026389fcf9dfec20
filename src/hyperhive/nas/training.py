"""``nas.train``: the training loop to call inside an objective."""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from hyperhive.nas.fit import MONITORS, FitOutcome, LossFunction, Settings, as_data, fit
from hyperhive.trial import current_trial, report, should_stop

__all__ = ["PROCESSES_KEY", "TrainResult", "slots_per_trial", "train"]

PROCESSES_KEY = "ddp_processes"
"""The configuration key for the number of data-parallel processes of a trial."""


def slots_per_trial(config: Mapping[str, Any], key: str = PROCESSES_KEY) -> int:
    """How many worker slots a trial of ``config`` occupies: ``config[key]``, else 1.

    A trial that trains on N processes (``nas.train(..., processes=N)``) keeps N
    cores (or GPUs) busy; executors that budget slots can count it as N.
    """
    n = config.get(key, 1)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"config[{key!r}] must be a positive integer, got {n!r}")
    return n


@dataclass
class TrainResult:
    """What :func:`train` returns.

    Attributes:
        model: the trained model (with the best weights when ``restore_best``).
        best_value: the best monitored validation value (the training loss without
            validation data); NaN when training diverged at once.
        best_epoch: the epoch of ``best_value``.
        history: one dict per epoch: ``epoch``, ``train_loss``, ``value``, ``seconds``.
        stopped: ``hh.should_stop()`` ended training (a stopper asked).
        early_stopped: validation stopped improving for ``patience`` epochs.
        diverged: the training loss became NaN or infinite.
        saved: the folder the model was saved in, if any.
    """

    model: nn.Module
    best_value: float
    best_epoch: int
    history: list[dict[str, float]] = field(default_factory=list)
    stopped: bool = False
    early_stopped: bool = False
    diverged: bool = False
    saved: Path | None = None

    @property
    def epochs(self) -> int:
        """Epochs run."""
        return len(self.history)


def train(
    model: nn.Module,
    train_data: Any,
    val_data: Any = None,
    *,
    loss: str | LossFunction | None = None,
    optimizer: str | Callable[..., torch.optim.Optimizer] = "adam",
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    epochs: int = 10,
    batch_size: int = 32,
    patience: int | None = None,
    min_delta: float = 0.0,
    monitor: str | Callable[[torch.Tensor, torch.Tensor], float] = "loss",
    maximize: bool | None = None,
    processes: int = 1,
    device: str = "auto",
    threads: int = 1,
    seed: int | None = None,
    shuffle: bool = True,
    restore_best: bool = True,
    clip_grad: float | None = None,
    report_values: bool = True,
    save: bool | str | os.PathLike[str] = False,
) -> TrainResult:
    """Train ``model``; report the validation value per epoch to the running trial.

    Inside a trial every epoch's monitored value goes to ``hh.report(value,
    step=epoch)``, and training ends as soon as ``hh.should_stop()`` is True (a
    stopper asked); outside a trial nothing is reported.

    Args:
        model: the model (e.g. from :meth:`hyperhive.nas.Graph.build`).
        train_data: ``(x, y)``, tensors or arrays; ``x`` may be a tuple of inputs.
        val_data: ``(x, y)`` for validation and early stopping, or None.
        loss: ``"mse"``, ``"mae"``, ``"huber"``, ``"cross_entropy"``, ``"bce"``,
            ``"gaussian_nll"`` (for a :class:`~hyperhive.nas.Gaussian` head: the
            negative log-likelihood of the targets under the predicted means and
            variances) or a mean-reduced callable ``loss(pred, y)``; None takes the
            graph's default (``model.graph.metadata["loss"]``), else ``"gaussian_nll"``
            for a model ending in a Gaussian head, else ``"mse"``.
        optimizer: ``"adam"``, ``"adamw"``, ``"sgd"`` (momentum 0.9), ``"rmsprop"`` or
            ``fn(params, lr=..., weight_decay=...)``.
        lr, weight_decay: the optimizer's learning rate and weight decay.
        epochs: the maximum number of epochs.
        batch_size: the global batch size (split across ``processes``).
        patience: stop after this many epochs without improvement (None: never).
        min_delta: the smallest change that counts as an improvement.
        monitor: the validation value: ``"loss"``, ``"mse"``, ``"rmse"``, ``"mae"``,
            ``"accuracy"`` or a callable ``fn(pred, y) -> float`` (a batch mean).
        maximize: the monitored value is better when larger (default: only for
            ``"accuracy"``).
        processes: data-parallel processes (``torch.distributed``: gloo on CPU,
            NCCL with a GPU per process). A trial on N processes should count as N
            worker slots: see :func:`slots_per_trial` and ``PROCESSES_KEY``.
        device: ``"auto"`` (a GPU when there are enough), ``"cpu"`` or ``"cuda"``.
        threads: torch threads per data-parallel process.
        seed: seeds the shuffling and the model's randomness; None takes the
            trial's seed (0 outside a trial).
        shuffle: reshuffle the training set every epoch.
        restore_best: end with the weights of the best epoch.
        clip_grad: clip the gradient norm to this value.
        report_values: send values to ``hh.report`` inside a trial.
        save: True writes the model (configuration, ``state_dict``, graph) to the
            trial's artifact folder; a path writes there. See
            :func:`hyperhive.nas.load_model`.

    Returns:
        A :class:`TrainResult`; return ``result.best_value`` from the objective.

    Raises:
        ValueError: for invalid settings or data.
    """
    trial = current_trial()
    if loss is None:
        loss = getattr(getattr(model, "graph", None), "metadata", {}).get("loss")
        loss = loss or ("gaussian_nll" if _gaussian_output(model) else "mse")
    if isinstance(monitor, str) and monitor not in MONITORS:
        raise ValueError(f"unknown monitor {monitor!r}; known: {list(MONITORS)} or a callable")
    for name, value in (("epochs", epochs), ("batch_size", batch_size), ("processes", processes)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if not (lr > 0 and math.isfinite(lr)):
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    if seed is None:
        seed = int(trial.seed) % 2**31 if trial is not None and trial.seed is not None else 0
    s = Settings(
        loss=loss,
        optimizer=optimizer,
        lr=float(lr),
        weight_decay=float(weight_decay),
        epochs=epochs,
        batch_size=batch_size,
        patience=patience,
        min_delta=float(min_delta),
        monitor=monitor,
        maximize=bool(monitor == "accuracy" if maximize is None else maximize),
        shuffle=shuffle,
        seed=int(seed),
        restore_best=restore_best,
        clip_grad=clip_grad,
    )
    train_t = as_data(train_data, "train_data")
    val_t = as_data(val_data, "val_data") if val_data is not None else None
    if len(train_t[1]) < processes:
        raise ValueError(f"{len(train_t[1])} training samples cannot feed {processes} processes")

    def on_epoch(epoch: int, train_loss: float, value: float) -> bool:
        if report_values and trial is not None:
            report(value, step=epoch)
        return should_stop()

    if processes > 1:
        from hyperhive.nas.ddp import train_data_parallel

        out = train_data_parallel(
            model, train_t, val_t, s, on_epoch, processes=processes, device=device, threads=threads
        )
    else:
        out = _train_here(model, train_t, val_t, s, on_epoch, device)
    result = TrainResult(
        model=model,
        best_value=float(out.best_value),
        best_epoch=out.best_epoch,
        history=out.history,
        stopped=out.stopped,
        early_stopped=out.early_stopped,
        diverged=out.diverged,
    )
    if save:
        result.saved = _save(result, save, trial)
    return result


def _gaussian_output(model: nn.Module) -> bool:
    from hyperhive.nas.heads import Gaussian

    steps = getattr(model, "steps", [])
    return any(isinstance(st.op, Gaussian) for st in steps if st.name == model.output_name)


def _train_here(model: nn.Module, train_t, val_t, s: Settings, on_epoch, device: str) -> FitOutcome:
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    dev = torch.device(device)
    model.to(dev)

    def move(d: Any) -> Any:
        return None if d is None else (tuple(x.to(dev) for x in d[0]), d[1].to(dev))

    return fit(model, move(train_t), move(val_t), s, on_epoch)


def _save(result: TrainResult, save: Any, trial: Any) -> Path | None:
    from hyperhive.nas.io import save_model

    if save is True:
        folder = trial.artifact_dir if trial is not None else None
        if folder is None:
            warnings.warn(
                "nas.train(save=True) outside a trial with an artifact folder (give the "
                "search a run_dir, or save=<path>): the model is not saved",
                stacklevel=3,
            )
            return None
    else:
        folder = Path(save)
    config = getattr(result.model, "config", None)
    if config is None and trial is not None:
        config = trial.config
    extra = {"best_value": result.best_value, "best_epoch": result.best_epoch}
    return save_model(result.model, folder, config=config, extra=extra)
