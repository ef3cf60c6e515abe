"""Step Functions task (inside the shard Map): count one finished shard on the job."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from synthos.pipeline.runtime import lambda_handler, logger, metrics, settings
from synthos.pipeline.shards import record_shard


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> Any:
    out = record_shard(settings(), event)
    metrics.add_metric(name="ShardsDone", unit=MetricUnit.Count, value=1)
    logger.info("record_shard done", extra={"job_id": event.get("job_id")})
    return out
