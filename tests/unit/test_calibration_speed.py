"""The calibration's shortcuts give exactly the answers of the plain computation.

Replicates on threads, anchors (and what the families derive from them) kept across re-scores,
sorted-hash copy rates, the fused k-NN cross pass with its clamp folded into the radii, and
category codes from pyarrow.
"""

import threading

import numpy as np
import pyarrow as pa
import pytest

from synthos.calibration import AnchorCache, calibrate, make_plan, map_replicates, measure_null
from synthos.columns import ColumnKind, ColumnSpec
from synthos.frame import build_pair
from synthos.metrics.tv_complement import tv_complement, tv_complement_from_counts
from synthos.recommend import Scorer
from synthos.signals import duplicates
from synthos.signals.context import build_context, standardize
from synthos.signals.neighbourhood import cross_pass

from .frames import numeric_frame


def _pair(seed: int = 0):
    rng = np.random.default_rng(seed)
    ref = numeric_frame(rng.normal(size=(600, 3)))
    ds = numeric_frame(rng.normal(size=(400, 3)) * 0.8,
                       row_hash=np.arange(1000, 1400, dtype=np.uint64))
    ctx = build_context(ref, knn_rows=100)
    return standardize(ds, ctx), standardize(ref, ctx), ctx


def _keyed(cals):
    return [(c.signal, c.scope, c.observed, c.baseline, c.baseline_sd, c.z) for c in cals]


def test_map_replicates_keeps_order_and_uses_threads():
    # GIVEN a job that records its thread
    seen = set()

    def job(b: int) -> int:
        seen.add(threading.get_ident())
        return b * b

    # WHEN it runs over 40 replicates THEN the answers come back in replicate order
    assert map_replicates(job, 40) == [b * b for b in range(40)]
    assert len(seen) >= 1


def test_threaded_calibration_equals_the_serial_loop(monkeypatch):
    # GIVEN one pair and plan, calibrated on threads and then on one thread
    import synthos.calibration as cal

    ds, ref, ctx = _pair()
    plan = make_plan(ds.n, ref.n, 8, seed=3)
    threaded = calibrate(ds, ref, ctx, plan)
    monkeypatch.setattr(cal, "_workers", lambda replicates: 1)
    serial = calibrate(ds, ref, ctx, plan)
    # THEN every number is identical
    assert _keyed(threaded) == _keyed(serial)


def test_anchor_cache_gives_the_same_calibration_and_builds_each_anchor_once():
    # GIVEN a plan and an anchor cache shared by the null and two calibrations
    ds, ref, ctx = _pair(1)
    plan = make_plan(ds.n, ref.n, 6, seed=2)
    cache = AnchorCache()
    null = measure_null(ref, ctx, plan, anchors=cache)
    first = dict(cache.frames)
    with_cache = calibrate(ds, ref, ctx, plan, null=null, anchors=cache)
    again = calibrate(ds, ref, ctx, plan, null=null, anchors=cache)
    plain = calibrate(ds, ref, ctx, plan)
    # THEN the anchors were built once, and the answers equal the uncached ones exactly
    assert sorted(first) == list(range(6))
    assert all(cache.frames[b] is first[b] for b in first)
    assert first[0].cache  # the families memoised their anchor-side quantities on it
    assert _keyed(with_cache) == _keyed(again) == _keyed(plain)


def test_scorer_reuses_its_null_and_anchors_without_changing_the_risk():
    # GIVEN one scorer asked twice, and a fresh scorer
    ds, ref, ctx = _pair(2)
    scorer = Scorer(ref, ctx, replicates=6, seed=0)
    first, second = scorer.risk(ds), scorer.risk(ds)
    fresh = Scorer(ref, ctx, replicates=6, seed=0).risk(ds)
    # THEN all three agree, and one null and one anchor set were kept for the one size
    assert first == second == fresh
    assert len(scorer._nulls) == 1 and len(scorer._anchors) == 1


