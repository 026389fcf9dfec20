from __future__ import annotations

import math
import os
import time

import pytest

import hyperhive as hh
from hyperhive.trial import TrialStatus

from .conftest import quadratic


def test_serial_search_improves_and_counts_exactly(space):
    result = hh.search(quadratic, space, max_evals=40, seed=1)
    assert result.n_counted == 40
    assert len(result.trials) == 40
    assert result.best is not None
    assert result.best.objective == min(t.objective for t in result.records)
    assert result.best.objective < sorted(t.objective for t in result.records)[5]
    assert set(result.trials["status"]) == {"done"}
    assert result.stop_reason == "max_evals reached"


def test_trials_table_has_the_promised_columns(space):
    result = hh.search(quadratic, space, max_evals=5, seed=0)
    cols = list(result.trials.columns)
    for c in [
        "id",
        "status",
        "objective",
        "p:x",
        "p:y",
        "reason",
        "submitted",
        "started",
        "finished",
        "duration",
        "worker",
    ]:
        assert c in cols
    assert (result.trials["duration"] >= 0).all()


def test_same_seed_gives_identical_serial_trials(space):
    a = hh.search(quadratic, space, max_evals=25, seed=7)
    b = hh.search(quadratic, space, max_evals=25, seed=7)
    assert [t.config for t in a.records] == [t.config for t in b.records]
    assert [t.objective for t in a.records] == [t.objective for t in b.records]
    c = hh.search(quadratic, space, max_evals=25, seed=8)
    assert [t.config for t in a.records] != [t.config for t in c.records]


@pytest.mark.parametrize("executor", ["thread", "process"])
def test_exact_budget_with_8_workers(space, executor):
    def objective(config):
        time.sleep(0.002 * (1 + (hash(config["x"]) % 5)))
        return quadratic(config)

    result = hh.search(objective, space, max_evals=60, workers=8, executor=executor, seed=3)
    assert result.n_counted == 60
    assert len(result.records) == 60
    assert len({t.id for t in result.records}) == 60
    workers = {t.worker for t in result.records}
    assert len(workers) > 1


def test_maximize_and_mapping_objective(space):
    def objective(config):
        return {"objective": -quadratic(config), "extra": config["x"] * 2}

    result = hh.search(objective, space, direction="maximize", max_evals=20, seed=0)
    assert result.best.objective == max(t.objective for t in result.records)
    assert "m:extra" in result.trials.columns
    assert result.best.metadata["extra"] == pytest.approx(result.best.config["x"] * 2)


def test_multiobjective_best_raises_and_pareto_front(space):
    def objective(config):
        return [config["x"] ** 2, (config["x"] - 2) ** 2]

    result = hh.search(objective, space, direction=["minimize", "minimize"], max_evals=30, seed=0)
    with pytest.raises(ValueError, match="pareto_front"):
        _ = result.best
    front = result.pareto_front()
    assert front
    assert "objective_0" in result.trials.columns and "objective_1" in result.trials.columns
    vals = [t.values for t in result.records]
    for f in front:  # no trial dominates a front member
        fv = f.values
        assert not any(v[0] <= fv[0] and v[1] <= fv[1] and v != fv for v in vals)


def test_wrong_number_of_objectives_is_a_failed_trial(space):
    result = hh.search(lambda c: [1.0, 2.0], space, max_evals=3, seed=0)
    assert result.count("failed") == 3
    assert "2 value(s)" in result.records[0].reason
    assert result.best is None


def test_failures_in_serial_are_data_not_crashes(space):
    def objective(config):
        if config["x"] < -2.5:
            raise RuntimeError("boom")
        if config["x"] < 0:
            return float("nan")
        if config["x"] < 2.5:
            return "not a number"
        return float("inf")

    result = hh.search(objective, space, max_evals=30, seed=0)
    assert result.n_counted == 30
    assert result.count("failed") == 30
    reasons = {t.reason.split(":")[0] for t in result.records}
    assert "RuntimeError" in reasons
    assert any("non-finite" in t.reason for t in result.records)
    assert any("expected a float" in t.reason for t in result.records)
    tb = [t.traceback for t in result.records if t.reason.startswith("RuntimeError")]
    assert tb and "boom" in tb[0]


