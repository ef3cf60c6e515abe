"""The validation state machine, defined once, as plain Python (no aws_cdk import).

CDK (``infra_cdk``) renders it with ``DefinitionBody.from_string`` + ``definition_substitutions``,
and the pipeline tests execute the very same document in moto (``synthos.local.moto_glue``).

    ClaimJob -> Claimed? --no--> Skipped (Succeed: duplicate event, reference upload, no job)
       |yes
    InspectDataset -> SizeChoice --small--> RunValidation ------------------------+
                          |large                                                  |
                       ShardMap (Distributed Map, ItemReader = shard items JSON   |
                         in S3) -> RunShard (batch:submitJob.sync, retried once)  |
                                -> RecordShard (progress: shards done / total)    |
                       -> PlanReduce (job -> reducing; P hash ranges)             |
                       -> RangeMap (inline Map over the P ranges) -> ReduceRange  |
                       -> ReduceShards (combine, fill, finalize, score) ------> RenderReport
                                                                                  -> CompleteJob
                                                                                  -> Done
    any error (Catch States.ALL) -> FailJob -> Failed (Fail state)

Every Lambda task receives the state (``{"tenant_id", "job_id", ...}``) and returns the next
state (``OutputPath: $.Payload``). Placeholders (``${...}``) are filled by CDK; their names are
in :data:`PLACEHOLDERS`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

# Logical name -> Lambda handler. CDK creates one function per entry; the local glue dispatches
# invokes of a function with this name (or an ARN ending in it) to the handler in-process.
FUNCTIONS: dict[str, str] = {
    # state machine tasks
    "ClaimJob": "functions.claim_job.handler",
    "InspectDataset": "functions.inspect_dataset.handler",
    "RunValidation": "functions.run_validation.handler",
    "RecordShard": "functions.record_shard.handler",
    "PlanReduce": "functions.plan_reduce.handler",
    "ReduceRange": "functions.reduce_range.handler",
    "ReduceShards": "functions.reduce_shards.handler",
    "RenderReport": "functions.render_report.handler",
    "CompleteJob": "functions.complete_job.handler",
    "FailJob": "functions.fail_job.handler",
    # schedules
    "SweepStuckJobs": "functions.sweep_stuck_jobs.handler",
    "ExpireWarranties": "functions.expire_warranties.handler",
    "RevalidateMonitored": "functions.revalidate_monitored.handler",
    "CleanupUploads": "functions.cleanup_uploads.handler",
    # WebSocket API (progress push)
    "WsAuthorize": "functions.ws_authorize.handler",  # $connect REQUEST authorizer (?token=)
    "WsConnect": "functions.ws_connect.handler",
    "WsDisconnect": "functions.ws_disconnect.handler",
}

# Suggested sizing per function (memory MiB, timeout s); anything absent: 512 MiB, 60 s.
FUNCTION_SIZING: dict[str, tuple[int, int]] = {
    "ClaimJob": (2048, 300),  # inspects an upload nobody validates (pipeline/describe.py)
    "InspectDataset": (2048, 300),
    "RunValidation": (3008, 900),
    "ReduceRange": (3008, 900),  # about 20 million count-map entries (RANGE_TARGET_ROWS)
    "ReduceShards": (3008, 900),
    "RenderReport": (1024, 120),
    "RevalidateMonitored": (512, 300),
    "SweepStuckJobs": (512, 120),
    "CleanupUploads": (512, 300),
}

# EventBridge schedules: rule name -> expression and the function (a FUNCTIONS key) it targets.
SCHEDULES: dict[str, dict[str, str]] = {
    "SweepStuckJobsRule": {"expression": "rate(5 minutes)", "function": "SweepStuckJobs",
                           "description": "retry once or fail jobs stuck past their deadline"},
    "ExpireWarrantiesRule": {"expression": "cron(15 0 * * ? *)", "function": "ExpireWarranties",
                             "description": "mark warranties past expires_at as expired"},
    "RevalidateMonitoredRule": {"expression": "cron(0 3 * * ? *)",
                                "function": "RevalidateMonitored",
                                "description": "nightly re-validation of monitored datasets"},
    "CleanupUploadsRule": {"expression": "rate(1 hour)", "function": "CleanupUploads",
                           "description": "abort and delete uploads never completed"},
}

# The state machine's functions (the ones the definition references).
TASK_FUNCTIONS: tuple[str, ...] = ("ClaimJob", "InspectDataset", "RunValidation", "RecordShard",
                                   "PlanReduce", "ReduceRange", "ReduceShards", "RenderReport",
                                   "CompleteJob", "FailJob")


RANGE_CONCURRENCY = 40  # range reducers at a time: an inline Map runs at most 40 iterations


def function_arn_placeholder(logical: str) -> str:
    return f"{logical}FunctionArn"


# Every ``${name}`` the definition uses; CDK passes one substitution per name.
PLACEHOLDERS: tuple[str, ...] = (
    *(function_arn_placeholder(n) for n in TASK_FUNCTIONS),
    "ShardJobQueueArn",       # the Batch GPU job queue
    "ShardJobDefinitionArn",  # the Batch GPU job definition (command: SHARD_COMMAND)
    "DataBucket",             # the data bucket (shard items are read from it)
)

# The Batch job definition's command; RunShard passes these two parameters (strings). The
# co-moments run on torch: CUDA in the GPU image, the CPU wheel where the local stack runs it.
SHARD_COMMAND: tuple[str, ...] = (
    "python", "-m", "synthos.aws.batch_worker", "--manifest", "Ref::manifest_uri",
    "--index", "Ref::index", "--backend", "torch")

# The EventBridge rule that starts the state machine on uploads and drop-folder files (the
# whole event is the execution input; ClaimJob ignores keys that start nothing).
def trigger_event_pattern(bucket: str = "${DataBucket}") -> dict[str, Any]:
    return {"source": ["aws.s3"], "detail-type": ["Object Created"],
            "detail": {"bucket": {"name": [bucket]},
                       "object": {"key": [{"prefix": "uploads/"}, {"prefix": "dropbox/"}]}}}


TRANSIENT_LAMBDA_ERRORS: tuple[str, ...] = (
    "Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException", "TransientError")
TRANSIENT_BATCH_ERRORS: tuple[str, ...] = (
    "Batch.AWSBatchException", "Batch.ServerException", "Batch.ClientException")


def _catch(next_state: str = "FailJob") -> list[dict[str, Any]]:
    return [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": next_state}]


def _lambda_task(logical: str, next_state: str | None, retry_interval_s: int,
                 catch: bool = True) -> dict[str, Any]:
    state: dict[str, Any] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "${" + function_arn_placeholder(logical) + "}",
                       "Payload.$": "$"},
        "OutputPath": "$.Payload",
        "Retry": [{"ErrorEquals": list(TRANSIENT_LAMBDA_ERRORS),
                   "IntervalSeconds": retry_interval_s, "MaxAttempts": 3, "BackoffRate": 2.0}],
    }
    if catch:
        state["Catch"] = _catch()
    if next_state is None:
        state["End"] = True
    else:
        state["Next"] = next_state
    return state


def _shard_map(retry_interval_s: int, max_concurrency: int) -> dict[str, Any]:
    run_shard = {
        "Type": "Task",
        "Resource": "arn:aws:states:::batch:submitJob.sync",
        "Parameters": {
            "JobName.$": "States.Format('shard-{}-{}', $.job_id, $.index)",
            "JobQueue": "${ShardJobQueueArn}",
            "JobDefinition": "${ShardJobDefinitionArn}",
            "Parameters": {"manifest_uri.$": "$.manifest_uri", "index.$": "$.index"},
        },
        "ResultPath": None,
        "Retry": [
            {"ErrorEquals": list(TRANSIENT_BATCH_ERRORS), "IntervalSeconds": retry_interval_s,
             "MaxAttempts": 3, "BackoffRate": 2.0},
            # a failed container (spot reclaim, OOM, a bad shard) gets one more attempt
            {"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": retry_interval_s,
             "MaxAttempts": 1, "BackoffRate": 2.0},
        ],
        "Next": "RecordShard",
    }
    record = _lambda_task("RecordShard", None, retry_interval_s, catch=False)
    return {
        "Type": "Map",
        "Label": "Shards",
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                       "ReaderConfig": {"InputType": "JSON"},
                       "Parameters": {"Bucket": "${DataBucket}", "Key.$": "$.items_key"}},
        "ItemSelector": {"tenant_id.$": "$.tenant_id", "job_id.$": "$.job_id",
                         "index.$": "States.Format('{}', $$.Map.Item.Value.index)",
                         "manifest_uri.$": "$.manifest_uri"},
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "RunShard",
            "States": {"RunShard": run_shard, "RecordShard": record},
        },
        "MaxConcurrency": max_concurrency,
        # no ToleratedFailure*: the default (0) fails the Map on the first failed shard
        "ResultPath": None,
        "Catch": _catch(),
        "Next": "PlanReduce",
    }


def _range_map(retry_interval_s: int, max_concurrency: int) -> dict[str, Any]:
    """One ReduceRange task per hash range of the reduce (``$.ranges`` from PlanReduce)."""
    return {
        "Type": "Map",
        "ItemsPath": "$.ranges",
        "ItemSelector": {"tenant_id.$": "$.tenant_id", "job_id.$": "$.job_id",
                         "part.$": "$$.Map.Item.Value.part", "parts.$": "$.reduce_parts"},
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "INLINE"},
            "StartAt": "ReduceRange",
            "States": {"ReduceRange": _lambda_task("ReduceRange", None, retry_interval_s,
                                                   catch=False)},
        },
        "MaxConcurrency": max_concurrency,
        "ResultPath": None,
        "Catch": _catch(),
        "Next": "ReduceShards",
    }


def build_definition(retry_interval_s: int = 2, max_concurrency: int = 500) -> dict[str, Any]:
    """The Amazon States Language document, with ``${...}`` placeholders (see PLACEHOLDERS).

    ``retry_interval_s`` is the first retry delay (doubling); tests pass 1 to stay fast.
    """
    r = retry_interval_s
    states: dict[str, Any] = {
        "ClaimJob": {**_lambda_task("ClaimJob", "Claimed", r),
                 "Parameters": {"FunctionName": "${" + function_arn_placeholder("ClaimJob") + "}",
                                "Payload": {"event.$": "$", "execution_arn.$": "$$.Execution.Id"}}},
        "Claimed": {"Type": "Choice",
                    "Choices": [{"Variable": "$.claimed", "BooleanEquals": True,
                                 "Next": "InspectDataset"}],
                    "Default": "Skipped"},
        "Skipped": {"Type": "Succeed", "Comment": "nothing to validate, or already claimed"},
        "InspectDataset": _lambda_task("InspectDataset", "SizeChoice", r),
        "SizeChoice": {"Type": "Choice",
                       "Choices": [{"Variable": "$.mode", "StringEquals": "large",
                                    "Next": "ShardMap"}],
                       "Default": "RunValidation"},
        "RunValidation": _lambda_task("RunValidation", "RenderReport", r),
        "ShardMap": _shard_map(r, max_concurrency),
        "PlanReduce": _lambda_task("PlanReduce", "RangeMap", r),
        "RangeMap": _range_map(r, RANGE_CONCURRENCY),
        "ReduceShards": _lambda_task("ReduceShards", "RenderReport", r),
        "RenderReport": _lambda_task("RenderReport", "CompleteJob", r),
        "CompleteJob": _lambda_task("CompleteJob", "Done", r),
        "Done": {"Type": "Succeed"},
        "FailJob": {**_lambda_task("FailJob", "Failed", r, catch=False),
                    "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.fail_error",
                               "Next": "Failed"}]},
        "Failed": {"Type": "Fail", "Error": "ValidationFailed",
                   "Cause": "the job was marked failed; its record holds the reason"},
    }
    return {"Comment": "Synthos validation: claim, inspect, validate (Lambda or Batch shards), "
                       "reduce, report, complete; any error fails the job with a reason.",
            "StartAt": "ClaimJob", "States": states}


def render_definition(substitutions: Mapping[str, str], **options: int) -> str:
    """The definition as JSON with every placeholder replaced (what moto runs in tests).

    Raises KeyError naming any placeholder without a substitution.
    """
    missing = [p for p in PLACEHOLDERS if p not in substitutions]
    if missing:
        raise KeyError(f"no substitution for {', '.join(missing)}")
    text = json.dumps(build_definition(**options), indent=1)
    for name in PLACEHOLDERS:
        text = text.replace("${" + name + "}", substitutions[name])
    return text
