"""DynamoDB records (pynamodb). Keys and indexes are fixed here; CDK creates the same tables
(``infra_cdk`` reads :data:`TABLE_SPECS`) and the local stack creates them with
:func:`create_tables`. Every tenant-owned record has ``tenant_id`` as its partition key, so a
query can never cross tenants. A tenant-facing index query names the tenant in its key
condition (``by_dataset``, ``by_reference``, ``by_validation``: ``tenant_id`` is their sort key);
the schedules' sparse indexes (``by_pending_upload``, ``by_monitored``) are cross-tenant on
purpose. CloudFormation adds one GSI per table per update: see docs/deploy.md.

Call :func:`bind` once at the edge with the settings; it points every model at its table.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from synthos.aws.settings import Settings


def utcnow() -> datetime:
    return datetime.now(UTC)


def lost_condition(exc: Exception) -> bool:
    """True when a pynamodb write failed only because its condition expression was false
    (another writer won the race, or the item is not in the state the write requires)."""
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


class _Base(Model):
    class Meta:
        abstract = True
        table_name = "unbound"
        region = "us-east-1"


# --- accounts -------------------------------------------------------------------------------
class UserModel(_Base):
    """A login. Registering creates a tenant with its first (admin) user."""

    class Meta(_Base.Meta):
        table_key = "users"

    email = UnicodeAttribute(hash_key=True)  # lower-cased
    user_id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    password_hash = UnicodeAttribute()
    plan = UnicodeAttribute(default="free")
    scopes = ListAttribute(of=UnicodeAttribute, default=lambda: ["read", "write", "admin"])
    created_at = UTCDateTimeAttribute(default=utcnow)


class ApiKeyByHash(GlobalSecondaryIndex["ApiKeyModel"]):
    class Meta:
        index_name = "by_hash"
        projection = AllProjection()

    key_hash = UnicodeAttribute(hash_key=True)


class ApiKeyModel(_Base):
    """An API key: only its SHA-256 is stored; the key itself is shown once."""

    class Meta(_Base.Meta):
        table_key = "api_keys"

    tenant_id = UnicodeAttribute(hash_key=True)
    key_id = UnicodeAttribute(range_key=True)
    key_hash = UnicodeAttribute()
    by_hash = ApiKeyByHash()
    user_id = UnicodeAttribute()
    name = UnicodeAttribute()
    prefix = UnicodeAttribute()  # first characters, for display
    scopes = ListAttribute(of=UnicodeAttribute)
    created_at = UTCDateTimeAttribute(default=utcnow)
    revoked_at = UTCDateTimeAttribute(null=True)
    last_used_at = UTCDateTimeAttribute(null=True)


class TokenByFamily(GlobalSecondaryIndex["TokenModel"]):
    class Meta:
        index_name = "by_family"
        projection = AllProjection()

    family_id = UnicodeAttribute(hash_key=True)


class TokenModel(_Base):
    """Refresh tokens (one item per issued token, grouped in rotation families) and revoked
    access-token ids. Items expire through DynamoDB TTL on ``expires``."""

    class Meta(_Base.Meta):
        table_key = "tokens"

    token_id = UnicodeAttribute(hash_key=True)  # jti
    kind = UnicodeAttribute()  # "refresh" | "revoked_access"
    family_id = UnicodeAttribute(null=True)
    by_family = TokenByFamily()
    user_id = UnicodeAttribute(null=True)
    tenant_id = UnicodeAttribute(null=True)
    used = BooleanAttribute(default=False)  # rotated: presenting it again is reuse
    revoked = BooleanAttribute(default=False)
    expires = TTLAttribute()


class RateLimitModel(_Base):
    """Token buckets and monthly quota counters, updated with conditional writes."""

    class Meta(_Base.Meta):
        table_key = "rate_limits"

    # "rate#{principal}" or "quota#{tenant}#{kind}#{yyyy-mm}"
    bucket_id = UnicodeAttribute(hash_key=True)
    tokens = NumberAttribute(default=0)
    updated = NumberAttribute(default=0)  # epoch seconds (float)
    used = NumberAttribute(default=0)  # quota counter
    plan = UnicodeAttribute(null=True)  # on "plan#{tenant}" items: the tenant's plan
    expires = TTLAttribute(null=True)


# --- datasets and validations ----------------------------------------------------------------
# Values of the datasets' sparse index keys: an item carries the key only while it is in the
# state a schedule looks for, so each index holds exactly those items (see DatasetModel.save).
PENDING_UPLOAD = "pending_upload"
MONITORED = "monitored"


class DatasetByPendingUpload(GlobalSecondaryIndex["DatasetModel"]):
    """Sparse: datasets still ``pending_upload``, oldest first (the upload clean-up's range
    query ``created_at < cutoff``). All tenants: the clean-up is a system job."""

    class Meta:
        index_name = "by_pending_upload"
        projection = AllProjection()

    upload_pending = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class DatasetByMonitored(GlobalSecondaryIndex["DatasetModel"]):
    """Sparse: monitored datasets not deleted (the nightly re-validation). All tenants."""

    class Meta:
        index_name = "by_monitored"
        projection = AllProjection()

    monitor = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class DatasetModel(_Base):
    """An uploaded file. status: pending_upload -> uploaded -> ready | failed; deleted.

    Index keys: ``upload_pending`` is set while status is pending_upload and ``monitor`` while
    monitored and not deleted, removed otherwise. :meth:`save` derives both from the item; an
    update that changes ``status`` or ``monitored`` must set or remove them in the same update.
    """

    class Meta(_Base.Meta):
        table_key = "datasets"

    tenant_id = UnicodeAttribute(hash_key=True)
    dataset_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    role = UnicodeAttribute()  # "synthetic" | "reference"
    format = UnicodeAttribute()
    size_bytes = NumberAttribute()
    s3_key = UnicodeAttribute()
    source = UnicodeAttribute(default="api")  # "api" | "dropbox"
    status = UnicodeAttribute(default="pending_upload")
    upload_id = UnicodeAttribute(null=True)  # multipart upload id
    version_id = UnicodeAttribute(null=True)
    sha256 = UnicodeAttribute(null=True)
    rows = NumberAttribute(null=True)
    columns = NumberAttribute(null=True)
    # set by POST /datasets/upload {"validate": {...}}: the upload event then starts this
    # validation ({"reference_id": str | None, "options": {...}}) after inspecting the file
    auto_validation = JSONAttribute(null=True)
    monitored = BooleanAttribute(default=False)
    last_risk_level = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(default=utcnow)
    updated_at = UTCDateTimeAttribute(default=utcnow)
    upload_pending = UnicodeAttribute(null=True)  # PENDING_UPLOAD while status is pending_upload
    monitor = UnicodeAttribute(null=True)  # MONITORED while monitored and not deleted
    by_pending_upload = DatasetByPendingUpload()
    by_monitored = DatasetByMonitored()

    def index_keys(self) -> tuple[str | None, str | None]:
        """The ``(upload_pending, monitor)`` values the item's state calls for (the one rule)."""
        return (PENDING_UPLOAD if self.status == PENDING_UPLOAD else None,
                MONITORED if self.monitored and self.status != "deleted" else None)

    def save(self, condition: Any = None, *, add_version_condition: bool = True
             ) -> dict[str, Any]:
        """Put the whole item, with its sparse index keys derived from its own state."""
        self.upload_pending, self.monitor = self.index_keys()
        return super().save(condition, add_version_condition=add_version_condition)


