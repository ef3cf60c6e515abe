"""Two-sided tails: how much of the reference's extreme quantiles the dataset still occupies.

Each side is measured separately after centring both samples on their own median (so a moved
mean is not read as a lost tail). The tail level adapts to the candidate size so that about ten
rows are expected in each tail, between 1% and 10%. Only continuous columns (see
``PairContext``): on a discrete column the median and the quantiles jump between samples.
Vectorised over columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

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


def _anchor_tails(anchor: Frame, cols: list[int], alpha: float
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(usable, lower and upper tail quantiles, the anchor's own occupancy of each) per column,
    after centring the anchor on its median."""
    a_sorted = sorted_finite(anchor, cols)
    a = a_sorted - sorted_quantile(a_sorted, [0.5])[0]  # still sorted, centred on its median
    ok_a = np.count_nonzero(np.isfinite(a), axis=0) >= 10
    q_lo, q_hi = sorted_quantile(a, [alpha, 1 - alpha])
    return ok_a, q_lo, q_hi, occupancy(a, q_lo, True), occupancy(a, q_hi, False)


def measure(candidates: Sequence[Frame], anchor: Frame, ctx: PairContext) -> list[Measure]:
    out: list[Measure] = [{} for _ in candidates]
    cols = list(ctx.continuous_cols)
    if not cols:
        return out
    names = [anchor.numeric_names[j] for j in cols]
    for m, cand in zip(out, candidates, strict=True):
        x = sorted_finite(cand, cols)
        if x.shape[0] < 10:
            continue
        x = x - sorted_quantile(x, [0.5])[0]
        alpha = tail_level(x.shape[0])
        smooth = 0.5 / x.shape[0]
        ok_a, q_lo, q_hi, occ_lo, occ_hi = anchor.memo(
            ("tails", tuple(cols), alpha), partial(_anchor_tails, anchor, cols, alpha))
        ok = ok_a & (np.count_nonzero(np.isfinite(x), axis=0) >= 10)
        for key, lower, q, occ_a in (("lower_tail", True, q_lo, occ_lo),
                                     ("upper_tail", False, q_hi, occ_hi)):
            ratio = np.log((occupancy(x, q, lower) + smooth) / (occ_a + smooth))
            for i in np.flatnonzero(ok):
                m[(key, names[i])] = float(ratio[i])
    return out
