"""Categorical (text) and boolean columns: distinct count and the most frequent values."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pat

from synthos.columns import ColumnSpec
from synthos.io.hashing import NULL_HASH, hash_array, valid_mask
from synthos.profiling.base import ColumnAccumulator
from synthos.profiling.sketches import Frequencies, require

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
        # one hash-table pass: the distinct values in order of first appearance (as
        # pc.value_counts lists them) and each row's index among them
        encoded = pc.dictionary_encode(arr)
        values = encoded.dictionary
        value_hashes = hash_array(values)
        idx = pc.fill_null(encoded.indices, 0).to_numpy(zero_copy_only=False)
        hashes = value_hashes[idx] if len(values) else np.full(len(arr), NULL_HASH)
        if arr.null_count:
            valid = valid_mask(arr)
            hashes[~valid] = NULL_HASH
            idx = idx[valid]
        counts = np.bincount(idx, minlength=len(values))
        self.freq.update(values.to_pylist(), counts.tolist())
        self.distinct.update(value_hashes)
        return arr, hashes

    def sample_type(self, arr_type: pa.DataType) -> pa.DataType:
        return pa.string()

    def _state(self) -> dict[str, Any]:
        return {"freq": self.freq.state()}

    def _load(self, state: dict[str, Any]) -> None:
        self.freq = Frequencies.load(state["freq"])
        require(self.freq.total() == self.valid,
                "value counts do not add up to the non-null values")

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
        require(self.true >= 0 and self.false >= 0 and self.true + self.false == self.valid,
                "true and false counts do not add up to the non-null values")

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
