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

Tile arithmetic and scheduling go through a :class:`DistanceBackend`. ``"numpy"`` is built in:
row tiles run on a pool of threads, one per CPU, each with single-threaded BLAS; that keeps
every core busy through the non-BLAS steps and, unlike multi-threaded BLAS on small products,
does not stall when the CPUs are shared. The BLAS limit (threadpoolctl) holds for the whole
process while a call runs; without threadpoolctl, tiles run one by one on default BLAS.
Another backend (torch on CUDA) only has to implement the protocol and be registered in
``BACKENDS``: callers keep passing ``backend="..."`` (or a backend instance).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable

import numpy as np

from synthos.errors import EngineError, InputError, InvalidOption

try:  # sets the BLAS thread count of the running process; without it, tiles run one by one
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover - installed with scikit-learn in every dev setup
    threadpool_limits = None

DEFAULT_TILE_BYTES = 8 * 2**20
MAX_TILE_BYTES = 64 * 2**20
MAX_TILE_COLS = 2**17
MAX_WORKERS = 16
Span = tuple[int, int]
R = TypeVar("R")


@runtime_checkable
class DistanceBackend(Protocol):
    """Tile kernels. Prepared points, tiles (n, m) and masks are the backend's own arrays
    (numpy, torch on a device...); what comes back as ``np.ndarray`` is small (at most k
    values per row, or the few entries near a ball's edge)."""

    name: str

    def tile_map(self, job: Callable[[Span], R], row_spans: Sequence[Span]) -> list[R]:
        """``[job(s) for s in row_spans]``, the jobs independent and possibly concurrent."""

    def prepare(self, points: np.ndarray, *, side: Literal["query", "base"]) -> Any:
        """(n, d) float64 -> backend rows that support ``[start:stop]`` slicing."""

    def pairwise_sq_dists(self, query_rows: Any, base_rows: Any) -> Any:
        """(n, m) squared distances; may be slightly negative (unclamped)."""

    def exclude(self, d: Any, rows: np.ndarray, cols: np.ndarray) -> None:
        """Set ``d[rows, cols] = +inf`` in place."""

    def topk_smallest(self, d: Any, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(n, min(k, m)) values and column indices, ascending by (value, column)."""

    def smallest_k(self, d: Any, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(n, min(k, m)) values and column indices of k smallest entries, in no order."""

    def below(self, d: Any, thresholds: np.ndarray, *, per: Literal["row", "col"]) -> Any:
        """Mask ``d < thresholds`` with one threshold per row or per column."""

    def count(self, mask: Any, axis: int | None) -> np.ndarray:
        """Number of true entries along ``axis`` (None: in total), int64."""

    def any(self, mask: Any, axis: int) -> np.ndarray:
        """Whether any entry is true along ``axis``, bool."""

    def uncertain(self, hi: Any, lo: Any) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cols) int64 of the entries true in ``hi`` and false in ``lo`` (lo <= hi)."""


class NumpyBackend:
    """The built-in backend: float64 numpy tiles, BLAS matmul, argpartition selection;
    ``workers`` threads (default: the CPUs this process may use, at most 16)."""

    name = "numpy"

    def __init__(self, workers: int | None = None) -> None:
        if workers is None:
            cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
            workers = min(MAX_WORKERS, len(cpus) if cpus else os.cpu_count() or 1)
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise InvalidOption(f"workers must be a positive integer, got {workers!r}")
        self.workers = workers

    def tile_map(self, job: Callable[[Span], R], row_spans: Sequence[Span]) -> list[R]:
        if threadpool_limits is None:
            return [job(s) for s in row_spans]
        workers = min(self.workers, len(row_spans))
        with threadpool_limits(1, user_api="blas"):
            if workers <= 1:
                return [job(s) for s in row_spans]
            with ThreadPoolExecutor(workers, thread_name_prefix="synthos-knn") as pool:
                return list(pool.map(job, row_spans))

    def prepare(self, points: np.ndarray, *, side: Literal["query", "base"]) -> np.ndarray:
        sq = np.einsum("ij,ij->i", points, points)[:, None]
        ones = np.ones_like(sq)
        return np.hstack([points * -2.0, sq, ones] if side == "query" else [points, ones, sq])

    def pairwise_sq_dists(self, query_rows: np.ndarray, base_rows: np.ndarray) -> np.ndarray:
        return query_rows @ base_rows.T

    def exclude(self, d: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> None:
        d[rows, cols] = np.inf

    def topk_smallest(self, d: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        pruned = _prune(d, k)
        if pruned is None:
            return _topk_sorted(d, np.arange(d.shape[1]), k)
        cols, group_min, kth_group_min = pruned
        # a group tied with the k-th group minimum may hold a lower-index tie: redo that row
        tied = np.count_nonzero(group_min <= kth_group_min[:, None], axis=1) > k
        vals = np.take_along_axis(d, cols, axis=1)
        out_v, out_i = _topk_sorted(vals, cols, k)
        if tied.any():
            out_v[tied], out_i[tied] = _topk_sorted(d[tied], np.arange(d.shape[1]), k)
        return out_v, out_i

    def smallest_k(self, d: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        pruned = _prune(d, k)
        if pruned is None:
            return _smallest_k(d, np.arange(d.shape[1]), k)
        return _smallest_k(np.take_along_axis(d, pruned[0], axis=1), pruned[0], k)

    def below(self, d: np.ndarray, thresholds: np.ndarray, *, per: str) -> np.ndarray:
        return d < (thresholds[:, None] if per == "row" else thresholds[None, :])

    def count(self, mask: np.ndarray, axis: int | None) -> np.ndarray:
        return np.asarray(np.count_nonzero(mask, axis=axis), dtype=np.int64)

    def any(self, mask: np.ndarray, axis: int) -> np.ndarray:
        return np.logical_or.reduce(mask, axis=axis)

    def uncertain(self, hi: np.ndarray, lo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if np.count_nonzero(hi) == np.count_nonzero(lo):
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        rows, cols = np.nonzero(hi & ~lo)
        return rows.astype(np.int64), cols.astype(np.int64)


def _prune(d: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Candidate columns (n, c), ascending per row, that hold every row's k smallest entries.

    Columns are dealt into ``groups`` strided groups of ``g`` (column p * groups + q is in
    group q); the k smallest entries of a row lie in the k groups with the smallest minima
    (plus the < g leftover columns, always kept). Also returns the (n, groups) group minima and
    the (n,) k-th smallest of them. None when the row is too short to gain from pruning.
    """
    n, m = d.shape
    g = int(np.sqrt(m / k))
    groups = m // max(g, 1)
    if g < 4 or groups < 4 * k:
        return None
    group_min = d[:, : g * groups].reshape(n, g, groups).min(axis=1)
    pick = np.sort(np.argpartition(group_min, k - 1, axis=1)[:, :k], axis=1)
    kth_group_min = np.take_along_axis(group_min, pick, axis=1).max(axis=1)
    cols = (pick[:, None, :] + groups * np.arange(g)[None, :, None]).reshape(n, g * k)
    leftover = np.broadcast_to(np.arange(g * groups, m), (n, m - g * groups))
    return np.hstack([cols, leftover]), group_min, kth_group_min


