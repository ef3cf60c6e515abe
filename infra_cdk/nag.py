"""cdk-nag AwsSolutions findings that are accepted, each with its reason (cdk-nag 3: CDK's
``Validations.of(...).acknowledge``, the successor of ``NagSuppressions``)."""

from __future__ import annotations

import re
from typing import Any

from aws_cdk import Acknowledgment, Stack, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

# rule id -> why it does not apply or is accepted (stack-wide). Each of these fires on this
# stack without its acknowledgement (checked by running the pack with none, 2026-11-27); rules
# the stack satisfies (S1, SF1, SF2, VPC7, EC23, ...) are not acknowledged.
STACK_WIDE: dict[str, str] = {
    "AwsSolutions-L1": "Lambda runs python3.12, the newest runtime the numeric wheels and the "
                       "engine are tested on; upgrades are a deliberate change",
    "AwsSolutions-APIG2": "requests are validated in the app by pydantic models (400 with "
                          "field errors), not by API Gateway models",
    "AwsSolutions-APIG3": "no WAF in this template: throttling, the usage plan and the app's "
                          "per-tenant rate limits guard the API; attach a WAF web ACL per "
                          "account if required (docs/deploy.md)",
    "AwsSolutions-APIG4": "REST authorization is done by the app (JWT access tokens and Synthos "
                          "API keys, checked on every route but health/register/login/verify); "
                          "WebSocket $connect has a Lambda authorizer and $disconnect cannot",
    "AwsSolutions-COG4": "no Cognito: the API issues and verifies its own tokens (synthos.api)",
    "AwsSolutions-SQS3": "these queues are the dead-letter queues",
    "AwsSolutions-SMG4": "the JWT secret and the Ed25519 seed are rotated by an operator "
                         "(docs/deploy.md): rotating the signing key must publish a new public "
                         "key, which no rotation Lambda can do safely",
}


# IAM4/IAM5 report one finding per wildcard ("AwsSolutions-IAM5[Resource::...]"); each
# finding must match one of these patterns, whose reason says why it is accepted.
ACCEPTED_FINDINGS: tuple[tuple[str, str], ...] = (
    (r"AwsSolutions-IAM4\[Policy::.*(AWSLambdaBasicExecutionRole|AWSBatchServiceRole|"
     r"AmazonEC2ContainerServiceforEC2Role|AmazonAPIGatewayPushToCloudWatchLogs|"
     r"AWSLambdaVPCAccessExecutionRole)\]",
     "AWS managed service-role policies (logs, Batch/ECS service roles) scoped to their "
     "service; everything that touches data is granted explicitly"),
    (r"AwsSolutions-IAM5\[Resource::.*/(uploads|dropbox|results|shards|warranties)/\*\]",
     "an object-key pattern under one prefix; keys below it start with the tenant id and the "
     "code derives the tenant from the principal or the job record"),
    (r"AwsSolutions-IAM5\[Resource::.*\.Arn>/index/\*\]",
     "the table's own global secondary indexes"),
    (r"AwsSolutions-IAM5\[Resource::<Functions\w+\.Arn>:\*\]",
     "versions and aliases of one function (lambda:InvokeFunction by Step Functions)"),
    (r"AwsSolutions-IAM5\[Resource::.*:execution:synthos-\w+-validation[:/]\*\]",
     "the validation state machine's own executions and Distributed Map child executions"),
    (r"AwsSolutions-IAM5\[Resource::.*:execute-api:.*/ws/POST/@connections/\*\]",
     "posting to the progress WebSocket's connections (ids are not known in advance)"),
    (r"AwsSolutions-IAM5\[Resource::\*\]",
     "actions without resource-level permissions: X-Ray PutTraceSegments, CloudWatch Logs "
     "delivery, batch:DescribeJobs/TerminateJob (the .sync integration), ECS/EC2 describe"),
    (r"AwsSolutions-IAM5\[Action::(s3:(GetObject|List|Abort|DeleteObject|PutObject)\w*|"
     r"s3:GetBucket\*|s3:GetObject\*|s3:List\*|s3:DeleteObject\*|s3:Abort\*|"
     r"kms:\w+\*|xray:\w+|logs:\w+)\*?\]",
     "CDK's grant action groups (read = Get*/List*, delete = DeleteObject*), limited to the "
     "key patterns above"),
)


def unaccepted_findings(scope: IConstruct) -> list[str]:
    """AwsSolutions findings on ``scope`` that are neither acknowledged nor accepted by a
    pattern of :data:`ACCEPTED_FINDINGS`; each as ``"RULE at PATH"``."""
    report: Any = AwsSolutionsChecks(scope).validate_scope(scope)
    out = []
    for violation in report.violations:
        rule = violation.rule_name
        if any(re.fullmatch(pattern, rule) for pattern, _reason in ACCEPTED_FINDINGS):
            continue
        out.extend(f"{rule} at {r.construct_path}" for r in violation.violating_resources)
    return out


def suppress(stack: Stack) -> None:
    """Acknowledge the accepted rules on the stack (cdk-nag 3 reads CDK's acknowledgements)."""
    for rule, reason in STACK_WIDE.items():
        Validations.of(stack).acknowledge(Acknowledgment(id=rule, reason=reason))
