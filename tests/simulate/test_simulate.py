"""The scale simulator: the clock model, real compute measurement, where modes saturate."""

from __future__ import annotations

import time
from typing import ClassVar

import pytest

from hyperhive.optimizers.random import RandomSearch
from hyperhive.simulate import ComputeMeter, CostProfile, SimResult, simulate
from hyperhive.trial import Trial, TrialStatus


class Burner(RandomSearch):
    """Random search that burns ``cost`` CPU seconds per configuration asked."""

    name: ClassVar[str] = "burner"

    def __init__(self, cost: float = 0.01, spike_at: int | None = None) -> None:
        super().__init__(seed=0)
        self.cost, self.spike_at, self.spiked = cost, spike_at, False

    def _ask(self, n, pending):
        extra = 0.0
        if self.spike_at is not None and len(self.history) >= self.spike_at and not self.spiked:
            self.spiked, extra = True, 0.3
        t0 = time.process_time()
        while time.process_time() - t0 < self.cost * n + extra:
            pass
        return super()._ask(n, pending)


def test_cheap_optimizer_keeps_every_worker_busy():
    for mode in ("centralized", "decentralized"):
        r = simulate(32, mode=mode, horizon=1200.0, workers_per_peer=8, seed=3)
        assert r.utilization > 0.99 and r.bottleneck == "-"
        assert r.peers == (1 if mode == "centralized" else 4)
        # 32 workers, mean duration 60 * exp(0.5**2 / 2) s, over 1200 s (plus the first wave)
        assert 32 * 1200 / 68.0 * 0.8 < r.trials < 32 * 1200 / 68.0 * 1.3
        assert r.compute["charged_asks"] > 0 and r.compute["told"] > 0
        assert r.row()["mode"] == mode and r.settings["horizon"] == 1200.0


def test_slow_optimizer_saturates_the_driver_not_the_peers():
    profile = CostProfile.measure(Burner(0.004), pending=63, max_n=5000, ks=(1, 4, 16), samples=1)
    kwargs = dict(horizon=300.0, duration_median=5.0, seed=1, costs=profile)
    central = simulate(64, mode="centralized", **kwargs)
    peers = simulate(64, mode="decentralized", workers_per_peer=4, **kwargs)
    # 64 workers / ~5.7 s per trial = 11 asks/s at >= 4 ms each: the driver is loaded
    assert central.server_busy > peers.server_busy * 3
    assert peers.utilization > 0.99
    assert central.wait_share["compute"] + central.wait_share["queue"] > 0.5


def test_store_saturation_slows_every_peer():
    profile = CostProfile.measure("random", pending=255, max_n=20000, ks=(1, 4), samples=1)
    kwargs = dict(
        mode="decentralized", workers_per_peer=1, horizon=300.0, duration_median=5.0, costs=profile
    )
    fine = simulate(256, event_cost=1e-6, **kwargs)
    swamped = simulate(256, event_cost=2e-4, **kwargs)
    assert fine.utilization > 0.99 and fine.store_utilization < 0.1
    assert swamped.store_utilization >= 0.99 and swamped.bottleneck == "store"
    assert swamped.utilization < 0.9 and swamped.wait_share["store"] > 0.9


@pytest.mark.parametrize(
    "mode, util, store, share, expected",
    [
        ("centralized", 0.999, 0.1, {"queue": 0.5, "compute": 0.4, "store": 0.1}, "-"),
        ("centralized", 0.7, 0.1, {"queue": 0.5, "compute": 0.4, "store": 0.1}, "driver"),
        ("decentralized", 0.9, 0.1, {"queue": 0.0, "compute": 0.7, "store": 0.3}, "peer"),
        ("decentralized", 0.9, 0.2, {"queue": 0.0, "compute": 0.1, "store": 0.9}, "latency"),
        ("decentralized", 0.5, 0.95, {"queue": 0.0, "compute": 0.1, "store": 0.9}, "store"),
    ],
)
def test_bottleneck_labels(mode, util, store, share, expected):
    r = SimResult(mode, 64, 1, "x", 60.0, util, 10, 0.5, store, 0.1, share, {}, 0.0)
    assert r.bottleneck == expected


def test_meter_records_refit_spikes_and_charges_buckets():
    meter = ComputeMeter(lambda: Burner(0.002, spike_at=40), samples=3)
    pending = lambda: []  # noqa: E731
    charged = 0
    for i in range(120):
        configs, cost, measured = meter.ask(1, pending, 0)
        assert len(configs) == 1 and cost > 0
        charged += not measured
        trial = Trial(id=i, config=configs[0], status=TrialStatus.RUNNING)
        meter.tell([trial])
        assert trial.status == TrialStatus.DONE and trial.objective is not None
    assert charged > 0 and meter.real_asks + meter.charged_asks == 120
    assert len(meter.spikes) == 1 and meter.spikes[0].excess > 0.2
    assert 40 <= meter.spikes[0].n < 60
    assert meter.summary()["optimizer"] == "burner"


def test_bad_arguments():
    with pytest.raises(ValueError, match="mode"):
        simulate(4, mode="mesh")
    with pytest.raises(ValueError, match="workers"):
        simulate(0)


class Refitter(Burner):
    """Burns a little per configuration, and 0.05 s more whenever its history grew 50 %."""

    refit_fraction = 0.5

    def __init__(self) -> None:
        super().__init__(0.0005)
        self.fitted_at = 0

    def _ask(self, n, pending):
        size = len(self.history)
        if size >= 2 and size >= 1.5 * self.fitted_at:
            self.fitted_at = size
            t0 = time.process_time()
            while time.process_time() - t0 < 0.05:
                pass
        return super()._ask(n, pending)


def test_cost_profile_interpolates_and_schedules_refits():
    profile = CostProfile.measure(Refitter, pending=4, max_n=400, ks=(1, 4), samples=1)
    assert list(profile.grid) == [0, 10, 30, 90, 270, 400] and profile.refit_fraction == 0.5
    assert profile.refit_cost(90) > 0.03 and profile.ask_cost(100, 1) < 0.01
    assert profile.ask_cost(100, 8) == pytest.approx(2 * profile.ask_cost(100, 4))
    assert profile.ask_cost(100, 2) < profile.ask_cost(100, 4)
    fresh = profile.fresh()
    _, cost, measured = fresh.ask(3, lambda: [], 0)
    assert not measured and cost > 0 and fresh.asks == 1 and profile.asks == 0
    fresh.tell([Trial(id=i, config={}) for i in range(100)])
    assert [s.n for s in fresh.spikes] == [2, 3, 4, 6, 9, 13, 19, 28, 42, 63, 94]
    assert fresh.summary()["spikes"] == 11 and fresh.tell_per_trial >= 0.0
    r = simulate(16, horizon=600.0, costs=profile)
    assert r.compute["spikes"] > 0 and r.settings["costs"] == "CostProfile"
    live = simulate(16, horizon=600.0, optimizer="random", costs="live", samples=None)
    assert live.compute["real_asks"] == live.compute["charged_asks"] + live.compute["real_asks"]
    with pytest.raises(ValueError, match="costs"):
        simulate(4, costs="guess")
