"""The utility of candidates for one proposal, the lies told for pending trials, incumbents."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from hyperhive.optimizers.bo import acquisition as acq
from hyperhive.optimizers.bo.data import Targets
from hyperhive.optimizers.bo.multi import chebyshev, probability_feasible
from hyperhive.optimizers.bo.surrogates import Surrogate

__all__ = ["best_rows", "lie_values", "make_scorer"]

#: Draws of the posterior used to scalarize several objectives.
N_DRAWS = 32


def lie_values(data: Targets, liar: str, count: int) -> np.ndarray:
    """Constant-liar targets for ``count`` pending points.

    Objective columns take the min, mean or max of the observed targets;
    constraint columns their mean (a neutral guess).
    """
    k = data.n_objectives
    z = data.z[data.observed] if data.observed.any() else data.z
    reducers: dict[str, Callable[..., np.ndarray]] = {"min": np.min, "mean": np.mean, "max": np.max}
    fn = reducers[liar]
    lie = np.concatenate([fn(z[:, :k], axis=0), np.mean(z[:, k:], axis=0)])
    return np.tile(lie, (count, 1))


def best_rows(data: Targets, weights: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` best observed rows (feasible first; by ``weights`` if several)."""
    k = data.n_objectives
    z = data.z[:, :k]
    if k > 1:
        score = chebyshev(z, weights, z[data.observed].min(axis=0))
    else:
        score = z[:, 0]
    score = np.where(data.observed, score, np.inf) + np.where(data.feasible, 0.0, 1e6)
    return np.argsort(score, kind="stable")[:n]


def make_scorer(
    model: Surrogate,
    data: Targets,
    *,
    acquisition: str,
    weights: np.ndarray,
    kappa: float,
    xi: float,
    epistemic_only: bool,
    draw_seed: int,
    posterior_incumbent: bool = False,
) -> Callable[[np.ndarray], np.ndarray]:
    """The utility of candidates (features in, higher is better) for one proposal.

    Several objectives are scalarized with ``weights`` (augmented Chebyshev
    over posterior draws); constraints multiply the utility by the probability
    of feasibility, or replace it while no observation is feasible. Posterior
    draws come from a generator seeded with ``draw_seed`` at every call, so
    candidates scored in different rounds see the same draws (same trees).
    With ``posterior_incumbent`` (a single objective), EI and PI improve on
    the best posterior mean at the observed points instead of the best
    observed value (robust to noise).
    """
    k = data.n_objectives
    has_cons = data.z.shape[1] > k
    ref = data.observed & data.feasible if data.feasible.any() else data.observed
    z_obj = data.z[:, :k]
    if k > 1:
        ideal = z_obj[data.observed].min(axis=0) if data.observed.any() else np.zeros(k)
        observed_scalar = chebyshev(z_obj, weights, ideal)
    else:
        ideal = np.zeros(1)
        observed_scalar = z_obj[:, 0]
    best = float(observed_scalar[ref].min()) if ref.any() else 0.0
    if posterior_incumbent and k == 1 and ref.any() and acquisition in ("ei", "pi"):
        best = float(model.predict(data.x[ref]).mean[:, 0].min())
    shift = float(np.max(observed_scalar)) + 1.0 if len(observed_scalar) else 1.0
    any_feasible = bool(data.feasible.any())

    def score(x: np.ndarray) -> np.ndarray:
        pred = model.predict(x)
        std = pred.std(epistemic_only)
        draw = None
        if k == 1:
            mean, sd = pred.mean[:, 0], std[:, 0]
            if acquisition == "ts":
                draw = model.sample(x, np.random.default_rng(draw_seed), 1)[0][:, 0]
        else:
            draws = model.sample(x, np.random.default_rng(draw_seed), N_DRAWS)[..., :k]
            scal = chebyshev(draws, weights, ideal)
            mean, sd = scal.mean(axis=0), scal.std(axis=0)
            if not epistemic_only:
                noise = (weights**2 * pred.aleatoric[:, :k]).sum(axis=1)
                sd = np.sqrt(sd**2 + noise)
            draw = scal[0]
        u = acq.utility(acquisition, mean, sd, best=best, kappa=kappa, xi=xi, draw=draw)
        if not has_cons:
            return u
        pof = probability_feasible(pred.mean[:, k:], std[:, k:])
        if not any_feasible:
            return pof
        if acquisition in ("ucb", "ts"):  # make the utility non-negative before weighting
            u = np.maximum(u + shift, 0.0)
        return u * pof

    return score
