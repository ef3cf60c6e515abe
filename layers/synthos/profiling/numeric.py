"""Numeric and datetime columns: counts of nulls, NaN and infinities; exact moments, min and
max of the finite values; quantiles (exact up to a cap, then KLL, and REQ for the tails,
see ``synthos.profiling.quantiles``); distinct count. Datetimes are measured as integer
nanoseconds since the epoch (durations and times of day as nanoseconds), min/max as ISO text."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pat

from synthos.columns import ColumnSpec
from synthos.io.hashing import hash_array, valid_mask
from synthos.io.number_hashes import hash_numbers, hash_temporal
from synthos.profiling.base import ColumnAccumulator
from synthos.profiling.quantiles import Quantiles
from synthos.profiling.sketches import RunningMoments, require

_NS_PER_UNIT = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}


def _valid_values(arr: pa.Array, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(numpy values of the non-null entries, their hashes)."""
    if not arr.null_count:
        return arr.to_numpy(zero_copy_only=False), hashes
    valid = valid_mask(arr)
    return pc.drop_null(arr).to_numpy(zero_copy_only=False), hashes[valid]


class NumericAccumulator(ColumnAccumulator):
    def __init__(self, spec: ColumnSpec) -> None:
        super().__init__(spec)
        self.moments = RunningMoments()
        self.quantiles = Quantiles()
        self.nan_count = 0
        self.inf_count = 0
        # the last batch's numbers (any value at the nulls) and validity (None: no nulls),
        # which the co-moments reuse; None when the column took another path
        self.batch_values: tuple[np.ndarray, np.ndarray | None] | None = None

    def _update(self, arr: pa.Array) -> tuple[pa.Array, np.ndarray]:
        if pat.is_decimal(arr.type):
            arr = arr.cast(pa.float64())
        self.batch_values = None
        if pat.is_integer(arr.type) or pat.is_float64(arr.type):
            hashes, values, valid = hash_numbers(arr)  # the nulls handled once
            self.batch_values = (values, valid)
            value_hashes = hashes
            if valid is not None:
                values, value_hashes = values[valid], hashes[valid]
        else:
            hashes = hash_array(arr)
            values, value_hashes = _valid_values(arr, hashes)
        x = values.astype(np.float64, copy=False)
        is_finite = np.isfinite(x)
        finite = x
        if not is_finite.all():
            nan = np.isnan(x)
            n_nan = int(np.count_nonzero(nan))
            self.nan_count += n_nan
            self.inf_count += len(x) - int(np.count_nonzero(is_finite)) - n_nan
            if n_nan:
                value_hashes = value_hashes[~nan]
            finite = x[is_finite]
        self.moments.update(finite)
        self.quantiles.update(finite)
        self.distinct.update(value_hashes)
        return arr, hashes

    def sample_type(self, arr_type: pa.DataType) -> pa.DataType:
        return pa.float64() if pat.is_decimal(arr_type) else arr_type

    def _state(self) -> dict[str, Any]:
        return {"moments": self.moments.state(), "quantiles": self.quantiles.state(),
                "nan_count": self.nan_count, "inf_count": self.inf_count}

    def _load(self, state: dict[str, Any]) -> None:
        self.moments = RunningMoments.load(state["moments"])
        self.quantiles = Quantiles.load(state["quantiles"])
        self.nan_count, self.inf_count = int(state["nan_count"]), int(state["inf_count"])
        require(self.nan_count >= 0 and self.inf_count >= 0, "negative NaN or infinity count")
        require(self.nan_count + self.inf_count + self.moments.n == self.valid,
                "NaN, infinite and finite values do not add up to the non-null values")
        _check_spread(self.moments, self.quantiles)

    def _merge(self, other: NumericAccumulator) -> None:
        self.moments.merge(other.moments)
        self.quantiles.merge(other.quantiles)
        self.nan_count += other.nan_count
        self.inf_count += other.inf_count

    def _fields(self) -> dict[str, Any]:
        m = self.moments
        warnings = [] if m.n else ["column has no finite values"]
        return {
            "nan_count": self.nan_count,
            "inf_count": self.inf_count,
            "min": m.min if m.n else None,
            "max": m.max if m.n else None,
            **_spread_fields(m, self.quantiles),
            "warnings": warnings,
        }


