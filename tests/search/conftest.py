from __future__ import annotations

import pytest

import hyperhive as hh


@pytest.fixture
def space() -> hh.Space:
    return hh.Space({"x": hh.Float(-5.0, 5.0), "y": hh.Float(-5.0, 5.0)})


def quadratic(config: dict) -> float:
    return (config["x"] - 1.0) ** 2 + (config["y"] + 2.0) ** 2
