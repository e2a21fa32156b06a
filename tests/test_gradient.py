"""Known answers: a straight route through three squares with life expectancy 80, 78, 76."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import line_feed, squares

from gradient import gtfs, pipeline
from gradient.schema import PATTERNS_CSV_COLUMNS, PATTERNS_EXTRA_COLUMNS, STOPS_CSV_COLUMNS, STOPS_EXTRA_COLUMNS
from gradient.stats import trend


@pytest.fixture()
def result(tmp_path):
    feed = gtfs.read_feed(line_feed(tmp_path / "feed"))
    patterns, pattern_stops = gtfs.stop_patterns(feed)
    return pipeline.run_patterns(patterns, pattern_stops, squares())


def test_stops_table_known_answer(result):
    s = result.stops
    assert list(s.columns) == STOPS_CSV_COLUMNS + STOPS_EXTRA_COLUMNS
    east = s[s["pattern_id"] == "R-0-1"]
    assert east["stop_name"].tolist() == ["A", "B", "C"]
    assert east["stop_sequence"].tolist() == [1, 2, 3]
    np.testing.assert_allclose(east["dist_m"], [0, 1000, 2000], atol=1e-3)
    assert east["area_id"].tolist() == ["A0", "A1", "A2"]
    assert east["le"].tolist() == [80.0, 78.0, 76.0]
    assert east["le_se"].tolist() == [1.0, 1.0, 2.0]
    assert np.isnan(east["le_delta"].iloc[0])
    np.testing.assert_allclose(east["le_delta"].iloc[1:], [-2.0, -2.0])
    assert east["minutes"].tolist() == [0.0, 2.0, 4.0]


def test_patterns_table_known_answer(result):
    p = result.patterns.set_index("pattern_id")
    assert list(result.patterns.columns) == PATTERNS_CSV_COLUMNS + PATTERNS_EXTRA_COLUMNS
    east = p.loc["R-0-1"]
    assert (east["n_trips"], east["n_stops"], east["n_stops_le"]) == (3, 3, 3)
    assert (east["first_stop"], east["last_stop"]) == ("A", "C")
    assert east["length_m"] == pytest.approx(2000, abs=1e-3)
    assert (east["le_first"], east["le_last"], east["le_min"], east["le_max"]) == (80, 76, 76, 80)
    assert east["le_range"] == 4
    assert east["max_drop"] == pytest.approx(2)
    assert (east["max_drop_from"], east["max_drop_to"]) == ("A", "B")
    assert east["slope_per_km"] == pytest.approx(-2.0, abs=1e-6)
    assert east["slope_ci_low"] == pytest.approx(-2.0, abs=1e-6)
    assert east["slope_ci_high"] == pytest.approx(-2.0, abs=1e-6)


def test_reversed_pattern_negates_deltas_and_slope(result):
    s = result.stops
    west = s[s["pattern_id"] == "R-1-1"]
    east = s[s["pattern_id"] == "R-0-1"]
    assert west["stop_name"].tolist() == ["C", "B", "A"]
    np.testing.assert_allclose(west["le_delta"].iloc[1:], -east["le_delta"].iloc[1:][::-1])
    p = result.patterns.set_index("pattern_id")
    assert p.loc["R-1-1", "slope_per_km"] == pytest.approx(-p.loc["R-0-1", "slope_per_km"])
    assert p.loc["R-1-1", "max_drop"] == 0
    assert pd.isna(p.loc["R-1-1", "max_drop_from"]) and pd.isna(p.loc["R-1-1", "max_drop_to"])


def test_missing_values_stay_missing(tmp_path):
    feed = gtfs.read_feed(line_feed(tmp_path / "feed", xs=(0, 1000, 2000, 3000), names="ABCD"))
    patterns, pattern_stops = gtfs.stop_patterns(feed)
    areas = squares(values=(80.0, np.nan, 76.0, 75.0), ses=(1.0, np.nan, 2.0, 1.0), xs=(0, 1000, 2000, 3000))
    res = pipeline.run_patterns(patterns, pattern_stops, areas)
    east = res.stops[res.stops["pattern_id"] == "R-0-1"]
    assert east["area_id"].tolist() == ["A0", "A1", "A2", "A3"]
    assert np.isnan(east["le"].iloc[1]) and np.isnan(east["le_se"].iloc[1])
    assert east["le_delta"].isna().tolist() == [True, True, True, False]
    row = res.patterns.set_index("pattern_id").loc["R-0-1"]
    assert row["n_stops_le"] == 3
    assert (row["le_first"], row["le_last"], row["le_range"]) == (80, 75, 5)
    assert row["max_drop"] == pytest.approx(1.0)
    assert (row["max_drop_from"], row["max_drop_to"]) == ("C", "D")
    # weighted least squares of 80, 76, 75 on 0, 2, 3 km with weights 1/se^2 (se 1, 2, 1)
    slope = np.polyfit([0, 2, 3], [80, 76, 75], 1, w=[1, 1 / 2, 1])[0]
    assert row["slope_per_km"] == pytest.approx(slope)
    assert row["slope_ci_low"] < slope < row["slope_ci_high"]


def test_trend_needs_three_stops_for_an_interval():
    slope, low, high, n = trend(np.array([0.0, 1.0]), np.array([80.0, 78.0]))
    assert slope == pytest.approx(-2) and np.isnan(low) and np.isnan(high) and n == 2
    assert all(np.isnan(trend(np.array([0.0, 1.0]), np.array([80.0, np.nan]))[:3]))
    assert all(np.isnan(trend(np.array([1.0, 1.0, 1.0]), np.array([80.0, 79.0, 78.0]))[:3]))


def newey_west(x, y, lags):
    """Newey-West HAC interval for an OLS slope, written out by hand (Bartlett kernel)."""
    from scipy import stats

    X = np.column_stack([np.ones_like(x), x])
    n = len(y)
    beta = np.linalg.solve(X.T @ X, X.T @ y)
    u = y - X @ beta
    xu = X * u[:, None]
    S = xu.T @ xu
    for lag in range(1, lags + 1):
        w = 1 - lag / (lags + 1)
        G = xu[lag:].T @ xu[:-lag]
        S += w * (G + G.T)
    bread = np.linalg.inv(X.T @ X)
    cov = bread @ S @ bread * n / (n - 2)  # statsmodels' small-sample correction
    half = stats.t.ppf(0.975, n - 2) * np.sqrt(cov[1, 1])
    return beta[1], beta[1] - half, beta[1] + half


def test_trend_interval_is_newey_west():
    x = np.array([0.0, 0.5, 1.2, 2.0, 2.4, 3.1, 4.0, 4.4, 5.0, 6.2])
    y = np.array([80.0, 80.0, 79.0, 79.0, 79.0, 76.5, 76.5, 77.0, 75.0, 75.0])
    slope, low, high, n = trend(x, y)
    assert n == 10
    assert (slope, low, high) == pytest.approx(newey_west(x, y, lags=2))  # floor(4 (10/100)^(2/9)) = 2
