"""Step Functions task: complete the job, publish its results, notify (idempotent per job:
a retried invocation returns the first one's answer)."""

from __future__ import annotations

from typing import Any

from synthos.aws.settings import Settings
from synthos.pipeline.complete import complete
from synthos.pipeline.runtime import pipeline_step


@pipeline_step("JobsCompleted", idempotency_key="[tenant_id, job_id]")
def handler(settings: Settings, event: dict[str, Any]) -> Any:
    return complete(settings, event)
