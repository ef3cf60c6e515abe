"""Property tests: the score depends on the data, not on how it is ordered or scaled."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synthos import groundtruth as gt
from synthos.engine import ValidateOptions, validate

OPTS = ValidateOptions(replicates=6, recommendations=False)
RNG = np.random.default_rng(9)
REF = gt.synthetic_gaussian(400, 4, RNG)
DS = gt.gaussian_refit(REF, 1, 30, 300, RNG)[1]
CATS = RNG.choice(["a", "b", "c", "d"], 300)
REF_CATS = RNG.choice(["a", "b", "c", "d"], 400)


def table(x: np.ndarray, cats: np.ndarray) -> pa.Table:
    return gt.to_table(x).append_column("cat", pa.array(cats))


def run(tmp, ds: pa.Table, ref: pa.Table) -> tuple[float, float]:
    pq.write_table(ds, tmp / "d.parquet")
    pq.write_table(ref, tmp / "r.parquet")
    r = validate(tmp / "d.parquet", tmp / "r.parquet", OPTS)
    return r.collapse_risk, r.drift_score


@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1),
       scale=st.floats(1e-3, 1e3), shift=st.floats(-1e4, 1e4))
def test_row_order_column_order_and_rescale_do_not_move_the_score(tmp_path, seed, scale, shift):
    base = run(tmp_path, table(DS, CATS), table(REF, REF_CATS))
    rng = np.random.default_rng(seed)
    perm, ref_perm = rng.permutation(DS.shape[0]), rng.permutation(REF.shape[0])
    ds = table(DS[perm] * scale + shift, CATS[perm])
    ref = table(REF[ref_perm] * scale + shift, REF_CATS[ref_perm])
    cols = list(rng.permutation(ds.column_names))
    moved = run(tmp_path, ds.select(cols), ref)
    assert abs(moved[0] - base[0]) <= 1.0
    assert abs(moved[1] - base[1]) <= 1.0
