"""The one loop core: trial records change only through journal events; resume is silent."""

from __future__ import annotations

import ast
import time
from concurrent.futures import Future
from pathlib import Path

import pytest

import hyperhive as hh
from hyperhive.executors import Thread, TrialOutcome, TrialTask
from hyperhive.search.decisions import utilization

SEARCH = Path(hh.__file__).parent / "search"


def test_search_package_has_no_import_cycle():
    """Every import between modules of hyperhive.search (lazy ones included, those only
    for type checking left out) forms an acyclic graph."""
    graph: dict[str, set[str]] = {}
    for path in SEARCH.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        typing_only = {
            id(n)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for stmt in node.body
            for n in ast.walk(stmt)
        }
        deps = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and id(node) not in typing_only:
                mod = node.module or ""
                if mod.startswith("hyperhive.search."):
                    deps.add(mod.split(".")[2])
        graph[path.stem] = deps - {path.stem}
    assert {"core", "decisions", "policy", "peer", "options"} <= set(graph)
    done: set[str] = set()

    def visit(name: str, stack: list[str]) -> None:
        if name in stack:
            pytest.fail(f"import cycle in hyperhive.search: {' -> '.join([*stack, name])}")
        if name in done:
            return
        for dep in graph.get(name, ()):
            visit(dep, [*stack, name])
        done.add(name)

    for name in graph:
        visit(name, [])


class LosingThread(Thread):
    """Threads whose worker 'dies' once for configurations with ``mode == "lose"``."""

    def __init__(self, workers: int) -> None:
        super().__init__(workers)
        self.lost_once = False

    def submit(self, task: TrialTask) -> Future[TrialOutcome]:
        if task.config["mode"] == "lose" and not self.lost_once:
            self.lost_once = True
            fut: Future[TrialOutcome] = Future()
            fut.set_exception(RuntimeError("the worker died"))
            return fut
        return super().submit(task)


MODES = ["slow", "done", "fail", "timeout", "lose", "stop", "done2"]
SPACE = hh.Space({"mode": hh.Categorical(MODES), "x": hh.Float(0.0, 1.0)})


def _mixed(run_dir: Path, exe: Thread, callbacks=(), max_evals: int = 7) -> hh.Result:
    def objective(config):
        mode = config["mode"]
        if mode == "slow":
            time.sleep(3.0)
        elif mode == "fail":
            raise ValueError("bad configuration")
        elif mode == "timeout":
            time.sleep(0.4)
        elif mode == "stop":
            hh.report(0.5, step=1)
            exe.request_stop(hh.current_trial().id)  # as a stopper would
        return config["x"]

    def stop_at_six(trial, state):
        if state.counted >= 6:
            state.stop("enough")

    return hh.search(
        objective,
        SPACE,
        max_evals=max_evals,
        workers=2,
        executor=exe,
        optimizer="random",
        run_dir=run_dir,
        seed=3,
        trial_timeout=0.25,
        initial_points=[{"mode": m, "x": 0.1 * i} for i, m in enumerate(MODES)],
        callbacks=[stop_at_six, *callbacks],
    )


@pytest.mark.filterwarnings("ignore:the .thread. executor cannot end")
def test_live_loaded_and_resumed_results_are_identical(tmp_path):
    seen: list[int] = []
    live = _mixed(tmp_path / "run", LosingThread(2), [lambda t, s: seen.append(t.id)])
    statuses = {t.config["mode"]: t.status.value for t in live.records if t.retry_of is None}
    assert statuses == {
        "slow": "cancelled",
        "done": "done",
        "fail": "failed",
        "timeout": "timeout",
        "lose": "lost",
        "stop": "stopped",
        "done2": "done",
    }
    rerun = [t for t in live.records if t.retry_of is not None]
    assert len(rerun) == 1 and rerun[0].status.value == "done" and rerun[0].attempt == 1
    slow = next(t for t in live.records if t.config["mode"] == "slow")
    assert slow.id not in seen  # the search cancelled it as it ended: no callback
    stopped = next(t for t in live.records if t.status.value == "stopped")
    assert [r.step for r in stopped.reports] == [1]

    loaded = hh.load(tmp_path / "run")
    again: list[int] = []
    resumed = _mixed(tmp_path / "run", LosingThread(2), [lambda t, s: again.append(t.id)], 6)
    assert again == []  # resume calls no callback for trials that ended before it
    for other in (loaded, resumed):
        assert [t.to_dict() for t in other.records] == [t.to_dict() for t in live.records]
        assert other.trials.equals(live.trials)


def test_reports_of_unknown_trials_are_dropped():
    from hyperhive.search.core import Loop
    from hyperhive.search.options import LoopOptions
    from hyperhive.search.policy import CentralCommit
    from hyperhive.search.state import RunState

    state = RunState(SPACE, ["minimize"], None, 0)
    loop = Loop(
        state, hh.optimizers.get_optimizer("random"), Thread(1), CentralCommit(state), LoopOptions()
    )
    loop.sink(99, 1, 0.5, time.time())
    assert loop.drain(0.0) == 0
    assert loop.pending_events == []


def test_utilization_counts_the_oldest_workers_and_is_at_most_one():
    # two workers, four trials in flight: two run, two wait in the executor's queue
    assert utilization(0.0, [0.0, 0.0, 5.0, 5.0], 2, 10.0, 10.0) == pytest.approx(1.0)
    assert utilization(0.0, [5.0, 9.0, 9.0], 2, 10.0, 10.0) == pytest.approx(6.0 / 20.0)
    assert utilization(30.0, [], 2, 10.0, 10.0) == 1.0
    assert utilization(1.0, [], 2, 0.0, 10.0) == 0.0


def test_ask_tell_records_match_the_journal(tmp_path):
    run = hh.Run(SPACE, run_dir=tmp_path / "r", optimizer="random", seed=1)
    a, b = run.ask(), run.ask()
    run.tell(a, 0.5)
    run.tell(b, status="failed", reason="out of memory")
    live = run.result()
    assert [t.status.value for t in live.records] == ["done", "failed"]
    assert live.records[0].host is not None and live.records[0].started is not None
    loaded = hh.load(tmp_path / "r")
    assert [t.to_dict() for t in loaded.records] == [t.to_dict() for t in live.records]
