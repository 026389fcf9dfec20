"""Vectorized machinery on many configurations: activity, forbidden rows, sampling, mutation.

Configurations are handled column-wise as *codes* (one numpy array per parameter,
see :mod:`hyperhive.space.params`) together with *activity* (one boolean array per
parameter). Rows are turned into plain dicts only at the end.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from hyperhive.space.space import Space

Codes = dict[str, np.ndarray]

#: Rejection sampling gives up after this many rounds ...
MAX_ROUNDS = 64
#: ... or after drawing this many candidates per requested configuration (at least 200k).
MAX_DRAWS_PER_CONFIG = 500
MIN_DRAWS = 200_000
MAX_BATCH = 1 << 18
#: ``mutate`` retries this many times to leave the forbidden region.
MUTATE_TRIES = 200


def make_rng(seed: Any) -> np.random.Generator:
    """A numpy Generator from a seed (int, SeedSequence, None) or the Generator itself."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool):
        raise TypeError(f"seed must be an int, a numpy Generator or None, got {seed!r}")
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"seed must be an int, a numpy Generator or None, got {seed!r} ({err})"
        ) from None


def activity(space: Space, codes: Codes, m: int) -> Codes:
    """Which rows have each parameter active (parents first, per the conditions)."""
    active: Codes = {}
    ones = np.ones(m, dtype=bool)
    conditions = space._conditions
    for name in space._topo_order():
        conds = conditions.get(name)
        if not conds:
            active[name] = ones
            continue
        a = conds[0].evaluate(codes, active)
        for cond in conds[1:]:
            a = a & cond.evaluate(codes, active)
        active[name] = np.asarray(a, dtype=bool)
    return active


def forbidden_mask(space: Space, codes: Codes, active: Codes, m: int) -> np.ndarray:
    """Which rows fall in a forbidden combination."""
    out = np.zeros(m, dtype=bool)
    for forbidden in space._forbidden:
        out |= forbidden.evaluate(codes, active)
    return out


def sample_codes(space: Space, rng: np.random.Generator, m: int) -> Codes:
    """``m`` rows of codes drawn from every parameter's prior (activity ignored)."""
    return {name: p.sample_codes(rng, m) for name, p in space._params.items()}


def rows_to_dicts(space: Space, codes: Codes, active: Codes, m: int) -> list[dict[str, Any]]:
    """Plain dicts, in parameter order, holding the active parameters only.

    Rows are grouped by activity pattern so that each group is built with
    ``dict(zip(...))`` over columns converted in bulk.
    """
    params = space._params
    names = list(params)
    if not names:
        return [{} for _ in range(m)]
    conditional = [n for n in names if n in space._conditions]
    if not conditional or m == 0 or all(active[n].all() for n in conditional):
        cols = [params[n].codes_to_values(codes[n]) for n in names]
        return [dict(zip(names, row, strict=True)) for row in zip(*cols, strict=True)]
    flags = np.stack([active[n] for n in conditional], axis=1)
    patterns, inverse = np.unique(flags, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    position = {n: j for j, n in enumerate(conditional)}
    out: list[Any] = [None] * m
    for g, pattern in enumerate(patterns):
        rows = np.flatnonzero(inverse == g)
        keep = [n for n in names if n not in position or pattern[position[n]]]
        if not keep:
            for i in rows.tolist():
                out[i] = {}
            continue
        cols = [params[n].codes_to_values(codes[n][rows]) for n in keep]
        for i, row in zip(rows.tolist(), zip(*cols, strict=True), strict=True):
            out[i] = dict(zip(keep, row, strict=True))
    return out


def _take(codes: Codes, active: Codes, rows: np.ndarray) -> tuple[Codes, Codes]:
    return {n: c[rows] for n, c in codes.items()}, {n: a[rows] for n, a in active.items()}


def sample(space: Space, n: int, seed: Any) -> list[dict[str, Any]]:
    """See :meth:`Space.sample`."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        raise TypeError(f"n must be an int, got {n!r}")
    n = int(n)
    if n < 0:
        raise ValueError(f"n must be >= 0, got n={n}")
    rng = make_rng(seed)
    if n == 0:
        return []
    if not space._forbidden:
        codes = sample_codes(space, rng, n)
        return rows_to_dicts(space, codes, activity(space, codes, n), n)

    kept: list[tuple[Codes, Codes]] = []
    got = drawn = accepted = 0
    budget = max(MIN_DRAWS, MAX_DRAWS_PER_CONFIG * n)
    for _ in range(MAX_ROUNDS):
        need = n - got
        rate = max(accepted / drawn, 1e-3) if drawn else 1.0
        m = int(min(MAX_BATCH, max(need, math.ceil(1.2 * need / rate) + 16)))
        m = max(1, min(m, budget - drawn))
        codes = sample_codes(space, rng, m)
        active = activity(space, codes, m)
        ok = np.flatnonzero(~forbidden_mask(space, codes, active, m))
        drawn += m
        accepted += ok.size
        ok = ok[:need]
        if ok.size:
            kept.append(_take(codes, active, ok))
            got += ok.size
        if got == n or drawn >= budget:
            break
    if got < n:
        raise RuntimeError(
            f"could not sample {n} configurations outside the forbidden region: only {got} of "
            f"{drawn} random candidates were allowed; the forbidden clauses "
            f"({'; '.join(str(f) for f in space._forbidden)}) cover (almost) the whole space"
        )
    names = list(space._params)
    codes = {k: np.concatenate([c[k] for c, _ in kept]) for k in names}
    active = {k: np.concatenate([a[k] for _, a in kept]) for k in names}
    return rows_to_dicts(space, codes, active, n)


def mutate(space: Space, config: Any, rng: Any, k: int, sigma: float) -> dict[str, Any]:
    """See :meth:`Space.mutate`."""
    cfg = space.validate(config)
    rng = make_rng(rng)
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k must be an integer >= 1, got k={k!r}")
    if not (isinstance(sigma, int | float) and sigma > 0 and math.isfinite(sigma)):
        raise ValueError(f"sigma must be a positive number, got sigma={sigma!r}")
    params = space._params
    movable = [n for n in cfg if params[n].kind != "constant" and params[n].size > 1]
    if not movable:
        return dict(cfg)
    kk = min(int(k), len(movable))
    base = {n: params[n].value_to_code(v) for n, v in cfg.items()}
    for _ in range(MUTATE_TRIES):
        codes = {
            n: np.array([base[n]]) if n in base else p.sample_codes(rng, 1)
            for n, p in params.items()
        }
        for i in rng.choice(len(movable), size=kk, replace=False):
            name = movable[int(i)]
            codes[name] = np.array([params[name].neighbour_code(base[name], rng, sigma)])
        active = activity(space, codes, 1)
        if space._forbidden and forbidden_mask(space, codes, active, 1)[0]:
            continue
        return rows_to_dicts(space, codes, active, 1)[0]
    raise RuntimeError(
        f"mutate() found no allowed neighbour of {cfg} in {MUTATE_TRIES} tries; "
        "the forbidden clauses surround it"
    )
