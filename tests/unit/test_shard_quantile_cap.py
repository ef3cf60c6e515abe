"""The plan decides the exact-quantile cap: exact for files that fit it, sketches from the
first value for the shards of files that cannot."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from synthos.columns import classify_schema
from synthos.errors import InvalidOption
from synthos.io.readers import open_table
from synthos.profile import profile_source
from synthos.profiling.quantiles import EXACT_QUANTILE_LIMIT, SKETCH_ONLY, TAIL_LEVELS, limit_for
from synthos.shard import fill_from_shards, finalize, merge_all
from synthos.shard.plan import Manifest, plan_shards, quantile_limit
from synthos.shard.read import profile_shard

BIG_ROWS = EXACT_QUANTILE_LIMIT + 50_000  # one column: the cap is EXACT_QUANTILE_LIMIT
SHARD_ROWS = 150_000
STATE_BYTES_BOUND = 200_000  # exact values alone would be SHARD_ROWS * 8 = 1.2 MB


def _states(path: Path, manifest: Manifest) -> list:  # type: ignore[type-arg]
    out = []
    for i in range(len(manifest.items)):
        with path.open("rb") as f:
            out.append(profile_shard(manifest, i, f))
    return out


def _rank_gap(ordered: np.ndarray, value: float, level: float) -> float:
    """How far ``level`` lies from the rank interval of ``value`` in ``ordered`` (ties)."""
    lo = np.searchsorted(ordered, value, side="left") / len(ordered)
    hi = np.searchsorted(ordered, value, side="right") / len(ordered)
    return 0.0 if lo <= level <= hi else float(min(abs(lo - level), abs(hi - level)))


def test_small_file_plan_keeps_exact_quantiles_equal_to_one_pass(tmp_path: Path) -> None:
    # GIVEN 3,000 rows of a numeric and a datetime column in 3 row-group shards
    rng = np.random.default_rng(3)
    table = pa.table({"x": rng.lognormal(size=3000),
                      "t": pa.array(rng.integers(0, 10**9, 3000), pa.timestamp("s"))})
    path = tmp_path / "small.parquet"
    pq.write_table(table, path, row_group_size=1000)
    # WHEN planned, profiled shard by shard, merged and finalized
    manifest = plan_shards(path, target_bytes=1, sample_rows=100)
    states = _states(path, manifest)
    merged = merge_all(states)
    fill_from_shards(merged, manifest, lambda: path.open("rb"))
    sharded = finalize(merged).profile.column_profiles
    source = open_table(path)
    whole = profile_source(source, classify_schema(source.schema),
                           sample_rows=100).profile.column_profiles
    # THEN the cap is that of 2 quantile columns, every state exact, and the quantiles are
    # the one-pass ones bit for bit, with zero rank error
    assert len(manifest.items) == 3 and manifest.quantile_limit == limit_for(2)
    assert all(a.quantiles.exact for s in states for a in s.accs.values())  # type: ignore[attr-defined]
    for got, want in zip(sharded, whole, strict=True):
        assert got.quantiles == want.quantiles and got.tail_quantiles == want.tail_quantiles
        assert got.quantile_rank_error == 0.0 == got.tail_quantile_rank_error
    assert sharded[0].quantiles["p50"] == float(  # type: ignore[index]
        np.quantile(table["x"].to_numpy(), 0.5, method="inverted_cdf"))


def test_big_file_plan_sketches_from_the_start_with_small_states(tmp_path: Path) -> None:
    # GIVEN 1,050,000 rows of one skewed numeric column (few distinct values, so the
    # distinct-count and row-count maps stay small), above the cap of 1,000,000, in 7 shards
    x = np.round(np.random.default_rng(5).lognormal(0.0, 1.0, BIG_ROWS) * 100)
    path = tmp_path / "big.parquet"
    pq.write_table(pa.table({"x": x}), path, row_group_size=SHARD_ROWS)
    # WHEN planned and profiled shard by shard
    manifest = plan_shards(path, target_bytes=1, sample_rows=100)
    states = _states(path, manifest)
    # THEN every shard starts in the sketch regime and writes a bounded state (exact values
    # would need 1.2 MB per shard)
    assert manifest.quantile_limit == SKETCH_ONLY and len(states) == 7
    assert all(not s.accs["x"].quantiles.exact for s in states)  # type: ignore[attr-defined]
    sizes = [len(s.to_bytes()) for s in states]
    assert max(sizes) < STATE_BYTES_BOUND < SHARD_ROWS * 8, sizes
    # ... and the merged quantiles are within the sketches' stated rank errors of the exact
    merged = merge_all(states[::-1])
    fill_from_shards(merged, manifest, lambda: path.open("rb"))
    col = finalize(merged).profile.column_profiles[0]
    ordered = np.sort(x)
    assert col.quantiles is not None and col.quantile_rank_error
    for name, value in col.quantiles.items():
        assert _rank_gap(ordered, value, int(name[1:]) / 100) <= col.quantile_rank_error
    assert col.tail_quantiles is not None and col.tail_quantile_rank_error
    for name, level in TAIL_LEVELS.items():
        slack = col.tail_quantile_rank_error * min(level, 1 - level)
        assert _rank_gap(ordered, col.tail_quantiles[name], level) <= slack, name


def test_old_manifest_without_a_cap_reads_with_the_default(tmp_path: Path) -> None:
    # GIVEN a manifest JSON written before the cap was planned (no quantile_limit key)
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"x": np.arange(500.0), "y": np.arange(500.0)}), path)
    raw = json.loads(plan_shards(path).to_json())
    del raw["quantile_limit"]
    # WHEN read back and a shard profiled
    manifest = Manifest.from_json(json.dumps(raw))
    with path.open("rb") as f:
        state = profile_shard(manifest, 0, f)
    # THEN the cap is today's default for 2 quantile columns, and the values are exact
    assert manifest.quantile_limit is None
    assert {a.quantiles.limit for a in state.accs.values()} == {limit_for(2)}  # type: ignore[attr-defined]
    assert all(a.quantiles.exact for a in state.accs.values())  # type: ignore[attr-defined]


@pytest.mark.parametrize("bad", [-1, "10", 2.5, True])
def test_manifest_refuses_a_cap_that_is_not_a_count(tmp_path: Path, bad: object) -> None:
    # GIVEN a manifest whose quantile_limit is not a non-negative integer
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"x": np.arange(10.0)}), path)
    raw = {**json.loads(plan_shards(path).to_json()), "quantile_limit": bad}
    # WHEN / THEN it is refused
    with pytest.raises(InvalidOption):
        Manifest.from_json(json.dumps(raw))


def test_plan_cap_by_hand() -> None:
    # GIVEN 2 numeric, 1 datetime and 1 categorical column: 3 quantile columns, cap 1,000,000
    schema = pa.schema([("a", pa.float64()), ("b", pa.int64()), ("t", pa.date32()),
                        ("s", pa.string())])
    specs = classify_schema(schema)
    cap = limit_for(3)
    # WHEN / THEN exact when the rows fit or the plan is one shard, else sketch-only
    assert cap == EXACT_QUANTILE_LIMIT
    assert quantile_limit(specs, cap, 5) == cap
    assert quantile_limit(specs, cap + 1, 2) == SKETCH_ONLY
    assert quantile_limit(specs, 10 * cap, 1) == cap
    wide = classify_schema(pa.schema([(f"c{i}", pa.float64()) for i in range(1000)]))
    assert limit_for(1000) == 65_536  # the floor: 32,000,000 // 1000 is below it
    assert quantile_limit(wide, 65_536, 3) == 65_536
    assert quantile_limit(wide, 100_000, 3) == SKETCH_ONLY