class JobByStatus(GlobalSecondaryIndex["JobModel"]):
    """Jobs by status and last update: what the stuck-job sweeper queries."""

    class Meta:
        index_name = "by_status"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    updated_at = UTCDateTimeAttribute(range_key=True)


class JobByDataset(GlobalSecondaryIndex["JobModel"]):
    """Jobs that validate a dataset. Query with the tenant as the sort-key condition
    (``tenant_id == t``): a read touches only that tenant's items (``datasets.jobs_on``)."""

    class Meta:
        index_name = "by_dataset"
        projection = AllProjection()

    dataset_id = UnicodeAttribute(hash_key=True)
    tenant_id = UnicodeAttribute(range_key=True)


class JobByReference(GlobalSecondaryIndex["JobModel"]):
    """Jobs that use a dataset as their reference (sparse: jobs without one are absent)."""

    class Meta:
        index_name = "by_reference"
        projection = AllProjection()

    reference_id = UnicodeAttribute(hash_key=True)
    tenant_id = UnicodeAttribute(range_key=True)


class JobModel(_Base):
    """A validation job. ``status`` moves only as :mod:`synthos.jobs` allows, by conditional
    updates (see :mod:`synthos.aws.job_store`)."""

    class Meta(_Base.Meta):
        table_key = "jobs"

    tenant_id = UnicodeAttribute(hash_key=True)
    job_id = UnicodeAttribute(range_key=True)
    by_status = JobByStatus()
    by_dataset = JobByDataset()
    by_reference = JobByReference()
    dataset_id = UnicodeAttribute()
    reference_id = UnicodeAttribute(null=True)
    options = JSONAttribute(default=dict)
    trigger = UnicodeAttribute(default="api")  # "api" | "upload" | "dropbox" | "schedule"
    object_key = UnicodeAttribute(null=True)
    object_version = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default="queued")
    stage = UnicodeAttribute(default="queued")
    shards_done = NumberAttribute(default=0)
    shards_total = NumberAttribute(default=0)
    progress = NumberAttribute(default=0)  # 0..1
    attempts = NumberAttribute(default=0)
    reason = UnicodeAttribute(null=True)
    execution_arn = UnicodeAttribute(null=True)
    result_key = UnicodeAttribute(null=True)
    report_key = UnicodeAttribute(null=True)
    collapse_risk = NumberAttribute(null=True)
    risk_level = UnicodeAttribute(null=True)
    drift_score = NumberAttribute(null=True)
    created_at = UTCDateTimeAttribute(default=utcnow)
    updated_at = UTCDateTimeAttribute(default=utcnow)
    deadline_at = UTCDateTimeAttribute(null=True)
    # the validation's current warranty (set before issuing, conditionally: one active
    # warranty per validation even when two requests race; synthos.api.warranties)
    warranty_id = UnicodeAttribute(null=True)


