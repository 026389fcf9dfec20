"""Parameters with a finite domain: :class:`Categorical`, :class:`Ordinal`, :class:`Constant`."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from hyperhive.space.base import Param, Predicate, canonical_in
from hyperhive.space.values import (
    RELATION_OPS,
    check_choice,
    compare,
    fmt_list,
    to_python,
    value_key,
)


class _Finite(Param):
    """A parameter with a finite list of values; codes are indices into :attr:`domain`."""

    # Set by _finish() (the subclasses declare them as dataclass fields outside init,
    # eq, hash and repr): value key -> index, the values as an object array, and
    # (type, value) -> index for the common case of hashable plain values.
    _lookup: dict[Any, int]
    _objects: np.ndarray
    _fast: dict[Any, int]

    @property
    @abc.abstractmethod
    def domain(self) -> tuple[Any, ...]:
        """The values, in order."""

    @property
    def size(self) -> float:
        return float(len(self.domain))

    def _domain_text(self) -> str:
        return fmt_list(self.domain)

    def validate_value(self, value: Any, name: str) -> Any:
        try:
            i = self._lookup[value_key(value)]
        except (KeyError, TypeError):
            raise ValueError(
                f"parameter {name!r} must be one of {self._domain_text()}, got {value!r}"
            ) from None
        return self.domain[i]

    def sample_codes(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.integers(0, len(self.domain), n, dtype=np.int64)

    def codes_to_values(self, codes: np.ndarray) -> list[Any]:
        return self._objects[np.asarray(codes, dtype=np.int64)].tolist()

    def value_to_code(self, value: Any) -> int:
        return self._lookup[value_key(value)]

    def values_to_codes(self, values: Sequence[Any], name: str) -> np.ndarray:
        fast = self._fast
        try:
            return np.array([fast[(v.__class__, v)] for v in values], dtype=np.int64)
        except (KeyError, TypeError):
            pass
        lookup = self._lookup
        try:
            return np.array([lookup[value_key(v)] for v in values], dtype=np.int64)
        except (KeyError, TypeError):
            for v in values:
                self.validate_value(v, name)
            raise

    def codes_to_unit(self, codes: np.ndarray) -> np.ndarray:
        k = len(self.domain)
        codes = np.asarray(codes, dtype=float)
        return np.full(codes.shape, 0.5) if k == 1 else codes / (k - 1)

    def unit_to_codes(self, unit: np.ndarray) -> np.ndarray:
        k = len(self.domain)
        u = np.clip(np.asarray(unit, dtype=float), 0.0, 1.0)
        return np.clip(np.rint(u * (k - 1)), 0, k - 1).astype(np.int64)

    def canonical_target(self, op: str, value: Any, name: str) -> Any:
        if op == "eq":
            return self.validate_value(value, name)
        if op == "in":
            keys = {value_key(v) for v in canonical_in(self, value, name)}
            return tuple(v for v in self.domain if value_key(v) in keys)
        if op in RELATION_OPS:
            value = to_python(value)
            self._relation_mask(op, value, name)
            return value
        raise ValueError(f"unknown operator {op!r}")

    def _relation_mask(self, op: str, value: Any, name: str) -> np.ndarray:
        out = []
        for v in self.domain:
            try:
                out.append(compare(op, v, value))
            except TypeError:
                raise ValueError(
                    f"parameter {name!r}: {op}({value!r}) cannot be compared with its value {v!r}"
                ) from None
        return np.array(out, dtype=bool)

    def mask(self, op: str, target: Any) -> np.ndarray:
        """Boolean mask over :attr:`domain` of the values satisfying ``op target``."""
        if op == "eq":
            keys = {value_key(target)}
        elif op == "in":
            keys = {value_key(v) for v in target}
        else:
            return self._relation_mask(op, target, "?")
        return np.array([value_key(v) in keys for v in self.domain], dtype=bool)

    def compile(self, op: str, target: Any) -> Predicate:
        m = self.mask(op, target)
        return lambda codes: m[codes]

    def _finish(self, label: str, values: Any, default: Any) -> tuple[tuple[Any, ...], Any]:
        if isinstance(values, str | bytes) or not isinstance(values, Sequence | set | frozenset):
            raise TypeError(f"{label} needs a list of values, got {values!r}")
        items = tuple(check_choice(label, v) for v in values)
        if not items:
            raise ValueError(f"{label} needs at least one value, got an empty list")
        lookup: dict[Any, int] = {}
        for i, v in enumerate(items):
            key = value_key(v)
            if key in lookup:
                raise ValueError(f"{label}: values must be unique, got {v!r} twice in {items!r}")
            lookup[key] = i
        objects = np.empty(len(items), dtype=object)
        objects[:] = list(items)
        object.__setattr__(self, "_lookup", lookup)
        object.__setattr__(self, "_fast", {(v.__class__, v): i for i, v in enumerate(items)})
        object.__setattr__(self, "_objects", objects)
        if default is not None:
            if value_key(default) not in lookup:
                raise ValueError(
                    f"{label}: default must be one of {fmt_list(items)}, got default={default!r}"
                )
            default = items[lookup[value_key(default)]]
        return items, default


@dataclass(frozen=True, eq=True, repr=False, init=False)
class Categorical(_Finite):
    """One of an unordered list of choices (str, int, float, bool or None).

    Args:
        choices: the possible values (unique; ``1`` and ``1.0`` count as the same,
            ``True`` and ``1`` do not).
        default: the default choice; None means the first one.

    Unit encoding: ``index / (k - 1)`` (0.5 for a single choice); see
    :meth:`~hyperhive.space.Space.encode` for one-hot features.
    """

    choices: tuple[Any, ...]
    default: Any = None
    _lookup: dict[Any, int] = field(init=False, repr=False, compare=False, hash=False)
    _objects: np.ndarray = field(init=False, repr=False, compare=False, hash=False)
    _fast: dict[Any, int] = field(init=False, repr=False, compare=False, hash=False)

    kind: ClassVar[str] = "categorical"

    def __init__(self, choices: Sequence[Any] | AbstractSet[Any], default: Any = None) -> None:
        items, default = self._finish("Categorical(choices)", choices, default)
        object.__setattr__(self, "choices", items)
        object.__setattr__(self, "default", default)

    def __repr__(self) -> str:
        extra = f", default={self.default!r}" if self.default is not None else ""
        return f"Categorical({list(self.choices)!r}{extra})"

    @property
    def domain(self) -> tuple[Any, ...]:
        return self.choices

    @property
    def default_value(self) -> Any:
        return self.choices[0] if self.default is None else self.default

    def neighbour_code(self, code: Any, rng: np.random.Generator, sigma: float) -> Any:
        k = len(self.choices)
        if k == 1:
            return code
        j = int(rng.integers(0, k - 1))
        return j + 1 if j >= code else j

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.kind, "choices": list(self.choices), "default": self.default}


@dataclass(frozen=True, eq=True, repr=False, init=False)
class Ordinal(_Finite):
    """One of an ordered sequence of values (str, int, float, bool or None).

    Args:
        sequence: the values, in order (unique).
        default: the default value; None means the middle element (index ``(k - 1) // 2``).

    Relations (``gt``, ``ge``, ``lt``, ``le``) follow the sequence order when the value
    compared with is in the sequence, else compare values directly.

    Unit encoding: ``index / (k - 1)`` (0.5 for a single value).
    """

    sequence: tuple[Any, ...]
    default: Any = None
    _lookup: dict[Any, int] = field(init=False, repr=False, compare=False, hash=False)
    _objects: np.ndarray = field(init=False, repr=False, compare=False, hash=False)
    _fast: dict[Any, int] = field(init=False, repr=False, compare=False, hash=False)

    kind: ClassVar[str] = "ordinal"

    def __init__(self, sequence: Sequence[Any] | AbstractSet[Any], default: Any = None) -> None:
        items, default = self._finish("Ordinal(sequence)", sequence, default)
        object.__setattr__(self, "sequence", items)
        object.__setattr__(self, "default", default)

    def __repr__(self) -> str:
        extra = f", default={self.default!r}" if self.default is not None else ""
        return f"Ordinal({list(self.sequence)!r}{extra})"

    @property
    def domain(self) -> tuple[Any, ...]:
        return self.sequence

    @property
    def default_value(self) -> Any:
        if self.default is not None:
            return self.default
        return self.sequence[(len(self.sequence) - 1) // 2]

    def _relation_mask(self, op: str, value: Any, name: str) -> np.ndarray:
        try:
            i = self._lookup[value_key(value)]
        except (KeyError, TypeError):
            return super()._relation_mask(op, value, name)
        return np.array([compare(op, j, i) for j in range(len(self.sequence))], dtype=bool)

    def neighbour_code(self, code: Any, rng: np.random.Generator, sigma: float) -> Any:
        k = len(self.sequence)
        if k == 1:
            return code
        new = int(np.clip(np.rint(code + sigma * (k - 1) * rng.standard_normal()), 0, k - 1))
        if new == code:
            step = 1 if rng.random() < 0.5 else -1
            new = code + step if 0 <= code + step < k else code - step
        return new

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.kind, "sequence": list(self.sequence), "default": self.default}


@dataclass(frozen=True, eq=True, repr=False)
class Constant(_Finite):
    """A fixed value (str, int, float, bool or None), present in every configuration.

    Unit encoding: 0.5 (the column is kept so ``to_unit`` has one column per
    parameter); :meth:`~hyperhive.space.Space.encode` drops constants.
    """

    value: Any
    _lookup: dict[Any, int] = field(init=False, repr=False, compare=False, hash=False)
    _objects: np.ndarray = field(init=False, repr=False, compare=False, hash=False)
    _fast: dict[Any, int] = field(init=False, repr=False, compare=False, hash=False)

    kind: ClassVar[str] = "constant"

    def __post_init__(self) -> None:
        items, _ = self._finish("Constant(value)", [self.value], None)
        object.__setattr__(self, "value", items[0])

    def __repr__(self) -> str:
        return f"Constant({self.value!r})"

    @property
    def domain(self) -> tuple[Any, ...]:
        return (self.value,)

    @property
    def default_value(self) -> Any:
        return self.value

    def validate_value(self, value: Any, name: str) -> Any:
        if value_key_or_none(value) != value_key(self.value):
            raise ValueError(f"parameter {name!r} must be {self.value!r} (constant), got {value!r}")
        return self.value

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.kind, "value": self.value}


def value_key_or_none(value: Any) -> Any:
    """:func:`value_key`, or None for values that cannot be parameter values."""
    try:
        return value_key(value)
    except TypeError:
        return None
