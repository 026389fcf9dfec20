"""Quasi-random designs (scrambled Sobol or Halton, Latin hypercube), then another optimizer."""

from __future__ import annotations

import math
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import numpy as np

from hyperhive.optimizers._sampling import config_key, keys_of, sample_unique
from hyperhive.optimizers.base import Optimizer
from hyperhive.streams import Stream
from hyperhive.trial import Trial, TrialStatus

if TYPE_CHECKING:  # scipy.stats is slow to import: loaded on first use
    from scipy.stats import qmc

METHODS = ("sobol", "halton", "lhs")

#: Digits of the scrambled Halton points: enough for 2^-30 resolution in any base.
_HALTON_BITS = 30


def default_design_size(dim: int) -> int:
    """The default number of design points: the smallest power of two >= max(8, 2 * dim).

    A power of two keeps the balance properties of Sobol points; twice the
    dimension gives every parameter a few distinct levels before a model-based
    optimizer takes over.
    """
    return 1 << math.ceil(math.log2(max(8, 2 * dim)))


def _primes(n: int) -> np.ndarray:
    """The first ``n`` prime numbers."""
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    limit = max(8, int(n * (math.log(n + 1) + math.log(math.log(n + 2)) + 2)))
    sieve = np.ones(limit + 1, dtype=bool)
    sieve[:2] = False
    for p in range(2, math.isqrt(limit) + 1):
        if sieve[p]:
            sieve[p * p :: p] = False
    return np.flatnonzero(sieve)[:n].astype(np.int64)


