"""Merging, saving and loading the row sampler (``synthos.sampling.RowSampler``) of a shard.

Why the merge is exact: the sample is the k pairs (row hash h, ordinal j < count(h)) of
smallest priority ``mix(h, j, seed)``. A pair of a hash that only one side saw has the same
ordinal in the union, and the side's set of pairs is a subset of the union's, so a pair in the
union's bottom-k is in that side's bottom-k, which the side kept. For a hash both sides saw, the
union's pairs are recomputed from the exact counts (``ca + cb`` ordinals). Only their *content*
may be missing (neither side sampled that row); ``RowSampler.missing_hashes`` lists it, and a
pass over the data (``synthos.shard.state.fill_missing``) brings it back.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from synthos.errors import IncompatibleShardStates
from synthos.sampling import RowSampler, isin_sorted
from synthos.shard.codec import CountMap

PAIR_CHUNK = 1 << 22  # recomputed (hash, ordinal) pairs per step, bounds merge memory


class SummarySampler(RowSampler):
    """A merged sampler that knows its rows and distinct rows as totals, without the count map
    (the result of a partitioned reduce, ``synthos.shard.partition``). It finalizes and takes
    the fill pass like any sampler; it cannot be merged again, fed or saved."""

    def __init__(self, k: int, seed: int, rows_seen: int, distinct: int) -> None:
        super().__init__(k, seed)
        self._rows_seen, self._distinct = rows_seen, distinct

    @property
    def rows_seen(self) -> int:
        return self._rows_seen

    @property
    def exact_duplicate_rows(self) -> int:
        return self._rows_seen - self._distinct

    def update(self, batch: pa.RecordBatch | pa.Table,
               row_hashes: np.ndarray | None = None) -> None:
        raise IncompatibleShardStates("a combined sample holds no count map: it takes no rows")


def merge_many(*parts: RowSampler) -> RowSampler:
    """The sampler of the union of the (disjoint) row sets of ``parts``, in one multi-way pass:
    the argument above holds for any number of sides (a hash seen by one side only keeps its
    pairs; the pairs of a hash seen by several are recomputed from the summed counts)."""
    if any(isinstance(p, SummarySampler) for p in parts):
        raise IncompatibleShardStates("a combined sample holds no count map: it cannot merge")
    if len({(p.k, p.seed) for p in parts}) != 1:
        raise IncompatibleShardStates("samples differ in size or seed: "
                                      f"{sorted({(p.k, p.seed) for p in parts})}")
    for p in parts:
        p.missing_hashes()  # flush pending candidates
    out = RowSampler(parts[0].k, parts[0].seed)
    out.keys, out.counts, common = _add_counts(parts)
    own = [~isin_sorted(p.cand_hash, common) for p in parts]
    out.select(np.concatenate([p.cand_hash[m] for p, m in zip(parts, own, strict=True)]),
               np.concatenate([p.cand_ord[m] for p, m in zip(parts, own, strict=True)]))
    totals = out.counts[np.searchsorted(out.keys, common)]
    for h, j in _pairs(common, totals):
        if out.threshold is not None:  # only pairs that can still enter the bottom-k
            keep = out.priority(h, j) < out.threshold
            h, j = h[keep], j[keep]
        out.select(np.concatenate([out.cand_hash, h]), np.concatenate([out.cand_ord, j]))
    for p in parts:
        if p.content is not None:
            out.add_content(p.content, p.content_hash)
    out.prune_content()
    return out


def _add_counts(parts: Sequence[RowSampler]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sorted keys, summed counts, sorted keys more than one part holds).

    One sort of the concatenated keys (each part's keys are unique): a key's run length is the
    number of parts holding it; most counts are 1, so only the counts above 1 are added in
    by position, and the big arrays are never gathered through a permutation."""
    joined = np.sort(np.concatenate([p.keys for p in parts]))
    if not len(joined):
        return joined, np.empty(0, dtype=np.int64), joined
    start = np.empty(len(joined), dtype=bool)
    start[0] = True
    np.not_equal(joined[1:], joined[:-1], out=start[1:])
    first = np.flatnonzero(start)
    keys = joined[first]
    runs = np.diff(np.append(first, len(joined)))
    counts = runs.astype(np.int64)
    for p in parts:
        heavy = p.counts > 1
        if heavy.any():
            np.add.at(counts, np.searchsorted(keys, p.keys[heavy]), p.counts[heavy] - 1)
    return keys, counts, keys[runs > 1]


