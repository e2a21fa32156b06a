"""A corpus of bad and hostile inputs, built from the real bundled files, each with the
exact behaviour expected: a clear error (command line: exit 2, one line naming the file and
the problem, no traceback) or a warning with counts and the affected rows kept as missing."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gradient import AreasError, FeedError, GradientWarning, Options, areas, datasets, gtfs, pipeline
from gradient import _feedcheck as feedcheck
from gradient._files import neutralise_formulas
from gradient.output import write_outputs

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
        [sys.executable, "-m", "gradient", "run", "--gtfs", str(feed),
         "--areas", str(datasets.get_path("hillsborough_tracts")), "--le", str(datasets.get_path("usaleep")),
         "--le-format", "usaleep", "--maps", "0", "--out", str(out)],
        capture_output=True, text=True,
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
    assert_one_line_error(run_cli(feed_copy, tmp_path / "out"), rf"feed: the feed has no {table}\.txt", tmp_path / "out")


def test_missing_column(feed_copy, tmp_path):
    edit(feed_copy, "stop_times", lambda f: f.drop(columns="stop_sequence"))
    assert_one_line_error(run_cli(feed_copy, tmp_path / "out"),
                          r"stop_times\.txt lacks the column\(s\) stop_sequence", tmp_path / "out")


def test_unknown_trip_in_stop_times(feed_copy):
    edit(feed_copy, "stop_times", lambda f: f.assign(trip_id=f["trip_id"].where(f.index > 2, "ghost")))
    with pytest.raises(FeedError, match=r"refers to 3 row\(s\) of trips missing from trips\.txt \(e\.g\. ghost\)"):
        gtfs.stop_patterns(gtfs.read_feed(feed_copy))


def test_duplicate_stop_ids(feed_copy, tmp_path):
    edit(feed_copy, "stops", lambda f: pd.concat([f, f.iloc[[0, 1]]]))
    assert_one_line_error(run_cli(feed_copy, tmp_path / "out"),
                          r"stops\.txt has 2 stop_id\(s\) more than once \(e\.g\. ", tmp_path / "out")


def test_stops_at_zero_zero(feed_copy, tmp_path):
    edit(feed_copy, "stops", lambda f: f.assign(stop_lat=f["stop_lat"].where(f.index > 0, "0"),
                                               stop_lon=f["stop_lon"].where(f.index > 0, "0")))
    with pytest.raises(FeedError, match=r"1 stop\(s\) in use sit at latitude 0, longitude 0"):
        gtfs.read_feed(feed_copy)


def test_swapped_coordinates(feed_copy, tmp_path):
    used = pd.read_csv(feed_copy / "stop_times.txt", dtype=str)["stop_id"].unique()[:2]

    def swap(f):
        rows = f["stop_id"].isin(used)
        f.loc[rows, ["stop_lat", "stop_lon"]] = f.loc[rows, ["stop_lon", "stop_lat"]].to_numpy()
        return f

    edit(feed_copy, "stops", swap)
    assert_one_line_error(run_cli(feed_copy, tmp_path / "out"),
                          r"stops\.txt: 2 stop\(s\) in use have latitude and longitude swapped", tmp_path / "out")


def test_coordinates_out_of_range(feed_copy):
    edit(feed_copy, "stops", lambda f: f.assign(stop_lat=f["stop_lat"].where(f.index > 0, "127.9")))
    with pytest.raises(FeedError, match=r"1 stop\(s\) in use have coordinates out of range"):
        gtfs.read_feed(feed_copy)


def test_non_utf8_text(feed_copy, tmp_path):
    path = feed_copy / "stops.txt"
    text = path.read_text(encoding="utf-8").replace("Marion Transit Center", "Marión Transit Center")
    path.write_bytes(text.encode("latin-1"))
    assert_one_line_error(run_cli(feed_copy, tmp_path / "out"),
                          r"feed: is not UTF-8 text .*re-save them as UTF-8", tmp_path / "out")


# --- GTFS: warnings, rows kept ---------------------------------------------------------

def test_times_written_as_seconds(feed_copy):
    def seconds(f):
        first = f["trip_id"] == f["trip_id"].iloc[0]
        h, m, s = (f.loc[first, "arrival_time"].str.split(":", expand=True).astype(int)[i] for i in range(3))
        f.loc[first, "arrival_time"] = (h * 3600 + m * 60 + s).astype(str)
        return f

    edit(feed_copy, "stop_times", seconds)
    with pytest.warns(GradientWarning, match=r"of \d+ arrival_time values in stop_times\.txt are not H:MM:SS "
                                             r"\(e\.g\. \d+.*\); scheduled minutes stay missing"):
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
        [sys.executable, "-m", "gradient", "run", "--gtfs", str(archive),
         "--areas", str(datasets.get_path("hillsborough_tracts")), "--le", str(datasets.get_path("usaleep")),
         "--le-format", "usaleep", "--out", str(tmp_path / "work" / "out")],
        capture_output=True, text=True, cwd=tmp_path / "work",
    )
    assert_one_line_error(proc, r"evil\.zip: the zip holds '\.\./\.\./escaped\.txt', a path that leaves its folder",
                          tmp_path / "work" / "out")
    assert not list(tmp_path.rglob("escaped.txt"))


def test_zip_bomb_is_refused_before_reading(tmp_path, monkeypatch):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("stop_times.txt", b"0" * 3_000_000)
    monkeypatch.setattr(feedcheck, "MAX_UNCOMPRESSED_BYTES", 2_000_000)
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
    with pytest.raises(AreasError, match=r"coordinates look like longitude/latitude degrees, but the CRS is EPSG:27700"):
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
    from gradient import output

    monkeypatch.setattr(output, "write_csv", lambda *a, **k: (_ for _ in ()).throw(OSError(28, "No space left")))
    with pytest.raises(OSError):
        write_outputs(result, out, Options(maps=0))
    assert (out / "stops.csv").read_bytes() == before
    assert not list(out.glob(".gradient-staging-*"))


def test_formula_cells_are_neutralised_but_numbers_are_not():
    frame = pd.DataFrame({"stop_name": ["=HYPERLINK(\"x\")", "+1", "-2 Rd", "@home", "Main St"],
                          "le": [-1.5, 2.0, np.nan, 80.0, 81.0]})
    got = neutralise_formulas(frame)
    assert got["stop_name"].tolist() == ["'=HYPERLINK(\"x\")", "'+1", "'-2 Rd", "'@home", "Main St"]
    assert got["le"].tolist()[:2] == [-1.5, 2.0]


def test_hostile_route_name_writes_inside_the_output_folder(feed_copy, tmp_path):
    edit(feed_copy, "routes", lambda f: f.assign(route_id=f["route_id"].replace("8", "../../x")))
    edit(feed_copy, "trips", lambda f: f.assign(route_id=f["route_id"].replace("8", "../../x")))
    out = tmp_path / "deep" / "out"
    subprocess.run([sys.executable, "-m", "gradient", "run", "--gtfs", str(feed_copy),
                    "--areas", str(datasets.get_path("hillsborough_tracts")), "--le", str(datasets.get_path("usaleep")),
                    "--le-format", "usaleep", "--maps", "6", "--out", str(out)], check=True, capture_output=True)
    written = [p.resolve() for p in (tmp_path / "deep").rglob("*") if p.is_file()]
    assert all(out.resolve() in p.parents for p in written)
    assert any(p.name.startswith("x-0-1") for p in written)
    assert not (tmp_path / "x").exists()
    patterns = pd.read_csv(out / "patterns.csv")
    assert "../../x" in set(patterns["route_id"])  # the data itself is kept as it was


def test_unwritable_output_folder(feed_copy, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    proc = run_cli(feed_copy, blocker / "out")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert re.search(r"gradient: error: .*file.*: Not a directory", proc.stderr.strip().splitlines()[-1])
