"""AgEBO: aging evolution for the architecture, Bayesian optimization for the training."""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from hyperhive.optimizers._sampling import config_key, keys_of, sample_unique
from hyperhive.optimizers.base import Optimizer
from hyperhive.optimizers.evolution import RegularizedEvolution
from hyperhive.streams import Stream
from hyperhive.trial import Trial

if TYPE_CHECKING:
    from hyperhive.space import Space

#: Kinds that go to the hyperparameter optimizer by default.
HP_KINDS = ("float", "int", "ordinal")
#: Attempts to repair a combined configuration (forbidden or a repeat).
REPAIR_TRIES = 16


def split_params(
    space: Space, hp_params: Sequence[str] | None = None
) -> tuple[list[str], list[str]]:
    """Split a space's parameters into architecture and hyperparameter names.

    Args:
        space: The search space.
        hp_params: Names that go to the hyperparameter optimizer; None for every
            float, int and ordinal parameter. With the default, a conditional
            parameter follows its parents' part (a condition cannot span parts).

    Returns:
        ``(arch, hp)``: names in space order.

    Raises:
        ValueError: On an unknown name, or a condition whose child and parent
            the given ``hp_params`` put in different parts.
    """
    names = space.names
    if hp_params is None:
        hp = {n for n, k in zip(names, space.kinds, strict=True) if k in HP_KINDS}
        user = False
    else:
        hp_params = [hp_params] if isinstance(hp_params, str) else list(hp_params)
        unknown = [n for n in hp_params if n not in space]
        if unknown:
            raise ValueError(f"hp_params names unknown parameters {unknown}; known: {names}")
        hp = set(hp_params)
        user = True
    parents = {c: _parents(conds) for c, conds in space.conditions.items()}
    changed = True
    while changed:  # conditional children join their parents' part
        changed = False
        for child, ps in parents.items():
            sides = {p in hp for p in ps}
            if len(sides) > 1 or (sides and (child in hp) not in sides):
                if user or len(sides) > 1:
                    raise ValueError(
                        f"parameter {child!r} is conditional on {sorted(ps)}: a condition "
                        "cannot span the architecture and hyperparameter parts; put them "
                        "in the same part with hp_params"
                    )
                hp.symmetric_difference_update({child})
                changed = True
    return [n for n in names if n not in hp], [n for n in names if n in hp]


def subspace(space: Space, names: Sequence[str]) -> Space:
    """The space of ``names`` alone, with the conditions and forbidden clauses inside it."""
    from hyperhive.space import Space

    keep = set(names)
    data = space.to_dict()
    data["params"] = {n: p for n, p in data["params"].items() if n in keep}
    data["conditions"] = {c: v for c, v in data.get("conditions", {}).items() if c in keep}
    data["forbidden"] = [
        f for f in data.get("forbidden", []) if all(clause["name"] in keep for clause in f)
    ]
    return Space.from_dict(data)


