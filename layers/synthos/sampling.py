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

from synthos.errors import EngineError, InvalidOption
from synthos.io.hashing import hash_rows, mix64, mix64_inplace

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
    """Streaming, mergeable bottom-k sampler of at most ``k`` rows.

    State: the sorted map row hash -> count over every row seen (exact duplicates, ordinals),
    the candidate (hash, ordinal) pairs of smallest priority, and the content of one row per
    candidate hash. ``merge`` joins two samplers of disjoint row sets into the sampler of their
    union: the count maps add; a pair whose hash only one side has keeps its ordinal, and the
    pairs of a hash both sides have are recomputed for ordinals ``0..ca+cb-1`` (the copies are
    interchangeable). When such a recomputed pair wins a place but neither side kept that row's
    content, its hash is listed in ``missing_hashes``; ``fill`` supplies it from the data.
    """

    def __init__(self, k: int, seed: int = 0) -> None:
        if k < 1:
            raise InvalidOption(f"sample size must be at least 1, got {k}")
        self.k, self.seed = k, seed
        self._seed_key = mix64(np.asarray(seed & 0xFFFFFFFFFFFFFFFF, dtype=np.uint64) ^ _SEED_TAG)
        self.keys = np.empty(0, dtype=np.uint64)  # sorted row hashes seen so far
        self.counts = np.empty(0, dtype=np.int64)  # how often each was seen
        self.cand_hash = np.empty(0, dtype=np.uint64)
        self.cand_ord = np.empty(0, dtype=np.int64)
        self.content: pa.Table | None = None  # one row per hash in content_hash, same order
        self.content_hash = np.empty(0, dtype=np.uint64)
        self._pending: list[tuple[np.ndarray, np.ndarray, pa.Table]] = []
        self._n_pending = 0
        self.threshold: np.uint64 | None = None

    @property
    def rows_seen(self) -> int:
        return int(self.counts.sum())

    @property
    def exact_duplicate_rows(self) -> int:
        return self.rows_seen - len(self.keys)

    def update(
        self, batch: pa.RecordBatch | pa.Table, row_hashes: np.ndarray | None = None
    ) -> None:
        """Add a batch; ``row_hashes`` (uint64[n]) may be given when already computed,
        e.g. over more columns than the batch keeps."""
        n = batch.num_rows
        table = batch if isinstance(batch, pa.Table) else pa.Table.from_batches([batch])
        if self.content is None:
            self.content = table.schema.empty_table()
        if n == 0:
            return
        h = hash_rows(batch, batch.schema.names) if row_hashes is None else row_hashes
        ordinals = self._ordinals(h)
        prio = self.priority(h, ordinals)
        keep = np.flatnonzero(prio < self.threshold) if self.threshold is not None else None
        if keep is None:
            keep = np.arange(n)
        if len(keep) > self.k:
            keep = keep[np.argpartition(prio[keep], self.k - 1)[: self.k]]
        if len(keep):
            self._pending.append((h[keep], ordinals[keep], table.take(pa.array(keep))))
            self._n_pending += len(keep)
        if self._n_pending > 2 * self.k:
            self._compact()

    def result(self, columns: Sequence[str] | None = None) -> SampleOutcome:
        """The sample so far (optionally only ``columns``), in canonical order.

        Raises EngineError when merged content is missing (see ``missing_hashes``)."""
        self._compact()
        if len(self.missing_hashes()):
            raise EngineError(f"{len(self.missing_hashes())} sampled rows lack their content; "
                              "fill them from the data first")
        table = self.content if self.content is not None else pa.table({})
        uniq, reps = np.unique(self.cand_hash, return_counts=True)
        rows = np.repeat(np.searchsorted(self.content_hash, uniq), reps)
        table = table.take(pa.array(rows, type=pa.int64()))
        if columns is not None:
            table = table.select(list(columns))
        return SampleOutcome(
            sample=canonical_order(table),
            rows_seen=self.rows_seen,
            exact_duplicate_rows=self.exact_duplicate_rows,
            complete=self.rows_seen <= self.k,
        )

    def priority(self, h: np.ndarray, ordinals: np.ndarray) -> np.ndarray:
        """uint64 priority of the ``ordinals``-th copy of the rows of hash ``h``."""
        with np.errstate(over="ignore"):
            out = mix64_inplace(np.asarray(h, dtype=np.uint64) ^ self._seed_key)
            steps = ordinals.astype(np.uint64)
            steps *= _GOLDEN
            out += steps
            return mix64_inplace(out, steps)

    def missing_hashes(self) -> np.ndarray:
        """Sorted row hashes that hold a place in the sample but whose content is missing."""
        self._compact()
        need = np.unique(self.cand_hash)
        return need[~isin_sorted(need, self.content_hash)]

    def _ordinals(self, h: np.ndarray) -> np.ndarray:
        """How many equal rows precede each row in the stream; updates the count map."""
        n = len(h)
        order = np.argsort(h)  # unstable (several times faster), made stable below
        hs = h[order]
        starts_mask = np.empty(n, dtype=bool)
        starts_mask[0] = True
        np.not_equal(hs[1:], hs[:-1], out=starts_mask[1:])
        starts = np.flatnonzero(starts_mask)
        group = np.cumsum(starts_mask) - 1
        uniq, batch_counts = hs[starts], np.diff(np.append(starts, n))
        _stabilise(order, group, batch_counts)
        pos = np.searchsorted(self.keys, uniq)
        found = pos < len(self.keys)
        found[found] = self.keys[pos[found]] == uniq[found]
        before = np.zeros(len(uniq), dtype=np.int64)
        before[found] = self.counts[pos[found]]
        ordinals = np.empty(n, dtype=np.int64)
        ordinals[order] = before[group] + (np.arange(n) - starts[group])
        self.counts[pos[found]] += batch_counts[found]
        new = ~found
        self.keys, self.counts = _insert_sorted(self.keys, self.counts, pos[new], uniq[new],
                                                batch_counts[new])
        return ordinals

    def _compact(self) -> None:
        """Keep the k pairs of smallest priority and one content row per kept hash."""
        if not self._pending and len(self.cand_hash) <= self.k:
            return
        hashes = [self.cand_hash, *(p[0] for p in self._pending)]
        ords = [self.cand_ord, *(p[1] for p in self._pending)]
        tables = [p[2] for p in self._pending]
        rows_hash = np.concatenate([p[0] for p in self._pending]) if tables else None
        self._pending, self._n_pending = [], 0
        self.select(np.concatenate(hashes), np.concatenate(ords))
        if rows_hash is not None:
            self.add_content(pa.concat_tables(tables), rows_hash)
        self.prune_content()

    def select(self, hashes: np.ndarray, ords: np.ndarray) -> None:
        """Candidates := the k pairs of smallest (priority, hash, ordinal) among those given."""
        prio = self.priority(hashes, ords)
        order = np.lexsort((ords, hashes, prio))[: self.k]
        self.cand_hash, self.cand_ord = hashes[order], ords[order]
        if len(order) == self.k:
            self.threshold = prio[order[-1]]

    def add_content(self, rows: pa.Table, rows_hash: np.ndarray) -> None:
        """Remember the content of rows whose hash is a candidate and not yet held."""
        want = isin_sorted(rows_hash, np.unique(self.cand_hash)) & ~isin_sorted(
            rows_hash, self.content_hash)
        idx = np.flatnonzero(want)
        if not len(idx):
            return
        first = idx[np.unique(rows_hash[idx], return_index=True)[1]]
        held = self.content if self.content is not None and self.content.num_rows else None
        tables = [t for t in (held, rows.take(pa.array(first))) if t is not None]
        hashes = np.concatenate([self.content_hash, rows_hash[first]])
        order = np.argsort(hashes, kind="stable")
        self.content = pa.concat_tables(tables).take(pa.array(order))
        self.content_hash = hashes[order]

    def prune_content(self) -> None:
        keep = isin_sorted(self.content_hash, np.unique(self.cand_hash))
        if self.content is not None and not keep.all():
            self.content = self.content.filter(pa.array(keep))
            self.content_hash = self.content_hash[keep]


