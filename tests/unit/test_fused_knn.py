"""The fused Triton k-NN (``synthos.backends.fused``) gives the exact k-NN answer.

Triton picks interpreter or compiled mode once per process, when ``triton.language`` is first
imported (``TRITON_INTERPRET`` is read then, by the ``@triton.jit`` of its library functions).
So the kernel cases run in one child process started with ``TRITON_INTERPRET=1``: this file is
also that child's script (``python test_fused_knn.py OUT.npz``). Nothing here sets the variable
in the pytest process, and no triton state leaks into other tests. The checks (numpy brute
force, ``synthos.knn``) run here, on the child's answers.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from synthos.backends.exact import pair_distances
from synthos.backends.fused.bound import error_factor
from synthos.backends.fused.search import FusedConfig, k_slots
from synthos.errors import InputError, InvalidOption
from synthos.knn import knn

Case = tuple[np.ndarray, np.ndarray, int, dict[str, Any]]


def _normal(n: int, d: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, d))


def _case_random() -> Case:  # d = 64; n, m not multiples of the 32-row blocks
    return _normal(45, 64, 0), _normal(83, 64, 1), 5, {}


def _case_self_duplicates() -> Case:  # exclude_self, duplicates at distance 0, a tie group
    x = _normal(70, 64, 2)
    x[5] = x[3]
    x[7:10] = x[20]
    return x, x, 5, {"exclude_self": True}


def _case_ties() -> Case:  # odd d, exact ties at the k-th place, blocks of 16
    rng = np.random.default_rng(3)
    far = rng.integers(6, 12, size=(40, 5)) * rng.choice([-1, 1], size=(40, 5))
    near = {31: [1, 0, 0, 0, 0], 2: [0, -1, 0, 0, 0], 17: [-1, 0, 0, 0, 0], 9: [0, 1, 0, 0, 0],
            30: [1, 1, 0, 0, 0], 7: [0, 0, 1, -1, 0], 19: [-1, 0, 1, 0, 0]}
    for row, point in near.items():
        far[row] = point
    q = np.vstack([np.zeros((1, 5)), rng.integers(-3, 4, size=(20, 5))])
    return q.astype(float), far.astype(float), 5, {"config": (16, 16, 4, 1)}


def _case_few_points() -> Case:  # m = 9 < K = 16, d = 7
    return _normal(20, 7, 4), _normal(9, 7, 5), 5, {}


def _case_self_few_points() -> Case:  # exclude_self with k = m - 1
    x = _normal(6, 17, 6)
    return x, x, 5, {"exclude_self": True}


def _case_far_clusters() -> Case:  # norms >> gaps: no row can be certified
    x = _normal(40, 8, 7) * 1e-3
    x[:20, 0] += 1e4
    x[20:, 0] -= 1e4
    return x, x, 3, {"exclude_self": True}


def _case_copies() -> Case:  # 20 copies of one point: their rows cannot be certified
    x = _normal(60, 16, 8)
    x[30:50] = x[11]
    return x, x, 4, {"exclude_self": True}


def _case_tiny() -> Case:  # norms ~1e-160: squared distances are subnormal, so no certificate
    x = _normal(30, 8, 13) * 1e-160
    return x, x, 3, {"exclude_self": True}


def _case_huge() -> Case:  # coordinates ~1e150: scaled down by a power of two, certified
    return _normal(30, 8, 14) * 1e150, _normal(40, 8, 15) * 1e150, 3, {}


def _case_bf16() -> Case:
    return _normal(40, 64, 9), _normal(50, 64, 10), 5, {"precision": "bf16"}


def _case_ieee() -> Case:
    return _normal(40, 33, 11), _normal(50, 33, 12), 5, {"precision": "ieee", "margin": 3}


CASES: dict[str, Callable[[], Case]] = {
    "random": _case_random,
    "self_duplicates": _case_self_duplicates,
    "ties": _case_ties,
    "few_points": _case_few_points,
    "self_few_points": _case_self_few_points,
    "far_clusters": _case_far_clusters,
    "copies": _case_copies,
    "tiny": _case_tiny,
    "huge": _case_huge,
    "bf16": _case_bf16,
    "ieee": _case_ieee,
}


def _run_cases(out: str) -> None:
    """Child process: every case through the kernel in triton's interpreter."""
    from synthos.backends.fused import fused_knn_report

    arrays: dict[str, np.ndarray] = {}
    for name, build in CASES.items():
        q, b, k, opts = build()
        if "config" in opts:
            opts = {**opts, "config": FusedConfig(*opts["config"])}
        rep = fused_knn_report(q, b, k, device="cpu", **opts)
        arrays[f"{name}.dist"] = rep.result.distances
        arrays[f"{name}.idx"] = rep.result.indices
        arrays[f"{name}.fallback"] = rep.fallback_rows
        arrays[f"{name}.slots"] = np.array(rep.k_slots)
    np.savez(out, **arrays, **_raw_candidates())


