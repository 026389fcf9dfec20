"""Numeric parameters: :class:`Float` and :class:`Int`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from hyperhive.space.base import Param, Predicate, canonical_in
from hyperhive.space.values import RELATION_OPS, is_real, to_python

_MAX_INT = 2**53


def _fast_array(values: Sequence[Any]) -> np.ndarray | None:
    """``values`` as a float array when they are all plain int/float, else None."""
    if not set(map(type, values)) <= {int, float}:
        return None
    return np.array(values, dtype=float).reshape(-1)


# ---------------------------------------------------------------------------------------
# numeric parameters
# ---------------------------------------------------------------------------------------
class _Numeric(Param):
    low: Any
    high: Any
    log: bool

    def _bounds_text(self) -> str:
        return f"[{self.low!r}, {self.high!r}]"

    def canonical_target(self, op: str, value: Any, name: str) -> Any:
        if op == "eq":
            return self.validate_value(value, name)
        if op == "in":
            return tuple(sorted(canonical_in(self, value, name)))
        if op in RELATION_OPS:
            value = to_python(value)
            if not is_real(value) or math.isnan(value):
                raise ValueError(
                    f"parameter {name!r}: {op}() needs a number to compare with, got {value!r}"
                )
            return value + 0 if isinstance(value, float) else value  # no -0.0
        raise ValueError(f"unknown operator {op!r}")

    def compile(self, op: str, target: Any) -> Predicate:
        if op == "eq":
            return lambda codes: codes == target
        if op == "in":
            arr = np.asarray(target)
            return lambda codes: np.isin(codes, arr)
        fn = {"gt": np.greater, "ge": np.greater_equal, "lt": np.less, "le": np.less_equal}[op]
        return lambda codes: fn(codes, target)


def _check_bounds(cls: str, low: Any, high: Any, log: bool) -> None:
    for label, v in (("low", low), ("high", high)):
        v = to_python(v)
        if not is_real(v) or not math.isfinite(v):
            raise ValueError(
                f"{cls}(low, high): {label} must be a finite number, got {label}={v!r}"
            )
    if low > high:
        raise ValueError(f"{cls}(low, high): low <= high must hold, got low={low!r}, high={high!r}")
    if not isinstance(log, bool | np.bool_):
        raise TypeError(f"{cls}(low, high, log): log must be a bool, got log={log!r}")
    if log and low <= 0:
        raise ValueError(f"{cls}(low, high, log=True): low > 0 must hold, got low={low!r}")


@dataclass(frozen=True, eq=True, repr=False)
class Float(_Numeric):
    """A real number in ``[low, high]``, uniform or (``log=True``) log-uniform.

    Args:
        low: lower bound (inclusive).
        high: upper bound (inclusive), ``low <= high``.
        log: sample and encode on a log scale (needs ``low > 0``).
        default: the default value; None means the midpoint (geometric when ``log``).

    Unit encoding: the linear (or logarithmic) position between ``low`` and ``high``;
    0.5 when ``low == high``.
    """

    low: float
    high: float
    log: bool = False
    default: float | None = None

    kind: ClassVar[str] = "float"

    def __post_init__(self) -> None:
        _check_bounds("Float", self.low, self.high, self.log)
        object.__setattr__(self, "low", float(to_python(self.low)) + 0.0)  # no -0.0
        object.__setattr__(self, "high", float(to_python(self.high)) + 0.0)
        object.__setattr__(self, "log", bool(self.log))
        if self.default is not None:
            d = to_python(self.default)
            if not is_real(d) or not self.low <= d <= self.high:
                raise ValueError(
                    f"Float({self.low!r}, {self.high!r}): default must be in "
                    f"{self._bounds_text()}, got default={d!r}"
                )
            object.__setattr__(self, "default", float(d) + 0.0)

    def __repr__(self) -> str:
        extra = ", log=True" if self.log else ""
        extra += f", default={self.default!r}" if self.default is not None else ""
        return f"Float({self.low!r}, {self.high!r}{extra})"

    @property
    def default_value(self) -> float:
        if self.default is not None:
            return self.default
        if self.log:
            prod = self.low * self.high
            if 0.0 < prod < math.inf:
                mid = math.sqrt(prod)
            else:
                mid = math.exp(0.5 * math.log(self.low) + 0.5 * math.log(self.high))
        else:
            mid = 0.5 * (self.low + self.high)
        return min(max(mid, self.low), self.high)

    @property
    def size(self) -> float:
        return 1.0 if self.low == self.high else math.inf

    def validate_value(self, value: Any, name: str) -> float:
        v = to_python(value)
        if not is_real(v):
            raise ValueError(f"parameter {name!r} must be a number, got {value!r}")
        if not self.low <= v <= self.high:  # also rejects NaN
            raise ValueError(f"parameter {name!r} must be in {self._bounds_text()}, got {value!r}")
        return float(v) + 0.0  # -0.0 becomes 0.0

    def sample_codes(self, rng: np.random.Generator, n: int) -> np.ndarray:
        if self.log:
            x = np.exp(rng.uniform(math.log(self.low), math.log(self.high), n))
        else:
            x = rng.uniform(self.low, self.high, n)
        return np.clip(x, self.low, self.high)

    def codes_to_values(self, codes: np.ndarray) -> list[Any]:
        return np.asarray(codes, dtype=float).tolist()

    def value_to_code(self, value: Any) -> float:
        return float(value)

    def values_to_codes(self, values: Sequence[Any], name: str) -> np.ndarray:
        arr = _fast_array(values)
        if arr is None or not np.all((arr >= self.low) & (arr <= self.high)):
            return super().values_to_codes(values, name)  # raises, naming the bad value
        return arr

    def codes_to_unit(self, codes: np.ndarray) -> np.ndarray:
        codes = np.asarray(codes, dtype=float)
        if self.low == self.high:
            return np.full(codes.shape, 0.5)
        if self.log:
            lo, hi = math.log(self.low), math.log(self.high)
            if hi == lo:  # bounds one ulp apart: equal once in log space
                return np.full(codes.shape, 0.5)
            return (np.log(codes) - lo) / (hi - lo)
        return (codes - self.low) / (self.high - self.low)

    def unit_to_codes(self, unit: np.ndarray) -> np.ndarray:
        u = np.clip(np.asarray(unit, dtype=float), 0.0, 1.0)
        if self.log:
            lo, hi = math.log(self.low), math.log(self.high)
            x = np.exp(lo + u * (hi - lo))
        else:
            x = self.low + u * (self.high - self.low)
        x = np.where(u >= 1.0, self.high, x)  # exact bounds (exp(log(low)) may differ)
        return np.clip(np.where(u <= 0.0, self.low, x), self.low, self.high)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "low": self.low,
            "high": self.high,
            "log": self.log,
            "default": self.default,
        }


def _as_int(cls: str, label: str, v: Any) -> int:
    v = to_python(v)
    if isinstance(v, bool) or not is_real(v) or not math.isfinite(v) or v != int(v):
        raise ValueError(f"{cls}(low, high): {label} must be an integer, got {label}={v!r}")
    if abs(v) > _MAX_INT:
        raise ValueError(f"{cls}(low, high): |{label}| <= 2**53 must hold, got {label}={v!r}")
    return int(v)


@dataclass(frozen=True, eq=True, repr=False)
class Int(_Numeric):
    """An integer in ``[low, high]`` (both inclusive), uniform or (``log=True``) log-uniform.

    Args:
        low: lower bound (inclusive).
        high: upper bound (inclusive), ``low <= high``.
        log: sample and encode on a log scale (needs ``low >= 1``).
        default: the default value; None means the rounded (geometric when ``log``) midpoint.

    Unit encoding: bin centres. The interval ``[low - 0.5, high + 0.5]`` (its logarithm
    when ``log``) is mapped linearly onto ``[0, 1]``; a value ``v`` sits at the position
    of ``v`` itself and a unit position maps back to the nearest integer. Sampling draws
    a uniform unit position, so linear integers are exactly uniform and log integers are
    log-uniform on ``[low - 0.5, high + 0.5]`` then rounded.
    """

    low: int
    high: int
    log: bool = False
    default: int | None = None

    kind: ClassVar[str] = "int"

    def __post_init__(self) -> None:
        low, high = _as_int("Int", "low", self.low), _as_int("Int", "high", self.high)
        _check_bounds("Int", self.low, self.high, self.log)
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)
        object.__setattr__(self, "log", bool(self.log))
        if self.default is not None:
            d = to_python(self.default)
            ok = is_real(d) and not isinstance(d, bool) and d == int(d) and low <= d <= high
            if not ok:
                raise ValueError(
                    f"Int({low!r}, {high!r}): default must be an integer in "
                    f"{self._bounds_text()}, got default={d!r}"
                )
            object.__setattr__(self, "default", int(d))

    def __repr__(self) -> str:
        extra = ", log=True" if self.log else ""
        extra += f", default={self.default!r}" if self.default is not None else ""
        return f"Int({self.low!r}, {self.high!r}{extra})"

    @property
    def default_value(self) -> int:
        if self.default is not None:
            return self.default
        if self.log:
            mid = math.floor(math.sqrt(self.low) * math.sqrt(self.high) + 0.5)
        else:
            mid = (self.low + self.high + 1) // 2
        return int(min(max(mid, self.low), self.high))

    @property
    def size(self) -> float:
        return float(self.high - self.low + 1)

    def validate_value(self, value: Any, name: str) -> int:
        v = to_python(value)
        if isinstance(v, bool) or not is_real(v) or not math.isfinite(v) or v != int(v):
            raise ValueError(
                f"parameter {name!r} must be an integer in {self._bounds_text()}, got {value!r}"
            )
        if not self.low <= v <= self.high:
            raise ValueError(f"parameter {name!r} must be in {self._bounds_text()}, got {value!r}")
        return int(v)

    def _edges(self) -> tuple[float, float]:
        a, b = self.low - 0.5, self.high + 0.5
        return (math.log(a), math.log(b)) if self.log else (a, b)

    def sample_codes(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.unit_to_codes(rng.random(n))

    def codes_to_values(self, codes: np.ndarray) -> list[Any]:
        return np.asarray(codes, dtype=np.int64).tolist()

    def value_to_code(self, value: Any) -> int:
        return int(value)

    def values_to_codes(self, values: Sequence[Any], name: str) -> np.ndarray:
        arr = _fast_array(values)
        if (
            arr is None
            or not np.all((arr >= self.low) & (arr <= self.high))
            or not np.all(arr == np.floor(arr))
        ):
            arr = super().values_to_codes(values, name)  # raises, naming the bad value
        return np.asarray(arr).astype(np.int64).reshape(-1)

    def codes_to_unit(self, codes: np.ndarray) -> np.ndarray:
        x = np.asarray(codes, dtype=float)
        a, b = self._edges()
        if self.log:
            x = np.log(x)
        return (x - a) / (b - a)

    def unit_to_codes(self, unit: np.ndarray) -> np.ndarray:
        u = np.clip(np.asarray(unit, dtype=float), 0.0, 1.0)
        a, b = self._edges()
        x = a + u * (b - a)
        if self.log:
            x = np.exp(x)
        return np.clip(np.floor(x + 0.5), self.low, self.high).astype(np.int64)

    def _step_aside(self, code: Any, rng: np.random.Generator) -> Any:
        step = 1 if rng.random() < 0.5 else -1
        if not self.low <= code + step <= self.high:
            step = -step
        return code + step if self.low <= code + step <= self.high else code

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "low": self.low,
            "high": self.high,
            "log": self.log,
            "default": self.default,
        }
