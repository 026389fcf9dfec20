"""Parameter importance: the parameters that matter come first, whatever the method."""

from __future__ import annotations

import math

import numpy as np
import pytest

import hyperhive as hh
from hyperhive.analysis import importance
from hyperhive.analysis.parameter_importance import encode_trials


def ten_parameter_space() -> hh.Space:
    """Ten parameters, of which two matter; three are conditional on a categorical."""
    space = hh.Space(
        {
            "a": hh.Float(0.0, 1.0),
            "lr": hh.Float(1e-5, 1e-1, log=True),
            "c": hh.Float(-1.0, 1.0),
            "d": hh.Int(1, 100, log=True),
            "e": hh.Ordinal([1, 2, 4, 8]),
            "f": hh.Float(0.0, 1.0),
            "model": hh.Categorical(["mlp", "tree", "linear"]),
            "width": hh.Int(8, 256, log=True),
            "depth": hh.Int(1, 10),
            "alpha": hh.Float(1e-3, 1.0, log=True),
        }
    )
    space.condition("width", "model", "mlp")
    space.condition("depth", "model", "tree")
    return space.condition("alpha", "model", "linear")


def two_matter(config: dict) -> float:
    noise = 0.001 * (config["f"] + config["c"])
    return 10.0 * (config["a"] - 0.7) ** 2 + (math.log10(config["lr"]) + 3.0) ** 2 + noise


@pytest.fixture(scope="module")
def ten_run() -> hh.Result:
    return hh.search(two_matter, ten_parameter_space(), max_evals=250, seed=3, optimizer="random")


@pytest.mark.parametrize("method", ["fanova", "permutation"])
def test_the_two_parameters_that_matter_come_first(ten_run: hh.Result, method: str) -> None:
    imp = importance(ten_run, method)
    assert set(imp.index[:2]) == {"a", "lr"}, imp
    assert imp.iloc[:2].sum() > 0.9
    assert imp.sum() == pytest.approx(1.0)
    assert list(imp) == sorted(imp, reverse=True)
    assert len(imp) == 10


def test_several_objectives(multi_run) -> None:
    first = importance(multi_run, objective=0)
    second = importance(multi_run, objective=1)
    assert first.index[0] == "x0"  # objective 0 is x0 itself
    assert set(second.index[:2]) == {"x0", "x1"}
    with pytest.raises(ValueError, match="objective must be in"):
        importance(multi_run, objective=2)


def test_inactive_values_sit_in_a_slot_below_the_range(ten_run: hh.Result) -> None:
    X, y, names, lower, upper = encode_trials(ten_run)
    assert len(X) == len(y) == len(ten_run.done)
    col = names.index("width")  # conditional: active for one model in three
    inactive = np.array(["width" not in t.config for t in ten_run.done])
    assert inactive.any() and not inactive.all()
    assert (X[inactive, col] < 0).all() and (X[inactive, col] > lower[col]).all()
    assert (X[~inactive, col] >= 0).all() and (X[~inactive, col] <= upper[col]).all()
    assert not np.isnan(X).any()


def test_bad_arguments(ten_run: hh.Result) -> None:
    with pytest.raises(ValueError, match="method must be one of"):
        importance(ten_run, "shap")
    with pytest.raises(ValueError, match="n_trees"):
        importance(ten_run, n_trees=0)
    few = hh.Result(ten_run.done[:1], ten_run.space, ["minimize"])
    with pytest.raises(ValueError, match="at least 2 done trials"):
        importance(few)


def test_flat_objective_gives_zeros() -> None:
    result = hh.search(lambda c: 1.0, hh.Space({"x": hh.Float(0, 1)}), max_evals=5, seed=0)
    assert importance(result).tolist() == [0.0]


def test_importance_stays_the_function_after_its_module_is_imported() -> None:
    # A submodule named like the function would replace it on the package once imported
    # (as building a report does).
    import importlib

    import hyperhive.analysis as analysis

    importlib.import_module("hyperhive.analysis.parameter_importance")
    assert callable(analysis.importance)
