"""Exact duplicates within the dataset and exact copies of reference rows (row content hashes)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from synthos.frame import Frame
from synthos.signals.context import PairContext
from synthos.signals.registry import Measure


def duplicate_rate(row_hash: np.ndarray) -> float:
    """Share of rows equal to another, earlier row: 1 - distinct / n."""
    n = row_hash.size
    return float(1.0 - np.unique(row_hash).size / n) if n else 0.0


def copy_rate(row_hash: np.ndarray, reference_hash: np.ndarray) -> float:
    """Share of rows whose content equals some reference row."""
    return float(np.isin(row_hash, reference_hash).mean()) if row_hash.size else 0.0


def measure(candidates: Sequence[Frame], anchor: Frame, ctx: PairContext) -> list[Measure]:
    return [
        {
            ("exact_duplicate_rate", "*"): duplicate_rate(c.row_hash),
            ("exact_copy_rate", "*"): copy_rate(c.row_hash, anchor.row_hash),
        }
        for c in candidates
    ]
