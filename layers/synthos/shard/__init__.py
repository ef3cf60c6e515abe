"""Sharded validation: plan shards, profile each into a mergeable partial state, merge, finalize.

See docs/sharding.md for the state format, the merge semantics and the manifest.
"""

from synthos.shard.outcome import ProfileOutcome, finalize
from synthos.shard.partition import (
    RangeResult,
    RangeSlice,
    combine,
    merge_partitioned,
    parts_for,
    range_slice,
    read_range_slice,
    reduce_range,
)
from synthos.shard.plan import Manifest, ShardItem, plan_shards
from synthos.shard.read import fill_from_shards, profile_shard, read_shard_batches
from synthos.shard.state import (
    PartialState,
    SourceInfo,
    fill_missing,
    merge,
    merge_all,
    profile_batches,
    start_state,
)

__all__ = [
    "Manifest", "PartialState", "ProfileOutcome", "RangeResult", "RangeSlice", "ShardItem",
    "SourceInfo", "combine", "fill_from_shards", "fill_missing", "finalize", "merge",
    "merge_all", "merge_partitioned", "parts_for", "plan_shards", "profile_batches",
    "profile_shard", "range_slice", "read_range_slice", "read_shard_batches", "reduce_range",
    "start_state",
]
