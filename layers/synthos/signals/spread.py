"""Scale and spread per numeric column: log variance ratio, log IQR ratio, and the log ratio of
distinct values (value-level collapse: a generator that resamples from a shrinking pool of values
keeps its variance for a while, but not its distinct values).

The IQR ratio is only taken on continuous columns (see ``PairContext``). All are shift-invariant
(a moved mean is drift, not collapse) and, on standardised data, invariant to affine rescaling.
A column that collapsed to a constant gives a large negative value, bounded by a tiny floor
instead of -inf. Vectorised over columns: a 10,000-column table costs a few array passes.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from synthos.frame import Frame
from synthos.signals.context import PairContext
from synthos.signals.registry import Measure

_FLOOR = 1e-12


def finite_block(frame: Frame, cols: Sequence[int]) -> np.ndarray:
    """Columns ``cols`` of the numeric block with every non-finite value as NaN."""
    x = frame.numeric[:, list(cols)]
    return np.where(np.isfinite(x), x, np.nan)


def nan_quantile(x: np.ndarray, qs: Sequence[float]) -> np.ndarray:
    """(len(qs), p) quantiles per column of x, ignoring NaN, with numpy's default linear
    interpolation; vectorised (np.nanquantile loops over columns in Python when NaN is present).
    An all-NaN column gives NaN."""
    if not np.isnan(x).any():
        return np.quantile(x, qs, axis=0) if x.shape[0] else np.full((len(qs), x.shape[1]), np.nan)
    s = np.sort(x, axis=0)
    n = np.count_nonzero(~np.isnan(s), axis=0)
    cols = np.arange(x.shape[1])
    out = np.full((len(qs), x.shape[1]), np.nan)
    for i, q in enumerate(qs):
        pos = q * np.maximum(n - 1, 0)
        lo = np.floor(pos).astype(int)
        hi = np.minimum(lo + 1, np.maximum(n - 1, 0))
        v_lo, v_hi = s[lo, cols], s[hi, cols]
        out[i] = np.where(n > 0, v_lo + (pos - lo) * (v_hi - v_lo), np.nan)
    return out


def distinct_counts(x: np.ndarray) -> np.ndarray:
    """Distinct finite values per column of x (n, p) with NaN for missing."""
    s = np.sort(x, axis=0)  # NaN sorts last
    fin = np.isfinite(s)
    new = np.ones_like(fin)
    new[1:] = s[1:] != s[:-1]
    return np.count_nonzero(new & fin, axis=0)


def _iqr(x: np.ndarray) -> np.ndarray:
    q75, q25 = nan_quantile(x, [0.75, 0.25])
    return q75 - q25


def measure(candidates: Sequence[Frame], anchor: Frame, ctx: PairContext) -> list[Measure]:
    out: list[Measure] = [{} for _ in candidates]
    cols = list(ctx.numeric_cols)
    if not cols or anchor.n < 2:
        return out
    names = [anchor.numeric_names[j] for j in cols]
    continuous = np.isin(cols, ctx.continuous_cols)
    a = finite_block(anchor, cols)
    ok_a = np.count_nonzero(np.isfinite(a), axis=0) >= 2
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: NaN is the answer
        var_a, iqr_a, distinct_a = np.nanvar(a, axis=0), _iqr(a), distinct_counts(a)
        for m, cand in zip(out, candidates, strict=True):
            if cand.n < 2:
                continue
            x = finite_block(cand, cols)
            ok = ok_a & (np.count_nonzero(np.isfinite(x), axis=0) >= 2)
            lvar = np.log((np.nanvar(x, axis=0) + _FLOOR) / (var_a + _FLOOR))
            ldistinct = np.log(np.maximum(distinct_counts(x), 1) / np.maximum(distinct_a, 1))
            liqr = np.log((_iqr(x) + _FLOOR) / np.where(iqr_a > 0, iqr_a, np.nan))
            for i in np.flatnonzero(ok):
                m[("variance_ratio", names[i])] = float(lvar[i])
                m[("distinct_values", names[i])] = float(ldistinct[i])
                if continuous[i] and iqr_a[i] > 0:
                    m[("iqr_ratio", names[i])] = float(liqr[i])
    return out
