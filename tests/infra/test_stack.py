"""CDK template assertions on the stack synthesized once per session (stage dev)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match

from synthos.aws.settings import Settings
from synthos.aws.tables import table_specs
from tests.infra.conftest import of_type

ROOT = Path(__file__).resolve().parents[2]
GPU_DOCKERFILE = ROOT / "gpu_batch" / "Dockerfile"


def test_data_bucket_is_encrypted_private_versioned_and_eventbridge_enabled(template: Any) -> None:
    # Setup/Run: the synthesized template. Assert: the data bucket's protections
    template.has_resource_properties("AWS::S3::Bucket", {
        "BucketEncryption": {"ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
        "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                           "IgnorePublicAcls": True,
                                           "RestrictPublicBuckets": True},
        "VersioningConfiguration": {"Status": "Enabled"},
        "LifecycleConfiguration": {"Rules": Match.array_with([
            Match.object_like({"AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2},
                               "Status": "Enabled"}),
            Match.object_like({"Prefix": "shards/", "ExpirationInDays": 7})])},
    })
    # EventBridge delivery is switched on by CDK's bucket-notifications custom resource
    template.has_resource_properties("Custom::S3BucketNotifications", {
        "NotificationConfiguration": {"EventBridgeConfiguration": {}}})


def test_every_bucket_denies_plain_http(resources: dict[str, Any]) -> None:
    # Setup: buckets and bucket policies. Run: find the TLS deny per bucket
    buckets = of_type(resources, "AWS::S3::Bucket")
    policies = of_type(resources, "AWS::S3::BucketPolicy").values()
    denied = set()
    for policy in policies:
        for st in policy["Properties"]["PolicyDocument"]["Statement"]:
            if st["Effect"] == "Deny" and st.get("Condition") == {
                    "Bool": {"aws:SecureTransport": "false"}}:
                denied.add(policy["Properties"]["Bucket"]["Ref"])
    # Assert
    assert denied == set(buckets)


def test_tables_follow_table_specs(resources: dict[str, Any]) -> None:
    # Setup: what the library says; Run: the template's tables by name
    settings = Settings(stage="dev", table_prefix="synthos-dev")
    tables = {r["Properties"]["TableName"]: r["Properties"]
              for r in of_type(resources, "AWS::DynamoDB::Table").values()}
    assert len(tables) == len(table_specs())
    for spec in table_specs():
        props = tables[settings.table_name(spec["table"])]
        keys = {k["KeyType"]: k["AttributeName"] for k in props["KeySchema"]}
        # Assert: keys, indexes, TTL, PITR, on-demand
        assert keys["HASH"] == spec["hash_key"]
        assert keys.get("RANGE") == spec["range_key"]
        gsis = {g["IndexName"]: {k["KeyType"]: k["AttributeName"] for k in g["KeySchema"]}
                for g in props.get("GlobalSecondaryIndexes", [])}
        assert gsis == {i["name"]: {"HASH": i["hash_key"], **(
            {"RANGE": i["range_key"]} if i["range_key"] else {})} for i in spec["indexes"]}
        ttl = props.get("TimeToLiveSpecification")
        assert (ttl["AttributeName"] if ttl else None) == spec["ttl"]
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        assert props["BillingMode"] == "PAY_PER_REQUEST"


def test_functions_cover_definition_and_are_zip_with_their_two_layers(
        resources: dict[str, Any]) -> None:
    from infra_cdk.definition import FUNCTIONS
    from infra_cdk.packaging import layers_of

    # Setup/Run: functions by name, layer versions by logical id
    fns = {r["Properties"]["FunctionName"]: r["Properties"]
           for r in of_type(resources, "AWS::Lambda::Function").values()
           if isinstance(r["Properties"].get("FunctionName"), str)}
    layer_ids = {kind: next(k for k in of_type(resources, "AWS::Lambda::LayerVersion")
                            if k.startswith(f"Functions{kind.capitalize()}Layer"))
                 for kind in ("synthos", "base", "numeric")}
    # Assert: one per FUNCTIONS entry plus the API, every one a zip function on python3.12
    # with its handler and exactly the two layers packaging.layers_of names
    assert set(fns) == {f"synthos-dev-{n}" for n in [*FUNCTIONS, "Api"]}
    for name in [*FUNCTIONS, "Api"]:
        props = fns[f"synthos-dev-{name}"]
        assert props["TracingConfig"] == {"Mode": "Active"}
        env = props["Environment"]["Variables"]
        assert env["SYNTHOS_TABLE_PREFIX"] == "synthos-dev"
        assert {"SYNTHOS_BUCKET", "SYNTHOS_JWT_SECRET_ID", "SYNTHOS_STATE_MACHINE_ARN",
                "SYNTHOS_SIGNING_KEY_SECRET_ID", "SYNTHOS_STAGE"} <= set(env)
        assert "PackageType" not in props and props["Runtime"] == "python3.12"
        assert props["Handler"] == ("app.app" if name == "Api" else FUNCTIONS[name])
        assert props["Layers"] == [{"Ref": layer_ids[kind]} for kind in layers_of(name)], name
    assert layers_of("Api") == layers_of("RunValidation") == ("synthos", "numeric")
    assert layers_of("CompleteJob") == ("synthos", "base")


def test_rest_api_has_throttling_usage_plan_and_access_logs(template: Any) -> None:
    # Assert: stage throttling and access logs, and a usage plan with throttle and quota
    template.has_resource_properties("AWS::ApiGateway::Stage", {
        "StageName": "api", "TracingEnabled": True,
        "AccessLogSetting": Match.object_like({"DestinationArn": Match.any_value()}),
        "MethodSettings": Match.array_with([Match.object_like(
            {"ThrottlingRateLimit": 20, "ThrottlingBurstLimit": 40})])})
    template.has_resource_properties("AWS::ApiGateway::UsagePlan", {
        "Throttle": {"RateLimit": 20, "BurstLimit": 40},
        "Quota": {"Limit": 10_000, "Period": "DAY"}})


def test_websocket_routes_go_to_ws_functions(resources: dict[str, Any]) -> None:
    from infra_cdk.definition import FUNCTIONS

    # Run: routes by key, and the integrations' target functions
    routes = {r["Properties"]["RouteKey"]: r["Properties"] for r in
              of_type(resources, "AWS::ApiGatewayV2::Route").values()}
    uris = json.dumps([r["Properties"]["IntegrationUri"] for r in
                       of_type(resources, "AWS::ApiGatewayV2::Integration").values()])
    # Assert: connect (authorized when the authorizer exists) and disconnect
    assert set(routes) == {"$connect", "$disconnect"}
    assert "FunctionsWsConnect" in uris and "FunctionsWsDisconnect" in uris
    (stage,) = of_type(resources, "AWS::ApiGatewayV2::Stage").values()
    assert stage["Properties"]["DefaultRouteSettings"] == {"ThrottlingBurstLimit": 40,
                                                           "ThrottlingRateLimit": 20}
    assert "DestinationArn" in stage["Properties"]["AccessLogSettings"]
    if "WsAuthorize" in FUNCTIONS:
        assert routes["$connect"]["AuthorizationType"] == "CUSTOM"
        (authorizer,) = of_type(resources, "AWS::ApiGatewayV2::Authorizer").values()
        assert authorizer["Properties"]["IdentitySource"] == [
            "route.request.querystring.token"]


def test_batch_spot_first_then_on_demand_with_gpu_ami(resources: dict[str, Any]) -> None:
    # Setup: compute environments by logical id
    envs = of_type(resources, "AWS::Batch::ComputeEnvironment")
    kinds = {k: r["Properties"]["ComputeResources"]["Type"] for k, r in envs.items()}
    for r in envs.values():
        res = r["Properties"]["ComputeResources"]
        # Assert: NVIDIA AMI and GPU instance types only
        assert res["Ec2Configuration"] == [{"ImageType": "ECS_AL2_NVIDIA"}]
        assert all(t.startswith(("g5.", "g6.", "p4d.")) for t in res["InstanceTypes"])
    (queue,) = of_type(resources, "AWS::Batch::JobQueue").values()
    order = sorted(queue["Properties"]["ComputeEnvironmentOrder"], key=lambda o: o["Order"])
    refs = [o["ComputeEnvironment"].get("Ref") or o["ComputeEnvironment"]["Fn::GetAtt"][0]
            for o in order]
    assert [kinds[r] for r in refs] == ["SPOT", "EC2"]


def test_gpu_job_definition_has_gpu_retries_and_timeout(resources: dict[str, Any]) -> None:
    from infra_cdk.components.batch import container_command
    from infra_cdk.definition import SHARD_COMMAND

    (job,) = of_type(resources, "AWS::Batch::JobDefinition").values()
    props = job["Properties"]
    container = props["ContainerProperties"]
    # Assert: one GPU, the shard command, retries on spot/host faults only, a timeout
    assert {"Type": "GPU", "Value": "1"} in container["ResourceRequirements"]
    assert container["Command"] == container_command(SHARD_COMMAND, GPU_DOCKERFILE)
    rules = props["RetryStrategy"]["EvaluateOnExit"]
    assert props["RetryStrategy"]["Attempts"] == 3
    assert {"Action": "RETRY", "OnStatusReason": "Host EC2*"} in rules
    assert {"Action": "RETRY", "OnReason": "CannotPullContainerError:*"} in rules
    assert rules[-1] == {"Action": "EXIT", "OnExitCode": "*"}
    assert props["Timeout"] == {"AttemptDurationSeconds": 3600}


def test_state_machine_has_every_state_logging_and_tracing(resources: dict[str, Any]) -> None:
    from infra_cdk.definition import PLACEHOLDERS, build_definition

    (machine,) = of_type(resources, "AWS::StepFunctions::StateMachine").values()
    props = machine["Properties"]
    body = json.loads(props["DefinitionString"])
    # Assert: the states, the substitutions, logging and tracing
    assert set(body["States"]) == set(build_definition()["States"])
    assert set(props["DefinitionSubstitutions"]) == set(PLACEHOLDERS)
    assert props["TracingConfiguration"] == {"Enabled": True}
    assert props["LoggingConfiguration"]["Level"] == "ALL"


def test_synthesized_definition_is_the_rendered_definition() -> None:
    from infra_cdk.definition import PLACEHOLDERS, render_definition
    from infra_cdk.template import synthesized_definition

    # Run/Assert: with placeholders visible, and filled as CloudFormation fills them
    identity = {p: "${" + p + "}" for p in PLACEHOLDERS}
    assert synthesized_definition() == render_definition(identity)
    arns = {p: f"arn:aws:test:::{p}" for p in PLACEHOLDERS}
    assert synthesized_definition(arns) == render_definition(arns)
    with pytest.raises(KeyError, match="DataBucket"):
        synthesized_definition({p: "x" for p in PLACEHOLDERS if p != "DataBucket"})


def test_upload_rule_and_schedules(resources: dict[str, Any]) -> None:
    from infra_cdk.definition import SCHEDULES

    rules = of_type(resources, "AWS::Events::Rule").values()
    patterns = [r["Properties"]["EventPattern"] for r in rules
                if "EventPattern" in r["Properties"]]
    (trigger,) = patterns
    assert trigger["detail"]["object"]["key"] == [{"prefix": "uploads/"}, {"prefix": "dropbox/"}]
    schedules = {r["Properties"]["Name"]: r["Properties"]["ScheduleExpression"]
                 for r in rules if "ScheduleExpression" in r["Properties"]}
    assert schedules == {f"synthos-dev-{n}": s["expression"] for n, s in SCHEDULES.items()}
    for rule in rules:  # every target has a dead-letter queue
        for target in rule["Properties"]["Targets"]:
            assert "DeadLetterConfig" in target


def test_alarms_and_dashboard(resources: dict[str, Any]) -> None:
    from infra_cdk.definition import FUNCTIONS

    alarms = of_type(resources, "AWS::CloudWatch::Alarm").values()
    metrics = [a["Properties"].get("MetricName") for a in alarms]
    # Assert: failed executions, one Lambda error alarm per function, both DLQs
    assert metrics.count("ExecutionsFailed") == 1
    assert metrics.count("Errors") == len(FUNCTIONS) + 1
    assert metrics.count("ApproximateNumberOfMessagesVisible") == 2
    (board,) = of_type(resources, "AWS::CloudWatch::Dashboard").values()
    text = json.dumps(board["Properties"]["DashboardBody"])
    for title in ("API latency", "Validations by state", "Shard throughput",
                  "Batch queue depth"):
        assert title in text


def test_secrets_are_generated_not_in_code(resources: dict[str, Any]) -> None:
    secrets = of_type(resources, "AWS::SecretsManager::Secret").values()
    assert len(secrets) == 2
    for secret in secrets:
        assert "GenerateSecretString" in secret["Properties"]
        assert "SecretString" not in secret["Properties"]


def test_container_command_matches_the_image_entrypoint(tmp_path: Path) -> None:
    from infra_cdk.components.batch import container_command

    # Setup: one image with an ENTRYPOINT that runs the worker, one without
    command = ("python", "-m", "synthos.aws.batch_worker", "--manifest", "Ref::m")
    with_entrypoint = tmp_path / "a.Dockerfile"
    with_entrypoint.write_text('FROM x\nENTRYPOINT ["python", "/app/entrypoint.py"]\n')
    plain = tmp_path / "b.Dockerfile"
    plain.write_text("FROM x\nCMD [\"python\"]\n")
    # Run/Assert: arguments only after an ENTRYPOINT; the full command otherwise
    assert container_command(command, with_entrypoint) == ["--manifest", "Ref::m"]
    assert container_command(command, plain) == list(command)
