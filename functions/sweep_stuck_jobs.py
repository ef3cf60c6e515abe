"""Scheduled: retry once, or fail with a reason, the jobs stuck past their deadline."""

from __future__ import annotations

from typing import Any

from synthos.aws.settings import Settings
from synthos.pipeline.runtime import pipeline_step
from synthos.pipeline.schedules.sweeper import sweep


@pipeline_step("SweeperRuns", idempotency_key="id")
def handler(settings: Settings, event: dict[str, Any]) -> Any:
    return sweep(settings, event)
