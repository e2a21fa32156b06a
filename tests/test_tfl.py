"""TfL bus sequences to stop patterns: hand-made files with known answers, and the real July 2018 file."""

from __future__ import annotations

import json
import logging
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from gradient import datasets, pipeline
from gradient.errors import FeedError, GradientWarning, InputError
from gradient.schema import PATTERN_COLUMNS, PATTERN_STOP_COLUMNS
from gradient.sources import tfl

HEADER = [
    "Route",
    "Run",
    "Sequence",
    "Stop_Code_LBSL",
    "Bus_Stop_Code",
    "Naptan_Atco",
    "Stop_Name",
    "Location_Easting",
    "Location_Northing",
    "Heading",
    "Virtual_Bus_Stop",
]
N0 = 180000  # the hand-made route A runs east-west along this northing (British National Grid)
TO_DEG = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)


def row(route, run, seq, code, name, east, north, virtual=0, naptan="490000000A"):
    return [route, run, seq, code, "50000", naptan, name, east, north, "90", virtual]


# Route A: three stops 1 km apart west to east (run 1) and back (run 2), a timing point, a run 3 off
# the line and a run 4 with one real stop. Route B: no route line; its rows are out of order.
ROWS = [
    row("A", 1, 1, "00101", "KINGSWAY / HOLBORN STATION <>", 530000, N0),
    row("A", 1, 2, "T1", "TIMING POINT", 530500, N0, virtual=1, naptan=""),
    row("A", 1, 3, "00102", "", 531000, N0),  # blank name: kept as missing
    row("A", 1, 4, "00103", "ST GEORGE'S CIRCUS #", 532000, N0, naptan='"490000235Z\n"'),
    row("A", 2, 1, "00203", "ST GEORGE'S CIRCUS #", 532000, N0 - 20),
    row("A", 2, 2, "00202", "ALDWYCH / SOMERSET HOUSE", 531000, N0 - 20),
    row("A", 2, 3, "00201", "KINGSWAY / HOLBORN STATION <>", 530000, N0 - 20),
    row("A", 3, 1, "00301", "HOSPITAL / MAIN ENTRANCE", 531000, N0 + 3000),
    row("A", 3, 2, "00302", "HOSPITAL / A & E", 531000, N0 + 3400),
    row("A", 4, 1, "00401", "GARAGE", 532000, N0 + 3000),
    row("B", 1, 10, "B3", "THIRD", 530300, 182400),
    row("B", 1, 1, "B1", "FIRST", 530000, 181000),
    row("B", 1, 9, "B2", "SECOND", 530300, 181400),
]


def write_tsv(path, rows=ROWS, header=HEADER, eof="\x1a" + "\t" * 10 + "\n"):
    """A bus-sequences file as TfL writes it: tab-separated, ending in a DOS end-of-file line."""
    lines = ["\t".join(header)] + ["\t".join(str(v) for v in r) for r in rows]
    path.write_text("\n".join(lines) + "\n" + eof, newline="")
    return path


def feature(route, coords_bng, direction="inbound", kind="LineString"):
    """A GeoJSON feature from British National Grid vertices (a list of parts for MultiLineString)."""

    def deg(part):
        x, y = TO_DEG.transform([c[0] for c in part], [c[1] for c in part])
        return [[a, b] for a, b in zip(x, y)]

    coords = deg(coords_bng) if kind == "LineString" else [deg(p) for p in coords_bng]
    return {
        "type": "Feature",
        "properties": {"line": route, "direction": direction},
        "geometry": {"type": kind, "coordinates": coords},
    }


def write_lines(path, features):
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


# Route A's line, 5 m north of its run-1 stops, drawn east to west: the way of run 2, as TfL's
# "inbound" lines mostly are. Route B has none.
LINE_A = [(532100, N0 + 5), (529900, N0 + 5)]


@pytest.fixture
def small(tmp_path):
    seq = write_tsv(tmp_path / "bus-sequences.csv")
    lines = write_lines(tmp_path / "lines.geojson", [feature("A", LINE_A)])
    return seq, lines