def test_copy_rate_with_sorted_reference_hashes():
    # GIVEN 6 rows, of which rows 0, 3 and 5 equal reference rows (hand count: 3/6)
    rows = np.array([7, 1, 2, 9, 4, 7], dtype=np.uint64)
    ref = np.array([9, 7, 11, 3], dtype=np.uint64)
    assert duplicates.copy_rate(rows, ref) == pytest.approx(3 / 6)
    assert duplicates.copy_rate(rows, np.sort(ref), reference_sorted=True) == pytest.approx(0.5)
    # a value above every reference hash, an empty reference, an empty candidate
    assert duplicates.copy_rate(np.array([99], dtype=np.uint64), ref) == 0.0
    assert duplicates.copy_rate(rows, np.zeros(0, dtype=np.uint64)) == 0.0
    assert duplicates.copy_rate(np.zeros(0, dtype=np.uint64), ref) == 0.0
    assert duplicates.duplicate_rate(np.zeros(0, dtype=np.uint64)) == 0.0


def test_cross_pass_zero_radius_never_counts_a_coincident_point():
    # GIVEN anchor points 0 and 1 on a line, anchor radii (0, 2), and one dataset point at 0
    a = np.array([[0.0], [1.0]])
    x = np.array([[0.0], [5.0]])
    r_a = np.array([0.0, 2.0])
    r_x = np.array([0.0, 10.0])
    c = cross_pass(x, a, r_x, r_a, k=1)
    # THEN (strict <, as in prdc): x0 is not inside ball 0 (radius 0) but is inside ball 1
    # (distance 1 < 2); x1 is inside neither; x1's radius 10 recalls both anchor points
    assert c.precision == pytest.approx(0.5)
    assert c.density == pytest.approx(1 / 2)
    assert c.coverage == pytest.approx(0.5)
    assert c.recall == pytest.approx(1.0)
    np.testing.assert_allclose(c.nearest, [0.0, 4.0])


def test_category_codes_and_details_tv_from_counts():
    # GIVEN string and boolean columns with missing values on both sides
    ds = pa.table({"c": pa.array(["b", None, "a", "b"]), "f": pa.array([True, None, False, True])})
    ref = pa.table({"c": pa.array(["c", "a", "a", None]), "f": pa.array([False, False, True,
                                                                          None])})
    specs = [ColumnSpec("c", ColumnKind.CATEGORICAL, "string"),
             ColumnSpec("f", ColumnKind.BOOLEAN, "bool")]
    s, r = build_pair(ds, ref, specs)
    assert r is not None
    # THEN codes index the sorted union of values, -1 where missing
    assert s.vocabularies == (("a", "b", "c"), ("false", "true"))
    np.testing.assert_array_equal(s.categorical, [[1, 1], [-1, -1], [0, 0], [1, 1]])
    np.testing.assert_array_equal(r.categorical, [[2, 0], [0, 0], [0, 1], [-1, -1]])
    # AND the TV complement from code counts equals the one from labels
    cs, cr = np.bincount([1, 0, 1], minlength=3), np.bincount([2, 0, 0], minlength=3)
    assert tv_complement_from_counts(cr, cs) == pytest.approx(
        tv_complement(np.array(["c", "a", "a"], dtype=object),
                      np.array(["b", "a", "b"], dtype=object)), abs=1e-15)


def test_frame_memo_computes_once_per_key():
    # GIVEN a frame and a counting computation
    frame = numeric_frame(np.arange(5.0))
    calls = []

    def compute() -> int:
        calls.append(1)
        return 42

    # WHEN one key is asked twice and another once THEN two computations ran
    assert frame.memo("a", compute) == frame.memo("a", compute) == 42
    assert frame.memo("b", compute) == 42
    assert len(calls) == 2
    # AND a row subset starts with an empty memo (its derived arrays differ)
    assert frame.take(np.array([0, 1])).cache == {}
