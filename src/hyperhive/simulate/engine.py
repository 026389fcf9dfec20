"""A discrete-event simulation of a search on a simulated clock.

Centralized (``hh.search``): one driver serves every worker. Each time it is free
and some trials have ended it commits their ``end`` events (one store operation),
tells the optimizer, asks for as many configurations as there are idle workers
(the trials still running are ``pending``), and commits the ``submit`` events (one
more operation); the workers start when all of that is done.

Decentralized (``hh.worker``): peers of ``workers_per_peer`` workers each, with
their own optimizer. Each time a peer is free and has idle workers it appends its
``end`` events, reads every event committed since its last read (one operation,
plus replaying each event), tells its optimizer every new result of any peer (and
pays every model refit of its own), asks for its idle workers and claims one
trial slot per configuration (one operation each). Peers also poll the store every
``poll`` seconds (two operations) and every peer reads every event.

The simulation reuses the loop's decisions rather than a model of its own: how
many configurations to ask (:func:`hyperhive.search.decisions.fill_count`), the order
results are told (:func:`~hyperhive.search.decisions.finish_order`), and the store
round trips of each mode, from the loop's commit policies
(:class:`~hyperhive.search.policy.CentralCommit`,
:class:`~hyperhive.search.peer.PeerCommit`).

Costs on the simulated clock: the optimizer's real compute (measured, see
:class:`~hyperhive.simulate.costs.ComputeMeter`), ``store_latency`` per store
round trip, and the store server's own time (``store_service`` per operation,
``event_cost`` per event read) stretched by its load as in an M/M/1 queue.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hyperhive.optimizers import Optimizer
from hyperhive.search.decisions import fill_count, finish_order
from hyperhive.search.peer import PeerCommit
from hyperhive.search.policy import CentralCommit, CommitPolicy
from hyperhive.simulate.costs import ComputeMeter, CostProfile
from hyperhive.space import Space
from hyperhive.storage.codec import dumps, loads
from hyperhive.trial import Trial, TrialStatus, apply_event, end_event, submit_event

__all__ = ["SimResult", "replay_cost", "simulate"]

MODES = ("centralized", "decentralized")
_FINISH, _SERVED = 0, 1


@dataclass
class SimResult:
    """What a simulation measured.

    Attributes:
        mode: ``"centralized"`` or ``"decentralized"``.
        workers: simulated workers.
        peers: drivers (1 when centralized).
        optimizer: the optimizer's name.
        horizon: simulated seconds.
        utilization: the workers' busy time over ``workers * horizon``.
        trials: trials started within the horizon.
        server_busy: the busiest driver's (or peer's) busy fraction of the horizon.
        store_utilization: the store server's mean utilization.
        mean_wait: mean seconds a worker waited between two trials.
        wait_share: how that wait splits into ``queue`` (the driver was busy with
            others), ``compute`` (the optimizer) and ``store`` (round trips).
        compute: the :class:`ComputeMeter` summary (real compute measured).
        wall: real seconds the simulation took.
        settings: the parameters.
    """

    mode: str
    workers: int
    peers: int
    optimizer: str
    horizon: float
    utilization: float
    trials: int
    server_busy: float
    store_utilization: float
    mean_wait: float
    wait_share: dict[str, float]
    compute: dict[str, Any]
    wall: float
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def bottleneck(self) -> str:
        """What limits utilization: ``"driver"``, ``"store"``, ``"latency"`` or ``"-"``."""
        if self.store_utilization >= 0.8:
            return "store"
        if self.utilization >= 0.99:
            return "-"
        share = self.wait_share
        if share.get("store", 0.0) > share.get("queue", 0.0) + share.get("compute", 0.0):
            return "latency"
        return "driver" if self.mode == "centralized" else "peer"

    def row(self) -> dict[str, Any]:
        """A flat dict for a table."""
        return {
            "mode": self.mode,
            "workers": self.workers,
            "peers": self.peers,
            "optimizer": self.optimizer,
            "utilization": round(self.utilization, 4),
            "trials": self.trials,
            "server_busy": round(self.server_busy, 4),
            "store_util": round(self.store_utilization, 4),
            "mean_wait_s": round(self.mean_wait, 4),
            "bottleneck": self.bottleneck,
            "real_asks": self.compute.get("real_asks"),
            "compute_s": round(self.compute.get("ask_seconds", 0.0), 2),
            "wall_s": round(self.wall, 1),
        }


def replay_cost(n: int = 2000) -> float:
    """Measured CPU seconds to decode and replay one event (what each peer pays per event)."""
    trial = Trial(id=0, config={f"x{i}": 0.5 for i in range(5)}, status=TrialStatus.DONE)
    trial.objective, trial.started, trial.finished = 1.0, 1.0, 2.0
    texts = []
    for i in range(n // 2):
        texts.append(dumps({**submit_event(i, trial.config), "peer": "p"}))
        texts.append(dumps({**end_event(trial), "trial": i}))
    table: dict[int, Trial] = {}
    t0 = time.process_time()
    for text in texts:
        apply_event(table, loads(text))
    return (time.process_time() - t0) / len(texts)


class _Store:
    """The store server as one FIFO queue: an operation waits for the work queued before it.

    Background work (peers' polls and event reads, a rate in server seconds per
    second) takes its share of the server, stretching every operation by
    ``1 / (1 - background)``; demand near or above the capacity makes operations
    wait longer and longer, as on a saturated Redis.
    """

    def __init__(self, latency: float, service: float, event_cost: float) -> None:
        self.latency, self.service, self.event_cost = latency, service, event_cost
        self.free_at = 0.0
        self.last = 0.0
        self.background = 0.0
        self.total_work = 0.0

    def roll(self, now: float, background: float) -> None:
        """Charge the background work since the last call; ``background`` applies from now."""
        self.total_work += self.background * max(0.0, now - self.last)
        self.last, self.background = now, background

    def op(self, now: float, n: int = 1, events: int = 0) -> float:
        """Seconds ``n`` operations take for the client that issues them at ``now``."""
        work = n * self.service + events * self.event_cost
        self.free_at = max(now, self.free_at) + work / (1.0 - min(self.background, 0.999))
        self.total_work += work
        return n * self.latency + (self.free_at - now)


@dataclass
class _Server:
    workers: int
    free: int
    queue: list[tuple[Trial, float]] = field(default_factory=list)
    busy: bool = False
    busy_time: float = 0.0
    seen_events: int = 0
    told: int = 0
    spikes: int = 0


def simulate(
    workers: int,
    *,
    mode: str = "centralized",
    optimizer: str | Optimizer | Callable[[], Optimizer] = "random",
    workers_per_peer: int = 16,
    horizon: float = 6 * 3600.0,
    duration_median: float = 60.0,
    duration_sigma: float = 0.5,
    store_latency: float = 0.5e-3,
    store_service: float = 25e-6,
    event_cost: float = 0.5e-6,
    poll: float = 1.0,
    dispatch: float = 0.0,
    space: Space | None = None,
    costs: str | CostProfile | ComputeMeter = "profile",
    samples: int | None = 3,
    seed: int = 0,
) -> SimResult:
    """Simulate ``workers`` workers running trials for ``horizon`` simulated seconds.

    Args:
        workers: simulated workers (trials in flight at once).
        mode: ``"centralized"`` (one driver) or ``"decentralized"`` (peers).
        optimizer: a name, an instance or a factory; its real compute is charged.
        workers_per_peer: decentralized only: workers of each peer.
        horizon: simulated seconds (default 6 hours).
        duration_median: median trial duration in seconds (log-normal).
        duration_sigma: sigma of the log of the trial duration.
        store_latency: seconds per store round trip (network and client).
        store_service: store server seconds per operation.
        event_cost: store server seconds per event read.
        poll: decentralized only: seconds between a peer's looks at the store.
        dispatch: seconds the driver spends handing one trial to a worker.
        space: the search space (default: five floats).
        costs: how the optimizer's compute is charged: ``"profile"`` (measured up
            front on a grid of history sizes with ``workers - 1`` trials pending,
            then interpolated: :class:`CostProfile`), ``"live"`` (the optimizer runs
            along, measured ``samples`` times per bucket: :class:`ComputeMeter`),
            or a profile or meter to use (a fresh meter per simulation).
        samples: ``"live"`` only: measured asks per bucket (None: every ask).
        seed: seeds durations, the optimizer and stand-in configurations.

    Returns:
        A :class:`SimResult`.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    if workers_per_peer < 1 or horizon <= 0 or poll <= 0:
        raise ValueError("workers_per_peer, horizon and poll must be positive")
    wall0 = time.perf_counter()
    mu = math.log(duration_median)
    meter: CostProfile | ComputeMeter
    if costs == "live":
        meter = ComputeMeter(optimizer, space, seed=seed, samples=samples)
    elif costs == "profile":
        mean = duration_median * math.exp(duration_sigma**2 / 2.0)
        max_n = int(workers * (1.0 + 1.2 * horizon / mean))
        meter = CostProfile.measure(
            optimizer, pending=workers - 1, max_n=max_n, space=space, seed=seed
        )
    elif isinstance(costs, CostProfile):
        meter = costs.fresh()
    elif isinstance(costs, ComputeMeter):
        meter = costs
    else:
        raise ValueError(
            f"costs must be 'profile', 'live', a CostProfile or a ComputeMeter, got {costs!r}"
        )
    rng = np.random.default_rng(seed)
    if mode == "centralized":
        sizes = [workers]
    else:
        n_peers = math.ceil(workers / workers_per_peer)
        base, extra = divmod(workers, n_peers)
        sizes = [base + (1 if i < extra else 0) for i in range(n_peers)]
    servers = [_Server(workers=n, free=n) for n in sizes]
    central = mode == "centralized"
    # the loop's own commit policy says how many store round trips each step makes
    policy: type[CommitPolicy] = CentralCommit if central else PeerCommit
    per_event = replay_cost() if policy.reads_back else 0.0
    store = _Store(store_latency, store_service, event_cost)
    running: dict[int, Trial] = {}
    heap: list[tuple[float, int, int, int, Any]] = []
    counter = 0
    next_id = 0
    events_total = results_total = 0
    busy_total = 0.0
    waits = {"queue": 0.0, "compute": 0.0, "store": 0.0}
    n_waits = 0
    started = 0

    def push(t: float, kind: int, s: int, payload: Any) -> None:
        nonlocal counter
        counter += 1
        heapq.heappush(heap, (t, counter, kind, s, payload))

    def serve(i: int, now: float) -> None:
        nonlocal events_total, results_total, n_waits
        s = servers[i]
        finished, s.queue = s.queue, []
        k = fill_count(s.workers, 0, s.workers - s.free, None)
        compute = io = 0.0
        if finished:
            io += store.op(now)
            told = meter.tell(finish_order(t for t, _ in finished))
            compute += told if central else 0.0
            results_total += len(finished)
            events_total += len(finished)
        if policy.reads_back:
            new_events = events_total - s.seen_events
            s.seen_events = events_total
            io += store.op(now)
            compute += new_events * per_event
            compute += (results_total - s.told) * meter.tell_per_trial
            s.told = results_total
        # model refits this server's optimizer has not paid yet (a measured ask pays its own)
        compute += sum(sp.excess for sp in meter.spikes[s.spikes :])
        s.spikes = len(meter.spikes)
        configs: list[dict[str, Any]] = []
        if k > 0:
            configs, cost, measured = meter.ask(k, lambda: list(running.values()), len(running))
            compute += cost
            if measured:
                s.spikes = len(meter.spikes)
            io += store.op(now, n=policy.create_round_trips(k)) + dispatch * k
            events_total += k
        d = compute + io
        for _, f in finished:
            waits["queue"] += now - f
            waits["compute"] += compute
            waits["store"] += io
            n_waits += 1
        s.busy = True
        s.busy_time += max(0.0, min(now + d, horizon) - now)
        push(now + d, _SERVED, i, configs)

    window_mark, window_start = 0, 0.0
    for i in range(len(servers)):
        serve(i, 0.0)
    while heap:
        now, _, kind, i, payload = heapq.heappop(heap)
        if now > horizon:
            break
        s = servers[i]
        if now - store.last >= 1.0:
            span = now - window_start
            rate = (events_total - window_mark) / span if span > 0 else 0.0
            background = 0.0
            if not central:
                background = len(servers) * (2 * store_service / poll + rate * event_cost)
            store.roll(now, background)
            window_mark, window_start = events_total, now
        if kind == _FINISH:
            trial = payload
            running.pop(trial.id, None)
            s.free += 1
            s.queue.append((trial, now))
            if not s.busy:
                serve(i, now)
            continue
        # _SERVED: start the configurations asked for, then serve again if needed
        for config in payload:
            trial = Trial(id=next_id, config=config, status=TrialStatus.RUNNING)
            next_id += 1
            running[trial.id] = trial
            duration = float(rng.lognormal(mu, duration_sigma))
            busy_total += min(now + duration, horizon) - now
            started += 1
            push(now + duration, _FINISH, i, trial)
        s.free -= len(payload)
        s.busy = False
        if s.queue:
            serve(i, now)
    store.roll(horizon, 0.0)
    total_wait = sum(waits.values()) or 1.0
    return SimResult(
        mode=mode,
        workers=workers,
        peers=len(servers),
        optimizer=meter.name,
        horizon=horizon,
        utilization=busy_total / (workers * horizon),
        trials=started,
        server_busy=max(sv.busy_time for sv in servers) / horizon,
        store_utilization=min(store.total_work / horizon, 1.0),
        mean_wait=sum(waits.values()) / max(n_waits, 1),
        wait_share={k: v / total_wait for k, v in waits.items()},
        compute=meter.summary(),
        wall=time.perf_counter() - wall0,
        settings={
            "workers_per_peer": None if central else workers_per_peer,
            "horizon": horizon,
            "duration_median": duration_median,
            "duration_sigma": duration_sigma,
            "store_latency": store_latency,
            "store_service": store_service,
            "event_cost": event_cost,
            "poll": poll,
            "dispatch": dispatch,
            "replay_cost": per_event,
            "costs": costs if isinstance(costs, str) else type(costs).__name__,
            "samples": samples,
            "seed": seed,
        },
    )
