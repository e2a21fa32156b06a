"""The same patterns under point and buffer assignment."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import line_feed, squares

from gradient._sensitivity import sensitivity, sensitivity_summary
from gradient.sources import gtfs


def test_known_answer_across_methods(tmp_path):
    patterns, ps = gtfs.stop_patterns(gtfs.read_feed(line_feed(tmp_path / "f")))
    long = sensitivity(patterns, ps, squares(), methods=[("point", None), ("buffer", 200.0), ("buffer", 800.0)])
    assert long["method"].unique().tolist() == ["point", "buffer 200 m", "buffer 800 m"]
    east = long[long["pattern_id"] == "R-0-1"].set_index("method")
    # 200 m circles stay inside each stop's own square: same answer as the point method
    assert east.loc["point", "le_range"] == east.loc["buffer 200 m", "le_range"] == 4
    # 800 m circles reach the neighbouring squares and flatten the gradient
    assert east.loc["buffer 800 m", "le_range"] < 4
    assert east.loc["point", "slope_per_km"] == pytest.approx(-2)
    summary = sensitivity_summary(long).set_index("pattern_id")
    row = summary.loc["R-0-1"]
    assert row["range_max"] == 4 and row["range_min"] == pytest.approx(east.loc["buffer 800 m", "le_range"])
    assert row["range_spread"] == pytest.approx(4 - row["range_min"])
    assert bool(row["slope_sign_agrees"]) is True


def test_hart_sensitivity(hart_patterns, tracts):
    patterns, ps = hart_patterns
    long = sensitivity(patterns, ps, tracts)
    assert len(long) == 4 * len(patterns)
    summary = sensitivity_summary(long)
    assert len(summary) == len(patterns)
    assert (summary["range_spread"].dropna() >= 0).all()
    top = summary.iloc[0]
    assert top["route_name"] == "8" and top["range_max"] == pytest.approx(16.1)
    # only the two SkyConnect shuttle patterns have no value under any method; route 75's
    # stops sit in tracts without an estimate but its buffers reach tracts with one
    assert np.isfinite(summary["range_max"]).sum() == 83
