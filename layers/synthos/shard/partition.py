"""The hash-partitioned reduce: the row-hash count maps reduced range by range, in parallel.

``merge_all`` holds the count maps of every shard at once (16 bytes per distinct row). Here the
64-bit row-hash space is cut into ``parts`` ranges (unions of the ``COUNT_BUCKETS`` buckets of
the state format, i.e. by the top bits of the hash; exactly the top ``log2(parts)`` bits when
``parts`` is a power of two). Why that is exact:

- a hash lives in one range, and the ordinals of its copies (``0 .. count - 1``) depend only on
  its own total count, so the (hash, copy) pairs of different ranges never compete for
  ordinals: range r's pairs are fully known from range r of every shard;
- a range reducer runs ``merge_many`` over the shards' slices of its range: the pairs of a
  hash several shards saw are recomputed from the summed counts, the pairs of a hash one
  shard saw are that shard's candidates in the range. That may miss pairs of the range (a
  shard's global bottom-k can leave out pairs that are among its range's k best), so a
  result is not always the range's true bottom-k; but it holds every pair of the *global*
  bottom-k in the range: such a pair is in its shard's bottom-k (the argument in
  ``synthos.shard.sample_merge``), and at most k - 1 pairs of the range (found or not) beat
  it, so the reducer keeps it. So the bottom-k of the union of the results is the global
  bottom-k;
- duplicate rows and distinct rows add over ranges.

So the reduce is: per range, ``reduce_range`` over every shard's slice of it (its keys,
counts and sampled pairs in the range: ``read_range_slice`` reads only that from a state file,
two ranged reads of the count map plus the header and the two candidate arrays) gives a small
``RangeResult`` (rows and distinct rows in the range, <= k pairs as above); then
``combine`` takes the results and every state *without* its count map
(``PartialState.read_without_counts``, folded one at a time) and returns the merged state whose
sampler (a ``SummarySampler``) holds the totals and the global bottom-k, with the content the
shards kept, added in shard order as ``merge_many`` does, so the same rows are missing and the
fill pass (``fill_from_shards``) and ``finalize`` give exactly ``merge_all``'s answer.

Why a bucket index inside the state format (``synthos.shard.codec``, version 3) rather than
per-range side files written by each shard: the number of ranges is chosen at reduce time
(any P up to 1,024 reads the same files, so the map needs no P and a re-plan costs nothing);
each shard still writes one object (not 1 + P PUTs, and no second copy of the count map);
a state stays self-contained for ``merge_all`` and the one-process path. The cost: about
25 KB more per state and a few more small ranged reads per range reducer.

Memory of one range reducer: its slices (16 bytes per entry in the range) and the multi-way
merge of them (about 58 bytes per entry at the peak, slices included, measured by
``bench/bench_partition_reduce.py``), plus <= k pairs per shard (each state's candidate arrays
are read whole, then filtered); the combine holds the k sampled rows, the column accumulators
and one state at a time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from synthos.errors import CorruptShardState, IncompatibleShardStates, InvalidOption
from synthos.sampling import RowSampler
from synthos.shard import codec
from synthos.shard.codec import COUNT_BUCKETS
from synthos.shard.sample_merge import SummarySampler, check_sample, merge_many, vector
from synthos.shard.state import (
    BAD_CONTENT,
    STATE_KIND,
    PartialState,
    SourceInfo,
    StateFold,
    source_from_json,
)

RANGE_KIND = "synthos.range_result"
RANGE_TARGET_ROWS = 20_000_000  # distinct rows (upper bound) per range reducer
_SHIFT = 64 - codec.COUNT_BUCKET_BITS


def parts_for(rows_upper_bound: int, target: int | None = None) -> int:
    """How many ranges keep each reducer at most near ``target`` (default
    ``RANGE_TARGET_ROWS``) distinct rows: 1 .. COUNT_BUCKETS."""
    per_range = max(1, RANGE_TARGET_ROWS if target is None else target)
    return min(COUNT_BUCKETS, max(1, -(-int(rows_upper_bound) // per_range)))


def bucket_range(part: int, parts: int) -> tuple[int, int]:
    """The count-map buckets ``[first, stop)`` of range ``part`` of ``parts``."""
    if isinstance(parts, bool) or not isinstance(parts, int) or not 1 <= parts <= COUNT_BUCKETS:
        raise InvalidOption(f"parts must be 1..{COUNT_BUCKETS}, got {parts!r}")
    if isinstance(part, bool) or not isinstance(part, int) or not 0 <= part < parts:
        raise InvalidOption(f"range {part!r} is out of 0..{parts - 1}")
    return part * COUNT_BUCKETS // parts, (part + 1) * COUNT_BUCKETS // parts


def hash_range(part: int, parts: int) -> tuple[int, int]:
    """The row hashes ``[lo, hi)`` of range ``part`` of ``parts`` (``hi`` may be 2**64)."""
    first, stop = bucket_range(part, parts)
    return first << _SHIFT, stop << _SHIFT


@dataclass(frozen=True)
class RangeSlice:
    """One shard state's share of one hash range: its count-map entries and sampled pairs."""

    source: SourceInfo
    k: int
    seed: int
    shards: tuple[int, ...]
    keys: np.ndarray
    counts: np.ndarray
    cand_hash: np.ndarray
    cand_ord: np.ndarray


