"""The large path around the Batch shards: per-shard progress and the reduce.

Each Batch job (``synthos.aws.batch_worker``) writes one partial state to its item's
``state_key``; RecordShard counts it on the job (atomic add, only while ``validating``). The
reduce is hash-partitioned (``synthos.shard.partition``): PlanReduce checks every shard
finished, moves the job to ``reducing`` and splits the row-hash space into
``parts_for(rows bound)`` ranges; ReduceRange (one task per range, a Map) reduces one range of
every state's count map into a small result next to the manifest; ReduceShards combines the
results with the states read without their count maps, runs the fill pass, finalizes the
dataset profile and scores it against the reference exactly as the small path does.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from synthos.aws.job_store import get_job
from synthos.aws.keys import manifest_key
from synthos.aws.settings import Settings
from synthos.aws.tables import JobModel
from synthos.jobs import JobStatus
from synthos.pipeline import datasets, storage
from synthos.pipeline.errors import ShardsIncomplete
from synthos.pipeline.progress import announce, move, update_while
from synthos.pipeline.results import write_result

if TYPE_CHECKING:
    from synthos.profile import ProfileOutcome
    from synthos.shard import Manifest


def record_shard(settings: Settings, state: dict[str, Any]) -> dict[str, Any]:
    """One more shard done: ``shards_done += 1`` and progress, conditional on validating.
    Returns ``{}``: every iteration's output lands in the Map's (discarded) result array."""
    tenant, job_id = state["tenant_id"], state["job_id"]
    job = update_while(tenant, job_id, JobStatus.VALIDATING, [JobModel.shards_done.add(1)])
    total = max(int(job.shards_total or 1), 1)
    job.update(actions=[JobModel.progress.set(0.1 + 0.6 * min(int(job.shards_done), total)
                                              / total)])
    announce(settings, job)
    return {}  # the iteration's output: kept tiny, the Map's result array must fit 256 KB


def _reference_outcome(settings: Settings, tenant: str, reference_id: str,
                       opts: Any) -> ProfileOutcome:
    from synthos.columns import classify_schema
    from synthos.io.readers import open_table
    from synthos.profile import profile_source

    reference = datasets.load(tenant, reference_id, "reference")
    with storage.scratch(f"{reference_id}-ref") as work:
        source = open_table(storage.download(settings, reference.s3_key, work))
        specs = classify_schema(source.schema, opts.embedding_columns)
        return profile_source(source, specs, sample_rows=opts.sample_rows, seed=opts.seed)


def _manifest(settings: Settings, tenant: str, job_id: str) -> Manifest:
    from synthos.shard import Manifest

    return Manifest.from_json(storage.get_bytes(settings, manifest_key(tenant, job_id)).decode())


def _start_reduce(settings: Settings, tenant: str, job_id: str) -> Manifest:
    """Refuse a partial merge, then move the job to reducing."""
    job = get_job(tenant, job_id)
    manifest = _manifest(settings, tenant, job_id)
    if int(job.shards_done or 0) < len(manifest.items):  # never finalize a partial merge
        raise ShardsIncomplete(f"only {int(job.shards_done or 0)} of {len(manifest.items)} "
                               "shards finished; the validation cannot be completed")
    move(settings, tenant, job_id, JobStatus.REDUCING, progress=0.7)
    return manifest


def rows_bound(manifest: Manifest) -> int:
    """An upper bound of the distinct rows: the planned rows, or, when a text file's rows are
    unknown (estimate 0), its bytes / 2 (a row holds at least one byte and a newline)."""
    return manifest.rows_estimate or manifest.size_bytes // 2


def plan_reduce(settings: Settings, state: dict[str, Any]) -> dict[str, Any]:
    """Check the shards, move the job to reducing, and list the hash ranges of the reduce:
    the state plus ``reduce_parts`` and ``ranges`` (``[{"part": 0}, ...]``, for the Map)."""
    from synthos.shard import parts_for

    manifest = _start_reduce(settings, state["tenant_id"], state["job_id"])
    parts = parts_for(rows_bound(manifest))
    return {**state, "reduce_parts": parts, "ranges": [{"part": p} for p in range(parts)]}


def reduce_range(settings: Settings, state: dict[str, Any]) -> dict[str, Any]:
    """One range of the reduce (a Map iteration): its result goes next to the manifest.
    Returns ``{}`` (the Map's result array is discarded)."""
    from synthos.aws.batch_worker import reduce_range_states

    uri = f"s3://{settings.bucket}/{manifest_key(state['tenant_id'], state['job_id'])}"
    reduce_range_states(settings, uri, int(state["part"]), int(state["parts"]))
    return {}


def reduce_shards(settings: Settings, state: dict[str, Any]) -> dict[str, Any]:
    """Combine the ``reduce_parts`` range results (with the fill pass), finalize, score, and
    store the result. The engine is imported here, not at module load: RecordShard runs once
    per shard."""
    from synthos.aws.batch_worker import combine_ranges
    from synthos.engine import result_from_outcomes
    from synthos.pipeline.options import engine_options
    from synthos.shard import finalize

    tenant, job_id = state["tenant_id"], state["job_id"]
    started = time.perf_counter()
    job = get_job(tenant, job_id)
    uri = f"s3://{settings.bucket}/{manifest_key(tenant, job_id)}"
    merged = combine_ranges(settings, uri, int(state["reduce_parts"]))  # + fill pass
    opts = engine_options(job.options)
    ds_outcome = finalize(merged)
    ref_outcome = _reference_outcome(settings, tenant, job.reference_id, opts) \
        if job.reference_id else None
    result = result_from_outcomes(ds_outcome, ref_outcome, opts, started)
    write_result(settings, tenant, job_id, result)
    return {"tenant_id": tenant, "job_id": job_id, "mode": "large"}
