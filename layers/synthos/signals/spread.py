"""Scale and spread per numeric column: log variance ratio, log IQR ratio, and the log ratio of
distinct values (value-level collapse: a generator that resamples from a shrinking pool of values
keeps its variance for a while, but not its distinct values).

The IQR ratio is only taken on continuous columns (see ``PairContext``). Both are
shift-invariant (a moved mean is drift, not collapse) and, on standardised data,
invariant to affine rescaling. A column that collapsed to a constant gives a large negative
value, bounded by a tiny floor instead of -inf.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from synthos.frame import Frame
from synthos.signals.context import PairContext
from synthos.signals.registry import Measure

_FLOOR = 1e-12


def _finite(col: np.ndarray) -> np.ndarray:
    return col[np.isfinite(col)]


def _iqr(v: np.ndarray) -> float:
    q75, q25 = np.percentile(v, [75, 25])
    return float(q75 - q25)


def measure(candidates: Sequence[Frame], anchor: Frame, ctx: PairContext) -> list[Measure]:
    out: list[Measure] = [{} for _ in candidates]
    for j in ctx.numeric_cols:
        name = anchor.numeric_names[j]
        a = _finite(anchor.numeric[:, j])
        if a.size < 2:
            continue
        var_a, iqr_a, distinct_a = float(np.var(a)), _iqr(a), np.unique(a).size
        for m, cand in zip(out, candidates, strict=True):
            x = _finite(cand.numeric[:, j])
            if x.size < 2:
                continue
            m[("variance_ratio", name)] = float(np.log((np.var(x) + _FLOOR) / (var_a + _FLOOR)))
            m[("distinct_values", name)] = float(np.log(np.unique(x).size / distinct_a))
            if iqr_a > 0 and j in ctx.continuous_cols:
                m[("iqr_ratio", name)] = float(np.log((_iqr(x) + _FLOOR) / iqr_a))
    return out
