"""Categorical (text) and boolean columns: distinct count and the most frequent values."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pat

from synthos.columns import ColumnSpec
from synthos.io.hashing import hash_array
from synthos.profiling.base import ColumnAccumulator
from synthos.profiling.sketches import Frequencies

TOP_N = 10


class CategoricalAccumulator(ColumnAccumulator):
    """Text values, compared as strings (dictionary columns are decoded)."""

    def __init__(self, spec: ColumnSpec) -> None:
        super().__init__(spec)
        self.freq = Frequencies()

    def _update(self, arr: pa.Array) -> tuple[pa.Array, np.ndarray]:
        if pat.is_dictionary(arr.type):
            arr = arr.dictionary_decode()
        if not pat.is_string(arr.type):
            arr = arr.cast(pa.string())
        hashes = hash_array(arr)
        counts = pc.value_counts(arr)
        values, freq = counts.field("values"), counts.field("counts")
        if values.null_count:
            keep = values.is_valid()
            values, freq = values.filter(keep), freq.filter(keep)
        self.freq.update(values.to_pylist(), freq.to_pylist())
        self.distinct.update(hash_array(values))
        return arr, hashes

    def sample_type(self, arr_type: pa.DataType) -> pa.DataType:
        return pa.string()

    def _state(self) -> dict[str, Any]:
        return {"freq": self.freq.state()}

    def _load(self, state: dict[str, Any]) -> None:
        self.freq = Frequencies.load(state["freq"])

    def _merge(self, other: CategoricalAccumulator) -> None:
        self.freq.merge(other.freq)

    def _fields(self) -> dict[str, Any]:
        warnings = [] if self.freq.exact else ["top values are estimates (frequent-items sketch)"]
        return {"top_values": self.freq.top(TOP_N), "warnings": warnings}


class BooleanAccumulator(ColumnAccumulator):
    """True/false counts; ``mean`` is the share of true among non-null values."""

    def __init__(self, spec: ColumnSpec) -> None:
        super().__init__(spec)
        self.true = 0
        self.false = 0

    def _update(self, arr: pa.Array) -> tuple[pa.Array, np.ndarray]:
        trues = int(pc.sum(arr).as_py() or 0)
        self.true += trues
        self.false += len(arr) - arr.null_count - trues
        return arr, hash_array(arr)

    def distinct_result(self) -> tuple[int, bool]:
        return (self.true > 0) + (self.false > 0), True

    def _state(self) -> dict[str, Any]:
        return {"true": self.true, "false": self.false}

    def _load(self, state: dict[str, Any]) -> None:
        self.true, self.false = int(state["true"]), int(state["false"])

    def _merge(self, other: BooleanAccumulator) -> None:
        self.true += other.true
        self.false += other.false

    def _fields(self) -> dict[str, Any]:
        top = sorted(
            [(label, n) for label, n in (("true", self.true), ("false", self.false)) if n],
            key=lambda kv: (-kv[1], kv[0]),
        )
        valid = self.true + self.false
        return {"top_values": top, "mean": self.true / valid if valid else None}
