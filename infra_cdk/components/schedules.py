"""The pipeline's EventBridge schedules (``infra_cdk.definition.SCHEDULES``), each targeting its
function with retries and a dead-letter queue for events that cannot be delivered."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra_cdk.config import StageConfig
from infra_cdk.definition import SCHEDULES


class Schedules(Construct):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig,
                 functions: dict[str, lambda_.Function], dlq: sqs.IQueue) -> None:
        super().__init__(scope, id)
        self.rules: dict[str, events.Rule] = {}
        for name, spec in SCHEDULES.items():
            rule = events.Rule(self, name, rule_name=f"{config.prefix}-{name}",
                               description=spec["description"],
                               schedule=events.Schedule.expression(spec["expression"]))
            rule.add_target(targets.LambdaFunction(
                functions[spec["function"]], dead_letter_queue=dlq, retry_attempts=2,
                max_event_age=Duration.hours(1)))
            self.rules[name] = rule