def scrambled_halton(start: int, stop: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    """Points ``start`` to ``stop - 1`` of a scrambled Halton sequence in ``[0, 1)^dim``.

    Coordinate ``j`` is the radical inverse of the point's index in the
    ``j``-th prime base, each digit position of each coordinate mapped through
    its own random permutation of the digits (random digit scrambling, which
    removes the correlations between the large bases of plain Halton points).
    The permutations are drawn from ``rng`` alone, so a point is a function of
    ``rng``'s seed and its index. NumPy only: unlike SciPy's QMC engines it
    does not import ``scipy.stats`` (about a second), which keeps the first
    proposals of a search immediate.
    """
    n = max(stop - start, 0)
    out = np.empty((n, dim))
    idx = np.arange(start, stop, dtype=np.int64)
    for j, base in enumerate(_primes(dim)):
        b = int(base)
        digits = math.ceil(_HALTON_BITS / math.log2(b))
        perms = np.argsort(rng.random((digits, b)), axis=1)
        value = np.zeros(n)
        rest = idx.copy()
        scale = 1.0
        for k in range(digits):
            scale /= b
            value += perms[k][rest % b] * scale
            rest //= b
        out[:, j] = value
    return out


_EngineT = TypeVar("_EngineT", "qmc.Sobol", "qmc.LatinHypercube")


def _engine(cls: type[_EngineT], dim: int, rng: np.random.Generator) -> _EngineT:
    """Build a scrambled scipy QMC engine, whichever seed keyword scipy uses."""
    try:
        return cls(dim, scramble=True, rng=rng)
    except TypeError:  # scipy < 1.15 names it ``seed``
        return cls(dim, scramble=True, seed=rng)


class QMC(Optimizer):
    """A quasi-random design over the unit cube of the space, then another optimizer.

    The design fills ``[0, 1]^d`` more evenly than independent draws and is
    mapped to configurations with ``space.from_unit`` (inactive conditional
    parameters are dropped). A design point that lands on a forbidden
    combination, or repeats a configuration already told, pending or in the
    batch, is replaced by a random configuration drawn from a generator seeded
    by the seed and the point's index. After ``n_points`` configurations the
    asks go to ``then`` (told every trial from the start).

    Replay: the ``i``-th configuration of the search (``i`` counts told and
    pending trials, see :meth:`Optimizer.position`) is the ``i``-th design
    point, a pure function of the seed, so an optimizer rebuilt by replaying the
    finished trials continues the same sequence.

    Args:
        seed: Seed of the scrambling and of the replacements; None for a fresh one.
        method: ``"sobol"`` (scrambled Sobol sequence), ``"halton"`` (scrambled
            Halton sequence, computed without SciPy: see
            :func:`scrambled_halton`) or ``"lhs"`` (Latin
            hypercube; beyond ``n_points`` with ``then=None``, new independent
            hypercubes of the same size follow).
        n_points: Size of the design; default :func:`default_design_size` of the
            number of parameters that are not constants.
        then: Registry name or instance of the optimizer used after the design,
            or None to keep drawing from the quasi-random sequence. It is set up
            with a seed derived from this optimizer's, replacing its own.

    Raises:
        ValueError: On an unknown ``method`` or ``then`` name, or ``n_points < 1``.
    """

    name: ClassVar[str] = "qmc"
    replay_deterministic = True

    def __init__(
        self,
        seed: int | None = None,
        method: str = "sobol",
        n_points: int | None = None,
        then: str | Optimizer | None = "random",
    ) -> None:
        super().__init__(seed)
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got method={method!r}")
        if n_points is not None and (
            isinstance(n_points, bool) or not isinstance(n_points, int) or n_points < 1
        ):
            raise ValueError(f"n_points must be a positive integer or None, got {n_points!r}")
        if isinstance(then, str):
            from hyperhive.optimizers.registry import optimizer_class

            optimizer_class(then)  # fails early on an unknown name
        elif then is not None and not isinstance(then, Optimizer):
            raise TypeError(
                f"then must be an optimizer name, an Optimizer or None, got {type(then).__name__}"
            )
        self.method = method
        self.n_points = n_points
        self.then = then
        self._then: Optimizer | None = None

    # -- state -------------------------------------------------------------------
    def _setup(self) -> None:
        space = self.space
        if space is None:  # pragma: no cover - setup() binds it first
            raise RuntimeError("QMC._setup() without a space")
        self.dim = len(space.names)
        varying = sum(kind != "constant" for kind in space.kinds)
        self.design_size = self.n_points or default_design_size(varying)
        self._seen: set[Hashable] = set()
        self._sobol: np.ndarray | None = None
        self._lhs: dict[int, np.ndarray] = {}
        self._then = None
        if self.then is not None:
            from hyperhive.optimizers.registry import get_optimizer

            then_seed = int(self.derive_rng(Stream.QMC_THEN).integers(2**63 - 1))
            self._then = get_optimizer(self.then)
            self._then.setup(space, self.directions, seed=then_seed)

    def _tell(self, trials: list[Trial]) -> None:
        self._seen.update(config_key(t.config) for t in trials)
        if self._then is not None:
            self._then.tell(trials)

    # -- design ------------------------------------------------------------------
    def design(self, start: int, stop: int) -> np.ndarray:
        """Design points ``start`` to ``stop - 1`` as a ``(stop - start, d)`` array in [0, 1]."""
        if stop <= start:
            return np.empty((0, self.dim))
        if self.method == "halton":
            return scrambled_halton(start, stop, self.dim, self.derive_rng(Stream.QMC_DESIGN))
        from scipy.stats import qmc

        if self.method == "sobol":
            if self._sobol is None or len(self._sobol) < stop:
                m = math.ceil(math.log2(max(stop, self.design_size, 2)))
                sobol = _engine(qmc.Sobol, self.dim, self.derive_rng(Stream.QMC_DESIGN))
                self._sobol = sobol.random_base2(m)
            return self._sobol[start:stop]
        size = self.design_size
        rows = []
        for i in range(start, stop):
            block = i // size
            if block not in self._lhs:
                lhs = _engine(
                    qmc.LatinHypercube, self.dim, self.derive_rng(Stream.QMC_DESIGN, block)
                )
                self._lhs = {block: lhs.random(size)}  # keep only the block in use
            rows.append(self._lhs[block][i % size])
        return np.asarray(rows)

    # -- asking ------------------------------------------------------------------
    def _ask(self, n: int, pending: list[Trial]) -> list[dict[str, Any]]:
        space = self.space
        if space is None:  # pragma: no cover - ask() checks it first
            raise RuntimeError("QMC used before setup()")
        start = self.position(pending)
        n_design = n if self._then is None else max(0, min(n, self.design_size - start))
        taken = keys_of(t.config for t in pending)
        out: list[dict[str, Any]] = []
        if n_design and self.dim == 0:
            out = sample_unique(space, n_design, self.rng, self._seen, taken)
        elif n_design:
            configs = space.from_unit(self.design(start, start + n_design))
            for i, config in enumerate(configs, start=start):
                key = config_key(config)
                if key in self._seen or key in taken or not space.is_valid(config):
                    rng = self.derive_rng(Stream.QMC_REPAIR, i)
                    config = sample_unique(space, 1, rng, self._seen, taken)[0]
                else:
                    taken.add(key)
                out.append(config)
        if n > n_design and self._then is not None:
            running = [
                Trial(id=-1 - j, config=c, status=TrialStatus.RUNNING) for j, c in enumerate(out)
            ]
            out.extend(self._then.ask(n - n_design, pending + running))
        return out

    def settings(self) -> dict[str, Any]:
        """JSON description: seed, method, design size and the follow-up optimizer."""
        then: Any = self.then
        if isinstance(then, Optimizer):  # seeded by this optimizer: its own seed is moot
            then = {k: v for k, v in then.settings().items() if k != "seed"}
        return {
            **super().settings(),
            "method": self.method,
            "n_points": self.n_points,
            "then": then,
        }
