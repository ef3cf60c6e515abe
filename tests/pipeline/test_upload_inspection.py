"""An upload nobody asked to validate is still inspected on its Object Created event: the
dataset becomes ready with format, rows, columns and SHA-256 (metadata only for a large file),
or failed with a readable reason (the upload kept)."""

from __future__ import annotations

import base64
import hashlib
import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from synthos.aws.tables import DatasetModel, JobModel
from synthos.local.pipeline_stack import wait_for
from tests.pipeline.conftest import DATA, Pipeline, object_created, seed_dataset, start

TENANT = "acme"
SOURCE = DATA / "breast_cancer_synthetic_collapsed.parquet"


def _expected() -> tuple[int, int]:
    meta = pq.ParquetFile(SOURCE).metadata
    return meta.num_rows, meta.num_columns


def _upload(pipeline: Pipeline, dataset_id: str, filename: str, body: bytes,
            **put: str) -> tuple[DatasetModel, str]:
    ds = seed_dataset(pipeline.settings, TENANT, dataset_id, filename)
    out = pipeline.s3().put_object(Bucket=pipeline.settings.bucket, Key=ds.s3_key, Body=body,
                                   **put)
    (run,) = pipeline.wait_all()
    assert run["status"] == "SUCCEEDED" and '"claimed": false' in run["output"]
    return DatasetModel.get(TENANT, dataset_id, consistent_read=True), str(out["VersionId"])


def test_small_upload_is_inspected_without_a_validation(pipeline: Pipeline) -> None:
    # GIVEN a Parquet upload with no validate{} (small: read whole)
    body = SOURCE.read_bytes()
    # WHEN its Object Created event has run through the state machine
    ds, version = _upload(pipeline, "plain1", "train.parquet", body)
    # THEN the dataset is ready with what the file is, and no job was made
    rows, columns = _expected()
    assert (ds.status, ds.format, int(ds.rows), int(ds.columns)) == ("ready", "parquet", rows,
                                                                      columns)
    assert ds.sha256 == hashlib.sha256(body).hexdigest()
    assert (int(ds.size_bytes), ds.version_id, ds.reason) == (len(body), version, None)
    assert list(JobModel.query(TENANT)) == []
    assert pipeline.glue.invocations == ["ClaimJob"]
    # AND a re-delivered event inspects nothing again and changes nothing
    arn = start(pipeline, "redelivered", object_created(pipeline, ds.s3_key, version))
    assert wait_for(pipeline.settings, arn)["status"] == "SUCCEEDED"
    again = DatasetModel.get(TENANT, "plain1", consistent_read=True)
    assert (again.status, again.updated_at) == ("ready", ds.updated_at)


def test_a_csv_upload_is_inspected_too(pipeline: Pipeline) -> None:
    # GIVEN a 3-row, 2-column CSV
    body = b"a,b\n1,x\n2,y\n3,z\n"
    # WHEN uploaded without validation
    ds, _ = _upload(pipeline, "csv1", "table.csv", body)
    # THEN rows and columns are the file's, the hash its bytes'
    assert (ds.status, ds.format, int(ds.rows), int(ds.columns)) == ("ready", "csv", 3, 2)
    assert ds.sha256 == hashlib.sha256(body).hexdigest()


def test_malformed_upload_is_failed_with_a_reason_and_kept(pipeline: Pipeline) -> None:
    # GIVEN bytes that are not Parquet at all
    garbage = b"PAR1" + b"\x00\x13not really parquet" * 50
    # WHEN uploaded without validation
    ds, version = _upload(pipeline, "bad1", "broken.parquet", garbage)
    # THEN the dataset is failed with a readable reason, nothing else recorded
    assert ds.status == "failed"
    assert "broken.parquet" in ds.reason and "Traceback" not in ds.reason
    assert (ds.rows, ds.columns, ds.sha256) == (None, None, None)
    # AND the upload is untouched
    obj = pipeline.s3().get_object(Bucket=pipeline.settings.bucket, Key=ds.s3_key)
    assert obj["Body"].read() == garbage and obj["VersionId"] == version


def _big_parquet() -> bytes:
    """Over the tests' 1 MiB small limit: 40,000 rows x 8 columns of random floats."""
    import numpy as np

    rng = np.random.default_rng(7)
    table = pa.table({f"c{i}": rng.normal(size=40_000) for i in range(8)})
    out = io.BytesIO()
    pq.write_table(table, out, row_group_size=10_000, compression="none")
    return out.getvalue()


@pytest.mark.parametrize("with_checksum", [False, True])
def test_large_parquet_is_described_from_its_footer(pipeline: Pipeline,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    with_checksum: bool) -> None:
    # GIVEN a Parquet file over the small limit, uploaded with or without a SHA-256 checksum
    body = _big_parquet()
    assert len(body) > pipeline.settings.small_max_bytes
    reads: list[str] = []
    from synthos.pipeline import storage

    monkeypatch.setattr(storage, "download", lambda *a: reads.append("download"))
    put = {"ChecksumAlgorithm": "SHA256"} if with_checksum else {}
    # WHEN uploaded without validation
    ds, _ = _upload(pipeline, f"big{int(with_checksum)}", "big.parquet", body, **put)
    # THEN rows and columns come from the footer (the file was never downloaded)
    assert (ds.status, ds.format, int(ds.rows), int(ds.columns)) == ("ready", "parquet",
                                                                      40_000, 8)
    assert reads == []
    # AND the SHA-256 is S3's full-object checksum when the upload supplied one, else unknown
    assert ds.sha256 == (hashlib.sha256(body).hexdigest() if with_checksum else None)


def test_large_csv_gets_its_columns_from_the_first_lines(pipeline: Pipeline) -> None:
    # GIVEN a 3-column CSV over the small limit
    line = b"1.25,abc,7\n"
    body = b"x,y,z\n" + line * (pipeline.settings.small_max_bytes // len(line) + 10)
    # WHEN uploaded without validation
    ds, _ = _upload(pipeline, "bigcsv", "big.csv", body)
    # THEN its columns are known, its rows not (a scan of the whole file would be needed)
    assert (ds.status, ds.format, int(ds.columns), ds.rows, ds.sha256) == (
        "ready", "csv", 3, None, None)


def test_s3_checksum_is_the_hex_sha256_only_for_a_full_object_checksum() -> None:
    from synthos.pipeline.describe import s3_sha256

    digest = hashlib.sha256(b"abc").digest()
    b64 = base64.b64encode(digest).decode()
    assert s3_sha256({"ChecksumSHA256": b64}) == digest.hex()
    assert s3_sha256({"ChecksumSHA256": b64, "ChecksumType": "FULL_OBJECT"}) == digest.hex()
    assert s3_sha256({"ChecksumSHA256": b64 + "-3", "ChecksumType": "COMPOSITE"}) is None
    assert s3_sha256({"ChecksumSHA256": b64, "ChecksumType": "COMPOSITE"}) is None
    assert s3_sha256({"ChecksumSHA256": "not base64!"}) is None
    assert s3_sha256({}) is None
