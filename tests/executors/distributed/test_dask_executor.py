"""The Dask executor on a real LocalCluster (8 single-threaded worker processes)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from dist_helpers import (
    Sink,
    check_controls,
    check_lost_and_retried,
    check_search,
    kill_when_marked,
    make_objective,
    wait_until,
)

import hyperhive as hh
from hyperhive.executors import TrialTask, get_executor
from hyperhive.testing.flight import max_in_flight
from hyperhive.trial import TrialStatus

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX process groups")

SPACE = hh.Space({"x": hh.Float(-1.0, 1.0)})


def test_by_name_and_lazy_class():
    ex = get_executor("dask", 3)
    assert isinstance(ex, hh.executors.Dask) and ex.requested_workers == 3
    assert ex.name == "dask" and ex.can_kill


def test_search_exact_budget(dask_cluster):
    addresses = set(dask_cluster.scheduler_info["workers"])
    executor = hh.executors.Dask(address=dask_cluster.scheduler_address)
    result = hh.search(
        make_objective(), SPACE, executor=executor, max_evals=40, optimizer="random", seed=0
    )
    assert executor.workers == 8
    check_search(result, 40, lambda w: w in addresses)
    assert len({t.worker for t in result.records}) > 1


def test_worker_killed_mid_trial(dask_cluster, tmp_path):
    marker = tmp_path / "killed"
    killer = kill_when_marked(marker)
    result = hh.search(
        make_objective(str(marker)),
        SPACE,
        executor=hh.executors.Dask(address=dask_cluster.scheduler_address),
        max_evals=16,
        max_retries=1,
        optimizer="random",
        seed=1,
    )
    killer.join(5)
    check_lost_and_retried(result, 16)
    lost = next(t for t in result.records if t.status == TrialStatus.LOST)
    assert "died" in lost.reason


def test_timeouts_cancel_and_stop(dask_cluster):
    sink = Sink()
    ex = hh.executors.Dask(address=dask_cluster.scheduler_address, grace_period=0.5)
    ex.start(make_objective(), sink)
    try:
        check_controls(ex, sink)
    finally:
        ex.shutdown(wait=False)


def test_gpu_placement(dask_cluster, tmp_path):
    """A worker that declares 2 GPUs and sees devices 4,5: each trial gets one of them."""
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "4,5"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_worker", dask_cluster.scheduler_address,
         "--nthreads", "2", "--resources", "GPU=2", "--no-nanny", "--no-dashboard",
         "--local-directory", str(tmp_path), "--name", "gpu-worker"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    ex = hh.executors.Dask(address=dask_cluster.scheduler_address, gpus_per_trial=1)
    try:
        from distributed import Client

        with Client(dask_cluster.scheduler_address, set_as_default=False) as client:
            assert wait_until(lambda: len(client.scheduler_info()["workers"]) >= 9, 60)
        ex.start(make_objective(), Sink())
        assert ex.workers == 2
        futs = [ex.submit(TrialTask(i, {"x": 0.5, "sleep": 0.3})) for i in range(6)]
        outs = [f.result(timeout=60) for f in futs]
        assert all(o.status == TrialStatus.DONE for o in outs), outs
        assert {o.metadata["cuda"] for o in outs} == {"4", "5"}
        assert {o.worker for o in outs} == {outs[0].worker}
    finally:
        ex.shutdown(wait=False)
        worker.terminate()
        worker.wait(30)


def test_prefetch_queues_trials_and_keeps_the_budget(dask_cluster):
    """prefetch=8 keeps up to 16 trials in flight on 8 workers; the budget stays exact."""
    addresses = set(dask_cluster.scheduler_info["workers"])
    executor = hh.executors.Dask(address=dask_cluster.scheduler_address, prefetch=8)
    assert executor.queue_slots() == 8

    def objective(config: dict) -> dict:
        import time

        hh.report(config["x"], step=0)
        hh.report(config["x"] + 1, step=1)
        hh.report(config["x"] + 2, step=2)
        time.sleep(0.1)
        return {"objective": config["x"] ** 2}

    result = hh.search(
        objective, SPACE, executor=executor, max_evals=48, optimizer="random", seed=2
    )
    check_search(result, 48, lambda w: w in addresses)
    assert len(result.records) == 48
    assert 8 < max_in_flight(result.records) <= 16


def test_prefetched_trials_cancelled_at_timeout(dask_cluster):
    """At the search timeout, queued trials end as cancelled before they started."""
    executor = hh.executors.Dask(address=dask_cluster.scheduler_address, prefetch=8)
    result = hh.search(
        make_objective(),
        hh.Space({"x": hh.Float(-1.0, 1.0), "sleep": hh.Constant(0.4)}),
        executor=executor,
        timeout=1.5,
        optimizer="random",
        seed=3,
    )
    cancelled = [t for t in result.records if t.status == TrialStatus.CANCELLED]
    assert len(cancelled) >= 8  # 8 running were cut, 8 queued never started
    assert any(t.reason and "search ended" in t.reason for t in cancelled)
    done = [t for t in result.records if t.status == TrialStatus.DONE]
    assert done and all(not t.status.counted for t in cancelled)
    assert len({t.id for t in result.records}) == len(result.records)


def test_prefetch_argument_is_checked():
    with pytest.raises(ValueError, match="prefetch.*-1"):
        hh.executors.Dask(prefetch=-1)
    with pytest.raises(ValueError, match="prefetch.*True"):
        hh.executors.Dask(prefetch=True)
