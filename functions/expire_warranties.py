"""Scheduled: active warranties past their expiry become expired."""

from __future__ import annotations

from typing import Any

from synthos.aws.settings import Settings
from synthos.pipeline.runtime import pipeline_step
from synthos.pipeline.schedules.warranties import expire


@pipeline_step("WarrantyExpiryRuns", idempotency_key="id")
def handler(settings: Settings, event: dict[str, Any]) -> Any:
    return expire(settings, event)
