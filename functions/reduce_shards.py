"""Step Functions task: merge the shards' partial states, finalize and score."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from synthos.pipeline.runtime import lambda_handler, logger, metrics, settings
from synthos.pipeline.shards import reduce_shards


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> Any:
    out = reduce_shards(settings(), event)
    metrics.add_metric(name="ShardReductions", unit=MetricUnit.Count, value=1)
    logger.info("reduce_shards done", extra={"job_id": event.get("job_id")})
    return out
