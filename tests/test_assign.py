"""Stops to areas: point in polygon, the nearest-area fallback, and the real HART stops."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import squares, to_lonlat

from gradient import GradientWarning, InputError
from gradient.assign.catchments import assign, assign_buffer, assign_point

# the hand-built areas here carry no population on purpose: every catchment says it weights by
# length or area alone (tests/test_attributes.py checks the warning itself)
pytestmark = pytest.mark.filterwarnings("ignore:the areas have no population:gradient.errors.GradientWarning")


def test_each_hart_stop_takes_the_value_of_its_tract(hart_patterns, tracts):
    _, ps = hart_patterns
    with pytest.warns(GradientWarning, match=r"2 of 2276 stops fall outside every area: 1 took the nearest"):
        got = assign_point(ps, tracts)
    assert len(got) == ps["stop_id"].nunique() == 2276
    points = shapely.points(ps.drop_duplicates("stop_id")[["lon", "lat"]].to_numpy())
    inside = got["method"].eq("point").to_numpy()
    by_id = tracts.frame.set_index("area_id")
    polys = by_id.geometry.reindex(got.loc[inside, "area_id"]).to_numpy()
    assert shapely.intersects(polys, points[inside]).all()
    np.testing.assert_array_equal(
        got.loc[inside, "le"].to_numpy(), by_id["le"].reindex(got.loc[inside, "area_id"]).to_numpy()
    )
    # 87% of HART stops sit in a tract with an estimate; the rest are missing, never 0
    assert got["le"].notna().mean() == pytest.approx(0.87, abs=0.01)
    assert not (got["le"] == 0).any()


def test_stop_just_outside_takes_nearest_within_limit():
    areas = squares()
    lon, lat = to_lonlat(np.array([360000.0, 360000.0, 360000.0]), np.array([3090000.0, 3090600.0, 3091000.0]))
    stops = pd.DataFrame({"stop_id": ["in", "near", "far"], "lon": lon, "lat": lat})
    with pytest.warns(
        GradientWarning,
        match=r"2 of 3 stops fall outside every area: 1 took the nearest area within 250 m, 1 stay missing",
    ):
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


# --- buffers: known answers on the 1 km squares of conftest (A0 80±1, A1 78±1, A2 76±2) ---


def stops_at(xs, y=3090000.0):
    lon, lat = to_lonlat(np.asarray(xs, dtype=float) + 360000.0, np.full(len(xs), y))
    return pd.DataFrame({"stop_id": [f"s{i}" for i in range(len(xs))], "lon": lon, "lat": lat})


def test_buffer_on_a_border_is_the_plain_mean():
    got = assign_buffer(stops_at([500.0]), squares(), radius_m=200, weight="area").iloc[0]
    assert got["le"] == pytest.approx(79.0, abs=1e-6)
    assert got["le_se"] == pytest.approx(np.sqrt(0.25 * 1 + 0.25 * 1), abs=1e-6)
    assert got["n_areas"] == 2 and got["method"] == "buffer"


def test_buffer_weights_by_overlapping_area():
    # a circle of 200 m whose centre is 100 m from the border: the far side holds the segment
    r, d = 200.0, 100.0
    segment = r**2 * np.arccos(d / r) - d * np.sqrt(r**2 - d**2)
    w1 = segment / (np.pi * r**2)
    got = assign_buffer(stops_at([400.0]), squares(), radius_m=r, weight="area").iloc[0]
    # the circle is a 64-gon, so allow 0.1% of the weight
    assert got["le"] == pytest.approx(80 * (1 - w1) + 78 * w1, abs=2e-3)
    assert got["le_se"] == pytest.approx(np.sqrt((1 - w1) ** 2 + w1**2), abs=1e-3)
    assert got["area_id"] == "A0"


def test_buffer_weights_by_population_density():
    areas = squares()
    areas["population"] = [1000.0, 3000.0, 1000.0]
    got = assign_buffer(stops_at([500.0]), areas, radius_m=200).iloc[0]  # auto: population
    assert got["le"] == pytest.approx((80 * 1 + 78 * 3) / 4, abs=1e-6)
    assert got["le_se"] == pytest.approx(np.sqrt((1 / 4) ** 2 + (3 / 4) ** 2), abs=1e-6)
    assert got["area_id"] == "A1"  # the larger weight


def test_buffer_leaves_out_areas_without_estimate():
    got = assign_buffer(stops_at([500.0]), squares(values=(80.0, np.nan, 76.0)), radius_m=200).iloc[0]
    assert got["le"] == 80.0 and got["le_se"] == 1.0 and got["n_areas"] == 1


def test_buffer_without_errors_leaves_se_empty():
    got = assign_buffer(stops_at([500.0]), squares(ses=(np.nan, np.nan, np.nan)), radius_m=200).iloc[0]
    assert got["le"] == pytest.approx(79.0) and np.isnan(got["le_se"])


def test_buffer_value_lies_within_contributing_areas(hart_patterns, tracts):
    _, ps = hart_patterns
    with pytest.warns(GradientWarning, match=r"1 of 2276 stops have no area within 200 m and stay missing"):
        got = assign_buffer(ps, tracts, radius_m=200)
    known = tracts.frame["le"].dropna()
    assert got["le"].dropna().between(known.min(), known.max()).all()
    assert (got.loc[got["le"].notna(), "n_areas"] >= 1).all()
    assert not (got["le"] == 0).any()


def test_buffer_far_from_every_area_warns():
    with pytest.warns(GradientWarning, match=r"1 of 2 stops have no area within 200 m and stay missing"):
        got = assign_buffer(stops_at([0.0, 9000.0]), squares(), radius_m=200)
    assert got["area_id"].isna().tolist() == [False, True] and np.isnan(got["le"].iloc[1])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"radius_m": 0}, r"radius_m=0 must be a positive number of metres"),
        ({"weight": "people"}, r"weight='people' is not one of auto, area, population"),
        ({"weight": "population"}, r"weight='population' needs a population column"),
    ],
)
def test_buffer_bad_arguments(kwargs, message):
    with pytest.raises(InputError, match=message):
        assign_buffer(stops_at([0.0]), squares(), **kwargs)


def test_unknown_method():
    with pytest.raises(InputError, match=r"method='walk' is not one of point, buffer"):
        assign(stops_at([0.0]), squares(), method="walk")
