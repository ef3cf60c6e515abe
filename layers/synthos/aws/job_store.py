"""Job records moved through :mod:`synthos.jobs` with conditional writes.

``advance`` writes a new status only if the stored status is one the move is allowed from (a
DynamoDB condition expression, evaluated server-side), so two racing writers never both win and
a cancelled job is never revived by a late worker.
"""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.update import Action

from synthos.aws.tables import JobModel, lost_condition, utcnow
from synthos.errors import SynthosError
from synthos.jobs import JobStatus, allowed_sources


class JobNotFound(SynthosError):
    code = "job_not_found"


class StaleJobTransition(SynthosError):
    """The job is no longer in a state this move may start from (someone else moved it)."""

    code = "stale_job_transition"


def get_job(tenant_id: str, job_id: str) -> JobModel:
    try:
        return JobModel.get(tenant_id, job_id)
    except DoesNotExist as exc:
        raise JobNotFound(f"no job {job_id}") from exc


def advance(tenant_id: str, job_id: str, target: JobStatus, **fields: Any) -> JobModel:
    """Move the job to ``target`` and set ``fields`` in one conditional update.

    Raises JobNotFound, or StaleJobTransition when the stored status forbids the move.
    """
    job = JobModel(tenant_id, job_id)
    actions: list[Action] = [JobModel.status.set(target.value), JobModel.updated_at.set(utcnow())]
    if "stage" not in fields:
        actions.append(JobModel.stage.set(target.value))
    for name, value in fields.items():
        attr = getattr(JobModel, name)
        actions.append(attr.remove() if value is None else attr.set(value))
    sources = [s.value for s in allowed_sources(target)]
    condition = JobModel.job_id.exists() & JobModel.status.is_in(*sources)
    try:
        job.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if lost_condition(exc):
            try:
                current = JobModel.get(tenant_id, job_id)
            except DoesNotExist as missing:
                raise JobNotFound(f"no job {job_id}") from missing
            raise StaleJobTransition(
                f"job {job_id} is {current.status}; it cannot move to {target.value}",
                details={"status": current.status, "target": target.value}) from exc
        raise
    return job
