"""The stuck-job sweeper: a running job whose record has not moved for ``STALL`` (or whose
deadline has passed) is retried once (its execution stopped, the job back to ``queued`` and
started again) and failed with a reason the second time.

It reads the jobs ``by_status`` index (status, updated_at), one query per running status.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from synthos.aws.job_store import StaleJobTransition, advance
from synthos.aws.settings import Settings
from synthos.aws.tables import JobModel
from synthos.aws.workflow import stop_job
from synthos.jobs import RUNNING, JobStatus
from synthos.pipeline.fail import fail_job
from synthos.pipeline.schedules.restart import start

STALL = timedelta(hours=1)  # longer than any one step (a Lambda: 15 min; a shard: minutes)
MAX_RETRIES = 1


def stuck_jobs(now: datetime, stall: timedelta = STALL) -> list[JobModel]:
    """Running jobs not updated since ``now - stall`` (by_status index, oldest first)."""
    cutoff = now - stall
    found: list[JobModel] = []
    for status in sorted(s.value for s in RUNNING):
        found.extend(JobModel.by_status.query(status, JobModel.updated_at < cutoff))
    return found


def _retry(settings: Settings, job: JobModel) -> str:
    if job.execution_arn:
        stop_job(settings, job.execution_arn, "restarted by the stuck-job sweeper")
    if job.status != JobStatus.QUEUED.value:
        advance(job.tenant_id, job.job_id, JobStatus.QUEUED, attempts=int(job.attempts) + 1,
                shards_done=0, progress=0, reason=None)
    else:
        job.update(actions=[JobModel.attempts.set(int(job.attempts) + 1)])
    start(settings, job, "sweeper", suffix=f"-retry{int(job.attempts) + 1}")
    return "retried"


def _fail(settings: Settings, job: JobModel) -> str:
    if job.execution_arn:
        stop_job(settings, job.execution_arn, "failed by the stuck-job sweeper")
    reason = (f"the validation stopped making progress while {job.stage} and did not finish "
              "after a retry; the upload is kept, try again")
    out = fail_job(settings, {"tenant_id": job.tenant_id, "job_id": job.job_id,
                              "reason": reason})
    if not out.get("failed"):
        raise StaleJobTransition(f"job {job.job_id} finished before it could be failed")
    return "failed"


def sweep(settings: Settings, event: dict[str, Any],
          now: datetime | None = None) -> dict[str, Any]:
    """Retry or fail every stuck job; returns ``{"retried": [...], "failed": [...]}``."""
    del event  # the schedule carries nothing but its time
    at = now or datetime.now(UTC)
    outcome: dict[str, list[str]] = {"retried": [], "failed": []}
    for job in stuck_jobs(at):
        try:
            done = _retry(settings, job) if int(job.attempts or 0) < MAX_RETRIES \
                else _fail(settings, job)
        except StaleJobTransition:
            continue  # it moved (finished or was cancelled) since the query
        outcome[done].append(job.job_id)
    return outcome
