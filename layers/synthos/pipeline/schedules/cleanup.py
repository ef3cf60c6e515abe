"""Upload clean-up: datasets still ``pending_upload`` after ``ABANDON_AFTER`` are abandoned: an
open multipart upload is aborted, whatever reached the key is deleted, and the dataset is marked
failed with the reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.exceptions import UpdateError

from synthos.aws.settings import Settings
from synthos.aws.tables import DatasetModel, lost_condition, utcnow
from synthos.aws.uploads import abort_multipart, delete_prefix

ABANDON_AFTER = timedelta(hours=24)
REASON = "the upload was not completed within 24 hours; upload the file again"


def cleanup(settings: Settings, event: dict[str, Any],
            now: datetime | None = None) -> dict[str, Any]:
    """Abandon stale pending uploads; returns the dataset ids cleaned."""
    del event
    cutoff = (now or datetime.now(UTC)) - ABANDON_AFTER
    cleaned: list[str] = []
    for item in DatasetModel.scan((DatasetModel.status == "pending_upload")
                                  & (DatasetModel.created_at < cutoff)):
        try:
            item.update(actions=[DatasetModel.status.set("failed"),
                                 DatasetModel.reason.set(REASON),
                                 DatasetModel.updated_at.set(utcnow())],
                        condition=DatasetModel.status == "pending_upload")
        except UpdateError as exc:
            if lost_condition(exc):
                continue  # completed (or deleted) meanwhile
            raise
        if item.upload_id:
            abort_multipart(settings, item.s3_key, item.upload_id)
        delete_prefix(settings, item.s3_key)
        cleaned.append(item.dataset_id)
    return {"cleaned": cleaned}
