"""get_optimizer / register_optimizer."""

from __future__ import annotations

import pytest

from hyperhive.optimizers import (
    QMC,
    Auto,
    Optimizer,
    RandomSearch,
    available_optimizers,
    get_optimizer,
    register_optimizer,
)
from hyperhive.optimizers import registry as reg


class _Mine(RandomSearch):
    name = "mine"


@pytest.fixture
def clean_registry():
    saved = dict(reg._REGISTRY)
    yield
    reg._REGISTRY.clear()
    reg._REGISTRY.update(saved)


def test_builtin_names():
    assert {"auto", "qmc", "random"} <= set(available_optimizers())
    assert isinstance(get_optimizer("random"), RandomSearch)
    assert isinstance(get_optimizer("QMC ", seed=3), QMC)
    assert type(get_optimizer("auto")) is Auto
    assert get_optimizer("random", seed=7).seed == 7


def test_instance_passes_through():
    opt = QMC(seed=1, method="lhs")
    assert get_optimizer(opt) is opt
    assert get_optimizer(opt, seed=2) is opt


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="unknown optimizer 'nope'.*'auto'.*'qmc'.*'random'"):
        get_optimizer("nope")


def test_wrong_type():
    with pytest.raises(TypeError, match="name or an Optimizer"):
        get_optimizer(3)  # type: ignore[arg-type]


def test_register_new_and_conflicts(clean_registry):
    register_optimizer("mine", _Mine)
    assert isinstance(get_optimizer("Mine", seed=2), _Mine)
    register_optimizer("mine", _Mine)  # same class again: fine
    with pytest.raises(ValueError, match="already registered"):
        register_optimizer("random", _Mine)
    register_optimizer("random", _Mine, replace=True)
    assert isinstance(get_optimizer("random"), _Mine)


def test_register_rejects_bad_input(clean_registry):
    with pytest.raises(ValueError):
        register_optimizer("  ", _Mine)
    with pytest.raises(TypeError):
        register_optimizer("x", dict)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        register_optimizer("x", Optimizer)
