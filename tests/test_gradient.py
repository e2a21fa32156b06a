"""Known answers: a straight route through three squares with life expectancy 80, 78, 76."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import line_feed, squares

from gradient import pipeline
from gradient.options import Z95
from gradient.schema import PATTERNS_CSV_COLUMNS, PATTERNS_EXTRA_COLUMNS, STOPS_CSV_COLUMNS, STOPS_EXTRA_COLUMNS
from gradient.sources import gtfs


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
    # weighted least squares (weights 1, 1, 1/4) of 80, 78, 76 on 0, 1, 2 km: its coefficients
    # are (-2/3, 1/3, 1/3), so its exact standard error is sqrt(4/9 + 1/9 + 4/9) = 1
    assert east["slope_per_km"] == pytest.approx(-2.0, abs=1e-6)
    assert east["slope_ci_low"] == pytest.approx(-2.0 - Z95, abs=1e-6)
    assert east["slope_ci_high"] == pytest.approx(-2.0 + Z95, abs=1e-6)
    assert east["rank"] == 1 and east["route_story"] != p.loc["R-1-1", "route_story"]


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
