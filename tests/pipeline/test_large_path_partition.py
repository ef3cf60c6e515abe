"""The large path with a hash-partitioned reduce: PlanReduce, one ReduceRange per hash range
(an inline Map), ReduceShards combining them; the same answer as the small path."""

from __future__ import annotations

import pytest

from synthos.aws.tables import JobModel
from tests.pipeline.conftest import Pipeline
from tests.pipeline.test_large_path import SHARDS, TENANT, _run, _sharded_parquet

RANGES = 4


def test_partitioned_reduce_gives_the_small_path_answer(large: Pipeline,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN ranges of at most 300 rows, so the 1,000-row file is reduced in 4 hash ranges
    monkeypatch.setattr("synthos.shard.partition.RANGE_TARGET_ROWS", 300)
    body = _sharded_parquet()
    # WHEN the file is validated on the large path, and again on the small path
    sharded = _run(large, "big-p", body)
    monkeypatch.setenv("SYNTHOS_SMALL_MAX_BYTES", str(10 * len(body)))
    single = _run(large, "small-p", body)
    # THEN both completed with the same scores
    assert (sharded.status, single.status) == ("completed", "completed")
    assert sharded.collapse_risk == pytest.approx(single.collapse_risk, abs=1e-9)
    assert sharded.drift_score == pytest.approx(single.drift_score, abs=1e-9)
    assert sharded.risk_level == single.risk_level
    # AND the reduce ran as one plan, 4 range reducers and one combine, each range's result
    # written next to the manifest
    calls = large.glue.invocations
    assert (calls.count("PlanReduce"), calls.count("ReduceRange"),
            calls.count("ReduceShards")) == (1, RANGES, 1)
    folder = f"shards/{TENANT}/{sharded.job_id}/"
    assert [k for k in large.keys(folder) if "/range-" in k] == [
        f"{folder}range-{p:04d}-of-{RANGES:04d}.bin" for p in range(RANGES)]
    assert int(sharded.shards_done) == SHARDS


def test_a_failing_range_reducer_fails_the_job(large: Pipeline,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a range reducer that cannot read its states (a corrupt count map)
    from synthos.errors import CorruptShardState

    def broken(*args: object) -> str:
        raise CorruptShardState("partial state count map is corrupt (digest mismatch)")

    monkeypatch.setattr("synthos.aws.batch_worker.reduce_range_states", broken)
    # WHEN a large file is validated
    job: JobModel = _run(large, "big-bad", _sharded_parquet())
    # THEN the job failed with the named reason, nothing was combined or published, and no
    # shard state or range result is left behind
    assert job.status == "failed"
    assert "corrupt" in job.reason and "Traceback" not in job.reason
    assert "ReduceShards" not in large.glue.invocations
    assert large.keys(f"results/{TENANT}/") == []
    assert large.keys(f"shards/{TENANT}/{job.job_id}/") == []  # FailJob cleans the prefix
