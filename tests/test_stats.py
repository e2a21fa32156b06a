"""Statistics: known answers for standard errors, tests, stretches, ranks and headlines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from gradient.headline import headline
from gradient.stats import STRETCH_K, Z95, pair_se, pattern_stats, rank_network, stop_tests

# three areas: A (se 1), B (se 2), C (no standard error)
AREAS_SE = {"A": 1.0, "B": 2.0, "C": np.nan}


def weights(rows):
    """Weights table from (stop, area, weight) rows."""
    frame = pd.DataFrame(rows, columns=["stop_id", "area_id", "weight"])
    frame["le_se"] = frame["area_id"].map(AREAS_SE)
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


def pattern(le, se, names=None, areas=None, pid="P"):
    n = len(le)
    areas = areas or [f"a{i}" for i in range(n)]
    stops = pd.DataFrame({
        "pattern_id": pid, "stop_sequence": np.arange(1, n + 1), "stop_id": [f"{pid}{i}" for i in range(n)],
        "stop_name": names or [f"S{i}" for i in range(n)], "dist_m": np.arange(n) * 500.0,
        "minutes": np.arange(n) * 2.0, "le": le, "le_se": se, "area_id": areas,
    })
    stops["le_delta"] = stops["le"].diff()
    valued = stops[stops["le"].notna()]
    w = pd.DataFrame({"stop_id": valued["stop_id"], "area_id": valued["area_id"], "weight": 1.0,
                      "le_se": valued["le_se"]})
    return stops, w


def test_stop_tests_z_and_significance():
    stops, w = pattern([80.0, 80.0, 74.0, 73.0], [1.0, 1.0, 1.0, 1.0], areas=["a", "a", "b", "c"])
    got = stop_tests(stops, w)
    assert got["le_delta_se"].isna().tolist() == [True, False, False, False]
    np.testing.assert_allclose(got["le_delta_se"].iloc[1:], [0.0, np.sqrt(2), np.sqrt(2)])
    assert np.isnan(got["le_delta_z"].iloc[1])  # same area: exactly 0 change, no test
    np.testing.assert_allclose(got["le_delta_z"].iloc[2:], [-6 / np.sqrt(2), -1 / np.sqrt(2)])
    assert got["le_delta_significant"].tolist()[1:] == [False, True, False]
    assert got["le_delta_significant"].isna().tolist()[0]


@pytest.mark.parametrize("method", ["holm", "fdr_bh"])
def test_stop_tests_corrections_match_statsmodels(method):
    le = [80.0, 77.5, 80.3, 77.0, 74.5, 74.0]
    stops, w = pattern(le, [1.0] * 6)
    raw = stop_tests(stops, w)
    got = stop_tests(stops, w, alpha=0.05, correction=method)
    p = raw["le_delta_p"].iloc[1:].to_numpy()
    expected = multipletests(p, alpha=0.05, method=method)[0]
    assert got["le_delta_significant"].iloc[1:].tolist() == expected.tolist()
    assert raw["le_delta_significant"].iloc[1:].sum() >= got["le_delta_significant"].iloc[1:].sum()


@pytest.mark.parametrize("method", ["holm", "fdr_bh"])
def test_grouped_reject_matches_statsmodels_on_many_groups(method):
    from gradient.stats import grouped_reject

    rng = np.random.default_rng(7)
    p = np.concatenate([rng.uniform(0, 0.2, 40), rng.uniform(0, 1, 60), [0.01, 0.01, 0.01]])
    groups = np.repeat(["a", "b", "c", "d", "e"], [10, 25, 30, 35, 3])
    rng.shuffle(groups)
    got = grouped_reject(p, groups, 0.05, method)
    for g in np.unique(groups):
        mask = groups == g
        assert got[mask].tolist() == multipletests(p[mask], alpha=0.05, method=method)[0].tolist()


def test_unknown_correction():
    stops, w = pattern([80.0, 79.0], [1.0, 1.0])
    with pytest.raises(ValueError, match=r"correction='bonf' is not one of none, holm, fdr_bh"):
        stop_tests(stops, w, correction="bonf")


def test_pattern_stats_known_answer():
    # 80 -> 80 -> 77 -> 76 -> 75 -> 79: the steepest fall within 5 hops is 80 -> 75, and of the two
    # equal stretches (from S1 or S2) the shorter one is reported
    stops, w = pattern([np.nan, 80.0, 80.0, 77.0, 76.0, 75.0, 79.0], [np.nan, 1.0, 1.0, 1.0, 1.0, 2.0, 1.0],
                       areas=["z", "a", "a", "b", "c", "d", "e"])
    got = pattern_stats(stops, w).loc["P"]
    assert got["le_change"] == pytest.approx(-1.0)
    assert (got["le_change_from"], got["le_change_to"], got["le_change_stops"]) == ("S1", "S6", 5)
    assert got["le_change_se"] == pytest.approx(np.sqrt(2))
    assert got["le_change_ci_low"] == pytest.approx(-1 - Z95 * np.sqrt(2))
    assert not got["le_change_significant"]
    assert (got["le_first_se"], got["le_last_se"]) == (1.0, 1.0)
    assert got["steepest_fall"] == pytest.approx(5.0)
    assert (got["steepest_fall_from"], got["steepest_fall_to"], got["steepest_fall_stops"]) == ("S2", "S5", 3)
    assert got["steepest_fall_se"] == pytest.approx(np.sqrt(1 + 4))


def test_steepest_fall_respects_k():
    stops, w = pattern([80.0, 79.0, 78.0, 77.0, 76.0, 75.0, 74.0, 73.0], [1.0] * 8)
    assert pattern_stats(stops, w, k=STRETCH_K).loc["P", "steepest_fall"] == pytest.approx(5.0)
    assert pattern_stats(stops, w, k=2).loc["P", "steepest_fall"] == pytest.approx(2.0)


def test_rising_pattern_has_no_fall():
    stops, w = pattern([70.0, 72.0, 75.0], [1.0, 1.0, 1.0])
    got = pattern_stats(stops, w).loc["P"]
    assert got["steepest_fall"] == 0 and pd.isna(got["steepest_fall_from"])
    assert got["slope_per_km"] > 0 and got["slope_per_10min"] == pytest.approx(got["slope_per_km"] * 5 / 2 * 1)


def test_slope_per_10min_uses_minutes():
    stops, w = pattern([80.0, 78.0, 76.0], [1.0, 1.0, 1.0])
    got = pattern_stats(stops, w).loc["P"]
    # 500 m and 2 minutes between stops: -2 years per stop = -4 per km = -10 per 10 minutes
    assert got["slope_per_km"] == pytest.approx(-4.0)
    assert got["slope_per_10min"] == pytest.approx(-10.0)
    stops["minutes"] = np.nan
    assert np.isnan(pattern_stats(stops, w).loc["P", "slope_per_10min"])


def test_rank_network():
    table = pd.DataFrame({"le_range": [5.0, 9.0, np.nan, 9.0], "steepest_fall": [1.0, 4.0, np.nan, 0.0],
                          "slope_per_km": [-0.5, 0.1, np.nan, 0.3]})
    got = rank_network(table)
    assert got["rank_range"].tolist() == [3, 1, pd.NA, 1]
    assert got["rank_fall"].tolist() == [2, 1, pd.NA, 3]
    assert got["rank_slope"].tolist() == [1, 3, pd.NA, 2]


def row(first, last, se_first, se_last, **extra):
    base = {"route_name": "25", "le_change_from": "Oxford Circus", "le_change_to": "Ilford", "le_change_stops": 57,
            "le_first": first, "le_last": last, "le_first_se": se_first, "le_last_se": se_last,
            "le_change": last - first, "steepest_fall": np.nan, "steepest_fall_se": np.nan}
    base.update(extra)
    return pd.Series(base)


def test_headline_states_a_supported_fall():
    text = headline(row(85.0, 74.0, 1.0, 1.0), "persons", "2016-2020", "ONS")
    assert text == ("Between Oxford Circus and Ilford on route 25, life expectancy falls by 11.0 years over 57 "
                    "stops, from 85.0 to 74.0 (persons, 2016-2020; ONS).")


def test_headline_never_calls_a_rise_a_fall():
    text = headline(row(74.0, 85.0, 1.0, 1.0))
    assert "rises by 11.0 years" in text and "falls" not in text


def test_headline_refuses_overlapping_intervals():
    # 80 ± 3.9 and 76 ± 3.9 overlap, so the difference is not distinguishable
    text = headline(row(80.0, 76.0, 2.0, 2.0), "persons", "2010-2015", "USALEEP")
    assert "cannot be told apart: their 95% intervals overlap" in text
    assert "falls" not in text and "rises" not in text
    # just separated: 80 - 1.96 > 76 + 1.96
    assert "falls by 4.0 years" in headline(row(80.0, 76.0, 1.0, 1.0))


def test_headline_without_errors_says_untested():
    text = headline(row(80.0, 70.0, np.nan, np.nan))
    assert "falls by 10.0 years" in text and "the source gives no uncertainty, so the difference is untested" in text


def test_headline_with_too_little_data():
    text = headline(row(np.nan, np.nan, np.nan, np.nan, le_change=np.nan, le_change_stops=pd.NA))
    assert text == "On route 25, too few stops have a life expectancy estimate to compare its ends."


def test_headline_adds_a_supported_steepest_stretch():
    extra = {"steepest_fall": 12.7, "steepest_fall_se": 4.2, "steepest_fall_from": "7th Av @ 22nd St",
             "steepest_fall_to": "7th Av @ 24th St", "steepest_fall_stops": 1}
    text = headline(row(80.0, 76.0, 2.0, 2.0, **extra))
    assert text.endswith("The steepest stretch is from 7th Av @ 22nd St to the next stop, 7th Av @ 24th St, "
                         "where it falls by 12.7 years (95% interval 4.5 to 20.9).")
    weak = dict(extra, steepest_fall_se=7.0)
    assert "steepest" not in headline(row(80.0, 76.0, 2.0, 2.0, **weak))


@pytest.mark.filterwarnings("ignore::gradient.errors.GradientWarning")
def test_grouped_trend_matches_statsmodels_on_every_hart_pattern(hart_patterns, tracts):
    from gradient import pipeline
    from gradient.stats import grouped_trend, trend

    patterns, ps = hart_patterns
    stops = pipeline.run_patterns(patterns, ps, tracts).stops
    for x_col, scale in (("dist_m", 1000.0), ("minutes", 10.0)):
        got = grouped_trend(stops["pattern_id"].to_numpy(), stops[x_col].to_numpy(float) / scale,
                            stops["le"].to_numpy(float), stops["le_se"].to_numpy(float))
        for pid, grp in stops.groupby("pattern_id"):
            expected = trend(grp[x_col].to_numpy(float) / scale, grp["le"].to_numpy(float),
                             grp["le_se"].to_numpy(float))
            np.testing.assert_allclose(got.loc[pid, ["slope", "ci_low", "ci_high", "n"]].to_numpy(float),
                                       np.array(expected, dtype=float), rtol=1e-7, atol=1e-9, err_msg=pid)


def test_grouped_trend_ols_without_errors_and_short_groups():
    from gradient.stats import grouped_trend, trend

    x = np.array([0.0, 1.0, 2.0, 3.0, 0.0, 1.0, 5.0, 0.0, 1.0, 2.0])
    y = np.array([80.0, 79.0, 79.5, 77.0, 70.0, 72.0, np.nan, 60.0, 60.0, 60.0])
    se = np.array([np.nan, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    g = np.array(["a"] * 4 + ["b"] * 3 + ["c"] * 3)
    got = grouped_trend(g, x, y, se)
    for label, rows in (("a", slice(0, 4)), ("b", slice(4, 7)), ("c", slice(7, 10))):
        np.testing.assert_allclose(got.loc[label].to_numpy(float), np.array(trend(x[rows], y[rows], se[rows]), float),
                                   atol=1e-9, err_msg=label)
