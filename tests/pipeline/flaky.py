"""Handlers that misbehave on purpose (registered in the glue by tests)."""

from __future__ import annotations

from typing import Any

from synthos.pipeline.errors import TransientError

CALLS: list[str] = []


def render_report_flaky_once(event: dict[str, Any], context: Any) -> Any:
    """RenderReport that hits a transient storage error on its first call."""
    from functions.render_report import handler

    CALLS.append(event["job_id"])
    if len(CALLS) == 1:
        raise TransientError("storage was busy writing the report (SlowDown); will retry")
    return handler(event, context)


def render_report_flaky_after_move(event: dict[str, Any], context: Any) -> Any:
    """RenderReport whose first call moves the job to ``reporting`` and then hits a transient
    storage error reading the result: the retry re-enters a state the job is already in."""
    from unittest import mock

    from functions.render_report import handler

    CALLS.append(event["job_id"])
    if len(CALLS) > 1:
        return handler(event, context)
    busy = TransientError("storage was busy reading the result (SlowDown); will retry")
    with mock.patch("synthos.pipeline.report.read_result", side_effect=busy):
        return handler(event, context)


def complete_after_dataset_deleted(event: dict[str, Any], context: Any) -> Any:
    """CompleteJob reached after the dataset's owner deleted it mid-run (the DELETE's check
    for running jobs missed this one, e.g. through index lag): the status is set as the
    DELETE route leaves it, then the real handler runs."""
    from functions.complete_job import handler

    from synthos.aws.tables import DatasetModel, JobModel

    job = JobModel.get(event["tenant_id"], event["job_id"])
    DatasetModel(job.tenant_id, job.dataset_id).update(
        actions=[DatasetModel.status.set("deleted")])
    CALLS.append(event["job_id"])
    return handler(event, context)
