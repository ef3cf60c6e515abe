"""Loading the datasets a job names, and marking an unusable one (its file stays intact)."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.update import Action

from synthos.aws.tables import DatasetModel, lost_condition, utcnow
from synthos.errors import DatasetNotFound


def load(tenant_id: str, dataset_id: str, role: str = "dataset") -> DatasetModel:
    try:
        item = DatasetModel.get(tenant_id, dataset_id, consistent_read=True)
    except DoesNotExist as exc:
        raise DatasetNotFound(f"the {role} {dataset_id} no longer exists") from exc
    if item.status in ("deleted", "pending_upload"):
        raise DatasetNotFound(f"the {role} {dataset_id} is {item.status.replace('_', ' ')}")
    return item


def update_unless_deleted(item: DatasetModel, actions: list[Action]) -> None:
    """Apply ``actions`` to the dataset unless it was deleted since it was read (then
    DatasetNotFound): a pipeline step never brings a deleted dataset back."""
    try:
        item.update(actions=actions, condition=DatasetModel.dataset_id.exists()
                    & (DatasetModel.status != "deleted"))
    except UpdateError as exc:
        if not lost_condition(exc):
            raise
        raise DatasetNotFound(f"the dataset {item.dataset_id} was deleted") from exc


def mark_failed(item: DatasetModel, reason: str) -> None:
    """The dataset cannot be read: status failed with the reason (the S3 object is kept).
    A dataset deleted meanwhile stays deleted."""
    try:
        update_unless_deleted(item, [DatasetModel.status.set("failed"),
                                     DatasetModel.reason.set(reason[:500]),
                                     DatasetModel.updated_at.set(utcnow())])
    except DatasetNotFound:
        return
