"""The torch backend: the same tile kernels on a torch device (CUDA when present, else CPU).

Tiles are float64 by default, so selections and radius decisions agree with the numpy backend
(``synthos.knn`` recomputes every returned distance from coordinates in numpy either way, and
its radius margins assume float64 rounding). ``dtype=torch.float32`` is allowed for ``knn``
and ``kth_nn_distance`` only where near-ties may be ordered differently; the radius passes
refuse it. What crosses back to numpy is small: (n, k) values and indices, counts, or the few
entries near a ball's edge.

Also here, with numpy twins in ``NumpyBackend``, the other heavy kernels:
co-moments of a block of columns, and sort-based counting of equal row hashes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
import torch

from synthos.backends.protocol import R, Span
from synthos.errors import InvalidOption

_SIGN = np.uint64(1 << 63)


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


class TorchBackend:
    """Tile kernels in torch on ``device`` (default: CUDA when available, else CPU)."""

    name = "torch"

    def __init__(self, device: str | None = None, dtype: torch.dtype = torch.float64) -> None:
        if dtype not in (torch.float64, torch.float32):
            raise InvalidOption(f"torch backend dtype must be float64 or float32, got {dtype}")
        try:
            self.device = torch.device(device or default_device())
        except RuntimeError as exc:
            raise InvalidOption(f"unknown torch device {device!r}: {exc}") from exc
        self.dtype = dtype
        # rows per tile when the caller gives none: wide tiles keep the device busy
        self.tile_rows = 4096 if self.device.type == "cuda" else 1024

    def tile_map(self, job: Callable[[Span], R], row_spans: Sequence[Span]) -> list[R]:
        return [job(s) for s in row_spans]  # the device (or torch's CPU threads) is parallel

    def prepare(self, points: np.ndarray, *, side: Literal["query", "base"]) -> torch.Tensor:
        x = torch.from_numpy(np.ascontiguousarray(points)).to(self.device, torch.float64)
        sq = (x * x).sum(dim=1, keepdim=True)
        ones = torch.ones_like(sq)
        parts = [x * -2.0, sq, ones] if side == "query" else [x, ones, sq]
        return torch.cat(parts, dim=1).to(self.dtype)

    def pairwise_sq_dists(self, query_rows: torch.Tensor, base_rows: torch.Tensor
                          ) -> torch.Tensor:
        return query_rows @ base_rows.T

    def exclude(self, d: torch.Tensor, rows: np.ndarray, cols: np.ndarray) -> None:
        d[self._index(rows), self._index(cols)] = float("inf")

    def topk_smallest(self, d: torch.Tensor, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Ascending by (value, column): torch's topk does not order ties, so rows with equal
        values across the cut are redone by a stable sort, and the k winners re-sorted."""
        k = min(k, d.shape[1])
        vals, idx = torch.topk(d, k, dim=1, largest=False, sorted=True)
        kth = vals[:, -1:]
        straddle = (d <= kth).sum(dim=1) > k
        if bool(straddle.any()):
            rows = straddle.nonzero().flatten()
            s_vals, s_idx = torch.sort(d[rows], dim=1, stable=True)
            vals[rows], idx[rows] = s_vals[:, :k], s_idx[:, :k]
        v, i = vals.double().cpu().numpy(), idx.cpu().numpy().astype(np.int64)
        order = np.lexsort((i, v), axis=-1)
        return np.take_along_axis(v, order, 1), np.take_along_axis(i, order, 1)

    def smallest_k(self, d: torch.Tensor, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, d.shape[1])
        vals, idx = torch.topk(d, k, dim=1, largest=False, sorted=False)
        return vals.double().cpu().numpy(), idx.cpu().numpy().astype(np.int64)

    def below(self, d: torch.Tensor, thresholds: np.ndarray, *, per: str) -> torch.Tensor:
        if self.dtype != torch.float64:
            raise InvalidOption("radius decisions need the float64 torch backend")
        t = torch.from_numpy(np.ascontiguousarray(thresholds, np.float64)).to(self.device)
        return d < (t[:, None] if per == "row" else t[None, :])

    def count(self, mask: torch.Tensor, axis: int | None) -> np.ndarray:
        total = mask.sum() if axis is None else mask.sum(dim=axis)
        return np.asarray(total.cpu().numpy(), dtype=np.int64)

    def any(self, mask: torch.Tensor, axis: int) -> np.ndarray:
        return np.asarray(mask.any(dim=axis).cpu().numpy(), dtype=bool)

    def uncertain(self, hi: torch.Tensor, lo: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        both = (hi & ~lo).nonzero()
        if both.numel() == 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        out = both.cpu().numpy().astype(np.int64)
        return out[:, 0], out[:, 1]

    # ---- other heavy kernels -----------------------------------------------------------

    def co_moments(self, x: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
        """(n, mean (d,), centred cross-product sums (d, d)) of x (n, d) float64."""
        t = torch.from_numpy(np.ascontiguousarray(x, np.float64)).to(self.device)
        n = t.shape[0]
        if n == 0:
            d = t.shape[1]
            return 0, np.zeros(d), np.zeros((d, d))
        mean = t.mean(dim=0)
        c = t - mean
        return n, mean.cpu().numpy(), (c.T @ c).cpu().numpy()

    def unique_counts(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(sorted distinct uint64 values, their counts) by a sort on the device."""
        signed = (np.ascontiguousarray(hashes, np.uint64) ^ _SIGN).view(np.int64)
        keys, counts = torch.unique(torch.from_numpy(signed).to(self.device), sorted=True,
                                    return_counts=True)
        back = keys.cpu().numpy().view(np.uint64) ^ _SIGN
        return back, counts.cpu().numpy().astype(np.int64)

    def _index(self, a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a, np.int64)).to(self.device)

