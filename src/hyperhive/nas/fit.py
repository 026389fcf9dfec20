"""The training loop, shared by one process and by data-parallel workers.

In a data-parallel run every process walks the same shuffled order of the
training set; each global batch is split into one chunk per process and each
chunk's mean loss is weighted by ``len(chunk) * processes / len(batch)``, so the
gradient averaged across processes equals the gradient of the global batch's mean
loss: N processes give (up to rounding) the updates of one process with the same
global batch size.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

LossFunction = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Data = tuple[tuple[torch.Tensor, ...], torch.Tensor]

LOSSES: dict[str, Callable[[], nn.Module]] = {
    "mse": nn.MSELoss,
    "mae": nn.L1Loss,
    "huber": nn.HuberLoss,
    "smooth_l1": nn.SmoothL1Loss,
    "cross_entropy": nn.CrossEntropyLoss,
    "bce": nn.BCEWithLogitsLoss,
}
OPTIMIZERS: dict[str, Callable[..., torch.optim.Optimizer]] = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": lambda params, lr, weight_decay: torch.optim.SGD(
        params, lr=lr, momentum=0.9, weight_decay=weight_decay
    ),
    "rmsprop": torch.optim.RMSprop,
}
MONITORS = ("loss", "mse", "rmse", "mae", "accuracy")


@dataclass(frozen=True)
class Settings:
    """Everything the loop needs besides the model and the data (picklable)."""

    loss: str | LossFunction = "mse"
    optimizer: str | Callable[..., torch.optim.Optimizer] = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    epochs: int = 10
    batch_size: int = 32
    patience: int | None = None
    min_delta: float = 0.0
    monitor: str | Callable[[torch.Tensor, torch.Tensor], float] = "loss"
    maximize: bool = False
    shuffle: bool = True
    seed: int = 0
    restore_best: bool = True
    clip_grad: float | None = None
    eval_batch_size: int = 1024


@dataclass
class FitOutcome:
    """What the loop returns (``best_state`` only where it was kept)."""

    history: list[dict[str, float]] = field(default_factory=list)
    best_value: float = math.nan
    best_epoch: int = 0
    stopped: bool = False
    early_stopped: bool = False
    diverged: bool = False
    best_state: dict[str, torch.Tensor] | None = None


def as_data(data: Any, what: str) -> Data:
    """``(x, y)`` as tensors; ``x`` may be a tuple of inputs. Floats become float32.

    Raises:
        TypeError: not a pair.
        ValueError: inputs and targets of different lengths, or no samples.
    """
    if not isinstance(data, Sequence) or isinstance(data, str) or len(data) != 2:
        raise TypeError(f"{what} must be a pair (x, y); x may be a tuple of inputs")
    x, y = data
    xs = tuple(x) if isinstance(x, tuple | list) else (x,)
    xs = tuple(_tensor(a) for a in xs)
    yt = _tensor(y)
    n = len(yt)
    if n == 0 or any(len(a) != n for a in xs):
        sizes = [len(a) for a in xs]
        raise ValueError(f"{what}: inputs {sizes} and targets ({n}) need the same, nonzero length")
    return xs, yt


def _tensor(a: Any) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(a) if not isinstance(a, torch.Tensor) else a)
    return t.float() if t.is_floating_point() else t


def loss_function(loss: str | LossFunction) -> LossFunction:
    """A mean-reduced loss from its name (:data:`LOSSES`) or a callable."""
    if callable(loss):
        return loss
    if loss == "gaussian_nll":
        from hyperhive.nas.heads import gaussian_nll

        return gaussian_nll
    if loss not in LOSSES:
        known = sorted([*LOSSES, "gaussian_nll"])
        raise ValueError(f"unknown loss {loss!r}; known: {known} or a callable")
    fn = LOSSES[loss]()
    if loss in ("cross_entropy",):
        return fn
    return lambda pred, y: fn(pred, _align(pred, y))


def _align(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Targets reshaped like predictions when only their shapes differ (``(n,)`` vs ``(n, 1)``)."""
    if pred.shape != y.shape and pred.numel() == y.numel():
        y = y.reshape(pred.shape)
    return y.to(pred.dtype)


def make_optimizer(s: Settings, params: Any) -> torch.optim.Optimizer:
    """The optimizer named by ``s.optimizer`` (or made by the callable)."""
    if callable(s.optimizer):
        return s.optimizer(params, lr=s.lr, weight_decay=s.weight_decay)
    if s.optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {s.optimizer!r}; known: {sorted(OPTIMIZERS)}")
    return OPTIMIZERS[s.optimizer](params, lr=s.lr, weight_decay=s.weight_decay)


