"""Starting and stopping the validation workflow (the Step Functions state machine).

The execution is named after the job id, so starting the same job twice is refused by Step
Functions itself. The input is what the first state (claim) expects from the API:

    {"source": "api", "tenant_id": "...", "job_id": "..."}

S3 events reach the same state machine through EventBridge with the event as input.
"""

from __future__ import annotations

import json

from synthos.aws.clients import client
from synthos.aws.settings import Settings


def execution_name(tenant_id: str, job_id: str) -> str:
    return f"{tenant_id}-{job_id}"[:80]


def start_job(settings: Settings, tenant_id: str, job_id: str) -> str:
    """Start the workflow for a queued job; returns the execution ARN."""
    if not settings.state_machine_arn:
        raise RuntimeError("SYNTHOS_STATE_MACHINE_ARN is not configured")
    out = client("stepfunctions", settings).start_execution(
        stateMachineArn=settings.state_machine_arn,
        name=execution_name(tenant_id, job_id),
        input=json.dumps({"source": "api", "tenant_id": tenant_id, "job_id": job_id}),
    )
    return str(out["executionArn"])


def stop_job(settings: Settings, execution_arn: str, reason: str) -> None:
    """Stop a running execution (cancellation); a finished one is left as it is."""
    sfn = client("stepfunctions", settings)
    try:
        sfn.stop_execution(executionArn=execution_arn, cause=reason[:200])
    except sfn.exceptions.ExecutionDoesNotExist:
        return
