"""Unit encoding (to_unit/from_unit) and model features (encode/decode)."""

from __future__ import annotations

import numpy as np
import pytest

from hyperhive.space import Categorical, Constant, Float, Int, Ordinal, Space


def make_space() -> Space:
    space = Space(
        {
            "f": Float(0.0, 10.0),
            "lf": Float(1e-3, 1e-1, log=True),
            "n": Int(0, 4),
            "opt": Categorical(["adam", "sgd", "rms"]),
            "m": Float(0.0, 1.0, default=0.9),
            "o": Ordinal([1, 2, 4, 8]),
            "k": Constant("x"),
        }
    )
    return space.condition("m", on="opt", equals="sgd")


def approx(configs: list[dict]) -> list[dict]:
    """Configurations with floats compared up to 1e-9 relative."""
    return [
        {k: pytest.approx(v, rel=1e-9) if isinstance(v, float) else v for k, v in c.items()}
        for c in configs
    ]


ADAM = {"f": 2.5, "lf": 1e-2, "n": 3, "opt": "adam", "o": 4, "k": "x"}
SGD = {"f": 10.0, "lf": 1e-3, "n": 0, "opt": "sgd", "m": 0.25, "o": 1, "k": "x"}


def test_to_unit_columns() -> None:
    u = make_space().to_unit([ADAM, SGD])
    assert u.shape == (2, 7)
    assert np.allclose(u[0], [0.25, 0.5, 0.7, 0.0, np.nan, 2 / 3, 0.5], equal_nan=True)
    assert np.allclose(u[1], [1.0, 0.0, 0.1, 0.5, 0.25, 0.0, 0.5])
    assert np.isnan(u[0, 4]) and not np.isnan(u[1]).any()
    single = make_space().to_unit(ADAM)  # one mapping is one row
    assert np.array_equal(single, u[:1], equal_nan=True)
    assert make_space().to_unit([]).shape == (0, 7)


def test_to_unit_validates_values_and_ignores_unknown_keys() -> None:
    space = make_space()
    with pytest.raises(ValueError, match=r"parameter 'f' must be in \[0.0, 10.0\], got 11"):
        space.to_unit([ADAM, {**SGD, "f": 11}])
    with pytest.raises(ValueError, match=r"parameter 'opt' must be one of"):
        space.to_unit([{**ADAM, "opt": "nadam"}])
    with pytest.raises(ValueError, match=r"parameter 'n' must be an integer"):
        space.to_unit([{**ADAM, "n": 1.5}])
    with pytest.raises(ValueError, match=r"parameter 'f' must be a number, got '2'"):
        space.to_unit([{**ADAM, "f": "2"}])
    with pytest.raises(TypeError, match="must be a dict"):
        space.to_unit([1, 2])
    u = space.to_unit([{**ADAM, "objective": 3.0}])
    assert u.shape == (1, 7)


def test_from_unit_inverts_clips_and_fills() -> None:
    space = make_space()
    assert space.from_unit(space.to_unit([ADAM, SGD])) == approx([ADAM, SGD])
    out = space.from_unit(np.array([[-3.0, 7.0, 0.999, 0.51, 0.2, 0.5, 0.1]]))
    assert out == [{"f": 0.0, "lf": 0.1, "n": 4, "opt": "sgd", "m": 0.2, "o": 4, "k": "x"}]
    # NaN means the default; inactive parameters are dropped whatever their column says
    nan = np.full((1, 7), np.nan)
    assert space.from_unit(nan) == [space.default()]
    nan[0, 3] = 0.5  # opt = sgd: m becomes active with its default
    assert space.from_unit(nan)[0]["m"] == 0.9
    nan[0, 3], nan[0, 4] = 0.0, 0.3  # opt = adam: m dropped
    assert "m" not in space.from_unit(nan)[0]
    assert space.from_unit(np.full(7, 0.5))[0]["n"] == 2  # a 1-D point
    with pytest.raises(ValueError, match=r"shape \(n, 7\).*got shape \(2, 3\)"):
        space.from_unit(np.zeros((2, 3)))
    values = space.from_unit(np.random.default_rng(0).random((50, 7)))
    assert all(space.is_valid(c) for c in values)
    assert all(type(c["n"]) is int and type(c["f"]) is float for c in values)


def test_encode_features() -> None:
    space = make_space()
    assert space.feature_names == ["f", "lf", "n", "opt=adam", "opt=sgd", "opt=rms", "m", "o"]
    assert space.encoded_names(onehot=False) == ["f", "lf", "n", "opt", "m", "o"]
    x = space.encode([ADAM, SGD])
    assert x.shape == (2, 8)
    assert np.allclose(x[0], [0.25, 0.5, 0.7, 1, 0, 0, -1.0, 2 / 3])
    assert np.allclose(x[1], [1.0, 0.0, 0.1, 0, 1, 0, 0.25, 0.0])
    flat = space.encode([ADAM, SGD], onehot=False)
    assert flat.shape == (2, 6)
    assert np.allclose(flat[:, 3], [0.0, 0.5]) and flat[0, 4] == -1.0


def test_inactive_categorical_is_all_zero_one_hot() -> None:
    space = Space({"a": ["x", "y"], "b": ["u", "v", "w"]}).condition("b", on="a", equals="y")
    x = space.encode([{"a": "x"}, {"a": "y", "b": "w"}])
    assert x.tolist() == [[1, 0, 0, 0, 0], [0, 1, 0, 0, 1]]
    assert space.decode(x) == [{"a": "x"}, {"a": "y", "b": "w"}]
    assert space.encode([{"a": "x"}], onehot=False).tolist() == [[0.0, -1.0]]


def test_decode() -> None:
    space = make_space()
    assert space.decode(space.encode([ADAM, SGD])) == approx([ADAM, SGD])
    flat = space.encode([ADAM, SGD], onehot=False)
    assert space.decode(flat, onehot=False) == approx([ADAM, SGD])
    soft = np.array([[0.25, 0.5, 0.7, 0.2, 0.7, 0.1, -1.0, 0.4]])  # argmax of the one-hot
    out = space.decode(soft)[0]
    assert out["opt"] == "sgd" and out["m"] == 0.9  # -1 for an active parameter: its default
    assert out["o"] == 2  # round(0.4 * 3) = index 1
    zeros = np.array([[0.25, 0.5, 0.7, 0, 0, 0, 0.3, 0.4]])
    assert space.decode(zeros)[0]["opt"] == "adam"  # no choice: the default
    with pytest.raises(ValueError, match=r"shape \(n, 8\)"):
        space.decode(np.zeros((1, 6)))
    assert space.decode(np.zeros((0, 8))) == []


def test_constants_only_space_encodes_to_no_features() -> None:
    space = Space({"k": 1})
    assert space.encode([{"k": 1}]).shape == (1, 0)
    assert space.decode(np.zeros((2, 0))) == [{"k": 1}, {"k": 1}]
    assert space.to_unit([{"k": 1}]).tolist() == [[0.5]]


def test_round_trip_precision_of_log_floats() -> None:
    space = Space({"lr": Float(1e-8, 1.0, log=True), "n": Int(1, 10**6, log=True)})
    configs = space.sample(2000, seed=5)
    back = space.from_unit(space.to_unit(configs))
    for a, b in zip(configs, back, strict=True):
        assert b["n"] == a["n"]
        assert b["lr"] == pytest.approx(a["lr"], rel=1e-12)
