"""The optimizer contract: ``ask(n)`` and ``tell(trials)``."""

from __future__ import annotations

import abc
import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from hyperhive.streams import Stream
from hyperhive.trial import Trial, TrialStatus

if TYPE_CHECKING:
    from hyperhive.space import Space

DIRECTIONS = ("minimize", "maximize")


def normalize_directions(direction: str | Sequence[str]) -> list[str]:
    """``"minimize"``, ``"maximize"`` or a list of them -> a validated list (the one
    direction check, used by the optimizers and by every search entry point).

    Raises:
        ValueError: an empty list or an unknown direction.
    """
    items = [direction] if isinstance(direction, str) else list(direction)
    if not items:
        raise ValueError(
            "direction must name at least one objective ('minimize', 'maximize' or a "
            "non-empty list of them), got []"
        )
    for d in items:
        if d not in DIRECTIONS:
            raise ValueError(
                f"direction must be 'minimize' or 'maximize' (or a list of them), got {d!r}"
            )
    return items


logger = logging.getLogger("hyperhive")


class Optimizer(abc.ABC):
    """An ask/tell search algorithm.

    The search binds it once with :meth:`setup`, then calls :meth:`ask` for new
    configurations (told which trials are still running) and :meth:`tell` with
    trials as they finish, in the order they finished. Its state can always be
    rebuilt by replaying finished trials, so a resumed search needs no pickle.
    Given a seed and the same sequence of tells, it asks the same configurations.

    Replay determinism comes from the random streams: before each call to
    :meth:`_ask` the base class sets :attr:`rng` to a generator derived from the
    effective seed and :meth:`position` (configurations asked so far, counting
    those of told and pending trials), and before each :meth:`_tell` to one
    derived from the number of trials told. A subclass whose state depends only
    on :attr:`history` and which draws randomness only from :attr:`rng` is then
    replay-deterministic and may declare ``replay_deterministic = True``.

    Subclasses implement :meth:`_ask` and, when they learn, :meth:`_tell`.
    Objective values reach :meth:`_tell` through :attr:`history`; :meth:`losses`
    turns them into values to minimize whatever the directions.
    """

    name: ClassVar[str] = ""
    #: True when an optimizer told the same trials (in the same batches) as
    #: another with the same seed asks the same configurations, whether or not
    #: it asked anything before. The contract suite checks it when set. A class
    #: attribute, which an instance may override (AgEBO follows its part optimizer).
    replay_deterministic: bool = False
    #: True when asking is costly enough (milliseconds) that the search loop should ask
    #: for the next configuration while all workers are busy, so that a worker that
    #: frees gets one at once. False for the cheap optimizers.
    ask_ahead: ClassVar[bool] = False
    #: True when the optimizer waits for :meth:`prepare` itself (with
    #: :meth:`wait_prepared`) before the asks that need it, so that the search
    #: may ask earlier ones while the preparation still runs.
    prepares_lazily: ClassVar[bool] = False

    def __init__(self, seed: int | None = None) -> None:
        self.seed = _check_seed(seed)
        self.space: Space | None = None
        self.directions: list[str] = ["minimize"]
        self.rng = np.random.default_rng(seed)
        self.history: list[Trial] = []
        self.entropy: int = 0
        self._n_asked = 0
        self._told_ids: set[int] = set()
        self.concurrency = 1
        self._prepared: threading.Event | None = None  # set once a preparation is done

    # -- binding -----------------------------------------------------------------
    def setup(self, space: Space, directions: Sequence[str], seed: int | None = None) -> None:
        """Bind the optimizer to a space, objective directions and a seed.

        Args:
            space: The search space.
            directions: ``"minimize"`` or ``"maximize"`` for each objective.
            seed: Overrides the constructor's seed when given. With no seed at
                all, a fresh one is drawn and kept in :attr:`entropy`.

        Raises:
            ValueError: If ``directions`` is empty or holds an unknown direction.
        """
        directions = normalize_directions(directions)
        if seed is not None:
            self.seed = _check_seed(seed)
        self.space = space
        self.directions = directions
        if self.seed is None:
            self.entropy = int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> 1)
        else:
            self.entropy = int(self.seed)
        self.rng = np.random.default_rng(self.entropy)
        self.history = []
        self._n_asked = 0
        self._told_ids = set()
        self._setup()

    def prepare(self) -> None:  # noqa: B027 - optional hook
        """Slow one-time work before the first ask (imports); the default does nothing.

        The search loop runs it in a thread (:meth:`prepare_in_background`) while
        the executor starts its workers.
        """

    def prepare_in_background(self) -> None:
        """Start :meth:`prepare` in a thread; :meth:`wait_prepared` waits for it.

        A failure there is only logged: the code that needs what failed meets
        the error again.
        """
        done = self._prepared = threading.Event()

        def work() -> None:
            try:
                self.prepare()
            except Exception:  # noqa: BLE001 - e.g. a missing optional import
                logger.debug("optimizer preparation failed", exc_info=True)
            finally:
                done.set()

        threading.Thread(target=work, name="hyperhive-prepare", daemon=True).start()

    def wait_prepared(self) -> None:
        """Return once a preparation started by :meth:`prepare_in_background` is done.

        Two threads importing the same modules at once can see them half
        initialized, so a thread waits here before importing them (any number
        of threads may wait).
        """
        if self._prepared is not None:
            self._prepared.wait()

    @property
    def prepared(self) -> bool:
        """False while a preparation started by :meth:`prepare_in_background` runs."""
        return self._prepared is None or self._prepared.is_set()

    def set_concurrency(self, workers: int) -> None:
        """Told by the search how many trials run at once (after :meth:`setup`).

        The default ignores it; :class:`~hyperhive.optimizers.BO` refits its model in
        a background thread when it is more than 1.
        """
        self.concurrency = int(workers)

    def _setup(self) -> None:  # noqa: B027 - optional hook
        """Hook run after :meth:`setup`."""

    # -- the contract ------------------------------------------------------------
    def ask(self, n: int = 1, pending: Sequence[Trial] = ()) -> list[dict[str, Any]]:
        """Propose ``n`` new configurations, knowing that ``pending`` trials are running.

        Args:
            n: How many configurations to propose (0 gives an empty list).
            pending: Trials submitted but not finished, so that the proposals
                avoid them.

        Returns:
            ``n`` valid configurations of the space.
        """
        if self.space is None:
            raise RuntimeError(f"{type(self).__name__}.ask() called before setup(space, ...)")
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
            raise ValueError(f"n must be a non-negative integer, got n={n!r}")
        n = int(n)
        if n == 0:
            return []
        pending = list(pending)
        self.rng = self.derive_rng(Stream.ASK, self.position(pending))
        configs = self._ask(n, pending)
        if len(configs) != n:
            raise RuntimeError(
                f"{type(self).__name__}._ask({n}) returned {len(configs)} configurations"
            )
        self._n_asked = self.position(pending) + n
        return [dict(c) for c in configs]

    def tell(self, trials: Sequence[Trial]) -> None:
        """Learn from finished trials, in the order they finished.

        Lost and cancelled trials, unfinished ones and trials already told
        (same id) are ignored.
        """
        useful = []
        for t in trials:
            if not t.status.finished or t.status in (TrialStatus.LOST, TrialStatus.CANCELLED):
                continue
            if t.id in self._told_ids:
                continue
            self._told_ids.add(t.id)
            useful.append(t)
        if not useful:
            return
        self.history.extend(useful)
        self.rng = self.derive_rng(Stream.TELL, len(self.history))
        self._tell(useful)

    def warm_start(self, trials: Sequence[Trial]) -> None:  # noqa: B027 - optional hook
        """Learn from the finished trials of an earlier search (``hh.search(warm_start=...)``).

        Called after :meth:`setup` and before any tell. The trials are extra
        history: they do not count as asked or told. The default ignores them.
        """

    @abc.abstractmethod
    def _ask(self, n: int, pending: list[Trial]) -> list[dict[str, Any]]:
        """Return ``n`` valid configurations."""

    def _tell(self, trials: list[Trial]) -> None:  # noqa: B027 - optional hook
        """Hook called with the newly finished trials (already in :attr:`history`)."""

    # -- helpers -----------------------------------------------------------------
    def position(self, pending: Sequence[Trial] = ()) -> int:
        """Index of the next configuration in the search.

        It is the number of configurations asked so far, counted as the trials
        told plus those pending, or as this instance's own asks when larger (a
        caller that does not pass ``pending`` still gets fresh proposals). An
        optimizer rebuilt by replay reaches the same position.
        """
        return max(self._n_asked, len(self.history) + len(pending))

    def derive_rng(self, *key: int) -> np.random.Generator:
        """A generator determined by the effective seed and ``key`` alone.

        ``key`` starts with a :class:`hyperhive.streams.Stream` member (every stream's
        key is named there, so that no two streams collide), then positions.
        """
        return np.random.default_rng(np.random.SeedSequence(self.entropy, spawn_key=key))

    def settings(self) -> dict[str, Any]:
        """JSON description of the optimizer (stored in the run directory)."""
        return {"name": self.name or type(self).__name__, "seed": self.seed}

    def losses(self, trials: Sequence[Trial]) -> np.ndarray:
        """Objective values as an ``(n, k)`` array to minimize; NaN where a trial has none."""
        k = len(self.directions)
        out = np.full((len(trials), k), np.nan)
        sign = np.array([1.0 if d == "minimize" else -1.0 for d in self.directions])
        for i, t in enumerate(trials):
            vals = t.values
            if t.status == TrialStatus.DONE and vals is not None and len(vals) == k:
                out[i] = np.asarray(vals, dtype=float) * sign
        return out


def _check_seed(seed: Any) -> int | None:
    """Return ``seed`` as an int (or None), or raise a ValueError naming it."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer or None, got seed={seed!r}")
    return int(seed)
