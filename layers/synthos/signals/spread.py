"""Scale and spread per numeric column: log variance ratio, log IQR ratio, and the log ratio of
distinct values (value-level collapse: a generator that resamples from a shrinking pool of values
keeps its variance for a while, but not its distinct values).

The IQR ratio is only taken on continuous columns (see ``PairContext``). All are shift-invariant
(a moved mean is drift, not collapse) and, on standardised data, invariant to affine rescaling.
A column that collapsed to a constant gives a large negative value, bounded by a tiny floor
instead of -inf. Vectorised over columns: a 10,000-column table costs a few array passes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from synthos.frame import Frame
from synthos.signals.context import PairContext
from synthos.signals.registry import Measure

_FLOOR = 1e-12


def finite_block(frame: Frame, cols: Sequence[int]) -> np.ndarray:
    """Columns ``cols`` of the numeric block with every non-finite value as NaN."""
    x = frame.numeric[:, list(cols)]  # a copy: fancy indexing
    inf = np.isinf(x)
    if inf.any():
        x[inf] = np.nan
    return x


def sorted_finite(frame: Frame, cols: Sequence[int]) -> np.ndarray:
    """Columns ``cols`` sorted ascending with non-finite values as trailing NaN (memoised on
    the frame: spread, tails and location all read their quantiles from it)."""
    return frame.memo(("sorted_finite", tuple(cols)),
                      lambda: np.sort(finite_block(frame, cols), axis=0))


def sorted_quantile(s: np.ndarray, qs: Sequence[float]) -> np.ndarray:
    """(len(qs), p) quantiles of the columns of ``s`` (sorted, NaN last), ignoring NaN, with
    numpy's default linear interpolation. An all-NaN column gives NaN."""
    n = np.count_nonzero(~np.isnan(s), axis=0)
    cols = np.arange(s.shape[1])
    out = np.full((len(qs), s.shape[1]), np.nan)
    last = np.maximum(n - 1, 0)
    for i, q in enumerate(qs):
        pos = q * last
        lo = np.floor(pos).astype(int)
        hi = np.minimum(lo + 1, last)
        v_lo, v_hi = s[lo, cols], s[hi, cols]
        with np.errstate(invalid="ignore"):
            out[i] = np.where(n > 0, v_lo + (pos - lo) * (v_hi - v_lo), np.nan)
    return out


def distinct_sorted(s: np.ndarray) -> np.ndarray:
    """Distinct finite values per column of a sorted (NaN last) block."""
    fin = np.isfinite(s)
    new = np.ones_like(fin)
    new[1:] = s[1:] != s[:-1]
    return np.count_nonzero(new & fin, axis=0)


def _iqr(s: np.ndarray) -> np.ndarray:
    q75, q25 = sorted_quantile(s, [0.75, 0.25])
    return q75 - q25


def finite_var(x: np.ndarray) -> np.ndarray:
    """Population variance per column over the finite values; NaN for a column with none.

    The same arithmetic as ``np.nanvar`` (mean of the finite values, squared deviations summed
    with the non-finite cells as zeros), written out so that an empty column gives NaN without
    a warning: replicates run in threads, where ``warnings.catch_warnings`` is not safe.
    """
    finite = np.isfinite(x)
    n = np.count_nonzero(finite, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(finite, x, 0.0).sum(axis=0) / n
        dev = np.where(finite, x - mean, 0.0)
        return (dev * dev).sum(axis=0) / n


def _anchor_side(anchor: Frame, cols: list[int]
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(usable, variance, IQR, distinct values) per column of the anchor."""
    a = sorted_finite(anchor, cols)
    with np.errstate(all="ignore"):
        return (np.count_nonzero(np.isfinite(a), axis=0) >= 2, finite_var(a), _iqr(a),
                distinct_sorted(a))


def measure(candidates: Sequence[Frame], anchor: Frame, ctx: PairContext) -> list[Measure]:
    out: list[Measure] = [{} for _ in candidates]
    cols = list(ctx.numeric_cols)
    if not cols or anchor.n < 2:
        return out
    names = [anchor.numeric_names[j] for j in cols]
    continuous = np.isin(cols, ctx.continuous_cols)
    ok_a, var_a, iqr_a, distinct_a = anchor.memo(("spread", tuple(cols)),
                                                 lambda: _anchor_side(anchor, cols))
    with np.errstate(all="ignore"):  # all-NaN columns: NaN is the answer
        for m, cand in zip(out, candidates, strict=True):
            if cand.n < 2:
                continue
            x = sorted_finite(cand, cols)
            ok = ok_a & (np.count_nonzero(np.isfinite(x), axis=0) >= 2)
            lvar = np.log((finite_var(x) + _FLOOR) / (var_a + _FLOOR))
            ldistinct = np.log(np.maximum(distinct_sorted(x), 1) / np.maximum(distinct_a, 1))
            liqr = np.log((_iqr(x) + _FLOOR) / np.where(iqr_a > 0, iqr_a, np.nan))
            for i in np.flatnonzero(ok):
                m[("variance_ratio", names[i])] = float(lvar[i])
                m[("distinct_values", names[i])] = float(ldistinct[i])
                if continuous[i] and iqr_a[i] > 0:
                    m[("iqr_ratio", names[i])] = float(liqr[i])
    return out
