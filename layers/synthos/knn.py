"""Exact k-nearest neighbours in Euclidean distance, computed tile by tile.

No function here holds an ``n x m`` distance matrix. Queries are processed in tiles of
``tile_rows`` rows against column blocks of ``tile_cols`` base points (a running top-k merge
joins the blocks), so memory is one tile per worker thread, by default about 8 MiB, never above
64 MiB.

Search: squared distances come from one BLAS matmul per tile on augmented rows,
``[-2a, |a|^2, 1] . [b, 1, |b|^2] = |a|^2 + |b|^2 - 2 a.b``, in float64 (negatives clamped to
0, square root at the end). Every row is dealt into strided groups; its k smallest entries lie
in the k groups with the smallest minima, so ``np.argpartition`` runs on group minima and then
on those groups only, and the k winners are sorted. Ties go to the lower base index.

Answers: the expansion is off by up to ~``eps * d * (|a|^2 + |b|^2)`` (coincident points come
out at ~1e-8), so every distance returned, and every radius decision within that margin of the
edge, is recomputed from coordinate differences (:func:`pair_distances`): exact duplicates are
at exactly 0, a point on a ball's edge is on it bit for bit (a copied point ties with the
original), and no tiling changes a result. Only the choice among neighbours whose distances
differ by less than the margin rests on the expansion.

Tile arithmetic and scheduling go through a :class:`DistanceBackend`
(``synthos.backends``). ``"numpy"`` is built in:
row tiles run on a pool of threads, one per CPU, each with single-threaded BLAS; that keeps
every core busy through the non-BLAS steps and, unlike multi-threaded BLAS on small products,
does not stall when the CPUs are shared. The BLAS limit (threadpoolctl) holds for the whole
process while a call runs; without threadpoolctl, tiles run one by one on default BLAS.
``"torch"`` (``synthos.backends.torch_backend``, torch installed) runs the tiles on CUDA when
present, else on the CPU, in float64 by default so its answers match numpy's. Callers pass
``backend="..."`` (or a backend instance, e.g. ``TorchBackend(device="cuda:1")``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from synthos.backends.exact import (
    BallHits,
    Balls,
    ball_hits,
    expansion_margin,
    pair_distances,
    sq_norms,
    squared_radius_threshold,
)
from synthos.backends.numpy_backend import NumpyBackend, _smallest_k
from synthos.backends.protocol import DistanceBackend, Span
from synthos.errors import InputError, InvalidOption

DEFAULT_TILE_BYTES = 8 * 2**20
MAX_TILE_BYTES = 64 * 2**20
MAX_TILE_COLS = 2**17

__all__ = [
    "BACKENDS",
    "BallHits",
    "Balls",
    "DistanceBackend",
    "KnnResult",
    "NumpyBackend",
    "Span",
    "as_points",
    "ball_hits",
    "check_k",
    "checked_inputs",
    "expansion_margin",
    "get_backend",
    "knn",
    "kth_nn_distance",
    "pair_distances",
    "plan_tiling",
    "spans",
    "sq_norms",
    "squared_radius_threshold",
]


def _torch_backend() -> DistanceBackend:
    from synthos.backends.torch_backend import TorchBackend  # torch is an optional extra

    return TorchBackend()


BACKENDS: dict[str, Callable[[], DistanceBackend]] = {"numpy": NumpyBackend,
                                                      "torch": _torch_backend}


@dataclass(frozen=True)
class KnnResult:
    """``distances``: (n, k) float64, ascending per row; ``indices``: (n, k) int64 into base."""

    distances: np.ndarray
    indices: np.ndarray


def get_backend(backend: str | DistanceBackend) -> DistanceBackend:
    """The tile backend registered as ``backend`` (or ``backend`` itself when it is one);
    :class:`InvalidOption` for an unknown name."""
    if isinstance(backend, DistanceBackend):
        return backend
    factory = BACKENDS.get(backend) if isinstance(backend, str) else None
    if factory is None:
        raise InvalidOption(
            f"unknown k-NN backend {backend!r}; known: {', '.join(sorted(BACKENDS))}",
            details={"backend": repr(backend), "known": sorted(BACKENDS)},
        )
    return factory()


def as_points(x: object, *, name: str) -> np.ndarray:
    """Validate a point set: (n, d) real numbers, all finite -> C-contiguous float64 (n, d)."""
    arr = np.asarray(x)
    if arr.ndim != 2 or arr.shape[1] == 0:
        raise InputError(f"{name} must be a 2-D (n, d) array with d >= 1, got shape {arr.shape}")
    if arr.dtype.kind not in "biuf":
        raise InputError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if not np.isfinite(arr).all():
        bad = int(np.count_nonzero(~np.isfinite(arr).all(axis=1)))
        raise InputError(
            f"{name} has NaN or infinite values in {bad} row(s)", details={"rows": bad}
        )
    with np.errstate(over="ignore"):
        too_large = arr.size and not np.isfinite(4.0 * np.einsum("ij,ij->i", arr, arr).max())
    if too_large:
        raise InputError(f"{name} has values too large for float64 squared distances")
    return arr


def check_k(k: object, available: int, *, what: str = "k") -> int:
    """``k`` as an int in ``1..available``, else :class:`InvalidOption`."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= available:
        raise InvalidOption(
            f"{what} must be an integer in 1..{available} (points available), got {k!r}",
            details={what: repr(k), "available": available},
        )
    return int(k)


