"""Nightly re-validation: every ready dataset marked ``monitored`` gets a new job with the
reference and options of its latest completed validation (one job per dataset per day: the job
id is derived from the date, written with a conditional put). When that job completes with a
higher risk level than the dataset's last one, ``complete`` emits ``Synthos Risk Increased``.

Reads: the sparse ``by_monitored`` index (only monitored, undeleted datasets, every tenant), and
per dataset its jobs through ``by_dataset`` (that dataset's jobs only, not its tenant's).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import PutError

from synthos.aws.settings import Settings
from synthos.aws.tables import MONITORED, DatasetModel, JobModel, lost_condition
from synthos.jobs import JobStatus
from synthos.pipeline.schedules.restart import start


def monitored_ready() -> list[DatasetModel]:
    """Every tenant's monitored datasets that are ready (from the sparse index)."""
    return list(DatasetModel.by_monitored.query(MONITORED,
                                                filter_condition=DatasetModel.status == "ready"))


def _latest_completed(dataset: DatasetModel) -> JobModel | None:
    jobs = JobModel.by_dataset.query(dataset.dataset_id, JobModel.tenant_id == dataset.tenant_id,
                                     filter_condition=JobModel.status
                                     == JobStatus.COMPLETED.value)
    return max(jobs, key=lambda j: j.updated_at, default=None)


def revalidate(settings: Settings, event: dict[str, Any],
               now: datetime | None = None) -> dict[str, Any]:
    """Start one re-validation per monitored dataset; returns the started job ids."""
    del event
    day = (now or datetime.now(UTC)).strftime("%Y-%m-%d")
    started: list[str] = []
    for dataset in monitored_ready():
        previous = _latest_completed(dataset)
        digest = hashlib.sha256(f"{dataset.tenant_id}/{dataset.dataset_id}/{day}".encode())
        job = JobModel(dataset.tenant_id, "rev" + digest.hexdigest()[:29],
                       dataset_id=dataset.dataset_id,
                       reference_id=previous.reference_id if previous else None,
                       options=dict(previous.options) if previous else {}, trigger="schedule",
                       object_key=dataset.s3_key, object_version=dataset.version_id,
                       status=JobStatus.QUEUED.value, stage=JobStatus.QUEUED.value)
        try:
            job.save(condition=JobModel.job_id.does_not_exist())
        except PutError as exc:
            if lost_condition(exc):
                continue  # already started today
            raise
        start(settings, job, "schedule")
        started.append(job.job_id)
    return {"started": started}
