"""Data-parallel training over N local processes with ``torch.distributed``.

The trial's process (the parent) starts N workers with the ``spawn`` method; they
meet through a file store in a temporary folder (``gloo`` on CPU, ``NCCL`` with one
GPU per worker), start from rank 0's weights and, after every backward pass,
average their gradients in one all-reduce of a flat buffer (what
``DistributedDataParallel`` does, without its import cost or its restriction on
parameters unused in a step). Batch-norm statistics stay per process; rank 0's are
kept.
Rank 0 sends each epoch's validation value to the parent, which calls
``hh.report`` and asks ``hh.should_stop()`` (the trial's context lives there), and
answers whether to go on; every rank learns the answer through an all-reduce. At the
end rank 0 writes the (best) weights, which the parent loads into its model.

A trial training on N processes occupies N CPU cores (or GPUs): count it as N
worker slots (see :func:`hyperhive.nas.slots_per_trial`).

As with any ``spawn``-based multiprocessing, a script that trains on several
processes must guard its entry point with ``if __name__ == "__main__":``.
"""

from __future__ import annotations

import contextlib
import datetime
import multiprocessing as mp
import os
import queue
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cloudpickle
import torch
from torch import nn

from hyperhive.nas.fit import Data, FitOutcome, Settings, fit

__all__ = ["DataParallelError", "pick_backend", "train_data_parallel"]

_GO, _STOP = "go", "stop"


class DataParallelError(RuntimeError):
    """A data-parallel worker failed (the message holds its traceback)."""


def pick_backend(processes: int, device: str) -> tuple[str, str]:
    """``(backend, device kind)``: ``("nccl", "cuda")`` with a GPU per process, else gloo/CPU.

    Raises:
        ValueError: ``device="cuda"`` with fewer GPUs than processes, or an unknown device.
    """
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if device == "cpu":
        return "gloo", "cpu"
    if device == "cuda":
        if gpus < processes:
            raise ValueError(f"{processes} processes need {processes} GPUs; {gpus} are visible")
        return "nccl", "cuda"
    if device == "auto":
        return ("nccl", "cuda") if gpus >= processes else ("gloo", "cpu")
    raise ValueError(
        f"device is 'auto', 'cpu' or 'cuda' for data-parallel training, got {device!r}"
    )


def train_data_parallel(
    model: nn.Module,
    train: Data,
    val: Data | None,
    settings: Settings,
    on_epoch: Callable[[int, float, float], bool],
    *,
    processes: int,
    device: str = "auto",
    threads: int = 1,
    timeout: float = 1800.0,
) -> FitOutcome:
    """Train ``model`` on ``processes`` local processes; load the result into ``model``.

    Args:
        model: the model (pickled to the workers with cloudpickle).
        train, val: the data, as from :func:`hyperhive.nas.fit.as_data`.
        settings: the loop settings; ``batch_size`` is the global batch.
        on_epoch: called in this process after each epoch (reports, stop requests).
        processes: the number of worker processes.
        device: ``"auto"``, ``"cpu"`` or ``"cuda"``.
        threads: torch threads per worker.
        timeout: seconds a collective operation may wait for a silent peer.

    Returns:
        The loop's outcome (without ``best_state``: the weights are in ``model``).

    Raises:
        DataParallelError: a worker failed or died.
    """
    backend, kind = pick_backend(processes, device)
    ctx = mp.get_context("spawn")
    tmp = Path(tempfile.mkdtemp(prefix="hyperhive-ddp-"))
    (tmp / "payload.pkl").write_bytes(cloudpickle.dumps((model.cpu(), train, val, settings)))
    to_parent = ctx.Queue()
    to_rank0 = ctx.Queue()
    procs = [
        ctx.Process(
            target=_worker,
            args=(rank, processes, str(tmp), backend, kind, threads, timeout, to_parent, to_rank0),
            name=f"hyperhive-ddp-{rank}",
        )
        for rank in range(processes)
    ]
    try:
        for p in procs:
            p.start()
        outcome = _supervise(procs, to_parent, to_rank0, on_epoch)
        state = torch.load(tmp / "state.pt", map_location="cpu", weights_only=True)
        model.load_state_dict(state)
        return outcome
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
            p.join(timeout=5)
            if p.is_alive():  # pragma: no cover - a worker that ignores SIGTERM
                p.kill()
                p.join()
        to_parent.close()
        to_rank0.close()
        shutil.rmtree(tmp, ignore_errors=True)


