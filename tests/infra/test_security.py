"""Least privilege and cdk-nag on the synthesized stack."""

from __future__ import annotations

from typing import Any

from tests.infra.conftest import of_type

# actions with no resource-level permissions, where "*" is the only resource possible
RESOURCELESS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords",
                "xray:GetSamplingRules", "xray:GetSamplingTargets",
                "batch:DescribeJobs", "batch:TerminateJob", "ecr:GetAuthorizationToken",
                "logs:CreateLogDelivery",
                "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
                "logs:ListLogDeliveries", "logs:PutResourcePolicy",
                "logs:DescribeResourcePolicies", "logs:DescribeLogGroups"}


def _statements(resources: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for policy in of_type(resources, "AWS::IAM::Policy").values():
        out.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return out


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_no_wildcard_action_and_star_resource_only_where_unavoidable(
        resources: dict[str, Any]) -> None:
    for st in _statements(resources):
        actions = _as_list(st["Action"])
        # Assert: never "*" or "service:*" as an action
        assert not any(a == "*" or a.endswith(":*") for a in actions), st
        if "*" in _as_list(st["Resource"]):
            assert set(actions) <= RESOURCELESS, st


def test_s3_object_access_is_limited_to_prefixes(resources: dict[str, Any]) -> None:
    allowed = ("uploads/*", "dropbox/*", "results/*", "shards/*", "warranties/*")
    for st in _statements(resources):
        if not any(str(a).startswith("s3:") for a in _as_list(st["Action"])):
            continue
        for res in _as_list(st["Resource"]):
            if isinstance(res, dict) and "Fn::Join" in res:
                tail = res["Fn::Join"][1][-1]
                # Assert: object ARNs end in one of the prefixes; bucket ARNs only for List
                assert str(tail).lstrip("/").endswith(allowed), st
            elif isinstance(res, dict) and "Fn::GetAtt" in res:
                # bucket-level: listing (prefix-conditioned) and CDK's notification handler
                assert all(a.startswith(("s3:List", "s3:GetBucket"))
                           or a == "s3:PutBucketNotification"
                           for a in _as_list(st["Action"])), st


def test_cdk_nag_aws_solutions_has_no_unaccepted_finding(synthesized: Any) -> None:
    from infra_cdk.nag import unaccepted_findings

    _template, stack = synthesized
    assert unaccepted_findings(stack.node.scope) == []


def test_every_acknowledgement_has_a_reason() -> None:
    from infra_cdk.nag import ACCEPTED_FINDINGS, STACK_WIDE

    assert all(len(reason) > 30 for reason in STACK_WIDE.values())
    assert all(len(reason) > 30 for _pattern, reason in ACCEPTED_FINDINGS)


def _role_statements(resources: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Function name -> the statements of the policies attached to its role."""
    by_role: dict[str, list[dict[str, Any]]] = {}
    for policy in of_type(resources, "AWS::IAM::Policy").values():
        for role in policy["Properties"].get("Roles", []):
            by_role.setdefault(role["Ref"], []).extend(
                policy["Properties"]["PolicyDocument"]["Statement"])
    out = {}
    for fn in of_type(resources, "AWS::Lambda::Function").values():
        name = fn["Properties"].get("FunctionName")
        if isinstance(name, str):
            out[name.removeprefix("synthos-dev-")] = by_role.get(
                fn["Properties"]["Role"]["Fn::GetAtt"][0], [])
    return out


def _object_patterns(statements: list[dict[str, Any]], action: str) -> set[str]:
    found = set()
    for st in statements:
        if action in _as_list(st["Action"]):
            for res in _as_list(st["Resource"]):
                if isinstance(res, dict) and "Fn::Join" in res:
                    found.add(str(res["Fn::Join"][1][-1]).lstrip("/"))
    return found


def test_each_function_gets_exactly_its_s3_prefixes(resources: dict[str, Any]) -> None:
    from infra_cdk.access import ACCESS

    # Setup/Run: the deployed statements of every function's role
    statements = _role_statements(resources)
    assert set(statements) == set(ACCESS) & set(statements)
    for name, stmts in statements.items():
        access = ACCESS[name]
        # Assert: object reads, writes and deletes are exactly the declared key patterns
        assert _object_patterns(stmts, "s3:GetObject") == set(access.s3_read), name
        assert _object_patterns(stmts, "s3:PutObject") == set(access.s3_write), name
        assert _object_patterns(stmts, "s3:DeleteObject") == set(access.s3_delete), name


def test_functions_reach_only_their_tables(resources: dict[str, Any]) -> None:
    from infra_cdk.access import ACCESS

    tables = {k: r["Properties"]["TableName"].removeprefix("synthos-dev-").replace("-", "_")
              for k, r in of_type(resources, "AWS::DynamoDB::Table").items()}
    for name, stmts in _role_statements(resources).items():
        reached = set()
        writes = set()
        for st in stmts:
            if not any(str(a).startswith("dynamodb:") for a in _as_list(st["Action"])):
                continue
            for res in _as_list(st["Resource"]):
                if isinstance(res, dict) and "Fn::GetAtt" in res:
                    reached.add(tables[res["Fn::GetAtt"][0]])
                    if "dynamodb:PutItem" in _as_list(st["Action"]):
                        writes.add(tables[res["Fn::GetAtt"][0]])
        access = ACCESS[name]
        # Assert: exactly the declared tables; writes only where declared
        assert reached == set(access.read_tables) | set(access.write_tables), name
        assert writes == set(access.write_tables), name
