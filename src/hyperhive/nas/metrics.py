"""Model size and latency, for multi-objective NAS (objectives or constraints)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["count_parameters", "measure_latency"]


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """The number of parameters of ``model`` (shared parameters counted once).

    Args:
        model: any module.
        trainable_only: count only parameters that require gradients.
    """
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def measure_latency(
    model: nn.Module,
    example_input: torch.Tensor | Sequence[torch.Tensor],
    *,
    repeats: int = 20,
    warmup: int = 3,
) -> float:
    """The median wall time in seconds of one forward pass on ``example_input``.

    The model runs in evaluation mode without gradients; its training mode is
    restored afterwards. For a stable figure give a realistic batch and keep other
    work off the machine (set ``torch.set_num_threads`` as in deployment).

    Args:
        model: the model.
        example_input: a tensor, or a sequence of tensors for several inputs.
        repeats: timed forward passes (the median is returned).
        warmup: untimed passes first.

    Raises:
        ValueError: ``repeats`` below 1 or ``warmup`` below 0.
    """
    if repeats < 1 or warmup < 0:
        raise ValueError(f"need repeats >= 1 and warmup >= 0, got {repeats=}, {warmup=}")
    args = (example_input,) if isinstance(example_input, torch.Tensor) else tuple(example_input)
    sync = torch.cuda.synchronize if any(a.is_cuda for a in args) else (lambda: None)
    was_training = model.training
    model.eval()
    times: list[float] = []
    try:
        with torch.no_grad():
            for i in range(warmup + repeats):
                sync()
                t0 = time.perf_counter()
                model(*args)
                sync()
                if i >= warmup:
                    times.append(time.perf_counter() - t0)
    finally:
        model.train(was_training)
    return statistics.median(times)
