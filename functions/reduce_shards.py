"""Step Functions task: combine the range results (or merge the shard states), finalize and
score."""

from __future__ import annotations

from typing import Any

from synthos.aws.settings import Settings
from synthos.pipeline.runtime import pipeline_step
from synthos.pipeline.shards import reduce_shards


@pipeline_step("ShardReductions")
def handler(settings: Settings, event: dict[str, Any]) -> Any:
    return reduce_shards(settings, event)
