"""A policy over the choices of the space, trained with PPO from the results (numpy only)."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, ClassVar

import numpy as np

from hyperhive.optimizers._sampling import config_key, keys_of
from hyperhive.optimizers.base import Optimizer
from hyperhive.optimizers.evolution import nondominated_rank
from hyperhive.trial import Trial

#: Rounds of vectorized draws from the policy before the fallbacks take over.
DRAW_ROUNDS = 6
#: Mutations of a policy draw tried to find a configuration not seen yet.
MUTATION_TRIES = 16
#: Random configurations tried next, before repeating a policy draw (a spent space).
RANDOM_TRIES = 64

_ADAM_B1, _ADAM_B2, _ADAM_EPS = 0.9, 0.999, 1e-8


class PPO(Optimizer):
    """Proximal policy optimization of a sampling policy over the space's choices.

    The policy has one head per non-constant parameter: independent logits over
    the values of a categorical or ordinal parameter, and over ``n_bins`` equal
    bins of the unit interval for a float or int (a drawn bin becomes a uniform
    point of the bin, mapped through :meth:`Space.from_unit`, so every value stays
    reachable). Heads are not conditioned on each other; a parameter made inactive
    by a condition is left out of the configuration and out of its head's update.
    It starts uniform, which is random search.

    Learning: every ``batch_size`` results (in the order told) the policy takes
    ``n_epochs`` full-batch Adam steps of the clipped surrogate objective on that
    batch, with an entropy bonus::

        ratio = pi(a) / pi_old(a)
        J = mean(min(ratio * A, clip(ratio, 1 - clip, 1 + clip) * A)) + entropy_coef * H

    where ``pi_old`` is the policy before the update and the action ``a`` of a
    result is read back from its configuration. Rewards are normalized as the
    quantile of the result among all results so far (1 for the best, 0 for the
    worst; failed trials count as worst; with several objectives the quantile of
    the non-dominated rank), the baseline is a moving average of the batches'
    mean reward (``baseline_decay``), and the advantage ``A = reward - baseline``
    is scaled by the batch's reward spread.

    Asking is asynchronous: each ask draws from the current policy, avoiding
    configurations told, pending or in the batch (when the policy keeps drawing
    repeats, a draw is mutated with :meth:`Space.mutate`, then a random
    configuration is used, and in a space with nothing new left the policy's
    draw is repeated); forbidden draws are redrawn. The policy is a
    function of :attr:`history`, so the optimizer is replay-deterministic.

    Args:
        seed: Seed of the search; None for a fresh one.
        batch_size: Results per policy update (default 4).
        n_epochs: Gradient steps per update (default 4).
        learning_rate: Adam step size on the logits (default 0.1).
        clip: PPO clipping range ``epsilon`` (default 0.2).
        entropy_coef: Weight of the entropy bonus (default 0.01).
        baseline_decay: Decay of the moving-average baseline (default 0.9).
        n_bins: Bins of a numeric parameter (default 10).

    Raises:
        ValueError: On a non-positive count or rate, or ``clip``/``baseline_decay``
            outside ``(0, 1)`` and ``[0, 1)``.
    """

    name: ClassVar[str] = "ppo"
    replay_deterministic = True

    def __init__(
        self,
        seed: int | None = None,
        batch_size: int = 4,
        n_epochs: int = 4,
        learning_rate: float = 0.1,
        clip: float = 0.2,
        entropy_coef: float = 0.01,
        baseline_decay: float = 0.9,
        n_bins: int = 10,
    ) -> None:
        super().__init__(seed)
        for label, v in (("batch_size", batch_size), ("n_epochs", n_epochs), ("n_bins", n_bins)):
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
                raise ValueError(f"{label} must be a positive integer, got {label}={v!r}")
        _check_real("learning_rate", learning_rate, 0.0, np.inf, low_open=True)
        _check_real("clip", clip, 0.0, 1.0, low_open=True, high_open=True)
        _check_real("entropy_coef", entropy_coef, 0.0, np.inf)
        _check_real("baseline_decay", baseline_decay, 0.0, 1.0, high_open=True)
        self.batch_size = int(batch_size)
        self.n_epochs = int(n_epochs)
        self.learning_rate = float(learning_rate)
        self.clip = float(clip)
        self.entropy_coef = float(entropy_coef)
        self.baseline_decay = float(baseline_decay)
        self.n_bins = int(n_bins)

    # -- state -------------------------------------------------------------------
    def _setup(self) -> None:
        space = self.space
        if space is None:  # pragma: no cover - setup() binds it first
            raise RuntimeError("PPO._setup() without a space")
        self._seen: set[Hashable] = set()
        self._columns: list[int] = []  # column of each head in the unit encoding
        self._sizes: list[int] = []
        self._numeric: list[bool] = []
        self._heads: list[str] = []
        for j, (name, param) in enumerate(space.params.items()):
            numeric = param.kind in ("float", "int")
            k = self.n_bins if numeric else int(param.size)
            if param.kind == "constant" or k < 2:
                continue
            self._heads.append(name)
            self._columns.append(j)
            self._sizes.append(k)
            self._numeric.append(numeric)
        self.logits = [np.zeros(k) for k in self._sizes]
        self._m = [np.zeros(k) for k in self._sizes]
        self._v = [np.zeros(k) for k in self._sizes]
        self._steps = 0
        self._n_updates = 0
        self.baseline = 0.5

    def probabilities(self) -> dict[str, np.ndarray]:
        """The policy: per parameter with a head, the probabilities of its values (or bins)."""
        return {n: _softmax(z) for n, z in zip(self._heads, self.logits, strict=True)}

    def _tell(self, trials: list[Trial]) -> None:
        self._seen.update(config_key(t.config) for t in trials)
        while (self._n_updates + 1) * self.batch_size <= len(self.history):
            self._update(self._n_updates)
            self._n_updates += 1

    # -- learning ----------------------------------------------------------------
    def actions(self, configs: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        """Each configuration's action per head, and which heads are active.

        Returns:
            ``(actions, active)``: integer and boolean ``(n, heads)`` arrays.
        """
        space = self.space
        if space is None:  # pragma: no cover
            raise RuntimeError("PPO used before setup()")
        unit = np.asarray(space.to_unit(configs), dtype=float)[:, self._columns]
        active = ~np.isnan(unit)
        unit = np.nan_to_num(unit, nan=0.0)
        sizes = np.asarray(self._sizes, dtype=float)
        numeric = np.asarray(self._numeric, dtype=bool)
        acts = np.where(numeric, np.floor(unit * sizes), np.rint(unit * (sizes - 1)))
        acts = np.clip(acts, 0, sizes - 1).astype(np.int64)
        return acts, active

    def rewards(self, trials: list[Trial], batch: slice) -> np.ndarray:
        """Normalized rewards of ``trials[batch]``: their quantile among ``trials`` (1 = best)."""
        losses = self.losses(trials)
        if losses.shape[1] == 1:
            score = np.where(np.isnan(losses[:, 0]), np.inf, losses[:, 0])
        else:
            score = nondominated_rank(losses).astype(float)
        s = score[batch]
        n = len(score)
        if n < 2:
            return np.full(len(s), 0.5)
        worse = (score[None, :] > s[:, None]).sum(axis=1)
        ties = (score[None, :] == s[:, None]).sum(axis=1) - 1
        return (worse + 0.5 * ties) / (n - 1)

    def _update(self, k: int) -> None:
        """PPO update on the ``k``-th batch of results (trials ``kB`` to ``(k + 1)B - 1``)."""
        b = self.batch_size
        upto = self.history[: (k + 1) * b]
        batch = upto[k * b :]
        reward = self.rewards(upto, slice(k * b, (k + 1) * b))
        adv = (reward - self.baseline) / max(float(reward.std()), 0.1)
        self.baseline = self.baseline_decay * self.baseline + (1 - self.baseline_decay) * float(
            reward.mean()
        )
        if not self._heads:
            return
        acts, active = self.actions([t.config for t in batch])
        logp_old = self._log_prob(acts, active)
        for _ in range(self.n_epochs):
            probs = [_softmax(z) for z in self.logits]
            ratio = np.exp(self._log_prob(acts, active, probs) - logp_old)
            unclipped = np.where(adv >= 0, ratio < 1 + self.clip, ratio > 1 - self.clip)
            weight = np.where(unclipped, adv * ratio, 0.0) / len(batch)
            self._steps += 1
            for h, p in enumerate(probs):
                w = weight * active[:, h]
                onehot = np.zeros((len(batch), len(p)))
                onehot[np.arange(len(batch)), acts[:, h]] = 1.0
                grad = w @ (onehot - p[None, :])
                logp = np.log(np.maximum(p, 1e-300))
                grad -= self.entropy_coef * p * (logp + float(-(p * logp).sum()))
                self._adam_ascent(h, grad)

    def _log_prob(
        self, acts: np.ndarray, active: np.ndarray, probs: list[np.ndarray] | None = None
    ) -> np.ndarray:
        probs = probs if probs is not None else [_softmax(z) for z in self.logits]
        out = np.zeros(len(acts))
        for h, p in enumerate(probs):
            out += np.where(active[:, h], np.log(np.maximum(p[acts[:, h]], 1e-300)), 0.0)
        return out

    def _adam_ascent(self, h: int, grad: np.ndarray) -> None:
        m = self._m[h] = _ADAM_B1 * self._m[h] + (1 - _ADAM_B1) * grad
        v = self._v[h] = _ADAM_B2 * self._v[h] + (1 - _ADAM_B2) * grad**2
        m_hat = m / (1 - _ADAM_B1**self._steps)
        v_hat = v / (1 - _ADAM_B2**self._steps)
        z = self.logits[h] + self.learning_rate * m_hat / (np.sqrt(v_hat) + _ADAM_EPS)
        self.logits[h] = z - z.max()

    # -- asking ------------------------------------------------------------------
    def draw(self, m: int, rng: np.random.Generator) -> list[dict[str, Any]]:
        """``m`` configurations from the policy (may repeat or be forbidden)."""
        space = self.space
        if space is None:  # pragma: no cover
            raise RuntimeError("PPO used before setup()")
        unit = np.full((m, len(space.names)), 0.5)
        for h, p in enumerate(self.probabilities().values()):
            a = np.minimum(np.searchsorted(np.cumsum(p), rng.random(m) * p.sum()), len(p) - 1)
            k = self._sizes[h]
            if self._numeric[h]:
                unit[:, self._columns[h]] = (a + rng.random(m)) / k
            else:
                unit[:, self._columns[h]] = a / (k - 1)
        return space.from_unit(unit)

    def _ask(self, n: int, pending: list[Trial]) -> list[dict[str, Any]]:
        space = self.space
        if space is None:  # pragma: no cover - ask() checks it first
            raise RuntimeError("PPO used before setup()")
        rng = self.rng
        taken = keys_of(t.config for t in pending)
        out: list[dict[str, Any]] = []
        last: dict[str, Any] | None = None
        for _ in range(DRAW_ROUNDS):
            need = n - len(out)
            if need <= 0:
                break
            for config in self.draw(2 * need + 4, rng):
                if space.is_forbidden(config):
                    continue
                last = config
                key = config_key(config)
                if key in self._seen or key in taken:
                    continue
                taken.add(key)
                out.append(config)
                if len(out) == n:
                    break
        while len(out) < n:  # the policy keeps repeating itself: explore around it
            child = None
            if last is not None:
                for _ in range(MUTATION_TRIES):
                    cand = space.mutate(last, rng, k=1)
                    if config_key(cand) not in self._seen and config_key(cand) not in taken:
                        child = cand
                        break
            if child is None:  # then anywhere; a space spent: repeat the policy's choice
                fresh = [
                    c
                    for c in space.sample(RANDOM_TRIES, rng)
                    if config_key(c) not in self._seen and config_key(c) not in taken
                ]
                child = (
                    fresh[0] if fresh else (last if last is not None else space.sample(1, rng)[0])
                )
            taken.add(config_key(child))
            out.append(child)
        return out

    def settings(self) -> dict[str, Any]:
        """JSON description: seed and the PPO settings."""
        return {
            **super().settings(),
            "batch_size": self.batch_size,
            "n_epochs": self.n_epochs,
            "learning_rate": self.learning_rate,
            "clip": self.clip,
            "entropy_coef": self.entropy_coef,
            "baseline_decay": self.baseline_decay,
            "n_bins": self.n_bins,
        }


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def _check_real(
    label: str,
    value: Any,
    low: float,
    high: float,
    low_open: bool = False,
    high_open: bool = False,
) -> None:
    ok = isinstance(value, int | float | np.floating) and not isinstance(value, bool)
    if ok:
        v = float(value)
        ok = (v > low if low_open else v >= low) and (v < high if high_open else v <= high)
    if not ok:
        lb, hb = "(" if low_open else "[", ")" if high_open else "]"
        raise ValueError(f"{label} must be a number in {lb}{low}, {high}{hb}, got {value!r}")