def _in_range(hashes: np.ndarray, part: int, parts: int) -> np.ndarray:
    lo, hi = hash_range(part, parts)
    mask = hashes >= np.uint64(lo)
    return mask & (hashes < np.uint64(hi)) if hi < 1 << 64 else mask


def range_slice(state: PartialState, part: int, parts: int) -> RangeSlice:
    """The slice of an in-memory state (its count map is sorted: one contiguous run)."""
    s = state.sampler
    s.missing_hashes()  # flush pending candidates
    lo, hi = hash_range(part, parts)
    a = int(np.searchsorted(s.keys, np.uint64(lo)))
    b = len(s.keys) if hi >= 1 << 64 else int(np.searchsorted(s.keys, np.uint64(hi)))
    mine = _in_range(s.cand_hash, part, parts)
    return RangeSlice(state.source, s.k, s.seed, tuple(state.shards), s.keys[a:b],
                      s.counts[a:b], s.cand_hash[mine], s.cand_ord[mine])


def read_range_slice(f: codec.ReadableFile, part: int, parts: int) -> RangeSlice:
    """The slice of a state file: its header, the count-map buckets of the range and the two
    candidate arrays; nothing else of the file is read. CorruptShardState when it is bad."""
    first, stop = bucket_range(part, parts)
    reader = codec.StateReader(f)
    try:
        if reader.subtree("kind") != STATE_KIND:
            raise CorruptShardState("bytes hold no partial state")
        if reader.subtree("sample", "count_map") != {"$count_map": True}:
            raise CorruptShardState("partial state sample has no count map")
        cand_hash = vector(reader.subtree("sample", "cand_hash"), np.uint64)
        cand_ord = vector(reader.subtree("sample", "cand_ord"), np.int64)
        if len(cand_hash) != len(cand_ord):
            raise ValueError("sample candidates are not pairs")
        counts = reader.count_slice(first, stop)
        mine = _in_range(cand_hash, part, parts)
        out = RangeSlice(source_from_json(reader.subtree("source")),
                         int(reader.subtree("sample", "k")), int(reader.subtree("sample", "seed")),
                         tuple(int(i) for i in reader.subtree("shards")), counts.keys,
                         counts.counts, cand_hash[mine], cand_ord[mine])
        check_sample(out.keys, out.counts, out.cand_hash, out.cand_ord, out.k)
    except BAD_CONTENT as exc:
        raise CorruptShardState(f"partial state content is invalid: {exc!r}"[:300]) from exc
    return out


