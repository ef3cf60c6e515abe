"""synthos.profiling.quantiles: exact below the cap, KLL + REQ beyond it, merged and saved
safely; REQ tail quantiles within their stated relative rank error."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from synthos.errors import CorruptShardState
from synthos.profiling.quantiles import (
    EXACT_QUANTILE_LIMIT,
    MIN_EXACT_QUANTILE_LIMIT,
    SKETCH_ONLY,
    TAIL_LEVELS,
    Quantiles,
    exact_quantile,
    limit_for,
)
from synthos.profiling.safe_sketches import load_sketch


def _fed(values: np.ndarray, limit: int, parts: int = 1) -> Quantiles:
    out = Quantiles(limit)
    for chunk in np.array_split(values, parts):
        out.update(chunk)
    return out


def _rank(ordered: np.ndarray, value: float) -> float:
    return float(np.searchsorted(ordered, value, side="right")) / len(ordered)


def test_exact_quantile_is_the_inverted_cdf_by_hand() -> None:
    # GIVEN 10 values 1..10 / WHEN levels are read / THEN the least value of rank >= level
    ordered = np.arange(1.0, 11.0)
    assert [exact_quantile(ordered, q) for q in (0.001, 0.1, 0.15, 0.5, 0.99, 1.0)] == [
        1.0, 1.0, 2.0, 5.0, 10.0, 10.0]


def test_cap_depends_on_the_column_count_only() -> None:
    # GIVEN 1, 32, 64 and 10,000 quantile columns / THEN 1M, 1M, 500k and the floor
    assert [limit_for(n) for n in (1, 32, 64, 10_000)] == [
        EXACT_QUANTILE_LIMIT, EXACT_QUANTILE_LIMIT, 500_000, MIN_EXACT_QUANTILE_LIMIT]


def test_exact_merge_stays_exact_until_the_union_passes_the_cap() -> None:
    # GIVEN two exact halves of 600 values under a cap of 1,000, and two of 400
    x = np.random.default_rng(1).normal(size=1200)
    a, b = _fed(x[:600], 1000), _fed(x[600:], 1000)
    c, d = _fed(x[:400], 1000), _fed(x[400:800], 1000)
    # WHEN merged
    a.merge(b)
    c.merge(d)
    # THEN past the cap the union is sketched; a smaller union stays exact and equals numpy
    assert not a.exact and c.exact
    qs, err = c.levels()
    assert err == 0.0 and qs is not None
    assert qs["p25"] == float(np.quantile(x[:800], 0.25, method="inverted_cdf"))


def test_merge_of_different_caps_is_exact_only_within_the_least_cap() -> None:
    # GIVEN exact states of 60, 30 and 5 values under caps of 100, 100 and 50 and 100
    x = np.random.default_rng(3).normal(size=95)
    parts = [(x[:60], 100), (x[60:90], 100), (x[90:], 50)]

    def fold(order: list[int], group_first: bool) -> Quantiles:
        a, b, c = (Quantiles.load(_fed(*parts[i]).state()) for i in order)
        if group_first:  # (a + b) + c
            a.merge(b)
            a.merge(c)
            return a
        b.merge(c)  # a + (b + c)
        a.merge(b)
        return a

    # WHEN merged in every order and grouping
    folds = [fold(order, g) for order in ([0, 1, 2], [2, 1, 0], [1, 2, 0]) for g in (True, False)]
    # THEN the cap is the least (50) and 95 values pass it: sketched whatever the order;
    # without the small-cap state, 90 values under 100 stay exact and equal numpy's
    assert all(q.limit == 50 and not q.exact for q in folds)
    ab = Quantiles.load(_fed(*parts[0]).state())
    ab.merge(_fed(*parts[1]))
    ba = _fed(*parts[1])
    ba.merge(_fed(*parts[0]))
    assert ab.exact and ab.levels() == ba.levels() and ab.tails() == ba.tails()
    assert ab.levels()[0]["p50"] == float(  # type: ignore[index]
        np.quantile(x[:90], 0.5, method="inverted_cdf"))


def test_cap_zero_sketches_from_the_first_value_and_leaves_input_alone() -> None:
    # GIVEN a cap of 0 (the shards of a file above the cap) and a batch of values
    x = np.random.default_rng(8).normal(size=70_000)
    kept = x.copy()
    q = Quantiles(SKETCH_ONLY)
    # WHEN fed / THEN sketched at once, the caller's array unchanged, empty state exact
    assert Quantiles(SKETCH_ONLY).exact and Quantiles(SKETCH_ONLY).levels() == (None, None)
    q.update(x)
    assert not q.exact and np.array_equal(x, kept)
    qs, err = q.levels()
    assert qs is not None and err and abs(_rank(np.sort(x), qs["p50"]) - 0.5) <= err


def test_req_tails_are_within_their_relative_rank_error_merged_or_not() -> None:
    # GIVEN 300,000 log-normal values (a long upper tail) sketched in 6 parts, cap 10,000
    x = np.random.default_rng(7).lognormal(0.0, 1.5, 300_000)
    ordered = np.sort(x)
    parts = [_fed(chunk, 10_000, parts=3) for chunk in np.array_split(x, 6)]
    merged = parts[0]
    for p in parts[1:]:
        merged.merge(Quantiles.load(p.state()))  # through the saved form
    whole = _fed(x, 10_000, parts=30)
    # WHEN the tail levels are read
    for q in (merged, whole):
        tails, err = q.tails()
        assert tails is not None and err is not None and 0 < err < 0.5
        # THEN each is within err * min(r, 1 - r) of its level (plus float32 rounding)
        for name, level in TAIL_LEVELS.items():
            slack = err * min(level, 1 - level) + 2e-6
            assert abs(_rank(ordered, tails[name]) - level) <= slack, (name, err)
        # ... and the KLL levels within the KLL normalized rank error
        qs, kll_err = q.levels()
        assert qs is not None and kll_err
        assert abs(_rank(ordered, qs["p50"]) - 0.5) <= kll_err


def test_req_beats_kll_at_the_extreme_tails() -> None:
    # GIVEN 200,000 normal values in sketch mode
    x = np.random.default_rng(2).standard_normal(200_000)
    ordered = np.sort(x)
    q = _fed(x, 1000, parts=10)
    tails, _ = q.tails()
    assert tails is not None
    # WHEN / THEN the REQ p999 error in rank is within 10 % of the tail mass (0.0001)
    assert abs(_rank(ordered, tails["p999"]) - 0.999) <= 1e-4
    assert abs(_rank(ordered, tails["p001"]) - 0.001) <= 1e-4


def test_saved_sketch_state_round_trips() -> None:
    # GIVEN a sketched Quantiles / WHEN saved and loaded / THEN the same levels and tails
    q = _fed(np.random.default_rng(4).normal(size=5000), 100)
    again = Quantiles.load(q.state())
    assert again.levels() == q.levels() and again.tails() == q.tails()


def test_load_refuses_swapped_tail_sketches_and_bad_exact_values() -> None:
    # GIVEN a sketched state with its REQ sketches swapped, and exact values of a bad type
    state = _fed(np.arange(500.0), 100).state()
    swapped = {**state, "req_lo": state["req_hi"], "req_hi": state["req_lo"]}
    # WHEN / THEN each is refused
    for bad in (swapped, {"limit": 10, "exact": np.arange(5)}, {"limit": 0, "exact": []},
                {"limit": -1, "exact": np.empty(0)}, {"limit": 0, "exact": np.ones(1)}):
        with pytest.raises((ValueError, CorruptShardState)):
            Quantiles.load(bad)


_FUZZ = textwrap.dedent("""
    import numpy as np, datasketches as ds
    from synthos.errors import CorruptShardState
    from synthos.profiling.safe_sketches import load_sketch
    rng = np.random.default_rng(0)
    refused = 0
    for n, hra in ((0, True), (3, False), (5, True), (2000, False), (100000, True)):
        s = ds.req_floats_sketch(40, hra)
        s.update(rng.standard_normal(n).astype(np.float32))
        blob = s.serialize()
        cases = [blob[:i] for i in range(len(blob))]
        for _ in range(300):
            b = bytearray(blob)
            b[int(rng.integers(0, min(len(b), 96)))] = int(rng.integers(0, 256))
            cases.append(bytes(b))
        for c in cases:
            try:
                t = load_sketch("req", c)
                if not t.is_empty():
                    t.get_quantiles([0.001, 0.5, 0.999])
            except CorruptShardState:
                refused += 1
    print(refused)
""")


def test_cut_or_damaged_req_bytes_never_crash_the_process() -> None:
    # GIVEN REQ sketches of 0 to 100,000 items cut at every length and with bytes overwritten
    # WHEN each is loaded in a child process (the unguarded binding segfaults on these)
    done = subprocess.run([sys.executable, "-c", _FUZZ], capture_output=True, text=True,
                          timeout=240, check=False)
    # THEN the process survives and the cut ones were refused by name
    assert done.returncode == 0, done.stderr[-500:]
    assert int(done.stdout) > 1000


def test_req_guard_checks_the_layout() -> None:
    # GIVEN a valid REQ sketch's bytes, cut after a level preamble, and with a bad family
    q = _fed(np.arange(3000.0), 100)
    blob = q.state()["req_hi"]
    # WHEN / THEN the valid one loads and the damaged ones are refused before the binding
    assert load_sketch("req", blob).n == 3000
    for bad in (blob[:44], blob[:2] + b"\x0f" + blob[3:], b"", blob[:8]):
        with pytest.raises(CorruptShardState):
            load_sketch("req", bad)
