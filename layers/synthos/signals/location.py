"""The drift channel: where the data sits, as opposed to how much of it is left.

A pure shift of the mean moves these and nothing in the collapse channel.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from synthos.frame import Frame
from synthos.signals.context import PairContext
from synthos.signals.registry import Measure


def measure(candidates: Sequence[Frame], anchor: Frame, ctx: PairContext) -> list[Measure]:
    out: list[Measure] = [{} for _ in candidates]
    for j in ctx.numeric_cols:
        name = anchor.numeric_names[j]
        a = anchor.numeric[:, j]
        a = a[np.isfinite(a)]
        if a.size < 2:
            continue
        med_a = np.median(a)
        for m, cand in zip(out, candidates, strict=True):
            x = cand.numeric[:, j]
            x = x[np.isfinite(x)]
            if x.size:
                # columns are in reference-scale units already
                m[("location_shift", name)] = float(abs(np.median(x) - med_a))
    for name, a in anchor.embeddings.items():
        a = a[np.all(np.isfinite(a), axis=1)]
        if a.shape[0] < 2:
            continue
        for m, cand in zip(out, candidates, strict=True):
            x = cand.embeddings[name]
            x = x[np.all(np.isfinite(x), axis=1)]
            if x.shape[0]:
                m[("centroid_shift", name)] = float(np.linalg.norm(x.mean(0) - a.mean(0)))
    return out