class DatetimeAccumulator(ColumnAccumulator):
    """Timestamps, dates, times and durations, measured in integer nanoseconds."""

    def __init__(self, spec: ColumnSpec) -> None:
        super().__init__(spec)
        self.moments = RunningMoments()
        self.quantiles = Quantiles()
        self.raw_min: int | None = None
        self.raw_max: int | None = None
        self.type: pa.DataType | None = None

    def _update(self, arr: pa.Array) -> tuple[pa.Array, np.ndarray]:
        self.type = arr.type
        hashes, values, valid = hash_temporal(arr)  # the nulls handled once
        value_hashes = hashes
        if valid is not None:
            values, value_hashes = values[valid], hashes[valid]
        if len(values):
            lo, hi = int(values.min()), int(values.max())
            self.raw_min = lo if self.raw_min is None else min(self.raw_min, lo)
            self.raw_max = hi if self.raw_max is None else max(self.raw_max, hi)
            ns = values.astype(np.float64) * _ns_factor(arr.type)
            self.moments.update(ns)
            self.quantiles.update(ns)
        self.distinct.update(value_hashes)
        return arr, hashes

    def _state(self) -> dict[str, Any]:
        typ = None if self.type is None else pa.schema([pa.field("t", self.type)]).serialize()
        return {"moments": self.moments.state(), "quantiles": self.quantiles.state(),
                "raw_min": self.raw_min, "raw_max": self.raw_max,
                "type": None if typ is None else typ.to_pybytes()}

    def _load(self, state: dict[str, Any]) -> None:
        self.moments = RunningMoments.load(state["moments"])
        self.quantiles = Quantiles.load(state["quantiles"])
        lo, hi = state["raw_min"], state["raw_max"]
        self.raw_min = None if lo is None else int(lo)
        self.raw_max = None if hi is None else int(hi)
        if state["type"] is not None:
            self.type = pa.ipc.read_schema(pa.py_buffer(state["type"])).field(0).type
        require(self.moments.n == self.valid, "moments do not count the non-null values")
        _check_spread(self.moments, self.quantiles)
        require((self.raw_min is None) == (self.raw_max is None) == (self.moments.n == 0),
                "raw min/max do not match the values seen")
        if self.type is None:
            require(self.count == 0, "temporal column of unknown type")
        else:
            require(pat.is_temporal(self.type), f"type {self.type} is not temporal")
            if self.raw_min is not None and self.raw_max is not None:
                lo, hi = _raw_range(self.type)
                require(lo <= self.raw_min <= self.raw_max <= hi,
                        f"raw min/max out of the range of {self.type}")

    def _merge(self, other: DatetimeAccumulator) -> None:
        self.moments.merge(other.moments)
        self.quantiles.merge(other.quantiles)
        self.type = self.type or other.type
        lows = [v for v in (self.raw_min, other.raw_min) if v is not None]
        highs = [v for v in (self.raw_max, other.raw_max) if v is not None]
        self.raw_min = min(lows) if lows else None
        self.raw_max = max(highs) if highs else None

    def _fields(self) -> dict[str, Any]:
        assert self.type is not None
        return {
            "min": format_temporal(self.raw_min, self.type) if self.raw_min is not None else None,
            "max": format_temporal(self.raw_max, self.type) if self.raw_max is not None else None,
            **_spread_fields(self.moments, self.quantiles),
        }


def _check_spread(m: RunningMoments, quantiles: Quantiles) -> None:
    """ValueError unless the quantiles hold the values the moments count (same extremes)."""
    require(quantiles.count() == m.n, "quantiles and moments count different values")
    ends = quantiles.extremes()
    require(ends is None or ends == (m.min, m.max), "quantile values and min/max disagree")


def _raw_range(t: pa.DataType) -> tuple[int, int]:
    """The stored integers a value of temporal type ``t`` may hold (times: within a day)."""
    if pat.is_time(t):
        return 0, 86_400 * 10**9 // _NS_PER_UNIT[t.unit] - 1
    bits = t.bit_width
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


def _spread_fields(m: RunningMoments, quantiles: Quantiles) -> dict[str, Any]:
    """The profile fields both numeric and temporal columns read off moments and quantiles."""
    qs, err = quantiles.levels()
    tails, tail_err = quantiles.tails()
    return {"mean": m.mean if m.n else None, "std": m.std(), "quantiles": qs,
            "quantile_rank_error": err, "tail_quantiles": tails,
            "tail_quantile_rank_error": tail_err}


def _ns_factor(t: pa.DataType) -> int:
    if pat.is_date32(t):
        return 86_400 * 10**9
    if pat.is_date64(t):
        return 10**6
    return _NS_PER_UNIT[t.unit]


def format_temporal(raw: int, t: pa.DataType) -> str:
    """ISO 8601 text of one raw stored value of temporal type ``t``."""
    if pat.is_date32(t):
        return str(np.int64(raw).astype("datetime64[D]"))
    if pat.is_date64(t):
        return str(np.int64(raw).astype("datetime64[ms]").astype("datetime64[D]"))
    if pat.is_timestamp(t):
        text = _iso_timestamp(raw, t.unit)
        return text + "+00:00" if t.tz else text
    ns = raw * _NS_PER_UNIT[t.unit]
    if pat.is_duration(t):
        return _iso_duration(ns)
    seconds, frac = divmod(ns, 10**9)
    clock = dt.time(seconds // 3600, seconds // 60 % 60, seconds % 60, frac // 1000)
    return clock.isoformat()


def _iso_timestamp(raw: int, unit: str) -> str:
    """Seconds precision, or the finest unit needed, whatever the stored unit."""
    for coarse in ("s", "ms", "us", "ns"):
        ratio = _NS_PER_UNIT[coarse] // _NS_PER_UNIT[unit]
        if ratio >= 1 and raw % ratio == 0:
            return str(np.int64(raw // ratio).astype(f"datetime64[{coarse}]"))
    return str(np.int64(raw).astype(f"datetime64[{unit}]"))


def _iso_duration(ns: int) -> str:
    sign = "-" if ns < 0 else ""
    seconds, frac = divmod(abs(ns), 10**9)
    days, rem = divmod(seconds, 86_400)
    text = f"{sign}P{days}DT{rem}"
    return text + (f".{frac:09d}".rstrip("0") if frac else "") + "S"