# --- warranties ------------------------------------------------------------------------------
class WarrantyById(GlobalSecondaryIndex["WarrantyModel"]):
    """Public verification looks a certificate up by id alone."""

    class Meta:
        index_name = "by_id"
        projection = AllProjection()

    warranty_id = UnicodeAttribute(hash_key=True)


class WarrantyByStatus(GlobalSecondaryIndex["WarrantyModel"]):
    """Active warranties by expiry: what the expiry schedule queries."""

    class Meta:
        index_name = "by_status"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    expires_at = UTCDateTimeAttribute(range_key=True)


class WarrantyByValidation(GlobalSecondaryIndex["WarrantyModel"]):
    """Warranties of one validation; query with ``tenant_id == t`` as the sort-key condition."""

    class Meta:
        index_name = "by_validation"
        projection = AllProjection()

    validation_id = UnicodeAttribute(hash_key=True)
    tenant_id = UnicodeAttribute(range_key=True)


class WarrantyModel(_Base):
    class Meta(_Base.Meta):
        table_key = "warranties"

    tenant_id = UnicodeAttribute(hash_key=True)
    warranty_id = UnicodeAttribute(range_key=True)
    by_id = WarrantyById()
    by_status = WarrantyByStatus()
    by_validation = WarrantyByValidation()
    validation_id = UnicodeAttribute()
    dataset_id = UnicodeAttribute()
    certificate = JSONAttribute()  # the signed document, as issued
    status = UnicodeAttribute(default="active")  # active | expired | revoked
    issued_at = UTCDateTimeAttribute(default=utcnow)
    expires_at = UTCDateTimeAttribute()
    pdf_key = UnicodeAttribute(null=True)
    revoked_at = UTCDateTimeAttribute(null=True)  # set with status revoked (admin revoke)
    revoked_by = UnicodeAttribute(null=True)  # the revoking admin's user id
    revocation_reason = UnicodeAttribute(null=True)


class ClaimModel(_Base):
    class Meta(_Base.Meta):
        table_key = "claims"

    warranty_id = UnicodeAttribute(hash_key=True)
    claim_id = UnicodeAttribute(range_key=True)
    tenant_id = UnicodeAttribute()
    status = UnicodeAttribute(default="submitted")
    evidence = JSONAttribute()
    reason = UnicodeAttribute(null=True)
    deviation = NumberAttribute(null=True)  # pre-check: observed risk - certified upper bound
    decided_by = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(default=utcnow)
    updated_at = UTCDateTimeAttribute(default=utcnow)


class ConnectionById(GlobalSecondaryIndex["ConnectionModel"]):
    """A connection's subscriptions by connection id (what ``$disconnect`` deletes)."""

    class Meta:
        index_name = "by_connection"
        projection = AllProjection()

    connection_id = UnicodeAttribute(hash_key=True)


