"""KSComplement: 1 - the two-sample Kolmogorov-Smirnov D statistic of one numeric column.

Matches ``sdmetrics.single_column.KSComplement.compute`` (SDMetrics 0.32) without pandas:

* missing values are dropped on each side first (float NaN, datetime NaT); infinities are kept;
* datetime64 columns are compared as int64 counts of their unit;
* floats are rounded to 14 decimals (SDMetrics' ``MAX_DECIMALS``) before the test, so values
  that differ only in the last bits count as ties;
* D is computed as ``scipy.stats.ks_2samp`` computes it, including the snap to the exact
  lattice ``h / lcm(n1, n2)`` that scipy applies when both sides have <= 10,000 values;
* a side with no value left after dropping missing ones gives ``nan`` (SDMetrics returns
  ``np.nan`` there too).

Deliberate differences, each where SDMetrics raises or returns a meaningless number:

* two datetime64 sides with different units are cast to the finer unit (SDMetrics compares
  raw counts of different units and returns ~0);
* a datetime64 side against a non-datetime side, or a dtype that is not bool, integer, float
  or datetime64 (e.g. object, str), raises :class:`synthos.errors.InputError`.
"""

from __future__ import annotations

import math
import sys

import numpy as np

from synthos.errors import InputError

MAX_DECIMALS = sys.float_info.dig - 1
"""Decimals kept before the test (14), as in SDMetrics."""

EXACT_LATTICE_MAX_N = 10_000
"""scipy's ``ks_2samp`` ``MAX_AUTO_N``: up to this size it snaps D to ``h / lcm(n1, n2)``."""

_NUMERIC_KINDS = "biuf"


def ks_complement(real: np.ndarray, synthetic: np.ndarray) -> float:
    """1 - the KS D statistic between the values of ``real`` and ``synthetic``.

    Args:
        real: (n,) bool, integer, float or datetime64 values of the reference column;
            NaN / NaT are missing.
        synthetic: (m,) values of the same column in the synthetic dataset, same kind.

    Returns:
        A float in [0, 1] (1 = identical empirical distributions), or ``nan`` when either
        side has no non-missing value.

    Raises:
        InputError: an array is not 1-D, has an unsupported dtype, or only one side is
            datetime64.
    """
    real_values, synthetic_values = _comparable_values(np.asarray(real), np.asarray(synthetic))
    if real_values.size == 0 or synthetic_values.size == 0:
        return float("nan")
    return 1.0 - ks_statistic(real_values, synthetic_values)


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided two-sample KS D of two non-empty 1-D arrays without missing values.

    The same arithmetic as ``scipy.stats.ks_2samp(a, b).statistic`` without its p-value.
    """
    a = np.sort(a)
    b = np.sort(b)
    n1, n2 = a.shape[0], b.shape[0]
    both = np.concatenate([a, b])
    cddiffs = np.searchsorted(a, both, side="right") / n1
    cddiffs -= np.searchsorted(b, both, side="right") / n2
    d = float(max(np.clip(-cddiffs.min(), 0, 1), cddiffs.max()))
    if max(n1, n2) <= EXACT_LATTICE_MAX_N:
        lcm = (n1 // math.gcd(n1, n2)) * n2
        d = round(d * lcm) / lcm
    return d


def _comparable_values(real: np.ndarray, synthetic: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both sides without missing values, on one numeric scale, rounded as SDMetrics rounds."""
    for name, values in (("real", real), ("synthetic", synthetic)):
        if values.ndim != 1:
            raise InputError(f"{name} must be 1-D, got shape {values.shape}")
        if values.dtype.kind not in _NUMERIC_KINDS + "M":
            raise InputError(
                f"{name} has dtype {values.dtype}; KSComplement needs numbers or datetime64",
                details={"side": name, "dtype": str(values.dtype)},
            )
    real_is_datetime = real.dtype.kind == "M"
    if real_is_datetime != (synthetic.dtype.kind == "M"):
        raise InputError(
            "KSComplement needs both sides datetime64 or neither",
            details={"real_dtype": str(real.dtype), "synthetic_dtype": str(synthetic.dtype)},
        )
    if real_is_datetime:
        unit = np.promote_types(real.dtype, synthetic.dtype)
        return _datetime_counts(real.astype(unit)), _datetime_counts(synthetic.astype(unit))
    return _rounded(real), _rounded(synthetic)


def _datetime_counts(values: np.ndarray) -> np.ndarray:
    return values[~np.isnat(values)].view(np.int64)


def _rounded(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind != "f":
        return values
    return np.round(values[~np.isnan(values)], MAX_DECIMALS)
