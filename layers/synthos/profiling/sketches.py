"""Streaming summaries that one pass over a column keeps: moments, quantiles, distinct counts
and value frequencies. Each is exact while that is cheap and says when it became an estimate.

Every summary also has ``state()`` (a tree for ``synthos.shard.codec``: JSON values, numpy
arrays, sketch bytes), ``load(state)`` and ``merge(other)``: merging the summaries of two row
sets gives the summary of their union (exactly for the exact parts; within the sketch's error
for HLL and frequent items). Quantiles live in ``synthos.profiling.quantiles``.
"""

from __future__ import annotations

import math
from typing import Any

import datasketches as ds
import numpy as np

from synthos.profiling.hll import Hll
from synthos.profiling.safe_sketches import load_sketch

EXACT_DISTINCT_LIMIT = 65_536
HLL_LG_K = 14
FREQ_LG_MAX_K = 14


class RunningMoments:
    """Exact count, mean, population variance (Chan's parallel merge), min and max.

    Feed finite float64 values only; each ``update`` merges one batch.
    """

    def __init__(self) -> None:
        self.n = 0
        self.mean = 0.0
        self.m2 = 0.0
        self.min = math.inf
        self.max = -math.inf

    def update(self, x: np.ndarray) -> None:
        nb = len(x)
        if nb == 0:
            return
        mean_b = float(x.mean())
        dev = x - mean_b
        m2_b = float(np.multiply(dev, dev, out=dev).sum())  # np.square, without a copy
        n = self.n + nb
        delta = mean_b - self.mean
        self.mean += delta * nb / n
        self.m2 += m2_b + delta * delta * self.n * nb / n
        self.n = n
        self.min = min(self.min, float(x.min()))
        self.max = max(self.max, float(x.max()))

    def std(self) -> float | None:
        return math.sqrt(self.m2 / self.n) if self.n else None

    def merge(self, other: RunningMoments) -> None:
        """Chan's pairwise combination: the moments of the union of both row sets."""
        if other.n == 0:
            return
        n = self.n + other.n
        delta = other.mean - self.mean
        self.mean += delta * other.n / n
        self.m2 += other.m2 + delta * delta * self.n * other.n / n
        self.n = n
        self.min, self.max = min(self.min, other.min), max(self.max, other.max)

    def state(self) -> dict[str, Any]:
        return {"n": self.n, "mean": self.mean, "m2": self.m2, "min": self.min, "max": self.max}

    @classmethod
    def load(cls, state: dict[str, Any]) -> RunningMoments:
        out = cls()
        out.n = int(state["n"])
        out.mean, out.m2 = float(state["mean"]), float(state["m2"])
        out.min, out.max = float(state["min"]), float(state["max"])
        if out.n == 0:  # never fed: the initial values, which a merge would otherwise keep
            require(out.state() == cls().state(), "moments of no values are not empty")
        else:
            require(out.n > 0, "moment count is negative")
            require(all(map(math.isfinite, (out.mean, out.m2, out.min, out.max))),
                     "moments are not finite")
            require(out.m2 >= 0 and out.min <= out.max, "moments are inconsistent")
        return out


class DistinctCounter:
    """Distinct count of uint64 value hashes: exact up to 65,536, then a HyperLogLog sketch
    (``synthos.profiling.hll``, p = 14: 0.81 % relative standard error)."""

    def __init__(self, limit: int = EXACT_DISTINCT_LIMIT) -> None:
        self.limit = limit
        self._exact: np.ndarray | None = np.empty(0, dtype=np.uint64)
        self._hll: Hll | None = None

    def update(self, hashes: np.ndarray) -> None:
        """Add value hashes (nulls already removed)."""
        if len(hashes) == 0:
            return
        if self._hll is not None:
            self._hll.update(hashes)
            return
        assert self._exact is not None
        merged = _sorted_unique(np.concatenate((self._exact, hashes)))
        if len(merged) > self.limit:
            self._hll, self._exact = Hll(HLL_LG_K), None
            self._hll.update(merged)
        else:
            self._exact = merged

    def result(self) -> tuple[int, bool]:
        """(distinct count, exact?)."""
        if self._exact is not None:
            return len(self._exact), True
        assert self._hll is not None
        return round(self._hll.estimate()), False

    def merge(self, other: DistinctCounter) -> None:
        """The distinct count of the union: exact sets are joined, sketches united (register
        maxima: the same sketch whatever the split)."""
        if other._exact is not None:
            self.update(other._exact)
            return
        assert other._hll is not None
        if self._hll is None:
            assert self._exact is not None
            self._hll = Hll(HLL_LG_K)
            self._hll.update(self._exact)
            self._exact = None
        self._hll.merge(other._hll)

    def state(self) -> dict[str, Any]:
        if self._exact is not None:
            return {"exact": self._exact}
        assert self._hll is not None
        return {"hll_p": self._hll.p, "hll": self._hll.registers}

    @classmethod
    def load(cls, state: dict[str, Any]) -> DistinctCounter:
        out = cls()
        if "hll" in state:
            registers = state["hll"]
            if not isinstance(registers, np.ndarray):
                raise ValueError("HLL registers are not an array")
            out._exact, out._hll = None, Hll(int(state["hll_p"]), registers)
        else:
            exact = np.asarray(state["exact"], dtype=np.uint64)
            require(exact.ndim == 1 and len(exact) <= out.limit,
                     "exact distinct hashes are not a vector within the limit")
            out._exact = _sorted_unique(exact)
        return out

    def exact_count(self) -> int | None:
        """Distinct hashes held exactly (None once sketched)."""
        return None if self._exact is None else len(self._exact)


