"""The :class:`Space`: named parameters, conditions and forbidden combinations."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from hyperhive.space import checks, encoding, sampling, serialization
from hyperhive.space.conditions import (
    _MISSING,
    AllOf,
    Condition,
    Forbidden,
    build_forbidden,
    condition_spec,
    parse_condition,
)
from hyperhive.space.graph import dependency_path, topological_order
from hyperhive.space.params import Param
from hyperhive.space.shortform import check_name, to_param

if TYPE_CHECKING:
    import ConfigSpace


class Space:
    """A search space: named parameters, conditions and forbidden combinations.

    Args:
        params: a mapping from names to parameters (:class:`Float`, :class:`Int`,
            :class:`Categorical`, :class:`Ordinal`, :class:`Constant`) or their short
            form (``(low, high)``, ``(low, high, "log-uniform")``, a list, a scalar);
            or a Space, which is copied with its conditions and forbidden clauses.

    Example:
        >>> from hyperhive.space import Float, Space
        >>> space = Space({"lr": Float(1e-5, 1e-1, log=True), "opt": ["adam", "sgd"],
        ...                "momentum": Float(0.0, 0.99)})
        >>> space = space.condition("momentum", on="opt", equals="sgd")
        >>> len(space.sample(3, seed=0))
        3

    A parameter whose condition does not hold is *inactive*: it is absent from the
    configuration. Clauses on an inactive parameter never hold.
    """

    def __init__(self, params: Mapping[str, Any] | Space | None = None) -> None:
        self._params: dict[str, Param] = {}
        self._conditions: dict[str, list[Condition]] = {}
        self._forbidden: list[Forbidden] = []
        self._order: list[str] | None = None
        if params is None:
            return
        if isinstance(params, Space):  # a copy
            self._conditions = {c: list(items) for c, items in params._conditions.items()}
            self._forbidden = list(params._forbidden)
            params = params.params
        if not isinstance(params, Mapping):
            raise TypeError(f"Space() takes a dict of parameters, got {type(params).__name__}")
        for name, spec in params.items():
            self._params[check_name(name)] = to_param(spec, name)

    # -- structure ---------------------------------------------------------------------
    def condition(
        self,
        child: str,
        on: str | None = None,
        equals: Any = _MISSING,
        isin: Any = None,
        any_of: Any = None,
        all_of: Any = None,
    ) -> Space:
        """Make ``child`` active only when a condition on other parameters holds.

        Args:
            child: the conditional parameter.
            on: the parent parameter (with ``equals`` or ``isin``).
            equals: ``child`` is active when the parent equals this value.
            isin: ``child`` is active when the parent's value is in this list.
            any_of: a list of conditions in dict form (``{"on": ..., "equals": ...}``,
                ``{"on": ..., "isin": [...]}``, nested ``{"any_of": ...}`` /
                ``{"all_of": ...}``), at least one of which must hold.
            all_of: the same, every one of which must hold (stored as separate
                conditions: a top-level ``all_of`` equals several calls).

        Several calls on the same child are ANDed. A parent that is itself inactive
        makes its clauses false.

        Returns:
            self, to chain calls.

        Raises:
            ValueError: unknown child or parent, a parent value outside its domain, a
                condition of a parameter on itself, a cycle, or a conditional Constant.
        """
        if not isinstance(child, str) or child not in self._params:
            raise ValueError(
                f"condition() on unknown parameter {child!r}; known parameters: {self.names}"
            )
        if self._params[child].kind == "constant":
            raise ValueError(
                f"Constant parameter {child!r} cannot be conditional (constants are always "
                f"present); use Categorical([{self._params[child].default_value!r}]) instead"
            )
        spec = condition_spec(on, equals, isin, any_of, all_of)
        cond = parse_condition(spec, self._params, child)
        for parent in cond.parents():
            path = dependency_path(self._conditions, parent, child)
            if path is not None:
                chain = " -> ".join(repr(p) for p in [child, *path])
                raise ValueError(
                    f"condition of {child!r} on {parent!r} would create a cycle: {chain} "
                    "(each arrow reads 'depends on')"
                )
        # canonical form: a top-level all_of is the same as several condition() calls
        parts = list(cond.items) if isinstance(cond, AllOf) else [cond]
        self._conditions.setdefault(child, []).extend(parts)
        self._order = None
        return self

    def forbid(self, clauses: Mapping[str, Any] | None = None, /, **kwargs: Any) -> Space:
        """Forbid a combination of values.

        Each keyword is a clause on one parameter: a scalar means equals, a list,
        tuple or set means "in", and :func:`gt`, :func:`ge`, :func:`lt`, :func:`le`
        compare. The clauses of one call are ANDed; several calls are ORed. Names that
        are not identifiers can be given in a dict as the positional argument.

        Example:
            >>> space.forbid(depth=8, units=gt(256))  # doctest: +SKIP

        Returns:
            self, to chain calls.

        Raises:
            ValueError: no clause, an unknown parameter, or a value outside its domain.
        """
        merged = dict(clauses or {})
        for name in kwargs:
            if name in merged:
                raise ValueError(f"forbid(): parameter {name!r} given twice")
        merged.update(kwargs)
        self._forbidden.append(build_forbidden(self._params, merged))
        return self

    def _topo_order(self) -> list[str]:
        if self._order is None:
            self._order = topological_order(self._params, self._conditions)
        return self._order

    def __or__(self, other: Any) -> Space:
        if isinstance(other, Mapping):
            other = Space(other)
        if not isinstance(other, Space):
            return NotImplemented
        for name in other._params:
            if name in self._params:
                raise ValueError(f"cannot combine spaces: parameter {name!r} is in both")
        out = Space({**self._params, **other._params})
        for src in (self, other):
            for child, conds in src._conditions.items():
                out._conditions[child] = list(conds)
            out._forbidden.extend(src._forbidden)
        return out

    def copy(self) -> Space:
        """An independent copy (parameters are immutable and shared)."""
        return Space(self)

    # -- views -------------------------------------------------------------------------
    @property
    def params(self) -> dict[str, Param]:
        """Parameters by name, in insertion order (a copy)."""
        return dict(self._params)

    @property
    def names(self) -> list[str]:
        """Parameter names, in order (the columns of :meth:`to_unit`)."""
        return list(self._params)

    @property
    def kinds(self) -> list[str]:
        """Per parameter, in :attr:`names` order: float, int, categorical, ordinal, constant."""
        return [p.kind for p in self._params.values()]

    @property
    def conditions(self) -> dict[str, list[dict[str, Any]]]:
        """Conditions per child, in the dict form accepted by :meth:`condition`."""
        return {c: [cond.to_dict() for cond in cs] for c, cs in self._conditions.items()}

    @property
    def forbidden(self) -> list[list[dict[str, Any]]]:
        """Forbidden combinations, each a list of ``{"name", "op", "value"}`` clauses."""
        return [f.to_dict() for f in self._forbidden]

    @property
    def is_conditional(self) -> bool:
        """True when some parameter has a condition."""
        return bool(self._conditions)

    @property
    def has_forbidden(self) -> bool:
        """True when some combination is forbidden."""
        return bool(self._forbidden)

    def __len__(self) -> int:
        return len(self._params)

    def __contains__(self, name: object) -> bool:
        return name in self._params

    def __iter__(self) -> Iterator[str]:
        return iter(self._params)

    def __getitem__(self, name: str) -> Param:
        try:
            return self._params[name]
        except KeyError:
            raise KeyError(f"no parameter {name!r}; known parameters: {self.names}") from None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Space):
            return NotImplemented
        return serialization.canonical(self) == serialization.canonical(other)

    __hash__ = None  # type: ignore[assignment]  # mutable (condition/forbid)

    def __reduce__(self) -> tuple[Any, tuple[dict[str, Any]]]:
        # compiled clauses hold closures: pickle the JSON description instead
        return (serialization.space_from_dict, (self.to_dict(),))

    def __repr__(self) -> str:
        lines = [f"    {name!r}: {p!r}," for name, p in self._params.items()]
        out = "Space({\n" + "\n".join(lines) + "\n})" if lines else "Space({})"
        for child, conds in self._conditions.items():
            for cond in conds:
                kwargs = ", ".join(f"{k}={v!r}" for k, v in cond.to_dict().items())
                out += f"\n  .condition({child!r}, {kwargs})"
        for f in self._forbidden:
            out += f"\n  .{f}"
        return out

    # -- sampling ----------------------------------------------------------------------
    def sample(self, n: int, seed: int | np.random.Generator | None = None) -> list[dict[str, Any]]:
        """Draw ``n`` random configurations (uniform, log-uniform on log scales).

        Vectorized with numpy; forbidden combinations are rejected and redrawn.

        Args:
            n: how many configurations.
            seed: an int or numpy Generator for reproducible draws (a Generator is
                advanced), None for fresh entropy.

        Returns:
            Dicts of plain Python values holding the active parameters, in order.

        Raises:
            RuntimeError: the forbidden region leaves (almost) nothing to sample.
        """
        return sampling.sample(self, n, seed)

    def default(self) -> dict[str, Any]:
        """The default configuration (each parameter's default; inactive ones left out).

        Raises:
            ValueError: the default configuration is forbidden.
        """
        return checks.default(self)

    def mutate(
        self, config: Mapping[str, Any], rng: np.random.Generator, k: int = 1, sigma: float = 0.2
    ) -> dict[str, Any]:
        """A random valid, allowed neighbour of ``config``.

        ``k`` active non-constant parameters (fewer if the space has fewer that can
        change) take a new value: categoricals another choice, floats and ints a
        Gaussian step of standard deviation ``sigma`` in unit space (reflected at the
        bounds), ordinals a nearby index. Children that become active get random
        values, those that become inactive are dropped. Forbidden results are redrawn.

        Args:
            config: a valid configuration.
            rng: a numpy Generator (or a seed).
            k: how many parameters to change.
            sigma: step size in unit space for numeric and ordinal parameters.

        Returns:
            The new configuration (``config`` itself is not modified). When no
            parameter can change, a copy of ``config``.
        """
        return sampling.mutate(self, config, rng, k, sigma)

    # -- checks ------------------------------------------------------------------------
    def validate(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """Check a configuration and return it normalized.

        Normalized values are plain Python (numpy scalars converted, ``3.0`` for an
        Int becomes ``3``, a Float given ``1`` becomes ``1.0``), in parameter order.

        Raises:
            ValueError: naming the parameter, the value and the rule, for an unknown
                key, a value outside its domain, a missing active parameter, a given
                inactive parameter, or a forbidden combination.
            TypeError: ``config`` is not a mapping.
        """
        return checks.validate(self, config)

    def is_valid(self, config: Mapping[str, Any]) -> bool:
        """True when :meth:`validate` accepts ``config``."""
        try:
            checks.validate(self, config)
        except (ValueError, TypeError):
            return False
        return True

    def is_active(self, name: str, config: Mapping[str, Any]) -> bool:
        """True when ``name``'s conditions hold for the (possibly partial) ``config``.

        Keys of ``config`` that are not parameters are ignored; a missing parent
        counts as inactive.

        Raises:
            ValueError: ``name`` is not a parameter, or a value is outside its domain.
        """
        return checks.is_active(self, name, config)

    def is_forbidden(self, config: Mapping[str, Any]) -> bool:
        """True when ``config`` falls in a forbidden combination (unknown keys ignored)."""
        return checks.is_forbidden(self, config)

    # -- encodings (see hyperhive.space.encoding) ----------------------------------------
    def to_unit(self, configs: Any) -> np.ndarray:
        """Configurations as an ``(n, len(self))`` array in ``[0, 1]``, NaN when inactive.

        One column per parameter in :attr:`names` order; see :mod:`hyperhive.space.encoding`.
        """
        return encoding.to_unit(self, configs)

    def from_unit(self, unit: Any) -> list[dict[str, Any]]:
        """Configurations from points of ``[0, 1]^d`` (inverse of :meth:`to_unit`).

        Values are clipped into range, NaN means the default, inactive parameters are
        dropped. Forbidden combinations are not repaired: check :meth:`is_forbidden`.
        """
        return encoding.from_unit(self, unit)

    def encode(self, configs: Any, onehot: bool = True) -> np.ndarray:
        """Model features (see :mod:`hyperhive.space.encoding` for the conventions)."""
        return encoding.encode(self, configs, onehot)

    def decode(self, features: Any, onehot: bool = True) -> list[dict[str, Any]]:
        """Configurations from features made by :meth:`encode` (argmax for one-hot)."""
        return encoding.decode(self, features, onehot)

    @property
    def feature_names(self) -> list[str]:
        """Column names of :meth:`encode` with ``onehot=True`` (``"opt=sgd"`` for one-hot)."""
        return encoding.feature_names(self, True)

    def encoded_names(self, onehot: bool = True) -> list[str]:
        """Column names of :meth:`encode` for either ``onehot`` setting."""
        return encoding.feature_names(self, onehot)

    # -- serialization -----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description of everything (parameters, conditions, forbidden)."""
        return serialization.space_to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Space:
        """Rebuild a space from :meth:`to_dict` output."""
        return serialization.space_from_dict(data)

    def to_json(self, indent: int | None = None) -> str:
        """:meth:`to_dict` as a JSON string."""
        return serialization.to_json(self, indent)

    @classmethod
    def from_json(cls, text: str) -> Space:
        """Rebuild a space from :meth:`to_json` output."""
        return serialization.from_json(text)

    def to_configspace(self) -> ConfigSpace.ConfigurationSpace:
        """Export to ``ConfigSpace`` (see :mod:`hyperhive.space.configspace_io`)."""
        from hyperhive.space.configspace_io import to_configspace

        return to_configspace(self)

    @classmethod
    def from_configspace(cls, cs: ConfigSpace.ConfigurationSpace) -> Space:
        """Import a ``ConfigSpace.ConfigurationSpace``."""
        from hyperhive.space.configspace_io import from_configspace

        return from_configspace(cs)
