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
    if n == 0:
        return 0.0
    s = np.sort(row_hash)
    return float(np.count_nonzero(s[1:] == s[:-1]) / n)


def copy_rate(row_hash: np.ndarray, reference_hash: np.ndarray, *,
              reference_sorted: bool = False) -> float:
    """Share of rows whose content equals some reference row (``reference_sorted``: the
    reference hashes are already sorted ascending)."""
    if row_hash.size == 0:
        return 0.0
    if reference_hash.size == 0:
        return 0.0
    ref = reference_hash if reference_sorted else np.sort(reference_hash)
    at = np.minimum(np.searchsorted(ref, row_hash), ref.size - 1)
    return float(np.count_nonzero(ref[at] == row_hash) / row_hash.size)


def measure(candidates: Sequence[Frame], anchor: Frame, ctx: PairContext) -> list[Measure]:
    ref = anchor.memo("sorted_row_hash", lambda: np.sort(anchor.row_hash))
    return [
        {
            ("exact_duplicate_rate", "*"): duplicate_rate(c.row_hash),
            ("exact_copy_rate", "*"): copy_rate(c.row_hash, ref, reference_sorted=True),
        }
        for c in candidates
    ]
