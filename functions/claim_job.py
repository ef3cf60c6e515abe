"""Step Functions task: claim the job for an upload, drop-folder file or API start
(a re-delivered event finds the job already claimed: conditional put per object version)."""

from __future__ import annotations

from typing import Any

from synthos.aws.settings import Settings
from synthos.pipeline.claim import claim_job
from synthos.pipeline.runtime import pipeline_step


@pipeline_step("JobsClaimed")
def handler(settings: Settings, event: dict[str, Any]) -> Any:
    return claim_job(settings, event)
