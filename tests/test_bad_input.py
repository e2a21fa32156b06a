"""A corpus of bad and hostile inputs, built from the real bundled files, each with the
exact behaviour expected: a clear error (command line: exit 2, one line naming the file and
the problem, no traceback) or a warning with counts and the affected rows kept as missing."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import python_calamine
import shapely
from conftest import run_args

from gradient import (
    AreasError,
    FeedError,
    GradientWarning,
    InputError,
    Options,
    _tables,
    areas,
    cli,
    datasets,
    pipeline,
    schema,
)
from gradient._files import neutralise_formulas
from gradient.areas.load import ONS_COLUMNS
from gradient.output import folder as outfolder
from gradient.output import write_outputs
from gradient.sources import _gtfs_tables as gtfs_tables
from gradient.sources import gtfs, tfl

ROUTES = ["8", "34", "39"]


@pytest.fixture(scope="session")
def hart_small(tmp_path_factory) -> Path:
    """The real HART feed cut to three routes, as a GTFS folder."""
    folder = tmp_path_factory.mktemp("hart_small")
    with zipfile.ZipFile(datasets.get_path("hart_gtfs")) as zf:
        tables = {Path(n).stem: pd.read_csv(zf.open(n), dtype=str) for n in zf.namelist() if n.endswith(".txt")}
    trips = tables["trips"][tables["trips"]["route_id"].isin(ROUTES)]
    tables["trips"] = trips
    tables["routes"] = tables["routes"][tables["routes"]["route_id"].isin(ROUTES)]
    tables["stop_times"] = tables["stop_times"][tables["stop_times"]["trip_id"].isin(trips["trip_id"])]
    tables["shapes"] = tables["shapes"][tables["shapes"]["shape_id"].isin(trips["shape_id"])]
    for name in ("fare_rules", "fare_attributes", "calendar_dates"):
        tables.pop(name, None)
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.txt", index=False)
    return folder


@pytest.fixture()
def feed_copy(hart_small, tmp_path) -> Path:
    return Path(shutil.copytree(hart_small, tmp_path / "feed"))


def edit(folder: Path, table: str, change) -> None:
    path = folder / f"{table}.txt"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame = change(frame)
    frame.to_csv(path, index=False)


def run_cli(feed: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "gradient",
            "run",
            "--gtfs",
            str(feed),
            "--areas",
            str(datasets.get_path("hillsborough_tracts")),
            "--le",
            str(datasets.get_path("usaleep")),
            "--le-format",
            "usaleep",
            "--maps",
            "0",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
    )


def assert_one_line_error(proc, pattern: str, out: Path) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if not line.startswith("gradient: warning:")]
    assert len(errors) == 1, proc.stderr
    assert re.search(pattern, errors[0]), errors[0]
    assert not (out / "stops.csv").exists() and not (out / "patterns.csv").exists()


def test_the_small_real_feed_is_fine(feed_copy, tmp_path):
    proc = run_cli(feed_copy, tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    assert len(pd.read_csv(tmp_path / "out" / "patterns.csv")) == 6


# --- GTFS: errors ---------------------------------------------------------------------


@pytest.mark.parametrize("table", ["stops", "stop_times", "trips"])
def test_missing_table(feed_copy, tmp_path, table):
    (feed_copy / f"{table}.txt").unlink()
    assert_one_line_error(
        run_cli(feed_copy, tmp_path / "out"), rf"feed: the feed has no {table}\.txt", tmp_path / "out"
    )


def test_missing_column(feed_copy, tmp_path):
    edit(feed_copy, "stop_times", lambda f: f.drop(columns="stop_sequence"))
    assert_one_line_error(
        run_cli(feed_copy, tmp_path / "out"), r"stop_times\.txt lacks the column\(s\) stop_sequence", tmp_path / "out"
    )


def test_unknown_trip_in_stop_times(feed_copy):
    edit(feed_copy, "stop_times", lambda f: f.assign(trip_id=f["trip_id"].where(f.index > 2, "ghost")))
    with pytest.raises(FeedError, match=r"refers to 3 row\(s\) of trips missing from trips\.txt \(e\.g\. ghost\)"):
        gtfs.stop_patterns(gtfs.read_feed(feed_copy))


def test_duplicate_stop_ids(feed_copy, tmp_path):
    edit(feed_copy, "stops", lambda f: pd.concat([f, f.iloc[[0, 1]]]))
    assert_one_line_error(
        run_cli(feed_copy, tmp_path / "out"),
        r"stops\.txt has 2 stop_id\(s\) more than once \(e\.g\. ",
        tmp_path / "out",
    )


def test_stops_at_zero_zero(feed_copy, tmp_path):
    edit(
        feed_copy,
        "stops",
        lambda f: f.assign(
            stop_lat=f["stop_lat"].where(f.index > 0, "0"), stop_lon=f["stop_lon"].where(f.index > 0, "0")
        ),
    )
    with pytest.raises(FeedError, match=r"1 stop\(s\) in use sit at latitude 0, longitude 0"):
        gtfs.read_feed(feed_copy)


def test_swapped_coordinates(feed_copy, tmp_path):
    used = pd.read_csv(feed_copy / "stop_times.txt", dtype=str)["stop_id"].unique()[:2]

    def swap(f):
        rows = f["stop_id"].isin(used)
        f.loc[rows, ["stop_lat", "stop_lon"]] = f.loc[rows, ["stop_lon", "stop_lat"]].to_numpy()
        return f

    edit(feed_copy, "stops", swap)
    assert_one_line_error(
        run_cli(feed_copy, tmp_path / "out"),
        r"stops\.txt: 2 stop\(s\) in use have latitude and longitude swapped",
        tmp_path / "out",
    )


def test_coordinates_out_of_range(feed_copy):
    edit(feed_copy, "stops", lambda f: f.assign(stop_lat=f["stop_lat"].where(f.index > 0, "127.9")))
    with pytest.raises(FeedError, match=r"1 stop\(s\) in use have coordinates out of range"):
        gtfs.read_feed(feed_copy)


def test_non_utf8_text(feed_copy, tmp_path):
    path = feed_copy / "stops.txt"
    text = path.read_text(encoding="utf-8").replace("Marion Transit Center", "Marión Transit Center")
    path.write_bytes(text.encode("latin-1"))
    assert_one_line_error(
        run_cli(feed_copy, tmp_path / "out"), r"feed: is not UTF-8 text .*re-save them as UTF-8", tmp_path / "out"
    )


# --- GTFS: warnings, rows kept ---------------------------------------------------------


def test_times_written_as_seconds(feed_copy):
    def seconds(f):
        first = f["trip_id"] == f["trip_id"].iloc[0]
        h, m, s = (f.loc[first, "arrival_time"].str.split(":", expand=True).astype(int)[i] for i in range(3))
        f.loc[first, "arrival_time"] = (h * 3600 + m * 60 + s).astype(str)
        return f

    edit(feed_copy, "stop_times", seconds)
    with pytest.warns(
        GradientWarning,
        match=r"of \d+ arrival_time values in stop_times\.txt are not H:MM:SS "
        r"\(e\.g\. \d+.*\); scheduled minutes stay missing",
    ):
        feed = gtfs.read_feed(feed_copy)
    _, ps = gtfs.stop_patterns(feed)
    assert ps["minutes"].notna().mean() > 0.9  # the other trips still give minutes


def test_route_with_one_stop(feed_copy):
    def lonely(f):
        trip = f["trip_id"].iloc[0]
        return f[(f["trip_id"] != trip) | (f["stop_sequence"] == f.loc[f["trip_id"] == trip, "stop_sequence"].iloc[0])]

    edit(feed_copy, "stop_times", lonely)
    with pytest.warns(GradientWarning, match=r"1 of \d+ trips serve a single stop and are left out \(e\.g\. trip "):
        patterns, _ = gtfs.stop_patterns(gtfs.read_feed(feed_copy))
    assert len(patterns) == 6


def test_byte_order_mark(feed_copy):
    path = feed_copy / "stops.txt"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    feed = gtfs.read_feed(feed_copy)
    assert "stop_id" in feed.stops.columns


# --- GTFS zips ----------------------------------------------------------------------------


def zip_folder(folder: Path, archive: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.iterdir()):
            zf.write(f, prefix + f.name)
    return archive


def test_zip_with_files_in_a_sub_folder(hart_small, tmp_path):
    nested = zip_folder(hart_small, tmp_path / "nested.zip", prefix="hart_gtfs/")
    flat = zip_folder(hart_small, tmp_path / "flat.zip")
    a = gtfs.stop_patterns(gtfs.read_feed(nested))[1]
    b = gtfs.stop_patterns(gtfs.read_feed(flat))[1]
    pd.testing.assert_frame_equal(a, b)


def test_zip_with_paths_leaving_the_folder(hart_small, tmp_path):
    archive = zip_folder(hart_small, tmp_path / "evil.zip")
    with zipfile.ZipFile(archive, "a") as zf:
        zf.writestr("../../escaped.txt", "owned")
    (tmp_path / "work").mkdir()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "gradient",
            "run",
            "--gtfs",
            str(archive),
            "--areas",
            str(datasets.get_path("hillsborough_tracts")),
            "--le",
            str(datasets.get_path("usaleep")),
            "--le-format",
            "usaleep",
            "--out",
            str(tmp_path / "work" / "out"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path / "work",
    )
    assert_one_line_error(
        proc,
        r"evil\.zip: the zip holds '\.\./\.\./escaped\.txt', a path that leaves its folder",
        tmp_path / "work" / "out",
    )
    assert not list(tmp_path.rglob("escaped.txt"))


def test_zip_bomb_is_refused_before_reading(tmp_path, monkeypatch):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("stop_times.txt", b"0" * 3_000_000)
    monkeypatch.setattr(gtfs_tables, "MAX_UNCOMPRESSED_BYTES", 2_000_000)
    with pytest.raises(FeedError, match=r"bomb\.zip: the zip would unpack to 0\.0 GiB, over the 0 GiB limit"):
        gtfs.read_feed(archive)


def test_zip_member_with_absurd_ratio(tmp_path, monkeypatch):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("stop_times.txt", b"0" * 120_000_000)  # packs to about 120 kB
    with pytest.raises(FeedError, match=r"'stop_times\.txt' in the zip would unpack \d+ times its packed size"):
        gtfs.read_feed(archive)


# --- boundaries ----------------------------------------------------------------------------


def squares_file(tmp_path, name, crs="EPSG:4326", empty=False):
    geoms = [shapely.box(-82.5, 27.9, -82.4, 28.0), shapely.box(-82.4, 27.9, -82.3, 28.0)]
    if empty:
        geoms.append(shapely.Polygon())
    gdf = gpd.GeoDataFrame({"code": [f"A{i}" for i in range(len(geoms))]}, geometry=geoms, crs="EPSG:4326")
    path = tmp_path / name
    gdf.set_crs(crs, allow_override=True).to_file(path)
    return path


def test_crs_that_does_not_match_the_coordinates(tmp_path):
    path = squares_file(tmp_path, "declared_bng.gpkg", crs="EPSG:27700")
    with pytest.raises(
        AreasError, match=r"coordinates look like longitude/latitude degrees, but the CRS is EPSG:27700"
    ):
        areas.read_boundaries(path, "code")


def test_empty_polygons_are_dropped_and_counted(tmp_path):
    path = squares_file(tmp_path, "with_empty.gpkg", empty=True)
    with pytest.warns(GradientWarning, match=r"with_empty\.gpkg: dropped 1 empty geometries"):
        got = areas.read_boundaries(path, "code")
    assert got["area_id"].tolist() == ["A0", "A1"]


# --- nothing half-written, nothing injected ---------------------------------------------------


def test_an_error_while_writing_leaves_nothing(hart_patterns, tracts, tmp_path, monkeypatch):
    patterns, ps = hart_patterns
    result = pipeline.run_patterns(patterns[patterns["route_name"] == "8"], ps, tracts)
    out = tmp_path / "out"

    def broken(*args, **kwargs):
        raise KeyboardInterrupt  # an interruption part way through, after the CSVs were written

    from gradient.present import charts

    monkeypatch.setattr(charts, "save_figure", broken)
    with pytest.raises(KeyboardInterrupt):
        write_outputs(result, out, Options(maps=1))
    assert [p.name for p in out.rglob("*")] == []  # no CSV, no map, no staging folder


def test_a_failed_rerun_keeps_the_previous_outputs(hart_patterns, tracts, tmp_path, monkeypatch):
    patterns, ps = hart_patterns
    result = pipeline.run_patterns(patterns[patterns["route_name"] == "8"], ps, tracts)
    out = tmp_path / "out"
    write_outputs(result, out, Options(maps=0))
    before = (out / "stops.csv").read_bytes()
    from gradient.output import write as output

    monkeypatch.setattr(output, "write_csv", lambda *a, **k: (_ for _ in ()).throw(OSError(28, "No space left")))
    with pytest.raises(OSError):
        write_outputs(result, out, Options(maps=0))
    assert (out / "stops.csv").read_bytes() == before
    assert not list(out.glob(".gradient-staging-*"))


def test_formula_cells_are_neutralised_but_numbers_are_not():
    frame = pd.DataFrame(
        {"stop_name": ['=HYPERLINK("x")', "+1", "-2 Rd", "@home", "Main St"], "le": [-1.5, 2.0, np.nan, 80.0, 81.0]}
    )
    got = neutralise_formulas(frame)
    assert got["stop_name"].tolist() == ['\'=HYPERLINK("x")', "'+1", "'-2 Rd", "'@home", "Main St"]
    assert got["le"].tolist()[:2] == [-1.5, 2.0]


def test_hostile_route_name_writes_inside_the_output_folder(feed_copy, tmp_path):
    edit(feed_copy, "routes", lambda f: f.assign(route_id=f["route_id"].replace("8", "../../x")))
    edit(feed_copy, "trips", lambda f: f.assign(route_id=f["route_id"].replace("8", "../../x")))
    out = tmp_path / "deep" / "out"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "gradient",
            "run",
            "--gtfs",
            str(feed_copy),
            "--areas",
            str(datasets.get_path("hillsborough_tracts")),
            "--le",
            str(datasets.get_path("usaleep")),
            "--le-format",
            "usaleep",
            "--route",
            "8",
            "34",
            "--maps",
            "6",
            "--out",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    written = [p.resolve() for p in (tmp_path / "deep").rglob("*") if p.is_file()]
    assert all(out.resolve() in p.parents for p in written)
    assert any(p.name.startswith(("x-0-1", "x-1-1")) for p in written)
    assert not (tmp_path / "x").exists()
    patterns = pd.read_csv(out / "patterns.csv")
    assert "../../x" in set(patterns["route_id"])  # the data itself is kept as it was


def test_unwritable_output_folder(feed_copy, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    proc = run_cli(feed_copy, blocker / "out")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert re.search(r"gradient: error: .*file.*: Not a directory", proc.stderr.strip().splitlines()[-1])


# =========================================================================================
# Issue 16: real feeds and tables as they come. Every case below is built from the real
# bundled files and asserts the exact outcome: the exit status and the one line for bad
# input; for valid but unusual input, the same answer as the plain reading.
# =========================================================================================


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str

    @property
    def errors(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if not line.startswith("gradient: warning:")]

    @property
    def warnings(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("gradient: warning:")]


def gradient(*args: str) -> Ran:
    """``gradient ARGS`` in this process (fast): exit status and what it printed."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main([str(a) for a in args])
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code
    return Ran(code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="session")
