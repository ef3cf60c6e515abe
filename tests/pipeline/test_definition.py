"""The state machine definition and the handler registry, without AWS."""

from __future__ import annotations

import importlib
import json

import pytest
from infra_cdk import definition

from synthos.pipeline.fail import reason_for
from tests.pipeline.conftest import load_event


def test_every_placeholder_is_used_and_substituted() -> None:
    text = json.dumps(definition.build_definition())
    for name in definition.PLACEHOLDERS:
        assert "${" + name + "}" in text
    rendered = definition.render_definition({p: f"VALUE-{p}" for p in definition.PLACEHOLDERS})
    assert "${" not in rendered
    with pytest.raises(KeyError, match="DataBucket"):
        definition.render_definition({p: "x" for p in definition.PLACEHOLDERS[:-1]})


def test_every_state_reaches_an_end_and_every_task_is_caught() -> None:
    states = definition.build_definition()["States"]
    targets = {s.get("Next") for s in states.values()} | {
        c["Next"] for s in states.values() for c in s.get("Choices", []) + s.get("Catch", [])} | {
        s.get("Default") for s in states.values()}
    assert set(states) - {"ClaimJob"} <= targets  # nothing unreachable
    for name, state in states.items():
        if state["Type"] in ("Task", "Map"):
            assert any("States.ALL" in c["ErrorEquals"] for c in state["Catch"]), name
    assert states["FailJob"]["Next"] == "Failed" and states["Failed"]["Type"] == "Fail"


def test_functions_import_and_schedules_point_at_them() -> None:
    for logical, path in definition.FUNCTIONS.items():
        module, _, attr = path.rpartition(".")
        assert callable(getattr(importlib.import_module(module), attr)), logical
    assert set(definition.TASK_FUNCTIONS) <= set(definition.FUNCTIONS)
    for rule, spec in definition.SCHEDULES.items():
        assert spec["function"] in definition.FUNCTIONS, rule
        assert spec["expression"].startswith(("rate(", "cron(")), rule


def test_shard_command_passes_both_parameters() -> None:
    command = definition.SHARD_COMMAND
    assert command[command.index("--manifest") + 1] == "Ref::manifest_uri"
    assert command[command.index("--index") + 1] == "Ref::index"


def test_reason_for_named_library_error_is_its_message() -> None:
    error = load_event("sfn_task_fail_job_lambda_error")["error"]
    assert reason_for(error) == ("synthetic.parquet is corrupt or truncated (parquet): "
                                 "Parquet magic bytes not found in footer")


def test_reason_for_failed_batch_shard_names_the_shard() -> None:
    error = load_event("sfn_task_fail_job_batch_error")["error"]
    assert reason_for(error) == "shard 3 failed after a retry: Essential container in task exited"


def test_reason_for_unexpected_errors_hides_internals() -> None:
    cause = json.dumps({"errorType": "KeyError", "errorMessage": "'secret_table_name'"})
    reason = reason_for({"Error": "KeyError", "Cause": cause})
    assert "secret_table_name" not in reason and "KeyError" in reason
    assert "shards failed" in reason_for({"Error": "States.ExceedToleratedFailureThreshold",
                                          "Cause": "1 of 4 items failed"})
    assert reason_for(None).startswith("the validation stopped")


def test_the_pipeline_runs_the_definition_of_the_synthesized_template(pipeline) -> None:
    # GIVEN the moto pipeline every test of this suite runs
    import boto3
    from infra_cdk.template import synthesized_definition

    sfn = boto3.client("stepfunctions", region_name=pipeline.settings.region)
    # WHEN its state machine's definition is read back
    deployed = sfn.describe_state_machine(
        stateMachineArn=pipeline.settings.state_machine_arn)["definition"]
    # THEN it is the synthesized template's DefinitionString, filled the way CloudFormation
    # fills DefinitionSubstitutions (retries and concurrency as deployed, not test values)
    assert deployed == synthesized_definition(pipeline.substitutions)
    states = json.loads(deployed)["States"]
    assert states["ShardMap"]["MaxConcurrency"] == 500
    assert states["ClaimJob"]["Retry"][0]["IntervalSeconds"] == 2
