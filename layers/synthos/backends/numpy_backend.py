"""The built-in CPU backend: float64 numpy tiles, BLAS matmul, argpartition selection."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

import numpy as np

from synthos.backends.protocol import R, Span
from synthos.cpus import available_cpus
from synthos.errors import InvalidOption

try:  # sets the BLAS thread count of the running process; without it, tiles run one by one
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover - installed with scikit-learn in every dev setup
    threadpool_limits = None

MAX_WORKERS = 16


class NumpyBackend:
    """The built-in backend: float64 numpy tiles, BLAS matmul, argpartition selection;
    ``workers`` threads (default: the CPUs this process may use, at most 16)."""

    name = "numpy"

    def __init__(self, workers: int | None = None) -> None:
        if workers is None:
            workers = min(MAX_WORKERS, available_cpus())
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


    # ---- other heavy kernels -----------------------------------------------------------

    def co_moments(self, x: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
        """(n, mean (d,), centred cross-product sums (d, d)) of x (n, d) float64; the
        covariance (ddof=0) is ``sums / n``; blocks merge by Chan's rule."""
        x = np.ascontiguousarray(x, np.float64)
        n = x.shape[0]
        if n == 0:
            return 0, np.zeros(x.shape[1]), np.zeros((x.shape[1], x.shape[1]))
        mean = x.mean(axis=0)
        c = x - mean
        return n, mean, c.T @ c

    def unique_counts(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(sorted distinct uint64 values, their counts), by one sort."""
        keys, counts = np.unique(np.asarray(hashes, np.uint64), return_counts=True)
        return keys, counts.astype(np.int64)


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


def _smallest_k(vals: np.ndarray, cols: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    cols = np.broadcast_to(cols, vals.shape)
    if vals.shape[1] <= k:
        return vals, np.array(cols)
    pos = np.argpartition(vals, k - 1, axis=1)[:, :k]
    return np.take_along_axis(vals, pos, axis=1), np.take_along_axis(cols, pos, axis=1)
