"""Two-sided tails: how much of the reference's extreme quantiles the dataset still occupies.

Each side is measured separately after centring both samples on their own median (so a moved
mean is not read as a lost tail). The tail level adapts to the sample size so that about ten
reference rows are expected in each tail, between 1% and 10%.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from synthos.frame import Frame
from synthos.signals.context import PairContext
from synthos.signals.registry import Measure


def tail_level(n: int) -> float:
    return float(np.clip(10.0 / max(n, 1), 0.01, 0.10))


def _occupancy(x: np.ndarray, q: float, lower: bool) -> float:
    """Share of x strictly beyond q, counting values equal to q as half (discrete columns)."""
    beyond = np.mean(x < q) if lower else np.mean(x > q)
    return float(beyond + 0.5 * np.mean(x == q))


def measure(candidates: Sequence[Frame], anchor: Frame, ctx: PairContext) -> list[Measure]:
    out: list[Measure] = [{} for _ in candidates]
    for j in ctx.continuous_cols:
        name = anchor.numeric_names[j]
        a = anchor.numeric[:, j]
        a = a[np.isfinite(a)]
        if a.size < 10:
            continue
        a = a - np.median(a)
        for m, cand in zip(out, candidates, strict=True):
            x = cand.numeric[:, j]
            x = x[np.isfinite(x)]
            if x.size < 10:
                continue
            x = x - np.median(x)
            alpha = tail_level(x.size)
            smooth = 0.5 / x.size
            q_lo, q_hi = np.quantile(a, [alpha, 1 - alpha])
            expected_lo, expected_hi = _occupancy(a, q_lo, True), _occupancy(a, q_hi, False)
            for key, occ, exp in (
                ("lower_tail", _occupancy(x, q_lo, True), expected_lo),
                ("upper_tail", _occupancy(x, q_hi, False), expected_hi),
            ):
                m[(key, name)] = float(np.log((occ + smooth) / (exp + smooth)))
    return out
