"""Parameter importance: which parameters explain the objective's variation.

Features:
    Each parameter becomes one column of its unit encoding
    (:meth:`hyperhive.Space.to_unit`): numbers on ``[0, 1]`` (in log space for a
    log-scaled parameter), categories and ordinal values at equal spacing, each
    owning an equal share of the axis. Constants are left out.

Conditional parameters:
    A parameter that is inactive in a trial (absent from its configuration) is
    imputed with a value in an extra slot just below its range: as wide as one more
    category for a categorical or ordinal parameter, a tenth of the range for a
    number. The forest can thus split "inactive" apart from every active value, and
    the functional ANOVA integrates over that slot as one more value, so a parameter
    is only important if its values, or whether it is active at all, change the
    objective.

Methods:
    ``"fanova"`` (default): functional ANOVA over the partition of a random forest
    fitted to the trials (see :mod:`hyperhive.analysis._fanova`), each parameter's
    main effect; ``"permutation"``: the drop in the forest's fit when a parameter's
    column is shuffled (:func:`sklearn.inspection.permutation_importance`). Both are
    normalized to sum to 1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from hyperhive.analysis.source import RunLike, load_run

if TYPE_CHECKING:
    import pandas as pd

    from hyperhive.search import Result

__all__ = ["encode_trials", "importance"]

METHODS = ("fanova", "permutation")
#: Trials the forest is fitted on at most (a seeded sample beyond this).
MAX_TRIALS = 1000
_NUMERIC_SLOT = 0.1


def encode_trials(
    result: Result, objective: int = 0
) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray, np.ndarray]:
    """The done trials as features and targets for a model.

    Returns:
        ``(X, y, names, lower, upper)``: the ``(n, d)`` features (inactive values
        imputed, see the module docstring), the objective ``y``, the parameter names
        and each feature's integration domain.

    Raises:
        ValueError: ``objective`` is out of range.
    """
    k = len(result.directions)
    if isinstance(objective, bool) or not isinstance(objective, int | np.integer):
        raise TypeError(f"objective must be an integer index, got {objective!r}")
    if not 0 <= objective < k:
        raise ValueError(f"objective must be in [0, {k - 1}] for this run, got {objective!r}")
    space = result.space
    trials = [
        t
        for t in result.done
        if t.values is not None and np.isfinite(t.values[objective]) and t.config
    ]
    keep = [i for i, kind in enumerate(space.kinds) if kind != "constant"]
    names = [space.names[i] for i in keep]
    with np.errstate(divide="ignore", invalid="ignore"):  # inactive values become NaN
        unit = space.to_unit([t.config for t in trials]) if trials else np.empty((0, len(space)))
    X = np.asarray(unit, dtype=float).reshape(len(trials), len(space))[:, keep]
    y = np.array([(t.values or ())[objective] for t in trials], dtype=np.float64)
    lower = np.zeros(len(keep))
    upper = np.ones(len(keep))
    for col, i in enumerate(keep):
        param = space.params[space.names[i]]
        size = len(getattr(param, "domain", ())) if space.kinds[i] != "float" else 0
        half = 0.5 / (size - 1) if space.kinds[i] in ("categorical", "ordinal") and size > 1 else 0
        if space.kinds[i] == "int":
            half = 0.0  # to_unit already maps integer bins onto [0, 1]
        lower[col], upper[col] = -half, 1.0 + half
        missing = np.isnan(X[:, col])
        if missing.any():
            slot = 2 * half if half > 0 else _NUMERIC_SLOT
            X[missing, col] = lower[col] - slot / 2
            lower[col] -= slot
    return X, y, names, lower, upper


def importance(
    run: RunLike,
    method: str = "fanova",
    *,
    objective: int = 0,
    n_trees: int = 64,
    seed: int = 0,
) -> pd.Series:
    """Each parameter's share of the objective's variance, largest first.

    Args:
        run: a run directory, a store URL, a store or a :class:`~hyperhive.Result`.
        method: ``"fanova"`` (functional ANOVA on a random forest) or
            ``"permutation"`` (permutation importance of the same forest).
        objective: which objective, for a run with several.
        n_trees: trees in the forest.
        seed: seeds the forest (and the sample of trials beyond :data:`MAX_TRIALS`).

    Returns:
        A float Series indexed by parameter name, summing to 1 (all zeros when the
        objective does not vary), sorted from most to least important.

    Raises:
        ValueError: an unknown method, an objective out of range, or fewer than two
            done trials.
    """
    import pandas as pd
    from sklearn.ensemble import RandomForestRegressor

    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if isinstance(n_trees, bool) or not isinstance(n_trees, int) or n_trees < 1:
        raise ValueError(f"n_trees must be a positive integer, got {n_trees!r}")
    result = load_run(run)
    X, y, names, lower, upper = encode_trials(result, objective)
    if len(y) < 2:
        raise ValueError(
            f"importance needs at least 2 done trials with a finite objective, got {len(y)}"
        )
    if not names:
        raise ValueError("importance needs a space with at least one non-constant parameter")
    rng = np.random.default_rng(seed)
    if len(y) > MAX_TRIALS:
        pick = rng.choice(len(y), MAX_TRIALS, replace=False)
        X, y = X[pick], y[pick]
    shares = np.zeros(len(names))
    if np.ptp(y) > 0:
        forest = RandomForestRegressor(
            n_estimators=n_trees, max_depth=64, min_samples_leaf=1, random_state=seed, n_jobs=1
        ).fit(X, y)
        if method == "fanova":
            from hyperhive.analysis._fanova import forest_main_effects

            shares = forest_main_effects(forest, lower, upper)
        else:
            from sklearn.inspection import permutation_importance

            found = permutation_importance(forest, X, y, n_repeats=5, random_state=seed)
            shares = np.clip(found.importances_mean, 0.0, None)
    total = shares.sum()
    if total > 0:
        shares = shares / total
    series = pd.Series(shares, index=pd.Index(names, name="parameter"), name="importance")
    return series.sort_values(ascending=False, kind="stable")