def _insert_sorted(keys: np.ndarray, counts: np.ndarray, pos: np.ndarray,
                   new_keys: np.ndarray, new_counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.insert`` of ``new_keys``/``new_counts`` at the ascending positions ``pos`` into
    both arrays, sharing one placement (instead of two np.insert calls)."""
    total = len(keys) + len(new_keys)
    dest = pos + np.arange(len(new_keys))
    old = np.ones(total, dtype=bool)
    old[dest] = False
    out_keys, out_counts = np.empty(total, keys.dtype), np.empty(total, counts.dtype)
    out_keys[dest], out_keys[old] = new_keys, keys
    out_counts[dest], out_counts[old] = new_counts, counts
    return out_keys, out_counts


def _stabilise(order: np.ndarray, group: np.ndarray, group_sizes: np.ndarray) -> None:
    """Make an argsort ``order`` stable in place: within each run of equal keys (``group``:
    the run of each sorted position, ``group_sizes``: each run's length) put the original
    positions in ascending order, as a stable sort leaves them."""
    if len(group_sizes) == len(order):
        return  # all keys distinct: nothing to reorder
    tied = np.repeat(group_sizes > 1, group_sizes)
    sub = order[tied]
    order[tied] = sub[np.lexsort((sub, group[tied]))]


def isin_sorted(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """Boolean mask: which of ``values`` are in the sorted array ``sorted_set``."""
    if not len(sorted_set):
        return np.zeros(len(values), dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_set, values), len(sorted_set) - 1)
    return sorted_set[pos] == values


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