def read(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GradientWarning)
        return tfl.read_tfl_sequences(*args, **kwargs)


def bng(lon, lat):
    return np.column_stack(TO_BNG.transform(np.asarray(lon), np.asarray(lat)))


# --- hand-made files ---------------------------------------------------------------------------


def test_patterns_table(small):
    with pytest.warns(
        GradientWarning,
        match=r"^1 of 4 patterns have no route line and 1 more fit theirs "
        r"badly \(median stop offset over 100 m, or over 10% of stops "
        r"more than 250 m away\); their distances and lines are straight",
    ):
        patterns, _ = tfl.read_tfl_sequences(*small)
    assert list(patterns.columns) == PATTERN_COLUMNS + ["rank", "geometry"]
    assert patterns.crs == "EPSG:4326"
    assert patterns["pattern_id"].tolist() == ["A-0-1", "A-1-1", "A-2-1", "B-0-1"]
    assert patterns["route_id"].tolist() == ["A", "A", "A", "B"]
    assert patterns["route_name"].tolist() == ["A", "A", "A", "B"]
    assert patterns["direction_id"].tolist() == [0, 1, 2, 0]  # Run - 1; run 4 has one real stop
    assert patterns["n_trips"].isna().all() and str(patterns["n_trips"].dtype) == "Int64"
    assert patterns["n_stops"].tolist() == [3, 3, 2, 3]
    assert patterns["geometry_source"].tolist() == ["route_line", "route_line", "straight_line", "straight_line"]
    assert patterns["rank"].tolist() == [1, 1, 1, 1]


def test_pattern_stops_table(small):
    _, stops = read(*small)
    assert list(stops.columns) == PATTERN_STOP_COLUMNS + ["minutes", "offset_m"]
    a0 = stops[stops["pattern_id"] == "A-0-1"]
    assert a0["stop_sequence"].tolist() == [1, 2, 3]  # the timing point is gone, numbering closes up
    assert a0["stop_id"].tolist() == ["00101", "00102", "00103"]  # strings, leading zeros kept
    assert a0["stop_name"].iloc[0] == "KINGSWAY / HOLBORN STATION <>"
    assert pd.isna(a0["stop_name"].iloc[1])
    assert a0["stop_name"].iloc[2] == "ST GEORGE'S CIRCUS #"
    assert a0["dist_m"].to_numpy() == pytest.approx([0.0, 1000.0, 2000.0], abs=1e-6)
    assert a0["offset_m"].to_numpy() == pytest.approx([5.0, 5.0, 5.0], abs=1e-2)
    # to WGS84 and back agrees to the millimetre
    assert bng(a0["lon"], a0["lat"]) == pytest.approx(np.array([[530000, N0], [531000, N0], [532000, N0]]), abs=1e-2)
    assert stops["minutes"].isna().all()

    a1 = stops[stops["pattern_id"] == "A-1-1"]
    assert a1["stop_id"].tolist() == ["00203", "00202", "00201"]
    assert a1["dist_m"].to_numpy() == pytest.approx([0.0, 1000.0, 2000.0], abs=1e-6)
    assert a1["offset_m"].to_numpy() == pytest.approx([25.0, 25.0, 25.0], abs=1e-2)

    # out-of-order rows, sorted by Sequence as numbers (9 before 10); straight lines: 500 m, then 1 km
    b0 = stops[stops["pattern_id"] == "B-0-1"]
    assert b0["stop_id"].tolist() == ["B1", "B2", "B3"]
    assert b0["dist_m"].to_numpy() == pytest.approx([0.0, 500.0, 1500.0], abs=1e-6)
    assert b0["offset_m"].tolist() == [0.0, 0.0, 0.0]

    a2 = stops[stops["pattern_id"] == "A-2-1"]  # 3 km from route A's line: straight line instead
    assert a2["dist_m"].to_numpy() == pytest.approx([0.0, 400.0], abs=1e-6)
    assert stops["pattern_id"].tolist() == sorted(stops["pattern_id"])


