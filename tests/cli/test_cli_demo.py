"""``hyperhive demo``: the built-in scikit-learn problem."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("sklearn")


def test_demo_tiny(cli, tmp_path: Path) -> None:
    run_dir = tmp_path / "demo-run"
    res = cli("demo", "--max-evals", 4, "--workers", 2, "--run-dir", run_dir, "--no-progress")
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert "best config" in out and "learning_rate = " in out
    assert "best value" in out
    assert "demo-run" in out
    assert (run_dir / "results.csv").is_file()
    frame = pd.read_csv(run_dir / "results.csv")
    assert len(frame) == 4
    assert (frame["status"] == "done").all(), frame[["status", "reason"]]
    assert frame["objective"].between(0.0, 1.0).all()
    assert "m:std" in frame.columns
    assert (run_dir / "report.html").is_file()  # the demo ends with its report
    assert "report: " in out and "report.html" in out


def test_demo_objective_in_process() -> None:
    """The objective runs on its own (serially), reports per fold and returns metadata."""
    from hyperhive.cli import demo

    config = {
        "learning_rate": 0.1,
        "max_leaf_nodes": 8,
        "max_depth": 3,
        "min_samples_leaf": 10,
        "l2_regularization": 0.01,
        "max_bins": 32,
    }
    value = demo.objective(config)
    assert 0.5 < value["objective"] <= 1.0
    assert value["std"] >= 0.0


def test_demo_without_sklearn(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from hyperhive.cli import demo

    def missing() -> None:
        raise demo.MissingDependency("the demo needs scikit-learn: pip install 'hyperhive[demo]'")

    monkeypatch.setattr(demo, "require_sklearn", missing)
    res = cli("demo", "--max-evals", 1)
    assert res.exit_code == 2
    assert "scikit-learn" in res.stderr and "hyperhive[demo]" in res.stderr


def test_require_sklearn_message(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from hyperhive.cli import demo

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "sklearn" else real(name, *a)
    )
    with pytest.raises(demo.MissingDependency, match=r"pip install 'hyperhive\[demo\]'"):
        demo.require_sklearn()
