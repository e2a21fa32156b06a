"""Statistics: exact standard errors, corrected tests, simultaneous intervals, trends, and a
small seeded calibration of every claim on a synthetic pattern whose truth is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.stats.multitest import multipletests

from gradient import OptionError, Options
from gradient.options import Z95
from gradient.stats.figures import grouped_reject, pattern_stats, stop_tests
from gradient.stats.trends import area_meta_regression, exact_trend
from gradient.stats.uncertainty import Family, Model, combination_se, pair_se, pair_tests, simultaneous_quantiles

# three areas: A (se 1), B (se 2), C (no standard error)
AREAS_SE = {"A": 1.0, "B": 2.0, "C": np.nan}


def weights(rows):
    """Weights table from (stop, area, weight) rows."""
    frame = pd.DataFrame(rows, columns=["stop_id", "area_id", "weight"])
    frame["le_se"] = frame["area_id"].map(AREAS_SE)
    frame["area_le"] = 80.0
    return frame


def test_pair_se_point_method():
    w = weights([("s1", "A", 1.0), ("s2", "B", 1.0), ("s3", "A", 1.0), ("s4", "C", 1.0)])
    got = pair_se(w, ["s1", "s1", "s2", "s1", "s1"], ["s2", "s3", "s1", "s4", "nobody"])
    np.testing.assert_allclose(got[:3], [np.sqrt(1 + 4), 0.0, np.sqrt(5)])
    assert np.isnan(got[3])  # area C has no standard error
    assert np.isnan(got[4])  # the second stop has no value


def test_pair_se_shared_buffer_areas():
    # s1 = 0.5 A + 0.5 B, s2 = 0.25 A + 0.75 B: the difference is 0.25 B - 0.25 A
    w = weights([("s1", "A", 0.5), ("s1", "B", 0.5), ("s2", "A", 0.25), ("s2", "B", 0.75)])
    assert pair_se(w, ["s1"], ["s2"])[0] == pytest.approx(np.sqrt(0.25**2 * 1 + 0.25**2 * 4))


def test_pair_tests_one_key_per_difference_of_areas():
    # s1 = A, s2 = B, s3 = A, s5 = 0.5 A + 0.5 B, s6 = 0.5 B + 0.5 A (the same, listed the other way)
    w = weights(
        [("s1", "A", 1.0), ("s2", "B", 1.0), ("s3", "A", 1.0), ("s5", "A", 0.5), ("s5", "B", 0.5)]
        + [("s6", "B", 0.5), ("s6", "A", 0.5)]
    )
    first = ["s1", "s2", "s3", "s1", "s1", "s5", "s1"]
    second = ["s2", "s1", "s2", "s5", "s3", "s6", "s6"]
    se, keys = pair_tests(w, first, second)
    np.testing.assert_array_equal(se, pair_se(w, first, second))
    # B - A, A - B and B - A again (s3 takes A as s1 does) are one test
    assert keys[0] == keys[1] == keys[2] != b""
    # 0.5 B - 0.5 A is another test, met twice (s6 is s5); no change at all has no key
    assert keys[3] == keys[6] != keys[0]
    assert keys[4] == keys[5] == b""
    assert pair_tests(w, [], [])[1].shape == (0,)


def test_pairs_in_blocks_give_what_all_at_once_gives(monkeypatch):
    from gradient.stats import uncertainty

    w = weights(
        [("s1", "A", 1.0), ("s2", "B", 1.0), ("s3", "A", 1.0), ("s5", "A", 0.5), ("s5", "B", 0.5)]
        + [("s6", "B", 0.5), ("s6", "A", 0.5), ("s7", None, 1.0)]
    )
    first = ["s1", "s2", "s3", "s1", "s1", "s5", "s1", "s7", "s9"]
    second = ["s2", "s1", "s2", "s5", "s3", "s6", "s6", "s1", "s1"]
    se, keys = pair_tests(w, first, second)
    monkeypatch.setattr(uncertainty, "PAIR_BLOCK", 2)  # five blocks, the last of one pair
    np.testing.assert_array_equal(pair_se(w, first, second), se)
    got_se, got_keys = pair_tests(w, first, second)
    np.testing.assert_array_equal(got_se, se)
    assert list(got_keys) == list(keys)
    assert np.isnan(se[-2:]).all()  # a stop without a value (s7) or without a row (s9)


def test_combination_se_of_any_linear_combination():
    w = weights([("s1", "A", 1.0), ("s2", "B", 1.0), ("s3", "A", 0.5), ("s3", "B", 0.5)])
    terms = pd.DataFrame(
        {"combo": [0, 0, 0, 1, 1], "stop_id": ["s1", "s2", "s3", "s1", "s3"], "coef": [0.5, 0.5, -1.0, 2.0, -2.0]}
    )
    got = combination_se(w, terms)
    # combo 0: 0.5 A + 0.5 B - (0.5 A + 0.5 B) = 0 exactly; combo 1: 2 A - A - B = A - B
    assert got[0] == 0.0
    assert got[1] == pytest.approx(np.sqrt(1 + 4))


def test_model_collapses_stops_that_share_their_areas():
    w = weights([("s1", "A", 1.0), ("s2", "A", 1.0), ("s3", "B", 1.0), ("s4", "A", 0.5), ("s4", "B", 0.5)])
    m = Model(w)
    rows = m.stops(["s1", "s2", "s3", "s4", "nobody"])
    assert rows[0] == rows[1] and len({rows[0], rows[2], rows[3]}) == 3 and rows[4] == -1
    assert m.n_rows == 3


def single_contrasts(n_groups: int, n_per: int):
    """Independent contrasts ``b_i - a_i`` of areas with se 1/sqrt(2), so each z is N(0, 1)."""
    rows, first, second, group = [], [], [], []
    for g in range(n_groups):
        for i in range(n_per):
            a, b = f"a{g}_{i}", f"b{g}_{i}"
            rows += [(a, a, 1.0), (b, b, 1.0)]
            first.append(a), second.append(b), group.append(f"g{g}")
    w = pd.DataFrame(rows, columns=["stop_id", "area_id", "weight"]).assign(le_se=np.sqrt(0.5))
    return Model(w), np.array(first), np.array(second), np.ones(len(first)), np.array(group)


def test_simultaneous_quantiles_match_known_distributions():
    model, a, b, se, g = single_contrasts(3, 10)
    ((per_group, overall),) = simultaneous_quantiles(model, [Family(se, g, a, b)], (0.95,), draws=4000)

    def sidak(m):
        return float(__import__("scipy.stats", fromlist=["norm"]).norm.ppf(1 - (1 - 0.95 ** (1 / m)) / 2))

    np.testing.assert_allclose(per_group[0.95], sidak(10), atol=0.06)  # max |z| of 10 independent N(0,1)
    assert overall[0] == pytest.approx(sidak(30), abs=0.06)


def test_simultaneous_quantiles_are_deterministic_and_do_not_depend_on_other_patterns():
    model, a, b, se, g = single_contrasts(3, 10)
    fam = Family(se, g, a, b)
    first = simultaneous_quantiles(model, [fam], (0.95,), draws=500)[0][0]
    again = simultaneous_quantiles(model, [fam], (0.95,), draws=500)[0][0]
    pd.testing.assert_frame_equal(first, again)
    alone = g == "g1"
    only = simultaneous_quantiles(
        Model(model_weights_of(a[alone], b[alone])),
        [Family(se[alone], g[alone], a[alone], b[alone])],
        (0.95,),
        draws=500,
    )[0][0]
    assert only.loc["g1", 0.95] == pytest.approx(first.loc["g1", 0.95], abs=1e-6)


def model_weights_of(a, b):
    rows = [(x, x, 1.0) for x in np.r_[a, b]]
    return pd.DataFrame(rows, columns=["stop_id", "area_id", "weight"]).assign(le_se=np.sqrt(0.5))


def pattern(le, se, names=None, areas=None, pid="P", dist_step=500.0):
    n = len(le)
    areas = areas or [f"{pid}a{i}" for i in range(n)]
    stops = pd.DataFrame(
        {
            "pattern_id": pid,
            "stop_sequence": np.arange(1, n + 1),
            "stop_id": [f"{pid}{i}" for i in range(n)],
            "stop_name": names or [f"S{i}" for i in range(n)],
            "dist_m": np.arange(n) * dist_step,
            "minutes": np.arange(n) * 2.0,
            "le": le,
            "le_se": se,
            "area_id": areas,
        }
    )
    stops["le_delta"] = stops.groupby("pattern_id")["le"].diff()
    valued = stops[stops["le"].notna()]
    w = pd.DataFrame(
        {
            "stop_id": valued["stop_id"],
            "area_id": valued["area_id"],
            "weight": 1.0,
            "area_le": valued["le"],
            "le_se": valued["le_se"],
        }
    )
    return stops, w


def test_stop_tests_z_and_significance():
    stops, w = pattern([80.0, 80.0, 74.0, 73.0], [1.0, 1.0, 1.0, 1.0], areas=["a", "a", "b", "c"])
    got = stop_tests(stops, w, Options(correction="none"))
    assert got["le_delta_se"].isna().tolist() == [True, False, False, False]
    np.testing.assert_allclose(got["le_delta_se"].iloc[1:], [0.0, np.sqrt(2), np.sqrt(2)])
    assert np.isnan(got["le_delta_z"].iloc[1])  # same area: exactly 0 change, no test
    np.testing.assert_allclose(got["le_delta_z"].iloc[2:], [-6 / np.sqrt(2), -1 / np.sqrt(2)])
    assert got["le_delta_significant"].tolist()[1:] == [False, True, False]


def test_holm_is_the_default_correction():
    assert Options().correction == "holm"


@pytest.mark.parametrize("method", ["holm", "fdr_bh", "fdr_by"])
def test_grouped_reject_matches_statsmodels_on_many_groups(method):
    rng = np.random.default_rng(3)
    p = rng.uniform(0, 0.2, 200) ** 2
    groups = rng.integers(0, 5, 200)
    got = grouped_reject(p, groups, 0.05, method)
    for g in np.unique(groups):
        expected = multipletests(p[groups == g], 0.05, method)[0]
        np.testing.assert_array_equal(got[groups == g], expected)


def test_unknown_correction():
    with pytest.raises(OptionError, match=r"correction='bonf' is not one of holm, fdr_by, fdr_bh, none"):
        Options(correction="bonf")


def test_identical_tests_count_once_in_their_family():
    # two patterns cross the same pair of areas: in the network family that is one test, not two.
    # A 3.3-year change with error sqrt(2) has p = 0.0196: Holm rejects it among 2 distinct tests
    # (0.05 / 2) but would not among 3 (0.05 / 3)
    a, wa = pattern([80.0, 76.7], [1.0, 1.0], areas=["x", "y"], pid="P")
    b, wb = pattern([80.0, 76.7], [1.0, 1.0], areas=["x", "y"], pid="Q")
    c, wc = pattern([80.0, 80.1], [1.0, 1.0], areas=["u", "v"], pid="R")
    stops = pd.concat([a, b, c], ignore_index=True)
    w = pd.concat([wa, wb, wc], ignore_index=True)
    got = stop_tests(stops, w, Options(family="network"))
    assert got["le_delta_p"].iloc[1] == pytest.approx(0.0196, abs=2e-4)
    assert got["le_delta_significant"].tolist() == [pd.NA, True, pd.NA, True, pd.NA, False]


def test_pattern_stats_known_answer():
    stops, w = pattern([80.0, 78.0, 76.0], [1.0, 1.0, 2.0], names=["A", "B", "C"])
    row = pattern_stats(stops, w, Options()).loc["P"]
    assert (row["le_first"], row["le_last"], row["le_change"]) == (80.0, 76.0, -4.0)
    assert (row["le_first_se"], row["le_last_se"]) == (1.0, 2.0)
    assert row["le_change_se"] == pytest.approx(np.sqrt(5))
    # one critical value covers every claim a sentence may choose (A-B, B-C, A-C, either way):
    # above one contrast's 1.96, below Bonferroni's over the three distinct contrasts
    half = (row["le_change_ci_high"] - row["le_change_ci_low"]) / 2 / np.sqrt(5)
    assert Z95 < half < 2.394
    assert not row["le_change_significant"]  # 4 years with an error of 2.2: cannot be told apart
    assert (row["steepest_fall"], row["steepest_fall_from"], row["steepest_fall_to"]) == (4.0, "A", "C")
    assert (row["steepest_fall_from_seq"], row["steepest_fall_to_seq"], row["steepest_fall_stops"]) == (1, 3, 2)
    assert row["steepest_fall_ci_low"] == pytest.approx(4 - half * np.sqrt(5))
    assert row["steepest_fall_robustness"] == pytest.approx(4 / (half * np.sqrt(5)))
    # slope: weighted least squares (weights 1, 1, 1/4) of 80, 78, 76 on 0, 0.5, 1 km: -4 y/km;
    # its coefficients are (-4/3, 2/3, 2/3) per km, so its standard error is sqrt(16/9 + 4/9 + 16/9) = 2
    assert row["slope_per_km"] == pytest.approx(-4.0)
    assert row["slope_se"] == pytest.approx(2.0)
    assert row["slope_ci_low"] == pytest.approx(-4 - Z95 * 2)
    assert row["n_areas_le"] == 3 and np.isnan(row["gen_slope_per_km"])  # fewer than 6 areas


def test_end_errors_belong_to_the_very_end_stops():
    # the first stop with a value has no standard error: it must not borrow the next stop's
    stops, w = pattern([80.0, 70.0, 69.0], [np.nan, 1.0, 1.0])
    row = pattern_stats(stops, w, Options()).loc["P"]
    assert np.isnan(row["le_first_se"]) and row["le_last_se"] == 1.0
    assert np.isnan(row["le_change_se"]) and pd.isna(row["le_change_significant"])


def test_both_ends_in_one_area_is_no_change_and_no_test():
    stops, w = pattern([80.0, 74.0, 80.0], [1.0, 1.0, 1.0], areas=["a", "b", "a"])
    row = pattern_stats(stops, w, Options()).loc["P"]
    assert row["le_change"] == 0 and row["le_change_se"] == 0 and not row["le_change_significant"]


def test_steepest_fall_respects_k():
    stops, w = pattern([80.0, 79.0, 78.0, 77.0, 76.0, 75.0, 74.0], [0.1] * 7)
    assert pattern_stats(stops, w, Options(stretch_k=2)).loc["P", "steepest_fall"] == pytest.approx(2.0)
    assert pattern_stats(stops, w, Options(stretch_k=6)).loc["P", "steepest_fall"] == pytest.approx(6.0)


def test_rising_pattern_has_no_fall():
    stops, w = pattern([70.0, 75.0, 80.0], [1.0, 1.0, 1.0])
    row = pattern_stats(stops, w, Options()).loc["P"]
    assert row["steepest_fall"] == 0 and pd.isna(row["steepest_fall_from"]) and not row["steepest_fall_significant"]
    assert row["max_drop"] == 0 and not row["max_drop_significant"]


def test_slope_per_10min_uses_minutes():
    stops, w = pattern([80.0, 78.0, 76.0], [1.0, 1.0, 1.0])
    row = pattern_stats(stops, w, Options()).loc["P"]
    assert row["slope_per_10min"] == pytest.approx(-2 / 0.2)  # 2 years per 2 minutes


def test_exact_slope_matches_statsmodels_wls_and_is_zero_within_one_area():
    rng = np.random.default_rng(0)
    le = 80 + rng.normal(0, 2, 12)
    se = rng.uniform(0.5, 2, 12)
    stops, w = pattern(list(le), list(se), dist_step=700.0)
    got = exact_trend(stops, stops["dist_m"].to_numpy() / 1000, w, Z95).loc["P"]
    fit = sm.WLS(le, sm.add_constant(stops["dist_m"] / 1000), weights=1 / se**2).fit()
    assert got["slope"] == pytest.approx(fit.params.iloc[1])
    # exact under independent area errors: the WLS variance with the scale fixed at 1
    assert got["se"] == pytest.approx(fit.bse.iloc[1] / np.sqrt(fit.scale))
    one, w1 = pattern([80.0] * 4, [1.0] * 4, areas=["a"] * 4)
    flat = exact_trend(one, one["dist_m"].to_numpy() / 1000, w1, Z95).loc["P"]
    assert flat["slope"] == 0.0 and flat["se"] == 0.0


def test_meta_regression_matches_statsmodels_with_knapp_hartung():
    rng = np.random.default_rng(1)
    m = 12
    x = np.sort(rng.uniform(0, 8, m))
    se = rng.uniform(0.5, 1.5, m)
    y = 82 - 0.6 * x + rng.normal(0, 2.0, m) + rng.normal(0, se)
    along = pd.DataFrame({"pattern_id": "P", "area_id": [f"a{i}" for i in range(m)], "x": x, "le": y, "le_se": se})
    got = area_meta_regression(along, pd.Index(["P"])).loc["P"]
    # DerSimonian-Laird tau^2 for meta-regression, by hand
    X = sm.add_constant(x)
    v = 1 / se**2
    fe = sm.WLS(y, X, weights=v).fit()
    q = np.sum(v * fe.resid**2)
    tr = np.sum(v) - np.trace(np.linalg.inv(X.T @ (v[:, None] * X)) @ (X.T @ ((v**2)[:, None] * X)))
    tau2 = max(0.0, (q - (m - 2)) / tr)
    assert got["tau"] == pytest.approx(np.sqrt(tau2))
    re = sm.WLS(y, X, weights=1 / (se**2 + tau2)).fit()
    assert got["slope"] == pytest.approx(re.params[1])
    scale = max(re.scale, 1.0)  # Knapp-Hartung, its scale kept at 1 or more
    half = __import__("scipy.stats", fromlist=["t"]).t.ppf(0.975, m - 2) * re.bse[1] * np.sqrt(scale / re.scale)
    assert (got["ci_low"], got["ci_high"]) == pytest.approx((re.params[1] - half, re.params[1] + half))
    assert got["n_areas"] == m


@pytest.mark.parametrize("keep_bytes", [2**26, 4 * 4 * 30, 4 * 1200 * 3])
@pytest.mark.parametrize("level", [0.95, 0.8, 0.999])
def test_group_quantiles_keep_only_what_the_quantile_reads_and_give_the_same_numbers(monkeypatch, keep_bytes, level):
    """The largest draws of each group, kept as they come, give numpy's quantile over all of them, exactly.

    A small memory forces both ways of saving it: a few draws of every contrast at a time, and
    each group cut back to the draws its quantile reads whenever its buffer fills.
    """
    from gradient.stats import uncertainty

    model, a, b, se, g = single_contrasts(4, 7)
    fam = Family(se, g, a, b)
    ((every_draw, overall),) = simultaneous_quantiles(model, [fam], (level,), draws=3000)
    monkeypatch.setattr(uncertainty, "KEEP_BYTES", keep_bytes)
    per_group, maxima = uncertainty.group_quantiles(model, fam, level, draws=3000)
    np.testing.assert_array_equal(per_group, every_draw[level].to_numpy())
    assert np.quantile(maxima.astype(float), level) == overall[0]
