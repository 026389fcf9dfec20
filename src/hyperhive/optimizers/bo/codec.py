"""Vectorized candidate configurations for Bayesian optimization.

Acquisition optimization scores thousands of candidates per proposal, so they
never become dicts until one is chosen. A :class:`Rows` batch holds, per
parameter, an array of *codes* (see :mod:`hyperhive.space.params`) and an
array of *activity* flags; :class:`Codec` samples, mutates, filters and
encodes such batches with numpy, using the space's own vectorized machinery
(:mod:`hyperhive.space.sampling`), so every batch follows the conditions and
the forbidden clauses of the space exactly as :meth:`Space.sample` does.

Model features follow :meth:`Space.encode`: numeric and ordinal parameters by
their unit position (log parameters in log space), categoricals one-hot (or
by index with ``onehot=False``), constants dropped, and inactive parameters
encoded deliberately out of range (:data:`~hyperhive.space.encoding.INACTIVE`
for a column, all zeros for a one-hot block), so that models tell "inactive"
from every active value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from hyperhive.space import encoding, sampling
from hyperhive.space.params import Categorical

if TYPE_CHECKING:
    from hyperhive.space import Space

__all__ = ["Codec", "Rows"]


@dataclass
class Rows:
    """A batch of candidate configurations: codes and activity per parameter."""

    codes: dict[str, np.ndarray]
    active: dict[str, np.ndarray]

    def __len__(self) -> int:
        for col in self.codes.values():
            return len(col)
        return 0

    def take(self, idx: np.ndarray | Sequence[int]) -> Rows:
        """The rows at ``idx`` (an index array or a boolean mask)."""
        idx = np.asarray(idx)
        return Rows(
            {n: c[idx] for n, c in self.codes.items()},
            {n: a[idx] for n, a in self.active.items()},
        )

    @staticmethod
    def concat(parts: Sequence[Rows]) -> Rows:
        """Rows of ``parts`` one after the other (at least one part)."""
        names = list(parts[0].codes)
        return Rows(
            {n: np.concatenate([p.codes[n] for p in parts]) for n in names},
            {n: np.concatenate([p.active[n] for p in parts]) for n in names},
        )


class Codec:
    """Vectorized sampling, mutation, filtering and encoding of candidates of a space.

    Args:
        space: The search space.
        onehot: Encode categoricals one-hot (else by ``index / (k - 1)``).
    """

    def __init__(self, space: Space, onehot: bool = True) -> None:
        self.space = space
        self.onehot = onehot
        self.params = space.params
        self.names = list(self.params)
        #: Parameters a mutation can change (not constant, more than one value).
        self.movable = [n for n, p in self.params.items() if p.kind != "constant" and p.size > 1]
        self.width = len(encoding.feature_names(space, onehot))

    # -- building batches ----------------------------------------------------------------
    def _finish(self, codes: dict[str, np.ndarray], m: int) -> Rows:
        active = sampling.activity(self.space, codes, m)
        return Rows(codes, {n: np.asarray(a, dtype=bool) for n, a in active.items()})

    def sample(self, m: int, rng: np.random.Generator) -> Rows:
        """``m`` random candidates from the prior of every parameter (forbidden ones kept)."""
        return self._finish(sampling.sample_codes(self.space, rng, m), m)

    def from_unit(self, unit: np.ndarray) -> Rows:
        """Candidates from points of ``[0, 1]^d`` (one column per parameter)."""
        m = len(unit)
        codes = {n: p.unit_to_codes(unit[:, j]) for j, (n, p) in enumerate(self.params.items())}
        return self._finish(codes, m)

    def from_configs(self, configs: Sequence[Mapping[str, Any]], rng: np.random.Generator) -> Rows:
        """Rows of valid configurations; inactive parameters get random codes.

        The random codes only matter when a mutation activates the parameter.
        """
        codes, present, m = encoding.configs_to_codes(self.space, configs)
        fill = sampling.sample_codes(self.space, rng, m)
        out = {n: np.where(present[n], codes[n], fill[n]).astype(fill[n].dtype) for n in codes}
        return self._finish(out, m)

    # -- filters and keys ----------------------------------------------------------------
    def allowed(self, rows: Rows) -> np.ndarray:
        """Boolean mask of the rows outside every forbidden combination."""
        m = len(rows)
        if not self.space.has_forbidden:
            return np.ones(m, dtype=bool)
        return ~sampling.forbidden_mask(self.space, rows.codes, rows.active, m)

    def keys(self, rows: Rows) -> list[bytes]:
        """A bytes key per row, equal for equal configurations (inactive codes ignored)."""
        m = len(rows)
        mat = np.empty((m, len(self.names)))
        for j, n in enumerate(self.names):
            mat[:, j] = np.where(rows.active[n], rows.codes[n].astype(float) + 0.0, np.nan)
        mat = np.ascontiguousarray(np.nan_to_num(mat, nan=np.inf))
        return [r.tobytes() for r in mat]

    def config_keys(self, configs: Sequence[Mapping[str, Any]]) -> list[bytes]:
        """:meth:`keys` of valid configurations."""
        if not configs:
            return []
        return self.keys(self.exact(configs))

    def exact(self, configs: Sequence[Mapping[str, Any]]) -> Rows:
        """Rows of valid configurations, inactive codes left at 0 (for keys and features)."""
        codes, present, _ = encoding.configs_to_codes(self.space, configs)
        return Rows(codes, present)

    # -- encoding ------------------------------------------------------------------------
    def features(self, rows: Rows) -> np.ndarray:
        """Model features of the rows, as :meth:`Space.encode` would give."""
        m = len(rows)
        out = np.empty((m, self.width))
        pos = 0
        for n, p in self.params.items():
            if p.kind == "constant":
                continue
            act = rows.active[n]
            if self.onehot and isinstance(p, Categorical):
                k = len(p.choices)
                block = np.zeros((m, k))
                idx = np.flatnonzero(act)
                block[idx, rows.codes[n][idx]] = 1.0
                out[:, pos : pos + k] = block
                pos += k
            else:
                out[:, pos] = np.where(act, p.codes_to_unit(rows.codes[n]), encoding.INACTIVE)
                pos += 1
        return out

    def to_configs(self, rows: Rows) -> list[dict[str, Any]]:
        """Plain configurations of the rows (inactive parameters left out)."""
        return sampling.rows_to_dicts(self.space, rows.codes, rows.active, len(rows))

    # -- local moves ---------------------------------------------------------------------
    def mutate(self, rows: Rows, rng: np.random.Generator, sigma: np.ndarray) -> Rows:
        """A random neighbour of each row.

        Each row changes between one and three of its active movable parameters
        (one most often): numeric and ordinal ones by a Gaussian step of
        standard deviation ``sigma`` (per row) in unit space, reflected at the
        bounds; categoricals to another choice. Activity is recomputed, so a
        child that becomes active takes the row's stored (random) code.

        Args:
            rows: The rows to move.
            rng: Source of randomness.
            sigma: Step sizes, one per row.
        """
        m = len(rows)
        if m == 0 or not self.movable:
            return Rows(dict(rows.codes), dict(rows.active))
        mov = self.movable
        act = np.stack([rows.active[n] for n in mov], axis=1)
        score = np.where(act, rng.random((m, len(mov))), -1.0)
        n_change = np.minimum(rng.geometric(0.6, m), 3)
        rank = np.argsort(-score, axis=1).argsort(axis=1)
        change = (rank < n_change[:, None]) & act
        codes = dict(rows.codes)
        for j, n in enumerate(mov):
            sel = np.flatnonzero(change[:, j])
            if sel.size == 0:
                continue
            p = self.params[n]
            col = codes[n].copy()
            if isinstance(p, Categorical):
                k = len(p.choices)
                col[sel] = (col[sel] + rng.integers(1, k, sel.size)) % k
            else:
                u = p.codes_to_unit(col[sel]) + sigma[sel] * rng.standard_normal(sel.size)
                u = np.abs(u) % 2.0
                u = np.where(u > 1.0, 2.0 - u, u)
                col[sel] = p.unit_to_codes(u)
            codes[n] = col
        return self._finish(codes, m)
