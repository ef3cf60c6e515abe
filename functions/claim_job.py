"""Step Functions task: claim the job for an upload, drop-folder file or API start
(a re-delivered event finds the job already claimed: conditional put per object version)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from synthos.pipeline.claim import claim_job
from synthos.pipeline.runtime import lambda_handler, logger, metrics, settings


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> Any:
    out = claim_job(settings(), event)
    metrics.add_metric(name="JobsClaimed", unit=MetricUnit.Count, value=1)
    logger.info("claim_job done", extra={"job_id": event.get("job_id")})
    return out
