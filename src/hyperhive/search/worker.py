"""Decentralized search: ``hh.worker``, one of N independent peers sharing a store.

Each peer runs its own optimizer and executor. Before it asks for a configuration
it reads every result committed to the store (by any peer) and tells its
optimizer; it creates trials only through atomic budget claims, so ``max_evals``
is exact across peers; it renews a lease from its own thread, so that a peer that
dies loses only its running trials, which another peer reclaims and re-runs once
the lease has expired (see :mod:`hyperhive.search.claims`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import secrets
import threading
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hyperhive.executors import get_executor
from hyperhive.executors.runner import HOST
from hyperhive.optimizers import Optimizer, get_optimizer
from hyperhive.search.callbacks import CallbackLike, SearchState
from hyperhive.search.claims import Coordinator, coordinator_for
from hyperhive.search.loop import _check_positive, _progress_hook
from hyperhive.search.peer import Peer
from hyperhive.search.result import Result
from hyperhive.search.state import RunState, normalize_directions, trial_seed
from hyperhive.space import Space, as_space
from hyperhive.storage import RunDir, Store, open_store

__all__ = ["Heartbeat", "load_from_store", "peers", "worker"]

logger = logging.getLogger("hyperhive")


class Heartbeat(threading.Thread):
    """Renews a peer's lease every ``lease / 3`` seconds from its own (daemon) thread.

    A failed renewal is logged and tried again at the next beat.
    """

    def __init__(
        self, coord: Coordinator, peer: str, lease: float, info: Mapping[str, Any]
    ) -> None:
        super().__init__(name=f"hyperhive-heartbeat-{peer}", daemon=True)
        self.coord, self.peer, self.lease, self.info = coord, peer, lease, dict(info)
        self._halt = threading.Event()

    def beat(self) -> None:
        """Renew the lease now."""
        self.coord.heartbeat(self.peer, self.lease, self.info)

    def run(self) -> None:
        while not self._halt.wait(self.lease / 3.0):
            try:
                self.beat()
            except Exception as exc:  # noqa: BLE001 - keep beating; the store may come back
                logger.warning("peer %s: lease renewal failed: %r", self.peer, exc)

    def stop(self) -> None:
        """Stop renewing (the lease then expires unless the peer leaves)."""
        self._halt.set()
        if self.is_alive() and self is not threading.current_thread():
            self.join(5.0)


def _open(store: str | Store | None, run_dir: str | Path | None) -> Store:
    if store is None:
        if run_dir is None:
            raise ValueError(
                "hh.worker needs a shared store: give store='redis://...' or a run_dir "
                "on a local disk (its SQLite journal)"
            )
        return RunDir(run_dir).store
    run = Path(run_dir).resolve().name if run_dir is not None else None
    return open_store(store, run=run or None)


def _run_meta(coord: Coordinator, space: Space, directions: list[str], seed: int | None) -> int:
    """Agree on the run's space, directions and seed with the other peers."""
    mine = {
        "space": space.to_dict(),
        "directions": directions,
        "seed": int(seed) if seed is not None else secrets.randbits(32),
    }
    meta = coord.setdefault_meta("run", mine)
    if not isinstance(meta, dict) or "seed" not in meta:
        raise ValueError(f"the store holds an unreadable run record: {meta!r}")
    if Space.from_dict(meta["space"]) != space:
        raise ValueError(
            "the store holds a run over a different space; use another run name "
            "(the run_dir's name or '?run=NAME' in a Redis URL) or the same space"
        )
    if list(meta["directions"]) != directions:
        raise ValueError(
            f"the store holds a run with direction={meta['directions']!r}, "
            f"got direction={directions!r}"
        )
    if seed is not None and int(seed) != int(meta["seed"]):
        logger.warning("the run was created with seed=%d; seed=%d ignored", meta["seed"], seed)
    return int(meta["seed"])