def require(ok: bool, what: str) -> None:
    """ValueError unless ``ok``: a partial state whose values are out of range (the state
    reader, ``synthos.shard.state``, reports it as CorruptShardState)."""
    if not ok:
        raise ValueError(f"partial state out of range: {what}")


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    values = np.sort(values)
    if len(values) < 2:
        return values
    keep = np.empty(len(values), dtype=bool)
    keep[0] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


class Frequencies:
    """Value counts of strings: an exact dict up to 65,536 values, then a frequent-items sketch."""

    def __init__(self, limit: int = EXACT_DISTINCT_LIMIT) -> None:
        self.limit = limit
        self._exact: dict[str, int] | None = {}
        self._sketch: ds.frequent_strings_sketch | None = None

    @property
    def exact(self) -> bool:
        return self._exact is not None

    def update(self, values: list[str], counts: list[int]) -> None:
        if self._exact is not None:
            exact = self._exact
            for v, c in zip(values, counts, strict=True):
                exact[v] = exact.get(v, 0) + c
            if len(exact) > self.limit:
                self._sketch = ds.frequent_strings_sketch(FREQ_LG_MAX_K)
                self._exact = None
                self._feed(list(exact), list(exact.values()))
        else:
            self._feed(values, counts)

    def _feed(self, values: list[str], counts: list[int]) -> None:
        assert self._sketch is not None
        update = self._sketch.update
        for v, c in zip(values, counts, strict=True):
            update(v, c)

    def top(self, n: int = 10) -> list[tuple[str, int]]:
        """The n most frequent values, most frequent first (ties by value)."""
        if self._exact is not None:
            items = sorted(self._exact.items(), key=lambda kv: (-kv[1], kv[0]))
            return items[:n]
        assert self._sketch is not None
        found = self._sketch.get_frequent_items(ds.frequent_items_error_type.NO_FALSE_NEGATIVES)
        ranked = sorted(
            ((item, int(est)) for item, est, _lo, _hi in found), key=lambda kv: (-kv[1], kv[0])
        )
        return ranked[:n]

    def merge(self, other: Frequencies) -> None:
        if other._exact is not None:
            self.update(list(other._exact), list(other._exact.values()))
            return
        assert other._sketch is not None
        if self._exact is not None:
            self._sketch = ds.frequent_strings_sketch(FREQ_LG_MAX_K)
            self._feed(list(self._exact), list(self._exact.values()))
            self._exact = None
        assert self._sketch is not None
        self._sketch.merge(other._sketch)

    def state(self) -> dict[str, Any]:
        if self._exact is not None:
            items = sorted(self._exact.items())
            return {"values": [v for v, _ in items],
                    "counts": np.array([c for _, c in items], dtype=np.int64)}
        assert self._sketch is not None
        return {"freq": self._sketch.serialize()}

    @classmethod
    def load(cls, state: dict[str, Any]) -> Frequencies:
        out = cls()
        if "freq" in state:
            out._exact, out._sketch = None, load_sketch("freq", state["freq"])
            return out
        values, counts = state["values"], np.asarray(state["counts"], dtype=np.int64)
        if len(values) != len(counts) or not all(isinstance(v, str) for v in values):
            raise ValueError("frequency table values and counts do not match")
        require(counts.ndim == 1 and len(values) <= out.limit
                 and bool((counts > 0).all()), "frequency counts are out of range")
        out._exact = dict(zip(values, counts.tolist(), strict=True))
        require(len(out._exact) == len(values), "frequency table repeats a value")
        return out

    def total(self) -> int:
        """The sum of all counts fed (the non-null values)."""
        if self._exact is not None:
            return sum(self._exact.values())
        assert self._sketch is not None
        return int(self._sketch.total_weight)
