"""``hyperhive worker``, ``status --store`` and ``run --executor-address``."""

from __future__ import annotations

from pathlib import Path

import pytest

from hyperhive.testing.redis_server import redis_server_or_skip
from hyperhive.trial import COUNTED

COUNTED_NAMES = {s.value for s in COUNTED}


def _counted(run_dir: Path, store: str | None = None) -> int:
    import hyperhive as hh

    result = hh.load(run_dir, store=store)
    return sum(1 for t in result.records if t.status.value in COUNTED_NAMES)


def test_two_sequential_workers_reach_max_evals(cli, problem_file: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "shared"
    args = ("--run-dir", run_dir, "--executor", "serial", "--seed", 3, "--no-progress")
    res = cli("worker", problem_file, "--max-evals", 4, "--peer", "first", *args)
    assert res.exit_code == 0, res.output
    assert "best value" in res.stdout
    assert "done 4" in res.stdout
    assert _counted(run_dir) == 4

    # A second peer with a larger budget continues the same run to exactly max-evals.
    res = cli("worker", problem_file, "--max-evals", 7, "--peer", "second", *args)
    assert res.exit_code == 0, res.output
    assert "done 7" in res.stdout
    assert _counted(run_dir) == 7

    # status shows the peers (both have left), with or without --store.
    res = cli("status", run_dir)
    assert res.exit_code == 0, res.output
    assert "done 7" in res.stdout
    assert "peers (0 alive of 2)" in res.stdout
    assert "first" in res.stdout and "second" in res.stdout and "gone" in res.stdout

    res = cli("status", run_dir, "--store", run_dir / "journal.sqlite", "--top", 2)
    assert res.exit_code == 0, res.output
    assert "done 7" in res.stdout and "top 2 trials" in res.stdout
    assert "peers (0 alive of 2)" in res.stdout


def test_worker_needs_a_store_or_run_dir(cli, problem_file: Path) -> None:
    res = cli("worker", problem_file, "--max-evals", 2)
    assert res.exit_code == 2
    assert "--store" in res.stderr and "--run-dir" in res.stderr


def test_status_of_a_plain_run_has_no_peers(cli, problem_file: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "plain"
    res = cli(
        "run", problem_file, "--executor", "serial", "--max-evals", 3, "--run-dir", run_dir,
        "--no-progress",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    res = cli("status", run_dir, "--store", f"sqlite:///{run_dir / 'journal.sqlite'}")
    assert res.exit_code == 0, res.output
    assert "done 3" in res.stdout
    assert "peers" not in res.stdout


def test_status_with_a_store_that_holds_no_run(cli, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    res = cli("status", tmp_path / "nowhere", "--store", empty / "journal.sqlite")
    assert res.exit_code == 2
    assert "Error:" in res.stderr


def test_worker_and_status_on_redis(cli, problem_file: Path, tmp_path: Path) -> None:
    server = redis_server_or_skip()
    try:
        run_dir = tmp_path / "redis-run"
        res = cli(
            "worker", problem_file, "--store", server.url, "--run-dir", run_dir,
            "--max-evals", 3, "--executor", "serial", "--peer", "solo", "--no-progress",
        )  # fmt: skip
        assert res.exit_code == 0, res.output
        assert "done 3" in res.stdout

        # Read from the server alone: a folder of the same name that holds nothing.
        elsewhere = tmp_path / "elsewhere" / "redis-run"
        res = cli("status", elsewhere, "--store", server.url)
        assert res.exit_code == 0, res.output
        assert "done 3" in res.stdout
        assert "peers (0 alive of 1)" in res.stdout and "solo" in res.stdout
    finally:
        server.stop()


@pytest.mark.parametrize("executor", ["serial", "process", "mpi"])
def test_executor_address_needs_dask_or_ray(
    cli, problem_file: Path, tmp_path: Path, executor: str
) -> None:
    run_dir = tmp_path / "never"
    res = cli(
        "run", problem_file, "--executor", executor, "--executor-address", "tcp://host:8786",
        "--run-dir", run_dir, "--max-evals", 2, "--no-progress",
    )  # fmt: skip
    assert res.exit_code == 2
    assert "--executor-address needs --executor dask or ray" in res.stderr
    assert repr(executor) in res.stderr
    assert not run_dir.exists()


def test_executor_address_without_executor(cli, problem_file: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "x"
    res = cli("worker", problem_file, "--run-dir", run_dir, "--executor-address", "tcp://h:8786")
    assert res.exit_code == 2
    assert "--executor-address needs --executor dask or ray" in res.stderr
    assert not run_dir.exists()


@pytest.mark.parametrize("name", ["dask", "ray"])
def test_executor_address_builds_the_executor(
    cli, problem_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    import hyperhive
    import hyperhive.executors

    made: dict[str, object] = {}

    class Fake:
        def __init__(self, workers=None, *, address=None):
            made.update(cls=name, workers=workers, address=address)

    def fake_search(objective, space, **kwargs):
        made["executor"] = kwargs["executor"]
        made["store"] = kwargs.get("store")
        raise ValueError("stop here")

    monkeypatch.setattr(hyperhive.executors, name.capitalize(), Fake)
    monkeypatch.setattr(hyperhive, "search", fake_search)
    res = cli(
        "run", problem_file, "--executor", name, "--executor-address", "tcp://head:8786",
        "--workers", 3, "--store", "redis://db:6379/0", "--run-dir", tmp_path / "r",
    )  # fmt: skip
    assert res.exit_code == 2 and "stop here" in res.stderr
    assert made["cls"] == name and made["address"] == "tcp://head:8786"
    assert made["workers"] == 3
    assert isinstance(made["executor"], Fake)
    assert made["store"] == "redis://db:6379/0"


def test_worker_takes_initial_points_and_warm_start(
    cli, problem_file: Path, tmp_path: Path
) -> None:
    import hyperhive as hh

    first = tmp_path / "first"
    res = cli(
        "run",
        problem_file,
        "--executor",
        "serial",
        "--max-evals",
        3,
        "--run-dir",
        first,
        "--no-progress",
    )
    assert res.exit_code == 0, res.output
    problem_file.write_text(problem_file.read_text() + '\ninitial_points = [{"x": 1.0, "k": 1}]\n')
    shared = tmp_path / "shared"
    res = cli(
        "worker",
        problem_file,
        "--run-dir",
        shared,
        "--executor",
        "serial",
        "--max-evals",
        3,
        "--warm-start",
        first,
        "--no-progress",
    )
    assert res.exit_code == 0, res.output
    records = hh.load(shared).records
    assert records[0].config == {"x": 1.0, "k": 1} and records[0].objective == 1.0
    res = cli(
        "worker",
        problem_file,
        "--run-dir",
        tmp_path / "x",
        "--warm-start",
        tmp_path / "missing",
        "--no-progress",
    )
    assert res.exit_code == 2 and "missing" in res.stderr
