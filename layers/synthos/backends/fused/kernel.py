"""The fused distance + k-selection Triton kernel (imports triton; load it lazily).

One program owns ``BLOCK_M`` query rows and walks every base block of ``BLOCK_N`` rows:

1. ``acc = q . b^T`` with ``tl.dot`` (TF32 on fp32 inputs, or bf16 inputs; fp32 accumulate),
2. ``s = |b|^2 - 2 acc`` (one FMA per pair; the query's ``|q|^2`` is the same along a row, so
   ranking needs it not: the caller adds it in float64 to the K survivors). Base rows past
   ``m`` load ``|b|^2 = +inf`` and zero coordinates, so they come out at +inf with no mask;
   with ``EXCLUDE_SELF`` the diagonal is set to +inf, only in the blocks that hold it,
3. the tile's row minima are compared with each row's running K-th value ``worst``; if no row
   of the block can improve (the common case once the lists fill) the tile is done,
4. otherwise extraction rounds: each takes the row minimum and its column, puts it in place of
   the row's worst entry where it beats it, blanks that column, and recomputes ``worst``;
   the rounds stop as soon as no row accepted anything.

The running list (``BLOCK_M x K`` values and indices) lives in registers; nothing of size
``n x m`` (or even ``BLOCK_M x BLOCK_N``) is written to memory: the program writes its K
survivors per row at the end, unsorted.

Why this selection. A per-tile sort or bitonic top-K costs O(log^2 BLOCK_N) compare-swaps per
pair on every tile; a threshold test costs one ``min`` per pair and is usually enough. A row
improves on tile t (of T) with probability about ``K / t``, so a block of ``BLOCK_M`` rows needs
extraction on every early tile and then on about ``BLOCK_M K / t`` of them. Simulated for
normal data, n = m = 10^6, d = 64 (``bench/fused_rounds_sim.py``): with BLOCK_M = 128,
BLOCK_N = 64, K = 16, 32% of tiles run extraction, 0.66 rounds per tile on average (20% and
0.43 with BLOCK_M = 64).

Cost per pair (d the padded dimension): ``2 d`` tensor-core flops for the dot (128 at d = 64),
then CUDA-core work: on the fast path 1 FMA (``s``) and 1 ``min`` (plus the row reduction's
shuffles and one block-wide ``max``, amortised over the tile); an extraction round about 5
(indexed min: compare and 2 selects; blanking: compare and select). With the simulated rounds:
about 5 CUDA-core ops per pair, 0.16 to 0.32 ps on an H100 SXM (132 SMs x 128 lanes x 1.98 GHz
= 33.5 T ops/s if min/select issue at the FMA rate, half that if not), against 0.26 ps of TF32
tensor-core time (494.7 TFLOP/s / 128 flops). A tile's product is waited for before its
selection (two resident programs per SM can overlap each other), so the design's ceiling is
about 1.7 to 2.4 T pairs/s in TF32, 45-60% of the tensor-core bound of 3.9 T (an estimate;
nothing here was measured on a GPU).
Memory: each program reads the whole base once, ``4 d / BLOCK_M`` bytes per pair in fp32 (2 at
d = 64, BLOCK_M = 128), mostly from L2 as all programs sweep the base in the same order; loads
are software-pipelined (``num_stages`` buffers), which triton only does because the
extraction ``while`` sits inside an ``if`` (a bare nested ``while`` switches it off; checked on
the sm_90 TTGIR, see ``compile_for_gpu``).
"""

import functools
from typing import Any

import torch
import triton
import triton.language as tl
from triton.runtime.interpreter import InterpretedFunction


