"""Missingness: the share of a column's values that are null (or NaN/Inf) in the candidate.

A column that the generator stopped filling has lost all of its support, whatever its other
signals say (they only see the values that are left). Does not depend on the anchor.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from synthos.frame import Frame
from synthos.signals.context import PairContext
from synthos.signals.registry import Measure


def missing_shares(frame: Frame) -> dict[str, float]:
    """Column name -> share of rows without a usable value."""
    out: dict[str, float] = {}
    if frame.n == 0:
        return out
    for j, name in enumerate(frame.numeric_names):
        out[name] = float(np.mean(~np.isfinite(frame.numeric[:, j])))
    for j, name in enumerate(frame.categorical_names):
        out[name] = float(np.mean(frame.categorical[:, j] < 0))
    for name, x in frame.embeddings.items():
        out[name] = float(np.mean(~np.all(np.isfinite(x), axis=1)))
    return out


def measure(candidates: Sequence[Frame], anchor: Frame, ctx: PairContext) -> list[Measure]:
    return [{("missing_rate", name): v for name, v in missing_shares(c).items()}
            for c in candidates]
