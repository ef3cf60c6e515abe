"""Loading the datasets a job names, and marking an unusable one (its file stays intact)."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from synthos.aws.tables import DatasetModel, utcnow
from synthos.errors import DatasetNotFound


def load(tenant_id: str, dataset_id: str, role: str = "dataset") -> DatasetModel:
    try:
        item = DatasetModel.get(tenant_id, dataset_id, consistent_read=True)
    except DoesNotExist as exc:
        raise DatasetNotFound(f"the {role} {dataset_id} no longer exists") from exc
    if item.status in ("deleted", "pending_upload"):
        raise DatasetNotFound(f"the {role} {dataset_id} is {item.status.replace('_', ' ')}")
    return item


def mark_failed(item: DatasetModel, reason: str) -> None:
    """The dataset cannot be read: status failed with the reason (the S3 object is kept)."""
    item.update(actions=[DatasetModel.status.set("failed"), DatasetModel.reason.set(reason[:500]),
                         DatasetModel.updated_at.set(utcnow())])