def test_route_line_geometry_runs_between_first_and_last_stop(small):
    patterns, _ = read(*small)
    coords = {pid: bng(*np.asarray(g.coords).T) for pid, g in zip(patterns["pattern_id"], patterns.geometry)}
    # run 1 uses the line reversed, from the first stop's point on it to the last one's
    assert coords["A-0-1"][[0, -1]] == pytest.approx(np.array([[530000, N0 + 5], [532000, N0 + 5]]), abs=1e-2)
    assert coords["A-1-1"][[0, -1]] == pytest.approx(np.array([[532000, N0 + 5], [530000, N0 + 5]]), abs=1e-2)
    assert coords["B-0-1"] == pytest.approx(np.array([[530000, 181000], [530300, 181400], [530300, 182400]]), abs=1e-2)


def test_direction_of_lines_comes_from_the_stops_not_the_label(small, caplog):
    seq, _ = small
    for label in ("inbound", "outbound"):
        lines = write_lines(seq.parent / f"{label}.geojson", [feature("A", LINE_A, direction=label)])
        with caplog.at_level(logging.INFO, logger="gradient.sources.tfl"):
            _, stops = read(seq, lines)
        assert stops.loc[stops["pattern_id"] == "A-0-1", "dist_m"].to_numpy() == pytest.approx([0, 1000, 2000])
        assert f"{label} reversed for 1 run-1 patterns; {label} as drawn for 1 run-2 patterns" in caplog.text


def test_virtual_stops_and_short_runs_are_counted_in_the_log(small, caplog):
    with caplog.at_level(logging.INFO, logger="gradient.sources.tfl"):
        read(*small)
    assert (
        "bus-sequences.csv: dropped 1 virtual stops (timing points) of 13 rows, 1 runs with fewer than "
        "two real stops, and 0 routes left with no run"
    ) in caplog.text


def test_the_end_of_file_line_may_be_missing_or_glued_to_the_last_row(tmp_path):
    plain, _ = read(write_tsv(tmp_path / "plain.tsv", eof=""))
    text = write_tsv(tmp_path / "glued.tsv", eof="").read_text()
    (tmp_path / "glued.tsv").write_text(text.rstrip("\n") + "\x1a", newline="")  # "...\t0\x1a", no newline
    glued, _ = read(tmp_path / "glued.tsv")
    assert plain["pattern_id"].tolist() == glued["pattern_id"].tolist() == ["A-0-1", "A-1-1", "A-2-1", "B-0-1"]


def test_without_route_lines_everything_is_straight(small):
    seq, _ = small
    with pytest.warns(
        GradientWarning,
        match=r"^4 of 4 patterns have no route line \(no route-lines file given\) "
        r"and 0 more",
    ):
        patterns, stops = tfl.read_tfl_sequences(seq)
    assert set(patterns["geometry_source"]) == {"straight_line"}
    a0 = stops[stops["pattern_id"] == "A-0-1"]
    assert a0["dist_m"].to_numpy() == pytest.approx([0.0, 1000.0, 2000.0], abs=1e-6)


def test_route_names_match_lines_ignoring_case(small):
    seq, _ = small
    lines = write_lines(seq.parent / "lower.geojson", [feature("a", LINE_A)])
    patterns, _ = read(seq, lines)
    assert patterns["geometry_source"].tolist()[:2] == ["route_line", "route_line"]


def test_multilinestrings_are_merged_or_joined(small):
    seq, _ = small
    touching = [[(532100, N0 + 5), (531000, N0 + 5)], [(531000, N0 + 5), (529900, N0 + 5)]]
    gap = [[(532100, N0 + 5), (531010, N0 + 5)], [(531000, N0 + 5), (529900, N0 + 5)]]  # 10 m apart
    for parts in (touching, gap):
        lines = write_lines(seq.parent / "multi.geojson", [feature("A", parts, kind="MultiLineString")])
        patterns, stops = read(seq, lines)
        assert patterns["geometry_source"].tolist()[:2] == ["route_line", "route_line"]
        for pid in ("A-0-1", "A-1-1"):
            assert stops.loc[stops["pattern_id"] == pid, "dist_m"].to_numpy() == pytest.approx([0, 1000, 2000])