@dataclass(frozen=True)
class RangeResult:
    """What a range reducer leaves: rows and distinct rows whose hash is in the range, and the
    best (hash, copy) pairs found in the range (at most k, by priority: a superset of the
    range's share of the global sample, see the module docstring), for ``combine``."""

    part: int
    parts: int
    source: SourceInfo
    k: int
    seed: int
    shards: tuple[int, ...]
    rows: int
    distinct: int
    cand_hash: np.ndarray
    cand_ord: np.ndarray

    def to_bytes(self) -> bytes:
        """The result in the envelope of ``synthos.shard.codec`` (no count map)."""
        tree = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return codec.encode({**tree, "kind": RANGE_KIND, "source": dataclasses.asdict(
            self.source), "shards": list(self.shards)})

    @classmethod
    def from_bytes(cls, data: bytes) -> RangeResult:
        """Read a result; CorruptShardState for anything that is not one."""
        tree = codec.decode(data)
        try:
            if not isinstance(tree, dict) or tree.pop("kind") != RANGE_KIND:
                raise CorruptShardState("bytes hold no range result")
            out = cls(**{**tree, "source": source_from_json(tree["source"]),
                         "shards": tuple(int(i) for i in tree["shards"])})
            cand_hash = vector(out.cand_hash, np.uint64)
            cand_ord = vector(out.cand_ord, np.int64)
            counts = (out.part, out.parts, out.k, out.seed, out.rows, out.distinct)
            if (any(type(n) is not int for n in counts) or cand_hash.shape != cand_ord.shape
                    or len(cand_hash) > out.k or np.any(cand_ord < 0)
                    or not _in_range(cand_hash, out.part, out.parts).all()
                    or not 0 <= out.distinct <= out.rows):
                raise CorruptShardState("range result candidates are invalid")
        except BAD_CONTENT as exc:
            raise CorruptShardState(f"range result content is invalid: {exc!r}"[:300]) from exc
        return out


def reduce_range(slices: Sequence[RangeSlice], part: int, parts: int) -> RangeResult:
    """Merge one range of every shard (``slices``: one per state, all of the same file)."""
    bucket_range(part, parts)
    if not slices:
        raise IncompatibleShardStates("no partial state to reduce")
    first = slices[0]
    if any((s.source, s.k, s.seed) != (first.source, first.k, first.seed) for s in slices):
        raise IncompatibleShardStates("partial states come from different files or samples")
    shards = [i for s in slices for i in s.shards]
    if len(set(shards)) != len(shards):
        raise IncompatibleShardStates("a shard would be counted twice")
    samplers = []
    for s in slices:
        sampler = RowSampler(s.k, s.seed)
        sampler.keys, sampler.counts = s.keys, s.counts
        sampler.cand_hash, sampler.cand_ord = s.cand_hash, s.cand_ord
        samplers.append(sampler)
    out = merge_many(*samplers)
    return RangeResult(part, parts, first.source, first.k, first.seed, tuple(sorted(shards)),
                       int(out.counts.sum()), len(out.keys), out.cand_hash, out.cand_ord)


def combine(results: Sequence[RangeResult], states: Iterable[PartialState]) -> PartialState:
    """The merged state of ``states`` (every shard, read without count maps is enough), its
    sampler built from the range ``results`` (one per range); needs the fill pass and
    ``finalize`` exactly as ``merge_all``'s result does."""
    sampler = _summary(results)
    fold = StateFold()
    for state in states:
        if (state.sampler.k, state.sampler.seed) != (sampler.k, sampler.seed):
            raise IncompatibleShardStates("partial states and range results differ in sample")
        fold.add(state)
        if state.sampler.content is not None:
            sampler.add_content(state.sampler.content, state.sampler.content_hash)
    sampler.prune_content()
    merged = fold.result(sampler)
    if merged.source != results[0].source or tuple(merged.shards) != results[0].shards:
        raise IncompatibleShardStates("range results are not of these partial states")
    if merged.rows != sampler.rows_seen:
        raise IncompatibleShardStates(f"range results count {sampler.rows_seen} rows, the "
                                      f"partial states {merged.rows}")
    return merged


def _summary(results: Sequence[RangeResult]) -> SummarySampler:
    if not results:
        raise IncompatibleShardStates("no range result to combine")
    first = results[0]
    same = {(r.parts, r.source, r.k, r.seed, r.shards) for r in results}
    if len(same) != 1 or sorted(r.part for r in results) != list(range(first.parts)):
        raise IncompatibleShardStates(f"range results are not the {first.parts} ranges of one "
                                      "reduce")
    sampler = SummarySampler(first.k, first.seed, sum(r.rows for r in results),
                             sum(r.distinct for r in results))
    sampler.select(np.concatenate([r.cand_hash for r in results]),
                   np.concatenate([r.cand_ord for r in results]))
    return sampler


def merge_partitioned(states: Sequence[PartialState], parts: int) -> PartialState:
    """``merge_all(states)`` computed range by range in one process (what the pipeline spreads
    over ``parts`` tasks): the same state, but with a ``SummarySampler``."""
    results = [reduce_range([range_slice(s, p, parts) for s in states], p, parts)
               for p in range(parts)]
    return combine(results, states)