def _knn_kernel(
    q_ptr, b_ptr, bn_ptr, out_d_ptr, out_i_ptr, n, m,
    DP: tl.constexpr, K: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
    EXCLUDE_SELF: tl.constexpr, PRECISION: tl.constexpr,
):
    r0 = tl.program_id(0) * BLOCK_M
    rows = r0 + tl.arange(0, BLOCK_M)
    dims = tl.arange(0, DP)
    slots = tl.arange(0, K)
    lanes = tl.arange(0, BLOCK_N)
    q = tl.load(q_ptr + rows[:, None] * DP + dims[None, :], mask=rows[:, None] < n, other=0.0)
    best_d = tl.full((BLOCK_M, K), float("inf"), tl.float32)
    best_i = tl.full((BLOCK_M, K), -1, tl.int32)
    worst = tl.max(best_d, axis=1)
    for c0 in range(0, m, BLOCK_N):
        cols = c0 + lanes
        b = tl.load(b_ptr + cols[:, None] * DP + dims[None, :], mask=cols[:, None] < m,
                    other=0.0)
        bn = tl.load(bn_ptr + cols, mask=cols < m, other=float("inf"))
        s = bn[None, :] - 2.0 * tl.dot(q, tl.trans(b), input_precision=PRECISION)
        if EXCLUDE_SELF:  # noqa: SIM102 - compile-time test, then a run-time one
            if (c0 < r0 + BLOCK_M) & (r0 < c0 + BLOCK_N):
                s = tl.where(rows[:, None] == cols[None, :], float("inf"), s)
        go = tl.max((tl.min(s, axis=1) < worst).to(tl.int32), axis=0)
        if go > 0:  # the bare `while` would switch off the loop's load pipelining (sm_90)
            while go > 0:
                val, arg = tl.min(s, axis=1, return_indices=True)
                hit = val < worst
                put = hit[:, None] & (slots[None, :] == tl.argmax(best_d, axis=1)[:, None])
                best_d = tl.where(put, val[:, None], best_d)
                best_i = tl.where(put, (c0 + arg)[:, None], best_i)
                worst = tl.max(best_d, axis=1)
                s = tl.where(lanes[None, :] == arg[:, None], float("inf"), s)
                go = tl.max(hit.to(tl.int32), axis=0)
    out = rows[:, None] * K + slots[None, :]
    tl.store(out_d_ptr + out, best_d, mask=rows[:, None] < n)
    tl.store(out_i_ptr + out, best_i, mask=rows[:, None] < n)


def interpreted() -> bool:
    """Whether triton runs on its CPU interpreter in this process. Triton fixes that when
    ``triton.language`` is first imported (its library functions, ``tl.max`` and the like, are
    decorated then, per ``TRITON_INTERPRET``), so it is a property of the process, not of a
    call: set ``TRITON_INTERPRET=1`` before anything imports triton to use the interpreter."""
    return isinstance(tl.max, InterpretedFunction)


@functools.cache
def _compiled() -> Any:
    """The kernel, decorated on first use (so importing this module compiles nothing)."""
    return triton.jit(_knn_kernel)


def launch(
    q: torch.Tensor,
    b: torch.Tensor,
    bn: torch.Tensor,
    *,
    k_slots: int,
    exclude_self: bool,
    precision: str,
    block: tuple[int, int, int, int],
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run the kernel: q (n, DP) and b (m, DP) contiguous, float32 or bfloat16, DP a power of
    two >= 16; bn (m,) float32 squared norms of b. ``block`` is (BLOCK_M, BLOCK_N, num_warps,
    num_stages). Returns (n, k_slots) float32 ``|b|^2 - 2 q.b`` and (n, k_slots) int32 base
    indices of each row's survivors, unsorted; unfilled slots hold (+inf, -1)."""
    n, dp = q.shape
    m = b.shape[0]
    block_m, block_n, warps, stages = block
    out_d = torch.empty((n, k_slots), dtype=torch.float32, device=q.device)
    out_i = torch.empty((n, k_slots), dtype=torch.int32, device=q.device)
    grid = (triton.cdiv(n, block_m),)
    _compiled()[grid](
        q, b, bn, out_d, out_i, n, m,
        DP=dp, K=k_slots, BLOCK_M=block_m, BLOCK_N=block_n, EXCLUDE_SELF=exclude_self,
        PRECISION=precision, num_warps=warps, num_stages=stages,
    )
    return out_d, out_i


def compile_for_gpu(
    *,
    arch: int = 90,
    dtype: str = "fp32",
    dp: int = 64,
    k_slots: int = 16,
    exclude_self: bool = True,
    block: tuple[int, int, int, int] = (128, 64, 8, 3),
) -> dict[str, Any]:
    """Compile the kernel ahead of time for an NVIDIA GPU of compute capability ``arch`` (90:
    H100/H200) without one: triton's wheel carries the compiler and ptxas. Returns the
    ``asm`` dict (``ttgir``, ``ptx``, ``cubin``...) to check what the GPU would run. The five
    pointers are taken as 16-byte aligned, as the JIT specialises them for torch tensors."""
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    block_m, block_n, warps, stages = block
    ptrs = {"q_ptr": f"*{dtype}", "b_ptr": f"*{dtype}", "bn_ptr": "*fp32",
            "out_d_ptr": "*fp32", "out_i_ptr": "*i32", "n": "i32", "m": "i32"}
    consts = {"DP": dp, "K": k_slots, "BLOCK_M": block_m, "BLOCK_N": block_n,
              "EXCLUDE_SELF": exclude_self, "PRECISION": "tf32"}
    aligned = {(i,): [["tt.divisibility", 16]] for i in range(5)}  # as torch allocates
    source = ASTSource(_compiled(), {**ptrs, **dict.fromkeys(consts, "constexpr")}, consts,
                       aligned)
    done = triton.compile(source, target=GPUTarget("cuda", arch, 32),
                          options={"num_warps": warps, "num_stages": stages})
    return dict(done.asm)