def batches(order: torch.Tensor, batch_size: int, world: int) -> list[torch.Tensor]:
    """Global batches of ``order``; a last batch smaller than ``world`` joins the previous."""
    out = list(torch.split(order, batch_size))
    if len(out) > 1 and len(out[-1]) < world:
        out[-2:] = [torch.cat(out[-2:])]
    return out


def _score(s: Settings, loss_fn: LossFunction, pred: torch.Tensor, y: torch.Tensor) -> float:
    """The sum over the batch of the monitored value."""
    n = len(y)
    m = s.monitor
    if callable(m):
        return float(m(pred, y)) * n
    if m == "loss":
        return float(loss_fn(pred, y)) * n
    if m == "accuracy":
        if pred.dim() > 1 and pred.shape[-1] > 1:
            return float((pred.argmax(-1) == y).sum())
        return float(((pred.reshape(y.shape) > 0).to(y.dtype) == y).sum())
    if s.loss == "gaussian_nll":  # errors of the predicted means
        from hyperhive.nas.heads import split_gaussian

        pred = split_gaussian(pred)[0]
    diff = pred - _align(pred, y)
    per = diff.abs() if m == "mae" else diff**2
    return float(per.reshape(n, -1).mean(1).sum())


def evaluate(
    model: nn.Module, data: Data, s: Settings, loss_fn: LossFunction, rank: int, world: int, reduce
) -> float:
    """The monitored value on ``data`` (each process takes every ``world``-th sample)."""
    xs, y = data
    idx = torch.arange(rank, len(y), world)
    total = 0.0
    was = model.training
    model.eval()
    with torch.no_grad():
        for part in torch.split(idx, s.eval_batch_size):
            total += _score(s, loss_fn, model(*(x[part] for x in xs)), y[part])
    model.train(was)
    total, count = reduce([total, float(len(idx))])
    value = total / count
    return math.sqrt(value) if s.monitor == "rmse" else value


def fit(
    model: nn.Module,
    train: Data,
    val: Data | None,
    s: Settings,
    on_epoch: Callable[[int, float, float], bool],
    *,
    rank: int = 0,
    world: int = 1,
    reduce: Callable[[list[float]], list[float]] = lambda v: v,
    sync: Callable[[], None] | None = None,
) -> FitOutcome:
    """Train ``model`` for ``s.epochs``.

    ``on_epoch(epoch, train_loss, value)`` is called after every epoch with the
    monitored validation value (the training loss without validation data) and
    returns True to end training. ``reduce`` sums lists of floats over processes
    and ``sync`` averages the gradients over processes after each backward pass.
    """
    xs, y = train
    loss_fn = loss_function(s.loss)
    opt = make_optimizer(s, [p for p in model.parameters() if p.requires_grad])
    order_gen = torch.Generator().manual_seed(s.seed)
    torch.manual_seed(s.seed + rank)  # dropout and the like differ per process
    sign = -1.0 if s.maximize else 1.0
    out = FitOutcome(best_value=math.inf * sign)
    for epoch in range(1, s.epochs + 1):
        t0 = time.perf_counter()
        model.train()
        order = torch.randperm(len(y), generator=order_gen) if s.shuffle else torch.arange(len(y))
        total = 0.0
        for batch in batches(order, s.batch_size, world):
            chunk = torch.tensor_split(batch, world)[rank].to(y.device)
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(*(x[chunk] for x in xs)), y[chunk])
            (loss * (len(chunk) * world / len(batch))).backward()
            if sync is not None:
                sync()
            if s.clip_grad is not None:
                nn.utils.clip_grad_norm_(model.parameters(), s.clip_grad)
            opt.step()
            total += float(loss.detach()) * len(chunk)
        (train_sum,) = reduce([total])
        train_loss = train_sum / len(y)
        out.diverged = not math.isfinite(train_loss)
        if out.diverged:
            value = math.nan
        elif val is not None:
            value = evaluate(model, val, s, loss_fn, rank, world, reduce)
        else:
            value = train_loss
        out.history.append(
            {"epoch": epoch, "train_loss": train_loss, "value": value, "seconds": 0.0}
        )
        if math.isfinite(value) and sign * value < sign * out.best_value - s.min_delta:
            out.best_value, out.best_epoch = value, epoch
            if s.restore_best and rank == 0:
                out.best_state = copy.deepcopy(model.state_dict())
        out.history[-1]["seconds"] = time.perf_counter() - t0
        if on_epoch(epoch, train_loss, value):
            out.stopped = True
            break
        if out.diverged:
            break
        if s.patience is not None and epoch - out.best_epoch >= s.patience:
            out.early_stopped = True
            break
    if not math.isfinite(out.best_value):
        out.best_value = math.nan if out.diverged else out.best_value
    if s.restore_best and out.best_state is not None:
        model.load_state_dict(out.best_state)
    return out
