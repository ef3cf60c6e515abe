"""Two-sided tails: how much of the reference's extreme quantiles the dataset still occupies.

Each side is measured separately after centring both samples on their own median (so a moved
mean is not read as a lost tail). The tail level adapts to the candidate size so that about ten
rows are expected in each tail, between 1% and 10%. Only continuous columns (see
``PairContext``): on a discrete column the median and the quantiles jump between samples.
Vectorised over columns.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from synthos.frame import Frame
from synthos.signals.context import PairContext
from synthos.signals.registry import Measure
from synthos.signals.spread import sorted_finite, sorted_quantile


def tail_level(n: int) -> float:
    return float(np.clip(10.0 / max(n, 1), 0.01, 0.10))


def occupancy(x: np.ndarray, q: np.ndarray, lower: bool) -> np.ndarray:
    """Per column: share of finite x strictly beyond q, values equal to q counting half."""
    with np.errstate(invalid="ignore"):
        beyond = (x < q) if lower else (x > q)
        tie = x == q
    n = np.count_nonzero(np.isfinite(x), axis=0)
    hits = np.count_nonzero(beyond, axis=0) + 0.5 * np.count_nonzero(tie, axis=0)
    return hits / np.maximum(n, 1)


def measure(candidates: Sequence[Frame], anchor: Frame, ctx: PairContext) -> list[Measure]:
    out: list[Measure] = [{} for _ in candidates]
    cols = list(ctx.continuous_cols)
    if not cols:
        return out
    names = [anchor.numeric_names[j] for j in cols]
    a_sorted = sorted_finite(anchor, cols)
    a = a_sorted - sorted_quantile(a_sorted, [0.5])[0]  # still sorted, centred on its median
    ok_a = np.count_nonzero(np.isfinite(a), axis=0) >= 10
    for m, cand in zip(out, candidates, strict=True):
        x = sorted_finite(cand, cols)
        if x.shape[0] < 10:
            continue
        x = x - sorted_quantile(x, [0.5])[0]
        alpha = tail_level(x.shape[0])
        smooth = 0.5 / x.shape[0]
        q_lo, q_hi = sorted_quantile(a, [alpha, 1 - alpha])
        ok = ok_a & (np.count_nonzero(np.isfinite(x), axis=0) >= 10)
        for key, lower, q in (("lower_tail", True, q_lo), ("upper_tail", False, q_hi)):
            ratio = np.log((occupancy(x, q, lower) + smooth) / (occupancy(a, q, lower) + smooth))
            for i in np.flatnonzero(ok):
                m[(key, names[i])] = float(ratio[i])
    return out
