"""Per-query radius counts through the engine's exact ball tests, for the k-NN tests.

The engine needs these decisions only inside PRDC (``synthos.metrics.prdc``), which calls
:func:`synthos.knn.ball_hits` per tile; this module drives that same mechanism (``Balls``,
``expansion_margin``, ``ball_hits`` on a :class:`DistanceBackend`, tiled by ``plan_tiling``)
so the tests can check its edge decisions against brute force and across backends and tilings.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from synthos.errors import InputError
from synthos.knn import (
    Balls,
    DistanceBackend,
    Span,
    as_points,
    ball_hits,
    expansion_margin,
    get_backend,
    plan_tiling,
    spans,
    sq_norms,
)


def count_within_radius(query: object, base: object, radii: object, *, strict: bool = False,
                        backend: str | DistanceBackend = "numpy", tile_rows: int | None = None,
                        tile_cols: int | None = None) -> np.ndarray:
    """(n,) int64: for each query point (n, d), the number of base points j (m, d) with
    ``dist(query_i, base_j) <= radii[j]`` (``<`` when ``strict``); radii: (m,), no NaN."""
    be = get_backend(backend)
    q, b = as_points(query, name="query"), as_points(base, name="base")
    if q.shape[1] != b.shape[1]:
        raise InputError(f"point sets differ in dimension: {q.shape[1]} vs {b.shape[1]}")
    r = np.asarray(radii, dtype=np.float64)
    if r.shape != (b.shape[0],) or np.isnan(r).any():
        raise InputError(f"radii must be a ({b.shape[0]},) array without NaN, got {r.shape}")
    balls = Balls.of(r, strict=strict)
    q_norm, b_norm = sq_norms(q), sq_norms(b)
    hint = tile_rows if tile_rows is not None else getattr(be, "tile_rows", None)
    rows, cols = plan_tiling(q.shape[0], b.shape[0], hint, tile_cols)
    pq, pb = be.prepare(q, side="query"), be.prepare(b, side="base")

    def row_tile(span: Span) -> np.ndarray:
        r0, r1 = span
        acc = np.zeros(r1 - r0, dtype=np.int64)
        for c0, c1 in spans(b.shape[0], cols):
            d = be.pairwise_sq_dists(pq[r0:r1], pb[c0:c1])
            margin = expansion_margin(q.shape[1], q_norm[r0:r1].max(), b_norm[c0:c1].max())
            hits = ball_hits(
                be, d, q[r0:r1], b[c0:c1], balls.take(c0, c1), per="col", margin=margin
            )
            acc += be.count(hits.certain, axis=1)
            np.add.at(acc, hits.rows, 1)
        return acc

    tiles = be.tile_map(row_tile, spans(q.shape[0], rows))
    return np.concatenate(tiles) if tiles else np.zeros(0, dtype=np.int64)


def any_within_radius(query: object, base: object, radii: object, **options: Any) -> np.ndarray:
    """(n,) bool: whether some base point's ball holds the query point (options as above)."""
    return count_within_radius(query, base, radii, **options) > 0
