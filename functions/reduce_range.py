"""Step Functions task (inside the range Map): reduce one hash range of every shard state."""

from __future__ import annotations

from typing import Any

from synthos.aws.settings import Settings
from synthos.pipeline.runtime import pipeline_step
from synthos.pipeline.shards import reduce_range


@pipeline_step("RangeReductions")
def handler(settings: Settings, event: dict[str, Any]) -> Any:
    return reduce_range(settings, event)
