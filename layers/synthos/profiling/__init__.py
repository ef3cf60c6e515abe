"""Per-column streaming accumulators behind ``synthos.profile.profile_source``."""

from __future__ import annotations

from synthos.columns import ColumnKind, ColumnSpec
from synthos.profiling.base import ALL_NULL_REASON, ColumnAccumulator
from synthos.profiling.categorical import BooleanAccumulator, CategoricalAccumulator
from synthos.profiling.embedding import EmbeddingAccumulator
from synthos.profiling.numeric import DatetimeAccumulator, NumericAccumulator

_BY_KIND: dict[ColumnKind, type[ColumnAccumulator]] = {
    ColumnKind.NUMERIC: NumericAccumulator,
    ColumnKind.CATEGORICAL: CategoricalAccumulator,
    ColumnKind.BOOLEAN: BooleanAccumulator,
    ColumnKind.DATETIME: DatetimeAccumulator,
    ColumnKind.EMBEDDING: EmbeddingAccumulator,
}


def make_accumulator(spec: ColumnSpec) -> ColumnAccumulator:
    """The accumulator for a supported column spec (KeyError for UNSUPPORTED)."""
    return _BY_KIND[spec.kind](spec)


__all__ = ["ALL_NULL_REASON", "ColumnAccumulator", "make_accumulator"]