def test_a_line_that_misses_part_of_the_run_is_not_used(small):
    seq, _ = small
    # covers only the western kilometre: the median stop is on it, but a third of the stops are 1 km off
    lines = write_lines(seq.parent / "short.geojson", [feature("A", [(531000, N0 + 5), (529900, N0 + 5)])])
    with pytest.warns(GradientWarning, match=r"^1 of 4 patterns have no route line and 3 more fit theirs badly"):
        patterns, stops = tfl.read_tfl_sequences(seq, lines)
    assert patterns["geometry_source"].tolist() == ["straight_line"] * 4
    assert stops.loc[stops["pattern_id"] == "A-1-1", "dist_m"].to_numpy() == pytest.approx([0, 1000, 2000])


def test_loops_are_matched_in_order(tmp_path):
    # a circular route: round a 1 km square anticlockwise and back to the first stop, 5 m outside the
    # line; the line goes round once and on past the start, so the last stop must match the second pass
    stops = [(530500, N0), (531005, N0 + 500), (530500, N0 + 1005), (529995, N0 + 500), (530500, N0)]
    rows = [row("L", 1, i + 1, "L0" if i in (0, 4) else f"L{i}", f"STOP {i}", e, n) for i, (e, n) in enumerate(stops)]
    seq = write_tsv(tmp_path / "loop.tsv", rows=rows)
    loop = [
        (530000, N0 + 5),
        (531000, N0 + 5),
        (531000, N0 + 1000),
        (530000, N0 + 1000),
        (530000, N0 + 5),
        (530800, N0 + 5),
    ]
    patterns, stops = read(seq, write_lines(tmp_path / "loop.geojson", [feature("L", loop)]))
    assert patterns["geometry_source"].tolist() == ["route_line"]
    assert stops["dist_m"].to_numpy() == pytest.approx([0, 995, 1995, 2995, 3990], abs=1e-2)
    assert stops["offset_m"].to_numpy() == pytest.approx([5, 5, 5, 5, 5], abs=1e-2)


def test_another_metric_crs_measures_nearly_the_same(small):
    _, stops = read(*small, measure_crs="EPSG:32630")  # UTM 30N instead of the British National Grid
    a0 = stops[stops["pattern_id"] == "A-0-1"]
    assert a0["dist_m"].to_numpy() == pytest.approx([0.0, 1000.0, 2000.0], rel=2e-3)


def test_same_dtypes_as_gtfs(small, hart_patterns):
    patterns, stops = read(*small)
    gp, gs = hart_patterns
    expected = gp.dtypes.astype(str).to_dict()
    expected["n_trips"] = "Int64"  # TfL has no trips: missing, not 0
    assert patterns.dtypes.astype(str).to_dict() == expected
    assert stops.dtypes.astype(str).to_dict() == gs.dtypes.astype(str).to_dict()


# --- errors -------------------------------------------------------------------------------------


def replace(rows, index, **changes):
    out = [list(r) for r in rows]
    for col, value in changes.items():
        out[index][HEADER.index(col)] = value
    return out


