"""A seeded row sample that depends only on the multiset of rows and the seed.

Bottom-k priority sampling: every row gets the priority ``mix(row_hash, ordinal, seed)``, where
``ordinal`` counts the equal rows (same row hash) that came before it in the stream; the sample
is the k rows of smallest priority. Equal rows are interchangeable, so which copy got which
ordinal does not change the content of the sample: it is invariant to row order and to how the
rows are batched (shards merge the same way). The hash -> count map that yields the ordinals also
yields the exact number of duplicate rows (rows equal to an earlier row).

``canonical_order`` then sorts the sample by value, so that its order too is independent of row
order, column order and positive affine rescaling of numeric columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pat

from synthos.errors import InvalidOption
from synthos.io.hashing import hash_rows, mix64

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_SEED_TAG = np.uint64(0x510E527FADE682D1)
_EMBEDDING_SORT_DIMS = 3


@dataclass(frozen=True)
class SampleOutcome:
    """The sample (canonical order), rows streamed, exact duplicate rows, and whether the
    sample is the whole dataset (``complete``)."""

    sample: pa.Table
    rows_seen: int
    exact_duplicate_rows: int
    complete: bool


class RowSampler:
    """Streaming bottom-k sampler of at most ``k`` rows; feed batches with ``update``."""

    def __init__(self, k: int, seed: int = 0) -> None:
        if k < 1:
            raise InvalidOption(f"sample size must be at least 1, got {k}")
        self.k = k
        self._seed_key = mix64(np.asarray(seed & 0xFFFFFFFFFFFFFFFF, dtype=np.uint64) ^ _SEED_TAG)
        self._keys = np.empty(0, dtype=np.uint64)  # sorted row hashes seen so far
        self._counts = np.empty(0, dtype=np.int64)  # how often each was seen
        self._tables: list[pa.Table] = []
        self._prios: list[np.ndarray] = []
        self._n_candidates = 0
        self._threshold: np.uint64 | None = None
        self._schema: pa.Schema | None = None
        self.rows_seen = 0
        self.exact_duplicate_rows = 0

    def update(
        self, batch: pa.RecordBatch | pa.Table, row_hashes: np.ndarray | None = None
    ) -> None:
        """Add a batch; ``row_hashes`` (uint64[n]) may be given when already computed,
        e.g. over more columns than the batch keeps."""
        if self._schema is None:
            self._schema = batch.schema
        n = batch.num_rows
        if n == 0:
            return
        h = hash_rows(batch, batch.schema.names) if row_hashes is None else row_hashes
        ordinals = self._ordinals(h)
        self.rows_seen += n
        self.exact_duplicate_rows += int(np.count_nonzero(ordinals))
        prio = self._priority(h, ordinals)
        keep = np.flatnonzero(prio < self._threshold) if self._threshold is not None else None
        if keep is None:
            keep = np.arange(n)
        if len(keep) > self.k:
            keep = keep[np.argpartition(prio[keep], self.k - 1)[: self.k]]
        if len(keep):
            table = batch if isinstance(batch, pa.Table) else pa.Table.from_batches([batch])
            self._tables.append(table.take(pa.array(keep)))
            self._prios.append(prio[keep])
            self._n_candidates += len(keep)
        if self._n_candidates > 2 * self.k:
            self._prune()

    def result(self, columns: Sequence[str] | None = None) -> SampleOutcome:
        """The sample so far (optionally only ``columns``), in canonical order."""
        if self._n_candidates > self.k:
            self._prune()
        if self._tables:
            table = pa.concat_tables(self._tables)
        else:
            table = (self._schema or pa.schema([])).empty_table()
        if columns is not None:
            table = table.select(list(columns))
        return SampleOutcome(
            sample=canonical_order(table),
            rows_seen=self.rows_seen,
            exact_duplicate_rows=self.exact_duplicate_rows,
            complete=self.rows_seen <= self.k,
        )

    def _priority(self, h: np.ndarray, ordinals: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return mix64(mix64(h ^ self._seed_key) + ordinals.astype(np.uint64) * _GOLDEN)

    def _ordinals(self, h: np.ndarray) -> np.ndarray:
        """How many equal rows precede each row in the stream; updates the count map."""
        n = len(h)
        order = np.argsort(h, kind="stable")
        hs = h[order]
        starts_mask = np.empty(n, dtype=bool)
        starts_mask[0] = True
        np.not_equal(hs[1:], hs[:-1], out=starts_mask[1:])
        starts = np.flatnonzero(starts_mask)
        group = np.cumsum(starts_mask) - 1
        uniq, batch_counts = hs[starts], np.diff(np.append(starts, n))
        pos = np.searchsorted(self._keys, uniq)
        found = pos < len(self._keys)
        found[found] = self._keys[pos[found]] == uniq[found]
        before = np.zeros(len(uniq), dtype=np.int64)
        before[found] = self._counts[pos[found]]
        ordinals = np.empty(n, dtype=np.int64)
        ordinals[order] = before[group] + (np.arange(n) - starts[group])
        self._counts[pos[found]] += batch_counts[found]
        new = ~found
        self._keys = np.insert(self._keys, pos[new], uniq[new])
        self._counts = np.insert(self._counts, pos[new], batch_counts[new])
        return ordinals

    def _prune(self) -> None:
        table = pa.concat_tables(self._tables)
        prio = np.concatenate(self._prios)
        if len(prio) > self.k:
            idx = np.argpartition(prio, self.k - 1)[: self.k]
            table, prio = table.take(pa.array(idx)), prio[idx]
            self._threshold = prio.max()
        self._tables, self._prios = [table], [prio]
        self._n_candidates = len(prio)


def canonical_order(table: pa.Table) -> pa.Table:
    """Rows sorted by value, columns taken in sorted-name order; identical rows tie.

    Numbers by value (NaN, then null, last), strings, booleans, temporal values by value;
    fixed-size list columns (embeddings) by their first 3 components; a hash of the whole row
    breaks the remaining ties. The result does not depend on the input's row order or column
    order, nor on a positive affine rescaling of any numeric column.
    """
    if table.num_rows < 2:
        return table
    names = sorted(table.column_names)
    keys: dict[str, pa.ChunkedArray | pa.Array] = {}
    for name in names:
        for j, key in enumerate(_sort_keys(table.column(name))):
            keys[f"{name}\x00{j}"] = key
    keys["\x00row"] = pa.array(hash_rows(table, names))
    key_table = pa.table(keys)
    sort_keys = [(k, "ascending", "at_end") for k in key_table.column_names]
    order = pc.sort_indices(key_table, options=pc.SortOptions(sort_keys))
    return table.take(order)


def _sort_keys(col: pa.ChunkedArray) -> list[pa.ChunkedArray]:
    t = col.type
    if pat.is_dictionary(t):
        return [col.cast(t.value_type)]
    if pat.is_fixed_size_list(t):
        dims = min(_EMBEDDING_SORT_DIMS, t.list_size)
        return [pc.list_element(col, j) for j in range(dims)]
    if pat.is_nested(t) or pat.is_null(t):
        return []
    if pat.is_decimal(t):
        return [col.cast(pa.float64())]
    return [col]
