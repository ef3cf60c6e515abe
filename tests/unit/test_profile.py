"""synthos.profile.profile_source: one streaming pass, hand-checked statistics."""

from __future__ import annotations

import datetime as dt
import decimal
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import synthos.profile as profile_module
import synthos.shard.state as shard_state_module
from synthos.columns import ColumnKind, ColumnSpec, classify_schema
from synthos.errors import InvalidOption, NoUsableColumns
from synthos.io.hashing import hash_rows
from synthos.io.readers import open_table, sha256_file
from synthos.profile import ProfileOutcome, profile_source

from .io_fixtures import ALL_FORMATS, reference_table, write_all, write_as


def _profile(
    path: Path, embedding_columns: tuple[str, ...] = (), **kwargs: object
) -> ProfileOutcome:
    source = open_table(path)
    specs = classify_schema(source.schema, embedding_columns)
    return profile_source(source, specs, **kwargs)  # type: ignore[arg-type]


def _col(out: ProfileOutcome, name: str):  # type: ignore[no-untyped-def]
    return next(c for c in out.profile.column_profiles if c.name == name)


def _write_parquet(tmp_path: Path, table: pa.Table, name: str = "t.parquet") -> Path:
    path = tmp_path / name
    pq.write_table(table, path)
    return path


def test_every_format_gives_the_same_profile_and_sample(tmp_path: Path) -> None:
    # GIVEN the reference table written in all seven formats
    paths = write_all(reference_table(), tmp_path)
    outcomes = {fmt: _profile(path) for fmt, path in paths.items()}
    base = outcomes["parquet"]
    for fmt in ALL_FORMATS:
        out = outcomes[fmt]
        # WHEN profiled / THEN column statistics (not the stored Arrow type) are identical
        got = [c.model_dump(exclude={"arrow_type"}) for c in out.profile.column_profiles]
        assert got == [
            c.model_dump(exclude={"arrow_type"}) for c in base.profile.column_profiles
        ], fmt
        assert (out.profile.rows, out.profile.exact_duplicate_rows) == (8, 1)
        assert out.profile.format == fmt
        # and the sample holds the same rows in the same order
        names = out.sample.column_names
        assert (hash_rows(out.sample, names) == hash_rows(base.sample, names)).all(), fmt


def test_hand_computed_statistics(tmp_path: Path) -> None:
    # GIVEN the reference table (x = 1.5, 2.5, NaN, null, 4, inf, 2.5, -1)
    out = _profile(write_as(reference_table(), tmp_path / "r.parquet", "parquet"))
    x, n, city, flag, ts = (_col(out, c) for c in ("x", "n", "city", "flag", "ts"))
    # THEN x: finite values -1, 1.5, 2.5, 2.5, 4 -> mean 1.9, population variance 13.7/5
    assert (x.count, x.null_count, x.nan_count, x.inf_count) == (8, 1, 1, 1)
    assert x.null_rate == 0.125
    assert x.mean == pytest.approx(1.9) and x.std == pytest.approx(math.sqrt(13.7 / 5))
    assert (x.min, x.max, x.distinct_count, x.distinct_exact) == (-1.0, 4.0, 5, True)
    # quantiles are exact (inverted CDF: the least value of rank >= level) below the cap
    assert (x.quantiles["p01"], x.quantiles["p50"], x.quantiles["p99"]) == (-1.0, 2.5, 4.0)
    assert (x.quantiles["p25"], x.quantiles["p75"]) == (1.5, 2.5)  # ranks 2/5, 4/5
    assert x.tail_quantiles == {"p001": -1.0, "p01": -1.0, "p99": 4.0, "p999": 4.0}
    assert x.quantile_rank_error == 0.0 and x.tail_quantile_rank_error == 0.0
    # n: 1, 2, 3, 5, 6, 2, 8 -> mean 27/7, six distinct
    assert n.mean == pytest.approx(27 / 7) and n.distinct_count == 6 and n.null_count == 1
    # city: oslo x4, rome x2, lima x1
    assert city.top_values == [("oslo", 4), ("rome", 2), ("lima", 1)]
    assert (city.distinct_count, city.null_count, city.constant) == (3, 1, False)
    # flag: 4 true, 3 false
    assert flag.top_values == [("true", 4), ("false", 3)] and flag.mean == pytest.approx(4 / 7)
    # ts: days 0, 1, 2, 3, 4, 5, 1, 7 after 2024-01-01, as ISO text and epoch nanoseconds
    assert (ts.min, ts.max, ts.distinct_count) == ("2024-01-01T00:00:00", "2024-01-08T00:00:00", 7)
    day0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC).timestamp() * 1e9
    assert ts.mean == pytest.approx(day0 + 23 / 8 * 86_400e9)
    # one row (the second) appears twice
    assert (out.profile.exact_duplicate_rows, out.profile.exact_duplicate_rate) == (1, 1 / 8)
    assert out.profile.sha256 == sha256_file(out.profile.path)