def _pairs(hashes: np.ndarray, totals: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Every (hash, ordinal) with ordinal < total, in chunks of about PAIR_CHUNK pairs."""
    ends = np.cumsum(totals)
    lo = 0
    while lo < len(hashes):
        base = ends[lo - 1] if lo else 0
        hi = max(lo + 1, int(np.searchsorted(ends, base + PAIR_CHUNK, side="right")))
        reps = totals[lo:hi]
        h = np.repeat(hashes[lo:hi], reps)
        firsts = np.repeat(np.cumsum(reps) - reps, reps)
        yield h, np.arange(len(h), dtype=np.int64) - firsts
        lo = hi


def sampler_state(s: RowSampler) -> dict[str, Any]:
    if isinstance(s, SummarySampler):
        raise IncompatibleShardStates("a combined sample holds no count map: it cannot be saved")
    s.missing_hashes()
    content = s.content if s.content is not None else pa.table({})
    return {"k": s.k, "seed": s.seed, "count_map": CountMap(s.keys, s.counts),
            "cand_hash": s.cand_hash, "cand_ord": s.cand_ord,
            "content": content, "content_hash": s.content_hash}


def load_sampler(state: dict[str, Any]) -> RowSampler:
    """Rebuild a sampler; ValueError when the arrays do not fit together."""
    s = load_content(state)
    count_map = state["count_map"]
    if not isinstance(count_map, CountMap):
        raise ValueError("sample has no count map")
    s.keys, s.counts = vector(count_map.keys, np.uint64), vector(count_map.counts, np.int64)
    s.cand_hash = vector(state["cand_hash"], np.uint64)
    s.cand_ord = vector(state["cand_ord"], np.int64)
    check_sample(s.keys, s.counts, s.cand_hash, s.cand_ord, s.k)
    if len(s.cand_hash):
        s.select(s.cand_hash, s.cand_ord)
    return s


def load_content(state: dict[str, Any]) -> RowSampler:
    """A sampler holding only the sample's size, seed and content rows (no counts, no
    candidates); ValueError when the content does not match its hashes."""
    s = RowSampler(int(state["k"]), int(state["seed"]))
    s.content_hash = vector(state["content_hash"], np.uint64)
    content = state["content"]
    if not isinstance(content, pa.Table) or content.num_rows != len(s.content_hash) or bool(
            np.any(s.content_hash[1:] <= s.content_hash[:-1])):
        raise ValueError("sample content does not match its hashes")
    s.content = content
    return s


def check_sample(keys: np.ndarray, counts: np.ndarray, cand_hash: np.ndarray,
                 cand_ord: np.ndarray, k: int) -> None:
    """ValueError unless ``keys`` -> ``counts`` is a strictly sorted map of positive counts and
    the candidates are at most ``k`` >= 1 pairs (hash of the map, 0 <= ordinal < its count)."""
    if len(keys) != len(counts) or bool(np.any(keys[1:] <= keys[:-1])) or bool(
            np.any(counts < 1)):
        raise ValueError("row count map is not a sorted map of positive counts")
    pos = np.searchsorted(keys, cand_hash)
    if k < 1 or len(cand_hash) != len(cand_ord) or len(cand_hash) > k or (
        len(cand_hash) and (pos.max() >= len(keys)
                            or (keys[pos] != cand_hash).any()
                            or (cand_ord < 0).any()
                            or (cand_ord >= counts[pos]).any())):
        raise ValueError("sample candidates are not rows of the count map")


def vector(value: Any, dtype: type) -> np.ndarray:
    """``value`` when it is a 1-D array of ``dtype``, else ValueError."""
    if not isinstance(value, np.ndarray) or value.ndim != 1 or value.dtype != np.dtype(dtype):
        raise ValueError(f"expected a 1-D {np.dtype(dtype)} array")
    return value