def plan_tiling(n: int, m: int, tile_rows: int | None, tile_cols: int | None) -> tuple[int, int]:
    """(rows, cols) of one tile: at most ~8 MiB by default, at most 64 MiB when rows are given."""
    for label, value in (("tile_rows", tile_rows), ("tile_cols", tile_cols)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 1
        ):
            raise InvalidOption(f"{label} must be a positive integer, got {value!r}")
    cols = tile_cols or min(max(m, 1), MAX_TILE_COLS)
    if tile_cols is None and tile_rows is not None:
        cols = min(max(m, 1), max(1, MAX_TILE_BYTES // (8 * tile_rows)))
    rows = tile_rows or max(1, DEFAULT_TILE_BYTES // (8 * cols))
    return min(rows, max(n, 1)), min(cols, max(m, 1))


def spans(total: int, size: int) -> list[Span]:
    """``[start, stop)`` spans of ``size`` covering ``range(total)``."""
    return [(start, min(start + size, total)) for start in range(0, total, size)]


def exclude_diagonal(
    be: DistanceBackend, d: Any, rows: tuple[int, int], cols: tuple[int, int]
) -> None:
    """Blank out ``d[i - rows[0], i - cols[0]]`` for the global indices i the tile shares."""
    shared = np.arange(max(rows[0], cols[0]), min(rows[1], cols[1]))
    if shared.size:
        be.exclude(d, shared - rows[0], shared - cols[0])


def checked_inputs(query: object, base: object, k: int, exclude_self: bool
                   ) -> tuple[np.ndarray, np.ndarray, int]:
    """``knn``'s input checks: (query, base) as float64 point arrays of one dimension, and k
    checked against the base (one fewer with ``exclude_self``, which needs query == base)."""
    q = as_points(query, name="query")
    b = q if exclude_self and base is query else as_points(base, name="base")
    _check_same_dim(q, b)
    if exclude_self and not np.array_equal(q, b):
        raise InvalidOption("exclude_self=True needs query and base to be the same points")
    return q, b, check_k(k, b.shape[0] - int(exclude_self))


def knn(
    query: object,
    base: object,
    k: int,
    *,
    exclude_self: bool = False,
    backend: str | DistanceBackend = "numpy",
    tile_rows: int | None = None,
    tile_cols: int | None = None,
) -> KnnResult:
    """The k nearest base points of each query point, exactly, in Euclidean distance.

    query: (n, d) real; base: (m, d) real; k in ``1..m`` (``1..m-1`` with ``exclude_self``).
    ``exclude_self=True`` says query *is* base: point i never lists itself, so the first
    neighbour is the nearest *other* point (an exact duplicate of i still counts, at 0).
    Returns :class:`KnnResult` with (n, k) float64 distances and (n, k) int64 indices, sorted
    by (distance, base index). Selection runs on expansion distances, so among points whose
    distances differ by less than their rounding error (~1e-8 * |x|) the order is not promised.
    """
    be = get_backend(backend)
    q, b, k = checked_inputs(query, base, k, exclude_self)
    rows, cols = plan_tiling(q.shape[0], b.shape[0], _rows_hint(be, tile_rows), tile_cols)
    pq, pb = be.prepare(q, side="query"), be.prepare(b, side="base")

    def row_tile(r: Span) -> tuple[np.ndarray, np.ndarray]:
        best: tuple[np.ndarray, np.ndarray] | None = None
        for c in spans(b.shape[0], cols):
            d = be.pairwise_sq_dists(pq[r[0] : r[1]], pb[c[0] : c[1]])
            if exclude_self:
                exclude_diagonal(be, d, r, c)
            vals, where = be.topk_smallest(d, k)
            best = _merge_topk(best, (vals, where + c[0]), k)
        assert best is not None
        exact = _exact_distances(q[r[0] : r[1]], b, best[1])
        order = np.lexsort((best[1], exact), axis=-1)
        return np.take_along_axis(exact, order, 1), np.take_along_axis(best[1], order, 1)

    tiles = be.tile_map(row_tile, spans(q.shape[0], rows))
    if not tiles:
        return KnnResult(np.empty((0, k)), np.empty((0, k), dtype=np.int64))
    return KnnResult(np.vstack([t[0] for t in tiles]), np.vstack([t[1] for t in tiles]))


def kth_nn_distance(
    x: object,
    k: int,
    *,
    backend: str | DistanceBackend = "numpy",
    tile_rows: int | None = None,
    tile_cols: int | None = None,
) -> np.ndarray:
    """(n,) float64: distance from each point of x (n, d) to its k-th nearest *other* point.

    This is prdc's ``compute_nearest_neighbour_distances(x, k)`` (the (k+1)-th smallest
    distance counting the point itself at 0) up to rounding, and
    ``knn(x, x, k, exclude_self=True).distances[:, -1]`` without the sort; k in ``1..n-1``.
    """
    be = get_backend(backend)
    pts = as_points(x, name="x")
    k = check_k(k, pts.shape[0] - 1)
    rows, cols = plan_tiling(pts.shape[0], pts.shape[0], _rows_hint(be, tile_rows), tile_cols)
    pq, pb = be.prepare(pts, side="query"), be.prepare(pts, side="base")

    def row_tile(r: Span) -> np.ndarray:
        best: tuple[np.ndarray, np.ndarray] | None = None
        for c in spans(pts.shape[0], cols):
            d = be.pairwise_sq_dists(pq[r[0] : r[1]], pb[c[0] : c[1]])
            exclude_diagonal(be, d, r, c)
            vals, where = be.smallest_k(d, k)
            where = where + c[0]
            if best is not None:
                vals, where = np.hstack([best[0], vals]), np.hstack([best[1], where])
            best = _smallest_k(vals, where, k)
        assert best is not None
        return _exact_distances(pts[r[0] : r[1]], pts, best[1]).max(axis=1)

    return np.concatenate(be.tile_map(row_tile, spans(pts.shape[0], rows)))


def _check_same_dim(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape[1] != b.shape[1]:
        raise InputError(f"point sets differ in dimension: {a.shape[1]} vs {b.shape[1]}")


def _merge_topk(best, new, k):
    """Join two (value, index) top-k lists whose rows are sorted; ties to the lower index."""
    if best is None:
        return new
    vals, idx = np.hstack([best[0], new[0]]), np.hstack([best[1], new[1]])
    order = np.lexsort((idx, vals), axis=-1)[:, :k]
    return np.take_along_axis(vals, order, 1), np.take_along_axis(idx, order, 1)


def _exact_distances(q: np.ndarray, b: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """(n, k) :func:`pair_distances` from q (n, d) to b[idx], idx: (n, k)."""
    dist = np.empty(idx.shape)
    step = max(1, 2**20 // max(1, idx.shape[1] * q.shape[1]))  # <= ~8 MiB of coordinates
    for r0, r1 in spans(q.shape[0], step):
        dist[r0:r1] = pair_distances(q[r0:r1, None, :], b[idx[r0:r1]])
    return dist


def _rows_hint(be: DistanceBackend, tile_rows: int | None) -> int | None:
    """``tile_rows`` when given, else the backend's preferred rows per tile (its ``tile_rows``
    attribute), if it has one."""
    if tile_rows is not None:
        return tile_rows
    hint = getattr(be, "tile_rows", None)
    return hint if isinstance(hint, int) and hint > 0 else None
