"""Decentralized search: ``hh.worker``, one of N independent peers sharing a store.

Each peer runs the one search loop (:mod:`hyperhive.search.core`) with its own
optimizer and executor and the claim-and-sync policy
(:class:`~hyperhive.search.peer.PeerCommit`): before it asks for a configuration
it reads every result committed to the store (by any peer) and tells its
optimizer; it creates trials only through atomic budget claims, so ``max_evals``
is exact across peers; it renews a lease from its own thread, so that a peer that
dies loses only its running trials, which another peer reclaims and re-runs once
the lease has expired (see :mod:`hyperhive.storage.claims`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from hyperhive.executors import Executor, get_executor
from hyperhive.executors.runner import HOST
from hyperhive.optimizers import Optimizer, get_optimizer
from hyperhive.search.callbacks import CallbackLike
from hyperhive.search.core import Loop
from hyperhive.search.options import (
    LoopOptions,
    check_initial_points,
    check_non_negative,
    check_objective,
    check_positive,
    check_run_meta,
    check_seed,
    close_progress,
    normalize_directions,
    progress_hook,
)
from hyperhive.search.peer import Heartbeat, PeerCommit
from hyperhive.search.reader import load, open_shared
from hyperhive.search.result import Result
from hyperhive.search.state import RunState
from hyperhive.search.warm import warm_trials
from hyperhive.space import Space, as_space
from hyperhive.stoppers import Stopper
from hyperhive.storage import Store
from hyperhive.storage.claims import ClaimStore, claims_for
from hyperhive.streams import peer_seed

__all__ = ["Heartbeat", "load_from_store", "peers", "worker"]

logger = logging.getLogger("hyperhive")


def _run_meta(claims: ClaimStore, space: Space, directions: list[str], seed: int | None) -> int:
    """Agree on the run's space, directions and seed with the other peers."""
    mine = {
        "space": space.to_dict(),
        "directions": directions,
        "seed": int(seed) if seed is not None else secrets.randbits(32),
    }
    meta = claims.setdefault_meta("run", mine)
    if not isinstance(meta, dict) or "seed" not in meta:
        raise ValueError(f"the store holds an unreadable run record: {meta!r}")
    return check_run_meta(
        meta,
        space,
        directions,
        seed,
        "the store",
        "use another run name (the run_dir's name or '?run=NAME' in a Redis URL), "
        "or the same space and direction",
    )


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
    executor: str | Executor = "auto",
    seed: int | None = None,
    lease: float = 30.0,
    grace: float = 10.0,
    poll: float = 1.0,
    peer: str | None = None,
    callbacks: Sequence[CallbackLike] = (),
    progress: bool | Callable[[Mapping[str, Any]], None] = False,
    initial_points: Sequence[Mapping[str, Any]] | None = None,
    warm_start: str | Path | Result | None = None,
    slots_per_trial: Callable[[dict[str, Any]], int] | None = None,
    stopper: str | Stopper | None = None,
) -> Result:
    """Run one peer of a decentralized search; start as many peers as you like.

    Every peer shares the store; start them on any hosts, at any time (a peer that
    joins late reads what is done; one that starts after all others stopped
    resumes the run). The run ends for every peer once ``max_evals`` trials are
    counted across all peers. The options shared with :func:`hyperhive.search`
    mean the same here.

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
        max_retries: how often a trial whose worker died is re-run; the next death
            ends it ``failed``. Trials a peer released or left by dying are always re-run.
        workers: this peer's trials in flight at once.
        executor: as for :func:`hyperhive.search`.
        seed: the run's seed (the first peer's is kept); None draws one.
        lease: seconds a trial stays this peer's without a heartbeat; a dead peer's
            trials are re-run after this long.
        grace: on SIGTERM/SIGINT or ``timeout``, seconds to let running trials
            finish before releasing them to other peers.
        poll: seconds between looks at the store while waiting.
        peer: this peer's name (default ``host-pid-random``).
        callbacks: functions ``cb(trial, state)`` run for every trial that ends while
            this peer runs (any peer's; not those that ended before it started);
            ``state.stop()`` stops every peer (a peer started later with a larger
            ``max_evals`` continues the run).
        progress: True for a live display, or a function of a progress dict.
        initial_points: as for :func:`hyperhive.search`: evaluated first by this
            peer, skipping those the run already holds when the peer starts.
        warm_start: as for :func:`hyperhive.search` (this peer's optimizer learns
            from them).
        slots_per_trial: as for :func:`hyperhive.search`, over this peer's workers.
        stopper: as for :func:`hyperhive.search`; the rungs live in the shared store,
            so every peer decides from every peer's reports.

    Returns:
        A :class:`hyperhive.Result` holding every peer's trials.
    """
    check_objective(objective)
    directions = normalize_directions(direction)
    options = LoopOptions(
        max_evals=max_evals,
        timeout=timeout,
        trial_timeout=trial_timeout,
        max_failures=max_failures,
        max_retries=max_retries,
        callbacks=list(callbacks),
        slots_per_trial=slots_per_trial,
        stopper=stopper,
    ).check()
    check_positive("lease", lease, integer=False, allow_none=False)
    check_positive("poll", poll, integer=False, allow_none=False)
    check_non_negative("grace", grace, integer=False)
    check_seed(seed)
    space_obj = as_space(space)
    initial = check_initial_points(initial_points, space_obj)
    warm = warm_trials(warm_start, space_obj, directions) if warm_start is not None else []
    opt = get_optimizer(optimizer)
    exe = get_executor(executor, workers)
    st = open_shared(store, run_dir)
    claims = claims_for(st)
    run_seed = _run_meta(claims, space_obj, directions, seed)
    state = RunState(space_obj, directions, run_dir, run_seed, opt.settings(), store=st)
    name = peer or f"{HOST}-{os.getpid()}-{secrets.token_hex(2)}"
    own_seed = peer_seed(run_seed, name)
    opt.setup(state.space, directions, seed=own_seed)
    handler = state.run_dir.attach_log(logger) if state.run_dir is not None else None
    on_progress = progress_hook(progress)
    beat = Heartbeat(
        claims,
        name,
        float(lease),
        {"host": HOST, "pid": os.getpid(), "workers": exe.workers, "started": time.time()},
    )
    beat.beat()  # hold a lease before the first claim
    beat.start()
    policy = PeerCommit(state, claims, name, max_evals, float(grace), float(poll))
    loop = Loop(state, opt, exe, policy, options, on_progress)
    reason = "not started"
    try:
        logger.info("peer %s joined (seed %d, %d workers)", name, own_seed, exe.workers)
        loop.begin(initial, warm)
        reason = loop.drive(objective)
    finally:
        beat.stop()
        with contextlib.suppress(Exception):
            claims.leave(name)
        if handler is not None:
            logger.info("peer %s left: %s", name, reason)
            logger.removeHandler(handler)
            handler.close()
        close_progress(on_progress)
    return state.result(reason, opt)


def peers(
    store: str | Path | Store, run_dir: str | Path | None = None
) -> dict[str, dict[str, Any]]:
    """The peers of a decentralized run: each one's last heartbeat (host, pid, workers,
    ``seen``) and whether its lease is alive.

    Args:
        store: the run's store (or its URL; a Redis run is named after ``run_dir``).
        run_dir: names the Redis run when the URL has no ``?run=``.
    """
    return claims_for(open_shared(store, run_dir)).peers()


def load_from_store(run_dir: str | Path | None, store: str | Store) -> Result:
    """A run's trials read from its store (``hh.load(run_dir, store=store)``)."""
    return load(run_dir, store)
