"""The Batch worker under moto: shards read from S3 with ranged GETs, states merged, and the
result equal to the unsharded ``validate()``; failures exit non-zero with one line."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import boto3
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from synthos.aws import batch_worker
from synthos.aws.keys import manifest_key, shard_state_key
from synthos.aws.s3_file import S3File
from synthos.columns import classify_schema
from synthos.engine import ValidateOptions, result_from_outcomes, validate
from synthos.errors import DatasetNotFound
from synthos.io.readers import open_table
from synthos.profile import profile_source
from synthos.profiling.quantiles import SKETCH_ONLY
from synthos.shard import PartialState, finalize, plan_shards

DATA = Path(__file__).resolve().parents[2] / "layers" / "synthos" / "data"
TENANT, JOB = "t-1", "job-1"
OPTS = ValidateOptions(sample_rows=200, replicates=6, knn_rows=100, recommendations=False)


def _dataset(tmp_path: Path) -> Path:
    """1,300 rows: the collapsed synthetic sample plus 300 repeated rows, 13 row groups."""
    table = pq.read_table(DATA / "breast_cancer_synthetic_collapsed.parquet")
    table = pa.concat_tables([table, table.slice(0, 150), table.slice(0, 150)])
    path = tmp_path / "data.parquet"
    pq.write_table(table, path, row_group_size=100)
    return path


def _stage(settings, path: Path, **override) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    """Upload the data and its manifest (fields ``override``); (manifest URI, shards)."""
    s3 = boto3.client("s3", region_name=settings.region)
    source_key = f"uploads/{TENANT}/ds-1/data.parquet"
    s3.upload_file(str(path), settings.bucket, source_key)
    manifest = plan_shards(path, source_uri=f"s3://{settings.bucket}/{source_key}",
                           tenant=TENANT, job_id=JOB, target_bytes=30_000,
                           sample_rows=OPTS.sample_rows, seed=OPTS.seed)
    manifest = dataclasses.replace(manifest, **override)
    s3.put_object(Bucket=settings.bucket, Key=manifest_key(TENANT, JOB), Body=manifest.to_json())
    return f"s3://{settings.bucket}/{manifest_key(TENANT, JOB)}", len(manifest.items)


def test_sharded_run_on_s3_equals_the_unsharded_validation(aws, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # GIVEN a Parquet dataset of 13 row groups in moto S3 and its manifest of several shards
    path = _dataset(tmp_path)
    uri, shards = _stage(aws, path)
    assert shards >= 3
    # WHEN every array child runs the worker (index from the Batch environment variable)
    for index in range(shards):
        monkeypatch.setenv("AWS_BATCH_JOB_ARRAY_INDEX", str(index))
        assert batch_worker.main(["--manifest", uri]) == 0
    # ... and the reduce merges the states (fill pass from S3) and scores
    started = time.perf_counter()
    merged = batch_worker.reduce_states(aws, uri)
    ref_source = open_table(DATA / "breast_cancer_reference.parquet")
    ref = profile_source(ref_source, classify_schema(ref_source.schema),
                         sample_rows=OPTS.sample_rows, seed=OPTS.seed)
    sharded = result_from_outcomes(finalize(merged), ref, OPTS, started)
    # THEN the result is the one-pass validate() result, but for the file's path and timing
    whole = validate(path, DATA / "breast_cancer_reference.parquet", OPTS)
    assert merged.shards == list(range(shards))
    a, b = sharded.model_dump(), whole.model_dump()
    assert a["dataset"].pop("path").startswith("s3://") and b["dataset"].pop("path")
    a["engine"].pop("seconds"), b["engine"].pop("seconds")
    for column in [*a["dataset"]["column_profiles"], *b["dataset"]["column_profiles"],
                   *a["reference"]["column_profiles"], *b["reference"]["column_profiles"]]:
        for merged_float in ("mean", "std"):  # floats merged in another order
            column.pop(merged_float)  # (quantiles: exact below the planned cap, so equal)
    for side in ("dataset", "reference"):  # co-moments merged in another order: to rounding
        ca, cb = a[side].pop("correlation"), b[side].pop("correlation")
        assert (ca is None) == (cb is None)
        if ca is not None:
            assert (ca["columns"], ca["rows"]) == (cb["columns"], cb["rows"])
            assert np.allclose(np.array(ca["matrix"], float), np.array(cb["matrix"], float),
                               rtol=1e-12, atol=1e-12, equal_nan=True)
    assert a == b
    assert sharded.collapse_risk == whole.collapse_risk
    assert merged.rows == 1300 and merged.sampler.exact_duplicate_rows == 300


def test_worker_states_follow_the_manifest_quantile_cap(aws, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # GIVEN the dataset staged twice: as planned (1,300 rows fit the exact cap) and with the
    # manifest's cap set to SKETCH_ONLY (what the plan of a file above the cap writes)
    path = _dataset(tmp_path)
    s3 = boto3.client("s3", region_name=aws.region)
    kept = {}
    for cap in (None, SKETCH_ONLY):
        uri, _ = _stage(aws, path) if cap is None else _stage(aws, path, quantile_limit=cap)
        # WHEN shard 0 runs on the worker and its state is read back from S3
        assert batch_worker.main(["--manifest", uri, "--index", "0"]) == 0
        body = s3.get_object(Bucket=aws.bucket, Key=shard_state_key(TENANT, JOB, 0))["Body"]
        kept[cap] = PartialState.from_bytes(body.read())
    # THEN the planned manifest keeps exact values and the sketch-only one keeps none
    planned = [a.quantiles for a in kept[None].accs.values() if hasattr(a, "quantiles")]
    sketched = [a.quantiles for a in kept[SKETCH_ONLY].accs.values() if hasattr(a, "quantiles")]
    assert planned and all(q.exact and q.limit > 1300 for q in planned)
    assert sketched and all(not q.exact and q.limit == SKETCH_ONLY for q in sketched)


def test_shard_backend_is_an_argument_torch_gives_numpys_state(aws, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # GIVEN a staged dataset (torch runs on the CPU here; the GPU image passes --backend torch)
    pytest.importorskip("torch")
    from synthos.backends.torch_backend import TorchBackend

    blocks = []
    real = TorchBackend.co_moments
    monkeypatch.setattr(TorchBackend, "co_moments",
                        lambda self, x: blocks.append(len(x)) or real(self, x))
    uri, _ = _stage(aws, _dataset(tmp_path))
    s3 = boto3.client("s3", region_name=aws.region)
    states, profiles = {}, {}
    for backend in ("numpy", "torch"):
        # WHEN shard 0 runs with each backend and its state is read back
        assert batch_worker.main(["--manifest", uri, "--index", "0", "--backend", backend]) == 0
        body = s3.get_object(Bucket=aws.bucket, Key=shard_state_key(TENANT, JOB, 0))["Body"]
        states[backend] = PartialState.from_bytes(body.read())
        profiles[backend] = finalize(states[backend]).profile.model_dump()
    # THEN the co-moments agree to rounding and every other part of the profile is equal
    a, b = states["numpy"].co_moments, states["torch"].co_moments
    assert a is not None and b is not None and a.n == b.n > 0
    assert sum(blocks) == a.n  # every complete row went through the torch kernel
    np.testing.assert_allclose(b.mean, a.mean, rtol=1e-12)
    np.testing.assert_allclose(b.cross, a.cross, rtol=1e-10, atol=1e-9)
    ca, cb = profiles["numpy"].pop("correlation"), profiles["torch"].pop("correlation")
    np.testing.assert_allclose(np.array(cb["matrix"], float), np.array(ca["matrix"], float),
                               rtol=1e-10, atol=1e-12)
    assert profiles["numpy"] == profiles["torch"]


def test_an_unknown_shard_backend_is_refused_as_bad_input() -> None:
    with pytest.raises(batch_worker.InvalidOption, match="unknown shard backend"):
        batch_worker.shard_backend("cuda-magic")
    with pytest.raises(SystemExit) as exited:  # argparse: exit 2 with its usage line
        batch_worker.main(["--manifest", "s3://b/k", "--index", "0", "--backend", "tpu"])
    assert exited.value.code == 2


def test_s3_file_reads_only_the_row_groups_it_needs(aws, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # GIVEN the dataset in S3 opened as an S3File with 64 KiB blocks
    path = _dataset(tmp_path)
    s3 = boto3.client("s3", region_name=aws.region)
    s3.upload_file(str(path), aws.bucket, "uploads/t-1/ds-1/data.parquet")
    f = S3File(s3, aws.bucket, "uploads/t-1/ds-1/data.parquet", block_bytes=1 << 16)
    # WHEN pyarrow reads one row group through it
    table = pq.ParquetFile(f).read_row_group(4)
    # THEN the rows are those of the file, and far fewer bytes than the file were fetched
    assert table.equals(pq.ParquetFile(path).read_row_group(4))
    assert f.requests <= 6 and f.size == path.stat().st_size


@pytest.mark.parametrize("case", ["no_manifest", "bad_index", "no_index", "missing_source",
                                  "corrupt_source", "outside_scope"])
def test_failures_exit_non_zero_with_one_line(aws, tmp_path, capsys, monkeypatch, case) -> None:  # type: ignore[no-untyped-def]
    # GIVEN a staged dataset and manifest, broken in one way
    monkeypatch.delenv("AWS_BATCH_JOB_ARRAY_INDEX", raising=False)
    uri, shards = _stage(aws, _dataset(tmp_path))
    s3 = boto3.client("s3", region_name=aws.region)
    args = ["--manifest", uri, "--index", "0"]
    if case == "no_manifest":
        args[1] = f"s3://{aws.bucket}/shards/{TENANT}/other/manifest.json"
    elif case == "bad_index":
        args[3] = str(shards)
    elif case == "no_index":
        args = args[:2]
    elif case == "missing_source":
        s3.delete_object(Bucket=aws.bucket, Key=f"uploads/{TENANT}/ds-1/data.parquet")
    elif case == "corrupt_source":
        s3.put_object(Bucket=aws.bucket, Key=f"uploads/{TENANT}/ds-1/data.parquet",
                      Body=b"PAR1" + b"\x00garbage" * 500 + b"PAR1")
    else:
        body = S3File(s3, aws.bucket, manifest_key(TENANT, JOB)).read().replace(
            f"shards/{TENANT}/{JOB}/".encode(), b"shards/other-tenant/x/")
        s3.put_object(Bucket=aws.bucket, Key=manifest_key(TENANT, JOB), Body=body)
    # WHEN the worker runs
    code = batch_worker.main(args)
    # THEN it exits 2 with one line naming the problem, and writes no state
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and err.startswith("synthos-batch-worker:")
    listed = s3.list_objects_v2(Bucket=aws.bucket, Prefix=shard_state_key(TENANT, JOB, 0))
    assert listed.get("KeyCount", 0) == 0, err


def test_s3_file_seeks_and_reads_like_a_local_file(aws) -> None:  # type: ignore[no-untyped-def]
    # GIVEN 10,000 known bytes in S3, read through 1 KiB blocks
    body = bytes(range(256)) * 39 + b"tail"
    s3 = boto3.client("s3", region_name=aws.region)
    s3.put_object(Bucket=aws.bucket, Key="uploads/t-1/x.bin", Body=body)
    f = S3File(s3, aws.bucket, "uploads/t-1/x.bin", block_bytes=1024, cache_blocks=2)
    # WHEN read in the ways pyarrow and the text reader do / THEN the bytes are the file's
    assert f.read(10) == body[:10] and f.tell() == 10
    f.seek(-4, 2)
    assert f.read() == b"tail" and f.read(5) == b""
    f.seek(1000)
    assert f.read(3000) == body[1000:4000]
    buf = bytearray(7)
    f.seek(5, 0)
    assert f.readinto(buf) == 7 and bytes(buf) == body[5:12]
    with pytest.raises(OSError):
        f.seek(-1)
    # ... and a missing object is DatasetNotFound, not a botocore error
    with pytest.raises(DatasetNotFound):
        S3File(s3, aws.bucket, "uploads/t-1/none.bin")
