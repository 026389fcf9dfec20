"""The Space API: construction, short form, conditions, forbid, validation, sampling."""

from __future__ import annotations

import collections
import copy
import pickle

import numpy as np
import pytest

import hyperhive.space as hs
from hyperhive.space import (
    Categorical,
    Constant,
    Float,
    Int,
    Ordinal,
    Space,
    as_space,
    ge,
    gt,
    le,
    lt,
)


def example_space() -> Space:
    space = Space(
        {
            "lr": Float(1e-5, 1e-1, log=True),
            "units": Int(8, 512, log=True),
            "optimizer": Categorical(["adam", "sgd"]),
            "momentum": Float(0.0, 0.99),
            "depth": Ordinal([1, 2, 4, 8]),
            "seed": Constant(0),
        }
    )
    space.condition("momentum", on="optimizer", equals="sgd")
    space.forbid(depth=8, units=gt(256))
    return space


VALID = {"lr": 1e-3, "units": 64, "optimizer": "sgd", "momentum": 0.9, "depth": 2, "seed": 0}


def test_public_names() -> None:
    for name in ("Space", "Float", "Int", "Categorical", "Ordinal", "Constant", "as_space"):
        assert name in hs.__all__
    for name in ("gt", "ge", "lt", "le"):
        assert name in hs.__all__
    assert repr(gt(3)) == "gt(3)" and ge(1).op == "ge" and lt(1).op == "lt" and le(1).op == "le"


def test_views() -> None:
    space = example_space()
    assert space.names == ["lr", "units", "optimizer", "momentum", "depth", "seed"]
    assert len(space) == 6 and "lr" in space and "nope" not in space
    assert list(space) == space.names
    assert space["units"] == Int(8, 512, log=True)
    assert space.kinds == ["float", "int", "categorical", "float", "ordinal", "constant"]
    assert space.is_conditional and space.has_forbidden
    assert not Space({"a": (0, 1)}).is_conditional
    assert not Space({"a": (0, 1)}).has_forbidden
    space.params["lr"] = Float(0, 1)  # a copy: the space is unchanged
    assert space["lr"] == Float(1e-5, 1e-1, log=True)
    with pytest.raises(KeyError, match="nope"):
        space["nope"]
    assert space.conditions == {"momentum": [{"on": "optimizer", "equals": "sgd"}]}
    assert space.forbidden == [
        [{"name": "depth", "op": "eq", "value": 8}, {"name": "units", "op": "gt", "value": 256}]
    ]


def test_short_form() -> None:
    space = Space(
        {
            "a": (1, 10),
            "b": (0.1, 1.0),
            "c": (1, 10.0),
            "d": (1e-3, 1.0, "log-uniform"),
            "e": (1, 100, "log-uniform"),
            "f": (0, 5, "uniform"),
            "g": ["x", "y"],
            "h": 3,
            "i": "relu",
            "j": np.float64(0.5),
        }
    )
    assert space["a"] == Int(1, 10)
    assert space["b"] == Float(0.1, 1.0)
    assert space["c"] == Float(1, 10.0)
    assert space["d"] == Float(1e-3, 1.0, log=True)
    assert space["e"] == Int(1, 100, log=True)
    assert space["f"] == Int(0, 5)
    assert space["g"] == Categorical(["x", "y"])
    assert space["h"] == Constant(3)
    assert space["i"] == Constant("relu")
    assert space["j"] == Constant(0.5) and type(space["j"].value) is float
    assert as_space({"a": (1, 10)}) == Space({"a": Int(1, 10)})


@pytest.mark.parametrize(
    ("spec", "error", "message"),
    [
        ({"lr": (1, 2, "normal")}, ValueError, "parameter 'lr': prior must be one of"),
        ({"lr": (1,)}, ValueError, "parameter 'lr': the short form is (low, high[, prior])"),
        ({"lr": ("a", "b")}, ValueError, "parameter 'lr': the short form (low, high[, prior])"),
        ({"lr": (5, 1)}, ValueError, "parameter 'lr': Int(low, high): low <= high must hold"),
        ({"lr": (0.0, 1.0, "log-uniform")}, ValueError, "parameter 'lr': Float(low, high, log"),
        ({"lr": []}, ValueError, "parameter 'lr': Categorical(choices) needs at least one"),
        ({"lr": object()}, TypeError, "parameter 'lr': cannot make a parameter from a object"),
        ({"": 1}, ValueError, "non-empty"),
        ({1: 2}, TypeError, "parameter names must be str, got 1"),
    ],
)
def test_bad_short_forms(spec: dict, error: type, message: str) -> None:
    with pytest.raises(error) as info:
        Space(spec)
    assert message in str(info.value)