def hills_le(tmp_path_factory) -> Path:
    """USALEEP as published (US_A.CSV), cut to Hillsborough County's tracts: the same bytes per line."""
    path = tmp_path_factory.mktemp("usaleep") / "FL_A.CSV"
    lines = datasets.get_path("usaleep").read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join([lines[0]] + [line for line in lines[1:] if line.startswith(b"12057")]))
    return path


def assert_refused(ran: Ran, pattern: str, out: Path | None = None) -> None:
    """Exit 2, exactly one line, no traceback, matching ``pattern``; nothing written."""
    assert ran.returncode == 2, ran.stderr
    assert "Traceback" not in ran.stderr
    assert len(ran.errors) == 1, ran.stderr
    assert ran.errors[0].startswith("gradient: error: "), ran.errors[0]
    assert re.search(pattern, ran.errors[0]), ran.errors[0]
    if out is not None:
        assert not out.exists()


def stop_lists(patterns: pd.DataFrame, ps: pd.DataFrame) -> dict:
    """Each pattern as (route, ordered stop ids) -> n_trips: what a pattern is, whatever its label."""
    lists = {pid: tuple(g) for pid, g in ps.groupby("pattern_id", sort=False)["stop_id"]}
    return {(r, lists[pid]): n for pid, r, n in zip(patterns["pattern_id"], patterns["route_id"], patterns["n_trips"])}


@pytest.fixture(scope="session")
def small_patterns(hart_small):
    return gtfs.stop_patterns(gtfs.read_feed(hart_small))


# --- 1. GTFS by the specification -----------------------------------------------------


@pytest.mark.parametrize("token", ["NA", "null", "None", "N/A"])
def test_ids_and_names_that_read_like_missing_values(feed_copy, small_patterns, token):
    used = pd.read_csv(feed_copy / "stop_times.txt", dtype=str)["stop_id"].iloc[0]
    edit(
        feed_copy,
        "stops",
        lambda f: f.assign(
            stop_id=f["stop_id"].replace(used, token), stop_name=f["stop_name"].where(f["stop_id"] != used, token)
        ),
    )
    edit(feed_copy, "stop_times", lambda f: f.assign(stop_id=f["stop_id"].replace(used, token)))
    edit(feed_copy, "routes", lambda f: f.assign(route_short_name=f["route_short_name"].replace("8", token)))
    patterns, ps = gtfs.stop_patterns(gtfs.read_feed(feed_copy))
    plain_patterns, plain = small_patterns
    assert ps["stop_id"].tolist() == plain["stop_id"].replace(used, token).tolist()
    assert set(ps.loc[ps["stop_id"] == token, "stop_name"]) == {token}
    assert set(patterns.loc[patterns["route_id"] == "8", "route_name"]) == {token}
    assert ps["stop_name"].notna().all() and patterns["route_name"].notna().all()


@pytest.mark.parametrize("offset", [2**31, 2**62])
def test_stop_sequence_beyond_2_to_the_31(feed_copy, small_patterns, offset):
    edit(
        feed_copy,
        "stop_times",
        lambda f: f.assign(stop_sequence=(f["stop_sequence"].astype("int64") + offset).astype(str)).sample(
            frac=1, random_state=1
        ),
    )
    patterns, ps = gtfs.stop_patterns(gtfs.read_feed(feed_copy))
    pd.testing.assert_frame_equal(ps, small_patterns[1])
    pd.testing.assert_frame_equal(patterns, small_patterns[0])


def test_stop_sequence_beyond_int64_is_refused_naming_the_value(feed_copy, tmp_path):
    edit(
        feed_copy,
        "stop_times",
        lambda f: f.assign(stop_sequence=f["stop_sequence"].where(f.index > 0, "9223372036854775808")),
    )
    assert_refused(
        gradient(*run_args(feed_copy, tmp_path / "out", le=tmp_path)),
        r"feed: stop_times\.txt: 1 value\(s\) in column stop_sequence are not whole numbers of at most "
        r"2\*\*63 - 1 \(9223372036854775807\) \(e\.g\. '9223372036854775808'\)$",
        tmp_path / "out",
    )


def test_gtfs_kit_engine_names_its_limit(feed_copy, tmp_path):
    edit(
        feed_copy,
        "stop_times",
        lambda f: f.assign(stop_sequence=(f["stop_sequence"].astype("int64") + 2**31).astype(str)),
    )
    assert_refused(
        gradient(*run_args(feed_copy, tmp_path / "out", "--engine", "gtfs-kit", le=tmp_path)),
        r"feed: --engine gtfs-kit cannot read this feed \(.*int32.*\); the default --engine pyarrow "
        r"reads every GTFS integer",
    )


def test_feed_without_direction_id_keeps_both_directions(feed_copy, small_patterns):
    edit(feed_copy, "trips", lambda f: f.drop(columns="direction_id"))
    with pytest.warns(
        GradientWarning,
        match=r"^trips\.txt has no direction_id: the directions of all 3 routes "
        r"\(1130 trips\) were inferred from the order",
    ):
        patterns, ps = gtfs.stop_patterns(gtfs.read_feed(feed_copy))
    assert stop_lists(patterns, ps) == stop_lists(*small_patterns)
    assert sorted(patterns["direction_id"]) == [0, 0, 0, 1, 1, 1]


def test_direction_id_blank_for_one_route(feed_copy, hart_small):
    edit(feed_copy, "trips", lambda f: f.assign(direction_id=f["direction_id"].where(f["route_id"] != "34", "")))
    with pytest.warns(
        GradientWarning,
        match=r"^direction_id is blank for \d+ trips on 1 of 3 routes, 1 of them "
        r"with none given: their directions were inferred",
    ):
        patterns, ps = gtfs.stop_patterns(gtfs.read_feed(feed_copy), all_patterns=True)
    plain = gtfs.stop_patterns(gtfs.read_feed(hart_small), all_patterns=True)
    assert stop_lists(patterns, ps) == stop_lists(*plain)


def test_direction_id_blank_for_one_trip_takes_its_stop_lists_direction(feed_copy, small_patterns):
    trip = pd.read_csv(feed_copy / "trips.txt", dtype=str)["trip_id"].iloc[5]
    edit(feed_copy, "trips", lambda f: f.assign(direction_id=f["direction_id"].where(f["trip_id"] != trip, "")))
    with pytest.warns(GradientWarning, match=r"^direction_id is blank for 1 trips on 1 of 3 routes: "):
        got = gtfs.stop_patterns(gtfs.read_feed(feed_copy))
    pd.testing.assert_frame_equal(got[1], small_patterns[1])
    pd.testing.assert_frame_equal(got[0], small_patterns[0])


def test_hart_without_direction_id_gives_its_85_main_patterns(hart_feed, hart_patterns):
    bare = dataclasses.replace(hart_feed, trips=hart_feed.trips.drop(columns="direction_id"))
    with pytest.warns(GradientWarning, match=r"the directions of all 45 routes \(14718 trips\) were inferred"):
        patterns, ps = gtfs.stop_patterns(bare)
    assert stop_lists(patterns, ps) == stop_lists(*hart_patterns)
    given = dict(zip(stop_lists(*hart_patterns), hart_patterns[0]["direction_id"]))
    flipped: dict = {}  # the labels may swap, but consistently within each route
    for key, d in zip(stop_lists(patterns, ps), patterns["direction_id"]):
        assert flipped.setdefault(key[0], d != given[key]) == (d != given[key])


def test_direction_id_other_than_0_or_1_is_refused(feed_copy, tmp_path):
    edit(feed_copy, "trips", lambda f: f.assign(direction_id=f["direction_id"].where(f.index > 0, "2")))
    assert_refused(
        gradient(*run_args(feed_copy, tmp_path / "out", le=tmp_path)),
        r"feed: trips\.txt: column direction_id must be 0, 1 or blank; 1 value\(s\) are not \(e\.g\. 2\)$",
    )


def blank_non_timepoints(f: pd.DataFrame) -> pd.DataFrame:
    non = f["timepoint"] == "0"
    return f.assign(arrival_time=f["arrival_time"].mask(non, ""), departure_time=f["departure_time"].mask(non, ""))


def test_blank_times_at_non_timepoints_are_interpolated_by_distance(feed_copy, small_patterns):
    edit(feed_copy, "stop_times", blank_non_timepoints)
    _, ps = gtfs.stop_patterns(gtfs.read_feed(feed_copy))
    plain = small_patterns[1]
    assert ps["minutes"].notna().all()
    assert (ps.groupby("pattern_id")["minutes"].diff().dropna() >= 0).all()  # never backwards
    # HART's own times at those stops are within 15 seconds of the distance interpolation
    assert (ps["minutes"] - plain["minutes"]).abs().max() < 0.25
    assert (ps["minutes"] == plain["minutes"]).mean() < 0.5  # they were interpolated, not copied


def test_departure_time_stands_in_for_a_blank_arrival_time(feed_copy, small_patterns):
    edit(feed_copy, "stop_times", lambda f: f.assign(arrival_time=""))
    _, ps = gtfs.stop_patterns(gtfs.read_feed(feed_copy))
    pd.testing.assert_frame_equal(ps, small_patterns[1])


