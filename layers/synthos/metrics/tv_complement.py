"""TVComplement: 1 - the total variation distance between two category frequency vectors.

Matches ``sdmetrics.single_column.TVComplement.compute`` (SDMetrics 0.32) without pandas:

* missing labels are dropped on each side first: ``None`` and any value unequal to itself
  (float NaN, NaT); the string ``"nan"`` is a label, as in pandas;
* labels are matched by Python equality, so ``1``, ``1.0`` and ``True`` are one category;
* a category seen only in the synthetic data gets a real count of ``1e-6``
  (:data:`SYNTHETIC_ONLY_PSEUDO_COUNT`, SDMetrics' regularisation), which also enters the
  real total, so the score is a hair below the exact ``1 - TV`` when such categories exist;
* a side with no label left after dropping missing ones raises
  :class:`synthos.errors.EmptyDataset` (SDMetrics raises ``IncomputableMetricError``).

:func:`tv_complement_from_counts` is the same score from per-category counts that are already
aligned (e.g. ``np.bincount`` of shared vocabulary codes).
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from synthos.errors import EmptyDataset, InputError

SYNTHETIC_ONLY_PSEUDO_COUNT = 1e-6
"""Real count SDMetrics gives a category that only the synthetic data has."""

_NONE = np.array(None, dtype=object)


def tv_complement(real: np.ndarray, synthetic: np.ndarray) -> float:
    """1 - total variation distance between the label frequencies of two columns.

    Args:
        real: (n,) labels of the reference column: object (str, numbers, None), str, bool,
            integer, float or datetime64; None / NaN / NaT are missing.
        synthetic: (m,) labels of the same column in the synthetic dataset.

    Returns:
        A float in [0, 1]; 1 when both sides have the same category frequencies.

    Raises:
        InputError: an array is not 1-D.
        EmptyDataset: a side has no non-missing label.
    """
    real_labels = _present_labels(np.asarray(real), "real")
    synthetic_labels = _present_labels(np.asarray(synthetic), "synthetic")
    real_counts, synthetic_counts = _aligned_counts(real_labels, synthetic_labels)
    return tv_complement_from_counts(real_counts, synthetic_counts)


def tv_complement_from_counts(real_counts: np.ndarray, synthetic_counts: np.ndarray) -> float:
    """TVComplement from (k,) non-negative counts of the same k categories on each side.

    Raises:
        InputError: the shapes differ or are not 1-D.
        EmptyDataset: a side's counts sum to zero.
    """
    real_counts = np.asarray(real_counts, dtype=np.float64)
    synthetic_counts = np.asarray(synthetic_counts, dtype=np.float64)
    if real_counts.ndim != 1 or real_counts.shape != synthetic_counts.shape:
        raise InputError(
            f"counts must be 1-D and aligned, got {real_counts.shape} and {synthetic_counts.shape}"
        )
    _require_present("real", real_counts.sum())
    _require_present("synthetic", synthetic_counts.sum())
    synthetic_only = (real_counts == 0) & (synthetic_counts > 0)
    real_counts = np.where(synthetic_only, SYNTHETIC_ONLY_PSEUDO_COUNT, real_counts)
    expected = real_counts / real_counts.sum()
    observed = synthetic_counts / synthetic_counts.sum()
    return float(1.0 - 0.5 * np.abs(observed - expected).sum())


def _require_present(side: str, total: float) -> None:
    if total <= 0:
        raise EmptyDataset(
            f"TVComplement needs 1 or more non-missing {side} values",
            details={"side": side, "metric": "tv_complement"},
        )


def _present_labels(labels: np.ndarray, side: str) -> np.ndarray:
    if labels.ndim != 1:
        raise InputError(f"{side} must be 1-D, got shape {labels.shape}")
    kind = labels.dtype.kind
    if kind == "f":
        return labels[~np.isnan(labels)]
    if kind in "mM":
        return labels[~np.isnat(labels)]
    if kind == "O":
        missing = np.equal(labels, _NONE) | np.not_equal(labels, labels)
        return labels[~missing]
    return labels


def _aligned_counts(real: np.ndarray, synthetic: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Counts of every category seen on either side, real's then synthetic-only ones."""
    if real.dtype.kind in "mM" and real.dtype.kind == synthetic.dtype.kind:
        unit = np.promote_types(real.dtype, synthetic.dtype)  # equal instants, one unit
        real, synthetic = real.astype(unit), synthetic.astype(unit)
    real_counter = _label_counts(real)
    synthetic_counter = _label_counts(synthetic)
    categories = list(real_counter) + [c for c in synthetic_counter if c not in real_counter]
    real_counts = np.array([real_counter.get(c, 0) for c in categories], dtype=np.int64)
    synthetic_counts = np.array([synthetic_counter.get(c, 0) for c in categories], np.int64)
    return real_counts, synthetic_counts


def _label_counts(labels: np.ndarray) -> dict[object, int]:
    """Label -> count, keyed by Python values so that equal labels across dtypes merge."""
    if labels.dtype.kind in "mM":
        return Counter(list(labels))
    if labels.dtype.kind == "O":
        return Counter(labels.tolist())
    keys, counts = np.unique(labels, return_counts=True)
    return dict(zip(keys.tolist(), counts.tolist(), strict=True))
