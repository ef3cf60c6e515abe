"""The shared AWS foundation: settings, key layout, table specs, conditional job moves."""

from __future__ import annotations

import pytest

from synthos.aws import keys
from synthos.aws.settings import Settings
from synthos.jobs import JobStatus, allowed_sources, can_move


def test_settings_round_trip_through_the_environment() -> None:
    s = Settings(stage="dev", bucket="b", table_prefix="p", cors_origins=("https://a", "https://b"),
                 small_max_bytes=10)
    assert Settings.from_env(s.to_env()) == s
    assert s.table_name("api_keys") == "p-api-keys"
    with pytest.raises(KeyError):
        s.table_name("nope")


def test_object_keys_are_classified_by_area_and_tenant() -> None:
    assert keys.parse_object_key("uploads/t1/d1/x.parquet") == keys.ObjectKey(
        "uploads", "t1", "d1", "x.parquet")
    assert keys.parse_object_key("dropbox/t1/x.csv") == keys.ObjectKey(
        "dropbox", "t1", None, "x.csv")
    ref = keys.parse_object_key("dropbox/t1/reference/r.csv")
    assert ref is not None and ref.is_reference
    for ignored in ("dropbox/t1/results/x.json", "results/t1/j/result.json", "uploads/t1/x",
                    "uploads/../d/x", "shards/t/j/state-00000.bin", "dropbox/t1/"):
        assert keys.parse_object_key(ignored) is None, ignored


def test_keys_refuse_path_tricks() -> None:
    assert keys.upload_key("t1", "d1", "../../etc/passwd") == "uploads/t1/d1/passwd"
    with pytest.raises(ValueError):
        keys.result_key("../t2", "j")


def test_deletion_prefixes_cover_exactly_their_own_objects() -> None:
    # GIVEN the prefixes a dataset deletion removes
    (results, shards) = keys.job_prefixes("t1", "j1")
    # THEN each key the layout writes for that dataset / job lies under one of them
    assert keys.upload_key("t1", "d1", "x.parquet").startswith(keys.upload_prefix("t1", "d1"))
    assert keys.result_key("t1", "j1").startswith(results)
    assert keys.report_key("t1", "j1").startswith(results)
    assert keys.shard_state_key("t1", "j1", 3).startswith(shards)
    # AND a sibling id sharing a leading part is not under them (the trailing slash)
    assert not keys.result_key("t1", "j10").startswith(results)
    # AND an id that would widen a prefix is refused
    for bad in ("", "../t2", "a/b"):
        with pytest.raises(ValueError):
            keys.upload_prefix("t1", bad)
        with pytest.raises(ValueError):
            keys.job_prefixes(bad, "j1")


def test_job_moves() -> None:
    assert can_move(JobStatus.QUEUED, JobStatus.INSPECTING)
    assert not can_move(JobStatus.QUEUED, JobStatus.COMPLETED)
    assert can_move(JobStatus.VALIDATING, JobStatus.VALIDATING)
    # a retried step re-enters the state it moved the job to; never a terminal or queued one
    for running in (JobStatus.INSPECTING, JobStatus.REDUCING, JobStatus.REPORTING):
        assert can_move(running, running)
    assert not can_move(JobStatus.QUEUED, JobStatus.QUEUED)
    for terminal in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED):
        assert not can_move(terminal, terminal)
    assert not can_move(JobStatus.REPORTING, JobStatus.INSPECTING)  # no going back
    assert not allowed_sources(JobStatus.FAILED) & {JobStatus.COMPLETED, JobStatus.CANCELLED}
    assert not can_move(JobStatus.COMPLETED, JobStatus.QUEUED)


def test_advance_is_conditional(aws: Settings) -> None:
    from synthos.aws.job_store import JobNotFound, StaleJobTransition, advance, get_job
    from synthos.aws.tables import JobModel

    JobModel("t1", "j1", dataset_id="d1").save()
    advance("t1", "j1", JobStatus.INSPECTING)
    with pytest.raises(StaleJobTransition):
        advance("t1", "j1", JobStatus.REPORTING)
    advance("t1", "j1", JobStatus.CANCELLED, reason="cancelled by user")
    with pytest.raises(StaleJobTransition):  # a late worker cannot revive it
        advance("t1", "j1", JobStatus.VALIDATING)
    job = get_job("t1", "j1")
    assert (job.status, job.reason) == ("cancelled", "cancelled by user")
    with pytest.raises(JobNotFound):
        advance("t1", "nope", JobStatus.FAILED)
    with pytest.raises(JobNotFound):
        get_job("t2", "j1")  # another tenant's key finds nothing
