"""Properties that must hold for any input (hypothesis)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import line_feed, squares, to_lonlat
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gradient import pipeline
from gradient.assign.catchments import assign_buffer, assign_point
from gradient.sources import gtfs
from gradient.sources._geometry import monotone_along

SLOW = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
values = st.floats(min_value=60, max_value=95, allow_nan=False)


@SLOW
@given(st.lists(values, min_size=3, max_size=6), st.floats(min_value=0.2, max_value=3))
def test_reversing_a_pattern_negates_its_deltas_and_slope(tmp_path_factory, le, se):
    xs = tuple(float(i) * 800 for i in range(len(le)))
    folder = line_feed(tmp_path_factory.mktemp("feed"), xs=xs, names=tuple(f"S{i}" for i in range(len(le))))
    patterns, ps = gtfs.stop_patterns(gtfs.read_feed(folder))
    res = pipeline.run_patterns(patterns, ps, squares(values=le, ses=[se] * len(le), xs=xs))
    east = res.stops[res.stops["pattern_id"] == "R-0-1"]["le_delta"].to_numpy()[1:]
    west = res.stops[res.stops["pattern_id"] == "R-1-1"]["le_delta"].to_numpy()[1:]
    np.testing.assert_allclose(west, -east[::-1], atol=1e-9)
    p = res.patterns.set_index("pattern_id")
    if np.ptp(le) > 0:
        assert p.loc["R-1-1", "slope_per_km"] == pytest.approx(-p.loc["R-0-1", "slope_per_km"], abs=1e-9)
    assert p.loc["R-1-1", "le_range"] == pytest.approx(p.loc["R-0-1", "le_range"])


@settings(max_examples=25, deadline=None)
@given(st.permutations(["A0", "A1", "A2"]), st.lists(st.floats(0, 3000), min_size=1, max_size=8))
def test_relabelling_area_ids_changes_nothing(labels, xs):
    lon, lat = to_lonlat(np.asarray(xs) + 360000.0, np.full(len(xs), 3090000.0))
    stops = pd.DataFrame({"stop_id": [f"s{i}" for i in range(len(xs))], "lon": lon, "lat": lat})
    base = squares()
    relabelled = base.assign(area_id=pd.array(labels, dtype="string"))
    for assign in (assign_point, lambda s, a: assign_buffer(s, a, radius_m=300)):
        with warnings.catch_warnings():  # stops beyond the squares warn; that is not the point here
            warnings.simplefilter("ignore")
            a = assign(stops, base)
            b = assign(stops, relabelled)
        np.testing.assert_array_equal(a["le"].to_numpy(), b["le"].to_numpy())
        np.testing.assert_array_equal(a["le_se"].to_numpy(), b["le_se"].to_numpy())


@settings(max_examples=40, deadline=None)
@given(
    st.lists(values, min_size=3, max_size=3),
    st.floats(-600, 2600),
    st.floats(-400, 400),
    st.floats(min_value=50, max_value=900),
)
def test_a_stop_value_lies_within_its_areas_values(le, x, y, radius):
    lon, lat = to_lonlat(np.array([x + 360000.0]), np.array([y + 3090000.0]))
    stops = pd.DataFrame({"stop_id": ["s"], "lon": lon, "lat": lat})
    with warnings.catch_warnings():  # a stop beyond the squares warns and stays missing: fine here
        warnings.simplefilter("ignore")
        got, weights = assign_buffer(stops, squares(values=le), radius_m=radius, return_weights=True)
    if np.isfinite(got["le"].iloc[0]):
        contributing = squares(values=le).set_index("area_id").loc[weights["area_id"], "le"]
        assert contributing.min() - 1e-9 <= got["le"].iloc[0] <= contributing.max() + 1e-9
        assert weights["weight"].sum() == pytest.approx(1.0)


# Projected coordinates in metres: never subnormal (a 1e-308 m segment makes GEOS warn, rightly).
coords = st.floats(min_value=-1000, max_value=1000, allow_nan=False, allow_subnormal=False)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(coords, coords), min_size=2, max_size=12, unique=True),
    st.lists(st.tuples(coords, coords), min_size=1, max_size=15),
)
def test_distances_never_decrease(line, points):
    line = np.array(line, dtype=float)
    if np.all(np.hypot(*np.diff(line, axis=0).T) < 1e-6):
        return
    along, offset = monotone_along(np.array(points, dtype=float), line)
    assert np.all(np.diff(along) >= 0)
    assert np.all(offset >= 0)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.randoms(use_true_random=False))
def test_results_do_not_depend_on_row_order(tmp_path_factory, rnd):
    folder = line_feed(tmp_path_factory.mktemp("feed"), xs=(0, 700, 1500, 2600), names="ABCD", n_trips=(4, 3))
    expected = gtfs.stop_patterns(gtfs.read_feed(folder))
    for name in ("stop_times.txt", "stops.txt", "trips.txt", "shapes.txt"):
        frame = pd.read_csv(folder / name, dtype=str)
        order = list(range(len(frame)))
        rnd.shuffle(order)
        frame.iloc[order].to_csv(folder / name, index=False)
    got = gtfs.stop_patterns(gtfs.read_feed(folder))
    pd.testing.assert_frame_equal(got[1], expected[1])
    pd.testing.assert_frame_equal(got[0].drop(columns="geometry"), expected[0].drop(columns="geometry"))
    assert got[0].geometry.geom_equals_exact(expected[0].geometry, tolerance=1e-9).all()


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(coords, coords), min_size=2, max_size=12, unique=True),
    st.floats(0, 1),
    st.floats(0, 1),
)
@example(line=[(0.0, -11.087143973197044), (12.5, 319.0)], a=0.0, b=1.0)  # hypot's length fell short of GEOS's
def test_our_substring_is_shapelys(line, a, b):
    # kept for speed (a sixth of shapely.ops.substring's time per pattern), held to its answer
    import shapely
    import shapely.ops

    from gradient.sources._geometry import substring

    geom = shapely.LineString(line)
    if geom.length < 1e-3:
        return
    start, end = sorted((a * geom.length, b * geom.length))
    ours = substring(np.array(line, dtype=float), start, end)
    theirs = shapely.ops.substring(geom, start, end)
    if end - start < 1e-6:  # shapely gives a point, we two equal points
        assert np.allclose(ours[0], ours[-1]) and np.allclose(ours[0], np.asarray(theirs.coords)[0], atol=1e-6)
        return
    assert np.allclose(np.asarray(theirs.coords), ours, atol=1e-6)


# Coordinates as surveys and projections give them: metres to the millimetre.
millimetres = st.integers(-1_000_000, 1_000_000).map(lambda v: v / 1000)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.tuples(millimetres, millimetres), min_size=2, max_size=60),
            st.lists(st.tuples(millimetres, millimetres), min_size=1, max_size=12),
            st.booleans(),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_nearest_along_is_shapelys_line_by_line(cases):
    """Pieces and a spatial index give what projecting on each whole line gives.

    Lines may double back on themselves exactly (out and back: a point is then as near to
    both ways, and the first along the line wins) and points may lie far from their line
    (measured on the whole line).
    """
    import shapely

    from gradient.sources import _geometry
    from gradient.sources._geometry import nearest_along

    lines, points = [], []
    for line, pts, back in cases:
        line = np.array(line, dtype=float)
        if back:
            line = np.r_[line, line[::-1][1:]]
        lines.append(line)
        points.append(np.array(pts, dtype=float) * (3 if back else 1))
    got = nearest_along(lines, points)
    saved = _geometry.NEAREST_BLOCK
    try:
        _geometry.NEAREST_BLOCK = 5  # a line or two at a time: the same bits
        blocked = nearest_along(lines, points)
    finally:
        _geometry.NEAREST_BLOCK = saved
    for (along, offset), (b_along, b_offset) in zip(got, blocked, strict=True):
        np.testing.assert_array_equal(along, b_along)
        np.testing.assert_array_equal(offset, b_offset)
    for line, pts, (along, offset) in zip(lines, points, got):
        geom, p = shapely.LineString(line), shapely.points(pts)
        np.testing.assert_array_equal(offset, shapely.distance(geom, p))
        np.testing.assert_allclose(along, shapely.line_locate_point(geom, p), rtol=1e-12, atol=1e-9)


stretch_rows = st.tuples(
    st.sampled_from("PQR"), st.sampled_from([np.nan, -1.0, -0.0, 0.0, 0.5, 2.0]), st.integers(0, 3), st.integers(1, 3)
)


@settings(max_examples=40, deadline=None)
@given(st.lists(stretch_rows, min_size=1, max_size=30))
def test_a_patterns_largest_fall_is_the_first_of_its_sorted_stretches(rows):
    """Each pattern's pick is pandas' stable sort by fall (largest first, a missing one last), end and stops."""
    from gradient.stats.figures import _largest_fall

    cand = pd.DataFrame(rows, columns=["pattern_id", "est", "to_row", "hops"])
    cand["from_row"] = 0
    cand["se"] = np.arange(len(cand), dtype=float) + 0.1  # tells every row apart
    labels = pd.Index(["P", "Q", "R", "S"])
    stops = pd.DataFrame({"stop_name": [f"s{i}" for i in range(4)], "stop_sequence": range(4)})
    got = _largest_fall(cand, stops, pd.Series(2.0, index=labels), "f", labels)
    want = (
        cand.sort_values(["pattern_id", "est", "to_row", "hops"], ascending=[True, False, True, True], kind="stable")
        .drop_duplicates("pattern_id")
        .set_index("pattern_id")
        .reindex(labels)
    )
    real = (want["est"] > 0).to_numpy()
    np.testing.assert_array_equal(got["f_se"].to_numpy(float), np.where(real, want["se"], np.nan))
    np.testing.assert_array_equal(got["f_stops"].to_numpy(int), np.where(real, want["hops"].fillna(0), 0))
