"""The shape every per-column accumulator has: fed batch by batch, finished once."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from synthos.columns import ColumnSpec
from synthos.profiling.sketches import DistinctCounter
from synthos.result import ColumnProfile, UnsupportedColumn

ALL_NULL_REASON = "column holds only nulls"


class ColumnAccumulator:
    """Streams one column. ``update`` returns (the column as the sample keeps it, uint64 hash
    per row); ``finish`` returns the ColumnProfile, or an UnsupportedColumn with a reason.

    Subclasses implement ``_update`` and ``_fields`` (the kind-specific profile fields).
    """

    def __init__(self, spec: ColumnSpec) -> None:
        self.spec = spec
        self.count = 0
        self.null_count = 0
        self.distinct = DistinctCounter()
        self.warnings: list[str] = []
        self.unsupported_reason: str | None = None

    def update(self, arr: pa.Array) -> tuple[pa.Array, np.ndarray]:
        self.count += len(arr)
        self.null_count += arr.null_count
        return self._update(arr)

    def _update(self, arr: pa.Array) -> tuple[pa.Array, np.ndarray]:
        raise NotImplementedError

    def _fields(self) -> dict[str, Any]:
        raise NotImplementedError

    def finish(self) -> ColumnProfile | UnsupportedColumn:
        reason = self.unsupported_reason
        if reason is None and self.null_count == self.count:
            reason = ALL_NULL_REASON
        if reason is not None:
            return UnsupportedColumn(
                name=self.spec.name, arrow_type=self.spec.arrow_type, reason=reason
            )
        distinct, exact = self.distinct_result()
        fields: dict[str, Any] = {
            "name": self.spec.name,
            "kind": str(self.spec.kind),
            "arrow_type": self.spec.arrow_type,
            "count": self.count,
            "null_count": self.null_count,
            "null_rate": self.null_count / self.count if self.count else 0.0,
            "distinct_count": distinct,
            "distinct_exact": exact,
            "constant": distinct <= 1,
        }
        fields.update(self._fields())
        fields["warnings"] = [*self.warnings, *fields.get("warnings", [])]
        return ColumnProfile(**fields)

    def distinct_result(self) -> tuple[int, bool]:
        """(distinct non-null values, exact?)."""
        return self.distinct.result()

    def sample_type(self, arr_type: pa.DataType) -> pa.DataType:
        """The Arrow type the sample keeps for this column (identity unless overridden)."""
        return arr_type
