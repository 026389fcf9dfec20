"""``hyperhive run``, ``status`` and ``trials`` on a tiny problem file."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from hyperhive import __version__
from hyperhive.trial import COUNTED

COUNTED_NAMES = {s.value for s in COUNTED}


def read_csv(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text))


def test_version(cli) -> None:
    res = cli("--version")
    assert res.exit_code == 0
    assert __version__ in res.stdout


def test_run_serial_then_status_and_trials(cli, problem_file: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    res = cli(
        "run", problem_file, "--executor", "serial", "--max-evals", 6, "--seed", 0,
        "--run-dir", run_dir, "--no-progress",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "best value" in res.stdout
    assert "best config" in res.stdout and "x = " in res.stdout
    assert "done 6" in res.stdout
    assert str(run_dir.name) in res.stdout

    res = cli("status", run_dir, "--top", 3)
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert "done 6" in out
    assert "seed" in out and "0" in out
    assert "optimizer" in out and "created" in out and "minimize" in out
    assert "top 3 trials" in out

    res = cli("trials", run_dir, "--csv")
    assert res.exit_code == 0, res.output
    frame = read_csv(res.stdout)
    assert len(frame) == 6
    for col in ("id", "status", "objective", "p:x", "p:k"):
        assert col in frame.columns
    assert set(frame["status"]) == {"done"}

    target = tmp_path / "out" / "trials.csv"
    target.parent.mkdir()
    res = cli("trials", run_dir, "--output", target)
    assert res.exit_code == 0, res.output
    assert res.stdout == ""
    assert read_csv(target.read_text()).equals(frame)
    assert [p.name for p in target.parent.iterdir()] == ["trials.csv"]  # no temporary left

    res = cli("trials", run_dir)  # a table
    assert res.exit_code == 0 and "p:x" not in res.stdout and "objective" in res.stdout


def test_run_process_executor(cli, problem_file: Path, tmp_path: Path) -> None:
    """Workers are other processes: the objective and its sibling module reach them."""
    run_dir = tmp_path / "run"
    res = cli(
        "run", problem_file, "--executor", "process", "--workers", 2, "--max-evals", 4,
        "--run-dir", run_dir, "--no-progress",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    frame = read_csv(cli("trials", run_dir, "--csv").stdout)
    assert len(frame) == 4
    assert set(frame["status"]) == {"done"}, frame[["status", "reason"]]


def test_resume_reaches_exactly_max_evals(cli, problem_file: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    common = ("--executor", "serial", "--run-dir", run_dir, "--no-progress", "--seed", 1)
    assert cli("run", problem_file, "--max-evals", 3, *common).exit_code == 0
    res = cli("run", problem_file, "--max-evals", 7, *common)
    assert res.exit_code == 0, res.output
    assert "resuming" in res.output
    frame = read_csv(cli("trials", run_dir, "--csv").stdout)
    assert frame["status"].isin(COUNTED_NAMES).sum() == 7


def test_defaults_from_file_and_fresh_run_dir(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "maxi.py"
    path.write_text(
        textwrap.dedent(
            """
            from random import seed  # an imported helper that shares an option's name
            space = {"x": (0.0, 1.0)}
            direction = "maximize"
            max_evals = 3
            executor = "serial"

            def objective(config):
                return config["x"]
            """
        )
    )
    monkeypatch.chdir(tmp_path)
    res = cli("run", path, "--no-progress")
    assert res.exit_code == 0, res.output
    runs = list((tmp_path / "hyperhive-runs").glob("maxi-*"))
    assert len(runs) == 1
    frame = read_csv(cli("trials", runs[0], "--csv").stdout)
    assert len(frame) == 3
    status = cli("status", runs[0]).stdout
    assert "maximize" in status


def test_several_objectives(cli, tmp_path: Path) -> None:
    path = tmp_path / "multi.py"
    path.write_text(
        "import hyperhive as hh\n"
        "space = hh.Space({'x': hh.Float(0.0, 1.0)})\n"
        "def objective(config):\n"
        "    return [config['x'], (config['x'] - 0.5) ** 2]\n"
    )
    run_dir = tmp_path / "run"
    res = cli(
        "run", path, "-d", "minimize", "-d", "maximize", "--max-evals", 5,
        "--executor", "serial", "--run-dir", run_dir, "--no-progress",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "pareto front" in res.stdout
    frame = read_csv(cli("trials", run_dir, "--csv").stdout)
    assert {"objective_0", "objective_1"} <= set(frame.columns)
    status = cli("status", run_dir)
    assert status.exit_code == 0, status.output
    assert "pareto front" in status.stdout and "objective_1 ↑" in status.stdout


def test_no_trial_succeeded(cli, tmp_path: Path) -> None:
    path = tmp_path / "broken.py"
    path.write_text(
        "space = {'x': (0.0, 1.0)}\n"
        "def objective(config):\n"
        "    raise RuntimeError('boom in objective')\n"
    )
    res = cli(
        "run", path, "--max-evals", 2, "--executor", "serial",
        "--run-dir", tmp_path / "run", "--no-progress",
    )  # fmt: skip
    assert res.exit_code == 1
    assert "No trial succeeded" in res.stderr
    assert "boom in objective" in res.stderr
    assert "failed 2" in res.stdout


# -- errors ---------------------------------------------------------------------------
def test_missing_file(cli, tmp_path: Path) -> None:
    res = cli("run", tmp_path / "nope.py")
    assert res.exit_code == 2
    assert "nope.py" in res.stderr and "does not exist" in res.stderr
    assert "Traceback" not in res.output


@pytest.mark.parametrize(
    ("source", "missing"),
    [
        ("space = {'x': (0.0, 1.0)}\n", "'objective'"),
        ("def objective(config):\n    return 0.0\n", "'space'"),
        ("", "'space' and 'objective'"),
    ],
)
def test_file_lacks_space_or_objective(cli, tmp_path: Path, source: str, missing: str) -> None:
    path = tmp_path / "incomplete.py"
    path.write_text(source)
    res = cli("run", path)
    assert res.exit_code == 2
    assert missing in res.stderr and "incomplete.py" in res.stderr


def test_file_that_raises_on_import(cli, tmp_path: Path) -> None:
    path = tmp_path / "raises.py"
    path.write_text("import no_such_module_hyperhive\n")
    res = cli("run", path)
    assert res.exit_code == 2
    assert "ModuleNotFoundError" in res.stderr and "raises.py" in res.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--max-evals", "0"), "max_evals"),
        (("--direction", "sideways"), "direction"),
        (("--executor", "warp-drive"), "warp-drive"),
        (("--optimizer", "oracle"), "oracle"),
        (("--timeout", "-1"), "timeout"),
        (("--stopper", "psychic"), "stopper"),
    ],
)
def test_invalid_option(cli, problem_file: Path, tmp_path: Path, args, message: str) -> None:
    res = cli("run", problem_file, *args, "--run-dir", tmp_path / "run", "--no-progress")
    assert res.exit_code == 2, res.output
    assert "Error" in res.stderr and message in res.stderr
    assert "Traceback" not in res.output


def test_status_and_trials_on_a_folder_without_a_run(cli, tmp_path: Path) -> None:
    for cmd in (("status",), ("trials", "--csv")):
        res = cli(cmd[0], tmp_path, *cmd[1:])
        assert res.exit_code == 2
        assert "no hyperhive run" in res.stderr


STEPS_PROBLEM = """
import hyperhive as hh

