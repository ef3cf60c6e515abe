"""Exact k-NN on a fused Triton kernel (distance matmul + running top-K, nothing n x m in
memory), for CUDA; triton's CPU interpreter runs it too, slowly, for tests.

    from synthos.backends.fused import fused_knn
    res = fused_knn(x, x, 5, exclude_self=True)        # a synthos.knn.KnnResult

``kernel`` (the Triton kernel and its cost model; imports triton, loaded on first use),
``bound`` (the TF32/bf16 error bound and the certificate), ``search`` (the exact wrapper).
Importing this package needs neither torch nor triton; calling it does, else
:class:`synthos.errors.InvalidOption`.
"""

from __future__ import annotations

from synthos.backends.fused.bound import certified, error_factor
from synthos.backends.fused.search import (
    DEFAULT_MARGIN,
    FusedConfig,
    FusedKnn,
    fused_knn,
    fused_knn_report,
)

__all__ = [
    "DEFAULT_MARGIN",
    "FusedConfig",
    "FusedKnn",
    "certified",
    "error_factor",
    "fused_knn",
    "fused_knn_report",
]