def _raw_candidates() -> dict[str, np.ndarray]:
    """Child process: the kernel alone on the random case (fp32 products, K = 16), and the
    centred, scaled points it saw."""
    import torch

    from synthos.backends.fused.search import INTERPRETER_CONFIG, fused_candidates, fused_inputs

    q, b, _, _ = _case_random()
    inputs = fused_inputs(q, b, same=False, precision="ieee", device=torch.device("cpu"))
    vals, idx = fused_candidates(inputs, 16, exclude_self=False, precision="ieee",
                                 config=INTERPRETER_CONFIG)
    return {"raw.vals": vals.numpy(), "raw.idx": idx.numpy(), "raw.q": inputs.q,
            "raw.b": inputs.b}


@pytest.fixture(scope="module")
def answers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    pytest.importorskip("torch")
    pytest.importorskip("triton")
    out = tmp_path_factory.mktemp("fused") / "answers.npz"
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), str(out)], env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    with np.load(out) as data:
        return {key: data[key] for key in data.files}


def _brute_force(q: np.ndarray, b: np.ndarray, k: int, exclude_self: bool
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The exact rule, spelled out: every pair's pair_distances, sorted by (distance, index)."""
    dist = pair_distances(q[:, None, :], b[None, :, :])
    if exclude_self:
        np.fill_diagonal(dist, np.inf)
    idx = np.broadcast_to(np.arange(b.shape[0]), dist.shape)
    order = np.lexsort((idx, dist), axis=-1)[:, :k]
    return np.take_along_axis(dist, order, 1), np.take_along_axis(idx, order, 1)


@pytest.mark.parametrize("name", sorted(CASES))
def test_fused_equals_brute_force_and_knn(answers: dict[str, np.ndarray], name: str) -> None:
    # GIVEN a case's points and the kernel's answer (computed in the interpreter child)
    q, b, k, opts = CASES[name]()
    exclude = bool(opts.get("exclude_self", False))
    # WHEN the exact answer is computed by brute force and by synthos.knn
    want_d, want_i = _brute_force(q, b, k, exclude)
    ref = knn(q, b, k, exclude_self=exclude)
    # THEN indices and float64 distances are equal to the bit
    np.testing.assert_array_equal(answers[f"{name}.idx"], want_i)
    np.testing.assert_array_equal(answers[f"{name}.dist"], want_d)
    np.testing.assert_array_equal(answers[f"{name}.idx"], ref.indices)
    np.testing.assert_array_equal(answers[f"{name}.dist"], ref.distances)


def test_kernel_keeps_the_nearest_within_the_error_bound(answers: dict[str, np.ndarray]
                                                          ) -> None:
    # GIVEN the kernel's own output on the random case: 16 candidates per row, with values
    # |b|^2 - 2 q.b from fp32 products (the interpreter multiplies fp32 exactly as "ieee")
    q, b, idx = answers["raw.q"], answers["raw.b"], answers["raw.idx"].astype(np.int64)
    qn, bn = np.einsum("ij,ij->i", q, q), np.einsum("ij,ij->i", b, b)
    exact = pair_distances(q[:, None, :], b[None, :, :]) ** 2
    delta, tiny = error_factor("ieee", 64)
    # THEN each value plus |q|^2 is within the bound of its pair's exact squared distance
    err = np.abs(answers["raw.vals"] + qn[:, None] - np.take_along_axis(exact, idx, 1))
    assert (err <= delta * (qn[:, None] + bn[idx]) + tiny).all()
    # AND where the 16th and 17th exact distances are further apart than twice the bound,
    # the 16 kept are exactly the 16 nearest (on most rows: the check is not vacuous)
    ranked = np.sort(exact, axis=1)
    clear = ranked[:, 16] - ranked[:, 15] > 2 * (delta * (qn + bn.max()) + tiny)
    assert clear.mean() > 0.8
    nearest = np.argsort(exact, axis=1)[:, :16]
    for row in np.flatnonzero(clear):
        assert set(idx[row].tolist()) == set(nearest[row].tolist()), row


def test_ties_go_to_the_lower_index(answers: dict[str, np.ndarray]) -> None:
    # GIVEN the origin query: unit points at rows 2, 9, 17, 31; rows 7, 19, 30 at sqrt(2)
    # THEN the four unit points come first by index, then row 7, the lowest of the tie;
    # the kernel's candidates sufficed (no fallback for that row)
    np.testing.assert_array_equal(answers["ties.idx"][0], [2, 9, 17, 31, 7])
    np.testing.assert_array_equal(answers["ties.dist"][0], [1, 1, 1, 1, np.sqrt(2)])
    assert 0 not in answers["ties.fallback"]


def test_certified_rows_need_no_fallback(answers: dict[str, np.ndarray]) -> None:
    # GIVEN well-separated random points in TF32, bf16 and fp32 products
    # THEN every row is certified from the kernel's candidates alone
    for name in ("random", "self_duplicates", "bf16", "ieee", "few_points", "self_few_points",
                 "huge"):
        assert answers[f"{name}.fallback"].size == 0, name
    assert int(answers["random.slots"]) == 16
    assert int(answers["ieee.slots"]) == 8


def test_uncertifiable_rows_fall_back_and_stay_exact(answers: dict[str, np.ndarray]) -> None:
    # GIVEN clusters 2e4 apart with 1e-3 spread, and 20 copies of one point
    # THEN every far-cluster row, and at least every copy's row, went to synthos.knn
    np.testing.assert_array_equal(answers["far_clusters.fallback"], np.arange(40))
    copies = np.r_[11, 30:50]
    assert set(copies) <= set(answers["copies.fallback"].tolist())
    assert answers["copies.fallback"].size < 60  # the other rows were certified
    # GIVEN points ~1e-160 apart, whose float64 squared distances are subnormal (inexact)
    # THEN no row is certified
    np.testing.assert_array_equal(answers["tiny.fallback"], np.arange(30))
    # (exactness of these answers: test_fused_equals_brute_force_and_knn)


@pytest.mark.parametrize("size", [1e-160, 1e-300, 1.0, 1e150])
def test_inputs_are_scaled_to_unit_norms_without_overflow(size: float) -> None:
    # GIVEN points of any representable size (fused_inputs needs torch, not triton)
    torch = pytest.importorskip("torch")
    from synthos.backends.fused.search import fused_inputs

    x = _normal(50, 8, 16) * size
    # WHEN they are centred and scaled for the kernel
    got = fused_inputs(x, x, same=True, precision="tf32", device=torch.device("cpu"))
    # THEN the scale is the power of two that brings sqrt(d) * max|centred coordinate| into
    # [1/2, 1) (worked out here from the frexp exponent), so every squared norm is below 1,
    # and the norms are those of the scaled points
    amax = float(np.abs(x - x.mean(axis=0)).max())
    expected = 2.0 ** -int(np.frexp(amax * np.sqrt(8))[1])
    assert got.scale == expected
    assert 0.5 <= amax * np.sqrt(8) * got.scale < 1.0
    assert got.qn.max() < 1.0
    np.testing.assert_array_equal(got.q, (x - x.mean(axis=0)) * got.scale)
    np.testing.assert_array_equal(got.qn, np.einsum("ij,ij->i", got.q, got.q))


def test_slots_and_options() -> None:
    assert k_slots(5, 11) == 16
    assert k_slots(5, 3) == 8
    assert k_slots(1, 1) == 2
    assert k_slots(15, 11) == 16
    with pytest.raises(InvalidOption):
        k_slots(16, 1)
    with pytest.raises(InvalidOption):
        k_slots(5, 0)


def test_bad_input_is_refused_like_knn() -> None:
    # GIVEN inputs synthos.knn refuses; THEN fused_knn refuses them the same way, before any
    # kernel work (so this runs without torch or triton)
    from synthos.backends.fused import fused_knn

    x = _normal(6, 3, 0)
    with pytest.raises(InvalidOption):
        fused_knn(x, x + 1.0, 2, exclude_self=True)
    with pytest.raises(InvalidOption):
        fused_knn(x, x, 6, exclude_self=True)  # only 5 other points
    with pytest.raises(InvalidOption):
        fused_knn(x, x, 0)
    with pytest.raises(InputError):
        fused_knn(x, _normal(6, 4, 1), 2)
    with pytest.raises(InputError):
        fused_knn(np.where(x > 1, np.nan, x), x, 2)
    with pytest.raises(InvalidOption, match="precision"):
        fused_knn(x, x, 2, precision="fp8")


def _without_interpreter(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter with TRITON_INTERPRET unset."""
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def test_package_imports_without_triton_and_refuses_clearly() -> None:
    # GIVEN a process where torch and triton cannot be imported
    code = (
        "import sys; sys.modules['triton'] = None; sys.modules['torch'] = None\n"
        "import numpy as np, synthos.backends, synthos.knn\n"
        "from synthos.backends.fused import fused_knn\n"
        "from synthos.errors import InvalidOption\n"
        "try:\n    fused_knn(np.eye(4), np.eye(4), 2)\n"
        "except InvalidOption as exc:\n    print('refused:', exc.message)\n"
    )
    proc = _without_interpreter(code)
    # THEN the imports work and the call is refused with InvalidOption
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "refused: fused k-NN needs torch and triton" in proc.stdout


def test_cpu_without_interpreter_is_refused() -> None:
    # GIVEN a process with torch and triton but not triton's interpreter
    pytest.importorskip("triton")
    code = (
        "import numpy as np\n"
        "from synthos.backends.fused import fused_knn\n"
        "from synthos.backends.fused.kernel import interpreted\n"
        "from synthos.errors import InvalidOption\n"
        "assert not interpreted()\n"
        "try:\n    fused_knn(np.eye(4), np.eye(4), 2, device='cpu')\n"
        "except InvalidOption as exc:\n    print('refused:', exc.message)\n"
    )
    proc = _without_interpreter(code)
    # THEN the CPU is refused, naming the way to the interpreter
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "refused:" in proc.stdout and "TRITON_INTERPRET=1" in proc.stdout


@pytest.mark.parametrize(("dtype", "exclude"), [("fp32", True), ("bf16", False)])
def test_kernel_compiles_for_h100_with_pipelined_tensor_core_loop(
    dtype: str, exclude: bool, tmp_path: Path
) -> None:
    # GIVEN triton's own compiler and ptxas (no GPU needed), sm_90 = H100/H200
    pytest.importorskip("triton")
    from synthos.backends.fused.kernel import compile_for_gpu

    # WHEN the kernel is compiled with the bench's default launch shape
    asm = compile_for_gpu(arch=90, dtype=dtype, exclude_self=exclude)
    # THEN the product runs on wgmma tensor cores, base tiles are prefetched by async copies
    # (the software pipeliner accepted the loop), and the cubin uses no local memory
    assert "ttng.warp_group_dot" in asm["ttgir"]
    assert "async_copy_global_to_local" in asm["ttgir"]
    assert ("wgmma.mma_async.sync.aligned.m64n64k8.f32.tf32.tf32" in asm["ptx"]) == (
        dtype == "fp32")
    assert len(asm["cubin"]) > 0
    assert " LOCAL:0 " in _resource_usage(asm["cubin"], tmp_path)  # no register spills


def _resource_usage(cubin: bytes, tmp: Path) -> str:
    """cuobjdump's resource line (REG, STACK, SHARED, LOCAL...) of a cubin; the tool ships in
    triton's wheel."""
    import triton

    tool = Path(triton.__file__).parent / "backends" / "nvidia" / "bin" / "cuobjdump"
    path = tmp / "kernel.cubin"
    path.write_bytes(cubin)
    out = subprocess.run([str(tool), "-res-usage", str(path)], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    return next(line for line in out.splitlines() if "REG:" in line) + " "


if __name__ == "__main__":
    _run_cases(sys.argv[1])
