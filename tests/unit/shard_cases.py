"""Shared inputs of the shard property tests: rows with many repeats over four column kinds,
the table they make, and the partial state of a table profiled in small batches."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import strategies as st

from synthos.columns import classify_schema
from synthos.shard import PartialState, SourceInfo, profile_batches

SOURCE = SourceInfo("mem://t", "parquet", 1, "0" * 64, 4)

ROWS = st.tuples(
    st.integers(0, 6),
    st.sampled_from([0.5, 1.5, -2.0, 7.25, float("nan"), None]),
    st.sampled_from(["a", "b", "c", None]),
    st.sampled_from([True, False, None]),
)


def rows_table(rows: list[tuple]) -> pa.Table:
    """The table of ``ROWS`` draws: int ``i``, float ``f``, string ``s``, bool ``b``."""
    return pa.table({
        "i": pa.array([r[0] for r in rows], pa.int64()),
        "f": pa.array([r[1] for r in rows], pa.float64()),
        "s": pa.array([r[2] for r in rows], pa.string()),
        "b": pa.array([r[3] for r in rows], pa.bool_()),
    })


def shard_state(table: pa.Table, k: int, index: int = 0, batch: int = 7) -> PartialState:
    """The partial state of ``table`` as shard ``index``: sample of ``k``, seed 11."""
    return profile_batches(table.to_batches(max_chunksize=batch), SOURCE,
                           classify_schema(table.schema), sample_rows=k, seed=11,
                           shard_index=index)
