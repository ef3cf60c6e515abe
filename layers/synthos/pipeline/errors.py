"""Pipeline errors. The class name is the Step Functions error name (``errorType``), so the
state machine's Retry matches ``TransientError`` and Catch sees every other name as final.

    SynthosError (synthos.errors)
    +-- TransientError        worth retrying: throttling, a storage hiccup (Retry with backoff)
    +-- PipelineError         the pipeline cannot go on with this job (Catch -> FailJob)
        +-- StrayObject       an object under uploads/ that no dataset record expects
        +-- ShardsIncomplete  the reduce found fewer finished shards than planned
"""

from __future__ import annotations

from synthos.errors import SynthosError


class TransientError(SynthosError):
    code = "transient"


class PipelineError(SynthosError):
    code = "pipeline_error"


class StrayObject(PipelineError):
    code = "stray_object"


class ShardsIncomplete(PipelineError):
    code = "shards_incomplete"