def _supervise(procs: list[Any], to_parent: Any, to_rank0: Any, on_epoch: Callable) -> FitOutcome:
    result: FitOutcome | None = None
    quiet_since: float | None = None
    while True:
        msg = _get(to_parent, 0.2)
        if msg is None:
            failed = [p for p in procs if p.exitcode not in (None, 0)]
            if failed:
                # a failing worker sends its traceback before it exits: prefer that
                msg = _get(to_parent, 1.0)
                while msg is not None and msg[0] != "error":
                    msg = _get(to_parent, 0.2)
                if msg is None:
                    p = failed[0]
                    raise DataParallelError(
                        f"data-parallel worker {p.name} died with exit code {p.exitcode}"
                    )
            elif all(p.exitcode == 0 for p in procs):
                if result is not None:
                    return result
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since > 5.0:
                    raise DataParallelError("data-parallel workers ended without a result")
                continue
            else:
                continue
        if msg[0] == "epoch":
            _, epoch, train_loss, value = msg
            to_rank0.put(_STOP if on_epoch(epoch, train_loss, value) else _GO)
        elif msg[0] == "done":
            result = msg[1]
        elif msg[0] == "error":
            _, rank, tb = msg
            raise DataParallelError(f"data-parallel worker {rank} failed:\n{tb}")


def _get(q: Any, timeout: float) -> Any:
    try:
        return q.get(timeout=timeout)
    except queue.Empty:
        return None


def _worker(
    rank: int,
    world: int,
    tmp: str,
    backend: str,
    kind: str,
    threads: int,
    timeout: float,
    to_parent: Any,
    to_rank0: Any,
) -> None:
    import torch.distributed as dist

    parent = os.getppid()
    try:
        torch.set_num_threads(max(1, threads))
        device = torch.device(f"cuda:{rank}" if kind == "cuda" else "cpu")
        if kind == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(
            backend,
            init_method=f"file://{tmp}/rendezvous",
            rank=rank,
            world_size=world,
            timeout=datetime.timedelta(seconds=timeout),
            # Binding the rank to its GPU up front: NCCL's collectives (and the final
            # barrier) then need not guess the device, and torch warns about nothing.
            device_id=device if kind == "cuda" else None,
        )
        model, train, val, s = cloudpickle.loads((Path(tmp) / "payload.pkl").read_bytes())
        model.to(device)
        train = _to(train, device)
        val = _to(val, device) if val is not None else None
        params = [p for p in model.parameters() if p.requires_grad]
        for p in params:  # the same start everywhere (they are equal already)
            dist.broadcast(p.data, src=0)

        def reduce(values: list[float]) -> list[float]:
            t = torch.tensor(values, dtype=torch.float64, device=device)
            dist.all_reduce(t)
            return t.tolist()

        def on_epoch(epoch: int, train_loss: float, value: float) -> bool:
            flag = 0.0
            if rank == 0:
                to_parent.put(("epoch", epoch, train_loss, value))
                flag = 1.0 if _reply(to_rank0, parent) == _STOP else 0.0
            return reduce([flag])[0] > 0

        def sync() -> None:
            average_gradients(params, world)

        out = fit(model, train, val, s, on_epoch, rank=rank, world=world, reduce=reduce, sync=sync)
        if rank == 0:
            state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
            torch.save(state, Path(tmp) / "state.pt")
            out.best_state = None
            to_parent.put(("done", out))
        dist.barrier()
        dist.destroy_process_group()
    except BaseException:  # noqa: BLE001 - reported to the parent, then exit non-zero
        with contextlib.suppress(Exception):
            to_parent.put(("error", rank, traceback.format_exc()))
        to_parent.close()
        to_parent.join_thread()
        raise SystemExit(1) from None


def average_gradients(params: list[torch.Tensor], world: int) -> None:
    """Average the gradients of ``params`` over the processes, in one all-reduce.

    Parameters without a gradient (unused in this step) count as zero.
    """
    import torch.distributed as dist

    if not params:
        return
    flat = torch.cat(
        [(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) for p in params]
    )
    dist.all_reduce(flat)
    flat /= world
    offset = 0
    for p in params:
        n = p.numel()
        p.grad = flat[offset : offset + n].view_as(p).clone()
        offset += n


def _reply(q: Any, parent: int) -> str:
    """The parent's answer; exit if the parent went away."""
    while True:
        try:
            return q.get(timeout=1.0)
        except queue.Empty:
            if os.getppid() != parent:
                raise SystemExit(1) from None


def _to(data: Data, device: torch.device) -> Data:
    xs, y = data
    return tuple(x.to(device) for x in xs), y.to(device)
