"""Error bound of the fused kernel's distances, and the certificate that makes its k-NN exact.

The kernel computes ``s = fl(|b|^2) - 2 q.b`` with ``q.b`` on tensor cores; the caller adds
``|q|^2``. For centred, scaled points (every squared norm <= 1, see ``search``) and every pair,

    |approx - exact| <= delta * (|q|^2 + |b|^2) + tiny,

    delta = 2 u (1 + u) + (d + 16) * 2^-22,    tiny = (d + 16) * 2^-118,

with ``u`` the relative error of one input coordinate as the tensor core sees it:

- ``"tf32"``: fp32 inputs read as TF32, 10 explicit mantissa bits. The PTX that triton 3.9
  and 3.6 emit for sm_90 feeds fp32 registers to ``wgmma ... .tf32`` with no rounding
  instruction, so truncation is assumed: ``u = 2^-10`` (round-to-nearest would give half);
- ``"bf16"``: inputs rounded to bfloat16 by torch (nearest, possibly via fp32): ``u = 2^-8 +
  2^-24``;
- ``"ieee"``: fp32 inputs multiplied in fp32 by CUDA-core FMAs (no tensor cores; slow):
  ``u = 2^-24``.

Reasoning: each product ``q_i b_i`` is off by at most ``(2u + u^2) |q_i b_i|`` from the input
rounding (products are exact in the tensor core), the fp32 accumulation of d products by at
most ``d 2^-23 sum |q_i b_i|`` (truncating adds, as measured for tensor cores by Fasi et al.,
2021), and ``sum |q_i b_i| <= |q||b| <= (|q|^2 + |b|^2) / 2`` cancels the factor 2 of ``-2 q.b``.
The fp32 roundings of the inputs, of ``|b|^2``, of the FMA, and the float64 centring add a few
``2^-24`` in the same units: the ``(d + 16) 2^-22`` term covers accumulation and these with room
to spare. ``tiny`` covers subnormals flushed to zero (inputs and partial sums below ``2^-126``,
with every |coordinate| <= 1).

Certificate. The kernel keeps, per row, the K smallest approximate values; every other base
point has an approximate value >= ``a_K`` (the largest kept one), so its exact squared distance
is >= ``a_K - delta (|q|^2 + max |b|^2) - tiny``. If that exceeds the k-th smallest *exact*
squared distance among the K candidates, no other point can be among the k nearest, or tie
with the k-th: sorting the candidates by (exact distance, index) gives the exact answer. A row
whose list is not full (``a_K = +inf``) saw every point. Rows that fail are recomputed.
"""

from __future__ import annotations

import numpy as np

from synthos.errors import InvalidOption

INPUT_UNIT = {"tf32": 2.0**-10, "bf16": 2.0**-8 + 2.0**-24, "ieee": 2.0**-24}


def error_factor(precision: str, dim: int) -> tuple[float, float]:
    """(delta, tiny) of the bound above for ``precision`` and padded dimension ``dim``."""
    if precision not in INPUT_UNIT:
        raise InvalidOption(
            f"fused k-NN precision must be one of {sorted(INPUT_UNIT)}, got {precision!r}"
        )
    u = INPUT_UNIT[precision]
    return 2.0 * u * (1.0 + u) + (dim + 16) * 2.0**-22, (dim + 16) * 2.0**-118


def certified(
    approx_kth: np.ndarray,
    exact_kth_sq: np.ndarray,
    query_sq_norms: np.ndarray,
    base_sq_norm_max: float,
    *,
    precision: str,
    dim: int,
) -> np.ndarray:
    """(n,) bool: rows whose k nearest are proven to lie among the kernel's candidates.

    approx_kth: (n,) the largest approximate squared distance each row kept (+inf when its
    list is not full); exact_kth_sq: (n,) the k-th smallest exact squared distance among the
    candidates; query_sq_norms (n,) and base_sq_norm_max in the same (centred, scaled) units.
    """
    delta, tiny = error_factor(precision, dim)
    slack = delta * (query_sq_norms + base_sq_norm_max) + tiny
    with np.errstate(invalid="ignore"):  # inf - finite is fine; nothing here is NaN
        proven = approx_kth - slack > exact_kth_sq * (1.0 + 2.0**-40)
    return np.isposinf(approx_kth) | proven
