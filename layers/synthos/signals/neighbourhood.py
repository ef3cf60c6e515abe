"""Neighbourhood signals on standardised numeric features and on each embedding column.

k-NN precision, recall, density and coverage (Kynkäänniemi et al. 2019; Naeem et al. 2020), the
ratio of typical k-NN distances (how tightly the rows are packed), near-duplicates within the
dataset and near-copies of reference rows. Each side is centred on its own mean first: a moved
mean is drift, and must not read as lost recall. At most ``ctx.knn_rows`` rows per side are used
(the rows are already a random subset, so the first ones are a random sample).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

import numpy as np

from synthos.frame import Frame
from synthos.knn import DistanceBackend, NumpyBackend, Span, knn
from synthos.signals.context import PairContext
from synthos.signals.registry import Measure

SIGNAL_NAMES = frozenset({
    "knn_precision", "knn_recall", "knn_density", "knn_coverage", "nn_distance_ratio",
    "near_duplicate_rate", "near_copy_rate",
})
NEAR_RADIUS = 0.05  # near-duplicate radius, as a share of the reference's median 1-NN distance
_TINY = 1e-12
R = TypeVar("R")


def feature_spaces(frame: Frame, ctx: PairContext) -> Iterator[tuple[str, np.ndarray]]:
    """(scope, rows x features) for the numeric block ("*") and each embedding column."""
    if ctx.numeric_cols:
        yield "*", frame.numeric[:, list(ctx.numeric_cols)]
    yield from frame.embeddings.items()


def prepare(x: np.ndarray, cap: int) -> np.ndarray:
    """Complete rows (at most ``cap``, the first ones), centred on their own mean."""
    rows = np.flatnonzero(np.isfinite(x).all(axis=1))[:cap]
    x = x[rows]
    return x - x.mean(axis=0) if x.shape[0] else x


class _SerialNumpy(NumpyBackend):
    """The numpy k-NN backend with its tiles run in the calling thread: the calibration
    already runs one replicate per CPU (see ``calibration.map_replicates``), and the sets here
    (at most ``knn_rows`` points) fit one tile."""

    def tile_map(self, job: Callable[[Span], R], row_spans: Sequence[Span]) -> list[R]:
        return [job(s) for s in row_spans]


_SERIAL = _SerialNumpy(workers=1)


def _backend(name: str) -> str | DistanceBackend:
    return _SERIAL if name == "numpy" else name


TILE_ROWS = 1024  # rows of the dataset side per distance tile: at most 1024 x knn_rows floats


@dataclass(frozen=True)
class CrossPass:
    precision: float
    recall: float
    density: float
    coverage: float
    nearest: np.ndarray  # (n,) distance from each dataset row to its nearest anchor row


def cross_pass(x: np.ndarray, a: np.ndarray, r_x: np.ndarray, r_a: np.ndarray, k: int
               ) -> CrossPass:
    """One tiled pass over the dataset-by-anchor distances giving all of PRDC (Naeem et al.
    2020, strict ``<`` like clovaai's prdc) and each dataset row's nearest anchor distance.

    x: (n, d) dataset rows, a: (m, d) anchor rows; r_x (n,), r_a (m,): k-th nearest-neighbour
    distance of each point within its own set.
    """
    n, m = x.shape[0], a.shape[0]
    # one product on augmented rows gives |x|^2 + |a|^2 - 2 x.a; max(d2, 0) < r^2 is the same
    # test as d2 < r^2 for r > 0 and never true for r = 0, so the clamp is folded into r^2
    x_aug = np.hstack([x * -2.0, np.einsum("ij,ij->i", x, x)[:, None], np.ones((n, 1))])
    a_aug = np.hstack([a, np.ones((m, 1)), np.einsum("ij,ij->i", a, a)[:, None]])
    r_a2 = np.where(r_a > 0, r_a**2, -np.inf)
    r_x2 = np.where(r_x > 0, r_x**2, -np.inf)
    in_real = np.zeros(n, dtype=bool)
    density_hits = 0
    covered = np.zeros(m, dtype=bool)
    recalled = np.zeros(m, dtype=bool)
    nearest = np.empty(n)
    for r0 in range(0, n, TILE_ROWS):
        d2 = x_aug[r0 : r0 + TILE_ROWS] @ a_aug.T
        inside = d2 < r_a2[None, :]  # squared comparisons: no sqrt over the tile
        in_real[r0 : r0 + TILE_ROWS] = inside.any(axis=1)
        density_hits += int(np.count_nonzero(inside))
        covered |= inside.any(axis=0)
        recalled |= (d2 < r_x2[r0 : r0 + TILE_ROWS, None]).any(axis=0)
        nearest[r0 : r0 + TILE_ROWS] = np.sqrt(np.maximum(d2.min(axis=1), 0.0))
    return CrossPass(float(in_real.mean()), float(recalled.mean()),
                     float(density_hits / (k * n)), float(covered.mean()), nearest)


def _space(xs: list[np.ndarray], a: np.ndarray, d_a: np.ndarray, k: int,
           backend: str | DistanceBackend) -> list[dict[str, float]]:
    near = NEAR_RADIUS * float(np.median(d_a[:, 0]))
    typical_a = float(np.median(d_a[:, -1]))
    results: list[dict[str, float]] = []
    for x in xs:
        if x.shape[0] <= k:
            results.append({})
            continue
        d_x = knn(x, x, k, exclude_self=True, backend=backend).distances
        c = cross_pass(x, a, d_x[:, -1], d_a[:, -1], k)
        results.append({
            "knn_precision": c.precision,
            "knn_recall": c.recall,
            "knn_density": c.density,
            "knn_coverage": c.coverage,
            "nn_distance_ratio": float(
                np.log((np.median(d_x[:, -1]) + _TINY) / (typical_a + _TINY))
            ),
            "near_duplicate_rate": float(np.mean(d_x[:, 0] <= near)),
            "near_copy_rate": float(np.mean(c.nearest <= near)),
        })
    return results


def _anchor_side(a_raw: np.ndarray, ctx: PairContext, backend: str | DistanceBackend
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The anchor's prepared rows and their (n, k) k-NN distances within the anchor."""
    a = prepare(a_raw, ctx.knn_rows)
    if a.shape[0] <= ctx.knn_k + 1:
        return a, np.zeros((a.shape[0], 0))
    return a, knn(a, a, ctx.knn_k, exclude_self=True, backend=backend).distances


def measure(candidates: Sequence[Frame], anchor: Frame, ctx: PairContext) -> list[Measure]:
    out: list[Measure] = [{} for _ in candidates]
    k = ctx.knn_k
    backend = _backend(ctx.backend)
    cand_spaces = [dict(feature_spaces(c, ctx)) for c in candidates]
    for scope, a_raw in feature_spaces(anchor, ctx):
        # memoised: an anchor kept across re-scores (AnchorCache) is searched once
        a, d_a = anchor.memo(("knn_anchor", scope, ctx.knn_rows, k),
                             partial(_anchor_side, a_raw, ctx, backend))
        if a.shape[0] <= k + 1:
            continue
        xs = [prepare(cs[scope], ctx.knn_rows) for cs in cand_spaces]
        for m, stats in zip(out, _space(xs, a, d_a, k, backend), strict=True):
            for signal, value in stats.items():
                m[(signal, scope)] = value
    return out
