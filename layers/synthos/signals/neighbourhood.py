"""Neighbourhood signals on standardised numeric features and on each embedding column.

k-NN precision, recall, density and coverage (Kynkäänniemi et al. 2019; Naeem et al. 2020), the
ratio of typical k-NN distances (how tightly the rows are packed), near-duplicates within the
dataset and near-copies of reference rows. Each side is centred on its own mean first: a moved
mean is drift, and must not read as lost recall. At most ``ctx.knn_rows`` rows per side are used
(the rows are already a random subset, so the first ones are a random sample).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from synthos.frame import Frame
from synthos.knn import knn
from synthos.metrics.prdc import prdc
from synthos.signals.context import PairContext
from synthos.signals.registry import Measure

SIGNAL_NAMES = frozenset({
    "knn_precision", "knn_recall", "knn_density", "knn_coverage", "nn_distance_ratio",
    "near_duplicate_rate", "near_copy_rate",
})
NEAR_RADIUS = 0.05  # near-duplicate radius, as a share of the reference's median 1-NN distance
_TINY = 1e-12


def feature_spaces(frame: Frame, ctx: PairContext) -> Iterator[tuple[str, np.ndarray]]:
    """(scope, rows x features) for the numeric block ("*") and each embedding column."""
    if ctx.numeric_cols:
        yield "*", frame.numeric[:, list(ctx.numeric_cols)]
    yield from frame.embeddings.items()


def prepare(x: np.ndarray, cap: int) -> np.ndarray:
    """Complete rows (at most ``cap``), centred on their own mean."""
    x = x[np.all(np.isfinite(x), axis=1)][:cap]
    return x - x.mean(axis=0) if x.shape[0] else x


def _space(xs: list[np.ndarray], a: np.ndarray, k: int) -> list[dict[str, float]]:
    d_a = knn(a, a, k, exclude_self=True).distances
    near = NEAR_RADIUS * float(np.median(d_a[:, 0]))
    typical_a = float(np.median(d_a[:, -1]))
    results = []
    for x in xs:
        if x.shape[0] <= k:
            results.append({})
            continue
        d_x = knn(x, x, k, exclude_self=True).distances
        d_xa = knn(x, a, 1).distances[:, 0]
        metrics = prdc(a, x, nearest_k=k)
        results.append({
            "knn_precision": metrics["precision"],
            "knn_recall": metrics["recall"],
            "knn_density": metrics["density"],
            "knn_coverage": metrics["coverage"],
            "nn_distance_ratio": float(
                np.log((np.median(d_x[:, -1]) + _TINY) / (typical_a + _TINY))
            ),
            "near_duplicate_rate": float(np.mean(d_x[:, 0] <= near)),
            "near_copy_rate": float(np.mean(d_xa <= near)),
        })
    return results


def measure(candidates: Sequence[Frame], anchor: Frame, ctx: PairContext) -> list[Measure]:
    out: list[Measure] = [{} for _ in candidates]
    k = ctx.knn_k
    cand_spaces = [dict(feature_spaces(c, ctx)) for c in candidates]
    for scope, a_raw in feature_spaces(anchor, ctx):
        a = prepare(a_raw, ctx.knn_rows)
        if a.shape[0] <= k + 1:
            continue
        xs = [prepare(cs[scope], ctx.knn_rows) for cs in cand_spaces]
        for m, stats in zip(out, _space(xs, a, k), strict=True):
            for signal, value in stats.items():
                m[(signal, scope)] = value
    return out
