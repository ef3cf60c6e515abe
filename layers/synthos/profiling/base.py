"""The shape every per-column accumulator has: fed batch by batch, finished once."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from synthos.columns import ColumnSpec
from synthos.profiling.sketches import DistinctCounter, require
from synthos.result import ColumnProfile, UnsupportedColumn

ALL_NULL_REASON = "column holds only nulls"


class ColumnAccumulator:
    """Streams one column. ``update`` returns (the column as the sample keeps it, uint64 hash
    per row); ``finish`` returns the ColumnProfile, or an UnsupportedColumn with a reason.

    Subclasses implement ``_update`` and ``_fields`` (the kind-specific profile fields), and
    for partial states ``_state``/``_load``/``_merge`` of their own fields: ``state()`` is a
    tree for ``synthos.shard.codec``, ``load(spec, state)`` rebuilds the accumulator and
    ``merge(other)`` folds in the accumulator of other rows of the same column.
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
        fields["warnings"] = sorted({*self.warnings, *fields.get("warnings", [])})
        return ColumnProfile(**fields)

    def state(self) -> dict[str, Any]:
        return {
            "count": self.count, "null_count": self.null_count,
            "distinct": self.distinct.state(), "warnings": list(self.warnings),
            "unsupported_reason": self.unsupported_reason, **self._state(),
        }

    @classmethod
    def load(cls, spec: ColumnSpec, state: dict[str, Any]) -> ColumnAccumulator:
        acc = cls(spec)
        acc.count, acc.null_count = int(state["count"]), int(state["null_count"])
        require(0 <= acc.null_count <= acc.count, "null count not within 0..count")
        acc.distinct = DistinctCounter.load(state["distinct"])
        exact = acc.distinct.exact_count()
        require(exact is None or exact <= acc.valid, "more distinct values than non-null ones")
        acc.warnings = [str(w) for w in state["warnings"]]
        reason = state["unsupported_reason"]
        acc.unsupported_reason = None if reason is None else str(reason)
        acc._load(state)
        return acc

    @property
    def valid(self) -> int:
        """Non-null values seen."""
        return self.count - self.null_count

    def merge(self, other: ColumnAccumulator) -> None:
        """Fold in ``other`` (the same column over other rows)."""
        self.count += other.count
        self.null_count += other.null_count
        self.distinct.merge(other.distinct)
        self.warnings = sorted(set(self.warnings) | set(other.warnings))
        reasons = [r for r in (self.unsupported_reason, other.unsupported_reason) if r]
        self.unsupported_reason = min(reasons) if reasons else None
        self._merge(other)

    def _state(self) -> dict[str, Any]:
        return {}

    def _load(self, state: dict[str, Any]) -> None:
        return None

    def _merge(self, other: Any) -> None:
        return None

    def distinct_result(self) -> tuple[int, bool]:
        """(distinct non-null values, exact?)."""
        return self.distinct.result()

    def sample_type(self, arr_type: pa.DataType) -> pa.DataType:
        """The Arrow type the sample keeps for this column (identity unless overridden)."""
        return arr_type
