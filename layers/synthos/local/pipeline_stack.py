"""The pipeline's AWS resources, created in moto the way CDK creates them in the cloud: the data
bucket (versioned, EventBridge notifications), the tables, the Batch queue and job definition,
the state machine rendered from ``infra_cdk.definition`` and the EventBridge rule that starts it
on uploads and drop-folder files. Call inside ``mock_aws(config=MOTO_CONFIG)`` after
:func:`synthos.local.moto_glue.install`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import boto3

from synthos.aws.settings import Settings
from synthos.aws.tables import create_tables

NAME = "synthos-validation"
_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": "sts:AssumeRole",
    "Principal": {"Service": ["states.amazonaws.com", "events.amazonaws.com",
                              "batch.amazonaws.com"]}}]}


@dataclass(frozen=True)
class LocalPipeline:
    settings: Settings               # with state_machine_arn set
    substitutions: dict[str, str]    # what CDK would pass as definition substitutions
    rule_name: str


def _client(service: str, settings: Settings) -> Any:
    return boto3.client(service, region_name=settings.region, endpoint_url=settings.endpoint_url)


def create_storage(settings: Settings) -> None:
    """The tables and the versioned, EventBridge-enabled data bucket."""
    create_tables(settings)
    s3 = _client("s3", settings)
    s3.create_bucket(Bucket=settings.bucket)
    s3.put_bucket_versioning(Bucket=settings.bucket,
                             VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_notification_configuration(
        Bucket=settings.bucket, NotificationConfiguration={"EventBridgeConfiguration": {}})


def _batch(settings: Settings, role_arn: str) -> tuple[str, str]:
    from infra_cdk.definition import SHARD_COMMAND

    batch = _client("batch", settings)
    env = batch.create_compute_environment(computeEnvironmentName=f"{NAME}-gpu",
                                           type="UNMANAGED", state="ENABLED",
                                           serviceRole=role_arn)
    queue = batch.create_job_queue(jobQueueName=f"{NAME}-shards", state="ENABLED", priority=1,
                                   computeEnvironmentOrder=[{
                                       "order": 1,
                                       "computeEnvironment": env["computeEnvironmentArn"]}])
    jobdef = batch.register_job_definition(
        jobDefinitionName=f"{NAME}-shard", type="container",
        containerProperties={"image": "synthos-gpu-batch:local", "command": list(SHARD_COMMAND),
                             "resourceRequirements": [{"type": "VCPU", "value": "4"},
                                                      {"type": "MEMORY", "value": "16384"}]})
    return str(queue["jobQueueArn"]), str(jobdef["jobDefinitionArn"])


def deploy(settings: Settings, retry_interval_s: int = 1, max_concurrency: int = 8,
           definition: str | None = None) -> LocalPipeline:
    """Create storage, Batch, the state machine and its trigger rule; settings come back with
    ``state_machine_arn``. ``definition``: an ASL document with ``${...}`` placeholders to run
    instead of ``render_definition`` (the pipeline tests pass the one taken from the synthesized
    CDK template; without it no jsii is started, so the local stack comes up in seconds)."""
    from infra_cdk.definition import (
        TASK_FUNCTIONS,
        function_arn_placeholder,
        render_definition,
        trigger_event_pattern,
    )

    create_storage(settings)
    role = _client("iam", settings).create_role(
        RoleName=f"{NAME}-role", AssumeRolePolicyDocument=json.dumps(_TRUST))["Role"]["Arn"]
    queue_arn, jobdef_arn = _batch(settings, role)
    account = role.split(":")[4]
    subs = {function_arn_placeholder(n):
            f"arn:aws:lambda:{settings.region}:{account}:function:{n}" for n in TASK_FUNCTIONS}
    subs.update(ShardJobQueueArn=queue_arn, ShardJobDefinitionArn=jobdef_arn,
                DataBucket=settings.bucket)
    sfn = _client("stepfunctions", settings)
    if definition is None:
        text = render_definition(subs, retry_interval_s=retry_interval_s,
                                 max_concurrency=max_concurrency)
    else:
        text = definition
        for name, value in subs.items():
            text = text.replace("${" + name + "}", value)
    arn = sfn.create_state_machine(name=NAME, roleArn=role, definition=text)["stateMachineArn"]
    events = _client("events", settings)
    rule = f"{NAME}-trigger"
    events.put_rule(Name=rule, EventBusName="default",
                    EventPattern=json.dumps(trigger_event_pattern(settings.bucket)))
    events.put_targets(Rule=rule, EventBusName="default",
                       Targets=[{"Id": "validation", "Arn": arn, "RoleArn": role}])
    return LocalPipeline(settings.model_copy(update={"state_machine_arn": arn}), subs, rule)


def wait_for(settings: Settings, execution_arn: str, timeout_s: float = 60.0) -> dict[str, Any]:
    """Poll ``DescribeExecution`` until the execution leaves RUNNING (TimeoutError after
    ``timeout_s``)."""
    sfn = _client("stepfunctions", settings)
    deadline = time.monotonic() + timeout_s
    while True:
        out: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
        if out["status"] != "RUNNING":
            return out
        if time.monotonic() > deadline:
            raise TimeoutError(f"{execution_arn} still RUNNING after {timeout_s}s")
        time.sleep(0.05)


def executions(settings: Settings) -> list[dict[str, Any]]:
    """Every execution of the local state machine (newest first)."""
    sfn = _client("stepfunctions", settings)
    return list(sfn.list_executions(stateMachineArn=settings.state_machine_arn)["executions"])
