"""The validation state machine (the one definition of ``infra_cdk.definition``, rendered with
``DefinitionBody.from_string`` and CloudFormation ``DefinitionSubstitutions``), its role's
grants, logging and X-Ray, and the EventBridge rule that starts it on S3 Object Created events
under ``uploads/`` and ``dropbox/``.
"""

from __future__ import annotations

import json

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra_cdk.access import object_statement
from infra_cdk.components.batch import GpuBatch
from infra_cdk.config import StageConfig
from infra_cdk.definition import (
    PLACEHOLDERS,
    TASK_FUNCTIONS,
    build_definition,
    function_arn_placeholder,
    trigger_event_pattern,
)

BATCH_EVENTS_RULE = "StepFunctionsGetEventsForBatchJobsRule"  # managed by Step Functions


def state_machine_name(config: StageConfig) -> str:
    return f"{config.prefix}-validation"


def definition_template() -> str:
    """The definition with its ``${...}`` placeholders, as it goes into the template."""
    return json.dumps(build_definition(), indent=1)


class ValidationPipeline(Construct):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig,
                 functions: dict[str, lambda_.Function], gpu: GpuBatch, bucket: s3.IBucket,
                 rule_dlq: sqs.IQueue) -> None:
        super().__init__(scope, id)
        substitutions = {function_arn_placeholder(n): functions[n].function_arn
                         for n in TASK_FUNCTIONS}
        substitutions.update(ShardJobQueueArn=gpu.queue.job_queue_arn,
                             ShardJobDefinitionArn=gpu.job_definition.job_definition_arn,
                             DataBucket=bucket.bucket_name)
        if set(substitutions) != set(PLACEHOLDERS):
            raise KeyError(f"placeholders without a substitution: "
                           f"{sorted(set(PLACEHOLDERS) - set(substitutions))}")
        log_group = logs.LogGroup(self, "Logs", retention=config.log_retention,
                                  removal_policy=config.removal_policy,
                                  log_group_name=f"/aws/vendedlogs/states/{config.prefix}")
        self.state_machine = sfn.StateMachine(
            self, "Validation", state_machine_name=state_machine_name(config),
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_string(definition_template()),
            definition_substitutions=substitutions, tracing_enabled=True,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL,
                                include_execution_data=False))
        self._grant(config, functions, gpu, bucket)
        self.trigger = events.Rule(
            self, "UploadTrigger",
            description="S3 Object Created under uploads/ or dropbox/ starts a validation",
            event_pattern=_event_pattern(bucket.bucket_name))
        self.trigger.add_target(targets.SfnStateMachine(
            self.state_machine, dead_letter_queue=rule_dlq, retry_attempts=8,
            max_event_age=Duration.hours(6)))

    def _grant(self, config: StageConfig, functions: dict[str, lambda_.Function],
               gpu: GpuBatch, bucket: s3.IBucket) -> None:
        role = self.state_machine.role
        for name in TASK_FUNCTIONS:
            functions[name].grant_invoke(role)
        stack = Stack.of(self)
        name = state_machine_name(config)
        statements = [
            iam.PolicyStatement(actions=["batch:SubmitJob"], resources=[
                gpu.queue.job_queue_arn, gpu.job_definition.job_definition_arn]),
            iam.PolicyStatement(actions=["batch:DescribeJobs", "batch:TerminateJob"],
                                resources=["*"]),
            iam.PolicyStatement(
                actions=["events:PutTargets", "events:PutRule", "events:DescribeRule"],
                resources=[stack.format_arn(service="events", resource="rule",
                                            resource_name=BATCH_EVENTS_RULE)]),
            # the Distributed Map runs child executions of this state machine
            iam.PolicyStatement(actions=["states:StartExecution"], resources=[
                stack.format_arn(service="states", resource="stateMachine",
                                 resource_name=name, arn_format=ArnFormat.COLON_RESOURCE_NAME)]),
            iam.PolicyStatement(
                actions=["states:DescribeExecution", "states:StopExecution"],
                resources=[stack.format_arn(service="states", resource="execution",
                                            resource_name=f"{name}/*",
                                            arn_format=ArnFormat.COLON_RESOURCE_NAME)]),
        ]
        for statement in statements:
            role.add_to_principal_policy(statement)
        # the shard items the Map's ItemReader reads
        role.add_to_principal_policy(object_statement(bucket, ("s3:GetObject",), ("shards/*",)))




def _event_pattern(bucket_name: str) -> events.EventPattern:
    pattern = trigger_event_pattern(bucket_name)
    return events.EventPattern(source=pattern["source"], detail_type=pattern["detail-type"],
                               detail=pattern["detail"])
