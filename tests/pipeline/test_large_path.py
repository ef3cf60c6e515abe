"""The large path: Distributed Map over the shard manifest, one Batch job per shard (run on the
CPU by the glue), reduce; the same answer as the small path on the same file."""

from __future__ import annotations

import io
from collections.abc import Mapping

import pyarrow.parquet as pq
import pytest

from synthos.aws.tables import JobModel
from tests.pipeline.conftest import DATA, FAST_OPTIONS, Pipeline, seed_dataset

TENANT = "acme"
SHARDS = 4


def _sharded_parquet() -> bytes:
    """The collapsed synthetic set (1,000 rows) as a Parquet file of 4 row groups."""
    table = pq.read_table(DATA / "breast_cancer_synthetic_collapsed.parquet")
    out = io.BytesIO()
    pq.write_table(table, out, row_group_size=len(table) // SHARDS)
    return out.getvalue()


def _run(pipeline: Pipeline, dataset_id: str, body: bytes) -> JobModel:
    s = pipeline.settings
    ref = seed_dataset(s, TENANT, "ref1", "reference.parquet", role="reference", status="ready")
    if not pipeline.keys(ref.s3_key):
        pipeline.put(ref.s3_key, (DATA / "breast_cancer_reference.parquet").read_bytes())
    ds = seed_dataset(s, TENANT, dataset_id, "synthetic.parquet",
                      auto_validation={"reference_id": "ref1", "options": FAST_OPTIONS})
    pipeline.put(ds.s3_key, body)
    pipeline.wait_all(timeout_s=120)
    (job,) = [j for j in JobModel.query(TENANT) if j.dataset_id == dataset_id]
    return job


def test_large_path_gives_the_small_path_answer(large: Pipeline,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    body = _sharded_parquet()
    # GIVEN the file validated on the large path (4 Batch shards)
    sharded = _run(large, "big1", body)
    # AND the same file validated on the small path
    monkeypatch.setenv("SYNTHOS_SMALL_MAX_BYTES", str(10 * len(body)))
    single = _run(large, "small1", body)
    # THEN both completed, the large one through every shard, with the same scores
    assert (sharded.status, single.status) == ("completed", "completed")
    assert (int(sharded.shards_done), int(sharded.shards_total)) == (SHARDS, SHARDS)
    commands = large.glue.batch_commands
    assert sorted(c[c.index("--index") + 1] for c in commands) == [str(i) for i in range(SHARDS)]
    assert large.glue.invocations.count("ReduceShards") == 1
    assert sharded.collapse_risk == pytest.approx(single.collapse_risk, abs=1e-9)
    assert sharded.risk_level == single.risk_level
    assert sharded.drift_score == pytest.approx(single.drift_score, abs=1e-9)


def test_failing_shard_is_retried_then_fails_the_job(large: Pipeline) -> None:
    # GIVEN a Batch container that always crashes on shard 1 (the others succeed)
    calls: list[str] = []

    def runner(argv: list[str], environ: Mapping[str, str]) -> int:
        index = argv[argv.index("--index") + 1]
        calls.append(index)
        return 1 if index == "1" else 0

    large.glue.batch_runner = runner
    # WHEN a large file is validated
    job = _run(large, "big2", _sharded_parquet())
    # THEN shard 1 ran twice (one retry), and the job failed naming the shard
    assert calls.count("1") == 2
    assert job.status == "failed"
    assert "shard" in job.reason and "Traceback" not in job.reason
    # AND no partial result was published, no shard state left behind
    assert large.keys(f"results/{TENANT}/") == []
    assert large.keys(f"shards/{TENANT}/{job.job_id}/") == []
    assert "ReduceShards" not in large.glue.invocations


def test_sharded_file_written_as_expected() -> None:
    # the fixture file really has one row group per intended shard
    meta = pq.ParquetFile(io.BytesIO(_sharded_parquet())).metadata
    assert (meta.num_rows, meta.num_row_groups) == (1000, SHARDS)