def test_trips_without_a_first_time_or_going_backwards_are_left_out(feed_copy, small_patterns):
    st = pd.read_csv(feed_copy / "stop_times.txt", dtype=str, keep_default_na=False)
    trips = st["trip_id"].unique()
    first = st.index[(st["trip_id"] == trips[0])][0]
    back = st.index[(st["trip_id"] == trips[1])][3]
    edit(
        feed_copy,
        "stop_times",
        lambda f: f.assign(
            arrival_time=f["arrival_time"].where(f.index != first, "").where(f.index != back, "0:01:00"),
            departure_time=f["departure_time"].where(f.index != first, "").where(f.index != back, "0:01:00"),
        ),
    )
    with pytest.warns(
        GradientWarning,
        match=r"^1 have no time at their first or last stop and 1 have times that go "
        r"backwards \(of 1130 trips on the patterns measured\): they are left out",
    ):
        _, ps = gtfs.stop_patterns(gtfs.read_feed(feed_copy))
    assert (ps.groupby("pattern_id")["minutes"].diff().dropna() >= 0).all()
    assert ps["minutes"].notna().all()


# --- 2. Refusals, exact ------------------------------------------------------------------


def test_zip_holding_two_feeds_in_two_folders(hart_small, tmp_path):
    archive = zip_folder(hart_small, tmp_path / "two.zip", prefix="hart_a/")
    with zipfile.ZipFile(archive, "a") as zf:
        for f in sorted(hart_small.iterdir()):
            zf.write(f, "hart_b/" + f.name)
    assert_refused(
        gradient(*run_args(archive, tmp_path / "out", le=tmp_path)),
        r"two\.zip: the zip holds GTFS files in 2 folders \(hart_a/, hart_b/\): more than one feed\? "
        r"Give each feed as its own zip or folder$",
        tmp_path / "out",
    )


def test_zip_holding_one_member_twice(hart_small, tmp_path):
    archive = zip_folder(hart_small, tmp_path / "twice.zip")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate name: that is the point
        with zipfile.ZipFile(archive, "a") as zf:
            zf.write(hart_small / "stops.txt", "stops.txt")
    assert_refused(
        gradient(*run_args(archive, tmp_path / "out", le=tmp_path)),
        r"twice\.zip: the zip holds 'stops\.txt' 2 times; which one is the feed's cannot be told",
    )


def test_zip_with_a_macos_metadata_folder_is_one_feed(hart_small, small_patterns, tmp_path):
    archive = zip_folder(hart_small, tmp_path / "mac.zip", prefix="hart/")
    with zipfile.ZipFile(archive, "a") as zf:
        zf.writestr("__MACOSX/hart/._stops.txt", b"\x00\x05\x16\x07 resource fork")
    pd.testing.assert_frame_equal(gtfs.stop_patterns(gtfs.read_feed(archive))[1], small_patterns[1])


def damage(archive: Path, member: str) -> None:
    data = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as zf:
        info = zf.getinfo(member)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + 100
    data[start : start + 16] = bytes(b ^ 0x55 for b in data[start : start + 16])
    archive.write_bytes(bytes(data))


@pytest.mark.parametrize("engine", ["pyarrow", "gtfs-kit"])
def test_damaged_zip_member(hart_small, tmp_path, engine):
    archive = zip_folder(hart_small, tmp_path / "damaged.zip")
    damage(archive, "stop_times.txt")
    assert_refused(
        gradient(*run_args(archive, tmp_path / "out", "--engine", engine, le=tmp_path)),
        r"damaged\.zip: stop_times\.txt in the zip is damaged \(.+\); download the feed again$",
    )


def test_trips_naming_a_route_missing_from_routes_txt(feed_copy, tmp_path):
    edit(feed_copy, "routes", lambda f: f[f["route_id"] != "39"])
    assert_refused(
        gradient(*run_args(feed_copy, tmp_path / "out", le=tmp_path)),
        r"feed: trips\.txt: \d+ trip\(s\) name a route_id missing from routes\.txt \(e\.g\. 39\)",
    )


def test_trip_with_a_blank_route_id(feed_copy, tmp_path):
    edit(feed_copy, "trips", lambda f: f.assign(route_id=f["route_id"].where(f.index > 0, "")))
    assert_refused(
        gradient(*run_args(feed_copy, tmp_path / "out", le=tmp_path)),
        r"feed: trips\.txt: 1 trip\(s\) have a blank route_id \(e\.g\. trip \d+\)",
    )


def test_stop_sequence_twice_in_a_trip_names_the_trip_and_value(feed_copy, tmp_path):
    st = pd.read_csv(feed_copy / "stop_times.txt", dtype=str)
    trip, seq = st["trip_id"].iloc[0], st["stop_sequence"].iloc[0]
    edit(feed_copy, "stop_times", lambda f: f.assign(stop_sequence=f["stop_sequence"].where(f.index != 1, seq)))
    assert_refused(
        gradient(*run_args(feed_copy, tmp_path / "out", le=tmp_path)),
        rf"feed: stop_times\.txt: trip {trip} has stop_sequence {seq} on more than one stop \(1 trip\(s\) "
        r"repeat a stop_sequence\); the order of their stops cannot be told$",
    )


@pytest.mark.parametrize(("value", "what"), [("", "blank"), ("-3", "negative")])
def test_blank_or_negative_stop_sequence(feed_copy, tmp_path, value, what):
    edit(feed_copy, "stop_times", lambda f: f.assign(stop_sequence=f["stop_sequence"].where(f.index > 0, value)))
    assert_refused(
        gradient(*run_args(feed_copy, tmp_path / "out", le=tmp_path)),
        rf"feed: stop_times\.txt: 1 row\(s\) have a {what} stop_sequence \(e\.g\. trip \d+\); it must be "
        r"a whole number 0 or more$",
    )


@pytest.mark.parametrize(
    ("table", "column", "value"),
    [
        ("stops", "stop_lat", "north"),
        ("stops", "stop_lon", "82.4 W"),
        ("stop_times", "stop_sequence", "first"),
        ("shapes", "shape_pt_lat", "27,95"),
        ("trips", "direction_id", "inbound"),
    ],
)
def test_parse_failures_name_the_table_the_column_and_the_value(feed_copy, tmp_path, table, column, value):
    edit(feed_copy, table, lambda f: f.assign(**{column: f[column].where(f.index > 0, value)}))
    whole = "whole " if column in ("stop_sequence", "direction_id") else ""
    assert_refused(
        gradient(*run_args(feed_copy, tmp_path / "out", le=tmp_path)),
        rf"feed: {table}\.txt: 1 value\(s\) in column {column} are not {whole}numbers "
        rf"\(e\.g\. '{re.escape(value)}'\)$",
    )


def test_blank_stop_id_is_named_as_blank(feed_copy, tmp_path):
    edit(feed_copy, "stops", lambda f: f.assign(stop_id=f["stop_id"].where(f.index > 0, "")))
    assert_refused(
        gradient(*run_args(feed_copy, tmp_path / "out", le=tmp_path)),
        r"feed: stops\.txt has 1 row\(s\) with a blank stop_id$",
    )


def test_required_table_with_a_header_but_no_rows(feed_copy, tmp_path):
    edit(feed_copy, "trips", lambda f: f.iloc[:0])
    assert_refused(
        gradient(*run_args(feed_copy, tmp_path / "out", le=tmp_path)), r"feed: trips\.txt has a header but no rows$"
    )


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--alpha", "5", r"--alpha 5\.0 must be a number from 1e-06 to 0\.5, e\.g\. 0\.05 for 95% intervals$"),
        ("--alpha", "0", r"--alpha 0\.0 must be a number from 1e-06 to 0\.5"),
        ("--alpha", "nan", r"--alpha nan must be a number from 1e-06 to 0\.5"),
        ("--alpha", "1e-17", r"--alpha 1e-17 must be a number from 1e-06 to 0\.5"),
        ("--stretch-k", "0", r"--stretch-k 0 must be a whole number from 1 to 50, e\.g\. 5$"),
        ("--stretch-k", "1000000", r"--stretch-k 1000000 must be a whole number from 1 to 50"),
        ("--draws", "10", r"--draws 10 must be a whole number from 200 to 1,000,000"),
        ("--draws", "1000000000", r"--draws 1000000000 must be a whole number from 200 to 1,000,000"),
        ("--radius-m", "-50", r"--radius-m -50\.0 must be a number from 1 to 5000, metres"),
        ("--radius-m", "1e9", r"--radius-m 1000000000\.0 must be a number from 1 to 5000, metres"),
        ("--walk-m", "inf", r"--walk-m inf must be a number from 1 to 10000, metres"),
        ("--maps", "-1", r"--maps -1 must be a whole number from 0 to 1,000"),
        ("--se-scale", "0.5", r"--se-scale 0\.5 must be a number from 1 to 10"),
    ],
)
def test_options_outside_their_range(tmp_path, flag, value, message):
    ran = gradient(*run_args(tmp_path / "nofeed", tmp_path / "out", flag, value, le=tmp_path))
    assert_refused(ran, r"^gradient: error: " + message, tmp_path / "out")


# --- 3. Tables as published --------------------------------------------------------------


@pytest.fixture(scope="session")
def welsh_table(tmp_path_factory):
    """REQ3292's persons estimates for Welsh MSOAs with their Welsh names (MSOA Names 1.10), as text."""
    rows = pd.DataFrame(
        python_calamine.CalamineWorkbook.from_path(str(datasets.get_path("ons_msoa_le")))
        .get_sheet_by_name("Data")
        .to_python()
    )
    rows = rows.iloc[1:].set_axis(rows.iloc[0].tolist(), axis=1)
    rows = rows[(rows["Sex"] == "Persons") & rows["Code"].str.startswith("W")]
    names = pd.read_csv(datasets.get_path("msoa_names"), dtype=str).set_index("msoa11cd")
    enw = names["msoa11hclnmw"].fillna(names["msoa11nmw"]).reindex(rows["Code"]).to_numpy()
    frame = pd.DataFrame(
        {
            "Cod": rows["Code"].to_numpy(),
            "Enw": enw,
            "Disgwyliad oes": rows["Life Expectancy at birth (in years)"].to_numpy(),
        }
    )
    return frame[[name == name.encode("latin-1", "ignore").decode("latin-1") for name in frame["Enw"]]]  # no ŵ


def write_text(path: Path, frame: pd.DataFrame, encoding: str, sep: str = ",") -> Path:
    path.write_bytes(frame.to_csv(index=False, sep=sep, lineterminator="\r\n").encode(encoding))
    return path


@pytest.mark.parametrize(
    ("encoding", "sep", "warned"),
    [
        ("utf-8", ",", False),
        ("utf-8-sig", ",", False),
        ("cp1252", ",", True),
        ("utf-16", "\t", False),
        ("utf-16-le", "\t", False),
    ],
)
def test_le_table_in_the_encoding_it_was_saved_in(welsh_table, tmp_path, encoding, sep, warned):
    path = write_text(tmp_path / "le.csv", welsh_table, encoding, sep)
    plain = areas.read_le_table(write_text(tmp_path / "plain.csv", welsh_table, "utf-8"), "Cod", "Disgwyliad oes")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = areas.read_le_table(path, "Cod", "Disgwyliad oes")
    said = [str(w.message) for w in caught if issubclass(w.category, GradientWarning)]
    assert said == (
        [f"{path}: is not UTF-8; read as Windows-1252. If names look wrong, give its encoding with le_encoding="]
        if warned
        else []
    )
    pd.testing.assert_frame_equal(got, plain)
    raw, _ = _tables.read_table(path, ["Cod", "Enw"], id_col="Cod")
    assert "Y Pîl, Mynydd Cynffig a Chefncribwr" in set(raw["Enw"])  # names decoded exactly


def test_le_encoding_given(welsh_table, tmp_path):
    path = write_text(tmp_path / "le.csv", welsh_table, "latin-1")
    with warnings.catch_warnings():
        warnings.simplefilter("error", GradientWarning)  # no guess, no warning
        got = areas.read_le_table(path, "Enw", "Disgwyliad oes", le_encoding="latin-1")
    assert "Y Pîl, Mynydd Cynffig a Chefncribwr" in set(got["area_id"])