def worker(
    objective: Callable[[dict[str, Any]], Any],
    space: Any,
    *,
    store: str | Store | None = None,
    run_dir: str | Path | None = None,
    direction: str | Sequence[str] = "minimize",
    optimizer: str | Optimizer = "auto",
    max_evals: int | None = 100,
    timeout: float | None = None,
    trial_timeout: float | None = None,
    max_failures: int | None = None,
    max_retries: int = 1,
    workers: int = 1,
    executor: str | Any = "auto",
    seed: int | None = None,
    lease: float = 30.0,
    grace: float = 10.0,
    poll: float = 1.0,
    peer: str | None = None,
    callbacks: Sequence[CallbackLike] = (),
    progress: bool | Callable[[Mapping[str, Any]], None] = False,
) -> Result:
    """Run one peer of a decentralized search; start as many peers as you like.

    Every peer shares the store; start them on any hosts, at any time (a peer that
    joins late reads what is done; one that starts after all others stopped
    resumes the run). The run ends for every peer once ``max_evals`` trials are
    counted across all peers.

    Args:
        objective: as for :func:`hyperhive.search`.
        space: as for :func:`hyperhive.search`; every peer must give the same.
        store: ``"redis://[:password@]host:6379/0"`` (``rediss://`` for TLS) or a
            :class:`~hyperhive.storage.Store`; None uses ``run_dir``'s SQLite journal,
            for peers on one host (a local disk).
        run_dir: a folder for this peer's files (``run.json``, logs, ``results.csv``,
            trial artifacts); with Redis its name is the run's name on the server
            unless the URL has ``?run=NAME``.
        direction: ``"minimize"``, ``"maximize"`` or a list of them.
        optimizer: this peer's optimizer (its seed differs from every other peer's).
        max_evals: counted trials across all peers; exact.
        timeout: this peer's wall-time limit in seconds (its trials are released).
        trial_timeout: per-trial limit in seconds.
        max_failures: stop every peer once this many trials failed or timed out.
        max_retries: how often a lost trial (its peer died or released it) is re-run.
        workers: this peer's trials in flight at once.
        executor: as for :func:`hyperhive.search`.
        seed: the run's seed (the first peer's is kept); None draws one.
        lease: seconds a trial stays this peer's without a heartbeat; a dead peer's
            trials are re-run after this long.
        grace: on SIGTERM/SIGINT or ``timeout``, seconds to let running trials
            finish before releasing them to other peers.
        poll: seconds between looks at the store while waiting.
        peer: this peer's name (default ``host-pid-random``).
        callbacks: functions ``cb(trial, state)`` run for every trial that ends (any
            peer's); ``state.stop()`` stops every peer (a peer started later with a
            larger ``max_evals`` continues the run).
        progress: True for a live display, or a function of a progress dict.

    Returns:
        A :class:`hyperhive.Result` holding every peer's trials.
    """
    if not callable(objective):
        raise TypeError(f"objective must be callable, got {type(objective).__name__}")
    directions = normalize_directions(direction)
    _check_positive("max_evals", max_evals, integer=True)
    _check_positive("timeout", timeout, integer=False)
    _check_positive("trial_timeout", trial_timeout, integer=False)
    _check_positive("max_failures", max_failures, integer=True)
    _check_positive("lease", lease, integer=False, allow_none=False)
    _check_positive("poll", poll, integer=False, allow_none=False)
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ValueError(f"max_retries must be a non-negative integer, got {max_retries!r}")
    if not isinstance(grace, int | float) or grace < 0:
        raise ValueError(f"grace must be a non-negative number, got {grace!r}")
    if max_evals is None and timeout is None and not callbacks:
        raise ValueError("give max_evals or timeout (or a stopping callback); both are None")
    space_obj = as_space(space)
    opt = get_optimizer(optimizer)
    exe = get_executor(executor, workers)
    st = _open(store, run_dir)
    coord = coordinator_for(st)
    run_seed = _run_meta(coord, space_obj, directions, seed)
    state = RunState(space_obj, directions, run_dir, run_seed, opt.settings(), store=st)
    name = peer or f"{HOST}-{os.getpid()}-{secrets.token_hex(2)}"
    peer_seed = int(
        np.random.SeedSequence([run_seed, zlib.crc32(name.encode())]).generate_state(1)[0]
    )
    opt.setup(state.space, directions, seed=peer_seed)
    handler = state.run_dir.attach_log(logger) if state.run_dir is not None else None
    on_progress = _progress_hook(progress)
    beat = Heartbeat(
        coord,
        name,
        float(lease),
        {"host": HOST, "pid": os.getpid(), "workers": exe.workers, "started": time.time()},
    )
    beat.beat()  # hold a lease before the first claim
    beat.start()
    runner = Peer(
        name=name,
        state=state,
        coord=coord,
        optimizer=opt,
        executor=exe,
        max_evals=max_evals,
        timeout=timeout,
        trial_timeout=trial_timeout,
        max_failures=max_failures,
        max_retries=max_retries,
        grace=float(grace),
        poll=float(poll),
        callbacks=list(callbacks),
        on_progress=on_progress,
        view=SearchState(directions=list(directions)),
        inbox=queue.SimpleQueue(),
    )
    threads_ctx: Any = contextlib.nullcontext()
    if exe.name not in ("serial", "thread"):
        from threadpoolctl import threadpool_limits

        threads_ctx = threadpool_limits(limits=1)
    logger.info("peer %s joined (seed %d, %d workers)", name, peer_seed, exe.workers)
    exe.start(objective, runner.sink)
    opt.set_concurrency(exe.workers)
    try:
        with threads_ctx:
            reason = runner.run()
    finally:
        exe.shutdown(wait=False)
        beat.stop()
        with contextlib.suppress(Exception):
            coord.leave(name)
        if handler is not None:
            logger.info("peer %s left: %s", name, runner.stop_reason)
            logger.removeHandler(handler)
            handler.close()
        if on_progress is not None and hasattr(on_progress, "close"):
            on_progress.close()
    return state.result(reason, opt)


