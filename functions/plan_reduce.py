"""Step Functions task: check the shards, move the job to reducing, list the reduce's hash
ranges."""

from __future__ import annotations

from typing import Any

from synthos.aws.settings import Settings
from synthos.pipeline.runtime import pipeline_step
from synthos.pipeline.shards import plan_reduce


@pipeline_step("ReducePlans")
def handler(settings: Settings, event: dict[str, Any]) -> Any:
    return plan_reduce(settings, event)