@pytest.mark.parametrize(
    ("rows", "match"),
    [
        (replace(ROWS, 11, Sequence="x"), r"bad\.tsv: route B, run 1: Sequence 'x' is not a number"),
        (replace(ROWS, 11, Sequence=""), r"route B, run 1: Sequence '' is not a number"),
        (replace(ROWS, 11, Sequence="9"), r"bad\.tsv: route B, run 1: Sequence 9 appears more than once"),
        (replace(ROWS, 11, Run="0"), r"route B: Run '0' is not a whole number 1 or more"),
        (replace(ROWS, 11, Run="1.5"), r"route B: Run '1.5' is not a whole number"),
        (replace(ROWS, 11, Virtual_Bus_Stop="yes"), r"route B, run 1: Virtual_Bus_Stop 'yes' is neither 0 nor 1"),
        (
            replace(ROWS, 11, Location_Easting="n/a"),
            r"route B, run 1, Sequence 1: Location_Easting/Location_Northing 'n/a'/'181000' are not numbers",
        ),
        (replace(ROWS, 11, Stop_Code_LBSL=" "), r"route B, run 1, Sequence 1: Stop_Code_LBSL is blank"),
        (replace(ROWS, 1, Route=""), r"data row 2 has no Route"),
        ([replace(ROWS, 0, Virtual_Bus_Stop=1)[0], ROWS[1]], r"no run has two or more real \(non-virtual\) stops"),
    ],
)
def test_malformed_rows(tmp_path, rows, match):
    with pytest.raises(FeedError, match=match):
        tfl.read_tfl_sequences(write_tsv(tmp_path / "bad.tsv", rows=rows))


def test_virtual_stops_may_have_blank_codes_and_coordinates(tmp_path):
    rows = replace(ROWS, 1, Stop_Code_LBSL="", Location_Easting="")
    patterns, _ = read(write_tsv(tmp_path / "ok.tsv", rows=rows))
    assert len(patterns) == 4


def test_missing_columns(tmp_path):
    header = [c for c in HEADER if c not in ("Sequence", "Virtual_Bus_Stop")]
    rows = [[v for c, v in zip(HEADER, r) if c in header] for r in ROWS]
    with pytest.raises(
        FeedError,
        match=r"cols\.tsv: lacks the column\(s\) Sequence, Virtual_Bus_Stop \(its header reads Route, Run, "
        r"Stop_Code_LBSL, .*\); TfL's bus-sequences file is tab- or comma-separated \(with or without a byte-order "
        r"mark\) with the columns Route, Run, Sequence, Stop_Code_LBSL, Stop_Name, Location_Easting, "
        r"Location_Northing, Virtual_Bus_Stop \(in any order, case or spacing\) and others$",
    ):
        tfl.read_tfl_sequences(write_tsv(tmp_path / "cols.tsv", rows=rows, header=header))


def write_layout(path, sep=",", bom=False, header=HEADER, rows=ROWS, eof=True, newline="\r\n"):
    """A bus-sequences file in another published layout: comma-separated, with a byte-order mark, CRLF."""
    frame = pd.DataFrame([[str(v) for v in r] for r in rows], columns=header)
    text = frame.to_csv(sep=sep, index=False, lineterminator=newline)
    if eof:
        text += "\x1a" + sep * (len(header) - 1) + newline
    path.write_bytes(("\ufeff" if bom else "").encode("utf-8") + text.encode("utf-8"))
    return path


def same(a, b):
    pd.testing.assert_frame_equal(a[1], b[1])
    pd.testing.assert_frame_equal(a[0].drop(columns="geometry"), b[0].drop(columns="geometry"))
    assert a[0].geometry.geom_equals_exact(b[0].geometry, tolerance=0).all()


@pytest.mark.parametrize(
    ("sep", "bom", "eof"),
    [(",", False, True), (",", True, True), (",", True, False), ("\t", True, True)],
    ids=["comma", "comma-bom", "comma-bom-no-eof", "tab-bom"],
)
def test_every_published_layout_reads_alike(small, tmp_path, sep, bom, eof):
    seq, lines = small
    other = write_layout(tmp_path / "bus-sequences.csv", sep=sep, bom=bom, eof=eof)
    same(read(seq, lines), read(other, lines))


def test_columns_in_any_order_case_and_spacing(small, tmp_path):
    seq, lines = small
    spelt = [c.replace("_", " ").upper() if c.startswith("Stop") else c.lower() for c in HEADER]
    order = list(reversed(range(len(HEADER))))
    rows = [[r[i] for i in order] for r in ROWS]
    other = write_layout(tmp_path / "older.csv", header=[spelt[i] for i in order], rows=rows)
    same(read(seq, lines), read(other, lines))


