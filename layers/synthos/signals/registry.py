"""What each collapse or drift signal measures, which way is bad, and how it is calibrated.

A signal *family* module exposes ``measure(candidates, anchor, ctx) -> list[Measure]``: for each
candidate frame (the dataset's rows, or real rows held out of the reference) it returns one
number per (signal, scope) key, measured against the same anchor (real rows of the reference).
The calibration (``synthos.calibration``) turns the two into a z-like deviation.
"""

from __future__ import annotations

from dataclasses import dataclass

Key = tuple[str, str]  # (signal name, scope: a column name, "col#pc3", or "*" for the table)
Measure = dict[Key, float]


@dataclass(frozen=True)
class SignalInfo:
    """``collapse``/``drift``: +1 when a larger value is worse, -1 when smaller is worse, 0 unused.

    ``rate_floor``: for statistics that are proportions, the smallest standard deviation the
    calibration accepts (the binomial sd of a 2% rate at the standard size), so that one stray
    duplicate in a reference with none does not read as certain collapse. ``floor`` overrides
    it where a smaller effect would not mean collapse: 2 points of extra missing values, or of
    reference categories absent, are one unit of evidence (a column the generator stopped
    filling scores 50; losing 10% of the categories is "high", missing one rare category out
    of 50 - which a real sample of 1,000 rows does by chance - is not).
    """

    name: str
    family: str
    collapse: int
    drift: int
    description: str
    rate_floor: bool = False
    floor: float | None = None


_SIGNALS = [
    SignalInfo("variance_ratio", "spread", -1, +1, "log of variance, dataset over reference"),
    SignalInfo("iqr_ratio", "spread", -1, +1, "log of interquartile range, dataset over reference"),
    SignalInfo("distinct_values", "spread", -1, 0, "log distinct values, dataset over reference"),
    SignalInfo("missing_rate", "missingness", +1, 0, "share of values missing (null, NaN, Inf)",
               rate_floor=True, floor=0.02),
    SignalInfo("lower_tail", "tails", -1, 0, "log occupancy of the reference's lower tail"),
    SignalInfo("upper_tail", "tails", -1, 0, "log occupancy of the reference's upper tail"),
    SignalInfo("location_shift", "location", 0, +1, "|median shift| in reference IQR units"),
    SignalInfo("corr_logdet", "dependence", -1, 0, "log-det of the correlation matrix per dim"),
    SignalInfo("cov_logdet", "dependence", -1, 0, "log-det of the covariance matrix per dim"),
    SignalInfo("distinct_ratio", "categorical", -1, 0, "log distinct categories, dataset/ref",
               floor=0.02),
    SignalInfo("category_coverage", "categorical", -1, 0, "share of reference categories present",
               rate_floor=True, floor=0.02),
    SignalInfo("entropy_ratio", "categorical", -1, 0, "entropy of dataset over reference"),
    SignalInfo("singleton_fraction", "categorical", -1, 0, "Good-Turing unseen-mass estimate",
               rate_floor=True),
    SignalInfo("exact_duplicate_rate", "duplicates", +1, 0, "rows equal to another row",
               rate_floor=True),
    SignalInfo("exact_copy_rate", "duplicates", +1, 0, "rows equal to a reference row",
               rate_floor=True),
    SignalInfo("near_duplicate_rate", "duplicates", +1, 0, "rows within a tiny radius of another",
               rate_floor=True),
    SignalInfo("near_copy_rate", "duplicates", +1, 0,
               "rows within a tiny radius of a reference row",
               rate_floor=True),
    SignalInfo("knn_precision", "neighbourhood", 0, 0, "k-NN precision (fidelity, Kynkäänniemi)",
               rate_floor=True),
    SignalInfo("knn_recall", "neighbourhood", -1, 0, "k-NN recall (diversity, Kynkäänniemi)",
               rate_floor=True),
    SignalInfo("knn_density", "neighbourhood", +1, 0, "k-NN density (Naeem 2020)"),
    SignalInfo("knn_coverage", "neighbourhood", -1, 0, "k-NN coverage (Naeem 2020)",
               rate_floor=True),
    SignalInfo("nn_distance_ratio", "neighbourhood", -1, 0, "log median NN distance, dataset/ref"),
    SignalInfo("direction_variance", "embedding", -1, +1,
               "log variance along a reference principal direction"),
    SignalInfo("centroid_shift", "location", 0, +1, "embedding centroid shift in reference sd"),
    SignalInfo("empty_modes", "embedding", +1, 0,
               "reference mass in clusters the dataset left empty",
               rate_floor=True),
]

SIGNALS: dict[str, SignalInfo] = {s.name: s for s in _SIGNALS}