class ConnectionModel(_Base):
    """A WebSocket connection subscribed to one job's progress."""

    class Meta(_Base.Meta):
        table_key = "connections"

    job_id = UnicodeAttribute(hash_key=True)
    connection_id = UnicodeAttribute(range_key=True)
    by_connection = ConnectionById()
    tenant_id = UnicodeAttribute()
    expires = TTLAttribute()


MODELS: tuple[type[Model], ...] = (
    UserModel, ApiKeyModel, TokenModel, RateLimitModel, DatasetModel, JobModel, WarrantyModel,
    ClaimModel, ConnectionModel,
)

# The Powertools idempotency table has no pynamodb model; its shape is fixed by Powertools.
IDEMPOTENCY_KEY = "id"
IDEMPOTENCY_TTL = "expiration"


def bind(settings: Settings) -> None:
    """Point every model at its table for ``settings`` (region, name, local endpoint)."""
    for model in MODELS:
        meta: Any = model.Meta
        meta.table_name = settings.table_name(meta.table_key)
        meta.region = settings.region
        meta.host = settings.endpoint_url
        model._connection = None  # drop a connection bound to an earlier table/endpoint


def _table_spec(model: type[Model]) -> dict[str, Any]:
    attrs = model.get_attributes()
    hash_key = next(n for n, a in attrs.items() if a.is_hash_key)
    range_key = next((n for n, a in attrs.items() if a.is_range_key), None)
    indexes = []
    for idx in model._indexes.values():
        iattrs = idx.Meta.attributes.values()
        indexes.append({
            "name": idx.Meta.index_name,
            "hash_key": next(a.attr_name for a in iattrs if a.is_hash_key),
            "range_key": next((a.attr_name for a in iattrs if a.is_range_key), None),
        })
    ttl = next((a.attr_name for a in attrs.values() if isinstance(a, TTLAttribute)), None)
    return {"table": model.Meta.table_key, "hash_key": hash_key,  # type: ignore[attr-defined]
            "range_key": range_key, "indexes": indexes, "ttl": ttl,
            "types": {n: ("S" if isinstance(a, (UnicodeAttribute, UTCDateTimeAttribute)) else "N")
                      for n, a in attrs.items()}}


def table_specs() -> list[dict[str, Any]]:
    """Keys, indexes and TTL of every table, for CDK and the local stack (one source)."""
    specs = [_table_spec(m) for m in MODELS]
    specs.append({"table": "idempotency", "hash_key": IDEMPOTENCY_KEY, "range_key": None,
                  "indexes": [], "ttl": IDEMPOTENCY_TTL, "types": {IDEMPOTENCY_KEY: "S"}})
    return specs


def create_tables(settings: Settings) -> None:
    """Create every table (local stack and tests; in the cloud CDK does this)."""
    import boto3

    bind(settings)
    ddb = boto3.client("dynamodb", region_name=settings.region,
                       endpoint_url=settings.endpoint_url)
    for spec in table_specs():
        keys = [{"AttributeName": spec["hash_key"], "KeyType": "HASH"}]
        used = {spec["hash_key"]}
        if spec["range_key"]:
            keys.append({"AttributeName": spec["range_key"], "KeyType": "RANGE"})
            used.add(spec["range_key"])
        gsis = []
        for idx in spec["indexes"]:
            ikeys = [{"AttributeName": idx["hash_key"], "KeyType": "HASH"}]
            used.add(idx["hash_key"])
            if idx["range_key"]:
                ikeys.append({"AttributeName": idx["range_key"], "KeyType": "RANGE"})
                used.add(idx["range_key"])
            gsis.append({"IndexName": idx["name"], "KeySchema": ikeys,
                         "Projection": {"ProjectionType": "ALL"}})
        kwargs: dict[str, Any] = {
            "TableName": settings.table_name(spec["table"]),
            "KeySchema": keys,
            "AttributeDefinitions": [{"AttributeName": a, "AttributeType": spec["types"][a]}
                                     for a in sorted(used)],
            "BillingMode": "PAY_PER_REQUEST",
        }
        if gsis:
            kwargs["GlobalSecondaryIndexes"] = gsis
        ddb.create_table(**kwargs)
        if spec["ttl"]:
            ddb.update_time_to_live(
                TableName=kwargs["TableName"],
                TimeToLiveSpecification={"Enabled": True, "AttributeName": spec["ttl"]})