def test_as_space() -> None:
    space = example_space()
    assert as_space(space) is space
    assert as_space({"x": Float(0, 1)}) == Space({"x": Float(0, 1)})
    assert as_space(space.to_configspace()) == space
    with pytest.raises(TypeError, match="builtins.int"):
        as_space(42)
    with pytest.raises(TypeError, match="builtins.list"):
        as_space([("x", 1)])
    with pytest.raises(TypeError, match="dict of parameters, got list"):
        Space([1, 2])  # type: ignore[arg-type]


# -- conditions --------------------------------------------------------------------------
def test_condition_errors_name_the_problem() -> None:
    def fresh() -> Space:
        return Space({"a": ["x", "y"], "b": (0.0, 1.0), "c": (1, 5), "k": 3})

    with pytest.raises(ValueError, match="unknown parameter 'nope'"):
        fresh().condition("nope", on="a", equals="x")
    with pytest.raises(ValueError, match="unknown parameter 'zz'"):
        fresh().condition("b", on="zz", equals="x")
    with pytest.raises(ValueError, match="'b' cannot be conditioned on itself"):
        fresh().condition("b", on="b", equals=0.5)
    with pytest.raises(ValueError, match=r"'q' is not a possible value of parent 'a'"):
        fresh().condition("b", on="a", equals="q")
    with pytest.raises(ValueError, match=r"parameter 'c' must be in \[1, 5\], got 9"):
        fresh().condition("b", on="c", isin=[2, 9])
    with pytest.raises(ValueError, match="Constant parameter 'k' cannot be conditional"):
        fresh().condition("k", on="a", equals="x")
    with pytest.raises(ValueError, match="needs on= with equals= or isin="):
        fresh().condition("b")
    with pytest.raises(ValueError, match="needs on= with equals= or isin="):
        fresh().condition("b", on="a", equals="x", isin=["y"])
    with pytest.raises(ValueError, match="any_of needs at least one condition"):
        fresh().condition("b", any_of=[])
    space = fresh().condition("b", on="c", equals=2)
    with pytest.raises(ValueError, match=r"cycle: 'c' -> 'b' -> 'c'"):
        space.condition("c", on="b", equals=0.5)
    space.condition("a", on="c", equals=3)
    with pytest.raises(ValueError, match="cycle"):
        space.condition("c", any_of=[{"on": "b", "equals": 0.1}, {"on": "a", "equals": "x"}])
    assert space.conditions == {"b": [{"on": "c", "equals": 2}], "a": [{"on": "c", "equals": 3}]}


def test_condition_semantics_and_or_and_chains() -> None:
    space = Space({"a": [1, 2, 3], "b": ["u", "v"], "x": (0.0, 1.0), "y": (0, 9), "z": (0, 9)})
    assert space.condition("x", any_of=[{"on": "a", "equals": 1}, {"on": "b", "isin": ["v"]}])
    space.condition("y", on="a", isin=[1, 2]).condition("y", on="b", equals="u")  # ANDed
    space.condition("z", on="y", equals=0)  # grandchild
    assert space.is_active("x", {"a": 1, "b": "u"})
    assert space.is_active("x", {"a": 3, "b": "v"})
    assert not space.is_active("x", {"a": 3, "b": "u"})
    assert space.is_active("y", {"a": 2, "b": "u"})
    assert not space.is_active("y", {"a": 2, "b": "v"})
    assert not space.is_active("y", {"a": 3, "b": "u"})
    assert space.is_active("z", {"a": 2, "b": "u", "y": 0})
    assert not space.is_active("z", {"a": 2, "b": "v", "y": 0})  # parent y inactive
    assert not space.is_active("x", {"b": "u"})  # a missing counts as inactive
    with pytest.raises(ValueError, match="unknown parameter 'w'"):
        space.is_active("w", {})
    seen = collections.Counter()
    for c in space.sample(2000, seed=3):
        assert ("x" in c) == (c["a"] == 1 or c["b"] == "v")
        assert ("y" in c) == (c["a"] in (1, 2) and c["b"] == "u")
        assert ("z" in c) == ("y" in c and c["y"] == 0)
        seen.update(c)
    assert seen["z"] > 0 and seen["y"] > seen["z"]


