"""WebSocket $disconnect: forget the connection."""

from __future__ import annotations

from typing import Any

from synthos.aws.settings import Settings
from synthos.pipeline.runtime import pipeline_step
from synthos.pipeline.websocket import disconnect


@pipeline_step("WsDisconnects")
def handler(settings: Settings, event: dict[str, Any]) -> Any:
    return disconnect(settings, event)
