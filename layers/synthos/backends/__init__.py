"""Backends for the heavy kernels: ``numpy`` (CPU; Lambda, CLI) and ``torch`` (CUDA on Batch,
or the CPU). The backend is always an argument (a name or an instance), never a global.

Kernels: the tile kernels of exact k-NN and radius counts (``synthos.knn`` drives them),
co-moments of a column block (covariance; blocks merge with :func:`merge_co_moments`), and
sort-based counting of equal row hashes (duplicates).
"""

from __future__ import annotations

import numpy as np

from synthos.backends.numpy_backend import NumpyBackend
from synthos.backends.protocol import DistanceBackend, Span

CoMoments = tuple[int, np.ndarray, np.ndarray]


def merge_co_moments(a: CoMoments, b: CoMoments) -> CoMoments:
    """Co-moments (n, mean, centred cross-product sums) of the union of two row blocks."""
    na, ma, ca = a
    nb, mb, cb = b
    if na == 0:
        return b
    if nb == 0:
        return a
    n = na + nb
    delta = mb - ma
    return n, ma + delta * nb / n, ca + cb + np.outer(delta, delta) * na * nb / n


__all__ = ["CoMoments", "DistanceBackend", "NumpyBackend", "Span", "merge_co_moments"]