def peers(store: str | Store, run_dir: str | Path | None = None) -> dict[str, dict[str, Any]]:
    """The peers of a decentralized run: each one's last heartbeat (host, pid, workers,
    ``seen``) and whether its lease is alive.

    Args:
        store: the run's store (or its URL; a Redis run is named after ``run_dir``).
        run_dir: names the Redis run when the URL has no ``?run=``.
    """
    return coordinator_for(_open(store, run_dir)).peers()


def load_from_store(run_dir: str | Path | None, store: str | Store) -> Result:
    """A run's trials read from its store, as a :class:`hyperhive.Result` (``hh.load`` with
    ``store=``). Space, directions and seed come from ``run_dir`` (``space.json``,
    ``run.json``) when it holds them, else from the run record that peers keep in the store.

    Raises:
        FileNotFoundError: neither the run directory nor the store describes the run.
    """
    st = _open(store, run_dir)
    path = Path(run_dir) if run_dir is not None else None
    if path is not None and (path / "run.json").is_file() and (path / "space.json").is_file():
        meta = json.loads((path / "run.json").read_text(encoding="utf-8"))
        space = Space.from_dict(json.loads((path / "space.json").read_text(encoding="utf-8")))
    else:
        meta = st.get_meta("run")
        if not isinstance(meta, dict) or "space" not in meta:
            raise FileNotFoundError(
                f"{st!r} holds no run record and {str(path)!r} no run.json; nothing to load"
            )
        space = Space.from_dict(meta["space"])
    seed = int(meta["seed"])
    trials = st.trials()
    for t in trials.values():
        if t.seed is None:
            t.seed = trial_seed(seed, t.id)
    return Result(trials.values(), space, meta["directions"], run_dir=path, seed=seed)