def test_unknown_le_encoding_is_refused_before_reading(tmp_path, hills_le):
    ran = gradient(*run_args(tmp_path / "nofeed", tmp_path / "out", "--le-encoding", "klingon", le=hills_le))
    assert_refused(
        ran,
        r"^gradient: error: --le-encoding klingon is not an encoding Python knows \(e\.g\. utf-8, "
        r"cp1252, latin-1, utf-16\)$",
        tmp_path / "out",
    )


def test_wrong_le_encoding_says_where_decoding_failed(welsh_table, tmp_path):
    path = write_text(tmp_path / "le.csv", welsh_table, "cp1252")
    with pytest.raises(
        AreasError,
        match=r"le\.csv: is not utf-8 text \(invalid continuation byte at byte \d+\); "
        r"check le_encoding='utf-8'$",
    ):
        areas.read_le_table(path, "Cod", "Disgwyliad oes", le_encoding="utf-8")


def with_values(hills_le: Path, tmp_path: Path, values: dict[int, str], column: int = 4) -> Path:
    """The Hillsborough USALEEP table with the cells of ``column`` in data rows ``values`` replaced."""
    lines = hills_le.read_text().splitlines()
    for i, value in values.items():
        cells = lines[i + 1].split(",")
        cells[column] = value
        lines[i + 1] = ",".join(cells)
    path = tmp_path / "FL_A.CSV"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("marker", _tables.SUPPRESSION_MARKERS + ("[C]", " X "))
def test_suppression_markers_read_as_missing_and_counted(hills_le, tmp_path, marker):
    path = with_values(hills_le, tmp_path, {0: marker, 5: marker, 9: marker})
    with pytest.warns(
        GradientWarning,
        match=rf"FL_A\.CSV: 3 of 266 values in 'e\(0\)' are suppression markers "
        rf"\({re.escape(repr(marker.strip()))} 3\); read as missing$",
    ):
        got = areas.read_usaleep(path)
    plain = areas.read_usaleep(hills_le)
    assert got["le"].isna().tolist() == [i in (0, 5, 9) for i in range(266)]
    pd.testing.assert_frame_equal(got[got["le"].notna()], plain[got["le"].notna()])


def test_areas_that_lose_their_value_are_counted_by_reason(hills_le, tmp_path):
    path = with_values(hills_le, tmp_path, {0: "[c]", 5: "[c]", 9: ""})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        areas.load_areas(datasets.get_path("hillsborough_tracts"), path, "usaleep")
    said = [str(w.message) for w in caught]
    assert any(re.search(r"55 of 321 areas in .* have no row in .*FL_A\.CSV and stay missing", m) for m in said)
    assert any(
        re.search(
            r"3 of 321 areas in .* have a row in .*FL_A\.CSV but no value \(2 suppressed by a marker, "
            r"1 blank\) and stay missing \(e\.g\. 12057",
            m,
        )
        for m in said
    ), said


def test_text_that_is_no_marker_is_refused(hills_le, tmp_path):
    path = with_values(hills_le, tmp_path, {3: "about 80"})
    with pytest.raises(
        AreasError,
        match=r"FL_A\.CSV: 1 value\(s\) in 'e\(0\)' are not numbers \(e\.g\. 'about 80'\); "
        r"only blanks and suppression markers such as ':', 'x', '\.\.', '\[c\]' read "
        r"as missing$",
    ):
        areas.read_usaleep(path)


def test_identical_repeated_rows_are_kept_once(hills_le, tmp_path):
    lines = hills_le.read_text().splitlines()
    path = tmp_path / "FL_A.CSV"
    path.write_text("\n".join(lines[:4] + [lines[1], lines[2]] + lines[4:]) + "\n")
    ids = ", ".join(line.split(",")[0] for line in lines[1:3])
    with pytest.warns(
        GradientWarning,
        match=r"FL_A\.CSV: 2 area id\(s\) appear more than once in 'Tract ID' with "
        rf"identical values, 2 extra row\(s\) in all \(e\.g\. {ids}\); each "
        r"is kept once$",
    ):
        got = areas.read_usaleep(path)
    pd.testing.assert_frame_equal(got, areas.read_usaleep(hills_le))


def test_conflicting_repeated_rows_are_refused_naming_both(hills_le, tmp_path):
    lines = hills_le.read_text().splitlines()
    cells = lines[1].split(",")
    cells[4] = "70.1"
    path = tmp_path / "FL_A.CSV"
    path.write_text("\n".join(lines + [",".join(cells)]) + "\n")
    with pytest.raises(
        AreasError,
        match=rf"1 area id\(s\) appear more than once in 'Tract ID' with different values "
        rf"\(e\.g\. {cells[0]}: {lines[1].split(',')[4]} and 70\.1 in 'e\(0\)'\); "
        r"which is meant cannot be told$",
    ):
        areas.read_usaleep(path)


@pytest.mark.parametrize(
    ("value", "counts"), [("", "266 blank, 0 suppression markers"), (":", "0 blank, 266 suppression markers")]
)
def test_a_table_without_any_value_is_refused(hills_le, tmp_path, value, counts):
    path = with_values(hills_le, tmp_path, dict.fromkeys(range(266), value))
    with pytest.raises(
        AreasError,
        match=rf"FL_A\.CSV: no value in 'e\(0\)' is a number \(266 rows: {counts}\); "
        "there is nothing to measure$",
    ):
        areas.read_usaleep(path)


def test_no_matched_area_has_a_value(hills_le, tmp_path):
    path = with_values(hills_le, tmp_path, dict.fromkeys(range(266), ""))
    with open(path, "a") as fh:
        fh.write("01001020100,01,001,020100,73.1,2.2348,3\n")  # Alabama: a value, but no Hillsborough boundary
    with (
        pytest.raises(
            AreasError,
            match=r"FL_A\.CSV: none of the 266 areas of .*hillsborough_tracts_2010\.geojson "
            r"found in the table has a value \(all are blank or suppressed\)",
        ),
        pytest.warns(GradientWarning, match=r"55 of 321 areas in .* have no row in .*FL_A\.CSV"),
    ):
        areas.load_areas(datasets.get_path("hillsborough_tracts"), path, "usaleep")


ONS_HEADER = list(ONS_COLUMNS.values())


@pytest.fixture(scope="session")
def ons_rows():
    """The first 1,000 MSOAs (3,000 rows) of REQ3292 as published: header and cells as calamine reads them."""
    rows = (
        python_calamine.CalamineWorkbook.from_path(str(datasets.get_path("ons_msoa_le")))
        .get_sheet_by_name("Data")
        .to_python()
    )
    return rows[0], rows[1:3001]


