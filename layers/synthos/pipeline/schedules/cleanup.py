"""Upload clean-up: datasets still ``pending_upload`` after ``ABANDON_AFTER`` are abandoned: an
open multipart upload is aborted, whatever reached the key is deleted, and the dataset is marked
failed with the reason.

The candidates come from the sparse ``by_pending_upload`` index (only datasets still pending,
oldest first), read as the range ``created_at < cutoff``: the cost follows the abandoned uploads,
not the size of the table.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.exceptions import UpdateError

from synthos.aws.settings import Settings
from synthos.aws.tables import PENDING_UPLOAD, DatasetModel, lost_condition, utcnow
from synthos.aws.uploads import abort_multipart, delete_prefix

ABANDON_AFTER = timedelta(hours=24)
REASON = "the upload was not completed within 24 hours; upload the file again"


def abandoned(cutoff: datetime) -> list[DatasetModel]:
    """Every tenant's datasets pending_upload since before ``cutoff`` (the index may lag the
    table by a moment: callers re-check the status with a conditional write)."""
    return list(DatasetModel.by_pending_upload.query(PENDING_UPLOAD,
                                                     DatasetModel.created_at < cutoff))


def _forget(item: DatasetModel) -> None:
    """Drop a stale index key from a dataset that is no longer pending (self-repair)."""
    try:
        item.update(actions=[DatasetModel.upload_pending.remove()],
                    condition=DatasetModel.dataset_id.exists()
                    & (DatasetModel.status != PENDING_UPLOAD))
    except UpdateError as exc:
        if not lost_condition(exc):
            raise


def cleanup(settings: Settings, event: dict[str, Any],
            now: datetime | None = None) -> dict[str, Any]:
    """Abandon stale pending uploads; returns the dataset ids cleaned."""
    del event
    cutoff = (now or datetime.now(UTC)) - ABANDON_AFTER
    cleaned: list[str] = []
    for item in abandoned(cutoff):
        try:
            item.update(actions=[DatasetModel.status.set("failed"),
                                 DatasetModel.upload_pending.remove(),
                                 DatasetModel.reason.set(REASON),
                                 DatasetModel.updated_at.set(utcnow())],
                        condition=DatasetModel.status == PENDING_UPLOAD)
        except UpdateError as exc:
            if lost_condition(exc):
                _forget(item)  # completed (or deleted) meanwhile
                continue
            raise
        if item.upload_id:
            abort_multipart(settings, item.s3_key, item.upload_id)
        delete_prefix(settings, item.s3_key)
        cleaned.append(item.dataset_id)
    return {"cleaned": cleaned}
