"""The pipeline in moto: the state machine definition taken from the synthesized CDK template
(``infra_cdk.template.synthesized_definition``, the session's one synth), executed by moto's
interpreter, with Lambda tasks dispatched to ``functions/`` and Batch shards run on the CPU (the
moto glue)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).resolve().parents[2] / "layers" / "synthos" / "data"
FAST_OPTIONS = {"replicates": 4, "sample_rows": 2000}


@dataclass
class Pipeline:
    settings: Any
    glue: Any
    queue_url: str  # SQS queue receiving every pipeline EventBridge event
    substitutions: dict[str, str]  # what deploy filled the definition's placeholders with

    def s3(self) -> Any:
        import boto3

        return boto3.client("s3", region_name=self.settings.region)

    def put(self, key: str, body: bytes) -> str:
        return str(self.s3().put_object(Bucket=self.settings.bucket, Key=key,
                                        Body=body)["VersionId"])

    def keys(self, prefix: str) -> list[str]:
        out = self.s3().list_objects_v2(Bucket=self.settings.bucket, Prefix=prefix)
        return sorted(o["Key"] for o in out.get("Contents", []))

    def events(self) -> list[dict[str, Any]]:
        import boto3

        sqs = boto3.client("sqs", region_name=self.settings.region)
        got: list[dict[str, Any]] = []
        while True:
            msgs = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
            if not msgs.get("Messages"):
                return got
            for m in msgs["Messages"]:
                got.append(json.loads(m["Body"]))
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])

    def wait_all(self, timeout_s: float = 60.0) -> list[dict[str, Any]]:
        """Wait for every execution started so far; their final descriptions."""
        from synthos.local.pipeline_stack import executions, wait_for

        return [wait_for(self.settings, e["executionArn"], timeout_s)
                for e in executions(self.settings)]


def _event_sink(settings: Any) -> str:
    import boto3

    sqs = boto3.client("sqs", region_name=settings.region)
    url = sqs.create_queue(QueueName="pipeline-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"]
    events = boto3.client("events", region_name=settings.region)
    events.put_rule(Name="pipeline-events", EventPattern=json.dumps(
        {"source": ["synthos.pipeline"]}))
    events.put_targets(Rule="pipeline-events", Targets=[{"Id": "sink", "Arn": arn}])
    return str(url)


@pytest.fixture(scope="session")
def synthesized_asl(synthesized_stack: Any) -> str:
    """The ``DefinitionString`` of the synthesized template, ``${...}`` placeholders in place
    (``deploy`` fills them as CloudFormation does). Its retries wait as deployed (2 s,
    doubling)."""
    from infra_cdk.template import synthesized_definition

    return synthesized_definition()


@pytest.fixture
def pipeline(settings: Any, monkeypatch: pytest.MonkeyPatch,
             synthesized_asl: str) -> Iterator[Pipeline]:
    from moto import mock_aws

    from synthos.aws.clients import reset_clients
    from synthos.local import moto_glue
    from synthos.local.pipeline_stack import deploy

    with mock_aws(config=moto_glue.MOTO_CONFIG):
        reset_clients()
        glue = moto_glue.install()
        try:
            stack = deploy(settings.model_copy(update={"small_max_bytes": 1 << 20}),
                           definition=synthesized_asl)
            for name, value in stack.settings.to_env().items():
                monkeypatch.setenv(name, value)
            monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
            monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "SynthosTest")
            yield Pipeline(stack.settings, glue, _event_sink(stack.settings), stack.substitutions)
        finally:
            moto_glue.uninstall()
            reset_clients()


@pytest.fixture
def large(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> Pipeline:
    """Files over 20 kB take the large path, in shards of about one row group."""
    monkeypatch.setenv("SYNTHOS_SMALL_MAX_BYTES", "20000")
    monkeypatch.setenv("SYNTHOS_SHARD_TARGET_BYTES", "4000")
    return pipeline


def seed_dataset(settings: Any, tenant: str, dataset_id: str, filename: str, *,
                 role: str = "synthetic", status: str = "pending_upload",
                 auto_validation: dict[str, Any] | None = None, **fields: Any) -> Any:
    """A dataset record as the API creates it (POST /datasets/upload)."""
    from synthos.aws.keys import upload_key
    from synthos.aws.tables import DatasetModel, bind

    bind(settings)
    item = DatasetModel(tenant, dataset_id, name=filename, role=role,
                        format=filename.rsplit(".", 1)[-1], size_bytes=0,
                        s3_key=upload_key(tenant, dataset_id, filename), status=status,
                        auto_validation=auto_validation, **fields)
    item.save()
    return item


EVENTS = Path(__file__).resolve().parents[2] / "events"


def load_event(name: str) -> dict[str, Any]:
    """A sample event from ``events/`` (a fresh copy)."""
    return json.loads((EVENTS / f"{name}.json").read_text())


def object_created(pipeline: Pipeline, key: str, version: str) -> dict[str, Any]:
    """The sample S3 Object Created event, pointed at one object version of the test bucket."""
    event = load_event("s3_object_created_upload")
    event["detail"]["bucket"]["name"] = pipeline.settings.bucket
    event["detail"]["object"].update({"key": key, "version-id": version})
    return event


def start(pipeline: Pipeline, name: str, payload: dict[str, Any]) -> str:
    import boto3

    sfn = boto3.client("stepfunctions", region_name=pipeline.settings.region)
    return str(sfn.start_execution(stateMachineArn=pipeline.settings.state_machine_arn,
                                   name=name, input=json.dumps(payload))["executionArn"])
