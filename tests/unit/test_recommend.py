"""Each recommendation is applied and re-scored: the number is measured, not a rule of thumb."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from synthos import groundtruth as gt
from synthos.columns import classify_schema
from synthos.engine import ValidateOptions, assess

OPTS = ValidateOptions(replicates=8)


def run(ds: pa.Table, ref: pa.Table):
    return assess(ds, ref, classify_schema(ref.schema), OPTS)


def test_lost_categories_are_restored_and_the_risk_falls():
    # GIVEN a Zipf column refit for 6 generations: its rare categories are gone
    rng = np.random.default_rng(0)
    ref, gens = gt.zipf_refit(150, 1.1, 6, 200, 2000, 3000, rng)
    result = run(gens[6], ref)
    by_action = {r.action: r for r in result.recommendations}
    restore = by_action["restore_categories"]
    assert "cat0" in restore.parameters["columns"]
    assert restore.predicted_collapse_risk < result.collapse.risk - 10
    cat0 = next(c for c in result.details if c.name == "cat0")
    assert "lost_categories" in cat0.findings and len(cat0.categories_lost) > 0


def test_rows_copied_from_the_reference_are_found_and_removing_them_helps():
    # GIVEN a dataset that is 40% verbatim reference rows (memorisation) and 60% fresh rows
    rng = np.random.default_rng(1)
    x = gt.synthetic_gaussian(4000, 5, rng)
    ref, fresh = x[:2000], x[2000:3200]
    copied = ref[rng.choice(2000, 800, replace=False)]
    result = run(gt.to_table(np.vstack([fresh, copied])), gt.to_table(ref))
    copy_signal = next(s for s in result.calibrated if s.signal == "exact_copy_rate")
    assert copy_signal.observed > 0.1
    rec = next(r for r in result.recommendations if r.action == "remove_reference_copies")
    assert rec.parameters["copy_share"] > 0.3
    assert rec.predicted_collapse_risk < result.collapse.risk


def test_mixing_real_data_searches_the_smallest_share_that_reaches_low():
    rng = np.random.default_rng(2)
    x = gt.synthetic_gaussian(4000, 4, rng)
    ref, train = x[:2000], x[2000:]
    collapsed = gt.gaussian_refit(train, 3, 25, 1500, rng)[3]
    result = run(gt.to_table(collapsed), gt.to_table(ref))
    mix = next(r for r in result.recommendations if r.action == "mix_real_data")
    assert 0 < mix.parameters["real_share"] <= 0.75
    assert mix.parameters["shares_tried"] >= 2
    if mix.predicted_risk_level == "low":  # the search found a share that passes
        assert mix.predicted_collapse_risk < 25
    assert result.recommendations == sorted(result.recommendations,
                                            key=lambda r: r.predicted_collapse_risk)