def test_fewer_columns_than_published_read_alike(small, tmp_path):
    seq, lines = small
    keep = [i for i, c in enumerate(HEADER) if c in tfl.REQUIRED_COLUMNS]
    other = write_layout(
        tmp_path / "short.csv", header=[HEADER[i] for i in keep], rows=[[r[i] for i in keep] for r in ROWS]
    )
    same(read(seq, lines), read(other, lines))


def test_the_layout_is_told_from_the_header(tmp_path):
    tab = write_tsv(tmp_path / "a.csv")
    comma = write_layout(tmp_path / "b.tsv", bom=True)
    assert tfl.layout_of(tab.read_text())[0] == "\t"
    assert tfl.layout_of(comma.read_text(encoding="utf-8-sig"))[0] == ","
    assert tfl.is_tfl_sequences(tab) and tfl.is_tfl_sequences(comma)
    (tmp_path / "stops.txt").write_text("stop_id,stop_name,stop_lat,stop_lon\n1,A,51.5,-0.1\n")
    assert tfl.layout_of((tmp_path / "stops.txt").read_text())[0] is None
    assert not tfl.is_tfl_sequences(tmp_path / "stops.txt")


def test_anything_else_is_refused_with_what_was_expected(tmp_path):
    path = tmp_path / "stops.txt"
    path.write_text("stop_id,stop_name,stop_lat,stop_lon\n1,A,51.5,-0.1\n")
    with pytest.raises(
        FeedError,
        match=r"stops\.txt: lacks the column\(s\) Route, Run, Sequence, Stop_Code_LBSL, Location_Easting, "
        r"Location_Northing, Virtual_Bus_Stop \(its header reads stop_id, stop_name, stop_lat, stop_lon\); TfL's "
        r"bus-sequences file is tab- or comma-separated",
    ):
        tfl.read_tfl_sequences(path)


def test_real_file_as_served_comma_separated_with_a_byte_order_mark(tmp_path):
    """The bundled July 2018 file re-saved as TfL serves it in other years: the same patterns, to the bit."""
    raw = pd.read_csv(datasets.get_path("tfl_sequences"), sep="\t", dtype=str, keep_default_na=False)
    raw = raw[raw["Route"] != "\x1a"]
    comma = write_layout(tmp_path / "bus-sequences.csv", bom=True, header=list(raw.columns), rows=raw.to_numpy())
    assert comma.read_bytes()[:3] == b"\xef\xbb\xbf"
    lines = datasets.get_path("tfl_route_lines")
    routes = ["25", "N8", "1", "108"]  # 108: runs 3 to 10
    same(read(datasets.get_path("tfl_sequences"), lines, routes=routes), read(comma, lines, routes=routes))


def test_not_a_file(tmp_path):
    with pytest.raises(FeedError, match=r"nowhere\.tsv: no such file; give TfL's bus-sequences file"):
        tfl.read_tfl_sequences(tmp_path / "nowhere.tsv")
    with pytest.raises(FeedError, match=r"not a file; give TfL's bus-sequences file"):
        tfl.read_tfl_sequences(tmp_path)


def test_empty_file(tmp_path):
    (tmp_path / "empty.tsv").write_text("")
    with pytest.raises(FeedError, match=r"empty\.tsv: is empty; give TfL's bus-sequences file"):
        tfl.read_tfl_sequences(tmp_path / "empty.tsv")


def test_data_after_the_end_of_file_character(tmp_path):
    path = write_tsv(tmp_path / "cut.tsv", eof="\x1a\nA\t1\t5\tX\t1\t\tLATE\t530000\t180000\t0\t0\n")
    with pytest.raises(
        FeedError, match=r"data follows the end-of-file character \(\\x1a\) on line 16"
    ):  # row 4's quoted NaPTAN code spans two lines
        tfl.read_tfl_sequences(path)