def test_all_of_is_stored_as_separate_conditions() -> None:
    a = Space({"p": [1, 2], "q": [1, 2], "x": (0, 1)})
    a.condition("x", all_of=[{"on": "p", "equals": 1}, {"on": "q", "equals": 2}])
    b = Space({"p": [1, 2], "q": [1, 2], "x": (0, 1)})
    b.condition("x", on="p", equals=1).condition("x", on="q", equals=2)
    assert a == b


# -- forbid --------------------------------------------------------------------------------
def test_forbid_errors() -> None:
    space = Space({"a": ["x", "y"], "n": (1, 10), "f": (0.0, 1.0)})
    with pytest.raises(ValueError, match="unknown parameter 'q'"):
        space.forbid(q=1)
    with pytest.raises(ValueError, match=r"forbid\(n=11\): parameter 'n' must be in \[1, 10\]"):
        space.forbid(n=11)
    with pytest.raises(ValueError, match=r"forbid\(a='z'\).*must be one of \['x', 'y'\]"):
        space.forbid(a="z")
    with pytest.raises(ValueError, match="at least one clause"):
        space.forbid()
    with pytest.raises(ValueError, match=r"gt\(3\) cannot be compared with its value 'x'"):
        space.forbid(a=gt(3))
    with pytest.raises(ValueError, match="needs a number"):
        space.forbid(f=gt("big"))
    with pytest.raises(ValueError, match="given twice"):
        space.forbid({"n": 2}, n=3)
    assert not space.has_forbidden
    assert space.forbid({"n": 2}) is space


def test_forbid_semantics() -> None:
    space = Space({"a": ["x", "y", "z"], "n": (1, 10), "o": Ordinal(["lo", "mid", "hi"])})
    space.forbid(a="x", n=gt(5)).forbid(a=["y", "z"], o=ge("mid")).forbid(n=le(1))
    assert space.is_forbidden({"a": "x", "n": 6, "o": "lo"})
    assert not space.is_forbidden({"a": "x", "n": 5, "o": "lo"})
    assert space.is_forbidden({"a": "z", "n": 5, "o": "hi"})
    assert not space.is_forbidden({"a": "z", "n": 5, "o": "lo"})
    assert space.is_forbidden({"a": "z", "n": 1, "o": "lo"})
    for c in space.sample(3000, seed=0):
        assert not (c["a"] == "x" and c["n"] > 5)
        assert not (c["a"] != "x" and c["o"] != "lo")
        assert c["n"] > 1
    with pytest.raises(ValueError, match=r"forbidden by clause forbid\(n=le\(1\)\): got n=1"):
        space.validate({"a": "x", "n": 1, "o": "lo"})


def test_forbidden_clauses_skip_inactive_parameters() -> None:
    space = Space({"opt": ["adam", "sgd"], "m": (0.0, 1.0)})
    space.condition("m", on="opt", equals="sgd").forbid(m=gt(0.5))
    assert not space.is_forbidden({"opt": "adam"})
    assert space.is_forbidden({"opt": "sgd", "m": 0.7})
    configs = space.sample(500, seed=1)
    assert {c["opt"] for c in configs} == {"adam", "sgd"}
    assert all(c.get("m", 0.0) <= 0.5 for c in configs)


def test_rejection_keeps_the_rest_uniform() -> None:
    space = Space({"a": ["x", "y", "z"]}).forbid(a="x")
    counts = collections.Counter(c["a"] for c in space.sample(6000, seed=2))
    assert set(counts) == {"y", "z"}
    assert counts["y"] / 6000 == pytest.approx(0.5, abs=0.03)


def test_impossible_forbidden_region_raises_runtime_error() -> None:
    space = Space({"a": ["x", "y"], "b": (0, 3)}).forbid(a=["x", "y"])
    with pytest.raises(RuntimeError, match=r"could not sample 5 configurations.*forbid\(a="):
        space.sample(5, seed=0)


# -- combining -------------------------------------------------------------------------------
def test_union() -> None:
    left = example_space()
    right = Space({"wd": Float(1e-6, 1e-2, log=True), "bn": [True, False]})
    right.condition("wd", on="bn", equals=False).forbid(bn=True, wd=lt(1e-5))
    both = left | right
    assert both.names == [*left.names, "wd", "bn"]
    assert both.conditions == {**left.conditions, **right.conditions}
    assert both.forbidden == left.forbidden + right.forbidden
    assert left.names[-1] == "seed" and len(left) == 6  # unchanged
    assert (left | {"extra": (0, 1)}).names[-1] == "extra"
    with pytest.raises(ValueError, match="parameter 'lr' is in both"):
        left | Space({"lr": (0.0, 1.0)})
    with pytest.raises(TypeError):
        left | 3  # type: ignore[operator]
    copy = left.copy()
    copy.forbid(depth=1)
    assert copy != left and len(left.forbidden) == 1


