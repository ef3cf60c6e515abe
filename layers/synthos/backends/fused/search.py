"""Exact k-NN on the fused kernel: candidates in TF32/bf16, then float64 and a certificate.

Steps of :func:`fused_knn_report`:

1. the points are centred on the base mean and scaled by a power of two so that every squared
   norm is < 1 (distances unchanged up to that exact factor; small norms keep the error bound
   of ``bound`` tight, and no fp32 overflow is possible);
2. the kernel returns, per query, its K = next power of two of ``k + margin`` (at most 16)
   smallest approximate squared distances and their base indices;
3. the candidates' distances are recomputed from coordinates in float64 with
   :func:`synthos.backends.exact.pair_distances` (the function ``synthos.knn`` uses, so equal
   pairs give equal bits), sorted by (distance, base index), and k kept;
4. each row is certified (``bound.certified``); rows that fail are recomputed by
   :func:`synthos.knn.knn` with the ``fallback`` backend (numpy by default). So are all rows
   of points too small for float64 squared distances to be exact (centred coordinates below
   about 2^-400, see ``_MAX_SCALE``).

Ties: the answer is ordered by (distance, base index) like ``knn``. It is the exact answer for
that rule: a certified row holds the k smallest (distance, index) pairs outright. ``knn``
selects on float64 expansion values first, so where two points' distances differ by less than
its rounding (~1e-8 relative) the two may list different points; distances still agree to
that rounding. Fallback rows are ``knn``'s own answer.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from synthos.backends.exact import pair_distances, sq_norms
from synthos.backends.fused.bound import certified, error_factor
from synthos.backends.protocol import DistanceBackend
from synthos.cpus import available_cpus
from synthos.errors import InvalidOption
from synthos.knn import KnnResult, checked_inputs, knn, spans

MAX_SLOTS = 16
DEFAULT_MARGIN = 11
_INDEX_LIMIT = 2**31
# A certified row's other points are >= 2^-166 away in squared scaled units (the slack is
# >= tiny > 2^-114, so a positive float64 ``a_K - slack`` is): in the caller's units >= 2^-966
# while scale <= 2^400, where no subnormal squares blur pair_distances by more than the 2^-40
# the certificate allows. Smaller points (centred coordinates below ~2^-400) all fall back.
_MAX_SCALE = 2.0**400


@dataclass(frozen=True)
class FusedConfig:
    """Launch shape: query rows per program, base rows per step, warps, pipeline stages."""

    block_m: int = 128
    block_n: int = 64
    num_warps: int = 8
    num_stages: int = 3

    def as_tuple(self) -> tuple[int, int, int, int]:
        return self.block_m, self.block_n, self.num_warps, self.num_stages


INTERPRETER_CONFIG = FusedConfig(32, 32, 4, 1)


@dataclass(frozen=True)
class FusedInputs:
    """Centred, scaled points (float64 numpy) and their device copies for the kernel.

    ``q``/``b``: (n, d)/(m, d) float64 ``(x - mean) * scale``; ``qn``/``bn``: their squared
    norms; ``q_dev``/``b_dev``: (n, DP)/(m, DP) float32 or bfloat16, zero-padded to DP, the
    next power of two >= max(d, 16); ``bn_dev``: (m,) float32 (torch tensors).
    """

    q: np.ndarray
    b: np.ndarray
    qn: np.ndarray
    bn: np.ndarray
    scale: float
    q_dev: Any
    b_dev: Any
    bn_dev: Any


@dataclass(frozen=True)
class FusedKnn:
    """The answer plus what it took: ``fallback_rows`` (int64 query rows recomputed by
    ``synthos.knn``), ``k_slots`` (K), ``kernel_seconds`` (the kernel launch, synchronised)."""

    result: KnnResult
    fallback_rows: np.ndarray
    k_slots: int
    kernel_seconds: float


def fused_knn(
    query: object,
    base: object,
    k: int,
    *,
    exclude_self: bool = False,
    margin: int = DEFAULT_MARGIN,
    precision: str = "tf32",
    device: str | None = None,
    config: FusedConfig | None = None,
    fallback: str | DistanceBackend = "numpy",
) -> KnnResult:
    """:func:`synthos.knn.knn`'s answer, computed on the fused kernel (arguments as for
    :func:`fused_knn_report`)."""
    return fused_knn_report(query, base, k, exclude_self=exclude_self, margin=margin,
                            precision=precision, device=device, config=config,
                            fallback=fallback).result


def fused_knn_report(
    query: object,
    base: object,
    k: int,
    *,
    exclude_self: bool = False,
    margin: int = DEFAULT_MARGIN,
    precision: str = "tf32",
    device: str | None = None,
    config: FusedConfig | None = None,
    fallback: str | DistanceBackend = "numpy",
) -> FusedKnn:
    """The k nearest base points (m, d) of each query point (n, d), exactly (module docstring).

    ``precision``: "tf32" (fp32 inputs on TF32 tensor cores), "bf16" or "ieee" (fp32 products);
    ``device``: a torch device, default CUDA; the CPU works only under triton's interpreter.
    Same arguments, checks and result as :func:`synthos.knn.knn`; k + 1 <= 16.
    """
    q, b, k = checked_inputs(query, base, k, exclude_self)
    slots = k_slots(k, margin)
    error_factor(precision, q.shape[1])  # validates precision before any work
    dev = resolve_device(device)
    if q.shape[0] == 0:
        empty = KnnResult(np.empty((0, k)), np.empty((0, k), dtype=np.int64))
        return FusedKnn(empty, np.empty(0, dtype=np.int64), slots, 0.0)
    inputs = fused_inputs(q, b, same=exclude_self, precision=precision, device=dev)
    start = time.perf_counter()
    vals, idx = fused_candidates(inputs, slots, exclude_self=exclude_self, precision=precision,
                                 config=config or _default_config(dev))
    seconds = time.perf_counter() - start
    cand = idx.cpu().numpy().astype(np.int64)
    approx_kth = (vals.cpu().numpy().astype(np.float64) + inputs.qn[:, None]).max(axis=1)
    dist = _candidate_distances(q, b, cand)
    order = np.lexsort((cand, dist), axis=-1)[:, :k]
    dist, cand = np.take_along_axis(dist, order, 1), np.take_along_axis(cand, order, 1)
    ok = certified(approx_kth, np.square(dist[:, -1] * inputs.scale), inputs.qn,
                   float(inputs.bn.max(initial=0.0)), precision=precision,
                   dim=int(inputs.q_dev.shape[1])) & (inputs.scale <= _MAX_SCALE)
    rows = np.flatnonzero(~ok)
    if rows.size:
        dist[rows], cand[rows] = _fallback(q, b, rows, k, exclude_self, fallback)
    return FusedKnn(KnnResult(dist, cand), rows.astype(np.int64), slots, seconds)


def k_slots(k: int, margin: int) -> int:
    """K: the next power of two >= k + margin, at most 16; needs k < 16 and margin >= 1."""
    if isinstance(margin, bool) or not isinstance(margin, int) or margin < 1:
        raise InvalidOption(f"margin must be a positive integer, got {margin!r}")
    if k >= MAX_SLOTS:
        raise InvalidOption(f"fused k-NN keeps at most {MAX_SLOTS} candidates, so k <= "
                            f"{MAX_SLOTS - 1}; got k={k} (use synthos.knn.knn)")
    return min(MAX_SLOTS, 1 << (k + margin - 1).bit_length())


def resolve_device(device: str | None) -> Any:
    """The torch device to run on, or :class:`InvalidOption` when the fused kernel cannot run
    there (no torch/triton, no CUDA and no interpreter)."""
    try:
        import torch

        from synthos.backends.fused import kernel
    except ImportError as exc:
        raise InvalidOption(f"fused k-NN needs torch and triton (the gpu extra): {exc}") from exc
    try:
        dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    except RuntimeError as exc:
        raise InvalidOption(f"unknown torch device {device!r}: {exc}") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InvalidOption("fused k-NN: CUDA was asked for but is not available")
    if dev.type not in ("cuda", "cpu") or (dev.type == "cpu" and not kernel.interpreted()):
        raise InvalidOption(
            f"fused k-NN runs on CUDA, or on the CPU under triton's interpreter only "
            f"(TRITON_INTERPRET=1 set before triton is imported); got device {str(dev)!r}"
        )
    return dev


def fused_inputs(q: np.ndarray, b: np.ndarray, *, same: bool, precision: str,
                 device: Any) -> FusedInputs:
    """Centre on b's mean, scale by a power of two to squared norms < 1, pad, copy to device;
    ``same``: q is b (one copy)."""
    import torch

    shift = b.mean(axis=0) if b.shape[0] else np.zeros(b.shape[1])
    qc = q - shift
    bc = qc if same else b - shift
    # a power of two (exact) from the largest |coordinate|, not from norms (their squares can
    # under- or overflow): every squared norm <= d amax^2 scale^2 < 1, the largest >= 1 / 4d
    own = [qc] if same else [qc, bc]  # fresh arrays: scaled in place
    amax = max(max(x.max(initial=0.0), -x.min(initial=0.0)) for x in own)
    scale = _power_of_two_below(amax * np.sqrt(q.shape[1]))
    for x in own:
        x *= scale
    qn = sq_norms(qc)
    bn = qn if same else sq_norms(bc)
    dp = max(16, 1 << (q.shape[1] - 1).bit_length())
    # triton's interpreter multiplies bf16 as raw bits: there, bf16-rounded values go as fp32
    # (products of bf16 values are exact in fp32, as on the tensor cores)
    bf16 = precision == "bf16"
    dtype = torch.bfloat16 if bf16 and device.type == "cuda" else torch.float32
    for rows in (q.shape[0], b.shape[0]):
        if rows * max(dp, MAX_SLOTS) >= _INDEX_LIMIT:
            raise InvalidOption(f"fused k-NN: {rows} points of dimension {dp} exceed the "
                                f"kernel's 32-bit offsets; split the query or use synthos.knn")

    def padded(x: np.ndarray) -> Any:
        out = torch.zeros((x.shape[0], dp), dtype=dtype, device=device)
        out[:, : x.shape[1]] = torch.from_numpy(x).to(device).to(torch.bfloat16 if bf16 else dtype)
        return out

    q_dev = padded(qc)
    b_dev = q_dev if same else padded(bc)
    bn_dev = torch.from_numpy(bn).to(device).to(torch.float32)
    return FusedInputs(qc, bc, qn, bn, scale, q_dev, b_dev, bn_dev)


def _power_of_two_below(value: float) -> float:
    """2^-e with ``value * 2^-e`` in [1/2, 1) (1 for 0; at most 2^1000, for subnormals)."""
    return float(np.ldexp(1.0, min(1000, -int(np.frexp(value)[1])))) if value > 0 else 1.0


def fused_candidates(inputs: FusedInputs, slots: int, *, exclude_self: bool, precision: str,
                     config: FusedConfig) -> tuple[Any, Any]:
    """The kernel alone, synchronised: (n, slots) float32 ``|b|^2 - 2 q.b`` (scaled units)
    and int32 indices per query row, unsorted, (+inf, -1) in unfilled slots."""
    import torch

    from synthos.backends.fused.kernel import launch

    ieee = "ieee" if precision == "ieee" else "tf32"  # bf16 inputs ignore the precision
    vals, idx = launch(inputs.q_dev, inputs.b_dev, inputs.bn_dev, k_slots=slots,
                       exclude_self=exclude_self, precision=ieee, block=config.as_tuple())
    if vals.is_cuda:
        torch.cuda.synchronize(vals.device)
    return vals, idx


def _default_config(device: Any) -> FusedConfig:
    return FusedConfig() if device.type == "cuda" else INTERPRETER_CONFIG


def _candidate_distances(q: np.ndarray, b: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """(n, K) float64 :func:`pair_distances` from q (n, d) to b[idx] (+inf where idx < 0),
    on a few threads (numpy releases the GIL in the arithmetic)."""
    safe = np.where(idx >= 0, idx, 0)
    dist = np.empty(idx.shape)
    step = max(1, 2**18 // max(1, idx.shape[1] * q.shape[1]))  # <= ~2 MiB of coordinates

    def run(span: tuple[int, int]) -> None:
        dist[span[0] : span[1]] = pair_distances(q[span[0] : span[1], None, :],
                                                 b[safe[span[0] : span[1]]])

    with ThreadPoolExecutor(min(16, available_cpus())) as pool:
        list(pool.map(run, spans(q.shape[0], step)))
    return np.where(idx >= 0, dist, np.inf)


def _fallback(q: np.ndarray, b: np.ndarray, rows: np.ndarray, k: int, exclude_self: bool,
              backend: str | DistanceBackend) -> tuple[np.ndarray, np.ndarray]:
    """``knn``'s answer for query rows ``rows``; with ``exclude_self`` it asks for k + 1 and
    drops the row itself (or the last one, when k + 1 points tie at 0 before it)."""
    if not exclude_self:
        res = knn(q[rows], b, k, backend=backend)
        return res.distances, res.indices
    res = knn(q[rows], b, k + 1, backend=backend)
    keep = res.indices != rows[:, None]
    keep[keep.all(axis=1), -1] = False
    return res.distances[keep].reshape(-1, k), res.indices[keep].reshape(-1, k)