def test_route_lines_errors(small, tmp_path):
    seq, _ = small
    with pytest.raises(FeedError, match=r"nowhere\.geojson: no such file; give route lines"):
        tfl.read_tfl_sequences(seq, tmp_path / "nowhere.geojson")
    with pytest.raises(FeedError, match=r"not a file; give route lines"):
        tfl.read_tfl_sequences(seq, tmp_path)
    (tmp_path / "junk.geojson").write_text("not json")
    with pytest.raises(FeedError, match=r"cannot read as a vector file"):
        tfl.read_tfl_sequences(seq, tmp_path / "junk.geojson")
    nameless = feature("A", LINE_A)
    nameless["properties"] = {"route": "A"}
    with pytest.raises(FeedError, match=r"has no 'line' property \(found: route, geometry\)"):
        tfl.read_tfl_sequences(seq, write_lines(tmp_path / "nameless.geojson", [nameless]))
    point = {"type": "Feature", "properties": {"line": "A"}, "geometry": {"type": "Point", "coordinates": [0, 51]}}
    with pytest.raises(FeedError, match=r"has no LineString or MultiLineString features"):
        tfl.read_tfl_sequences(seq, write_lines(tmp_path / "points.geojson", [point]))
    with pytest.warns(UserWarning, match="'crs' was not provided"):  # pyogrio's warning on writing it
        gpd.GeoDataFrame({"line": ["A"]}, geometry=[shapely.LineString(LINE_A)]).to_file(tmp_path / "nocrs.gpkg")
    with pytest.raises(FeedError, match=r"nocrs\.gpkg: declares no CRS"):
        tfl.read_tfl_sequences(seq, tmp_path / "nocrs.gpkg")


def test_crs_must_be_metric(small):
    with pytest.raises(InputError, match=r"measure_crs='EPSG:4326' is not a projected CRS in metres"):
        tfl.read_tfl_sequences(*small, measure_crs="EPSG:4326")
    with pytest.raises(InputError, match=r"measure_crs='nonsense' is not a CRS pyproj knows"):
        tfl.read_tfl_sequences(*small, measure_crs="nonsense")


# --- the real July 2018 file, end to end ---------------------------------------------------------


@pytest.fixture(scope="module")
def london():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        patterns, stops = tfl.read_tfl_sequences(
            datasets.get_path("tfl_sequences"), datasets.get_path("tfl_route_lines")
        )
    return patterns, stops, [str(w.message) for w in caught if issubclass(w.category, GradientWarning)]


@pytest.fixture(scope="module")
def raw():
    """The real file read independently: every non-virtual row."""
    df = pd.read_csv(datasets.get_path("tfl_sequences"), sep="\t", dtype=str, keep_default_na=False)
    df = df[df["Route"] != "\x1a"]
    return df[df["Virtual_Bus_Stop"] == "0"]


@pytest.fixture(scope="module")
def served(raw):
    """Rows of the runs with two or more real stops."""
    size = raw.groupby(["Route", "Run"])["Sequence"].transform("size")
    return raw[size >= 2]


def test_real_file_every_route_with_stops_has_patterns(london, raw, served):
    patterns, stops, messages = london
    assert len(patterns) == served.groupby(["Route", "Run"]).ngroups == 1453
    assert set(patterns["route_id"]) == set(raw["Route"]) == set(served["Route"])
    assert patterns["route_id"].nunique() == 724  # 741 routes, less 17 river buses whose stops are all virtual
    assert patterns["pattern_id"].is_unique
    assert len(stops) == len(served) == 54446  # 54,461 real stops, less 15 runs with one stop
    assert set(stops["stop_id"]) == set(served["Stop_Code_LBSL"])
    assert patterns["direction_id"].value_counts().sort_index().to_dict() == {0: 724, 1: 710, 2: 10, 3: 9}
    assert patterns["geometry_source"].value_counts().to_dict() == {"route_line": 1290, "straight_line": 163}
    assert messages == [
        "124 of 1453 patterns have no route line and 39 more fit theirs badly (median stop offset "
        "over 100 m, or over 10% of stops more than 250 m away); their distances and lines are "
        "straight lines between stops"
    ]


