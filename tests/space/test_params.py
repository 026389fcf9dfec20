"""Parameter types: construction rules, defaults, values, priors and unit positions."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from hyperhive.space import Categorical, Constant, Float, Int, Ordinal


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Float(3, 1), "Float(low, high): low <= high must hold, got low=3, high=1"),
        (lambda: Int(5, 2), "Int(low, high): low <= high must hold, got low=5, high=2"),
        (lambda: Float(0, 1, log=True), "low > 0 must hold, got low=0"),
        (lambda: Float(-1.0, 1.0, log=True), "low > 0 must hold, got low=-1.0"),
        (lambda: Int(0, 10, log=True), "low > 0 must hold, got low=0"),
        (lambda: Int(1.5, 3), "low must be an integer, got low=1.5"),
        (lambda: Int(1, "3"), "high must be an integer, got high='3'"),
        (lambda: Float(float("nan"), 1.0), "low must be a finite number, got low=nan"),
        (lambda: Float(0.0, float("inf")), "high must be a finite number, got high=inf"),
        (lambda: Float(0, 1, default=2), "default must be in [0.0, 1.0], got default=2"),
        (lambda: Int(0, 10, default=3.5), "default must be an integer in [0, 10], got default=3.5"),
        (lambda: Int(0, 10, default=11), "got default=11"),
        (lambda: Categorical([]), "at least one value"),
        (lambda: Categorical(["a", "b", "a"]), "values must be unique, got 'a' twice"),
        (lambda: Categorical([1, 1.0]), "values must be unique, got 1.0 twice"),
        (lambda: Categorical(["a"], default="z"), "default must be one of ['a'], got default='z'"),
        (lambda: Ordinal([1, 2], default=3), "default must be one of [1, 2], got default=3"),
        (lambda: Ordinal([]), "at least one value"),
        (lambda: Categorical([float("nan")]), "values must be finite"),
    ],
)
def test_invalid_parameters_raise_clear_value_errors(make, message: str) -> None:
    with pytest.raises(ValueError) as info:
        make()
    assert message in str(info.value)


def test_invalid_parameter_types_raise_type_errors() -> None:
    with pytest.raises(TypeError, match="needs a list"):
        Categorical("abc")
    with pytest.raises(TypeError, match=r"values must be str, int, float, bool or None.*list"):
        Categorical([[1, 2]])
    with pytest.raises(TypeError, match="log must be a bool"):
        Float(0, 1, log="yes")


def test_parameters_are_frozen_value_objects() -> None:
    p = Float(0, 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.low = 2.0  # type: ignore[misc]
    assert Float(0, 1) == Float(0.0, 1.0)
    assert hash(Float(0, 1)) == hash(Float(0.0, 1.0))
    assert Float(0, 1) != Float(0, 1, log=False, default=0.3)
    assert Categorical(["a", "b"]) == Categorical(("a", "b"))
    assert Categorical(["a", "b"]) != Categorical(["b", "a"])
    assert isinstance(Float(0, 1).low, float) and isinstance(Int(1.0, 3.0).low, int)
    assert Categorical([1, True]).choices == (1, True)  # True and 1 are different choices


def test_defaults() -> None:
    assert Float(0, 1).default_value == 0.5
    assert Float(1e-4, 1.0, log=True).default_value == pytest.approx(1e-2, rel=1e-12)
    assert Float(1e-5, 1e-1, log=True).default_value == 1e-3
    assert Float(0, 1, default=0.25).default_value == 0.25
    assert Int(1, 10).default_value == 6
    assert Int(8, 512, log=True).default_value == 64
    assert Int(1, 2, log=True).default_value in (1, 2)
    assert Int(3, 3).default_value == 3
    assert Categorical(["x", "y"]).default_value == "x"
    assert Categorical(["x", "y"], default="y").default_value == "y"
    assert Ordinal([1, 2, 4, 8]).default_value == 2
    assert Ordinal([1, 2, 3]).default_value == 2
    assert Ordinal(["lo"]).default_value == "lo"
    assert Constant(7).default_value == 7


def test_validate_value_normalizes_to_plain_python() -> None:
    i = Int(0, 10)
    assert i.validate_value(3.0, "n") == 3 and type(i.validate_value(3.0, "n")) is int
    assert type(i.validate_value(np.int64(4), "n")) is int
    for bad in (True, 3.5, "3", None, 11, float("nan")):
        with pytest.raises(ValueError, match="parameter 'n'"):
            i.validate_value(bad, "n")
    f = Float(0, 1)
    assert type(f.validate_value(np.float32(0.5), "x")) is float
    assert f.validate_value(1, "x") == 1.0 and type(f.validate_value(1, "x")) is float
    for bad in (float("nan"), "0.5", True, 1.5):
        with pytest.raises(ValueError, match="parameter 'x'"):
            f.validate_value(bad, "x")
    c = Categorical(["a", 1, None])
    assert type(c.validate_value(np.str_("a"), "c")) is str
    assert c.validate_value(1.0, "c") == 1 and type(c.validate_value(1.0, "c")) is int
    assert c.validate_value(None, "c") is None
    with pytest.raises(ValueError, match=r"must be one of \['a', 1, None\], got True"):
        c.validate_value(True, "c")
    with pytest.raises(ValueError, match=r"must be 3 \(constant\), got 4"):
        Constant(3).validate_value(4, "k")


def test_reprs_are_short() -> None:
    assert repr(Float(1e-5, 1e-1, log=True)) == "Float(1e-05, 0.1, log=True)"
    assert repr(Int(1, 9, default=2)) == "Int(1, 9, default=2)"
    assert repr(Categorical(["a", "b"])) == "Categorical(['a', 'b'])"
    assert repr(Ordinal([1, 2])) == "Ordinal([1, 2])"
    assert repr(Constant("x")) == "Constant('x')"


def test_int_sampling_is_uniform_and_inclusive() -> None:
    codes = Int(0, 4).sample_codes(np.random.default_rng(0), 20_000)
    freq = np.bincount(codes, minlength=5) / codes.size
    assert codes.min() == 0 and codes.max() == 4
    assert np.allclose(freq, 0.2, atol=0.015)


def test_log_int_sampling_is_log_uniform_within_bounds() -> None:
    p = Int(1, 1000, log=True)
    codes = p.sample_codes(np.random.default_rng(1), 40_000)
    assert codes.min() >= 1 and codes.max() <= 1000
    assert codes.dtype == np.int64
    expected = math.log(31.5 / 0.5) / math.log(1000.5 / 0.5)  # P(value <= 31)
    assert np.mean(codes <= 31) == pytest.approx(expected, abs=0.015)
    assert np.mean(codes == 1) > np.mean(codes == 2) > np.mean(codes == 10)


def test_log_float_sampling_is_log_uniform() -> None:
    x = Float(1e-4, 1.0, log=True).sample_codes(np.random.default_rng(2), 20_000)
    assert x.min() >= 1e-4 and x.max() <= 1.0
    assert np.median(np.log10(x)) == pytest.approx(-2.0, abs=0.05)
    assert np.mean(x < 1e-3) == pytest.approx(0.25, abs=0.015)


def test_unit_positions() -> None:
    ints = Int(0, 4)
    assert np.allclose(ints.codes_to_unit(np.arange(5)), [0.1, 0.3, 0.5, 0.7, 0.9])
    assert ints.unit_to_codes(np.array([0.0, 0.19, 0.21, 1.0])).tolist() == [0, 0, 1, 4]
    cat = Categorical(["a", "b", "c"])
    assert cat.codes_to_unit(np.arange(3)).tolist() == [0.0, 0.5, 1.0]
    assert cat.unit_to_codes(np.array([0.2, 0.3, 0.76])).tolist() == [0, 1, 2]
    assert Constant(1).codes_to_unit(np.zeros(2, dtype=int)).tolist() == [0.5, 0.5]
    assert Float(2, 2).codes_to_unit(np.array([2.0])).tolist() == [0.5]
    f = Float(1e-3, 1e-1, log=True)
    assert f.codes_to_unit(np.array([1e-2]))[0] == pytest.approx(0.5)
    assert f.unit_to_codes(np.array([-5.0, 5.0])).tolist() == [1e-3, 1e-1]


def test_log_float_with_bounds_equal_in_log_space_maps_to_the_middle() -> None:
    # 9.0 and the next float up have the same logarithm: no division by zero, no NaN.
    p = Float(9.0, 9.000000000000002, log=True)
    u = p.codes_to_unit(np.array([9.0, 9.000000000000002]))
    assert np.array_equal(u, [0.5, 0.5])
    back = p.unit_to_codes(u)
    assert np.all((back >= 9.0) & (back <= 9.000000000000002))