def ons_workbook(path: Path, header, rows, *, marker: str | None = "[c]", data_sheets=("Data",)) -> Path:
    """A workbook in ONS's current layout: a cover sheet, notes, then the table below a title block."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    cover = book.create_sheet("Cover")
    for line in (
        ["Life expectancy at birth for MSOAs, England and Wales, 2016 to 2020"],
        [],
        ["Source: Office for National Statistics (REQ3292)"],
        ["Contact: health.data@ons.gov.uk"],
    ):
        cover.append(line)
    notes = book.create_sheet("Notes")
    notes.append(["Note number", "Note text"])
    notes.append([1, "[c] marks estimates suppressed because they rest on too few deaths."])
    for name in data_sheets:
        sheet = book.create_sheet(name)
        sheet.append(["Table 1: Life expectancy at birth (years) by MSOA and sex"])
        sheet.append(["This worksheet contains one table. Some cells refer to notes on the Notes sheet."])
        sheet.append([])
        sheet.append(header)
        for row in rows:
            sheet.append([marker if (marker and c == "") else c for c in row])
        sheet.append([])
        sheet.append(["Source: ONS"])
    book.save(path)
    return path


def plain_ons(tmp_path, header, rows, sex) -> pd.DataFrame:
    path = tmp_path / "plain.csv"
    pd.DataFrame(rows, columns=header).to_csv(path, index=False)
    return areas.read_ons_msoa(path, sex)


@pytest.mark.parametrize("sex", ["persons", "male"])
def test_ons_workbook_with_cover_notes_and_a_title_block(ons_rows, tmp_path, sex):
    header, rows = ons_rows
    path = ons_workbook(tmp_path / "le.xlsx", header, rows)
    label = {"persons": "Persons", "male": "Males"}[sex]
    n_rows = sum(r[5] == label for r in rows)
    n_marked = sum(r[5] == label and r[8] == "" for r in rows)
    assert n_marked > 0
    with pytest.warns(
        GradientWarning,
        match=rf"le\.xlsx: {n_marked} of {n_rows} values in 'Life Expectancy at birth "
        rf"\(in years\)' are suppression markers \('\[c\]' {n_marked}\); and "
        rf"{n_marked} in 'Lower 95% confidence interval'; and {n_marked} in "
        r"'Upper 95% confidence interval'; read as missing$",
    ):
        got = areas.read_ons_msoa(path, sex)
    plain = plain_ons(tmp_path, header, rows, sex)
    # the same table; the workbook's markers say its blanks were suppressed
    pd.testing.assert_frame_equal(got.drop(columns="suppressed"), plain.drop(columns="suppressed"))
    assert got["suppressed"].sum() == n_marked and not plain["suppressed"].any()
    assert (got["period"] == "2016-2020").all()


def test_ons_csv_export_with_title_lines_and_notes_below(ons_rows, tmp_path):
    header, rows = ons_rows
    body = pd.DataFrame(rows, columns=header).to_csv(index=False)
    path = tmp_path / "le.csv"
    path.write_text(
        "Life expectancy at birth for MSOAs,,,\nSource: ONS,,,\n\n" + body + "\n,,\nNotes:\n[c] suppressed\n"
    )
    pd.testing.assert_frame_equal(areas.read_ons_msoa(path), plain_ons(tmp_path, header, rows, "persons"))


def test_two_sheets_holding_the_table_are_refused(ons_rows, tmp_path):
    header, rows = ons_rows
    path = ons_workbook(tmp_path / "le.xlsx", header, rows[:30], data_sheets=("2016 to 2020", "2015 to 2019"))
    with pytest.raises(
        AreasError,
        match=r"le\.xlsx: 2 sheets hold a table with the columns .* \('2016 to 2020', "
        r"'2015 to 2019'\); which one is meant cannot be told: save it alone$",
    ):
        areas.read_ons_msoa(path)


def test_workbook_without_the_table(ons_rows, tmp_path):
    header, rows = ons_rows
    path = ons_workbook(tmp_path / "le.xlsx", [h.replace("Sex", "Gender") for h in header], rows[:30])
    with pytest.raises(AreasError, match=r"le\.xlsx: not an ONS MSOA life expectancy table: no column\(s\) 'Code', "):
        areas.read_ons_msoa(path)


def test_generic_workbook_with_a_cover_sheet_and_numeric_ids(hills_le, tmp_path):
    import openpyxl

    table = pd.read_csv(hills_le, dtype=str)
    book = openpyxl.Workbook(write_only=True)
    book.create_sheet("About").append(["USALEEP, Florida, Hillsborough County"])
    sheet = book.create_sheet("Tracts")
    sheet.append(list(table.columns))
    for row in table.itertuples(index=False):
        sheet.append([int(row[0]), row[1], row[2], row[3], float(row[4]), float(row[5]), int(row[6])])
    path = tmp_path / "FL_A.xlsx"
    book.save(path)
    pd.testing.assert_frame_equal(areas.read_usaleep(path), areas.read_usaleep(hills_le))


# --- boundaries -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "kind"), [(lambda g: g.representative_point(), "Point"), (lambda g: g.boundary, "LineString")]
)
def test_boundaries_that_are_not_polygons(tmp_path, shape, kind):
    tracts = gpd.read_file(datasets.get_path("hillsborough_tracts"))
    path = tmp_path / "tracts.geojson"
    tracts.set_geometry(shape(tracts.geometry)).to_file(path)
    with pytest.raises(
        AreasError,
        match=rf"tracts\.geojson: 321 of 321 features are not polygons \(321 {kind}\); "
        r"boundaries must be areas \(Polygon or MultiPolygon\)$",
    ):
        areas.read_boundaries(path, "census_tract_GEOID")


def test_a_csv_given_as_boundaries(feed_copy, hills_le, tmp_path):
    ran = gradient(*run_args(feed_copy, tmp_path / "out", le=hills_le, areas_file=hills_le))
    assert_refused(
        ran,
        r"FL_A\.CSV: not a boundary file: it holds no geometries \(columns: Tract ID, STATE2KX, "
        r".*\); give polygons, e\.g\. GeoJSON or GeoPackage$",
        tmp_path / "out",
    )


def test_unknown_areas_crs_is_refused_before_reading(tmp_path, hills_le):
    ran = gradient(*run_args(tmp_path / "nofeed", tmp_path / "out", "--areas-crs", "EPSG:99999", le=hills_le))
    assert_refused(
        ran,
        r"^gradient: error: --areas-crs EPSG:99999 is not a CRS pyproj knows \(.*\); give e\.g\. "
        r"EPSG:27700 or EPSG:4326$",
        tmp_path / "out",
    )


def test_areas_crs_that_contradicts_the_file(feed_copy, tmp_path, hills_le):
    ran = gradient(*run_args(feed_copy, tmp_path / "out", "--areas-crs", "EPSG:27700", le=hills_le))
    assert_refused(
        ran,
        r"hillsborough_tracts_2010\.geojson: declares the CRS EPSG:4326, but --areas-crs EPSG:27700 "
        r"was given; give none \(the file's is used\) or fix the file$",
        tmp_path / "out",
    )


# --- TfL as published ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def tfl_25():
    with pytest.warns(GradientWarning, match=r"^2 of 2 patterns have no route line \(no route-lines file given\)"):
        return tfl.read_tfl_sequences(datasets.get_path("tfl_sequences"), routes=["25"])


@pytest.mark.parametrize("encoding", ["utf-16", "cp1252"])
def test_tfl_file_in_another_encoding_reads_the_same(tmp_path, tfl_25, encoding):
    path = tmp_path / "bus-sequences.tsv"
    path.write_bytes(datasets.get_path("tfl_sequences").read_text(encoding="utf-8").encode(encoding))
    with pytest.warns(GradientWarning, match=r"^2 of 2 patterns have no route line"):  # counts only route 25
        patterns, ps = tfl.read_tfl_sequences(path, routes=["25"])
    pd.testing.assert_frame_equal(ps, tfl_25[1])
    assert patterns["pattern_id"].tolist() == ["25-0-1", "25-1-1"]


def test_tfl_route_that_does_not_exist(tmp_path):
    with pytest.raises(InputError, match=r"tfl_bus_sequences_2018-07\.tsv: no route named 999X \(routes include "):
        tfl.read_tfl_sequences(datasets.get_path("tfl_sequences"), routes=["999X"])


# --- 5. Names and words from real feeds ------------------------------------------------------


def test_route_name_falls_back_to_the_long_name(feed_copy, small_patterns):
    edit(
        feed_copy, "routes", lambda f: f.assign(route_short_name=f["route_short_name"].where(f["route_id"] != "34", ""))
    )
    patterns, _ = gtfs.stop_patterns(gtfs.read_feed(feed_copy))
    names = dict(zip(patterns["pattern_id"], patterns["route_name"]))
    assert names == {
        "34-0-1": "Hillsborough Avenue",
        "34-1-1": "Hillsborough Avenue",
        "39-0-1": "39",
        "39-1-1": "39",
        "8-0-1": "8",
        "8-1-1": "8",
    }


def test_route_chosen_by_its_long_name(feed_copy, small_patterns):
    patterns, ps, name = pipeline.read_source(feed_copy, options=Options(routes=("Busch Boulevard", "8")))
    assert patterns["pattern_id"].tolist() == ["39-0-1", "39-1-1", "8-0-1", "8-1-1"]
    assert set(ps["pattern_id"]) == set(patterns["pattern_id"])
    assert name == "Hillsborough Area Regional Transit"  # the source line names the agency


def test_source_without_agency_is_named_by_its_file(feed_copy):
    (feed_copy / "agency.txt").unlink()
    assert pipeline.read_source(feed_copy, options=Options(routes=("8",)))[2] == "feed"


def test_straight_line_warning_counts_only_the_routes_asked_for(feed_copy):
    trips = pd.read_csv(feed_copy / "trips.txt", dtype=str)
    edit(feed_copy, "shapes", lambda f: f[~f["shape_id"].isin(trips.loc[trips["route_id"] == "8", "shape_id"])])
    with pytest.warns(GradientWarning, match=r"^2 of 2 patterns have no shape in the feed"):
        pipeline.read_source(feed_copy, options=Options(routes=("8",)))
    with warnings.catch_warnings():
        warnings.simplefilter("error", GradientWarning)
        pipeline.read_source(feed_copy, options=Options(routes=("34", "39")))  # all have shapes: no warning


def test_unknown_route_is_refused_with_the_routes_there_are(feed_copy, tmp_path, hills_le):
    assert_refused(
        gradient(*run_args(feed_copy, tmp_path / "out", "--route", "Nowhere Avenue", le=hills_le)),
        r"feed: no route named Nowhere Avenue \(routes include 34, 39, 8\)$",
        tmp_path / "out",
    )


def test_other_libraries_warnings_are_not_dressed_as_gradients(capsys):
    cli._show_warning(RuntimeWarning("Mean of empty slice"), RuntimeWarning, "/x/numpy/_methods.py", 121)
    cli._show_warning(UserWarning("Glyph 8722 missing"), UserWarning, "/x/matplotlib/text.py", 7)
    cli._show_warning(GradientWarning("radius_m=5 is small"), GradientWarning, "/x/gradient/assign.py", 3)
    assert capsys.readouterr().err.splitlines() == [
        "_methods.py:121: RuntimeWarning: Mean of empty slice",
        "text.py:7: UserWarning: Glyph 8722 missing",
        "gradient: warning: --radius-m 5 is small",
    ]


# --- 4. Outputs that are what they say --------------------------------------------------------


@pytest.fixture(scope="session")
def small_run(tmp_path_factory, hart_small, hills_le):
    out = tmp_path_factory.mktemp("small_run") / "out"
    ran = gradient(*run_args(hart_small, out, le=hills_le))
    assert ran.returncode == 0, ran.stderr
    return ran, out


def test_summary_counts_say_what_they_count(small_run):
    ran, out = small_run
    stops = pd.read_csv(out / "stops.csv", dtype={"stop_id": str})
    assert re.search(rf"^Six patterns on three routes serving {stops['stop_id'].nunique()} stops ", ran.stdout, re.M), (
        ran.stdout
    )
    assert stops["stop_id"].nunique() < len(stops)


def test_file_names_are_unique_for_ids_cut_alike():
    ids = [
        "X" * 70 + "-0-1",
        "X" * 70 + "-1-1",
        "N1 Night/Express-0-1",
        "N1_Night_Express-0-1",
        "8-0-1",
        "a-0-1",
        "A-0-1",
    ]
    stems = schema.file_stems(ids)
    assert len({s.lower() for s in stems.values()}) == len(ids)
    assert stems["8-0-1"] == "8-0-1" and all(len(s) <= 60 for s in stems.values())
    assert all(schema.safe_name(s) == s for s in stems.values())


def test_long_route_ids_get_a_map_each(small_patterns, tracts, tmp_path):
    patterns, ps = small_patterns
    long_ids = {
        "8": "Hillsborough-Area-Regional-Transit-Local-Route-Number-0008-Weekday-A",
        "34": "Hillsborough-Area-Regional-Transit-Local-Route-Number-0008-Weekday-B",
    }
    patterns = patterns.assign(route_id=patterns["route_id"].replace(long_ids))
    patterns["pattern_id"] = schema.pattern_ids(patterns)
    ps = ps.assign(pattern_id=ps["pattern_id"].map(dict(zip(small_patterns[0]["pattern_id"], patterns["pattern_id"]))))
    result = pipeline.run_patterns(patterns[patterns["route_id"].isin(long_ids.values())], ps, tracts)
    written = write_outputs(
        result, tmp_path / "out", Options(maps=4), tiles=None, also=list(result.patterns["pattern_id"])
    )  # both directions of each route
    pages = [
        p
        for p in written["maps"]
        if p.name.endswith(".html") and not p.name.endswith(".iframe.html") and p.name != "network.html"
    ]
    assert len(pages) == len({p.name for p in pages}) == 4
    assert len({p.name for p in written["profiles"]}) == 16  # png, svg, the phone png and alt text each
    assert len({p.name for p in written["print"]}) == 20  # png, svg, pdf, page pdf and alt text each
    every = [p.relative_to(tmp_path / "out").as_posix() for paths in written.values() for p in paths]
    assert all(outfolder.OUTPUT_NAMES.match(rel) for rel in every), every  # a rerun can remove each of them
    assert sorted(outfolder.previous_outputs(tmp_path / "out")) == sorted(every)


def test_rerun_replaces_the_previous_outputs_whole(small_patterns, tracts, tmp_path):
    patterns, ps = small_patterns
    result = pipeline.run_patterns(patterns, ps, tracts)
    out = tmp_path / "out"
    first = write_outputs(result, out, Options(maps=1), tiles=None)
    (out / "maps" / "my-notes.txt").write_text("mine")
    (out / "README.md").write_text("mine too")
    second = write_outputs(
        pipeline.run_patterns(patterns[patterns["route_name"] == "39"], ps, tracts), out, Options(maps=0)
    )
    left = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert left == [
        ".gradient-outputs",
        "README.md",
        "maps/my-notes.txt",
        "methods.md",
        "patterns.csv",
        "stops.csv",
        "stretches.csv",
    ]
    assert first["maps"] and not second["maps"]
    assert set(pd.read_csv(out / "patterns.csv")["route_name"].astype(str)) == {"39"}


def test_failed_first_run_leaves_no_folder(small_patterns, tracts, tmp_path, monkeypatch):
    patterns, ps = small_patterns
    result = pipeline.run_patterns(patterns[patterns["route_name"] == "8"], ps, tracts)
    from gradient.output import write as output

    monkeypatch.setattr(output, "write_csv", lambda *a, **k: (_ for _ in ()).throw(OSError(28, "No space left")))
    with pytest.raises(OSError):
        write_outputs(result, tmp_path / "new" / "deeper" / "out", Options(maps=0))
    assert not (tmp_path / "new").exists()


def start_run(feed: Path, out: Path, le: Path, *extra: str, point: str = "commit") -> subprocess.Popen:
    """The command in a fresh process that waits at ``point`` (``commit``: every output staged) to be signalled."""
    import tempfile

    hold = Path(tempfile.mkdtemp(prefix="gradient-hold-"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "gradient", *map(str, run_args(feed, out, *extra, le=le))],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "GRADIENT_TEST_HOLD": str(hold), "GRADIENT_TEST_HOLD_AT": point},
    )
    proc.hold = hold  # type: ignore[attr-defined]
    return proc


def signal_while_writing(proc: subprocess.Popen, out: Path, signum: int, point: str = "commit") -> tuple[str, str]:
    """Send ``signum`` once the run is at ``point`` (``commit``: every output written to its staging folder)."""
    wait_for(proc.hold / point, proc)  # type: ignore[attr-defined]
    proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=120)
    shutil.rmtree(proc.hold)  # type: ignore[attr-defined]
    return stdout, stderr


def test_sigterm_during_a_first_run_leaves_nothing(hart_small, hills_le, tmp_path):
    out = tmp_path / "fresh" / "out"
    proc = start_run(hart_small, out, hills_le, "--route", "39")
    _, stderr = signal_while_writing(proc, out, signal.SIGTERM)
    assert proc.returncode == 143, stderr
    errors = [line for line in stderr.splitlines() if not line.startswith("gradient: warning:")]
    assert errors == ["gradient: stopped by SIGTERM; nothing was left half-written"]
    assert not (tmp_path / "fresh").exists()


def test_sigint_during_a_rerun_keeps_the_previous_outputs(hart_small, hills_le, small_run, tmp_path):
    out = Path(shutil.copytree(small_run[1], tmp_path / "out"))
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    proc = start_run(hart_small, out, hills_le, "--route", "39")
    _, stderr = signal_while_writing(proc, out, signal.SIGINT)
    assert proc.returncode == 130, stderr
    assert (
        "Traceback" not in stderr
        and stderr.strip().splitlines()[-1] == "gradient: stopped by SIGINT; nothing was left half-written"
    )
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


# =========================================================================================
# Issue 23: nothing lost, nothing run, nothing unbounded. Each class of hostile input or
# setup, with the exact outcome.
# =========================================================================================


@pytest.fixture(scope="session")
def route_39(small_patterns, tracts):
    """One route of the small feed, measured with few draws: a result to write quickly."""
    patterns, ps = small_patterns
    return pipeline.run_patterns(patterns[patterns["route_name"] == "39"], ps, tracts, Options(draws=400))


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def forge_manifest(out: Path, lines: list[str], hashed: bool = True) -> None:
    """A manifest listing ``lines``: with each file's SHA-256 as the run writes them, or bare paths."""
    header = (out / outfolder.MANIFEST).read_text(encoding="utf-8").splitlines(keepends=True)[0]
    if not hashed:
        header, lines = "", [line.split("  ", 1)[1] for line in lines]
    (out / outfolder.MANIFEST).write_text(header + "".join(f"{line}\n" for line in lines), encoding="utf-8")


