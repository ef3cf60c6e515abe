"""Starting the state machine for an existing queued job (sweeper retries, re-validations)."""

from __future__ import annotations

import json

from synthos.aws.clients import client
from synthos.aws.settings import Settings
from synthos.aws.tables import JobModel
from synthos.aws.workflow import execution_name
from synthos.pipeline.errors import PipelineError


def start(settings: Settings, job: JobModel, source: str, suffix: str = "") -> str:
    """Start an execution with ``{"source", "tenant_id", "job_id"}``; returns its ARN."""
    if not settings.state_machine_arn:
        raise PipelineError("SYNTHOS_STATE_MACHINE_ARN is not configured")
    name = execution_name(job.tenant_id, job.job_id)
    name = (name[: 80 - len(suffix)] + suffix) if suffix else name
    out = client("stepfunctions", settings).start_execution(
        stateMachineArn=settings.state_machine_arn, name=name,
        input=json.dumps({"source": source, "tenant_id": job.tenant_id, "job_id": job.job_id}))
    arn = str(out["executionArn"])
    job.update(actions=[JobModel.execution_arn.set(arn)])
    return arn
