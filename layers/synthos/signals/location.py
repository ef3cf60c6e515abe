"""The drift channel: where the data sits, as opposed to how much of it is left.

A pure shift of the mean moves these and nothing in the collapse channel.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from synthos.frame import Frame, complete_rows
from synthos.signals.context import PairContext
from synthos.signals.registry import Measure
from synthos.signals.spread import sorted_finite, sorted_quantile


def measure(candidates: Sequence[Frame], anchor: Frame, ctx: PairContext) -> list[Measure]:
    out: list[Measure] = [{} for _ in candidates]
    cols = list(ctx.numeric_cols)
    if cols and anchor.n:
        names = [anchor.numeric_names[j] for j in cols]
        with np.errstate(all="ignore"):
            med_a = anchor.memo(("median", tuple(cols)),
                                lambda: sorted_quantile(sorted_finite(anchor, cols), [0.5])[0])
            for m, cand in zip(out, candidates, strict=True):
                if cand.n == 0:
                    continue
                # columns are in reference-scale units already
                shift = np.abs(sorted_quantile(sorted_finite(cand, cols), [0.5])[0] - med_a)
                for i in np.flatnonzero(np.isfinite(shift)):
                    m[("location_shift", names[i])] = float(shift[i])
    for name, a in anchor.embeddings.items():
        a = complete_rows(a)
        if a.shape[0] < 2:
            continue
        for m, cand in zip(out, candidates, strict=True):
            x = complete_rows(cand.embeddings[name])
            if x.shape[0]:
                m[("centroid_shift", name)] = float(np.linalg.norm(x.mean(0) - a.mean(0)))
    return out
