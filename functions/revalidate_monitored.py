"""Scheduled (nightly): re-validate every dataset marked as monitored."""

from __future__ import annotations

from typing import Any

from synthos.aws.settings import Settings
from synthos.pipeline.runtime import pipeline_step
from synthos.pipeline.schedules.revalidate import revalidate


@pipeline_step("RevalidationRuns", idempotency_key="id")
def handler(settings: Settings, event: dict[str, Any]) -> Any:
    return revalidate(settings, event)
