"""Runs to analyse: built once per session with real searches in temporary folders."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import hyperhive as hh


def conditional_space() -> hh.Space:
    """Four floats, a log float, an int and a categorical with two conditional children."""
    space = hh.Space(
        {
            "x0": hh.Float(0.0, 1.0),
            "x1": hh.Float(0.0, 1.0),
            "x2": hh.Float(0.0, 1.0),
            "lr": hh.Float(1e-4, 1.0, log=True),
            "n": hh.Int(1, 16),
            "kind": hh.Categorical(["a", "b"]),
            "a_width": hh.Float(0.0, 1.0),
            "b_depth": hh.Int(1, 5),
        }
    )
    return space.condition("a_width", "kind", "a").condition("b_depth", "kind", "b")


def curved(config: dict) -> float:
    """Reports three steps; fails when x1 > 0.85; stops itself early when x0 > 0.8."""
    value = (config["x2"] - 0.3) ** 2 * 10 + math.log10(config["lr"]) ** 2 * 0.1
    for step in range(3):
        hh.report(value * (3 - step), step=step)
    if config["x1"] > 0.85:
        raise RuntimeError("x1 too large for this model")
    return value


def two_objectives(config: dict) -> tuple[float, float]:
    return config["x0"], (1 - config["x0"]) ** 2 + config["x1"]


@pytest.fixture(scope="session")
def single_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 40-trial run with reports, failures and conditional parameters (2 threads)."""
    path = tmp_path_factory.mktemp("runs") / "single"
    hh.search(
        curved,
        conditional_space(),
        max_evals=40,
        workers=2,
        executor="thread",
        seed=1,
        optimizer="random",
        run_dir=path,
    )
    return path


@pytest.fixture(scope="session")
def multi_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 30-trial run with two objectives (minimize, minimize)."""
    path = tmp_path_factory.mktemp("runs") / "multi"
    hh.search(
        two_objectives,
        conditional_space(),
        direction=["minimize", "minimize"],
        max_evals=30,
        seed=2,
        optimizer="random",
        run_dir=path,
    )
    return path


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium (Playwright context) for the session's browser tests."""
    from hyperhive.testing.browser import chromium_or_skip

    with chromium_or_skip() as context:
        yield context