# --- 1. the output folder: nothing outside it, nothing it cannot prove it wrote -------------


@pytest.mark.parametrize("hashed", [True, False])
def test_forged_manifest_lines_never_delete_what_the_run_did_not_write(route_39, tmp_path, hashed):
    out, outside = tmp_path / "out", tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("keep me")
    write_outputs(route_39, out, Options(maps=0))
    (out / "link").symlink_to(outside, target_is_directory=True)
    (out / "le.csv").write_text("the run's own input")
    (out / "maps").mkdir()
    (out / "maps" / "mine.html").symlink_to(outside / "secret.txt")
    (out / "maps" / "notes.html").write_text("mine, edited since")
    secret, le = (outside / "secret.txt").read_bytes(), (out / "le.csv").read_bytes()
    forge_manifest(
        out,
        [
            f"{sha(secret)}  ../outside/secret.txt",
            f"{sha(secret)}  link/secret.txt",
            f"{sha(secret)}  {outside / 'secret.txt'}",
            f"{sha(secret)}  maps/mine.html",
            f"{sha(le)}  le.csv",
            f"{sha(b'')}  maps",
            f"{sha(le)}  maps/./notes.html",
            f"{sha(b'an older version')}  maps/notes.html",
        ],
        hashed,
    )
    before = files_of(outside) | {k: v for k, v in files_of(out).items() if not k.endswith(".csv") or k == "le.csv"}
    write_outputs(route_39, out, Options(maps=0))
    after = files_of(outside) | files_of(out)
    assert all(after[k] == v for k, v in before.items() if k != outfolder.MANIFEST and k != "methods.md")
    assert (out / "link").is_symlink() and (out / "maps" / "mine.html").is_symlink()
    assert outfolder.previous_outputs(out) == ["methods.md", "patterns.csv", "stops.csv", "stretches.csv"]


@pytest.mark.parametrize("damage", [b"\x00" * 4096, b"\xff\xfe garbage \x1b[2J", b""])
def test_a_damaged_manifest_means_nothing_known(route_39, tmp_path, damage):
    out = tmp_path / "out"
    write_outputs(route_39, out, Options(maps=0))
    (out / "maps").mkdir()
    (out / "maps" / "old-0-1.html").write_text("an old map, or the user's: not provably ours now")
    (out / outfolder.MANIFEST).write_bytes(damage)
    assert outfolder.previous_outputs(out) == []
    write_outputs(route_39, out, Options(maps=0))  # the next run works
    assert (out / "maps" / "old-0-1.html").exists()
    assert outfolder.previous_outputs(out) == ["methods.md", "patterns.csv", "stops.csv", "stretches.csv"]


@pytest.mark.parametrize("flag", ["--le", "--areas", "--gtfs", "link"])
def test_an_input_inside_the_output_folder_is_refused_before_reading(hart_small, hills_le, tmp_path, flag):
    out = tmp_path / "out"
    out.mkdir()
    le, areas_file, feed = hills_le, datasets.get_path("hillsborough_tracts"), hart_small
    if flag == "--le":
        le = out / "patterns.csv"
        shutil.copy(hills_le, le)
        given = le
    elif flag == "--areas":
        areas_file = Path(shutil.copy(areas_file, out / "tracts.geojson"))
        given = areas_file
    elif flag == "--gtfs":
        feed = Path(shutil.copytree(hart_small, out / "feed"))
        given = feed
    else:  # a link outside that points into the output folder
        shutil.copy(hills_le, out / "FL_A.CSV")
        le = tmp_path / "le-link.csv"
        le.symlink_to(out / "FL_A.CSV")
        flag, given = "--le", le
    before = files_of(out)
    ran = gradient(*run_args(feed, out, le=le, areas_file=areas_file))
    assert_refused(
        ran,
        rf"^gradient: error: {re.escape(str(given))}: {flag} is inside the output folder --out {re.escape(str(out))}; "
        r"gradient replaces what it writes there: move the input out of it or choose another --out$",
    )
    assert files_of(out) == before


def test_batch_feeds_whose_names_clash_get_folders_of_their_own():
    from gradient.batch import feed_dirs

    feeds = ["a/hart.zip", "b/hart", "c/hart-2.zip", "d/HART.zip", "e/hart-2", "f/con.zip", "g/" + "x" * 70 + ".zip"]
    dirs = [p.name for p in feed_dirs(feeds + ["h/" + "x" * 70], "out")]
    assert dirs[:5] == ["hart", "hart-2", "hart-2-2", "HART-3", "hart-2-3"]
    assert len({d.lower() for d in dirs}) == len(dirs) and all(len(d) <= 60 for d in dirs)


def old_outputs(route_39, tmp_path, maps: int = 0) -> tuple[Path, dict[str, bytes]]:
    out = tmp_path / "out"
    write_outputs(route_39, out, Options(maps=maps), tiles=None)
    return out, files_of(out)


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("stops.csv", r"out/stops\.csv: is a folder, where gradient writes a file of its outputs"),
        (outfolder.MANIFEST, r"out/\.gradient-outputs: is a folder, where gradient writes a file of its outputs"),
    ],
)
def test_a_folder_where_a_file_goes_stops_the_commit_with_nothing_moved(route_39, tmp_path, where, message):
    out, _ = old_outputs(route_39, tmp_path)
    (out / where).unlink()
    (out / where).mkdir()
    (out / where / "inside.txt").write_text("mine")
    before = files_of(out)
    with pytest.raises(gradient_errors().OutputError, match=message):
        write_outputs(route_39, out, Options(maps=0))
    assert files_of(out) == before
    assert not list(out.glob(".gradient-staging-*"))


def gradient_errors():
    from gradient import errors

    return errors


def test_a_file_or_link_where_a_folder_goes_stops_the_commit(route_39, tmp_path, monkeypatch):
    out, _ = old_outputs(route_39, tmp_path)
    (out / "maps").write_text("a file named maps")
    before = files_of(out)
    ran = gradient_from_result(route_39, out, maps=1)
    with pytest.raises(gradient_errors().OutputError, match=r"out/maps: is a file, where gradient puts a folder"):
        ran()
    assert files_of(out) == before and not list(out.glob(".gradient-staging-*"))
    (out / "maps").unlink()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (out / "maps").symlink_to(outside, target_is_directory=True)
    with pytest.raises(gradient_errors().OutputError, match=r"out/maps: is a link, where gradient puts a folder"):
        ran()
    assert list(outside.iterdir()) == []
    (out / "maps").unlink()
    (out / "maps").mkdir()  # as if made by another user (the tests run as root, who may write anywhere)
    before = files_of(out)
    real_access = os.access
    monkeypatch.setattr(outfolder.os, "access", lambda p, mode: real_access(p, mode) and Path(p).name != "maps")
    with pytest.raises(gradient_errors().OutputError, match=r"out/maps: is a folder gradient cannot write into"):
        ran()
    assert files_of(out) == before


def gradient_from_result(result, out, maps):
    return lambda: write_outputs(result, out, Options(maps=maps), tiles=None)


def test_a_failure_part_way_through_the_move_puts_every_earlier_file_back(route_39, tmp_path, monkeypatch):
    out, before = old_outputs(route_39, tmp_path, maps=1)
    real_replace = os_replace = __import__("os").replace
    moved = []

    def failing(src, dst, *args, **kwargs):  # profiles/ cannot be written into (e.g. made by root)
        if "/profiles/" in str(dst) and "staging" not in str(dst):
            raise PermissionError(13, "Permission denied", str(dst))
        moved.append(dst)
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(outfolder.os, "replace", failing)
    other = route_39.options.replace(maps=1)
    with pytest.raises(PermissionError, match="Permission denied") as raised:
        write_outputs(route_39, out, other, tiles=None, also=list(route_39.patterns["pattern_id"]))
    assert Path(raised.value.filename).parent == out / "profiles"  # the file it could not put there
    monkeypatch.setattr(outfolder.os, "replace", os_replace)
    assert moved  # some files were already in place, and were taken back
    assert files_of(out) == before
    assert not list(out.glob(".gradient-staging-*"))


def test_stale_staging_folders_are_removed_only_when_provably_gradients(route_39, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)

    def staging(name: str, marker: str | None) -> Path:
        folder = out / name
        (folder / "files").mkdir(parents=True)
        (folder / "files" / "stops.csv").write_text("half-written")
        if marker is not None:
            (folder / outfolder.STAGING_MARKER).write_text(marker)
        return folder

    zombie = subprocess.Popen([sys.executable, "-c", "pass"])  # exits, and stays unreaped until waited for
    while not Path(f"/proc/{zombie.pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z":
        time.sleep(0.01)
    stale = staging(".gradient-staging-abcd1234", f"gradient staging folder\npid={dead_pid}\n")
    killed = staging(".gradient-staging-zombie00", f"gradient staging folder\npid={zombie.pid}\n")
    running = staging(".gradient-staging-live0000", f"gradient staging folder\npid={os.getppid()}\n")
    unmarked = staging(".gradient-staging-nomark00", None)
    foreign = staging(".gradient-staging-my-notes", f"gradient staging folder\npid={dead_pid}\n")
    write_outputs(route_39, out, Options(maps=0))
    zombie.wait()
    assert not stale.exists() and not killed.exists()
    assert running.exists() and unmarked.exists() and foreign.exists()


def test_sigkill_leaves_a_staging_folder_that_the_next_run_removes(hart_small, hills_le, route_39, tmp_path):
    out = tmp_path / "out"
    proc = start_run(hart_small, out, hills_le, "--route", "39")
    signal_while_writing(proc, out, signal.SIGKILL)
    left = list(out.glob(".gradient-staging-*"))
    assert len(left) == 1 and (left[0] / "files" / "stops.csv").exists()
    write_outputs(route_39, out, Options(maps=0))
    assert not list(out.glob(".gradient-staging-*"))


def wait_for(path: Path, proc: subprocess.Popen, seconds: float = 120) -> None:
    """Wait until a held run has reached its point (``GRADIENT_TEST_HOLD``)."""
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.01)


# --- 2. bombs and exotic archives -----------------------------------------------------------


def patch_member(archive: Path, member: str, **fields: int) -> None:
    """Rewrite a member's fields in both its local and its central header (``flag``, ``method``, ``size``, ``crc``)."""
    import struct

    data = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as zf:
        local = zf.getinfo(member).header_offset
    central = next(
        i
        for i in range(len(data) - 4)
        if data[i : i + 4] == b"PK\x01\x02" and data[i + 46 : i + 46 + len(member)] == member.encode()
    )
    where = {"flag": (6, 8, "<H"), "method": (8, 10, "<H"), "crc": (14, 16, "<I"), "size": (22, 24, "<I")}
    for name, value in fields.items():
        at_local, at_central, fmt = where[name]
        struct.pack_into(fmt, data, local + at_local, value)
        struct.pack_into(fmt, data, central + at_central, value)
    archive.write_bytes(bytes(data))