def test_quantiles_below_the_cap_are_numpys_inverted_cdf(tmp_path: Path) -> None:
    # GIVEN 100,000 standard normal values (below the exact-value cap)
    values = np.random.default_rng(5).standard_normal(100_000)
    out = _profile(_write_parquet(tmp_path, pa.table({"v": values})))
    v = _col(out, "v")
    # WHEN / THEN every reported quantile is numpy's exact inverted-CDF quantile, bit for bit
    levels = {"p01": 0.01, "p05": 0.05, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p95": 0.95,
              "p99": 0.99}
    assert v.quantiles == {k: float(np.quantile(values, q, method="inverted_cdf"))
                           for k, q in levels.items()}
    tails = {"p001": 0.001, "p01": 0.01, "p99": 0.99, "p999": 0.999}
    assert v.tail_quantiles == {k: float(np.quantile(values, q, method="inverted_cdf"))
                                for k, q in tails.items()}
    assert v.quantile_rank_error == 0.0 and v.tail_quantile_rank_error == 0.0
    assert v.mean == pytest.approx(values.mean()) and v.std == pytest.approx(values.std())


def test_distinct_count_is_exact_to_65536_then_estimated(tmp_path: Path) -> None:
    # GIVEN one column with exactly 65,536 distinct values and one with 80,000
    table = pa.table({"a": np.arange(80_000) % 65_536, "b": np.arange(80_000) * 3})
    out = _profile(_write_parquet(tmp_path, table))
    a, b = _col(out, "a"), _col(out, "b")
    # WHEN / THEN the first is counted exactly, the second by HLL within ~3%
    assert (a.distinct_count, a.distinct_exact) == (65_536, True)
    assert not b.distinct_exact and b.distinct_count == pytest.approx(80_000, rel=0.03)


def test_top_values_beyond_the_exact_limit_come_from_the_sketch(tmp_path: Path) -> None:
    # GIVEN 30,000 copies of "hot", 10,000 of "warm" and 70,000 unique labels
    labels = ["hot"] * 30_000 + ["warm"] * 10_000 + [f"u{i}" for i in range(70_000)]
    out = _profile(_write_parquet(tmp_path, pa.table({"c": labels})))
    c = _col(out, "c")
    # WHEN / THEN the heavy hitters lead, counted within the sketch error, with a warning
    assert [v for v, _ in c.top_values[:2]] == ["hot", "warm"]
    assert c.top_values[0][1] == pytest.approx(30_000, abs=100)
    assert "top values are estimates (frequent-items sketch)" in c.warnings
    assert not c.distinct_exact and c.distinct_count == pytest.approx(70_002, rel=0.03)


def test_embeddings_from_lists_and_from_json_text_agree(tmp_path: Path) -> None:
    # GIVEN the same vectors as fixed_size_list<float32, 3> in Parquet and JSON text in a CSV
    vectors = [[0.5, 1.0, -2.0], [0.0, 0.25, 4.0], None, [0.5, 1.0, -2.0]]
    parquet = _write_parquet(
        tmp_path, pa.table({"emb": pa.array(vectors, pa.list_(pa.float32(), 3)), "k": [1, 2, 3, 4]})
    )
    csv = tmp_path / "e.csv"
    csv.write_text('emb,k\n"[0.5, 1.0, -2.0]",1\n"[0, 0.25, 4e0]",2\n,3\n"[0.5,1,-2]",4\n')
    # WHEN both are profiled (the CSV column named as an embedding)
    a, b = _profile(parquet), _profile(csv, embedding_columns=("emb",))
    # THEN both give dim 3, the same statistics and the same fixed-size float64 sample
    for out in (a, b):
        emb = _col(out, "emb")
        assert (emb.embedding_dim, emb.count, emb.null_count, emb.distinct_count) == (3, 4, 1, 2)
        assert out.sample.schema.field("emb").type == pa.list_(pa.float64(), 3)
        assert next(s for s in out.specs if s.name == "emb").dim == 3
    assert (hash_rows(a.sample, ["emb", "k"]) == hash_rows(b.sample, ["emb", "k"])).all()


@pytest.mark.parametrize(
    ("column", "reason"),
    [
        (pa.array([[1.0, 2.0], [1.0, 2.0, 3.0]]), "vectors have different lengths (2 and 3)"),
        (
            pa.array(["[1, 2]", "not a vector"]),
            "values are not lists of numbers (e.g. '[0.1, 0.2]')",
        ),
    ],
)
def test_bad_embeddings_become_unsupported(tmp_path: Path, column: pa.Array, reason: str) -> None:
    # GIVEN an embedding column with vectors of two lengths, or text that is no vector
    path = _write_parquet(tmp_path, pa.table({"emb": column, "k": [1, 2]}))
    # WHEN profiled as an embedding
    out = _profile(path, embedding_columns=("emb",))
    # THEN it is unsupported with the reason, absent from the sample, marked in the specs
    assert [(u.name, u.reason) for u in out.profile.unsupported_columns] == [("emb", reason)]
    assert out.sample.column_names == ["k"]
    assert out.specs[0].kind == ColumnKind.UNSUPPORTED and out.specs[0].reason == reason
    assert f"column emb left out: {reason}" in out.profile.warnings


