"""Moving a job through its states, and telling the world.

Every move goes through :func:`synthos.aws.job_store.advance` (a conditional update, so a
cancelled or failed job is never revived by a late step) and is then announced: an EventBridge
event (``Synthos Job Progress``) and a push to the WebSocket connections subscribed to the job.
"""

from __future__ import annotations

import json
from typing import Any

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.update import Action

from synthos.aws.clients import client
from synthos.aws.job_store import StaleJobTransition, advance
from synthos.aws.settings import Settings
from synthos.aws.tables import JobModel, lost_condition, utcnow
from synthos.jobs import JobStatus
from synthos.pipeline import websocket

SOURCE = "synthos.pipeline"
PROGRESS = "Synthos Job Progress"


def job_summary(job: JobModel) -> dict[str, Any]:
    """The public view of a job's progress (what events and pushes carry)."""
    out: dict[str, Any] = {
        "tenant_id": job.tenant_id, "job_id": job.job_id, "status": job.status,
        "stage": job.stage, "shards_done": int(job.shards_done or 0),
        "shards_total": int(job.shards_total or 0), "progress": float(job.progress or 0),
    }
    for name in ("reason", "collapse_risk", "risk_level", "drift_score"):
        value = getattr(job, name, None)
        if value is not None:
            out[name] = value
    return out


def emit(settings: Settings, detail_type: str, detail: dict[str, Any]) -> None:
    """One EventBridge event from the pipeline."""
    client("events", settings).put_events(Entries=[{
        "Source": SOURCE, "DetailType": detail_type, "EventBusName": settings.event_bus,
        "Detail": json.dumps(detail, default=str)}])


def announce(settings: Settings, job: JobModel) -> None:
    summary = job_summary(job)
    emit(settings, PROGRESS, summary)
    websocket.push(settings, job.tenant_id, job.job_id, {"type": "progress", **summary})


def move(settings: Settings, tenant_id: str, job_id: str, target: JobStatus,
         **fields: Any) -> JobModel:
    """Advance the job (conditionally) and announce its new state."""
    job = advance(tenant_id, job_id, target, **fields)  # holds the updated item (ALL_NEW)
    announce(settings, job)
    return job


def update_while(tenant_id: str, job_id: str, status: JobStatus,
                 actions: list[Action]) -> JobModel:
    """Apply ``actions`` (and ``updated_at``) only while the job is ``status``; the updated job
    back. Raises StaleJobTransition when it has moved on."""
    job = JobModel(tenant_id, job_id)
    try:
        job.update(actions=[*actions, JobModel.updated_at.set(utcnow())],
                   condition=JobModel.status == status.value)
    except UpdateError as exc:
        if lost_condition(exc):
            raise StaleJobTransition(f"job {job_id} is no longer {status.value}") from exc
        raise
    return job  # the update's ALL_NEW answer: no read back needed
