"""Operations: the CloudWatch dashboard (API latency and errors, validations by state, shard
throughput, Batch queue depth), alarms (failed executions, Lambda errors, dead-letter queue
depth) to an encrypted SNS topic.

Custom metrics are the handlers' Powertools metrics: namespace ``Synthos``, dimension
``service`` = ``synthos-pipeline`` (``synthos.pipeline.runtime``). Batch queue depth is
read from Step Functions' service-integration metrics for ``batch:submitJob.sync``: shard
jobs submitted and not yet finished (AWS Batch itself publishes no queue metric).
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra_cdk.config import StageConfig

NAMESPACE = "Synthos"
PIPELINE_SERVICE = "synthos-pipeline"  # synthos.pipeline.runtime.SERVICE
PERIOD = Duration.minutes(5)
AT_LEAST = cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
BATCH_SUBMIT = "arn:aws:states:::batch:submitJob.sync"


def custom(metric: str) -> cw.Metric:
    return cw.Metric(namespace=NAMESPACE, metric_name=metric,
                     dimensions_map={"service": PIPELINE_SERVICE}, statistic="Sum",
                     period=PERIOD)


def batch_integration(metric: str) -> cw.Metric:
    return cw.Metric(namespace="AWS/States", metric_name=metric, statistic="Sum",
                     dimensions_map={"ServiceIntegrationResourceArn": BATCH_SUBMIT},
                     period=PERIOD)


class Operations(Construct):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig,
                 api: apigw.RestApi, state_machine: sfn.StateMachine,
                 functions: dict[str, lambda_.Function], queues: dict[str, sqs.Queue]) -> None:
        super().__init__(scope, id)
        self.topic = sns.Topic(self, "Alarms", display_name=f"{config.prefix} alarms",
                               enforce_ssl=True,
                               master_key=kms.Alias.from_alias_name(self, "SnsKey",
                                                                    "alias/aws/sns"))
        if config.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))
        self.alarms: list[cw.Alarm] = []
        self._alarm("FailedExecutions", state_machine.metric_failed(period=PERIOD),
                    "a validation execution failed")
        for name, fn in functions.items():
            self._alarm(f"{name}Errors", fn.metric_errors(period=PERIOD),
                        f"the {name} function raised errors")
        for name, queue in queues.items():
            self._alarm(f"{name}Depth", queue.metric_approximate_number_of_messages_visible(
                period=PERIOD), f"events are waiting in the {name} dead-letter queue")
        self.dashboard = cw.Dashboard(self, "Dashboard", dashboard_name=f"{config.prefix}-ops",
                                      widgets=_widgets(api, state_machine))

    def _alarm(self, id: str, metric: cw.IMetric, description: str) -> None:
        alarm = cw.Alarm(self, id, metric=metric, threshold=1, evaluation_periods=1,
                         comparison_operator=AT_LEAST,
                         treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
                         alarm_description=description)
        alarm.add_alarm_action(cw_actions.SnsAction(self.topic))
        self.alarms.append(alarm)


def _widgets(api: apigw.RestApi, state_machine: sfn.StateMachine) -> list[list[cw.IWidget]]:
    in_flight = cw.MathExpression(
        expression="started - succeeded - failed", label="shard jobs queued or running",
        using_metrics={"started": batch_integration("ServiceIntegrationsStarted"),
                       "succeeded": batch_integration("ServiceIntegrationsSucceeded"),
                       "failed": batch_integration("ServiceIntegrationsFailed")},
        period=PERIOD)
    return [
        [cw.GraphWidget(title="API latency (ms)", width=12,
                        left=[api.metric_latency(period=PERIOD, statistic="p50"),
                              api.metric_latency(period=PERIOD, statistic="p99")]),
         cw.GraphWidget(title="API errors", width=12,
                        left=[api.metric_client_error(period=PERIOD),
                              api.metric_server_error(period=PERIOD)])],
        [cw.GraphWidget(title="Validations by state", width=12, left=[
            custom("JobsClaimed"), custom("SmallValidations"),
            custom("ShardReductions"), custom("JobsCompleted"),
            custom("JobsFailed"),
            state_machine.metric_aborted(period=PERIOD),
            state_machine.metric_timed_out(period=PERIOD)]),
         cw.GraphWidget(title="Shard throughput (shards per 5 min)", width=12,
                        left=[custom("ShardsDone")])],
        [cw.GraphWidget(title="Batch queue depth", width=12, left=[in_flight]),
         cw.GraphWidget(title="Executions", width=12, left=[
             state_machine.metric_started(period=PERIOD),
             state_machine.metric_succeeded(period=PERIOD),
             state_machine.metric_failed(period=PERIOD)])],
    ]