def deflate_bomb(archive: Path, member: str, mib: int, declared_mib: float | None = None, base: Path | None = None):
    """A zip (the files of ``base``, if given) with ``member`` of ``mib`` MiB of '0', packed about 1000:1.

    Built in a blink: the deflate stream of one MiB, repeated. Its header declares
    ``declared_mib`` MiB where given (a lie), else the truth.
    """
    block = b"0" * 2**20
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = packer.compress(b"trip_id,stop_id,stop_sequence\n") + packer.flush(zlib.Z_FULL_FLUSH)
    piece = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    stream = head + piece * mib + packer.flush()
    with zipfile.ZipFile(archive, "w") as zf:
        for f in sorted(base.iterdir()) if base is not None else []:
            if f.name != member:
                zf.write(f, f.name, zipfile.ZIP_DEFLATED)
        zf.writestr(zipfile.ZipInfo(member), stream)  # stored: the bytes as they are
    size = int((declared_mib if declared_mib is not None else mib) * 2**20)
    patch_member(archive, member, method=zipfile.ZIP_DEFLATED, size=size, crc=0)  # never read to its end
    return archive


def test_bombs_are_refused_with_memory_bounded(hart_small, tmp_path):
    honest = deflate_bomb(tmp_path / "bomb.zip", "stop_times.txt", 1100, base=hart_small)
    lying = deflate_bomb(tmp_path / "liar.zip", "stop_times.txt", 1100, declared_mib=0.5, base=hart_small)
    book = deflate_bomb(tmp_path / "le.xlsx", "xl/worksheets/sheet1.xml", 1500)
    shapes = deflate_bomb(tmp_path / "tracts.zip", "tracts.dbf", 1100)
    code = (
        "import resource, sys\n"
        "from gradient import areas, errors\n"
        "from gradient.sources import gtfs\n"
        "import python_calamine, pyogrio\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "for call in (lambda: gtfs.read_feed(sys.argv[1]), lambda: gtfs.read_feed(sys.argv[2]),\n"
        "             lambda: areas.read_le_table(sys.argv[3], 'id', 'le'),\n"
        "             lambda: areas.read_boundaries(sys.argv[4], 'id')):\n"
        "    try:\n"
        "        call()\n"
        "    except errors.InputError as exc:\n"
        "        print(exc)\n"
        "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(honest), str(lying), str(book), str(shapes)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    said = proc.stdout.splitlines()
    assert said[0] == (
        f"{honest}: 'stop_times.txt' in the zip would unpack 1010 times its packed size (a zip bomb?); "
        "refusing to read it"
    )
    assert re.fullmatch(
        rf"{re.escape(str(lying))}: stop_times\.txt in the zip is damaged \(Bad CRC-32.*\); .*", said[1]
    )
    assert said[2] == (
        f"{book}: 'xl/worksheets/sheet1.xml' in the zip would unpack 1010 times its packed size (a zip bomb?); "
        "refusing to read it"
    )
    assert said[3].startswith(f"{shapes}: 'tracts.dbf' in the zip would unpack 1010 times")
    assert int(said[4]) < 64, "MiB of memory more than the imports take, when unpacking would take over 1 GiB"


def test_the_bytes_actually_unpacked_are_limited_too(hart_small, tmp_path, monkeypatch):
    from gradient import _archive

    archive = deflate_bomb(tmp_path / "bomb.zip", "stop_times.txt", 3, base=hart_small)
    monkeypatch.setattr(_archive, "check_members", lambda *a, **k: None)  # as if the header told no lie
    monkeypatch.setattr(_archive, "RATIO_FLOOR", 2**20)
    with pytest.raises(
        FeedError,
        match=r"bomb\.zip: 'stop_times\.txt' in the zip unpacked to more than 1 MiB, over 100 times its packed "
        r"size \(a zip bomb\?\); refusing to read it$",
    ):
        gtfs.read_feed(archive)
    monkeypatch.setattr(_archive, "RATIO_FLOOR", 64 * 2**20)
    monkeypatch.setattr(gtfs_tables, "MAX_UNCOMPRESSED_BYTES", 2 * 2**20)
    with pytest.raises(FeedError, match=r"bomb\.zip: the zip unpacked to more than 0 GiB, the limit; refusing"):
        gtfs.read_feed(archive)


@pytest.mark.parametrize(
    "hidden", ["__MACOSX/stops.txt", "__MACOSX/hart/stops.txt", "hart/._stops.txt", ".trash/hart/stops.txt"]
)
@pytest.mark.parametrize("engine", ["pyarrow", "gtfs-kit"])
def test_hidden_members_never_replace_the_feeds_files(hart_small, small_patterns, tmp_path, hidden, engine):
    archive = zip_folder(hart_small, tmp_path / "mac.zip", prefix="hart/")
    with zipfile.ZipFile(archive, "a") as zf:
        zf.writestr(hidden, "stop_id,stop_name,stop_lat,stop_lon\nX,Nowhere,0,0\n")
    got = gtfs.stop_patterns(gtfs.read_feed(archive, engine=engine))[1]
    if engine == "pyarrow":
        pd.testing.assert_frame_equal(got, small_patterns[1])
    assert "X" not in set(got["stop_id"])


def test_members_written_with_backslashes_are_found(hart_small, small_patterns, tmp_path):
    archive = zip_folder(hart_small, tmp_path / "windows.zip", prefix="hart\\")
    with zipfile.ZipFile(archive) as zf:
        assert all("\\" in n for n in zf.namelist())
    pd.testing.assert_frame_equal(gtfs.stop_patterns(gtfs.read_feed(archive))[1], small_patterns[1])


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"flag": 0x1},
            r"'stops\.txt' in the zip is password-protected; gradient cannot read it: give the archive "
            r"without a password$",
        ),
        (
            {"method": 9},
            r"'stops\.txt' in the zip is compressed with Deflate64 \(method 9\), which gradient cannot "
            r"unpack; re-save the archive with ordinary \(Deflate\) compression$",
        ),
        ({"method": 93}, r"'stops\.txt' in the zip is compressed with Zstandard \(method 93\), which"),
        ({"method": 98}, r"'stops\.txt' in the zip is compressed with PPMd \(method 98\), which"),
    ],
)
def test_members_that_cannot_be_unpacked_are_named(hart_small, tmp_path, fields, message):
    archive = zip_folder(hart_small, tmp_path / "exotic.zip")
    patch_member(archive, "stops.txt", **fields)
    assert_refused(gradient(*run_args(archive, tmp_path / "out", le=tmp_path)), r"exotic\.zip: " + message)


def test_an_exotic_workbook_member_is_named(ons_rows, tmp_path):
    header, rows = ons_rows
    path = ons_workbook(tmp_path / "le.xlsx", header, rows[:30])
    patch_member(path, "xl/worksheets/sheet3.xml", method=9)
    with pytest.raises(
        AreasError, match=r"le\.xlsx: 'xl/worksheets/sheet3\.xml' in the zip is compressed with Deflate64 \(method 9\)"
    ):
        areas.read_ons_msoa(path)


# --- 3. strings: one sanitiser for everything shown ------------------------------------------

HOSTILE = "\x1b[2J\x1b]0;owned\x07\x1b[31m"  # clear the screen, retitle the terminal, turn text red
RLO = "\u202e"  # right-to-left override


def test_the_sanitiser_takes_out_what_could_act():
    from gradient._text import clean, xml_safe

    cases = {
        f"Main St{HOSTILE} & 5th": "Main St & 5th",
        "Route 8\u202eTSAE\u202c via \u2066Hillsborough\u2069 \u200e\u200f\u061c": "Route 8TSAE via Hillsborough ",
        "Bell\x07 \x00Null\x7f\x85C1\x9b31mX": "Bell Null C1X",
        "tab\there\nnew\rline\u2028sep": "tab here new line sep",
        "\ufeffBOM \ud800lone \ufffe": "BOM lone ",
        "Café Zürich, Łódź, 東京, القاهرة": "Café Zürich, Łódź, 東京, القاهرة",
    }
    assert {k: clean(k) for k in cases} == cases
    assert xml_safe("a\x00b\x08c\td\ne\x1bf") == "abc\td\nef"


@pytest.fixture(scope="session")
def hostile_run(tmp_path_factory, hart_small, hills_le):
    """The small feed with names that try to act: escape sequences, control characters, a right-to-left override."""
    feed = Path(shutil.copytree(hart_small, tmp_path_factory.mktemp("hostile") / "feed"))
    edit(
        feed,
        "routes",
        lambda f: f.assign(
            route_short_name=f["route_short_name"].replace("39", f"39{RLO}{HOSTILE}\x01\x0b"),
            route_long_name=f["route_long_name"].fillna("") + "\x1b[1m",
        ),
    )
    edit(feed, "stops", lambda f: f.assign(stop_name=f["stop_name"] + f"\x02{RLO}\x1b]8;;http://x\x07"))
    edit(feed, "agency", lambda f: f.assign(agency_name="HART\x1b[5m\x0c"))
    out = tmp_path_factory.mktemp("hostile_out") / "out"
    ran = gradient(*run_args(feed, out, "--route", "39", "--maps", "1", "--place", f"Tampa{RLO}", le=hills_le))
    assert ran.returncode == 0, ran.stderr
    return ran, out


def bad_characters(text: str) -> list[str]:
    return sorted({c for c in text if (ord(c) < 32 and c not in "\n\t\r") or 0x7F <= ord(c) < 0xA0 or c in RLO})


def test_hostile_names_reach_the_terminal_as_text(hostile_run):
    ran, _ = hostile_run
    assert bad_characters(ran.stdout + ran.stderr) == []
    assert ran.stdout.startswith("Two patterns on one route serving 132 stops")


def test_hostile_names_leave_every_file_valid_and_every_sentence_whole(hostile_run):
    import xml.etree.ElementTree as ET

    _, out = hostile_run
    svgs = list((out / "profiles").glob("*.svg"))
    assert svgs
    for svg in svgs:
        ET.parse(svg)  # well-formed XML
    for path in [*svgs, *out.rglob("*.html"), *out.rglob("*.txt"), *out.rglob("*.csv"), out / "methods.md"]:
        assert bad_characters(path.read_text(encoding="utf-8")) == [], path
    patterns = pd.read_csv(out / "patterns.csv", dtype=str)
    assert set(patterns["route_name"]) == {"39"}
    assert all(RLO not in h for h in patterns["headline"].dropna())


def test_messages_echoing_hostile_values_reach_the_terminal_as_text(feed_copy, hills_le, tmp_path):
    ran = gradient(*run_args(feed_copy, tmp_path / "out", "--route", f"X{HOSTILE}{RLO}", le=hills_le))
    assert_refused(ran, r"feed: no route named X \(routes include 34, 39, 8\)$")
    assert bad_characters(ran.stderr) == []
    ran = gradient(*run_args(feed_copy, tmp_path / "out", le=hills_le, fmt="csv") + ["--le-id", f"id{HOSTILE}"])
    assert ran.returncode == 2 and bad_characters(ran.stderr) == []


def test_file_names_are_never_reserved_nor_unsafe():
    from gradient.batch import feed_dirs

    ids = ["nul.x-0-1", "con", "AUX.tar", "lpt9", "com1.html", "a/b-0-1", "x\x00y", "trail. ", "Prn ", "ok-0-1"]
    stems = schema.file_stems(ids)
    reserved = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$", re.I)
    for stem in stems.values():
        assert not reserved.match(stem) and re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9._-]*[A-Za-z0-9_-]", stem), stem
    assert stems["ok-0-1"] == "ok-0-1" and len({s.lower() for s in stems.values()}) == len(ids)
    assert [p.name for p in feed_dirs(["f/con.zip", "g/NUL", "h/com3.gtfs"], "out")] == ["_con", "_NUL", "_com3.gtfs"]


# --- 4. numbers and options ------------------------------------------------------------------


@pytest.fixture(scope="session")
def line_case(tmp_path_factory):
    """The hand-built straight route over three squares (conftest), and its patterns."""
    from conftest import line_feed, squares

    feed = line_feed(tmp_path_factory.mktemp("line") / "feed")
    patterns, ps, _ = pipeline.read_source(feed)
    return feed, patterns, ps, squares()