def _topk_sorted(vals: np.ndarray, cols: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k smallest of each row of vals (n, c) by (value, column); cols: (c,) or (n, c),
    ascending per row, so position order is column order."""
    cols = np.broadcast_to(cols, vals.shape)
    if vals.shape[1] <= k:
        pos = np.argsort(vals, axis=1, kind="stable")
    else:
        pos = np.argpartition(vals, k - 1, axis=1)[:, :k]
        kth = np.take_along_axis(vals, pos, axis=1).max(axis=1)
        straddle = np.count_nonzero(vals <= kth[:, None], axis=1) > k
        if straddle.any():  # equal values across the cut: keep the lowest positions
            pos[straddle] = np.argsort(vals[straddle], axis=1, kind="stable")[:, :k]
        pos = np.take_along_axis(pos, np.lexsort((pos, np.take_along_axis(vals, pos, 1))), 1)
    return np.take_along_axis(vals, pos, axis=1), np.take_along_axis(cols, pos, axis=1)


BACKENDS: dict[str, Callable[[], DistanceBackend]] = {"numpy": NumpyBackend}


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
    q = as_points(query, name="query")
    b = q if exclude_self and base is query else as_points(base, name="base")
    _check_same_dim(q, b)
    if exclude_self and not np.array_equal(q, b):
        raise InvalidOption("exclude_self=True needs query and base to be the same points")
    k = check_k(k, b.shape[0] - int(exclude_self))
    rows, cols = plan_tiling(q.shape[0], b.shape[0], tile_rows, tile_cols)
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
    rows, cols = plan_tiling(pts.shape[0], pts.shape[0], tile_rows, tile_cols)
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


def count_within_radius(
    query: object,
    base: object,
    radii: object,
    *,
    strict: bool = False,
    backend: str | DistanceBackend = "numpy",
    tile_rows: int | None = None,
    tile_cols: int | None = None,
) -> np.ndarray:
    """(n,) int64: for each query point (n, d), the number of base points j (m, d) with
    ``dist(query_i, base_j) <= radii[j]`` (``<`` when ``strict``); radii: (m,), no NaN."""
    return _radius_pass(query, base, radii, strict, backend, tile_rows, tile_cols, count=True)


def any_within_radius(
    query: object,
    base: object,
    radii: object,
    *,
    strict: bool = False,
    backend: str | DistanceBackend = "numpy",
    tile_rows: int | None = None,
    tile_cols: int | None = None,
) -> np.ndarray:
    """(n,) bool: whether some base point j (m, d) has ``dist(query_i, base_j) <= radii[j]``
    (``<`` when ``strict``); radii: (m,), no NaN."""
    return _radius_pass(query, base, radii, strict, backend, tile_rows, tile_cols, count=False)


def pair_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(...,) float64 distances between paired points a, b: (..., d), broadcastable.

    Squared coordinate differences are summed by one reduction along a fresh contiguous last
    axis, whose order depends on d alone: the same pair gives the same bits in any call.
    """
    diff = np.subtract(a, b)
    np.multiply(diff, diff, out=diff)
    return np.sqrt(np.add.reduce(diff, axis=-1))


def sq_norms(x: np.ndarray) -> np.ndarray:
    """(n,) float64 squared norms of the rows of x (n, d)."""
    return np.einsum("ij,ij->i", x, x)


def expansion_margin(dim: int, query_sq_norm: float, base_sq_norm: float) -> float:
    """A bound on |expansion squared distance - :func:`pair_distances` squared| for points
    of dimension ``dim`` and squared norms up to the given ones (dot-product error bounds of
    both sums, doubled)."""
    eps, tiny = np.finfo(np.float64).eps, np.finfo(np.float64).smallest_normal
    return 16.0 * (dim + 2) * (eps * (query_sq_norm + base_sq_norm) + tiny)


@dataclass(frozen=True)
class Balls:
    """Balls around points: ``radii`` (m,), strict (open) or not, and ``below`` (m,) with
    ``s < below[j]  <=>  sqrt(max(s, 0)) < radii[j]`` (``<=`` when not strict)."""

    radii: np.ndarray
    below: np.ndarray
    strict: bool

    @classmethod
    def of(cls, radii: np.ndarray, *, strict: bool) -> Balls:
        t = squared_radius_threshold(radii, strict=strict)
        return cls(np.asarray(radii, np.float64), t if strict else np.nextafter(t, np.inf), strict)

    def take(self, start: int, stop: int) -> Balls:
        return Balls(self.radii[start:stop], self.below[start:stop], self.strict)


@dataclass(frozen=True)
class BallHits:
    """Which entries (i, j) of a tile lie in the balls: ``certain`` (backend mask, (n, m)) by
    the expansion with room to spare, plus ``rows``/``cols`` (u,) found inside on an exact
    recheck of the entries too close to the edge to tell. The two never overlap."""

    certain: Any
    rows: np.ndarray
    cols: np.ndarray


def ball_hits(
    be: DistanceBackend,
    d: Any,
    query: np.ndarray,
    base: np.ndarray,
    balls: Balls,
    *,
    per: Literal["row", "col"],
    margin: float,
) -> BallHits:
    """Entries of the tile d (expansion squared distances between query (n, dim) and base
    (m, dim)) with ``dist(query_i, base_j) < radius`` (``<=`` for closed balls), the radius being
    ``balls.radii[i]`` (per row) or ``[j]`` (per column), decided exactly (module docstring);
    ``margin`` from :func:`expansion_margin`."""
    certain = be.below(d, balls.below - margin, per=per)
    rows, cols = be.uncertain(be.below(d, balls.below + margin, per=per), certain)
    if rows.size:
        dist = pair_distances(query[rows], base[cols])
        radius = balls.radii[rows if per == "row" else cols]
        keep = dist < radius if balls.strict else dist <= radius
        rows, cols = rows[keep], cols[keep]
    return BallHits(certain, rows, cols)


def squared_radius_threshold(radii: np.ndarray, *, strict: bool) -> np.ndarray:
    """(m,) float64 t with ``sqrt(max(s, 0)) < r  <=>  s < t`` for every float64 s (strict),
    or ``sqrt(max(s, 0)) <= r  <=>  s <= t`` (not strict); radii: (m,) float.

    Comparing squared distances with t gives bit for bit the answer of comparing rounded
    distances with r, ties included, without a square root over the tile.
    """
    r = np.asarray(radii, dtype=np.float64)
    r_pos = np.maximum(r, 0.0)
    with np.errstate(over="ignore", under="ignore"):
        t = np.square(r_pos)
        for _ in range(64):
            below, above = np.nextafter(t, -np.inf), np.nextafter(t, np.inf)
            if strict:  # the least t with sqrt(t) >= r
                down = (t > 0) & (np.sqrt(np.maximum(below, 0.0)) >= r_pos)
                up = np.sqrt(t) < r_pos
            else:  # the greatest t with sqrt(t) <= r
                down = np.sqrt(t) > r_pos
                up = np.isfinite(t) & (np.sqrt(above) <= r_pos)
            if not (down.any() or up.any()):
                break
            t = np.where(down, below, np.where(up, above, t))
        else:
            raise EngineError("squared radius threshold did not converge")
    return np.where(r <= 0, -np.inf, t) if strict else np.where(r < 0, -np.inf, t)


def _radius_pass(query, base, radii, strict, backend, tile_rows, tile_cols, *, count: bool):
    be = get_backend(backend)
    q, b = as_points(query, name="query"), as_points(base, name="base")
    _check_same_dim(q, b)
    r = np.asarray(radii, dtype=np.float64)
    if r.shape != (b.shape[0],) or np.isnan(r).any():
        raise InputError(f"radii must be a ({b.shape[0]},) array without NaN, got {r.shape}")
    balls = Balls.of(r, strict=strict)
    q_norm, b_norm = sq_norms(q), sq_norms(b)
    rows, cols = plan_tiling(q.shape[0], b.shape[0], tile_rows, tile_cols)
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
    counts = np.concatenate(tiles) if tiles else np.zeros(0, dtype=np.int64)
    return counts if count else counts > 0


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


def _smallest_k(vals: np.ndarray, cols: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    cols = np.broadcast_to(cols, vals.shape)
    if vals.shape[1] <= k:
        return vals, np.array(cols)
    pos = np.argpartition(vals, k - 1, axis=1)[:, :k]
    return np.take_along_axis(vals, pos, axis=1), np.take_along_axis(cols, pos, axis=1)
