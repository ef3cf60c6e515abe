"""One-off: give the datasets written before the sparse indexes existed their index keys.

DynamoDB fills a new GSI from the items already in the table, so ``by_dataset``,
``by_reference``, ``by_validation`` and ``by_connection`` need nothing: their keys are
attributes every item already has. ``by_pending_upload`` and ``by_monitored`` are keyed on
attributes (``upload_pending``, ``monitor``) that only writers since the indexes set: a dataset
pending or monitored before then is invisible to the clean-up and the nightly re-validation
until this has run once, after the deploy that created the indexes::

    SYNTHOS_TABLE_PREFIX=synthos-prod SYNTHOS_REGION=... python -m synthos.aws.index_backfill

It scans the datasets table once (the only Scan left, on purpose: it runs once) and writes only
items missing a key, each conditionally on the state it read, so a concurrent change wins and
a second run writes nothing.
"""

from __future__ import annotations

import json

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.update import Action

from synthos.aws.settings import Settings
from synthos.aws.tables import PENDING_UPLOAD, DatasetModel, bind, lost_condition


def _missing(item: DatasetModel) -> list[Action]:
    pending, monitor = item.index_keys()
    actions: list[Action] = []
    if pending is not None and item.upload_pending is None:
        actions.append(DatasetModel.upload_pending.set(pending))
    if monitor is not None and item.monitor is None:
        actions.append(DatasetModel.monitor.set(monitor))
    return actions


def backfill_dataset_keys() -> dict[str, int]:
    """Set the missing sparse keys; returns ``{"scanned", "updated"}``."""
    scanned = updated = 0
    for item in DatasetModel.scan((DatasetModel.status == PENDING_UPLOAD)
                                  | (DatasetModel.monitored == True)):  # noqa: E712
        scanned += 1
        actions = _missing(item)
        if not actions:
            continue
        try:
            item.update(actions=actions, condition=(DatasetModel.status == item.status)
                        & (DatasetModel.monitored == bool(item.monitored)))
        except UpdateError as exc:
            if not lost_condition(exc):
                raise
            continue  # changed meanwhile: that write kept the keys right
        updated += 1
    return {"scanned": scanned, "updated": updated}


if __name__ == "__main__":  # pragma: no cover - an operator's one-off command
    bind(Settings.from_env())
    print(json.dumps(backfill_dataset_keys()))
