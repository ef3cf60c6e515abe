"""The moto glue on its own: version pin, Lambda dispatch, Batch runs, EventBridge -> Step
Functions, and clean removal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from synthos.local import moto_glue
from tests.local import handlers

FUNCTIONS = {"Echo": "tests.local.handlers.echo", "Explode": "tests.local.handlers.explode"}


@pytest.fixture
def glue(aws_env: None) -> Iterator[moto_glue.Glue]:
    from moto import mock_aws

    with mock_aws(config=moto_glue.MOTO_CONFIG):
        installed = moto_glue.install(FUNCTIONS)
        try:
            yield installed
        finally:
            moto_glue.uninstall()


def _invoke(name: str, payload: dict[str, Any]) -> dict[str, Any]:
    out = boto3.client("lambda", region_name="us-east-1").invoke(
        FunctionName=name, Payload=json.dumps(payload).encode())
    return {"error": out.get("FunctionError"), "payload": json.loads(out["Payload"].read())}


def test_pin_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the pinned moto, the check passes; a different version fails loudly
    moto_glue.check_moto()
    monkeypatch.setattr(moto_glue.moto, "__version__", "5.3.0")
    with pytest.raises(moto_glue.GlueError, match=r"moto 5\.2\.5; found 5\.3\.0"):
        moto_glue.install(FUNCTIONS)


def test_missing_patched_attribute_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.awslambda_simple.models import LambdaSimpleBackend

    monkeypatch.delattr(LambdaSimpleBackend, "invoke")
    with pytest.raises(moto_glue.GlueError, match=r"LambdaSimpleBackend\.invoke"):
        moto_glue.check_moto()


def test_lambda_invoke_runs_the_registered_handler(glue: moto_glue.Glue) -> None:
    # WHEN a function is invoked by name and by ARN
    by_name = _invoke("Echo", {"a": 1})
    by_arn = _invoke("arn:aws:lambda:us-east-1:123456789012:function:Echo:live", {"b": 2})
    # THEN the Python handler answered, with the function name in its context
    assert by_name == {"error": None, "payload": {"got": {"a": 1}, "function": "Echo"}}
    assert by_arn["payload"]["got"] == {"b": 2}
    assert glue.invocations == ["Echo", "Echo"]


def test_lambda_errors_look_like_the_runtime(glue: moto_glue.Glue) -> None:
    # WHEN a handler raises, or no handler is registered
    raised = _invoke("Explode", {})
    unknown = _invoke("Nobody", {})
    # THEN the answer is an Unhandled function error named after the exception class
    assert raised["error"] == "Unhandled"
    assert raised["payload"]["errorType"] == "UnreadableDataset"
    assert raised["payload"]["errorMessage"] == "data.csv is corrupt"
    assert unknown["error"] == "Unhandled" and unknown["payload"]["errorType"] == "GlueError"


def _batch_queue(command: list[str]) -> tuple[Any, str, str]:
    iam = boto3.client("iam", region_name="us-east-1")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    batch = boto3.client("batch", region_name="us-east-1")
    env = batch.create_compute_environment(computeEnvironmentName="glue-ce", type="UNMANAGED",
                                           state="ENABLED", serviceRole=role)
    queue = batch.create_job_queue(jobQueueName="glue-q", state="ENABLED", priority=1,
                                   computeEnvironmentOrder=[{
                                       "order": 1,
                                       "computeEnvironment": env["computeEnvironmentArn"]}])
    jobdef = batch.register_job_definition(
        jobDefinitionName="glue-jd", type="container",
        containerProperties={"image": "x", "command": command, "vcpus": 1, "memory": 512})
    return batch, queue["jobQueueArn"], jobdef["jobDefinitionArn"]


def test_batch_job_runs_its_command_on_the_cpu(glue: moto_glue.Glue) -> None:
    # GIVEN a job definition whose command takes parameters
    handlers.RAN.clear()
    batch, queue, jobdef = _batch_queue(
        ["python", "-m", "tests.local.handlers", "--index", "Ref::index", "Ref::mode"])
    # WHEN one job succeeds and one asks to fail
    ok = batch.submit_job(jobName="ok", jobQueue=queue, jobDefinition=jobdef,
                          parameters={"index": "7", "mode": "--run"})
    bad = batch.submit_job(jobName="bad", jobQueue=queue, jobDefinition=jobdef,
                           parameters={"index": "8", "mode": "--fail"})
    # THEN the module's main ran with the substituted arguments, and the statuses follow
    assert handlers.RAN == [["--index", "7", "--run"], ["--index", "8", "--fail"]]
    jobs = {j["jobName"]: j for j in batch.describe_jobs(jobs=[ok["jobId"], bad["jobId"]])["jobs"]}
    assert jobs["ok"]["status"] == "SUCCEEDED"
    assert jobs["bad"]["status"] == "FAILED"
    assert "exited (3)" in jobs["bad"]["statusReason"]


def test_eventbridge_rule_starts_state_machine_once_per_object_version(
        glue: moto_glue.Glue) -> None:
    # GIVEN a rule with a state machine target and an SQS target
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    machine = sfn.create_state_machine(
        name="m", roleArn="arn:aws:iam::123456789012:role/r",
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}))
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="copy")["QueueUrl"]
    events = boto3.client("events", region_name="us-east-1")
    events.put_rule(Name="r", EventPattern=json.dumps({"source": ["aws.s3"]}))
    events.put_targets(Rule="r", Targets=[
        {"Id": "sm", "Arn": machine["stateMachineArn"]},
        {"Id": "q", "Arn": "arn:aws:sqs:us-east-1:123456789012:copy"}])
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="glue-bucket")
    s3.put_bucket_notification_configuration(
        Bucket="glue-bucket", NotificationConfiguration={"EventBridgeConfiguration": {}})
    # WHEN an object is written (and its event delivered again, by hand)
    s3.put_object(Bucket="glue-bucket", Key="uploads/t/d/f.csv", Body=b"a\n1\n")
    runs = sfn.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]
    # THEN one execution, named from bucket/key/version, got the event; SQS got it too
    assert len(runs) == 1
    event = json.loads(sfn.describe_execution(executionArn=runs[0]["executionArn"])["input"])
    assert event["detail"]["object"]["key"] == "uploads/t/d/f.csv"
    assert runs[0]["name"] == moto_glue.execution_name_for_event(event)
    assert event["time"].endswith("Z")  # moto's epoch seconds, as EventBridge's ISO time
    assert "Messages" in sqs.receive_message(QueueUrl=url)


def test_uninstall_restores_moto() -> None:
    from moto.awslambda_simple.models import LambdaSimpleBackend

    original = LambdaSimpleBackend.__dict__["invoke"]
    moto_glue.install(FUNCTIONS)
    assert LambdaSimpleBackend.__dict__["invoke"] is not original
    moto_glue.uninstall()
    assert LambdaSimpleBackend.__dict__["invoke"] is original
    moto_glue.uninstall()  # a second call is harmless


def test_function_name_of_every_form() -> None:
    assert moto_glue.function_name_of("ClaimJob") == "ClaimJob"
    assert moto_glue.function_name_of("ClaimJob:live") == "ClaimJob"
    assert moto_glue.function_name_of(
        "arn:aws:lambda:us-east-1:123456789012:function:ClaimJob:3") == "ClaimJob"


def test_execution_name_depends_on_object_version_only() -> None:
    def event(version: str, event_id: str) -> dict[str, Any]:
        return {"id": event_id, "detail": {"bucket": {"name": "bk"},
                                           "object": {"key": "dropbox/t/f.csv",
                                                      "version-id": version}}}

    assert moto_glue.execution_name_for_event(event("v1", "a")) == \
        moto_glue.execution_name_for_event(event("v1", "b"))
    assert moto_glue.execution_name_for_event(event("v1", "a")) != \
        moto_glue.execution_name_for_event(event("v2", "a"))


def test_deploy_runs_a_given_definition_with_its_placeholders_filled(
        glue: moto_glue.Glue) -> None:
    # GIVEN a definition as CDK would hand it over (placeholders still in), marked
    from infra_cdk.definition import build_definition

    from synthos.aws.settings import Settings
    from synthos.local.pipeline_stack import deploy

    document = build_definition()
    document["States"]["ClaimJob"]["Comment"] = "from the synthesized template"
    settings = Settings(bucket="glue-deploy-data", table_prefix="glue-deploy")
    # WHEN the local stack deploys it
    stack = deploy(settings, definition=json.dumps(document))
    # THEN that document runs, with every placeholder substituted
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    deployed = sfn.describe_state_machine(stateMachineArn=stack.settings.state_machine_arn)
    assert "from the synthesized template" in deployed["definition"]
    assert "${" not in deployed["definition"]
    assert stack.substitutions["DataBucket"] in deployed["definition"]


def test_array_job_children_get_their_index_and_the_parent_their_outcome(
        glue: moto_glue.Glue) -> None:
    # GIVEN a runner that records each child's index and fails child 1
    seen: list[str] = []

    def runner(argv: list[str], environ: Any) -> int:
        seen.append(environ["AWS_BATCH_JOB_ARRAY_INDEX"])
        return 1 if environ["AWS_BATCH_JOB_ARRAY_INDEX"] == "1" else 0

    glue.batch_runner = runner
    batch, queue, jobdef = _batch_queue(["python", "-m", "tests.local.handlers"])
    # WHEN an array job of 3 children is submitted
    parent = batch.submit_job(jobName="arr", jobQueue=queue, jobDefinition=jobdef,
                              arrayProperties={"size": 3})
    # THEN each child ran with its index, and the parent failed because child 1 did
    assert seen == ["0", "1", "2"]
    (described,) = batch.describe_jobs(jobs=[parent["jobId"]])["jobs"]
    assert described["status"] == "FAILED"
