"""Synthetic test problems (minimized, known optimum) for the BO quality benchmarks.

Each :class:`Problem` has a hyperhive space, an objective on hyperhive
configurations (a dict), its known minimum ``f_star``, and a neutral description
of its parameters (:attr:`Problem.params`) from which the peers' spaces are
built (Optuna's define-by-run ``suggest_*``, DeepHyper's ``HpProblem``).

Single objective: Branin (2-D), Hartmann6 (6-D), Ackley (10-D on
[-32.768, 32.768]), Rosenbrock (10-D on [-5, 10]) and ``mixed``, a mixed space
with a conditional parameter (below). Multi-objective (two objectives): ZDT1
(30-D) and DTLZ2 (11-D, k = 10), in :data:`MO_PROBLEMS`.

``mixed`` (f* = 0): floats ``x0, x1`` on [0, 1] (a rescaled Branin), an integer
``n`` in 1..32, a categorical ``model`` in {"linear", "tree", "net", "knn"} and a
float ``lr`` on [1e-4, 1] (log scale) active only when ``model == "net"``::

    f = (branin(15 x0 - 5, 15 x1) - 0.397887) / 50 + ((n - 21) / 16) ** 2 + g(model, lr)
    g = 0.5 ("linear"), 0.25 ("tree"), 0.75 ("knn"),
        "net": min(1, (log10(lr) + 2.5) ** 2 / 2)       # 0 at lr = 10**-2.5

so the optimum is ``model="net", lr=10**-2.5, n=21`` and one of Branin's three
minimizers, and a search that does not tune the conditional ``lr`` does better
with ``model="tree"``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from common import HARTMANN6_MIN, hartmann6

from hyperhive.space import Categorical, Float, Int, Space

BRANIN_MIN = 0.397887357729738


@dataclass(frozen=True)
class Param:
    """A parameter, neutral of frameworks: ``kind`` is ``"float"``, ``"int"``, ``"cat"``."""

    name: str
    kind: str
    low: float = 0.0
    high: float = 1.0
    log: bool = False
    choices: tuple[Any, ...] = ()
    #: ``(parent, value)``: active only when ``config[parent] == value``.
    condition: tuple[str, Any] | None = None


@dataclass(frozen=True)
class Problem:
    name: str
    params: tuple[Param, ...]
    fn: Callable[[Mapping[str, Any]], Any]
    f_star: float = 0.0
    #: Objectives (1 for the quality problems, 2 for :data:`MO_PROBLEMS`).
    n_obj: int = 1
    #: Reference point of the hypervolume (multi-objective problems).
    ref: tuple[float, ...] = field(default=())

    @property
    def space(self) -> Space:
        out: dict[str, Any] = {}
        for p in self.params:
            if p.kind == "float":
                out[p.name] = Float(p.low, p.high, log=p.log)
            elif p.kind == "int":
                out[p.name] = Int(int(p.low), int(p.high), log=p.log)
            else:
                out[p.name] = Categorical(list(p.choices))
        space = Space(out)
        for p in self.params:
            if p.condition is not None:
                space = space.condition(p.name, on=p.condition[0], equals=p.condition[1])
        return space

    def __call__(self, config: Mapping[str, Any]) -> Any:
        return self.fn(config)


# -- single objective -----------------------------------------------------------------


def branin(x1: float, x2: float) -> float:
    """Branin on [-5, 10] x [0, 15] (minimum 0.397887 at three points)."""
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def ackley(x: Sequence[float]) -> float:
    """Ackley (minimum 0 at the origin)."""
    a = np.asarray(x, dtype=float)
    d = len(a)
    return float(
        -20 * math.exp(-0.2 * math.sqrt(float(np.sum(a**2)) / d))
        - math.exp(float(np.sum(np.cos(2 * math.pi * a))) / d)
        + 20
        + math.e
    )


def rosenbrock(x: Sequence[float]) -> float:
    """Rosenbrock (minimum 0 at (1, ..., 1))."""
    a = np.asarray(x, dtype=float)
    return float(np.sum(100 * (a[1:] - a[:-1] ** 2) ** 2 + (1 - a[:-1]) ** 2))


def _vec(config: Mapping[str, Any], d: int) -> list[float]:
    return [float(config[f"x{i}"]) for i in range(d)]


def _floats(d: int, low: float, high: float) -> tuple[Param, ...]:
    return tuple(Param(f"x{i}", "float", low, high) for i in range(d))


_MIXED_COST = {"linear": 0.5, "tree": 0.25, "knn": 0.75}


def mixed(config: Mapping[str, Any]) -> float:
    """The ``mixed`` problem (see the module docstring); f* = 0."""
    base = (branin(15 * config["x0"] - 5, 15 * config["x1"]) - BRANIN_MIN) / 50
    base += ((int(config["n"]) - 21) / 16) ** 2
    model = config["model"]
    if model == "net":
        return base + min(1.0, (math.log10(float(config["lr"])) + 2.5) ** 2 / 2)
    return base + _MIXED_COST[model]


PROBLEMS: dict[str, Problem] = {
    "branin": Problem(
        "branin",
        (Param("x0", "float", -5, 10), Param("x1", "float", 0, 15)),
        lambda c: branin(c["x0"], c["x1"]),
        BRANIN_MIN,
    ),
    "hartmann6": Problem(
        "hartmann6", _floats(6, 0, 1), lambda c: hartmann6(_vec(c, 6)), HARTMANN6_MIN
    ),
    "ackley10": Problem(
        "ackley10", _floats(10, -32.768, 32.768), lambda c: ackley(_vec(c, 10)), 0.0
    ),
    "rosenbrock10": Problem(
        "rosenbrock10", _floats(10, -5, 10), lambda c: rosenbrock(_vec(c, 10)), 0.0
    ),
    "mixed": Problem(
        "mixed",
        (
            Param("x0", "float", 0, 1),
            Param("x1", "float", 0, 1),
            Param("n", "int", 1, 32),
            Param("model", "cat", choices=("linear", "tree", "net", "knn")),
            Param("lr", "float", 1e-4, 1.0, log=True, condition=("model", "net")),
        ),
        mixed,
        0.0,
    ),
}


# -- multi-objective ------------------------------------------------------------------


def zdt1(x: Sequence[float]) -> tuple[float, float]:
    """ZDT1 on [0, 1]^n; Pareto front f2 = 1 - sqrt(f1) (at x1..x_{n-1} = 0)."""
    a = np.asarray(x, dtype=float)
    f1 = float(a[0])
    g = 1 + 9 * float(np.sum(a[1:])) / (len(a) - 1)
    return f1, g * (1 - math.sqrt(f1 / g))


def dtlz2(x: Sequence[float], m: int = 2) -> tuple[float, ...]:
    """DTLZ2 on [0, 1]^n with ``m`` objectives; front: the unit sphere's positive part."""
    a = np.asarray(x, dtype=float)
    g = float(np.sum((a[m - 1 :] - 0.5) ** 2))
    out = []
    for i in range(m):
        f = 1 + g
        for j in range(m - 1 - i):
            f *= math.cos(a[j] * math.pi / 2)
        if i > 0:
            f *= math.sin(a[m - 1 - i] * math.pi / 2)
        out.append(f)
    return tuple(out)


#: Reference points: ZDT1 (1.1, 11) (its random points reach f2 ~ 7), DTLZ2 (1.1, 1.1).
MO_PROBLEMS: dict[str, Problem] = {
    "zdt1": Problem(
        "zdt1", _floats(30, 0, 1), lambda c: zdt1(_vec(c, 30)), n_obj=2, ref=(1.1, 11.0)
    ),
    "dtlz2": Problem(
        "dtlz2", _floats(11, 0, 1), lambda c: dtlz2(_vec(c, 11)), n_obj=2, ref=(1.1, 1.1)
    ),
}


def front(name: str, n: int = 10_001) -> np.ndarray:
    """A dense sample of the true Pareto front of a multi-objective problem."""
    t = np.linspace(0.0, 1.0, n)
    if name == "zdt1":
        return np.column_stack([t, 1 - np.sqrt(t)])
    if name == "dtlz2":
        return np.column_stack([np.cos(t * np.pi / 2), np.sin(t * np.pi / 2)])
    raise ValueError(name)