# -- validation ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"lr": 0.5}, "parameter 'lr' must be in [1e-05, 0.1], got 0.5"),
        ({"units": 3.5}, "parameter 'units' must be an integer in [8, 512], got 3.5"),
        ({"optimizer": "rmsprop"}, "parameter 'optimizer' must be one of ['adam', 'sgd'], got"),
        ({"depth": 3}, "parameter 'depth' must be one of [1, 2, 4, 8], got 3"),
        ({"seed": 1}, "parameter 'seed' must be 0 (constant), got 1"),
        ({"extra": 1}, "unknown parameter 'extra' in configuration"),
        ({"lr": None}, "parameter 'lr' must be a number, got None"),
        (
            {"optimizer": "adam"},
            "parameter 'momentum' is inactive (its condition optimizer == 'sgd' does not hold)"
            " but was given 0.9",
        ),
        (
            {"depth": 8, "units": 300},
            "configuration is forbidden by clause forbid(depth=8, units=gt(256)): "
            "got depth=8, units=300",
        ),
    ],
)
def test_validate_errors(change: dict, message: str) -> None:
    space = example_space()
    with pytest.raises(ValueError) as info:
        space.validate({**VALID, **change})
    assert message in str(info.value)
    assert not space.is_valid({**VALID, **change})


def test_validate_missing_parameters() -> None:
    space = example_space()
    config = dict(VALID)
    del config["momentum"]
    with pytest.raises(ValueError, match=r"'momentum' is missing.*active because optimizer"):
        space.validate(config)
    with pytest.raises(ValueError, match="'seed' is missing"):
        space.validate({k: v for k, v in VALID.items() if k != "seed"})
    with pytest.raises(TypeError, match="must be a dict, got list"):
        space.validate([1, 2])  # type: ignore[arg-type]


def test_validate_normalizes() -> None:
    space = example_space()
    raw = {
        "seed": np.int64(0),
        "depth": np.int32(2),
        "lr": np.float32(0.001),
        "units": 64.0,
        "optimizer": np.str_("adam"),
    }
    out = space.validate(raw)
    assert list(out) == ["lr", "units", "optimizer", "depth", "seed"]
    assert out["units"] == 64 and type(out["units"]) is int
    assert type(out["lr"]) is float and type(out["optimizer"]) is str
    assert type(out["depth"]) is int and type(out["seed"]) is int
    assert raw["units"] == 64.0  # the input is not modified
    assert space.validate(VALID) == VALID
    assert space.is_valid(VALID)


# -- defaults and sampling -------------------------------------------------------------------
def test_default() -> None:
    space = example_space()
    assert space.default() == {
        "lr": 1e-3,
        "units": 64,
        "optimizer": "adam",
        "depth": 2,
        "seed": 0,
    }
    space.forbid(optimizer="adam", depth=2)  # accepted now, refused when asked
    with pytest.raises(ValueError, match=r"default configuration .* is forbidden by forbid\("):
        space.default()
    sgd = Space({"o": Categorical(["adam", "sgd"], default="sgd"), "m": Float(0, 1, default=0.9)})
    sgd.condition("m", on="o", equals="sgd")
    assert sgd.default() == {"o": "sgd", "m": 0.9}


def test_sample_basics() -> None:
    space = example_space()
    assert space.sample(0, seed=1) == []
    with pytest.raises(ValueError, match="n must be >= 0"):
        space.sample(-1)
    with pytest.raises(TypeError, match="n must be an int"):
        space.sample(True)
    with pytest.raises(TypeError, match="seed"):
        space.sample(2, seed="abc")  # type: ignore[arg-type]
    rng = np.random.default_rng(0)
    first, second = space.sample(5, seed=rng), space.sample(5, seed=rng)
    assert first != second  # the generator advanced
    assert space.sample(5, seed=7) == space.sample(5, seed=7)
    assert space.sample(5, seed=7) != space.sample(5, seed=8)
    configs = space.sample(300, seed=4)
    assert all(c["seed"] == 0 for c in configs)
    assert {c["optimizer"] for c in configs} == {"adam", "sgd"}
    assert all(("momentum" in c) == (c["optimizer"] == "sgd") for c in configs)
    assert all(type(c["units"]) is int and type(c["lr"]) is float for c in configs)
    assert all(type(c["depth"]) is int and type(c["optimizer"]) is str for c in configs)
    assert Space().sample(2, seed=0) == [{}, {}]