def test_areas_in_another_crs_are_put_in_wgs84(line_case):
    _, patterns, ps, sq = line_case
    plain = pipeline.run_patterns(patterns, ps, sq, Options(draws=200))
    mercator = pipeline.run_patterns(patterns, ps, sq.to_crs("EPSG:3857"), Options(draws=200))
    assert mercator.patterns["n_stops_le"].tolist() == plain.patterns["n_stops_le"].tolist() == [3, 3]
    pd.testing.assert_series_equal(mercator.stops["le"], plain.stops["le"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda sq: sq.to_crs("EPSG:3857").set_crs("EPSG:4326", allow_override=True),
            r"^areas= coordinates do not fit its CRS: they are out of longitude/latitude range \(x -9\.17\d+e\+06 to "
            r"-9\.17\d+e\+06, y 3\.2\d+e\+06 to 3\.2\d+e\+06\); metres labelled as degrees\? Set the right CRS$",
        ),
        (
            lambda sq: sq.set_crs("EPSG:3857", allow_override=True),
            r"^areas= coordinates look like longitude/latitude degrees, but its CRS is EPSG:3857 \(metres\); set the "
            r"right CRS",
        ),
        (lambda sq: sq.set_crs(None, allow_override=True), r"^areas= has no CRS; set the one its coordinates are in"),
        (
            lambda sq: sq.assign(geometry=sq.geometry.translate(3, 3)),
            r"^none of the 3 stops lies in or within 250 m of any of the 3 areas \(stops: longitude -82\.42 to "
            r"-82\.4, latitude 27\.93 to 27\.93; areas: longitude -79\.43 to -79\.4, latitude 30\.9\d to 30\.9\d\); "
            r"do the boundaries cover the feed, and is their CRS right\?$",
        ),
        (
            lambda sq: sq.assign(le=[80.0, 0.0, 76.0]),
            r"^areas= holds 1 life expectancy value\(s\) outside 40-110 years \(e\.g\. 0 \+/- 1 for A1\)$",
        ),
        (
            lambda sq: sq.assign(le_se=[1.0, 0.0, 1.0]),
            r"^areas= holds 1 standard error\(s\) of 0 \(no life table is exact\)",
        ),
        (lambda sq: sq.assign(le=["80", "78", "76"]), r"^areas= column le must hold numbers \(years\)"),
    ],
)
def test_areas_that_cannot_be_joined_are_refused_with_what_is_wrong(line_case, change, message):
    _, patterns, ps, sq = line_case
    with pytest.raises(AreasError, match=message):
        pipeline.run_patterns(patterns, ps, change(sq), Options(draws=200))


def test_a_boundary_file_covering_another_place_is_refused_naming_it(line_case, tmp_path):
    feed, _, _, sq = line_case
    path = tmp_path / "elsewhere.geojson"
    sq.to_crs("EPSG:3857").assign(geometry=lambda f: f.geometry.translate(5e5, 5e5)).to_file(path)
    le = tmp_path / "le.csv"
    sq[["area_id", "le", "le_se"]].to_csv(le, index=False)
    ran = gradient(
        *run_args(
            feed,
            tmp_path / "out",
            "--area-id",
            "area_id",
            "--le-id",
            "area_id",
            "--le-col",
            "le",
            le=le,
            fmt="csv",
            areas_file=path,
        )
    )
    assert_refused(
        ran,
        rf"^gradient: error: {re.escape(str(path))}: none of the 3 stops lies in or within 250 m of any of the 3 areas",
    )


@pytest.mark.parametrize("value", ["0", "-5", "1e9", "nan", "inf", "39.9"])
def test_scale_reference_outside_life_expectancy_is_refused(tmp_path, value):
    ran = gradient(*run_args(tmp_path / "nofeed", tmp_path / "out", "--scale-reference", value, le=tmp_path))
    assert_refused(
        ran,
        rf"^gradient: error: --scale-reference {re.escape(value)} is not one of areas, table or a number of years "
        r"from 40 to 110, e\.g\. 80$",
        tmp_path / "out",
    )


@pytest.mark.parametrize(("bad", "column"), [("5:80:00", "arrival_time"), ("7:05:60", "departure_time")])
def test_times_with_minutes_or_seconds_of_60_or_more_are_flagged(feed_copy, small_patterns, bad, column):
    st = pd.read_csv(feed_copy / "stop_times.txt", dtype=str)
    trip = st["trip_id"].iloc[0]
    rows = st.index[st["trip_id"] == trip]
    edit(
        feed_copy,
        "stop_times",
        lambda f: f.assign(
            arrival_time=f["arrival_time"].where(f.index != rows[2], bad if column == "arrival_time" else ""),
            departure_time=f["departure_time"].where(f.index != rows[2], bad if column == "departure_time" else ""),
        ),
    )
    with pytest.warns(
        GradientWarning,
        match=rf"feed: 1 of \d+ {column} values in stop_times\.txt are not H:MM:SS \(e\.g\. {bad}\); scheduled "
        r"minutes stay missing for them$",
    ):
        feed = gtfs.read_feed(feed_copy)
    from gradient.sources import _trips

    assert np.isnan(_trips.seconds(pd.Series([bad, "5:80", "-1:00:00"]))).all()
    assert _trips.seconds(pd.Series(["25:59:59"])).tolist() == [93599.0]
    _, ps = gtfs.stop_patterns(feed)
    assert (ps.groupby("pattern_id")["minutes"].diff().dropna() >= 0).all()


# --- 5. signals and pipes --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("point", "signum"),
    [
        ("start", signal.SIGTERM),  # the command's first line: nothing imported but the entry point
        ("start", signal.SIGINT),
        ("start", signal.SIGHUP),
        ("run", signal.SIGTERM),  # every input checked, the heavy imports next
        ("run", signal.SIGHUP),
    ],
)
def test_a_signal_from_the_first_line_stops_quietly(hart_small, hills_le, tmp_path, point, signum):
    out = tmp_path / "fresh" / "out"
    proc = start_run(hart_small, out, hills_le, point=point)
    _, stderr = signal_while_writing(proc, out, signum, point=point)
    assert proc.returncode == 128 + signum, stderr
    assert stderr.splitlines() == [f"gradient: stopped by {signal.Signals(signum).name}; nothing was left half-written"]
    assert not (tmp_path / "fresh").exists()


def test_sighup_while_committing_keeps_the_previous_outputs(hart_small, hills_le, small_run, tmp_path):
    out = Path(shutil.copytree(small_run[1], tmp_path / "out"))
    before = files_of(out)
    proc = start_run(hart_small, out, hills_le, "--route", "39")
    _, stderr = signal_while_writing(proc, out, signal.SIGHUP)
    assert proc.returncode == 129 and stderr.splitlines()[-1] == (
        "gradient: stopped by SIGHUP; nothing was left half-written"
    )
    assert files_of(out) == before


def test_a_reader_that_quits_or_a_closed_stdout_does_not_fail_a_finished_run(hart_small, hills_le, tmp_path):
    out = tmp_path / "piped"
    proc = start_run(hart_small, out, hills_le, "--route", "39")
    wait_for(proc.hold / "commit", proc)  # type: ignore[attr-defined]
    proc.stdout.close()  # the reader quits (`| true`, `| head -1`) before the summary is printed
    (proc.hold / "commit.go").touch()  # type: ignore[attr-defined]
    stderr = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 0 and "Traceback" not in stderr and "Error" not in stderr, stderr
    assert (out / "patterns.csv").exists() and (out / outfolder.MANIFEST).exists()
    args = " ".join(map(str, run_args(hart_small, tmp_path / "closed", "--route", "39", le=hills_le)))
    closed = subprocess.run(
        f"exec {sys.executable} -m gradient {args} >&-", shell=True, capture_output=True, text=True, timeout=120
    )
    assert closed.returncode == 0 and "Traceback" not in closed.stderr, closed.stderr
    assert (tmp_path / "closed" / "patterns.csv").exists()


def test_no_space_left_names_the_file_and_keeps_the_previous_outputs(
    hart_small, hills_le, small_run, tmp_path, monkeypatch
):
    import types

    from gradient import _files

    out = Path(shutil.copytree(small_run[1], tmp_path / "out"))
    before = files_of(out)

    class Full(io.StringIO):
        def write(self, text):
            raise OSError(28, "No space left on device")

    def fdopen(fd, *args, **kwargs):
        os.close(fd)
        return Full()

    monkeypatch.setattr(_files, "os", types.SimpleNamespace(**{**vars(os), "fdopen": fdopen}))
    ran = gradient(*run_args(hart_small, out, "--route", "39", le=hills_le))
    assert ran.returncode == 2 and ran.errors == [f"gradient: error: {out / 'stops.csv'}: No space left on device"]
    assert files_of(out) == before and not list(out.glob(".gradient-staging-*"))


# --- 6. the library's front door -------------------------------------------------------------


def test_options_as_a_dict_at_every_front_door(line_case, tmp_path):
    from gradient.batch import run_feed

    feed, patterns, ps, sq = line_case
    as_dict = gradient_api().run(feed, sq, {"draws": 200, "routes": "R", "maps": 0})
    typed = gradient_api().run(feed, sq, Options(draws=200, routes=("R",), maps=0))
    pd.testing.assert_frame_equal(as_dict.patterns, typed.patterns)
    assert pipeline.read_source(feed, options={"routes": ["R"]})[0]["pattern_id"].tolist() == ["R-0-1", "R-1-1"]
    assert write_outputs(as_dict, tmp_path / "out", {"maps": 0})["tables"]
    assert run_feed(str(feed), sq, tmp_path / "batch", {"draws": 200, "maps": 0}).ok
    for bad, message in [
        (
            ["maps", 0],
            r"^options= must be gradient\.Options\(\.\.\.\) or a dict of options, e\.g\. \{'maps': 0\}; got list$",
        ),
        ({"drawz": 200}, r"^unknown option\(s\) drawz; options are method, radius_m, "),
        ({"draws": 1e9}, r"^draws=1000000000\.0 must be a whole number from 200 to 1,000,000"),
        ({1: 2}, r"^options= names options by text; 1 is not \(options are method, "),
    ]:
        with pytest.raises(gradient_api().OptionError, match=message):
            gradient_api().run(feed, sq, bad)
        with pytest.raises(gradient_api().OptionError, match=message):
            write_outputs(as_dict, tmp_path / "never", bad)
    assert not (tmp_path / "never").exists()


def gradient_api():
    import gradient

    return gradient


def test_areas_without_standard_errors_and_typed_numbers_at_the_front_door(line_case):
    from gradient.areas import Areas

    feed, patterns, ps, sq = line_case
    bare = sq.drop(columns="le_se")
    for given in (bare, Areas(frame=bare, period="2015-2019")):
        got = pipeline.run_patterns(patterns, ps, given, Options(draws=200))
        assert got.stops["le"].notna().all() and got.stops["le_se"].isna().all()
    assert Options(routes=8).routes == ("8",) and Options(routes=[8, "N8"]).routes == ("8", "N8")
    assert Options(draws=np.int64(2000), maps=np.int32(0), alpha=np.float32(0.05)).draws == 2000
    with pytest.raises(AreasError, match=r"^areas= must be gradient\.load_areas\(\.\.\.\)'s result .*; got dict$"):
        pipeline.run_patterns(patterns, ps, {"le": 80})


# --- done before issue 23, held here ---------------------------------------------------------


@pytest.mark.parametrize(("value", "why"), [("0", r"0, which says the estimate is exact"), ("inf", "infinite")])
def test_standard_errors_of_0_or_infinity_are_refused(hills_le, tmp_path, value, why):
    path = with_values(hills_le, tmp_path, {4: value}, column=5)
    with pytest.raises(
        AreasError, match=rf"FL_A\.CSV: 1 standard error\(s\) from se\(e\(0\)\) are {why}.* \(e\.g\. 12057000402\)$"
    ):
        areas.read_usaleep(path)


def test_limits_that_exclude_their_estimate_are_refused(tmp_path):
    path = tmp_path / "le.csv"
    path.write_text("code,le,low,high\nA1,80.0,78.0,82.0\nA2,75.0,76.0,79.0\n")
    with pytest.raises(
        AreasError,
        match=r"le\.csv: 1 row\(s\) have 95% limits that do not hold their estimate \(e\.g\. A2: 75 outside 76 to 79 "
        r"in 'low' and 'high'\); are the columns the right ones, in the order lower, upper\?$",
    ):
        areas.read_le_table(path, "code", "le", ci_cols=("low", "high"))


def test_a_name_of_100000_words_wraps_at_once():
    from gradient.present import charts

    start = time.perf_counter()
    got = charts.wrap("Stop " * 100_000, 24, max_lines=3, size=9)
    assert got.count("\n") == 2 and time.perf_counter() - start < 20  # quadratic wrapping took minutes