def test_max_failures_stops_cleanly(space):
    result = hh.search(lambda c: 1 / 0, space, max_evals=50, max_failures=5, seed=0)
    assert result.count("failed") == 5
    assert "max_failures" in result.stop_reason


def test_timeout_cancels_running_trials(space):
    def objective(config):
        time.sleep(0.3)
        return 0.0

    t0 = time.monotonic()
    result = hh.search(objective, space, max_evals=None, timeout=1.0, workers=2, executor="thread")
    assert time.monotonic() - t0 < 4
    assert "timeout" in result.stop_reason
    assert result.n_counted >= 2
    statuses = set(result.trials["status"])
    assert statuses <= {"done", "cancelled"}


def test_early_stopping_callback(space):
    result = hh.search(lambda c: 1.0, space, max_evals=100, callbacks=[hh.EarlyStopping(5)], seed=0)
    assert result.n_counted == 6
    assert "no improvement" in result.stop_reason


def test_callback_sees_every_trial(space):
    seen = []
    hh.search(quadratic, space, max_evals=12, callbacks=[lambda t, s: seen.append(t.id)], seed=0)
    assert sorted(seen) == list(range(12))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"max_evals": 0}, "max_evals"),
        ({"max_evals": -3}, "max_evals"),
        ({"timeout": -1.0}, "timeout"),
        ({"trial_timeout": 0}, "trial_timeout"),
        ({"workers": 0}, "workers"),
        ({"direction": "down"}, "direction"),
        ({"optimizer": "nope"}, "nope"),
        ({"executor": "nope"}, "nope"),
        ({"max_evals": None}, "max_evals"),
        ({"seed": "x"}, "seed"),
        ({"max_retries": -1}, "max_retries"),
    ],
)
def test_bad_arguments_are_named(space, kwargs, match):
    with pytest.raises(ValueError, match=match):
        hh.search(quadratic, space, **kwargs)


def test_objective_must_be_callable(space):
    with pytest.raises(TypeError, match="callable"):
        hh.search(42, space)


def test_short_form_space_and_configspace():
    result = hh.search(
        lambda c: c["a"] + (0 if c["b"] == "x" else 1),
        {"a": (0, 10), "b": ["x", "y"]},
        max_evals=10,
        seed=0,
    )
    assert result.best.objective <= 2
    from ConfigSpace import ConfigurationSpace, Float

    cs = ConfigurationSpace({"u": Float("u", (0.0, 1.0))})
    result = hh.search(lambda c: c["u"], cs, max_evals=5, seed=0)
    assert 0.0 <= result.best.objective <= 1.0


def test_reports_and_current_trial_reach_the_store(tmp_path, space):
    def objective(config):
        trial = hh.current_trial()
        for epoch in range(3):
            hh.report(float(epoch) + config["x"], step=epoch)
        print("hello from", trial.id)
        (trial.artifact_dir / "model.txt").write_text(str(trial.seed))
        return quadratic(config)

    result = hh.search(
        objective,
        space,
        max_evals=4,
        workers=2,
        executor="process",
        run_dir=tmp_path / "run",
        seed=0,
    )
    loaded = hh.load(tmp_path / "run")
    for t in loaded.records:
        assert [r.step for r in t.reports] == [0, 1, 2]
        assert t.reports[1].value == pytest.approx(1.0 + t.config["x"])
        art = tmp_path / "run" / "trials" / str(t.id)
        assert (art / "stdout.txt").read_text().strip() == f"hello from {t.id}"
        assert (art / "model.txt").read_text() == str(t.seed)
    assert [t.id for t in loaded.records] == [t.id for t in result.records]


def test_should_stop_is_false_without_a_stopper(space):
    result = hh.search(lambda c: float(hh.should_stop()), space, max_evals=3, seed=0)
    assert all(t.objective == 0.0 for t in result.records)


def test_report_outside_a_trial_warns_once():
    with pytest.warns(UserWarning, match="outside a trial"):
        hh.report(1.0)
    assert hh.should_stop() is False
    assert hh.current_trial() is None


