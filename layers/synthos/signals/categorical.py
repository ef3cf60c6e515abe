"""Categorical support: distinct ratio, coverage of reference categories, entropy ratio and the
Good-Turing singleton fraction (the estimated mass of values not yet seen).

Collapse removes rare categories first: all four fall. Codes are shared with the reference
(-1 is missing and is ignored).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from synthos.frame import Frame
from synthos.signals.context import PairContext
from synthos.signals.registry import Measure


def _counts(codes: np.ndarray) -> np.ndarray:
    codes = codes[codes >= 0]
    return np.bincount(codes) if codes.size else np.zeros(0, dtype=np.int64)


def entropy(counts: np.ndarray) -> float:
    c = counts[counts > 0].astype(float)
    if c.size == 0:
        return 0.0
    p = c / c.sum()
    return float(-(p * np.log(p)).sum())


def singleton_fraction(counts: np.ndarray) -> float:
    total = counts.sum()
    return float(np.sum(counts == 1) / total) if total else 0.0


def measure(candidates: Sequence[Frame], anchor: Frame, ctx: PairContext) -> list[Measure]:
    out: list[Measure] = [{} for _ in candidates]
    for j, name in enumerate(anchor.categorical_names):
        ca = _counts(anchor.categorical[:, j])
        present_a = np.flatnonzero(ca)
        if present_a.size < 2:
            continue
        h_a = entropy(ca)
        for m, cand in zip(out, candidates, strict=True):
            cx = _counts(cand.categorical[:, j])
            if cx.sum() == 0:
                continue
            cx = np.pad(cx, (0, max(0, ca.size - cx.size)))
            m[("distinct_ratio", name)] = float(np.log(np.count_nonzero(cx) / present_a.size))
            m[("category_coverage", name)] = float(np.mean(cx[present_a] > 0))
            m[("entropy_ratio", name)] = entropy(cx) / h_a
            m[("singleton_fraction", name)] = singleton_fraction(cx)
    return out
