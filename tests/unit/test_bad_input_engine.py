"""Bad input through the whole engine and CLI: a clear error (exit 2) or an honest result,
never a traceback, never NaN read as 0. (The reader-level cases are in test_bad_input_io.py.)"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from synthos.cli import main
from synthos.engine import ValidateOptions, validate

FAST = ValidateOptions(replicates=6, recommendations=False)


@pytest.fixture(scope="module")
def ref_path(tmp_path_factory):
    rng = np.random.default_rng(0)
    n = 600
    path = tmp_path_factory.mktemp("ref") / "ref.parquet"
    pq.write_table(pa.table({"a": rng.normal(size=n), "b": rng.normal(size=n),
                             "c": rng.choice(["x", "y", "z"], n)}), path)
    return path


def fresh(n: int, seed: int = 1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"a": rng.normal(size=n), "b": rng.normal(size=n), "c": rng.choice(["x", "y", "z"], n)}


def run_cli(*argv: str, capsys) -> tuple[int, str]:
    code = main(["validate", *argv, "-q", "--replicates", "6", "--no-recommendations"])
    return code, capsys.readouterr().err


@pytest.mark.parametrize(("content", "needle"), [
    (b"", "empty"),
    (b"a,b,c\n", "no rows"),
    (b"PAR1garbage-without-footer", "truncated"),
])
def test_unusable_files_exit_2_with_one_line(tmp_path, ref_path, capsys, content, needle):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    code, err = run_cli(str(bad), "-r", str(ref_path), capsys=capsys)
    assert code == 2
    assert needle in err and len(err.strip().splitlines()) == 1


def test_one_row_gives_a_weak_result_not_a_crash(tmp_path, ref_path):
    path = tmp_path / "one.csv"
    path.write_text("a,b,c\n0.1,0.2,x\n")
    result = validate(path, ref_path, FAST)
    assert result.dataset.rows == 1
    assert result.confidence.level == "weak"


def test_all_nan_column_is_a_lost_column_not_zeros(tmp_path, ref_path):
    cols = fresh(600)
    cols["b"] = np.full(600, np.nan)
    path = tmp_path / "nan.parquet"
    pq.write_table(pa.table(cols), path)
    result = validate(path, ref_path, FAST)
    prof = {c.name: c for c in result.dataset.column_profiles}
    assert prof["b"].nan_count == 600 and prof["b"].mean is None
    b = next(c for c in result.columns if c.name == "b")
    assert "lost_values_to_missing" in b.findings
    assert result.risk_level != "low"


def test_inf_values_are_counted_and_do_not_poison_signals(tmp_path, ref_path):
    cols = fresh(600)
    cols["a"][:6] = np.inf
    cols["a"][6:9] = -np.inf
    path = tmp_path / "inf.parquet"
    pq.write_table(pa.table(cols), path)
    result = validate(path, ref_path, FAST)
    prof = {c.name: c for c in result.dataset.column_profiles}
    assert prof["a"].inf_count == 9
    assert np.isfinite(prof["a"].mean)
    assert all(np.isfinite(s.observed) for s in result.signals)
    assert result.risk_level == "low"  # 1.5% missing values is within what real data shows


def test_constant_column_is_flagged_and_measured_as_collapsed(tmp_path, ref_path):
    cols = fresh(600)
    cols["a"] = np.full(600, 3.0)
    path = tmp_path / "const.parquet"
    pq.write_table(pa.table(cols), path)
    result = validate(path, ref_path, FAST)
    prof = {c.name: c for c in result.dataset.column_profiles}
    assert prof["a"].constant
    a = next(c for c in result.columns if c.name == "a")
    assert "lost_variance" in a.findings
    assert result.risk_level == "critical"


def test_mixed_types_and_latin1_csv_still_validate_with_warnings(tmp_path, ref_path):
    rng = np.random.default_rng(2)
    rows = [f"{v},{w},x" for v, w in zip(rng.normal(size=400), rng.normal(size=400),
                                         strict=True)]
    path = tmp_path / "mixed.csv"
    path.write_bytes(("a,b,c\n" + "\n".join(rows) + "\nabc,1.0,caf\xe9\n").encode("latin-1"))
    result = validate(path, ref_path, FAST)
    text = " ".join(result.warnings)
    assert "Latin-1" in text
    kinds = {c.name: c.kind for c in result.dataset.column_profiles}
    assert kinds["a"] == "categorical"  # read as text, then not comparable with numeric "a"
    assert [m["column"] for m in result.schema_comparison.type_mismatches] == ["a"]


def test_wrong_extension_is_read_by_content(tmp_path, ref_path):
    path = tmp_path / "really_parquet.csv"
    pq.write_table(pa.table(fresh(500)), path)
    result = validate(path, ref_path, FAST)
    assert result.dataset.format == "parquet"
    assert any("content is parquet" in w for w in result.warnings)
    assert result.risk_level == "low"


def test_ten_thousand_columns_end_to_end(tmp_path, capsys):
    rng = np.random.default_rng(4)
    wide_ref = pa.table({f"c{i}": rng.normal(size=40) for i in range(10_000)})
    wide = pa.table({f"c{i}": rng.normal(size=30) for i in range(10_000)})
    pq.write_table(wide_ref, tmp_path / "r.parquet")
    pq.write_table(wide, tmp_path / "d.parquet")
    out = tmp_path / "wide.json"
    code, err = run_cli(str(tmp_path / "d.parquet"), "-r", str(tmp_path / "r.parquet"),
                        "--json", str(out), capsys=capsys)
    assert code == 0, err
    doc = json.loads(out.read_text())
    assert doc["dataset"]["columns"] == 10_000
    assert doc["confidence"]["level"] == "weak"
