"""What each function may touch: least privilege as data, applied by :func:`grant`.

S3 access is granted on key patterns (``uploads/*``), never on the whole bucket; every key
below a prefix starts with the tenant id (``synthos.aws.keys``), and the code derives that
tenant from the authenticated principal or the job record, never from the request body.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3

from infra_cdk.components.storage import Storage

ALL_TABLES = ("users", "api_keys", "tokens", "datasets", "jobs", "warranties", "claims",
              "rate_limits", "connections")


@dataclass(frozen=True)
class Access:
    read_tables: tuple[str, ...] = ()
    write_tables: tuple[str, ...] = ()   # read and write
    s3_read: tuple[str, ...] = ()        # key patterns
    s3_write: tuple[str, ...] = ()
    s3_delete: tuple[str, ...] = ()
    s3_list: tuple[str, ...] = ()        # prefixes a ListBucket may name
    start_executions: bool = False
    stop_executions: bool = False
    websocket: bool = False
    put_events: bool = False
    jwt_secret: bool = False
    signing_key: bool = False


_TASK = ("jobs", "idempotency")
_DATA = ("uploads/*", "dropbox/*")  # datasets and references
# synthos.pipeline.progress.move/announce: an EventBridge event and a WebSocket push to the
# job's subscribers (gone connections are deleted: connections is written)
_NOTIFY = dict(websocket=True, put_events=True)


def _step(*tables: str, **kwargs: Any) -> Access:
    """A job step: the jobs and idempotency tables, ``tables``, and progress notification."""
    return Access(write_tables=(*_TASK, "connections", *tables), **_NOTIFY, **kwargs)


# Each entry follows what the handler's library code calls (synthos.pipeline.*, synthos.api.*):
ACCESS: dict[str, Access] = {
    # claim: the object's metadata, the drop folder's newest reference (a prefix listing)
    "ClaimJob": Access(write_tables=(*_TASK, "datasets"), s3_read=_DATA,
                       s3_list=("dropbox/",)),
    "InspectDataset": _step("datasets", s3_read=_DATA, s3_write=("shards/*",)),
    "RunValidation": _step(read_tables=("datasets",), s3_read=_DATA,
                           s3_write=("results/*",)),
    "RecordShard": _step(s3_read=("shards/*",)),
    # the hash-partitioned reduce: plan (job -> reducing), one range of every state -> a result
    "PlanReduce": _step(s3_read=("shards/*",)),
    "ReduceRange": Access(s3_read=("shards/*",), s3_write=("shards/*",)),
    "ReduceShards": _step(read_tables=("datasets",), s3_read=(*_DATA, "shards/*"),
                          s3_write=("results/*",)),
    "RenderReport": _step(s3_read=("results/*",), s3_write=("results/*",)),
    # complete: the dataset's last risk level; drop-folder results copied next to the file
    "CompleteJob": _step("datasets", s3_read=("results/*",), s3_write=("dropbox/*",)),
    "FailJob": _step("datasets"),
    "SweepStuckJobs": _step("datasets", start_executions=True, stop_executions=True),
    "ExpireWarranties": Access(write_tables=("warranties", "idempotency")),
    "RevalidateMonitored": Access(write_tables=(*_TASK, "datasets"), start_executions=True),
    "CleanupUploads": Access(write_tables=("datasets", "idempotency"), s3_read=("uploads/*",),
                             s3_write=("uploads/*",), s3_delete=("uploads/*",),
                             s3_list=("uploads/",)),
    # $connect trusts the tenant the authorizer put in the request context
    "WsConnect": Access(write_tables=("connections",), read_tables=("jobs",)),
    "WsDisconnect": Access(write_tables=("connections",)),
    # the $connect authorizer: verifies the token (records an API key's last use)
    "WsAuthorize": Access(write_tables=("api_keys",), read_tables=("tokens", "users"),
                          jwt_secret=True),
    # the REST API: accounts, datasets and validations of the caller's tenant; it presigns
    # PUTs only under uploads/{tenant}/ and GETs under results/ and warranties/ of the tenant;
    # deleting a dataset lists and deletes every version under its upload prefix
    "Api": Access(write_tables=tuple(t for t in ALL_TABLES if t != "connections"),
                  s3_read=("uploads/*", "results/*", "warranties/*", "dropbox/*"),
                  s3_write=("uploads/*", "warranties/*"), s3_delete=("uploads/*",),
                  s3_list=("uploads/",), start_executions=True, stop_executions=True,
                  jwt_secret=True, signing_key=True),
}


@dataclass(frozen=True)
class Targets:
    """The resources the grants point at."""

    storage: Storage
    state_machine_arn: str
    execution_arn_pattern: str
    websocket_arn: str | None
    event_bus_arn: str
    jwt_secret: object
    signing_key: object


def object_statement(bucket: s3.IBucket, actions: tuple[str, ...],
                     patterns: tuple[str, ...]) -> iam.PolicyStatement:
    """Object actions on key patterns only: no bucket-level List/GetBucket, unlike CDK's
    ``bucket.grant_read`` (which would let a function list every tenant's keys)."""
    return iam.PolicyStatement(actions=list(actions),
                               resources=[bucket.arn_for_objects(p) for p in patterns])


def grant(fn: lambda_.IFunction, access: Access, to: Targets) -> None:
    for name in access.read_tables:
        to.storage.tables[name].grant_read_data(fn)
    for name in access.write_tables:
        to.storage.tables[name].grant_read_write_data(fn)
    objects = {
        ("s3:GetObject", "s3:GetObjectVersion"): access.s3_read,
        ("s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"):
            access.s3_write,
        ("s3:DeleteObject", "s3:DeleteObjectVersion"): access.s3_delete,
    }
    for actions, patterns in objects.items():
        if patterns:
            fn.add_to_role_policy(object_statement(to.storage.bucket, actions, patterns))
    bucket = to.storage.bucket
    if access.s3_list:
        fn.add_to_role_policy(iam.PolicyStatement(
            actions=["s3:ListBucket", "s3:ListBucketVersions",
                     "s3:ListBucketMultipartUploads"],
            resources=[bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": [f"{p}*" for p in access.s3_list]}}))
    _grant_services(fn, access, to)


def _grant_services(fn: lambda_.IFunction, access: Access, to: Targets) -> None:
    if access.start_executions:
        fn.add_to_role_policy(iam.PolicyStatement(
            actions=["states:StartExecution"], resources=[to.state_machine_arn]))
    if access.stop_executions:
        fn.add_to_role_policy(iam.PolicyStatement(
            actions=["states:StopExecution", "states:DescribeExecution"],
            resources=[to.execution_arn_pattern]))
    if access.websocket and to.websocket_arn:
        fn.add_to_role_policy(iam.PolicyStatement(
            actions=["execute-api:ManageConnections"], resources=[to.websocket_arn]))
    if access.put_events:
        fn.add_to_role_policy(iam.PolicyStatement(
            actions=["events:PutEvents"], resources=[to.event_bus_arn]))
    if access.jwt_secret:
        to.jwt_secret.grant_read(fn)  # type: ignore[attr-defined]
    if access.signing_key:
        to.signing_key.grant_read(fn)  # type: ignore[attr-defined]
