"""The files in examples/ run as documented (each in a fresh interpreter)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_python(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("name", ["quickstart.py", "ask_tell.py"])
def test_python_examples(name: str, tmp_path: Path) -> None:
    first = run_python(str(EXAMPLES / name), cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "best" in first.stdout
    again = run_python(str(EXAMPLES / name), cwd=tmp_path)  # resumes its run directory
    assert again.returncode == 0, again.stdout + again.stderr


def test_problem_file_example(tmp_path: Path) -> None:
    res = run_python(
        "-m", "hyperhive.cli", "run", str(EXAMPLES / "problem.py"),
        "--max-evals", "8", "--run-dir", str(tmp_path / "run"), "--no-progress",
        cwd=tmp_path,
    )  # fmt: skip
    assert res.returncode == 0, res.stdout + res.stderr
    assert "best value" in res.stdout
