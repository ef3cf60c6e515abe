"""Two runs of ``synthos validate`` on the same files give the same JSON, byte for byte, but for
the wall-clock fields (WALL_CLOCK_FIELDS): in one process and in two fresh processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from synthos.engine import ValidateOptions, validate
from synthos.result import ValidationResult

# every field of a ValidationResult that measures time (the only ones allowed to differ)
WALL_CLOCK_FIELDS = (("engine", "seconds"),)
OPTS = ValidateOptions(sample_rows=3_000, replicates=6)  # the CLI defaults otherwise


def _write(path: Path, seed: int, rows: int) -> Path:
    # numeric columns well past KLL's k=200 (the sketch that drew unseeded random bits),
    # nulls, a category and timestamps
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 3)) @ rng.normal(size=(3, 3))
    table = pa.table({
        "a": x[:, 0], "b": pa.array(x[:, 1], mask=rng.random(rows) < 0.05),
        "c": np.round(x[:, 2] * 10).astype(np.int64), "d": rng.lognormal(0, 2, rows),
        "cat": rng.choice(["p", "q", "r", "s"], rows),
        "ts": pa.array(rng.integers(0, 10**12, rows)).cast(pa.timestamp("ms")),
    })
    pq.write_table(table, path, row_group_size=4_096)
    return path


def _canonical(doc: dict) -> str:  # type: ignore[type-arg]
    for outer, inner in WALL_CLOCK_FIELDS:
        assert isinstance(doc[outer][inner], float)
        doc[outer][inner] = 0.0
    return json.dumps(doc, sort_keys=True)


def _in_process(data: Path, ref: Path) -> str:
    return _canonical(json.loads(validate(data, ref, OPTS).model_dump_json()))


def _cli(data: Path, ref: Path, out: Path) -> str:
    cmd = [sys.executable, "-m", "synthos.cli", "validate", str(data), "--reference", str(ref),
           "--json", str(out), "--sample-rows", str(OPTS.sample_rows), "--replicates",
           str(OPTS.replicates), "--quiet"]
    env = {**os.environ, "PYTHONHASHSEED": str(len(out.name))}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-800:]
    return out.read_text()


def test_two_validations_in_one_process_are_identical(tmp_path: Path) -> None:
    # GIVEN a 12,000-row dataset and a reference
    data = _write(tmp_path / "d.parquet", 1, 12_000)
    ref = _write(tmp_path / "r.parquet", 2, 5_000)
    # WHEN validated twice in this process
    first, second = _in_process(data, ref), _in_process(data, ref)
    # THEN the JSON is identical but for the wall-clock fields
    assert first == second
    profile = json.loads(first)["dataset"]
    assert profile["correlation"]["columns"] == ["a", "b", "c", "d"]
    assert all(c.get("quantile_rank_error") in (0.0, None) for c in profile["column_profiles"])


def test_two_cli_runs_in_fresh_processes_write_identical_json(tmp_path: Path) -> None:
    # GIVEN the dataset and reference
    data = _write(tmp_path / "d.parquet", 1, 12_000)
    ref = _write(tmp_path / "r.parquet", 2, 5_000)
    # WHEN `synthos validate --json` runs in two fresh processes (other hash seeds)
    texts = [_cli(data, ref, tmp_path / name) for name in ("one.json", "second.json")]
    # THEN both files are the same JSON but for the wall-clock fields ...
    docs = [_canonical(json.loads(t)) for t in texts]
    assert docs[0] == docs[1]
    # ... and the same as a validation in this process with the same options
    ValidationResult.model_validate_json(texts[0])
    in_process = json.loads(_in_process(data, ref))
    cli_doc = json.loads(docs[0])
    for doc in (in_process, cli_doc):  # file paths differ only by how they were passed
        doc["dataset"].pop("path"), doc["reference"].pop("path")
    assert in_process == cli_doc