class AgEBO(Optimizer):
    """Aging evolution for the architecture choices with BO for the hyperparameters.

    After Egele et al. (2021). The parameters are split in two parts (see
    :func:`split_params`): the architecture (by default the categorical and
    constant parameters) is searched by :class:`RegularizedEvolution`, the
    training hyperparameters (by default every float, int and ordinal, or the
    names given in ``hp_params``) by ``hp_optimizer`` (Bayesian optimization by
    default). Each proposal joins a child of the evolution with a suggestion of
    the hyperparameter optimizer; both learn from every result, each seeing its
    own part of the configurations with the full objective. A part with no
    parameters is left out. Forbidden clauses that span both parts are checked
    on the joined configuration: a forbidden or repeated one gets other
    hyperparameters (random ones), then another child.

    Replay-deterministic when the hyperparameter optimizer is (BO is).

    Args:
        seed: Seed of the search; None for a fresh one.
        hp_params: Names of the hyperparameters; None for the default split.
        population_size: Population of the evolution (default 30).
        sample_size: Tournament size of the evolution (default 10).
        n_initial: Random architectures before the first child (default
            ``population_size``).
        mutation_k: Architecture choices changed per mutation (default 1).
        hp_optimizer: Registry name or instance of the hyperparameter optimizer
            (default ``"bo"``); it is set up with a seed derived from this one.

    Raises:
        ValueError: On bad evolution settings or an unknown optimizer name.
    """

    name: ClassVar[str] = "agebo"
    replay_deterministic = True
    ask_ahead: ClassVar[bool] = True

    def __init__(
        self,
        seed: int | None = None,
        hp_params: Sequence[str] | None = None,
        population_size: int = 30,
        sample_size: int = 10,
        n_initial: int | None = None,
        mutation_k: int = 1,
        hp_optimizer: str | Optimizer = "bo",
    ) -> None:
        super().__init__(seed)
        # Fails early on bad sizes; the instance used is built in _setup.
        RegularizedEvolution(None, population_size, sample_size, n_initial, mutation_k)
        if isinstance(hp_optimizer, str):
            from hyperhive.optimizers.registry import optimizer_class

            hp_cls = optimizer_class(hp_optimizer)  # fails early on an unknown name
        elif isinstance(hp_optimizer, Optimizer):
            hp_cls = type(hp_optimizer)
        else:
            raise TypeError(
                f"hp_optimizer must be a name or an Optimizer, got {type(hp_optimizer).__name__}"
            )
        self.replay_deterministic = hp_cls.replay_deterministic
        self.hp_params = None if hp_params is None else list(hp_params)
        self.population_size = population_size
        self.sample_size = sample_size
        self.n_initial = n_initial
        self.mutation_k = mutation_k
        self.hp_optimizer = hp_optimizer
        self.evolution: RegularizedEvolution | None = None
        self.hp: Optimizer | None = None

    # -- state -------------------------------------------------------------------
    def _setup(self) -> None:
        space = self.space
        if space is None:  # pragma: no cover - setup() binds it first
            raise RuntimeError("AgEBO._setup() without a space")
        from hyperhive.optimizers.registry import get_optimizer

        self.arch_names, self.hp_names = split_params(space, self.hp_params)
        self._seen: set[Hashable] = set()
        self.evolution = self.hp = None
        if self.arch_names:
            self.evolution = RegularizedEvolution(
                None, self.population_size, self.sample_size, self.n_initial, self.mutation_k
            )
            seed = int(self.derive_rng(Stream.AGEBO_EVO).integers(2**63 - 1))
            self.evolution.setup(subspace(space, self.arch_names), self.directions, seed=seed)
        if self.hp_names:
            self.hp = get_optimizer(self.hp_optimizer)
            seed = int(self.derive_rng(Stream.AGEBO_HP).integers(2**63 - 1))
            self.hp.setup(subspace(space, self.hp_names), self.directions, seed=seed)

    def prepare(self) -> None:
        """Passed on to the hyperparameter optimizer."""
        if self.hp is not None:
            self.hp.prepare()

    def set_concurrency(self, workers: int) -> None:
        """Passed on to the hyperparameter optimizer (BO refits in the background)."""
        super().set_concurrency(workers)
        if self.hp is not None:
            self.hp.set_concurrency(workers)

    @staticmethod
    def _part(trials: Sequence[Trial], names: Sequence[str]) -> list[Trial]:
        return [
            dataclasses.replace(t, config={n: t.config[n] for n in names if n in t.config})
            for t in trials
        ]

    def _tell(self, trials: list[Trial]) -> None:
        self._seen.update(config_key(t.config) for t in trials)
        if self.evolution is not None:
            self.evolution.tell(self._part(trials, self.arch_names))
        if self.hp is not None:
            self.hp.tell(self._part(trials, self.hp_names))

    # -- asking ------------------------------------------------------------------
    def _ask(self, n: int, pending: list[Trial]) -> list[dict[str, Any]]:
        space = self.space
        if space is None:  # pragma: no cover - ask() checks it first
            raise RuntimeError("AgEBO used before setup()")
        rng = self.rng
        arch: list[dict[str, Any]] = [{} for _ in range(n)]
        hp: list[dict[str, Any]] = [{} for _ in range(n)]
        if self.evolution is not None:
            arch = self.evolution.ask(n, self._part(pending, self.arch_names))
        if self.hp is not None:
            hp = self.hp.ask(n, self._part(pending, self.hp_names))
        # The parts' own spaces (set by _setup() with the parts), to redraw from.
        arch_space = self.evolution.space if self.evolution is not None else None
        hp_space = self.hp.space if self.hp is not None else None
        taken = keys_of(t.config for t in pending)
        out = []
        for a, h in zip(arch, hp, strict=True):
            config = self._join(a, h)
            for attempt in range(REPAIR_TRIES):
                key = config_key(config)
                if key not in self._seen and key not in taken and not space.is_forbidden(config):
                    break
                # Other hyperparameters first, then another architecture too.
                if hp_space is not None:
                    h = hp_space.sample(1, rng)[0]
                if arch_space is not None and (hp_space is None or attempt >= 4):
                    a = arch_space.sample(1, rng)[0]
                config = self._join(a, h)
            else:
                config = sample_unique(space, 1, rng, self._seen, taken)[0]
            taken.add(config_key(config))
            out.append(config)
        return out

    def _join(self, arch: dict[str, Any], hp: dict[str, Any]) -> dict[str, Any]:
        """One configuration in the space's parameter order."""
        both = {**arch, **hp}
        space = self.space
        names = space.names if space is not None else list(both)
        return {n: both[n] for n in names if n in both}

    def settings(self) -> dict[str, Any]:
        """JSON description: seed, the split and the settings of both searches."""
        hp: Any = self.hp_optimizer
        if isinstance(hp, Optimizer):  # seeded by this optimizer: its own seed is moot
            hp = {k: v for k, v in hp.settings().items() if k != "seed"}
        return {
            **super().settings(),
            "hp_params": self.hp_params,
            "population_size": self.population_size,
            "sample_size": self.sample_size,
            "n_initial": self.n_initial,
            "mutation_k": self.mutation_k,
            "hp_optimizer": hp,
        }


def _parents(conds: list[dict[str, Any]]) -> set[str]:
    """Parent names in conditions of the dict form of :attr:`Space.conditions`."""
    out: set[str] = set()
    stack: list[Any] = list(conds)
    while stack:
        c = stack.pop()
        if "on" in c:
            out.add(c["on"])
        for key in ("any_of", "all_of"):
            stack.extend(c.get(key, []))
    return out
