"""The large path around the Batch shards: per-shard progress and the reduce.

Each Batch job (``synthos.aws.batch_worker``) writes one partial state to its item's
``state_key``; RecordShard counts it on the job (atomic add, only while ``validating``); the
reduce merges every state (``synthos.shard.merge_all``), finalizes the dataset profile and
scores it against the reference exactly as the small path does
(``synthos.aws.batch_worker.reduce_states``: merge, then the fill pass reading shards from S3).
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


def reduce_shards(settings: Settings, state: dict[str, Any]) -> dict[str, Any]:
    """Merge the shard states, finalize, score, and store the result (job -> reducing).
    The engine is imported here, not at module load: RecordShard runs once per shard."""
    from synthos.aws.batch_worker import reduce_states
    from synthos.engine import result_from_outcomes
    from synthos.pipeline.options import engine_options
    from synthos.shard import Manifest, finalize

    tenant, job_id = state["tenant_id"], state["job_id"]
    started = time.perf_counter()
    job = get_job(tenant, job_id)
    move(settings, tenant, job_id, JobStatus.REDUCING, progress=0.7)
    opts = engine_options(job.options)
    manifest = Manifest.from_json(storage.get_bytes(settings, manifest_key(tenant, job_id))
                                  .decode())
    if int(job.shards_done or 0) < len(manifest.items):  # never finalize a partial merge
        raise ShardsIncomplete(f"only {int(job.shards_done or 0)} of {len(manifest.items)} "
                               "shards finished; the validation cannot be completed")
    ds_outcome = finalize(reduce_states(settings, manifest))  # merge + fill pass, from S3
    ref_outcome = _reference_outcome(settings, tenant, job.reference_id, opts) \
        if job.reference_id else None
    result = result_from_outcomes(ds_outcome, ref_outcome, opts, started)
    write_result(settings, tenant, job_id, result)
    return {"tenant_id": tenant, "job_id": job_id, "mode": "large"}
