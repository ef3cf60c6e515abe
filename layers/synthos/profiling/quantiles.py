"""Quantiles of one column: exact (and reproducible) up to a cap, sketched beyond it.

While a column has at most ``limit`` finite values in a state, the state keeps the values
themselves and the quantiles are exact (the inverted CDF: the smallest value whose rank is at
least the level), so they are the same bits in every run and across every split. Past the cap
the values go into three DataSketches sketches:

- KLL (k=200) for p01..p99, with its normalized rank error (1.65 % at 99 % confidence);
- two REQ sketches for the extreme levels p001, p01, p99, p999 (0.1 % .. 99.9 %): one in
  low-rank-accuracy mode for the lower tail and one in high-rank-accuracy mode for the upper
  tail, whose rank error is *relative* to the tail mass (min(r, 1 - r)). The binding stores
  REQ items as float32, so sketched tail quantiles carry float32 precision.

The sketches draw unseeded random bits (the binding exposes no seed), so only the exact regime
is reproducible to the bit; ``limit`` (default 1,000,000, lowered for wide files, see
``limit_for``; ``SKETCH_ONLY`` for the shards of a file too big to fit it anyway) decides
where that ends.

Feeding: each run of up to 65,536 values is sorted once (numpy), then KLL takes it
ascending, the low-rank REQ ascending and the high-rank REQ descending. The compactors sort
their buffers, so runs in that order make them 2 to 3 times faster (measured: 237 -> 107 ms
per 2 million values for the three sketches); the sketches' error bounds hold for any input
order.
"""

from __future__ import annotations

import math
from typing import Any

import datasketches as ds
import numpy as np

from synthos.profiling.safe_sketches import load_sketch
from synthos.profiling.sketches import require

KLL_K = 200
REQ_K = 40
EXACT_QUANTILE_LIMIT = 1_000_000
EXACT_QUANTILE_CELLS = 32_000_000  # values kept over all columns of a state (256 MB)
MIN_EXACT_QUANTILE_LIMIT = 65_536
SKETCH_RUN = 65_536  # values sorted together before they feed the sketches
SKETCH_ONLY = 0  # a cap of 0: any value goes into the sketches (planned shards of big files)
QUANTILE_LEVELS = {
    "p01": 0.01, "p05": 0.05, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p95": 0.95, "p99": 0.99,
}  # fmt: skip
TAIL_LEVELS = {"p001": 0.001, "p01": 0.01, "p99": 0.99, "p999": 0.999}
TAIL_STD_DEVS = 3  # REQ rank bounds at 3 standard deviations (99.7 %)


def limit_for(n_columns: int) -> int:
    """The exact-value cap per column for a state with ``n_columns`` quantile columns."""
    share = EXACT_QUANTILE_CELLS // max(1, n_columns)
    return max(MIN_EXACT_QUANTILE_LIMIT, min(EXACT_QUANTILE_LIMIT, share))


def exact_quantile(ordered: np.ndarray, level: float) -> float:
    """The smallest value of ``ordered`` (sorted, non-empty) with rank >= level."""
    index = max(0, math.ceil(level * len(ordered)) - 1)
    return float(ordered[min(index, len(ordered) - 1)])


