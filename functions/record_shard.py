"""Step Functions task (inside the shard Map): count one finished shard on the job."""

from __future__ import annotations

from typing import Any

from synthos.aws.settings import Settings
from synthos.pipeline.runtime import pipeline_step
from synthos.pipeline.shards import record_shard


@pipeline_step("ShardsDone")
def handler(settings: Settings, event: dict[str, Any]) -> Any:
    return record_shard(settings, event)