def test_sampling_ten_thousand_configurations() -> None:
    space = example_space() | Space({"wd": (1e-6, 1e-2, "log-uniform"), "act": ["relu", "tanh"]})
    space.condition("wd", on="act", equals="relu").forbid(act="tanh", lr=gt(0.05))
    configs = space.sample(10_000, seed=0)  # "well under 0.2 s"; no timed assertion here
    assert len(configs) == 10_000
    assert all(space.is_valid(c) for c in configs[::50])
    assert not any(c["depth"] == 8 and c["units"] > 256 for c in configs)
    assert not any(c["act"] == "tanh" and c["lr"] > 0.05 for c in configs)
    assert min(c["units"] for c in configs) == 8 and max(c["units"] for c in configs) > 500


# -- mutate ----------------------------------------------------------------------------------
def test_mutate() -> None:
    space = example_space()
    rng = np.random.default_rng(0)
    config = dict(VALID)
    for k in (1, 2, 5, 50):
        new = space.mutate(config, rng, k=k)
        assert space.is_valid(new) and new["seed"] == 0
        assert sum(config.get(n) != new.get(n) for n in space.names) >= min(k, 5)
    assert config == VALID  # not modified
    only_const = Space({"k": 1, "one": ["x"]})
    assert only_const.mutate({"k": 1, "one": "x"}, rng) == {"k": 1, "one": "x"}
    with pytest.raises(ValueError, match="k must be an integer >= 1"):
        space.mutate(config, rng, k=0)
    with pytest.raises(ValueError, match="sigma must be a positive number"):
        space.mutate(config, rng, sigma=0.0)
    with pytest.raises(ValueError, match="must be in"):
        space.mutate({**VALID, "lr": 9.0}, rng)


def test_mutate_activates_children_with_sampled_values() -> None:
    space = Space({"opt": ["adam", "sgd"], "m": (0.0, 1.0), "k": 3}).condition(
        "m", on="opt", equals="sgd"
    )
    rng = np.random.default_rng(1)
    values = set()
    for _ in range(20):
        new = space.mutate({"opt": "adam", "k": 3}, rng)
        assert new["opt"] == "sgd" and 0.0 <= new["m"] <= 1.0
        values.add(new["m"])
        again = space.mutate(new, rng)
        if again["opt"] == "sgd":  # m was the parameter changed
            assert again["m"] != new["m"] and again["k"] == 3
        else:
            assert again == {"opt": "adam", "k": 3}
    assert len(values) == 20


def test_mutate_steps_are_local() -> None:
    space = Space({"x": Float(0.0, 1.0), "n": Int(0, 1000), "o": Ordinal(list(range(50)))})
    rng = np.random.default_rng(3)
    start = {"x": 0.5, "n": 500, "o": 25}
    dx, dn, do = [], [], []
    for _ in range(300):
        new = space.mutate(start, rng, k=3, sigma=0.05)
        dx.append(abs(new["x"] - 0.5))
        dn.append(abs(new["n"] - 500))
        do.append(abs(new["o"] - 25))
    assert 0 < np.median(dx) < 0.1 and 0 < np.median(dn) < 100 and 0 < np.median(do) < 5


# -- equality and repr -----------------------------------------------------------------------
def test_equality_and_repr() -> None:
    space = example_space()
    assert space == example_space()
    assert space != Space(dict(reversed(space.params.items())))
    other = example_space().condition("momentum", on="depth", isin=[1, 2])
    assert space != other
    assert space != "space"
    namespace = {n: getattr(hs, n) for n in hs.__all__}
    assert eval("(" + repr(space) + ")", namespace) == space  # noqa: S307 - our own repr
    assert "forbid(depth=8, units=gt(256))" in repr(space)
    assert repr(Space()) == "Space({})"


def test_pickle_and_deepcopy() -> None:
    space = example_space()
    for clone in (pickle.loads(pickle.dumps(space)), copy.deepcopy(space), Space(space)):
        assert clone == space and clone is not space
        assert clone.sample(20, seed=1) == space.sample(20, seed=1)
    clone = space.copy()
    clone.forbid(seed=0)
    assert len(space.forbidden) == 1 and len(clone.forbidden) == 2
