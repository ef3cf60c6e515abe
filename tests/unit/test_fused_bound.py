"""The error bound and certificate of the fused k-NN (``synthos.backends.fused.bound``):
hand-computed values, and the bound checked against a bit-level simulation of what a TF32
tensor core does (inputs truncated to 10 mantissa bits, exact products, fp32 sums truncated
at every step), on the centred and scaled points the wrapper feeds the kernel."""

from __future__ import annotations

import numpy as np
import pytest

from synthos.backends.exact import pair_distances, sq_norms
from synthos.backends.fused import certified, error_factor
from synthos.errors import InvalidOption


def _tf32(x: np.ndarray) -> np.ndarray:
    """fp32 values with the 13 low mantissa bits cut (truncation to TF32)."""
    bits = np.asarray(x, np.float32).view(np.uint32) & np.uint32(0xFFFFE000)
    return bits.view(np.float32).astype(np.float64)


def _to_fp32_toward_zero(x: np.ndarray) -> np.ndarray:
    y = x.astype(np.float32)
    return np.where(np.abs(y.astype(np.float64)) > np.abs(x), np.nextafter(y, np.float32(0)), y)


def _simulated_kernel(x: np.ndarray) -> np.ndarray:
    """(n, n) squared distances as the kernel + wrapper compute them, TF32 worst-case style."""
    xt = _tf32(x)
    acc = np.zeros((x.shape[0], x.shape[0]), np.float32)
    for i in range(x.shape[1]):
        acc = _to_fp32_toward_zero(acc.astype(np.float64) + np.outer(xt[:, i], xt[:, i]))
    norms = sq_norms(x)
    s = norms.astype(np.float32)[None, :] - np.float32(2.0) * acc
    return s.astype(np.float64) + norms[:, None]


def _centred_scaled(x: np.ndarray) -> np.ndarray:
    """As ``search.fused_inputs``: centred, times 2^-e with max |coordinate| sqrt(d) < 2^e."""
    x = x - x.mean(axis=0)
    return x * np.ldexp(1.0, -int(np.frexp(np.abs(x).max() * np.sqrt(x.shape[1]))[1]))


@pytest.mark.parametrize("kind", ["normal", "offset", "near_one"])
def test_bound_holds_for_simulated_tf32(kind: str) -> None:
    # GIVEN points (spread, far from the origin, or mantissas that truncation hurts most)
    rng = np.random.default_rng(0)
    x = {"normal": rng.normal(size=(120, 64)),
         "offset": rng.normal(size=(120, 64)) * 1e-3 + 5.0,
         "near_one": (1 - 2.0**-11) * rng.choice([-1.0, 1.0], size=(120, 64))}[kind]
    x = _centred_scaled(x)
    # WHEN the kernel's arithmetic is simulated and compared with exact squared distances
    err = np.abs(_simulated_kernel(x) - pair_distances(x[:, None, :], x[None, :, :]) ** 2)
    delta, tiny = error_factor("tf32", 64)
    slack = delta * (sq_norms(x)[:, None] + sq_norms(x)[None, :]) + tiny
    # THEN every pair is within the bound, and the bound is not vacuous (within 10x)
    assert (err <= slack).all()
    assert (err / slack).max() > 0.1


def test_error_factor_by_hand() -> None:
    # GIVEN d = 64: tf32 truncation u = 2^-10, bf16 u = 2^-8 + 2^-24, fp32 u = 2^-24
    for precision, u in (("tf32", 2.0**-10), ("bf16", 2.0**-8 + 2.0**-24), ("ieee", 2.0**-24)):
        delta, tiny = error_factor(precision, 64)
        # THEN delta = 2u(1 + u) + 80 * 2^-22 and tiny = 80 * 2^-118
        assert delta == pytest.approx(2 * u * (1 + u) + 80 / 2**22, rel=1e-15)
        assert tiny == pytest.approx(80 / 2**118, rel=1e-15)
    # tf32 by hand: 2^-9 + 2^-19 + 80 * 2^-22 = 2^-9 + 11 * 2^-19
    assert error_factor("tf32", 64)[0] == 2.0**-9 + 11 * 2.0**-19
    with pytest.raises(InvalidOption, match="precision"):
        error_factor("fp16", 64)


def test_certificate_by_hand() -> None:
    # GIVEN tf32, d = 16: slack = delta * (|q|^2 + max|b|^2) + tiny with delta = 2^-9 + ...
    delta, tiny = error_factor("tf32", 16)
    slack = delta * (0.5 + 1.0) + tiny
    approx = np.array([np.inf, 0.9, 0.9, 0.9, 0.2])
    exact = np.array([5.0, 0.9 - 2 * slack, 0.9 - slack, 0.9, 0.2 - 2 * slack])
    # WHEN the rows are checked; THEN: list not full; clear gap; gap == slack (not strict
    # enough); no gap; gap of 2 slack again
    got = certified(approx, exact, np.full(5, 0.5), 1.0, precision="tf32", dim=16)
    np.testing.assert_array_equal(got, [True, True, False, False, True])


