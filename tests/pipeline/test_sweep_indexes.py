"""The schedules and ``$disconnect`` read indexes, never a whole table: the sparse
``by_pending_upload`` / ``by_monitored`` indexes of datasets hold exactly the items in the state
a schedule wants (items leave them when they leave the state), and ``by_connection`` finds one
connection's subscriptions. Items of several tenants and states in each case."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pynamodb.models import Model

from synthos.api import datasets as api_datasets
from synthos.api.principal import Principal
from synthos.aws.tables import ConnectionModel, DatasetModel
from synthos.pipeline import websocket
from synthos.pipeline.claim import _uploaded_dataset
from synthos.pipeline.schedules import cleanup, revalidate
from tests.pipeline.conftest import seed_dataset

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=2)


@pytest.fixture
def no_scan(aws: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The moto world, where any table Scan fails the test."""
    def scan(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a Scan: this path must query an index")

    monkeypatch.setattr(Model, "scan", classmethod(scan))
    yield aws


def _owner(tenant: str) -> Principal:
    return Principal(tenant_id=tenant, user_id=f"u-{tenant}", scopes=frozenset({"write"}),
                     kind="user", credential_id="jti")


def _ids(items: list[DatasetModel]) -> set[tuple[str, str]]:
    return {(i.tenant_id, i.dataset_id) for i in items}


def _seed(settings: Any, tenant: str, dataset_id: str, status: str, created: datetime,
          **fields: Any) -> DatasetModel:
    return seed_dataset(settings, tenant, dataset_id, f"{dataset_id}.csv", status=status,
                        created_at=created, **fields)


def test_pending_upload_index_holds_exactly_the_stale_pending_uploads(no_scan: Any) -> None:
    # GIVEN datasets of two tenants: stale and fresh pending uploads, and stale ones in the
    # other states (uploaded, ready, failed, deleted)
    s = no_scan
    _seed(s, "acme", "a-old", "pending_upload", OLD)
    _seed(s, "beta", "b-old", "pending_upload", OLD - timedelta(hours=1))
    _seed(s, "acme", "a-new", "pending_upload", NOW - timedelta(hours=1))
    for i, status in enumerate(("uploaded", "ready", "failed", "deleted")):
        _seed(s, "beta", f"b-{status}", status, OLD, monitored=i % 2 == 0)
    cutoff = NOW - cleanup.ABANDON_AFTER
    # WHEN the clean-up's query runs
    found = cleanup.abandoned(cutoff)
    # THEN exactly the two stale pending uploads, oldest first, of both tenants
    assert [(d.tenant_id, d.dataset_id) for d in found] == [("beta", "b-old"), ("acme", "a-old")]
    # AND the fresh one joins the answer only once it is past the cutoff
    assert _ids(cleanup.abandoned(NOW)) == {("beta", "b-old"), ("acme", "a-old"),
                                           ("acme", "a-new")}


def test_an_upload_leaves_the_pending_index_when_it_arrives_or_is_deleted(no_scan: Any) -> None:
    from synthos.aws.keys import parse_object_key

    # GIVEN three stale pending uploads of two tenants
    s = no_scan
    arrived = _seed(s, "acme", "a-arrived", "pending_upload", OLD)
    _seed(s, "acme", "a-deleted", "pending_upload", OLD)
    _seed(s, "beta", "b-waiting", "pending_upload", OLD)
    # WHEN one file arrives (ClaimJob's move to uploaded) and another dataset is deleted
    parsed = parse_object_key(arrived.s3_key)
    assert parsed is not None
    assert _uploaded_dataset(parsed, arrived.s3_key, "v1", 10) is not None
    api_datasets.delete_dataset(s, _owner("acme"), "a-deleted")
    # THEN only the one still pending is left in the index, and the others lost the key
    assert _ids(cleanup.abandoned(NOW)) == {("beta", "b-waiting")}
    assert DatasetModel.get("acme", "a-arrived").upload_pending is None
    assert DatasetModel.get("acme", "a-deleted").upload_pending is None


def test_an_upload_arriving_while_its_dataset_is_deleted_does_not_revive_it(
        no_scan: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from synthos.aws.keys import parse_object_key

    # GIVEN a monitored pending upload whose file arrives: ClaimJob reads the record while it
    # is pending, and the owner's DELETE lands before ClaimJob writes
    s = no_scan
    item = _seed(s, "acme", "a-race", "pending_upload", OLD, monitored=True)
    parsed = parse_object_key(item.s3_key)
    assert parsed is not None
    read = DatasetModel.get
    deleted: list[bool] = []

    def read_then_delete(cls: Any, *args: Any, **kwargs: Any) -> DatasetModel:
        stale = read(*args, **kwargs)
        if not deleted:
            deleted.append(True)
            api_datasets.delete_dataset(s, _owner("acme"), "a-race")
        return stale

    monkeypatch.setattr(DatasetModel, "get", classmethod(read_then_delete))
    # WHEN ClaimJob records the arrival
    found = _uploaded_dataset(parsed, item.s3_key, "v1", 10)
    # THEN it is not an expected upload any more, and the dataset stays deleted, in no index
    assert found is None and deleted == [True]
    after = DatasetModel.get("acme", "a-race")
    assert (after.status, after.upload_pending, after.monitor) == ("deleted", None, None)
    assert cleanup.abandoned(NOW) == [] and revalidate.monitored_ready() == []


@pytest.mark.parametrize("step", ["record", "mark_failed"])
def test_inspection_never_revives_a_dataset_deleted_after_it_was_read(no_scan: Any,
                                                                       step: str) -> None:
    from synthos.errors import DatasetNotFound
    from synthos.pipeline import datasets as pipeline_datasets
    from synthos.pipeline.describe import record

    # GIVEN a monitored dataset that inspection has read, then its owner deletes it
    s = no_scan
    item = _seed(s, "acme", "a-gone", "uploaded", OLD, monitored=True)
    read = DatasetModel.get("acme", "a-gone", consistent_read=True)
    api_datasets.delete_dataset(s, _owner("acme"), "a-gone")
    # WHEN the inspection writes what it found (ready) or that the file is unusable (failed)
    if step == "record":
        with pytest.raises(DatasetNotFound, match="deleted"):
            record(read, "csv", 3, 10, None)
    else:
        pipeline_datasets.mark_failed(read, "cannot parse")
    # THEN the dataset stays deleted, with no reason or format written, and in no index
    after = DatasetModel.get("acme", item.dataset_id)
    assert (after.status, after.monitor, after.reason, after.format) == (
        "deleted", None, None, item.format)
    assert revalidate.monitored_ready() == []


def test_cleanup_fails_the_stale_ones_and_empties_the_index(no_scan: Any) -> None:
    # GIVEN stale pending uploads of two tenants and a fresh one
    s = no_scan
    _seed(s, "acme", "a-old", "pending_upload", OLD)
    _seed(s, "beta", "b-old", "pending_upload", OLD)
    _seed(s, "beta", "b-new", "pending_upload", NOW - timedelta(hours=1))
    # WHEN the clean-up runs twice
    first = cleanup.cleanup(s, {}, now=NOW)
    second = cleanup.cleanup(s, {}, now=NOW)
    # THEN the stale ones are failed once (and left the index); the fresh one waits
    assert sorted(first["cleaned"]) == ["a-old", "b-old"] and second == {"cleaned": []}
    assert DatasetModel.get("beta", "b-old").status == "failed"
    assert DatasetModel.get("beta", "b-new").status == "pending_upload"
    assert _ids(cleanup.abandoned(NOW + timedelta(days=2))) == {("beta", "b-new")}


def test_cleanup_drops_a_stale_index_key_without_touching_the_dataset(no_scan: Any) -> None:
    # GIVEN a ready dataset that still carries the pending key (a writer forgot to remove it)
    s = no_scan
    item = _seed(s, "acme", "a-ready", "ready", OLD)
    item.update(actions=[DatasetModel.upload_pending.set("pending_upload")])
    assert _ids(cleanup.abandoned(NOW)) == {("acme", "a-ready")}
    # WHEN the clean-up runs
    out = cleanup.cleanup(s, {}, now=NOW)
    # THEN nothing is cleaned, the dataset stays ready, and the index no longer lists it
    assert out == {"cleaned": []}
    assert DatasetModel.get("acme", "a-ready").status == "ready"
    assert cleanup.abandoned(NOW) == []


def test_monitored_index_holds_exactly_the_monitored_undeleted(no_scan: Any) -> None:
    # GIVEN datasets of two tenants: monitored in several states, and not monitored
    s = no_scan
    _seed(s, "acme", "a-mon", "ready", OLD, monitored=True)
    _seed(s, "beta", "b-mon", "ready", NOW, monitored=True)
    _seed(s, "beta", "b-mon-pending", "pending_upload", NOW, monitored=True)
    _seed(s, "acme", "a-mon-deleted", "deleted", OLD, monitored=True)
    _seed(s, "acme", "a-plain", "ready", OLD)
    # WHEN the nightly schedule's query runs
    found = revalidate.monitored_ready()
    # THEN the two ready monitored datasets of both tenants; the pending one is in the index
    # but not ready; the deleted and the unmonitored ones are not in it at all
    assert _ids(found) == {("acme", "a-mon"), ("beta", "b-mon")}
    indexed = DatasetModel.by_monitored.query("monitored")
    assert _ids(list(indexed)) == {("acme", "a-mon"), ("beta", "b-mon"),
                                   ("beta", "b-mon-pending")}


def test_patch_and_delete_move_datasets_in_and_out_of_the_monitored_index(
        no_scan: Any) -> None:
    # GIVEN three ready synthetic datasets of two tenants, none monitored
    s = no_scan
    for tenant, dataset_id in (("acme", "a1"), ("acme", "a2"), ("beta", "b1")):
        _seed(s, tenant, dataset_id, "ready", OLD)
    assert revalidate.monitored_ready() == []
    # WHEN all three are marked monitored, then one is unmarked and another deleted
    for tenant, dataset_id in (("acme", "a1"), ("acme", "a2"), ("beta", "b1")):
        assert api_datasets.set_monitored(_owner(tenant), dataset_id, True).monitored
    api_datasets.set_monitored(_owner("acme"), "a1", False)
    api_datasets.delete_dataset(s, _owner("beta"), "b1")
    # THEN only the one still monitored and undeleted is re-validated
    assert _ids(revalidate.monitored_ready()) == {("acme", "a2")}
    assert (DatasetModel.get("acme", "a1").monitor, DatasetModel.get("beta", "b1").monitor) \
        == (None, None)


def test_revalidation_starts_one_job_per_monitored_ready_dataset(
        no_scan: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from synthos.aws.tables import JobModel

    # GIVEN monitored datasets of two tenants (one with an earlier completed validation with a
    # reference, one without), an unmonitored one, and the earlier job of another tenant on a
    # dataset with the same id
    s = no_scan
    _seed(s, "acme", "ds1", "ready", OLD, monitored=True)
    _seed(s, "beta", "ds2", "ready", OLD, monitored=True)
    _seed(s, "beta", "ds3", "ready", OLD)
    JobModel("acme", "val_a", dataset_id="ds1", reference_id="ref1", options={"k": 5},
             status="completed").save()
    JobModel("beta", "val_x", dataset_id="ds1", reference_id="ref9", options={"k": 9},
             status="completed").save()
    started: list[str] = []
    monkeypatch.setattr(revalidate, "start", lambda _s, job, _src: started.append(job.job_id))
    # WHEN the nightly rule runs
    out = revalidate.revalidate(s, {}, now=NOW)
    # THEN one queued job per monitored dataset, with its own tenant's earlier reference
    jobs = {(j.tenant_id, j.dataset_id): j for t in ("acme", "beta")
            for j in JobModel.query(t) if j.trigger == "schedule"}
    assert sorted(out["started"]) == sorted(started) and len(started) == 2
    assert set(jobs) == {("acme", "ds1"), ("beta", "ds2")}
    assert (jobs[("acme", "ds1")].reference_id, jobs[("acme", "ds1")].options) == \
        ("ref1", {"k": 5})
    assert (jobs[("beta", "ds2")].reference_id, jobs[("beta", "ds2")].options) == (None, {})


def test_disconnect_deletes_exactly_that_connections_subscriptions(no_scan: Any) -> None:
    # GIVEN connection c1 subscribed to two jobs, and other connections (two tenants) on them
    expires = timedelta(hours=1)
    for job_id, conn, tenant in (("j1", "c1", "acme"), ("j2", "c1", "acme"),
                                 ("j1", "c2", "acme"), ("j3", "c3", "beta")):
        ConnectionModel(job_id, conn, tenant_id=tenant, expires=expires).save()
    event = {"requestContext": {"connectionId": "c1", "authorizer": {"tenant_id": "acme"}}}
    # WHEN c1 disconnects (and an event without a connection id arrives)
    assert websocket.disconnect(no_scan, event) == {"statusCode": 200}
    assert websocket.disconnect(no_scan, {"requestContext": {}}) == {"statusCode": 200}
    # THEN c1's subscriptions are gone and every other one stays
    left = {(c.job_id, c.connection_id) for j in ("j1", "j2", "j3")
            for c in ConnectionModel.query(j)}
    assert left == {("j1", "c2"), ("j3", "c3")}
    assert list(ConnectionModel.by_connection.query("c1")) == []


def test_backfill_gives_legacy_datasets_their_index_keys_once(aws: Any) -> None:
    from synthos.aws.index_backfill import backfill_dataset_keys

    # GIVEN datasets of two tenants written before the indexes (no index keys): pending,
    # monitored and ready, monitored but deleted, and plain ready
    s = aws
    legacy = [_seed(s, "acme", "a-pending", "pending_upload", OLD),
              _seed(s, "beta", "b-mon", "ready", OLD, monitored=True),
              _seed(s, "beta", "b-mon-deleted", "deleted", OLD, monitored=True),
              _seed(s, "acme", "a-plain", "ready", OLD)]
    for item in legacy:
        item.update(actions=[DatasetModel.upload_pending.remove(), DatasetModel.monitor.remove()])
    assert cleanup.abandoned(NOW) == [] and revalidate.monitored_ready() == []
    # WHEN the backfill runs twice
    first, second = backfill_dataset_keys(), backfill_dataset_keys()
    # THEN the pending and the monitored one are back in their indexes, written once
    assert first == {"scanned": 3, "updated": 2} and second == {"scanned": 3, "updated": 0}
    assert _ids(cleanup.abandoned(NOW)) == {("acme", "a-pending")}
    assert _ids(revalidate.monitored_ready()) == {("beta", "b-mon")}
