"""Embedding geometry: which principal directions of the reference lost variance, and which of
its modes (k-means clusters) the dataset left empty.

Directions and modes are computed once on the reference sample (``PairContext.bases``); each side
is centred on its own mean before projecting, so a moved centroid is drift, not collapse.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from synthos.frame import Frame, complete_rows
from synthos.signals.context import EmbeddingBasis, PairContext
from synthos.signals.registry import Measure

EMPTY_SHARE = 0.25  # a mode is "left empty" when it holds under a quarter of its reference share
_FLOOR = 1e-12


def _centred(x: np.ndarray) -> np.ndarray:
    x = complete_rows(x)
    return x - x.mean(axis=0) if x.shape[0] else x


def mode_shares(x: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Share of rows of x whose nearest centroid is each of the c centroids."""
    d = (x**2).sum(1)[:, None] - 2 * x @ centroids.T + (centroids**2).sum(1)[None, :]
    return np.bincount(d.argmin(axis=1), minlength=centroids.shape[0]) / max(x.shape[0], 1)


def _measure_one(x: np.ndarray, a: np.ndarray, basis: EmbeddingBasis, name: str) -> Measure:
    m: Measure = {}
    var_x = np.var(x @ basis.directions.T, axis=0)
    var_a = np.var(a @ basis.directions.T, axis=0)
    for i, (vx, va) in enumerate(zip(var_x, var_a, strict=True)):
        m[("direction_variance", f"{name}#pc{i + 1}")] = float(
            np.log((vx + _FLOOR) / (va + _FLOOR))
        )
    share_a = mode_shares(a, basis.centroids)
    share_x = mode_shares(x, basis.centroids)
    m[("empty_modes", name)] = float(share_a[share_x < EMPTY_SHARE * share_a].sum())
    return m


def measure(candidates: Sequence[Frame], anchor: Frame, ctx: PairContext) -> list[Measure]:
    out: list[Measure] = [{} for _ in candidates]
    for name, basis in ctx.bases.items():
        a = _centred(anchor.embeddings[name])
        if a.shape[0] < 10:
            continue
        for m, cand in zip(out, candidates, strict=True):
            x = _centred(cand.embeddings[name])
            if x.shape[0] >= 10:
                m.update(_measure_one(x, a, basis, name))
    return out
