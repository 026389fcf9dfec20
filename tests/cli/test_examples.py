"""The files in examples/ run as documented."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("name", ["quickstart.py", "ask_tell.py"])
def test_python_examples(name: str, tmp_path: Path) -> None:
    """Each script runs in a fresh interpreter (quickstart uses process workers)."""
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    res = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "best" in res.stdout
    assert (tmp_path / "runs").is_dir()


def test_problem_file_example(cli, tmp_path: Path) -> None:
    res = cli("run", EXAMPLES / "problem.py", "--max-evals", 8, "--run-dir", tmp_path / "run")
    assert res.exit_code == 0, res.output
    assert "best value" in res.stdout
    assert "done 8" in res.stdout