space = {"x": (0.0, 1.0)}


def objective(config):
    value = None
    for step in range(1, 10):
        value = config["x"] + 1.0 / step
        hh.report(value, step=step)
        if hh.should_stop():
            break
    return value
"""


def test_run_with_a_stopper(cli, tmp_path: Path) -> None:
    path = tmp_path / "steps.py"
    path.write_text(STEPS_PROBLEM)
    run_dir = tmp_path / "run"
    res = cli(
        "run", path, "--executor", "serial", "--max-evals", 8, "--seed", 0,
        "--stopper", "asha", "--run-dir", run_dir, "--no-progress",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    res = cli("trials", run_dir, "--csv")
    assert res.exit_code == 0, res.output
    frame = read_csv(res.stdout)
    assert set(frame["status"]) == {"stopped", "done"}
    assert (frame.loc[frame["status"] == "done", "steps"] == 9).all()
    assert (frame.loc[frame["status"] == "stopped", "steps"] < 9).all()


def test_worker_with_a_stopper(cli, tmp_path: Path) -> None:
    path = tmp_path / "steps.py"
    path.write_text(STEPS_PROBLEM + "\nstopper = 'constant'\n")
    run_dir = tmp_path / "run"
    res = cli(
        "worker", path, "--executor", "serial", "--max-evals", 3, "--run-dir", run_dir,
        "--no-progress",
    )  # fmt: skip
    res = cli("trials", run_dir, "--csv")
    assert res.exit_code == 0, res.output
    frame = read_csv(res.stdout)
    assert set(frame["status"]) == {"stopped"} and (frame["steps"] == 1).all()
