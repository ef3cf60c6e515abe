"""The tile-kernel protocol every distance backend implements (see ``synthos.knn``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable

import numpy as np

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
