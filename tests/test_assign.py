"""Stops to areas: point in polygon, the nearest-area fallback, and the real HART stops."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import squares, to_lonlat

from gradient import GradientWarning
from gradient.assign import assign_point


def test_each_hart_stop_takes_the_value_of_its_tract(hart_patterns, tracts):
    _, ps = hart_patterns
    with pytest.warns(GradientWarning, match=r"2 of 2276 stops fall outside every area: 1 took the nearest"):
        got = assign_point(ps, tracts)
    assert len(got) == ps["stop_id"].nunique() == 2276
    points = shapely.points(ps.drop_duplicates("stop_id")[["lon", "lat"]].to_numpy())
    inside = got["method"].eq("point").to_numpy()
    by_id = tracts.set_index("area_id")
    polys = by_id.geometry.reindex(got.loc[inside, "area_id"]).to_numpy()
    assert shapely.intersects(polys, points[inside]).all()
    np.testing.assert_array_equal(got.loc[inside, "le"].to_numpy(), by_id["le"].reindex(got.loc[inside, "area_id"]).to_numpy())
    # 87% of HART stops sit in a tract with an estimate; the rest are missing, never 0
    assert got["le"].notna().mean() == pytest.approx(0.87, abs=0.01)
    assert not (got["le"] == 0).any()


def test_stop_just_outside_takes_nearest_within_limit():
    areas = squares()
    lon, lat = to_lonlat(np.array([360000.0, 360000.0, 360000.0]), np.array([3090000.0, 3090600.0, 3091000.0]))
    stops = pd.DataFrame({"stop_id": ["in", "near", "far"], "lon": lon, "lat": lat})
    with pytest.warns(GradientWarning, match=r"2 of 3 stops fall outside every area: 1 took the nearest area within 250 m, 1 stay missing"):
        got = assign_point(stops, areas).set_index("stop_id")
    assert got.loc["in", "area_id"] == "A0" and got.loc["in", "method"] == "point"
    assert got.loc["near", "area_id"] == "A0" and got.loc["near", "method"] == "nearest"
    assert pd.isna(got.loc["far", "area_id"]) and np.isnan(got.loc["far", "le"])
    assert got["n_areas"].tolist() == [1, 1, 0]


def test_stop_on_a_border_takes_the_smaller_id():
    areas = gpd.GeoDataFrame(
        {"area_id": pd.array(["B", "A"], dtype="string"), "le": [70.0, 80.0], "le_se": [1.0, 1.0]},
        geometry=[shapely.box(-82.0, 28.0, -81.9, 28.1), shapely.box(-82.1, 28.0, -82.0, 28.1)],
        crs="EPSG:4326",
    )
    got = assign_point(pd.DataFrame({"stop_id": ["edge"], "lon": [-82.0], "lat": [28.05]}), areas)
    assert got["area_id"].tolist() == ["A"] and got["le"].tolist() == [80.0]
