"""WebSocket $disconnect: forget the connection."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from synthos.pipeline.runtime import lambda_handler, logger, metrics, settings
from synthos.pipeline.websocket import disconnect


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> Any:
    out = disconnect(settings(), event)
    metrics.add_metric(name="WsDisconnects", unit=MetricUnit.Count, value=1)
    logger.info("ws_disconnect done", extra={"job_id": event.get("job_id")})
    return out
