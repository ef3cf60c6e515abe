"""Precision, recall, density and coverage of a fake sample against a real one.

Definitions of Naeem et al. 2020, "Reliable Fidelity and Diversity Metrics for Generative
Models", exactly as ``prdc==0.2`` (clovaai) computes them, including its strict ``<``. With
``B(x, r)`` the open ball, ``NND_k(x)`` the distance from x to its k-th nearest other point
of its own set, N real points X and M fake points Y:

    precision = (1/M) sum_j  [ exists i: Y_j in B(X_i, NND_k(X_i)) ]
    recall    = (1/N) sum_i  [ exists j: X_i in B(Y_j, NND_k(Y_j)) ]
    density   = (1/kM) sum_j sum_i [ Y_j in B(X_i, NND_k(X_i)) ]
    coverage  = (1/N) sum_i  [ exists j: Y_j in B(X_i, NND_k(X_i)) ]

prdc builds three full distance matrices and sorts them; here the k-th neighbour radii come from
the tiled :mod:`synthos.knn`, and one tiled pass over real-by-fake distances yields all four
numbers: the mask ``d(X_i, Y_j) < NND_k(X_i)`` gives precision (any over i), density (its total)
and coverage (any over j), and ``d(X_i, Y_j) < NND_k(Y_j)`` gives recall.

Ties: radii and every distance within rounding of a ball's edge are recomputed from coordinate
differences (:func:`synthos.knn.ball_hits`), so a fake point that copies a real point's k-th
neighbour lies exactly on that real point's ball edge and, as in prdc, is not inside (strict
``<``). prdc decides the same ties with equal bits from one formula; distances that merely come
within ~1e-15 (relative) of a radius may fall either way in prdc. Exactly representable data
(small integers, dyadic fractions) agree exactly. prdc on float32 input compares float32
distances; here everything is float64.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthos.errors import InputError, InvalidOption
from synthos.knn import (
    Balls,
    DistanceBackend,
    as_points,
    ball_hits,
    expansion_margin,
    get_backend,
    knn,
    kth_nn_distance,
    plan_tiling,
    spans,
    sq_norms,
)


def prdc(
    real: object,
    fake: object,
    nearest_k: int = 5,
    *,
    backend: str | DistanceBackend = "numpy",
    tile_rows: int | None = None,
    tile_cols: int | None = None,
) -> dict[str, float]:
    """Precision, recall, density and coverage (module docstring) of fake against real.

    real: (N, d) real numbers; fake: (M, d); nearest_k >= 1 with N and M >= nearest_k + 1
    (else :class:`InvalidOption`). Returns ``{"precision", "recall", "density", "coverage"}``
    as floats; density lies in [0, N/k], the others in [0, 1].
    """
    x, y = _point_sets(real, fake, nearest_k)
    be = get_backend(backend)
    real_balls, fake_balls = (
        Balls.of(
            kth_nn_distance(pts, nearest_k, backend=be, tile_rows=tile_rows, tile_cols=tile_cols),
            strict=True,
        )
        for pts in (x, y)
    )
    rows, cols = plan_tiling(x.shape[0], y.shape[0], tile_rows, tile_cols)
    cross = _CrossPass(be, x, y, real_balls, fake_balls, cols)
    tiles = be.tile_map(cross.row_tile, spans(x.shape[0], rows))
    fake_in_real = np.logical_or.reduce([t.fake_in_real for t in tiles])
    return {
        "precision": float(fake_in_real.mean()),
        "recall": float(np.concatenate([t.real_in_fake for t in tiles]).mean()),
        "density": sum(t.in_real_balls for t in tiles) / (nearest_k * y.shape[0]),
        "coverage": float(np.concatenate([t.real_covered for t in tiles]).mean()),
    }


@dataclass(frozen=True)
class _RowTileCounts:
    """What one tile of real rows contributes: its (rows,) coverage and recall flags, the (M,)
    fake points it puts in a real ball, and its number of (real ball, fake point) pairs."""

    real_covered: np.ndarray
    real_in_fake: np.ndarray
    fake_in_real: np.ndarray
    in_real_balls: int


class _CrossPass:
    """One pass over real x fake distances, a tile of real rows at a time."""

    def __init__(
        self,
        be: DistanceBackend,
        x: np.ndarray,
        y: np.ndarray,
        real_balls: Balls,
        fake_balls: Balls,
        cols: int,
    ) -> None:
        self.be, self.x, self.y, self.cols = be, x, y, cols
        self.real_balls, self.fake_balls = real_balls, fake_balls
        self.px, self.py = be.prepare(x, side="query"), be.prepare(y, side="base")
        self.x_norm, self.y_norm = sq_norms(x), sq_norms(y)

    def row_tile(self, span: tuple[int, int]) -> _RowTileCounts:
        be, (r0, r1) = self.be, span
        covered, in_fake = np.zeros(r1 - r0, dtype=bool), np.zeros(r1 - r0, dtype=bool)
        fake_in_real, pairs = np.zeros(self.y.shape[0], dtype=bool), 0
        for c0, c1 in spans(self.y.shape[0], self.cols):
            d = be.pairwise_sq_dists(self.px[r0:r1], self.py[c0:c1])
            margin = expansion_margin(
                self.x.shape[1], self.x_norm[r0:r1].max(), self.y_norm[c0:c1].max()
            )
            tile = (be, d, self.x[r0:r1], self.y[c0:c1])
            inside = ball_hits(*tile, self.real_balls.take(r0, r1), per="row", margin=margin)
            pairs += int(be.count(inside.certain, axis=None)) + inside.rows.size
            fake_in_real[c0:c1] |= be.any(inside.certain, axis=0)
            fake_in_real[c0 + inside.cols] = True
            covered |= be.any(inside.certain, axis=1)
            covered[inside.rows] = True
            near = ball_hits(*tile, self.fake_balls.take(c0, c1), per="col", margin=margin)
            in_fake |= be.any(near.certain, axis=1)
            in_fake[near.rows] = True
        return _RowTileCounts(covered, in_fake, fake_in_real, pairs)


def nn_distance_ratio(
    real: object, fake: object, k: int = 1, *, backend: str | DistanceBackend = "numpy"
) -> float:
    """Mean distance from each fake point to its k-th nearest real point, divided by the mean
    distance from each real point to its k-th nearest *other* real point.

    About 1 when fake is a fresh sample of the real distribution and the two sets are of
    similar size; well below 1 when fake points sit on top of real ones (copies, memorised
    records). real: (N, d) with N >= k + 1; fake: (M, d), M >= 1. NaN when every real point
    coincides with its k-th neighbour (the denominator is 0).
    """
    x, y = _point_sets(real, fake, k, fake_min=1)
    to_real = knn(y, x, k, backend=backend).distances[:, -1].mean()
    within_real = kth_nn_distance(x, k, backend=backend).mean()
    return float(to_real / within_real) if within_real > 0 else float("nan")


def _point_sets(real: object, fake: object, k: int, *, fake_min: int | None = None):
    x, y = as_points(real, name="real"), as_points(fake, name="fake")
    if x.shape[1] != y.shape[1]:
        raise InputError(f"real and fake differ in dimension: {x.shape[1]} vs {y.shape[1]}")
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise InvalidOption(f"nearest_k must be an integer >= 1, got {k!r}")
    for name, pts, need in (("real", x, k + 1), ("fake", y, fake_min or k + 1)):
        if pts.shape[0] < need:
            raise InvalidOption(
                f"{name} has {pts.shape[0]} points; k={k} needs at least {need}",
                details={"set": name, "points": pts.shape[0], "k": int(k)},
            )
    return x, y
