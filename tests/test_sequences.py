"""Stop-sequence tables (any source that is not GTFS): hand-made tables with known answers, and HART's
real patterns re-written as a stop-sequence table in CSV and Parquet, run end to end."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import UTM17, squares, to_lonlat
from pyproj import Transformer

import gradient
from gradient import cli, datasets, pipeline
from gradient.errors import FeedError, GradientWarning, InputError
from gradient.schema import PATTERN_COLUMNS, PATTERN_STOP_COLUMNS
from gradient.sources import sequences

X0, Y0 = 360000.0, 3090000.0  # where conftest's squares stand (UTM 17N)
COLUMNS = ["route_id", "pattern_id", "stop_sequence", "stop_id", "stop_name", "stop_lat", "stop_lon"]


def point(route, pattern, seq, stop, name, x, y):
    lon, lat = to_lonlat(X0 + x, Y0 + y)
    return [route, pattern, seq, stop, name, lat, lon]


# Route R runs east (three stops 1 km apart over conftest's three squares) and back west; route D has
# one stop-to-stop run bent by a shape point 500 m north of the middle; route L is a loop round a
# 1 km square traced by shape points, back to its first stop.
ROWS = [
    point("R", "R-east", 1, "s0", "West End", 0, 0),
    point("R", "R-east", 2, "s1", "Middle", 1000, 0),
    point("R", "R-east", 3, "s2", "East End", 2000, 0),
    point("R", "R-west", 10, "s2", "East End", 2000, 0),
    point("R", "R-west", 20, "s1", "Middle", 1000, 0),
    point("R", "R-west", 30, "s0", "West End", 0, 0),
    point("D", "D-1", 1, "d0", "Start", 0, 0),
    point("D", "D-1", 2, "", "", 500, 500),
    point("D", "D-1", 3, "d1", "End", 1000, 0),
    point("L", "L-1", 1, "l0", "Depot", 0, 0),
    point("L", "L-1", 2, "", "", 1000, 0),
    point("L", "L-1", 3, "l1", "Far Corner", 1000, 1000),
    point("L", "L-1", 4, "", "", 0, 1000),
    point("L", "L-1", 5, "l0", "Depot", 0, 0),
]


def table(rows=ROWS, columns=COLUMNS) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)


def write_csv(path, frame=None, **kwargs):
    (table() if frame is None else frame).to_csv(path, index=False, **kwargs)
    return path


def read(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GradientWarning)
        return sequences.read_sequences(*args, **kwargs)


def dists(stops, pid):
    return stops.loc[stops["pattern_id"] == pid, "dist_m"].to_numpy()


# --- known answers ---------------------------------------------------------------------------------


def test_patterns_table(tmp_path):
    with pytest.warns(
        GradientWarning,
        match=r"^2 of 4 patterns have no shape points \(rows with an empty stop_id\) and no route-lines file was "
        r"given; their distances and lines are straight lines between stops$",
    ):
        patterns, _ = sequences.read_sequences(write_csv(tmp_path / "seq.csv"))
    assert list(patterns.columns) == PATTERN_COLUMNS + ["rank", "geometry"]
    assert patterns.crs == "EPSG:4326"
    assert patterns["pattern_id"].tolist() == ["D-1", "L-1", "R-east", "R-west"]
    assert patterns["route_id"].tolist() == patterns["route_name"].tolist() == ["D", "L", "R", "R"]
    assert patterns["direction_id"].tolist() == [0, 0, 0, 1]  # R-west runs the other way from R-east
    assert patterns["rank"].tolist() == [1, 1, 1, 1]
    assert patterns["n_trips"].isna().all() and str(patterns["n_trips"].dtype) == "Int64"
    assert patterns["n_stops"].tolist() == [2, 3, 3, 3]  # shape points are not stops
    assert patterns["geometry_source"].tolist() == ["shape", "shape", "straight_line", "straight_line"]


def test_pattern_stops_table(tmp_path):
    _, stops = read(write_csv(tmp_path / "seq.csv"))
    assert list(stops.columns) == PATTERN_STOP_COLUMNS + ["minutes", "offset_m"]
    east = stops[stops["pattern_id"] == "R-east"]
    assert east["stop_sequence"].tolist() == [1, 2, 3]
    assert east["stop_id"].tolist() == ["s0", "s1", "s2"]
    assert east["stop_name"].tolist() == ["West End", "Middle", "East End"]
    assert dists(stops, "R-east") == pytest.approx([0, 1000, 2000], abs=1e-3)
    assert dists(stops, "R-west") == pytest.approx([0, 1000, 2000], abs=1e-3)  # 10, 20, 30 read in order
    assert dists(stops, "D-1") == pytest.approx([0, 2 * np.hypot(500, 500)], abs=1e-3)  # along the bend
    assert dists(stops, "L-1") == pytest.approx([0, 2000, 4000], abs=1e-3)  # round the loop, never back
    assert stops["offset_m"].tolist() == [0.0] * len(stops)
    assert stops["minutes"].isna().all()
    x, y = Transformer.from_crs("EPSG:4326", UTM17, always_xy=True).transform(east["lon"], east["lat"])
    assert np.c_[x - X0, y - Y0] == pytest.approx(np.array([[0, 0], [1000, 0], [2000, 0]]), abs=1e-3)


def test_shape_points_make_the_line(tmp_path):
    patterns, _ = read(write_csv(tmp_path / "seq.csv"))
    line = patterns.set_index("pattern_id").geometry["D-1"]
    x, y = Transformer.from_crs("EPSG:4326", UTM17, always_xy=True).transform(*np.asarray(line.coords).T)
    assert np.c_[x - X0, y - Y0] == pytest.approx(np.array([[0, 0], [500, 500], [1000, 0]]), abs=1e-3)


def test_without_a_route_column_each_pattern_is_its_own_route(tmp_path):
    path = write_csv(tmp_path / "seq.csv", table().drop(columns="route_id"))
    patterns, _ = read(path)
    assert patterns["route_id"].tolist() == patterns["pattern_id"].tolist() == ["D-1", "L-1", "R-east", "R-west"]
    assert patterns["direction_id"].tolist() == [0, 0, 0, 0]


def test_a_pattern_id_under_two_routes_is_prefixed_by_its_route(tmp_path):
    frame = table()
    frame["pattern_id"] = frame["pattern_id"].str[-1]  # "t", "t", "1", "1": D's and L's patterns share "1"
    patterns, _ = read(write_csv(tmp_path / "seq.csv", frame))
    assert patterns["pattern_id"].tolist() == ["D-1", "L-1", "R-t"]


def test_parquet_and_csv_read_alike(tmp_path):
    csv_ = read(write_csv(tmp_path / "seq.csv"))
    frame = table()
    frame["stop_sequence"] = frame["stop_sequence"].astype("int32")
    frame.to_parquet(tmp_path / "seq.data")  # told from its first bytes, not its name
    pq = read(tmp_path / "seq.data")
    pd.testing.assert_frame_equal(csv_[1], pq[1])
    pd.testing.assert_frame_equal(csv_[0].drop(columns="geometry"), pq[0].drop(columns="geometry"))


@pytest.mark.parametrize(
    ("sep", "encoding"), [(";", "utf-8-sig"), ("\t", "utf-16"), ("|", "cp1252")], ids=["semicolon", "tab", "bar"]
)
def test_delimiter_and_encoding_are_detected(tmp_path, sep, encoding):
    frame = table()
    frame.loc[0, "stop_name"] = "Café Royal"
    path = write_csv(tmp_path / "seq.txt", frame, sep=sep, encoding=encoding)
    _, stops = read(path)
    assert stops.loc[stops["stop_id"] == "s0", "stop_name"].tolist() == ["Café Royal", "West End"]
    assert dists(stops, "D-1") == pytest.approx([0, 2 * np.hypot(500, 500)], abs=1e-3)


def test_columns_of_other_names(tmp_path):
    names = ["LineRef", "JourneyPattern", "Order", "ATCOCode", "CommonName", "Latitude", "Longitude"]
    path = write_csv(tmp_path / "seq.csv", table(columns=names).assign(Extra="ignored"))
    patterns, stops = read(
        path,
        route_col="LineRef",
        pattern_col="JourneyPattern",
        order_col="Order",
        stop_col="ATCOCode",
        stop_name_col="CommonName",
        lat_col="Latitude",
        lon_col="Longitude",
    )
    assert patterns["pattern_id"].tolist() == ["D-1", "L-1", "R-east", "R-west"]
    assert dists(stops, "L-1") == pytest.approx([0, 2000, 4000], abs=1e-3)


def test_route_lines_by_pattern(tmp_path):
    """A line 5 m north of route R, drawn west to east, keyed by pattern: both directions measure along it."""
    lon, lat = to_lonlat(np.array([X0 - 100, X0 + 2100]), np.array([Y0 + 5, Y0 + 5]))
    feature = {
        "type": "Feature",
        "properties": {"pattern_id": "R-east"},
        "geometry": {"type": "LineString", "coordinates": [[lon[0], lat[0]], [lon[1], lat[1]]]},
    }
    lines = tmp_path / "lines.geojson"
    lines.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    with pytest.warns(GradientWarning, match=r"^3 of 4 patterns have no route line and 0 more fit theirs badly"):
        patterns, stops = sequences.read_sequences(write_csv(tmp_path / "seq.csv"), lines)
    assert patterns["geometry_source"].tolist() == ["straight_line", "straight_line", "route_line", "straight_line"]
    assert dists(stops, "R-east") == pytest.approx([0, 1000, 2000], abs=1e-2)
    assert stops.loc[stops["pattern_id"] == "R-east", "offset_m"].to_numpy() == pytest.approx([5, 5, 5], abs=1e-2)
    assert dists(stops, "D-1") == pytest.approx([0, 1000], abs=1e-3)  # with lines, shape points are not used


def test_through_the_pipeline_known_answers(tmp_path):
    patterns, stops = read(write_csv(tmp_path / "seq.csv"), routes=["R"])
    result = pipeline.run_patterns(patterns, stops, squares())
    east = result.stops_of("R-east")
    assert east["le"].tolist() == [80.0, 78.0, 76.0]
    assert east["area_id"].tolist() == ["A0", "A1", "A2"]
    row = result.pattern("R-east")
    assert (row["le_first"], row["le_last"], row["length_m"]) == (80.0, 76.0, pytest.approx(2000.0))


def test_front_door_and_read_source(tmp_path):
    path = write_csv(tmp_path / "seq.csv")
    assert gradient.read_sequences is sequences.read_sequences
    assert pipeline.source_kind(path) == "sequences"
    assert pipeline.source_kind(datasets.get_path("tfl_sequences")) == "tfl"
    assert pipeline.source_kind(datasets.get_path("hart_gtfs")) == "gtfs"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GradientWarning)
        patterns, _, name = pipeline.read_source(path)
    assert name == "seq.csv" and len(patterns) == 4


# --- errors ----------------------------------------------------------------------------------------


def test_missing_column_names_the_parameter(tmp_path):
    path = write_csv(tmp_path / "seq.csv", table().drop(columns="stop_lat"))
    with pytest.raises(
        FeedError,
        match=r"^.*seq\.csv: the stop-sequence table has no column\(s\) 'stop_lat' \(lat_col='stop_lat': name the "
        r"table's own column\); its columns are route_id, pattern_id, stop_sequence, stop_id, stop_name, stop_lon$",
    ):
        sequences.read_sequences(path)
    with pytest.raises(FeedError, match=r"no column\(s\) 'Route' \(route_col='Route': name the table's own column\)"):
        sequences.read_sequences(write_csv(tmp_path / "seq.csv"), route_col="Route")  # named: no longer optional


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"stop_sequence": "x"}, r"seq\.csv: route R, pattern R-east: stop_sequence 'x' is not a number$"),
        ({"stop_sequence": "2"}, r"route R, pattern R-east: stop_sequence 2 appears more than once; each stop of a "),
        ({"pattern_id": ""}, r"seq\.csv: data row 2 has no pattern_id; every row needs one$"),
        ({"route_id": ""}, r"seq\.csv: data row 2 has no route_id; every row needs one$"),
        ({"stop_lat": "n/a"}, r"route R, pattern R-east, stop_sequence 1: stop_lon/stop_lat '-82\.\d+'/'n/a' are not"),
        ({"stop_lat": "127.5"}, r"stop_lon/stop_lat '-82\.\d+'/'127\.5' are not WGS84 longitude/latitude in degrees$"),
    ],
)
def test_malformed_rows(tmp_path, change, match):
    frame = table()
    for col, value in change.items():
        frame[col] = frame[col].astype(object)
        frame.loc[0 if col != "stop_sequence" or value != "2" else 0, col] = value
        if col in ("pattern_id", "route_id"):
            frame.loc[0, col], frame.loc[1, col] = frame.loc[1, col], value
    with pytest.raises(FeedError, match=match):
        sequences.read_sequences(write_csv(tmp_path / "seq.csv", frame))


def test_no_pattern_with_two_stops(tmp_path):
    with pytest.raises(FeedError, match=r"seq\.csv: no pattern has two or more stops$"):
        sequences.read_sequences(write_csv(tmp_path / "seq.csv", table(ROWS[6:8])))


def test_unreadable_files(tmp_path):
    with pytest.raises(FeedError, match=r"nowhere\.csv: no such file; give a table of stops in order along patterns"):
        sequences.read_sequences(tmp_path / "nowhere.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(FeedError, match=r"empty\.csv: is empty; give a table of stops"):
        sequences.read_sequences(tmp_path / "empty.csv")
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 and then nothing a Parquet reader wants")
    with pytest.raises(FeedError, match=r"bad\.parquet: cannot read as Parquet \("):
        sequences.read_sequences(tmp_path / "bad.parquet")
    with pytest.raises(InputError, match=r"no route named Z \(routes include D, L, R\)"):
        sequences.read_sequences(write_csv(tmp_path / "seq.csv"), routes=["Z"])


# --- the command line, end to end on HART's real patterns ------------------------------------------------


@pytest.fixture(scope="module")
def hart_table(hart_patterns):
    """HART's routes 1 and 8 as a stop-sequence table: its stops, and its shapes' vertices as shape points."""
    patterns, stops = hart_patterns
    keep = patterns[patterns["route_name"].isin(["1", "8"])]
    rows = []
    to_utm = Transformer.from_crs("EPSG:4326", UTM17, always_xy=True)
    for p in keep.itertuples():
        s = stops[stops["pattern_id"] == p.pattern_id]
        base = pd.DataFrame(
            {
                "route_id": p.route_id,
                "pattern_id": p.pattern_id,
                "along": s["dist_m"].to_numpy(),
                "stop_id": s["stop_id"].to_numpy(),
                "stop_name": s["stop_name"].to_numpy(),
                "stop_lat": s["lat"].to_numpy(),
                "stop_lon": s["lon"].to_numpy(),
            }
        )
        lon, lat = np.asarray(p.geometry.coords).T  # the shape from first to last stop: its vertices' metres along it
        x, y = to_utm.transform(lon, lat)
        along = np.r_[0, np.cumsum(np.hypot(np.diff(x), np.diff(y)))]
        shape = pd.DataFrame(
            {
                "route_id": p.route_id,
                "pattern_id": p.pattern_id,
                "along": along + 1e-6,
                "stop_lat": lat,
                "stop_lon": lon,
            }
        )
        rows += [base, shape.iloc[1:-1]]
    frame = pd.concat(rows).sort_values(["pattern_id", "along"], kind="stable")
    frame["stop_sequence"] = frame.groupby("pattern_id").cumcount() + 1
    return frame[COLUMNS].fillna({"stop_id": "", "stop_name": ""}), stops


def run_cli(capsys, source, out, *more):
    code = cli.main(
        [
            "run",
            "--sequences",
            str(source),
            *more,
            "--areas",
            str(datasets.get_path("hillsborough_tracts")),
            "--le",
            str(datasets.get_path("usaleep")),
            "--le-format",
            "usaleep",
            "--maps",
            "1",
            "--out",
            str(out),
        ]
    )
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("shapes", [True, False], ids=["with-shape-points", "stops-only"])
def test_cli_end_to_end_on_hart(tmp_path, capsys, hart_table, fmt, shapes):
    frame, gtfs_stops = hart_table
    if not shapes:
        frame = frame[frame["stop_id"] != ""]
    path = tmp_path / f"hart.{fmt}"
    frame.to_csv(path, index=False) if fmt == "csv" else frame.to_parquet(path)
    code, out, err = run_cli(capsys, path, tmp_path / "out")
    assert code == 0, err
    assert "patterns on two routes serving" in out
    stops = pd.read_csv(tmp_path / "out" / "stops.csv", dtype={"stop_id": str})
    patterns = pd.read_csv(tmp_path / "out" / "patterns.csv")
    assert sorted(patterns["route_name"].astype(str).unique()) == ["1", "8"]
    assert len(patterns) == frame["pattern_id"].nunique()
    assert stops["le"].notna().mean() > 0.8
    assert (patterns["credit"].str.startswith(f"Stops: hart.{fmt}")).all()
    # with its shape points each pattern measures the length GTFS measures along its shape (stops
    # stand a few metres off the shape, so the traced line is slightly longer); without, straight lines
    mine = stops.groupby("pattern_id")["dist_m"].last()
    theirs = gtfs_stops.groupby("pattern_id")["dist_m"].last().reindex(mine.index)
    ratio = (mine / theirs).to_numpy()
    if shapes:
        assert "no shape points" not in err
        assert ((ratio >= 0.999) & (ratio < 1.02)).all(), ratio
    else:
        assert "patterns have no shape points (rows with an empty stop_id)" in err
        assert (ratio < 1.0).all(), ratio


def test_cli_bad_column_is_one_line(tmp_path, capsys, hart_table):
    path = tmp_path / "hart.csv"
    hart_table[0].rename(columns={"stop_lat": "lat"}).to_csv(path, index=False)
    code, _, err = run_cli(capsys, path, tmp_path / "out")
    assert code == 2
    assert err == (
        f"gradient: error: {path}: the stop-sequence table has no column(s) 'stop_lat' (--seq-lat stop_lat: name "
        "the table's own column); its columns are route_id, pattern_id, stop_sequence, stop_id, stop_name, lat, "
        "stop_lon\n"
    )
    code, _, err = run_cli(capsys, path, tmp_path / "out", "--seq-lat", "lat", "--seq-order", "order")
    assert code == 2
    assert err == (
        f"gradient: error: {path}: the stop-sequence table has no column(s) 'order' (--seq-order order: name the "
        "table's own column); its columns are route_id, pattern_id, stop_sequence, stop_id, stop_name, lat, "
        "stop_lon\n"
    )


def test_cli_bad_value_is_one_line(tmp_path, capsys, hart_table):
    path = tmp_path / "hart.parquet"
    frame = hart_table[0].copy()
    frame["stop_lat"] = frame["stop_lat"].astype(str)
    frame.iloc[3, frame.columns.get_loc("stop_lat")] = "north"
    frame.to_parquet(path)
    code, _, err = run_cli(capsys, path, tmp_path / "out")
    assert code == 2 and len(err.splitlines()) == 1 and "Traceback" not in err
    row = frame.iloc[3]
    assert err == (
        f"gradient: error: {path}: route {row['route_id']}, pattern {row['pattern_id']}, stop_sequence "
        f"{row['stop_sequence']}: stop_lon/stop_lat '{row['stop_lon']}'/'north' are not numbers\n"
    )


def test_cli_column_flags_need_sequences(tmp_path, capsys):
    code = cli.main(
        [
            "run",
            "--gtfs",
            str(datasets.get_path("hart_gtfs")),
            "--seq-lat",
            "lat",
            "--areas",
            "x",
            "--le",
            "y",
            "--le-format",
            "usaleep",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 2
    assert capsys.readouterr().err == (
        "gradient: error: --seq-lat name the columns of --sequences TABLE; give --sequences too\n"
    )


def test_straight_and_shape_geometry_is_wgs84_lines(tmp_path):
    patterns, _ = read(write_csv(tmp_path / "seq.csv"))
    assert all(isinstance(g, shapely.LineString) for g in patterns.geometry)