def test_real_file_route_25_runs_between_oxford_circus_and_ilford(london):
    patterns, stops, _ = london
    r25 = patterns[patterns["route_id"] == "25"]
    assert r25["pattern_id"].tolist() == ["25-0-1", "25-1-1"]
    assert r25["geometry_source"].tolist() == ["route_line", "route_line"]
    oxford_circus, ilford = (-0.1415, 51.5154), (0.0701, 51.5589)
    for pid, (start, end) in {"25-0-1": (oxford_circus, ilford), "25-1-1": (ilford, oxford_circus)}.items():
        s = stops[stops["pattern_id"] == pid]
        ends = bng(s["lon"].iloc[[0, -1]], s["lat"].iloc[[0, -1]])
        assert np.hypot(*(ends - bng(*zip(start, end))).T).max() < 600
        assert "GREAT TITCHFIELD ST / OXFORD CIRCUS STN <>" in set(s["stop_name"])
        assert 17_000 < s["dist_m"].iloc[-1] < 18_000


def test_real_file_distances_start_at_zero_and_never_decrease(london):
    _, stops, _ = london
    g = stops.groupby("pattern_id", sort=False)["dist_m"]
    assert (g.first() == 0).all()
    assert (g.diff().dropna() >= 0).all()
    assert np.isfinite(stops[["lon", "lat", "dist_m", "offset_m"]].to_numpy()).all()


def test_real_file_route_lines_fit_the_stops(london):
    patterns, stops, _ = london
    on_lines = patterns.loc[patterns["geometry_source"] == "route_line", "pattern_id"]
    offsets = stops.loc[stops["pattern_id"].isin(on_lines), "offset_m"]
    assert offsets.median() < 10  # the conversion from the British National Grid agrees with TfL's WGS84 lines


def test_real_file_stop_names_survive_unchanged(london, served):
    _, stops, _ = london
    assert stops["stop_name"].notna().all()  # the 9 blank names are all on virtual stops
    assert (
        stops["stop_name"].tolist()
        == served.sort_values(  # same rows, same order, same text
            ["Route", "Run", "Sequence"], key=lambda c: pd.to_numeric(c, errors="coerce") if c.name != "Route" else c
        )["Stop_Name"].tolist()
    )
    first = stops[stops["pattern_id"] == "1-0-1"]["stop_name"].tolist()[:3]
    assert first == ["NEW OXFORD STREET", "MUSEUM STREET", "KINGSWAY / HOLBORN STATION <>"]
    assert stops["stop_name"].str.contains("<>", regex=False).sum() > 0
    assert stops["stop_name"].str.contains("'", regex=False).sum() > 0


def test_real_file_through_the_pipeline(london):
    patterns, stops, _ = london
    # three bands of easting across all London, life expectancy 80, 78, 76 west to east
    bands = [(490000, 520000), (520000, 540000), (540000, 570000)]
    areas = gpd.GeoDataFrame(
        {"area_id": pd.array(["W", "X", "Y"], dtype="string"), "le": [80.0, 78.0, 76.0], "le_se": [1.0, 1.0, 1.0]},
        geometry=[shapely.box(a, 140000, b, 215000) for a, b in bands],
        crs="EPSG:27700",
    ).to_crs("EPSG:4326")
    result = pipeline.run_patterns(patterns, stops, areas)
    assert len(result.patterns) == 1453
    assert (result.patterns["n_stops_le"] == result.patterns["n_stops"]).all()
    assert result.patterns["n_trips"].isna().all()
    r25 = result.patterns.set_index("pattern_id").loc["25-0-1"]
    assert (r25["le_first"], r25["le_last"], r25["le_range"], r25["max_drop"]) == (78.0, 76.0, 2.0, 2.0)
    assert r25["slope_per_km"] < 0
    assert len(result.stops) == len(stops)
