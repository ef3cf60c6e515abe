"""The data bucket (and its access-log bucket) and the DynamoDB tables.

Tables come from :func:`synthos.aws.tables.table_specs` (the one source of keys, indexes and
TTL that the local stack also uses), named by :meth:`Settings.table_name` with the stage prefix.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra_cdk.config import StageConfig
from synthos.aws.settings import Settings
from synthos.aws.tables import table_specs

SHARD_STATE_DAYS = 7          # partial states of large validations (temporary)
INCOMPLETE_UPLOAD_DAYS = 2    # multipart uploads never completed
NONCURRENT_VERSION_DAYS = 30  # overwritten or deleted object versions

_TYPES = {"S": ddb.AttributeType.STRING, "N": ddb.AttributeType.NUMBER}


class Storage(Construct):
    """``bucket``: the data bucket; ``tables``: table key (``"jobs"``) -> Table."""

    def __init__(self, scope: Construct, id: str, *, config: StageConfig) -> None:
        super().__init__(scope, id)
        self.access_logs = s3.Bucket(
            self, "AccessLogs", encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL, enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            removal_policy=config.removal_policy,
            auto_delete_objects=False,
            lifecycle_rules=[s3.LifecycleRule(id="expire-logs", expiration=Duration.days(365))])
        self.bucket = s3.Bucket(
            self, "Data", encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL, enforce_ssl=True,
            versioned=True, event_bridge_enabled=True,
            server_access_logs_bucket=self.access_logs, server_access_logs_prefix="data/",
            removal_policy=config.removal_policy,
            cors=_cors(config), lifecycle_rules=_lifecycle())
        settings = Settings(stage=config.stage, table_prefix=config.prefix)
        self.tables: dict[str, ddb.Table] = {
            spec["table"]: _table(self, spec, settings.table_name(spec["table"]), config)
            for spec in table_specs()}


def _lifecycle() -> list[s3.LifecycleRule]:
    return [
        s3.LifecycleRule(id="abort-incomplete-uploads",
                         abort_incomplete_multipart_upload_after=Duration.days(
                             INCOMPLETE_UPLOAD_DAYS)),
        s3.LifecycleRule(id="expire-shard-states", prefix="shards/",
                         expiration=Duration.days(SHARD_STATE_DAYS),
                         noncurrent_version_expiration=Duration.days(1)),
        s3.LifecycleRule(id="expire-noncurrent-versions",
                         noncurrent_version_expiration=Duration.days(NONCURRENT_VERSION_DAYS)),
    ]


def _cors(config: StageConfig) -> list[s3.CorsRule] | None:
    """Browsers PUT parts to presigned URLs; the ETag header must be readable to complete."""
    if not config.cors_origins:
        return None
    return [s3.CorsRule(allowed_methods=[s3.HttpMethods.PUT, s3.HttpMethods.GET],
                        allowed_origins=list(config.cors_origins), allowed_headers=["*"],
                        exposed_headers=["ETag"], max_age=3600)]


def _attribute(spec: dict[str, Any], name: str) -> ddb.Attribute:
    return ddb.Attribute(name=name, type=_TYPES[spec["types"][name]])


def _table(scope: Construct, spec: dict[str, Any], name: str,
           config: StageConfig) -> ddb.Table:
    logical = "".join(part.capitalize() for part in spec["table"].split("_")) + "Table"
    table = ddb.Table(
        scope, logical, table_name=name,
        partition_key=_attribute(spec, spec["hash_key"]),
        sort_key=_attribute(spec, spec["range_key"]) if spec["range_key"] else None,
        billing_mode=ddb.BillingMode.PAY_PER_REQUEST,
        encryption=ddb.TableEncryption.AWS_MANAGED,
        point_in_time_recovery_specification=ddb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True),
        time_to_live_attribute=spec["ttl"],
        removal_policy=config.removal_policy)
    for index in spec["indexes"]:
        table.add_global_secondary_index(
            index_name=index["name"], partition_key=_attribute(spec, index["hash_key"]),
            sort_key=_attribute(spec, index["range_key"]) if index["range_key"] else None,
            projection_type=ddb.ProjectionType.ALL)
    return table
