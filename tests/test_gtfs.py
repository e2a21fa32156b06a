"""GTFS to stop patterns: the real HART feed end to end, and hand-built edge cases."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import line_feed

from gradient import FeedError, GradientWarning
from gradient.schema import PATTERN_COLUMNS, PATTERN_STOP_COLUMNS
from gradient.sources import gtfs
from gradient.sources._geometry import monotone_along, straight_along


def test_hart_every_route_and_direction_has_a_pattern(hart_feed, hart_patterns):
    patterns, _ = hart_patterns
    served = hart_feed.trips[hart_feed.trips["trip_id"].isin(hart_feed.stop_times["trip_id"])]
    expected = set(zip(served["route_id"], served["direction_id"]))
    assert set(zip(patterns["route_id"], patterns["direction_id"])) == expected
    assert len(patterns) == len(expected) == 85
    assert patterns["pattern_id"].is_unique
    assert (patterns["rank"] == 1).all()
    assert list(patterns.columns) == PATTERN_COLUMNS + ["rank", "geometry"]
    assert (patterns["geometry_source"] == "shape").all()


def test_hart_main_pattern_is_the_most_frequent(hart_feed, hart_patterns):
    patterns, pattern_stops = hart_patterns
    st = hart_feed.stop_times.sort_values(["trip_id", "stop_sequence"])
    lists = st.assign(stop_id=st["stop_id"].astype(object)).groupby("trip_id")["stop_id"].agg(tuple)
    trips = hart_feed.trips.set_index("trip_id").loc[lists.index]
    counts = pd.DataFrame({"route_id": trips["route_id"], "direction_id": trips["direction_id"], "stops": lists})
    row = patterns.set_index("pattern_id").loc["8-0-1"]
    r8 = counts[(counts["route_id"] == "8") & (counts["direction_id"] == 0)]["stops"].value_counts()
    assert row["n_trips"] == r8.iloc[0]
    assert tuple(pattern_stops[pattern_stops["pattern_id"] == "8-0-1"]["stop_id"]) == r8.index[0]


def test_hart_distances_never_decrease_and_fit_the_shape(hart_patterns):
    patterns, ps = hart_patterns
    assert list(ps.columns) == PATTERN_STOP_COLUMNS + ["minutes", "offset_m"]
    g = ps.groupby("pattern_id")
    assert (g["dist_m"].first() == 0).all()
    assert (g["dist_m"].diff().dropna() >= 0).all()
    assert (g["stop_sequence"].diff().dropna() == 1).all()
    # stops stand at the roadside: all within 130 m of their shape, most within 15 m
    assert ps["offset_m"].max() < 130 and ps["offset_m"].quantile(0.9) < 15
    assert (g["minutes"].diff().dropna() >= 0).all()
    assert ps["stop_id"].map(type).eq(str).all()


def test_hart_all_patterns(hart_feed):
    patterns, ps = gtfs.stop_patterns(hart_feed, all_patterns=True)
    assert len(patterns) > 85
    assert patterns.groupby(["route_id", "direction_id"])["rank"].min().eq(1).all()
    assert set(ps["pattern_id"]) == set(patterns["pattern_id"])


def test_out_and_back_shape_keeps_stops_in_order():
    # the shape runs 1 km east and retraces itself; plain projection would put the
    # last stop back at 100 m
    line = np.array([[0, 0], [1000, 0], [0, 0]], dtype=float)
    stops = np.array([[100, 0], [900, 0], [900, 0], [100, 0]], dtype=float)
    along, offset = monotone_along(stops, line)
    assert np.all(np.diff(along) >= 0)
    assert along[0] == pytest.approx(100) and along[1] == pytest.approx(900)
    assert along[3] == pytest.approx(1900)
    np.testing.assert_allclose(offset, 0, atol=1e-9)


def test_shape_crossing_itself_matches_the_second_pass():
    # east, north, west, then south through the first leg: (500, 0) is passed twice
    line = np.array([[0, 0], [1000, 0], [1000, 500], [500, 500], [500, -500]], dtype=float)
    stops = np.array([[200, 0], [500, 0], [1000, 250], [500, 250], [500, 0], [500, -300]], dtype=float)
    along, _ = monotone_along(stops, line)
    np.testing.assert_allclose(along, [200, 500, 1250, 2250, 2500, 2800])


def test_loop_shape_distances():
    square = np.array([[0, 0], [100, 0], [100, 100], [0, 100], [0, 0]], dtype=float)
    stops = np.array([[0, 0], [100, 50], [0, 50], [0, 0]], dtype=float)
    along, _ = monotone_along(stops, square)
    np.testing.assert_allclose(along, [0, 150, 350, 400])


def test_straight_along():
    np.testing.assert_allclose(straight_along(np.array([[0, 0], [3, 4], [3, 10]], float)), [0, 5, 11])


def test_feed_without_shapes_falls_back_to_straight_lines(tmp_path):
    feed = gtfs.read_feed(line_feed(tmp_path / "f", with_shape=False))
    with pytest.warns(GradientWarning, match=r"2 of 2 patterns have no shape in the feed; their distances"):
        patterns, ps = gtfs.stop_patterns(feed)
    assert (patterns["geometry_source"] == "straight_line").all()
    np.testing.assert_allclose(ps[ps["pattern_id"] == "R-0-1"]["dist_m"], [0, 1000, 2000], atol=1e-3)


def test_zipped_feed_reads_like_folder(tmp_path):
    folder = line_feed(tmp_path / "f")
    archive = tmp_path / "feed.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in folder.iterdir():
            zf.write(f, f.name)
    a = gtfs.stop_patterns(gtfs.read_feed(archive))[1]
    b = gtfs.stop_patterns(gtfs.read_feed(folder))[1]
    pd.testing.assert_frame_equal(a, b)


def test_missing_feed(tmp_path):
    with pytest.raises(FeedError, match=r"nope\.zip: no such file or folder"):
        gtfs.read_feed(tmp_path / "nope.zip")


def test_not_a_zip(tmp_path):
    bad = tmp_path / "feed.zip"
    bad.write_text("hello")
    with pytest.raises(FeedError, match="not a zip archive"):
        gtfs.read_feed(bad)


def test_missing_table(tmp_path):
    folder = line_feed(tmp_path / "f")
    (folder / "stop_times.txt").unlink()
    with pytest.raises(FeedError, match=r"the feed has no stop_times\.txt"):
        gtfs.read_feed(folder)


def test_missing_column(tmp_path):
    folder = line_feed(tmp_path / "f")
    stops = pd.read_csv(folder / "stops.txt").drop(columns="stop_lat")
    stops.to_csv(folder / "stops.txt", index=False)
    with pytest.raises(FeedError, match=r"stops\.txt lacks the column\(s\) stop_lat"):
        gtfs.read_feed(folder)


def test_unknown_stop_in_stop_times(tmp_path):
    folder = line_feed(tmp_path / "f")
    st = pd.read_csv(folder / "stop_times.txt")
    st.loc[0, "stop_id"] = "ghost"
    st.to_csv(folder / "stop_times.txt", index=False)
    with pytest.raises(FeedError, match=r"refers to 1 stop\(s\) missing from stops\.txt \(e\.g\. ghost\)"):
        gtfs.stop_patterns(gtfs.read_feed(folder))


@pytest.mark.parametrize("all_patterns", [False, True])
def test_gtfs_kit_reader_gives_identical_patterns(hart_path, hart_feed, all_patterns):
    kit = gtfs.read_feed(hart_path, engine="gtfs-kit")
    assert list(hart_feed.stop_times.columns) == [
        "trip_id",
        "stop_id",
        "stop_sequence",
        "arrival_time",
        "departure_time",
    ]
    assert len(kit.stop_times) == len(hart_feed.stop_times) == 435507
    a = gtfs.stop_patterns(kit, all_patterns=all_patterns)
    b = gtfs.stop_patterns(hart_feed, all_patterns=all_patterns)
    pd.testing.assert_frame_equal(a[0], b[0])
    pd.testing.assert_frame_equal(a[1], b[1])


def test_readers_keep_leading_zeros_and_odd_times(tmp_path):
    folder = line_feed(tmp_path / "f")
    for name in ("stops.txt", "stop_times.txt"):
        text = (folder / name).read_text().replace("s0", "007").replace("6:04:00", "06:04:00")
        (folder / name).write_text("\ufeff" + text)  # a byte order mark, too
    a = gtfs.stop_patterns(gtfs.read_feed(folder, engine="gtfs-kit"))[1]
    b = gtfs.stop_patterns(gtfs.read_feed(folder))[1]
    pd.testing.assert_frame_equal(a, b)
    assert list(b.loc[b["pattern_id"] == "R-0-1", "stop_id"]) == ["007", "s1", "s2"]
    assert list(b.loc[b["pattern_id"] == "R-0-1", "minutes"]) == [0.0, 2.0, 4.0]


def test_unknown_engine(hart_path):
    with pytest.raises(ValueError, match=r"engine='fast' is not one of pyarrow, gtfs-kit"):
        gtfs.read_feed(hart_path, engine="fast")


def test_trips_with_the_same_stops_in_another_order_are_other_patterns(tmp_path):
    folder = line_feed(tmp_path / "f", n_trips=(2, 0))
    st = pd.read_csv(folder / "stop_times.txt")
    st.loc[st["trip_id"] == "t01", "stop_id"] = ["s0", "s2", "s1"]
    st.to_csv(folder / "stop_times.txt", index=False)
    for engine in gtfs.ENGINES:
        patterns, ps = gtfs.stop_patterns(gtfs.read_feed(folder, engine=engine), all_patterns=True)
        assert list(patterns["n_trips"]) == [1, 1]
        assert list(ps["stop_id"]) == ["s0", "s1", "s2", "s0", "s2", "s1"]


def test_shape_points_in_any_order_give_the_same_lines(hart_feed):
    """Shape points shuffled (as a feed may write them) are put in order by shape and sequence."""
    from gradient.sources._measure import shape_lines

    shapes = hart_feed.shapes
    keep = pd.Series(shapes["shape_id"].unique()[::3])
    ordered = shape_lines(shapes, "EPSG:32617", keep=keep)
    shuffled = shape_lines(shapes.sample(frac=1.0, random_state=5), "EPSG:32617", keep=keep)
    assert len(ordered) == len(keep) and ordered.keys() == shuffled.keys()
    for shape_id, xy in ordered.items():
        np.testing.assert_array_equal(xy, shuffled[shape_id])
        assert (np.diff(xy[:, 0]) != 0).any()


@pytest.mark.parametrize(
    ("lat", "seq", "typed"),
    [
        ("27.9", "1", True),  # every value a number: parsed as numbers while read
        ("", "1", True),  # a blank coordinate is missing, as numbers() reads it
        ("nan", "1", False),  # not a finite number: read as text, for numbers() to name
        ("inf", "1", False),
        ("27.9", "", False),  # a blank whole number: text, then Int64 or an error
        (" 27.9", "x", False),  # not a number at all
    ],
)
def test_coordinates_are_parsed_as_numbers_only_where_every_value_is_one(lat, seq, typed):
    from gradient.sources._gtfs_read import typed as typed_tables
    from gradient.sources._gtfs_tables import NUMBERS, read_text_table

    text = f"shape_id,shape_pt_lat,shape_pt_lon,shape_pt_sequence\ns1,{lat},-82.4,{seq}\ns1,28.0,-82.5,2\n"
    frame = read_text_table(io.BytesIO(text.encode()), types=NUMBERS["shapes"])
    assert (frame["shape_pt_lat"].dtype == np.float64) is typed
    assert frame["shape_id"].dtype == "string"
    as_text = read_text_table(io.BytesIO(text.encode()))
    tables = {
        "routes": pd.DataFrame(),
        "trips": pd.DataFrame(),
        "stops": pd.DataFrame(columns=["stop_lat", "stop_lon"]),
    }
    try:
        want = typed_tables({**tables, "shapes": as_text}, Path("feed"), stop_times=False)["shapes"]
    except FeedError as exc:  # the same error, named the same way, either way
        with pytest.raises(FeedError, match=re.escape(str(exc))):
            typed_tables({**tables, "shapes": frame}, Path("feed"), stop_times=False)
        return
    got = typed_tables({**tables, "shapes": frame}, Path("feed"), stop_times=False)["shapes"]
    pd.testing.assert_frame_equal(got, want)


def test_numbers_are_read_as_written_or_trimmed():
    from gradient.sources._gtfs_tables import numbers

    plain = pd.Series(["1.5", "-2", None], dtype="string")
    np.testing.assert_array_equal(numbers(plain, "stops", "stop_lat").to_numpy(), [1.5, -2.0, np.nan])
    spaced = pd.Series([" 1.5", "2 ", "  ", None], dtype="string")
    np.testing.assert_array_equal(numbers(spaced, "stops", "stop_lat").to_numpy(), [1.5, 2.0, np.nan, np.nan])
    whole = numbers(pd.Series([" 3", "4"], dtype="string"), "shapes", "shape_pt_sequence", whole=True)
    assert whole.tolist() == [3, 4] and whole.dtype == np.int64
    with pytest.raises(FeedError, match="shape_pt_sequence"):
        numbers(pd.Series(["1", "x"], dtype="string"), "shapes", "shape_pt_sequence", whole=True)
