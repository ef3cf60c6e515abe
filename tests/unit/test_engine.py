"""The engine end to end on files: the promises a user relies on."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from synthos import groundtruth as gt
from synthos.engine import ValidateOptions, validate
from synthos.errors import SchemaMismatch

FAST = ValidateOptions(replicates=12, recommendations=False)


def write(tmp_path, name: str, table: pa.Table) -> str:
    path = tmp_path / name
    pq.write_table(table, path)
    return str(path)


@pytest.fixture(scope="module")
def real_pair():
    rng = np.random.default_rng(42)
    x = gt.synthetic_gaussian(3000, 6, rng)
    return x[:1500], x[1500:]


def test_real_vs_real_is_low(tmp_path, real_pair):
    ref, ds = real_pair
    result = validate(write(tmp_path, "d.parquet", gt.to_table(ds)),
                      write(tmp_path, "r.parquet", gt.to_table(ref)), FAST)
    assert result.risk_level == "low"
    assert result.collapse_risk < 25


def test_ten_rows_tiled_200_times_is_critical(tmp_path, real_pair):
    # GIVEN the dataset the old product approved: ten real rows repeated 200 times
    ref, ds = real_pair
    tiled = np.tile(ds[:10], (200, 1))
    result = validate(write(tmp_path, "d.parquet", gt.to_table(tiled)),
                      write(tmp_path, "r.parquet", gt.to_table(ref)), FAST)
    assert result.risk_level == "critical"
    assert result.dataset.exact_duplicate_rows == 1990
    dup = next(s for s in result.signals if s.signal == "exact_duplicate_rate")
    assert dup.observed > 0.9


def test_pure_mean_shift_is_drift_not_collapse(tmp_path, real_pair):
    ref, ds = real_pair
    shifted = ds + 1.5 * ref.std(axis=0)
    result = validate(write(tmp_path, "d.parquet", gt.to_table(shifted)),
                      write(tmp_path, "r.parquet", gt.to_table(ref)), FAST)
    assert result.risk_level == "low"
    assert result.drift_level in ("high", "critical")
    assert all("shifted" in c.findings for c in result.columns)


def test_variance_collapse_is_found_and_located(tmp_path, real_pair):
    # GIVEN a dataset whose column x02 kept only 30% of its spread
    ref, ds = real_pair
    shrunk = ds.copy()
    shrunk[:, 2] = shrunk[:, 2].mean() + 0.3 * (shrunk[:, 2] - shrunk[:, 2].mean())
    result = validate(write(tmp_path, "d.parquet", gt.to_table(shrunk)),
                      write(tmp_path, "r.parquet", gt.to_table(ref)), FAST)
    assert result.risk_level in ("high", "critical")
    top = result.columns[0]
    assert top.name == "x02"
    assert "lost_variance" in top.findings
    assert top.variance_ratio == pytest.approx(0.09, rel=0.15)


def test_invariant_to_row_order_column_order_and_affine_rescale(tmp_path, real_pair):
    ref, ds = real_pair
    ds = gt.gaussian_refit(ds, 2, 40, 1500, np.random.default_rng(1))[2]
    base = validate(write(tmp_path, "d.parquet", gt.to_table(ds)),
                    write(tmp_path, "r.parquet", gt.to_table(ref)), FAST)
    rng = np.random.default_rng(7)
    perm = rng.permutation(ds.shape[0])
    cols = list(reversed(gt.to_table(ds).column_names))
    a, b = rng.uniform(0.01, 100, ds.shape[1]), rng.uniform(-1e3, 1e3, ds.shape[1])
    moved = validate(write(tmp_path, "d2.parquet", gt.to_table(ds[perm] * a + b).select(cols)),
                     write(tmp_path, "r2.parquet", gt.to_table(ref * a + b)), FAST)
    assert moved.collapse_risk == pytest.approx(base.collapse_risk, abs=1.0)
    assert moved.drift_score == pytest.approx(base.drift_score, abs=1.0)


def test_tiny_data_says_the_estimate_is_weak(tmp_path, real_pair):
    ref, ds = real_pair
    result = validate(write(tmp_path, "d.parquet", gt.to_table(ds[:40])),
                      write(tmp_path, "r.parquet", gt.to_table(ref)), FAST)
    assert result.confidence.level == "weak"
    assert any("weak" in r for r in result.confidence.reasons)


def test_without_reference_duplicates_still_give_a_risk(tmp_path, real_pair):
    _, ds = real_pair
    clean = validate(write(tmp_path, "c.parquet", gt.to_table(ds)), None, FAST)
    tiled = validate(write(tmp_path, "t.parquet", gt.to_table(np.tile(ds[:10], (200, 1)))),
                     None, FAST)
    assert clean.risk_level == "low"
    assert tiled.risk_level == "critical"
    assert clean.confidence.level == "low"
    assert clean.reference is None


def test_reference_with_nothing_in_common_is_rejected(tmp_path, real_pair):
    ref, ds = real_pair
    other = pa.table({"unrelated": ref[:, 0]})
    with pytest.raises(SchemaMismatch):
        validate(write(tmp_path, "d.parquet", gt.to_table(ds)),
                 write(tmp_path, "r.parquet", other), FAST)


def test_schema_differences_are_reported(tmp_path, real_pair):
    ref, ds = real_pair
    d = gt.to_table(ds).drop_columns(["x00"]).append_column("extra", pa.array(ds[:, 0]))
    r = gt.to_table(ref).set_column(1, "x01", pa.array([str(v) for v in ref[:, 1]]))
    result = validate(write(tmp_path, "d.parquet", d), write(tmp_path, "r.parquet", r), FAST)
    sc = result.schema_comparison
    assert sc.missing_in_dataset == ["x00"]
    assert sc.extra_in_dataset == ["extra"]
    assert [m["column"] for m in sc.type_mismatches] == ["x01"]


def test_recommendations_carry_measured_effects(tmp_path, real_pair):
    ref, ds = real_pair
    dup = np.vstack([ds[:700], np.tile(ds[:50], (16, 1))])
    result = validate(write(tmp_path, "d.parquet", gt.to_table(dup)),
                      write(tmp_path, "r.parquet", gt.to_table(ref)),
                      ValidateOptions(replicates=12))
    by_action = {r.action: r for r in result.recommendations}
    assert "drop_duplicates" in by_action
    drop = by_action["drop_duplicates"]
    assert drop.predicted_collapse_risk < result.collapse_risk
    assert drop.risk_reduction == pytest.approx(result.collapse_risk
                                                - drop.predicted_collapse_risk)
    assert "mix_real_data" in by_action


def test_result_json_has_the_documented_top_level(tmp_path, real_pair):
    ref, ds = real_pair
    result = validate(write(tmp_path, "d.parquet", gt.to_table(ds[:300])),
                      write(tmp_path, "r.parquet", gt.to_table(ref[:300])), FAST)
    doc = result.model_dump(mode="json")
    for key in ("collapse_risk", "risk_level", "drift_score", "confidence", "signals", "columns",
                "recommendations", "dataset", "reference", "engine"):
        assert key in doc
    assert len(doc["dataset"]["sha256"]) == 64
    assert doc["engine"]["backend"] == "numpy"


def test_embedding_mode_dropping_is_found_and_located(tmp_path):
    # GIVEN clustered embeddings where the dataset lost its 8 rarest of 16 modes
    rng = np.random.default_rng(5)
    x, labels = gt.synthetic_clusters(6000, 16, 16, rng)
    ref, pool, pool_labels = x[:3000], x[3000:], labels[3000:]
    kept = gt.mode_dropping(pool, pool_labels, 1, 8, 1200, rng)[1]
    result = validate(write(tmp_path, "d.parquet", gt.to_embedding_table(kept)),
                      write(tmp_path, "r.parquet", gt.to_embedding_table(ref)), FAST)
    emb = result.columns[0]
    assert emb.kind == "embedding" and emb.name == "embedding"
    assert "dropped_modes" in emb.findings
    assert emb.modes_left_empty >= 4
    assert result.risk_level in ("high", "critical")


def test_embedding_column_given_as_json_text_in_csv(tmp_path):
    rng = np.random.default_rng(6)
    x = rng.normal(size=(400, 4))
    rows = ["id,vec"] + [f'{i},"[{", ".join(f"{v:.6f}" for v in row)}]"'
                         for i, row in enumerate(x)]
    (tmp_path / "d.csv").write_text("\n".join(rows[:201]) + "\n")
    (tmp_path / "r.csv").write_text("\n".join([rows[0], *rows[201:]]) + "\n")
    opts = ValidateOptions(replicates=6, recommendations=False, embedding_columns=("vec",))
    result = validate(tmp_path / "d.csv", tmp_path / "r.csv", opts)
    kinds = {c.name: c.kind for c in result.dataset.column_profiles}
    assert kinds["vec"] == "embedding"
    assert any(s.scope.startswith("vec") for s in result.signals)