class Quantiles:
    """Finite values of one column -> p01..p99 and the tail levels, with their errors."""

    def __init__(self, limit: int = EXACT_QUANTILE_LIMIT) -> None:
        self.limit = limit
        self._chunks: list[np.ndarray] | None = []
        self._n = 0
        self._sorted = False  # _chunks is one sorted array
        self.kll: Any = None
        self.req_lo: Any = None
        self.req_hi: Any = None

    @property
    def exact(self) -> bool:
        return self._chunks is not None

    def update(self, x: np.ndarray) -> None:
        if not len(x):
            return
        if self._chunks is not None:
            x = np.array(x, dtype=np.float64)  # a copy: the caller's buffer may be reused
            self._chunks.append(x)
            self._sorted = False
            self._n += len(x)
            if self._n > self.limit:
                self._to_sketches()
        else:
            self._sketch(np.asarray(x, dtype=np.float64))

    def _values(self) -> np.ndarray:
        assert self._chunks is not None
        if self._sorted:
            return self._chunks[0]
        if len(self._chunks) != 1:
            joined = np.concatenate(self._chunks) if self._chunks else np.empty(0)
            joined.sort()  # in place: np.sort would copy the new array once more
            self._chunks = [joined]
        else:
            self._chunks[0].sort()
        self._sorted = True
        return self._chunks[0]

    def _to_sketches(self) -> None:
        assert self._chunks is not None
        values = np.concatenate(self._chunks) if self._chunks else np.empty(0)  # no sort needed
        self._chunks, self._n = None, 0
        self.kll = ds.kll_doubles_sketch(KLL_K)
        self.req_lo, self.req_hi = ds.req_floats_sketch(REQ_K, False), ds.req_floats_sketch(REQ_K)
        self._sketch(values)

    def _sketch(self, x: np.ndarray) -> None:
        big = float(np.finfo(np.float32).max)
        for start in range(0, len(x), SKETCH_RUN):
            ordered = np.sort(x[start : start + SKETCH_RUN])  # one sort serves three sketches
            self.kll.update(ordered)
            low = np.clip(ordered, -big, big).astype(np.float32)  # REQ holds float32; monotone
            self.req_lo.update(low)
            self.req_hi.update(np.ascontiguousarray(low[::-1]))

    def levels(self) -> tuple[dict[str, float] | None, float | None]:
        """(p01..p99, normalized rank error: 0.0 when exact), or (None, None) when empty."""
        if self._chunks is not None:
            if not self._n:
                return None, None
            ordered = self._values()
            return {k: exact_quantile(ordered, q) for k, q in QUANTILE_LEVELS.items()}, 0.0
        values = self.kll.get_quantiles(list(QUANTILE_LEVELS.values()))
        qs = {name: float(v) for name, v in zip(QUANTILE_LEVELS, values, strict=True)}
        return qs, float(self.kll.normalized_rank_error(False))

    def tails(self) -> tuple[dict[str, float] | None, float | None]:
        """(p001, p01, p99, p999; the largest relative rank error |r' - r| / min(r, 1 - r)
        of the four at 3 standard deviations: 0.0 when exact), or (None, None) when empty."""
        if self._chunks is not None:
            if not self._n:
                return None, None
            ordered = self._values()
            return {k: exact_quantile(ordered, q) for k, q in TAIL_LEVELS.items()}, 0.0
        out, worst = {}, 0.0
        for name, level in TAIL_LEVELS.items():
            sketch = self.req_hi if level > 0.5 else self.req_lo
            out[name] = float(sketch.get_quantile(level))
            lo = sketch.get_rank_lower_bound(level, TAIL_STD_DEVS)
            hi = sketch.get_rank_upper_bound(level, TAIL_STD_DEVS)
            worst = max(worst, (hi - lo) / 2 / min(level, 1 - level))
        return out, float(worst)

    def merge(self, other: Quantiles) -> None:
        """The quantiles of the union of both value sets; exact while the union fits the cap
        (the smaller of both caps). Exact exactly when the total count is within the least
        cap of all merged states (a sketched state already holds more than its own cap), so
        the regime does not depend on the order or grouping of merges."""
        self.limit = min(self.limit, other.limit)
        if self._chunks is not None and other._chunks is not None:
            self._chunks.extend(c.copy() for c in other._chunks)
            self._n += other._n
            self._sorted = False
            if self._n > self.limit:
                self._to_sketches()
            return
        if self._chunks is not None:
            self._to_sketches()
        if other._chunks is not None:
            self._sketch(other._values())
        else:
            self.kll.merge(other.kll)
            self.req_lo.merge(other.req_lo)
            self.req_hi.merge(other.req_hi)

    def state(self) -> dict[str, Any]:
        if self._chunks is not None:
            return {"limit": self.limit, "exact": self._values()}
        return {"limit": self.limit, "kll": self.kll.serialize(),
                "req_lo": self.req_lo.serialize(), "req_hi": self.req_hi.serialize()}

    @classmethod
    def load(cls, state: dict[str, Any]) -> Quantiles:
        limit = int(state["limit"])
        if limit < SKETCH_ONLY:
            raise ValueError("quantile cap must not be negative")
        out = cls(limit)
        if "exact" in state:
            values = state["exact"]
            if not isinstance(values, np.ndarray) or values.dtype != np.float64 \
                    or values.ndim != 1 or len(values) > limit:
                raise ValueError("exact quantile values are not a float64 vector within the cap")
            require(bool(np.isfinite(values).all()), "exact quantile values are not finite")
            out._chunks, out._n, out._sorted = [np.sort(values)], len(values), True
            return out
        out._chunks = None
        out.kll = load_sketch("kll", state["kll"])
        out.req_lo, out.req_hi = load_sketch("req", state["req_lo"]), load_sketch("req",
                                                                                 state["req_hi"])
        if out.req_lo.is_hra() or not out.req_hi.is_hra():
            raise ValueError("REQ tail sketches are in the wrong accuracy mode")
        n = out.kll.n  # a state is sketched only past its cap, and every sketch saw each value
        require(n > limit and out.req_lo.n == n and out.req_hi.n == n,
                "quantile sketches disagree on their count or are within the cap")
        return out

    def count(self) -> int:
        """Values fed."""
        return self._n if self._chunks is not None else int(self.kll.n)

    def extremes(self) -> tuple[float, float] | None:
        """(smallest, largest) value while exact and not empty, else None."""
        if self._chunks is None or not self._n:
            return None
        ordered = self._values()
        return float(ordered[0]), float(ordered[-1])