def test_process_failure_modes_end_with_the_right_status(space):
    def objective(config):
        x = config["x"]
        if x < -3:
            raise ValueError("bad config")
        if x < -1:
            return math.nan
        if x < 1:
            time.sleep(30)  # hangs past trial_timeout
        if x < 3:
            os._exit(3)
        return quadratic(config)

    t0 = time.monotonic()
    result = hh.search(
        objective,
        space,
        max_evals=16,
        workers=4,
        executor="process",
        trial_timeout=1.0,
        max_retries=0,
        optimizer="random",
        seed=2,
    )
    assert time.monotonic() - t0 < 60
    by = {}
    for t in result.records:
        by.setdefault(t.status, []).append(t)
    assert result.n_counted == 16
    for t in by.get(TrialStatus.TIMEOUT, []):
        assert -1 <= t.config["x"] < 1 and "trial_timeout" in t.reason
    died = []  # max_retries=0: a worker's death ends its trial failed at once
    for t in by.get(TrialStatus.FAILED, []):
        if t.config["x"] >= -1:
            assert 1 <= t.config["x"] < 3 and "exited with code 3" in t.reason
            died.append(t)
        else:
            assert "died" not in t.reason
    for t in by.get(TrialStatus.DONE, []):
        assert t.config["x"] >= 3
    assert TrialStatus.LOST not in by
    assert TrialStatus.TIMEOUT in by and died and len(by[TrialStatus.FAILED]) > len(died)


def test_lost_trials_are_retried_and_not_counted(tmp_path, space):
    marker = tmp_path / "died"

    def objective(config):
        trial = hh.current_trial()
        flag = marker.with_suffix(f".{trial.id}")
        if config["x"] > 0 and not marker.exists():
            marker.write_text("x")
            flag.write_text("x")
            os._exit(1)
        return quadratic(config)

    result = hh.search(objective, space, max_evals=10, workers=2, executor="process", seed=5)
    assert result.n_counted == 10
    lost = [t for t in result.records if t.status == TrialStatus.LOST]
    if marker.exists():
        assert len(lost) == 1
        retry = [t for t in result.records if t.retry_of == lost[0].id]
        assert len(retry) == 1 and retry[0].config == lost[0].config
        assert retry[0].status == TrialStatus.DONE and retry[0].attempt == 1


def test_slots_per_trial_limits_concurrency(space):
    import threading

    lock = threading.Lock()
    state = {"slots": 0, "peak": 0}

    def objective(config):
        need = 3 if config["x"] > 0 else 1
        with lock:
            state["slots"] += need
            state["peak"] = max(state["peak"], state["slots"])
        time.sleep(0.02)
        with lock:
            state["slots"] -= need
        return quadratic(config)

    result = hh.search(
        objective,
        space,
        max_evals=30,
        workers=4,
        executor="thread",
        slots_per_trial=lambda c: 3 if c["x"] > 0 else 1,
        seed=0,
    )
    assert result.n_counted == 30
    assert state["peak"] <= 4
    assert any(t.config["x"] > 0 for t in result.records)


def test_slots_per_trial_must_be_callable(space):
    with pytest.raises(TypeError, match="slots_per_trial"):
        hh.search(quadratic, space, slots_per_trial=2)


@pytest.mark.parametrize("executor", ["serial", "process"])
def test_silent_trials_leave_no_artifact_folders(tmp_path, space, executor):
    def objective(config):
        if config["x"] > 0:
            print("loud")
        return quadratic(config)

    result = hh.search(
        objective,
        space,
        max_evals=12,
        workers=2 if executor == "process" else 1,
        executor=executor,
        run_dir=tmp_path / "run",
        seed=0,
    )
    folders = {p.name for p in (tmp_path / "run" / "trials").glob("*")}
    loud = {str(t.id) for t in result.records if t.config["x"] > 0}
    assert folders == loud
    for name in loud:
        assert (tmp_path / "run" / "trials" / name / "stdout.txt").read_text() == "loud\n"
