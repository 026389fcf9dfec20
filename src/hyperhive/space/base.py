"""The parameter base class :class:`Param` and helpers shared by the parameter types.

Every parameter is an immutable value object. Besides describing its domain it
knows three representations of its values, used by :class:`~hyperhive.space.Space`
to work on many configurations at once with numpy:

* **values**: plain Python values, as they appear in configurations;
* **codes**: a numpy array per parameter, float64 values for :class:`Float`,
  int64 values for :class:`Int`, int64 indices into the domain for
  :class:`Categorical` and :class:`Ordinal`, zeros for :class:`Constant`;
* **unit**: floats in ``[0, 1]`` (see :meth:`Param.codes_to_unit`).
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

from hyperhive.space.values import value_key

Predicate = Callable[[np.ndarray], np.ndarray]


class Param(abc.ABC):
    """Base class of the parameter types."""

    kind: ClassVar[str] = ""

    # -- values ------------------------------------------------------------------
    @property
    @abc.abstractmethod
    def default_value(self) -> Any:
        """The effective default: the given ``default``, else the type's natural choice."""

    @property
    @abc.abstractmethod
    def size(self) -> float:
        """Number of distinct values (``inf`` for a continuous range)."""

    @abc.abstractmethod
    def validate_value(self, value: Any, name: str) -> Any:
        """Return ``value`` as a plain Python value of the domain, or raise ValueError."""

    def contains(self, value: Any) -> bool:
        """True when ``value`` belongs to the domain."""
        try:
            self.validate_value(value, "?")
        except (ValueError, TypeError):
            return False
        return True

    # -- vectorized representations ------------------------------------------------
    @abc.abstractmethod
    def sample_codes(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draw ``n`` codes from the parameter's prior (uniform, or log-uniform)."""

    @abc.abstractmethod
    def codes_to_values(self, codes: np.ndarray) -> list[Any]:
        """Plain Python values for an array of codes."""

    @abc.abstractmethod
    def value_to_code(self, value: Any) -> float | int:
        """The code of one (already validated) value."""

    @abc.abstractmethod
    def codes_to_unit(self, codes: np.ndarray) -> np.ndarray:
        """Positions in ``[0, 1]`` of an array of codes."""

    @abc.abstractmethod
    def unit_to_codes(self, unit: np.ndarray) -> np.ndarray:
        """Codes for positions in ``[0, 1]`` (clipped first; no NaN allowed)."""

    def values_to_codes(self, values: Sequence[Any], name: str) -> np.ndarray:
        """Codes of raw values, validating each one (ValueError names the first bad one)."""
        return np.array([self.value_to_code(self.validate_value(v, name)) for v in values])

    @property
    def default_code(self) -> float | int:
        """The code of :attr:`default_value`."""
        return self.value_to_code(self.default_value)

    def neighbour_code(self, code: Any, rng: np.random.Generator, sigma: float) -> Any:
        """A code near ``code`` and different from it (used by ``Space.mutate``)."""
        u = float(self.codes_to_unit(np.array([code]))[0])
        for _ in range(16):
            step = _reflect(u + sigma * rng.standard_normal())
            new = self.unit_to_codes(np.array([step]))[0]
            if new != code:
                return new
        return self._step_aside(code, rng)

    def _step_aside(self, code: Any, rng: np.random.Generator) -> Any:
        return code

    # -- clauses -------------------------------------------------------------------
    @abc.abstractmethod
    def canonical_target(self, op: str, value: Any, name: str) -> Any:
        """Check the right-hand side of a clause ``name op value`` and normalize it."""

    @abc.abstractmethod
    def compile(self, op: str, target: Any) -> Predicate:
        """A vectorized predicate on codes for ``op target`` (target from canonical_target)."""

    # -- serialization -------------------------------------------------------------
    @abc.abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (``{"type": ..., ...}``)."""


def _reflect(u: float) -> float:
    """Fold a real number into ``[0, 1]`` by reflection at the bounds."""
    u = abs(u) % 2.0
    return 2.0 - u if u > 1.0 else u


def canonical_in(param: Param, value: Any, name: str) -> tuple[Any, ...]:
    """Validated, de-duplicated values of an ``in`` clause (a list, tuple or set)."""
    if isinstance(value, str | bytes) or not isinstance(value, Sequence | set | frozenset):
        raise ValueError(
            f"parameter {name!r}: 'in' needs a list, tuple or set of values, got {value!r}"
        )
    items = [param.validate_value(v, name) for v in value]
    if not items:
        raise ValueError(f"parameter {name!r}: 'in' needs at least one value, got {value!r}")
    out: dict[Any, Any] = {}
    for v in items:
        out.setdefault(value_key(v), v)
    return tuple(out.values())
