"""examples/forecasting_sst.py runs end to end (its --quick smoke mode)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("statsmodels")

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "forecasting_sst.py"


def test_forecasting_example_quick(tmp_path: Path) -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    res = subprocess.run(
        [sys.executable, str(EXAMPLE), "--quick", "--run-dir", str(tmp_path / "runs")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    out = res.stdout
    assert out.count("searched architecture") == 2
    assert out.count("hand-designed LSTM (2 x 32)") == 2
    assert "POD modes keep" in out and "output: dense(3) <- last" in out
    assert (tmp_path / "runs" / "series" / "trials").is_dir()
