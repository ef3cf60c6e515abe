"""Step Functions task (the Catch of every state): the job fails with a readable reason."""

from __future__ import annotations

from typing import Any

from synthos.aws.settings import Settings
from synthos.pipeline.fail import fail_job
from synthos.pipeline.runtime import pipeline_step


@pipeline_step("JobsFailed")
def handler(settings: Settings, event: dict[str, Any]) -> Any:
    return fail_job(settings, event)
