"""KSComplement and TVComplement: hand-computed cases and equality with SDMetrics (the oracle)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthos.errors import EmptyDataset, InputError
from synthos.metrics.ks_complement import ks_complement, ks_statistic
from synthos.metrics.tv_complement import (
    SYNTHETIC_ONLY_PSEUDO_COUNT,
    tv_complement,
    tv_complement_from_counts,
)

sdmetrics_single_column = pytest.importorskip("sdmetrics.single_column")
IncomputableMetricError = pytest.importorskip("sdmetrics.errors").IncomputableMetricError
SdKS = sdmetrics_single_column.KSComplement
SdTV = sdmetrics_single_column.TVComplement
ORACLE_TOL = 1e-12


# --- KSComplement: hand-computed ---------------------------------------------------------------


def test_ks_hand_computed_shifted_halves():
    # ECDFs of {1, 2} and {2, 3}: at 1 -> 1/2 vs 0, at 2 -> 1 vs 1/2, at 3 -> 1 vs 1; D = 1/2.
    np.testing.assert_allclose(ks_complement(np.array([1.0, 2.0]), np.array([2.0, 3.0])), 0.5)


def test_ks_hand_computed_drops_nan_and_counts_ties():
    # real {0, 0, 1} (NaN dropped), synthetic {0, 1, 1, 1}: at 0 -> 2/3 vs 1/4; D = 5/12.
    real = np.array([0.0, np.nan, 0.0, 1.0])
    synthetic = np.array([1.0, 0.0, 1.0, 1.0, np.nan])
    np.testing.assert_allclose(ks_complement(real, synthetic), 1 - 5 / 12)


def test_ks_identical_and_disjoint():
    x = np.arange(10.0)
    assert ks_complement(x, x[::-1]) == 1.0
    assert ks_complement(x, x + 100) == 0.0


def test_ks_rounds_to_14_decimals_like_sdmetrics():
    # 0.1 + 0.2 != 0.3 in binary, but both round to the same 14-decimal value: a tie.
    assert ks_complement(np.array([0.1 + 0.2]), np.array([0.3])) == 1.0


def test_ks_empty_after_dropping_missing_is_nan():
    assert np.isnan(ks_complement(np.array([np.nan, np.nan]), np.array([1.0])))
    assert np.isnan(ks_complement(np.array([1.0]), np.array([], dtype=float)))
    assert np.isnan(ks_complement(np.array(["NaT"], "datetime64[s]"), np.array([0], "M8[s]")))


def test_ks_datetime_units_are_aligned():
    days = np.array(["2020-01-01", "2020-01-03", "NaT"], dtype="datetime64[D]")
    synthetic_ns = np.array(["2020-01-02"], dtype="datetime64[ns]")
    np.testing.assert_allclose(ks_complement(days, synthetic_ns), 0.5)


@pytest.mark.parametrize(
    ("real", "synthetic"),
    [
        (np.array(["a", "b"]), np.array(["a"])),
        (np.array([1, None], dtype=object), np.array([1.0])),
        (np.array(["2020-01-01"], dtype="datetime64[D]"), np.array([1.0])),
        (np.zeros((2, 2)), np.zeros(2)),
    ],
)
def test_ks_unsupported_input_is_a_named_error(real, synthetic):
    with pytest.raises(InputError):
        ks_complement(real, synthetic)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(-5, 5), min_size=1, max_size=30),
    st.lists(st.integers(-5, 5), min_size=1, max_size=30),
    st.randoms(use_true_random=False),
)
def test_ks_is_invariant_to_row_order_and_monotone_rescaling(a, b, rnd):
    real, synthetic = np.array(a, float), np.array(b, float)
    base = ks_complement(real, synthetic)
    rnd.shuffle(a)
    assert ks_complement(np.array(a, float), synthetic) == base
    assert ks_complement(3 * real + 7, 3 * synthetic + 7) == base
    np.testing.assert_allclose(ks_statistic(real, synthetic), ks_statistic(synthetic, real))


# --- KSComplement: oracle ----------------------------------------------------------------------


def _with_nans(rng: np.random.Generator, x: np.ndarray, share: float) -> np.ndarray:
    x = x.astype(float)
    x[rng.random(x.size) < share] = np.nan
    return x


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(("n_real", "n_synthetic"), [(7, 13), (500, 800), (12_000, 9_000)])
def test_ks_matches_sdmetrics_on_floats_with_nans(seed, n_real, n_synthetic):
    rng = np.random.default_rng(seed)
    real = _with_nans(rng, rng.normal(0, 1, n_real), 0.1)
    synthetic = _with_nans(rng, rng.normal(0.2, 1.3, n_synthetic), 0.2)
    assert abs(ks_complement(real, synthetic) - SdKS.compute(real, synthetic)) <= ORACLE_TOL


@pytest.mark.parametrize("seed", range(4))
def test_ks_matches_sdmetrics_on_ties_and_integers(seed):
    rng = np.random.default_rng(seed)
    real_int = rng.integers(0, 6, 300)
    synthetic_int = rng.integers(1, 7, 11_000)
    rounded = _with_nans(rng, np.round(rng.normal(0, 1, 900), 1), 0.05)
    cases = [
        (real_int, synthetic_int),
        (real_int, synthetic_int.astype(float)),
        (rounded, np.round(rng.normal(0, 1, 400), 1)),
        (rng.random(50) < 0.3, rng.random(70) < 0.5),
        (np.array([0.1 + 0.2, 0.3, np.inf, -np.inf]), np.array([0.3, 1.0, np.inf])),
    ]
    for real, synthetic in cases:
        assert abs(ks_complement(real, synthetic) - SdKS.compute(real, synthetic)) <= ORACLE_TOL


@pytest.mark.parametrize("unit", ["D", "s", "ns"])
def test_ks_matches_sdmetrics_on_datetimes(unit):
    rng = np.random.default_rng(11)
    start = np.datetime64("2020-01-01", unit)
    real = start + rng.integers(0, 400, 2_000).astype(f"timedelta64[{unit}]")
    synthetic = start + rng.integers(50, 500, 1_500).astype(f"timedelta64[{unit}]")
    real[::17] = np.datetime64("NaT")
    assert abs(ks_complement(real, synthetic) - SdKS.compute(real, synthetic)) <= ORACLE_TOL


@pytest.mark.filterwarnings("ignore:One or more sample arguments is too small")
def test_ks_matches_sdmetrics_when_a_side_is_all_nan():
    real, synthetic = np.array([np.nan, np.nan]), np.array([1.0, 2.0])
    assert np.isnan(ks_complement(real, synthetic))
    assert np.isnan(SdKS.compute(real, synthetic))


# --- TVComplement: hand-computed ---------------------------------------------------------------


def test_tv_hand_computed_shared_categories():
    # real a:2/4 b:1/4 c:1/4, synthetic a:1/4 b:3/4 -> TV = (1/4 + 1/2 + 1/4) / 2 = 1/2.
    real = np.array(["a", "a", "b", "c"], dtype=object)
    synthetic = np.array(["b", "a", "b", "b"], dtype=object)
    np.testing.assert_allclose(tv_complement(real, synthetic), 0.5)


def test_tv_hand_computed_synthetic_only_category_and_missing():
    # real a:1 b:1 (None dropped); synthetic a:1 c:1 (NaN dropped); c gets real count eps.
    eps = SYNTHETIC_ONLY_PSEUDO_COUNT
    total = 2 + eps
    tv = abs(0.5 - 1 / total) + 1 / total + abs(0.5 - eps / total)
    real = np.array(["a", "b", None], dtype=object)
    synthetic = np.array(["a", np.nan, "c"], dtype=object)
    np.testing.assert_allclose(tv_complement(real, synthetic), 1 - tv / 2, rtol=0, atol=1e-15)


def test_tv_labels_merge_by_python_equality_and_nan_string_is_a_label():
    assert tv_complement(np.array([1, 2]), np.array([2.0, 1.0])) == 1.0
    assert tv_complement(np.array([True, False]), np.array([1, 0], dtype=object)) == 1.0
    np.testing.assert_allclose(tv_complement(np.array(["nan"]), np.array(["nan", None])), 1.0)


def test_tv_from_counts_equals_label_form():
    real = np.array([0, 0, 1, 3])
    synthetic = np.array([1, 1, 2, 3, 3])
    from_counts = tv_complement_from_counts(
        np.bincount(real, minlength=5), np.bincount(synthetic, minlength=5)
    )
    np.testing.assert_allclose(from_counts, tv_complement(real, synthetic), rtol=0, atol=1e-15)


@pytest.mark.parametrize(
    ("real", "synthetic"),
    [
        (np.array([None, np.nan], dtype=object), np.array(["a"], dtype=object)),
        (np.array(["a"], dtype=object), np.array([], dtype=object)),
    ],
)
def test_tv_empty_side_is_a_named_error_like_sdmetrics(real, synthetic):
    with pytest.raises(EmptyDataset):
        tv_complement(real, synthetic)
    with pytest.raises(IncomputableMetricError):
        SdTV.compute(real, synthetic)


def test_tv_from_counts_rejects_misaligned_counts():
    with pytest.raises(InputError):
        tv_complement_from_counts(np.array([1, 2]), np.array([1, 2, 3]))


# --- TVComplement: oracle ----------------------------------------------------------------------


def _labels(rng: np.random.Generator, vocab: list[str], n: int, p_missing: float) -> np.ndarray:
    out = rng.choice(np.array(vocab, dtype=object), n, p=rng.dirichlet(np.ones(len(vocab))))
    missing = rng.random(n) < p_missing
    out[missing] = np.where(rng.random(int(missing.sum())) < 0.5, None, np.nan)
    return out


@pytest.mark.parametrize("seed", range(5))
def test_tv_matches_sdmetrics_on_one_sided_categories_and_missing(seed):
    rng = np.random.default_rng(seed)
    real = _labels(rng, ["a", "b", "c", "only_real"], 3_000, 0.1)
    synthetic = _labels(rng, ["a", "b", "c", "only_syn_1", "only_syn_2"], 2_000, 0.05)
    assert abs(tv_complement(real, synthetic) - SdTV.compute(real, synthetic)) <= ORACLE_TOL


def test_tv_matches_sdmetrics_on_numeric_bool_and_datetime_labels():
    rng = np.random.default_rng(3)
    cases = [
        (rng.integers(0, 5, 400), rng.integers(2, 8, 300)),
        (_with_nans(rng, rng.integers(0, 4, 200), 0.1), rng.integers(0, 5, 100)),
        (rng.random(90) < 0.3, rng.random(60) < 0.6),
        (
            np.array(["2020-01-01", "2020-01-02", "NaT", "2020-01-01"], dtype="datetime64[D]"),
            np.array(["2020-01-02", "2020-01-05"], dtype="datetime64[D]"),
        ),
    ]
    for real, synthetic in cases:
        assert abs(tv_complement(real, synthetic) - SdTV.compute(real, synthetic)) <= ORACLE_TOL