def test_other_column_types(tmp_path: Path) -> None:
    # GIVEN a decimal column, a dictionary-encoded text column, dates and a struct
    table = pa.table(
        {
            "price": pa.array(
                [decimal.Decimal("1.25"), decimal.Decimal("2.75")], pa.decimal128(6, 2)
            ),
            "cat": pa.array(["a", "b"]).dictionary_encode(),
            "day": pa.array([dt.date(2024, 2, 1), dt.date(2024, 2, 3)]),
            "nested": pa.array([{"p": 1}, {"p": 2}]),
        }
    )
    out = _profile(_write_parquet(tmp_path, table))
    # WHEN / THEN numbers, text and dates are measured; the struct is listed as unsupported
    assert _col(out, "price").mean == pytest.approx(2.0)
    assert _col(out, "cat").top_values == [("a", 1), ("b", 1)]
    assert (_col(out, "day").min, _col(out, "day").max) == ("2024-02-01", "2024-02-03")
    assert [u.name for u in out.profile.unsupported_columns] == ["nested"]
    assert out.sample.schema.field("price").type == pa.float64()
    assert out.sample.schema.field("cat").type == pa.string()
    assert out.profile.columns == 4 and out.sample.column_names == ["price", "cat", "day"]


def test_progress_and_batching_do_not_change_the_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN 5,000 rows with repeats, profiled in one batch and in batches of 1,000
    rng = np.random.default_rng(2)
    table = pa.table(
        {"v": rng.integers(0, 50, 5000).astype(float), "c": rng.choice(["p", "q", "r"], 5000)}
    )
    path = _write_parquet(tmp_path, table)
    whole = _profile(path, sample_rows=300)
    monkeypatch.setattr(profile_module, "batch_rows_for", lambda n_columns: 1000)
    seen: list[int] = []
    # WHEN the small-batch pass reports progress
    split = _profile(path, sample_rows=300, progress=seen.append)
    # THEN progress came after each batch, and every exact figure and the sample agree
    assert seen == [1000, 2000, 3000, 4000, 5000]
    for a, b in zip(whole.profile.column_profiles, split.profile.column_profiles, strict=True):
        assert (a.count, a.distinct_count, a.top_values, a.min, a.max) == (
            b.count,
            b.distinct_count,
            b.top_values,
            b.min,
            b.max,
        )
        assert a.mean == pytest.approx(b.mean) and (a.std or 0) == pytest.approx(b.std or 0)
    assert whole.profile.exact_duplicate_rows == split.profile.exact_duplicate_rows == 5000 - 150
    assert (hash_rows(whole.sample, ["v", "c"]) == hash_rows(split.sample, ["v", "c"])).all()
    assert whole.profile.sample_rows == whole.sample.num_rows == 300


def test_sample_size_is_capped_for_wide_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN 3,000 distinct rows of 4 columns and a budget of 4,000 sample cells
    table = pa.table({f"c{j}": np.arange(3000) + j for j in range(4)})
    path = _write_parquet(tmp_path, table)
    monkeypatch.setattr(shard_state_module, "SAMPLE_CELLS", 4_000)  # the cap lives there
    # WHEN profiled asking for 2,000 rows
    out = _profile(path, sample_rows=2_000)
    # THEN the sample is held to 1,000 rows (the floor) and a warning says why
    assert out.sample.num_rows == 1_000 == out.profile.sample_rows
    assert any("sample limited to 1000 rows" in w for w in out.profile.warnings)


def test_invalid_requests(tmp_path: Path) -> None:
    # GIVEN a small file
    source = open_table(
        _write_parquet(tmp_path, pa.table({"a": [1, 2], "s": pa.array([{"x": 1}, {"x": 2}])}))
    )
    specs = classify_schema(source.schema)
    # WHEN / THEN bad sample sizes, unknown or repeated columns and nothing measurable are refused
    with pytest.raises(InvalidOption):
        profile_source(source, specs, sample_rows=0)
    with pytest.raises(InvalidOption):
        profile_source(source, [*specs, ColumnSpec("ghost", ColumnKind.NUMERIC, "int64")])
    with pytest.raises(InvalidOption):
        profile_source(source, [specs[0], specs[0]])
    with pytest.raises(NoUsableColumns):
        profile_source(source, [specs[1]])
