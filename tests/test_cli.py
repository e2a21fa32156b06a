"""The command line: outputs per the contract, exit codes and one-line messages.

Most tests call :func:`gradient.cli.main` in-process (:func:`gradient`); a few run the
real entry point in a subprocess (:func:`gradient_process`) to prove it works whole.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from dataclasses import dataclass

import pandas as pd
import pytest
from conftest import line_feed, squares

from gradient import cli, datasets
from gradient.schema import (
    PATTERNS_CSV_COLUMNS,
    PATTERNS_SHORT_COLUMNS,
    STOPS_CSV_COLUMNS,
    STOPS_SHORT_COLUMNS,
    STRETCHES_CSV_COLUMNS,
    STRETCHES_EXTRA_COLUMNS,
)


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def gradient(*args: str) -> Ran:
    """``gradient ARGS`` in this process: exit status and what it printed."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(list(args))
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code
    return Ran(code, out.getvalue(), err.getvalue())


def gradient_process(*args: str, cwd=None) -> subprocess.CompletedProcess:
    """``python -m gradient ARGS`` in a fresh process."""
    return subprocess.run([sys.executable, "-m", "gradient", *args], capture_output=True, text=True, cwd=cwd)


@pytest.fixture(scope="module")
def hart_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("hart")
    proc = gradient_process(
        "run",
        "--gtfs",
        str(datasets.get_path("hart_gtfs")),
        "--areas",
        str(datasets.get_path("hillsborough_tracts")),
        "--le",
        str(datasets.get_path("usaleep")),
        "--le-format",
        "usaleep",
        "--maps",
        "2",
        "--out",
        str(out),
    )
    return proc, out


def test_run_on_hart_writes_the_contract(hart_run):
    proc, out = hart_run
    assert proc.returncode == 0, proc.stderr
    stops = pd.read_csv(out / "stops.csv", dtype={"stop_id": str, "area_id": str})
    patterns = pd.read_csv(out / "patterns.csv")
    # the contract's columns, in order, then a short documented set (--wide writes them all)
    assert list(stops.columns) == STOPS_CSV_COLUMNS + STOPS_SHORT_COLUMNS
    assert list(patterns.columns) == PATTERNS_CSV_COLUMNS + PATTERNS_SHORT_COLUMNS
    stretches = pd.read_csv(out / "stretches.csv")
    assert list(stretches.columns) == STRETCHES_CSV_COLUMNS + STRETCHES_EXTRA_COLUMNS
    assert len(patterns) == 85
    assert patterns["rank"].dropna().is_monotonic_increasing  # ordered by rank, each route's patterns together
    assert patterns.groupby("route_id")["rank"].nunique(dropna=False).eq(1).all()
    assert patterns.groupby("route_id")["route_story"].sum().le(1).all()
    no_values = patterns["le_range"].isna()
    assert no_values.sum() == 4  # the SkyConnect shuttles and route 75 serve no tract with an estimate
    assert (patterns.loc[no_values, "n_stops_le"] == 0).all() and no_values.iloc[-4:].all()
    assert stops["le"].min() > 50  # missing stays empty, never 0
    assert stops.groupby("pattern_id")["stop_sequence"].apply(lambda s: (s.diff().dropna() == 1).all()).all()
    top2 = patterns.loc[patterns["route_story"] & patterns["n_stops_le"].gt(0), "pattern_id"][:2]  # one per route
    expected_maps = [f"{p}{s}" for p in top2 for s in (".html", ".iframe.html", ".alt.txt")]
    network = ["network.html", "network.iframe.html", "network.alt.txt"]
    assert sorted(p.name for p in (out / "maps").iterdir()) == sorted(expected_maps + network)
    assert len(list((out / "profiles").glob("*.png"))) == 4 and len(list((out / "profiles").glob("*.svg"))) == 2
    assert len(list((out / "profiles").glob("*.portrait.png"))) == 2  # the phone versions
    assert "85 patterns" in proc.stdout
    assert "warning: 2 of 2276 stops fall outside every area" in proc.stderr


def test_two_runs_give_identical_csvs(hart_run, tmp_path):
    """The command as a process and ``main`` in this process agree byte for byte."""
    first_proc, first = hart_run
    proc = gradient(
        "run",
        "--gtfs",
        str(datasets.get_path("hart_gtfs")),
        "--areas",
        str(datasets.get_path("hillsborough_tracts")),
        "--le",
        str(datasets.get_path("usaleep")),
        "--le-format",
        "usaleep",
        "--maps",
        "0",
        "--out",
        str(tmp_path),
    )
    assert proc.returncode == 0, proc.stderr
    for name in ("stops.csv", "patterns.csv"):
        assert (tmp_path / name).read_bytes() == (first / name).read_bytes()

    def warned(text: str) -> list[str]:
        return [line for line in text.splitlines() if line.startswith("gradient: warning")]

    assert warned(proc.stderr) == warned(first_proc.stderr) and len(warned(proc.stderr)) == 2


def test_route_filter(tmp_path):
    proc = gradient(
        "run",
        "--gtfs",
        str(datasets.get_path("hart_gtfs")),
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
        "0",
        "--out",
        str(tmp_path),
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(pd.read_csv(tmp_path / "patterns.csv")["route_name"].astype(str)) == ["34", "34", "8", "8"]


def bad_input_cases(tmp_path):
    feed = line_feed(tmp_path / "feed")
    areas_file = tmp_path / "areas.geojson"
    squares()[["area_id", "geometry"]].to_file(areas_file)
    table = tmp_path / "le.csv"
    table.write_text("id,e0\nA0,80\nA1,78\nA2,76\n")
    base = [
        "run",
        "--gtfs",
        str(feed),
        "--areas",
        str(areas_file),
        "--le",
        str(table),
        "--le-format",
        "csv",
        "--le-id",
        "id",
        "--le-col",
        "e0",
        "--area-id",
        "area_id",
    ]
    return base, feed, areas_file, table


def test_csv_run_succeeds(tmp_path):
    base, *_ = bad_input_cases(tmp_path)
    proc = gradient(*base, "--out", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr
    patterns = pd.read_csv(tmp_path / "out" / "patterns.csv")
    assert patterns["le_range"].tolist() == [4, 4]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda a, t: a.__setitem__(2, str(t / "missing.zip")), r"missing\.zip: no such file or folder"),
        (lambda a, t: a.__setitem__(6, str(t / "none.csv")), r"none\.csv: no such life expectancy table"),
        (lambda a, t: a.__setitem__(12, "e(0)"), r"le\.csv: no column\(s\) 'e\(0\)'"),
        (lambda a, t: a.__setitem__(14, "GEOID"), r"areas\.geojson: no column 'GEOID'"),
        (lambda a, t: a.extend(["--route", "99"]), r"feed: no route named 99 \(routes include R\)"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, change, message):
    args, *_ = bad_input_cases(tmp_path)
    change(args, tmp_path)
    out = tmp_path / "out"
    proc = gradient(*args, "--out", str(out))
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if not line.startswith("gradient: warning:")]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("gradient: error: ")
    assert "Traceback" not in proc.stderr
    import re

    assert re.search(message, lines[0]), lines[0]
    assert not out.exists()  # nothing half-written


def test_bad_table_values_exit_2(tmp_path):
    args, _, _, table = bad_input_cases(tmp_path)
    table.write_text("id,e0\nA0,80\nA1,780\nA2,76\n")
    proc = gradient(*args, "--out", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert "implausible for life expectancy at birth" in proc.stderr and "Traceback" not in proc.stderr


def test_usage_errors_exit_2():
    proc = gradient_process("run", "--gtfs", "x")
    assert proc.returncode == 2 and "required" in proc.stderr


def test_demo(tmp_path):
    proc = gradient("demo", "--out", str(tmp_path / "demo"))
    assert proc.returncode == 0, proc.stderr
    london = pd.read_csv(tmp_path / "demo" / "london" / "patterns.csv")
    assert london["route_name"].nunique() == 724  # every TfL route with real stops
    assert {"25-0-1", "25-1-1"} <= set(london["pattern_id"])
    maps = sorted(
        p.stem
        for p in (tmp_path / "demo" / "london" / "maps").glob("*-*-*.html")
        if not p.name.endswith(".iframe.html")
    )
    stories = london[london["route_story"] & (london["lead"] != "none")]
    assert len(maps) == 5 and set(maps) <= set(stories["pattern_id"])  # the top five stories, each mapped once
    assert len(list((tmp_path / "demo" / "london" / "profiles").glob("*.png"))) == 10  # and a phone version each
    stretches = pd.read_csv(tmp_path / "demo" / "london" / "stretches.csv")
    assert stretches["stretch_id"].is_unique and stretches["supported"].sum() > 0
    route25 = pd.read_csv(tmp_path / "demo" / "route25" / "patterns.csv")
    assert set(route25["route_name"].astype(str)) == {"25"}
    tampa = tmp_path / "demo" / "tampa"
    assert (tampa / "stops.csv").exists() and len(pd.read_csv(tampa / "patterns.csv")) == 85
    assert len([p for p in (tampa / "maps").glob("*-*-*.html") if not p.name.endswith(".iframe.html")]) == 5
    assert len(list((tampa / "maps").glob("*-*-*.alt.txt"))) == 5 and (tampa / "maps" / "network.html").exists()
    out = proc.stdout
    assert "ONS life expectancy at birth by MSOA, males, 2009-2013" in out
    assert "In London, " in out and " stretches of street, served by " in out
    assert "Route 25, chosen beforehand" in out and "Every change stated below holds over all 724 routes" in out
    assert "In Tampa, " in out
    # each story once: no two of the top five are the same place
    heads = [line for line in out.splitlines() if line.startswith("  ") and not line.startswith("    ")]
    assert len(heads) >= 5 and len(set(heads)) == len(heads)


def test_run_tfl_sequences(tmp_path):
    proc = gradient(
        "run",
        "--tfl-sequences",
        str(datasets.get_path("tfl_sequences")),
        "--tfl-route-lines",
        str(datasets.get_path("tfl_route_lines")),
        "--areas",
        str(datasets.get_path("msoa_boundaries")),
        "--le",
        str(datasets.get_path("ons_msoa_le")),
        "--le-format",
        "ons-msoa",
        "--route",
        "25",
        "--maps",
        "1",
        "--wide",
        "--out",
        str(tmp_path),
    )
    assert proc.returncode == 0, proc.stderr
    patterns = pd.read_csv(tmp_path / "patterns.csv")
    assert sorted(patterns["pattern_id"]) == ["25-0-1", "25-1-1"]
    assert (patterns["geometry_source"] == "route_line").all()
    assert patterns["n_trips"].isna().all()  # TfL gives no trips
    # eastbound, five stops in Whitechapel stand in MSOAs whose persons estimate ONS suppressed
    # (missing, not 0); westbound the stops stand across the road, in MSOAs with an estimate
    missing = (patterns["n_stops"] - patterns["n_stops_le"]).set_axis(patterns["pattern_id"])
    assert missing.to_dict() in ({"25-0-1": 5, "25-1-1": 0}, {"25-1-1": 0, "25-0-1": 5})


def test_tfl_missing_file(tmp_path):
    proc = gradient(
        "run",
        "--tfl-sequences",
        str(tmp_path / "nope.tsv"),
        "--areas",
        str(datasets.get_path("msoa_boundaries")),
        "--le",
        str(datasets.get_path("ons_msoa_le")),
        "--le-format",
        "ons-msoa",
        "--out",
        str(tmp_path / "o"),
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("gradient: error: ") and "nope.tsv" in proc.stderr


def london_feed(folder):
    """A hand-made route along Oxford Street to the City (real coordinates), no shapes."""
    from conftest import write_feed

    lons = [-0.1586, -0.1419, -0.1310, -0.1170, -0.0990, -0.0890]
    stops = pd.DataFrame(
        {
            "stop_id": [f"L{i}" for i in range(6)],
            "stop_name": [f"Stop {i}" for i in range(6)],
            "stop_lat": [51.5136, 51.5152, 51.5165, 51.5170, 51.5147, 51.5138],
            "stop_lon": lons,
        }
    )
    trips = pd.DataFrame({"route_id": ["25"], "service_id": ["S"], "trip_id": ["t"], "direction_id": [0]})
    times = pd.DataFrame(
        {
            "trip_id": "t",
            "stop_id": stops["stop_id"],
            "stop_sequence": range(1, 7),
            "arrival_time": [f"7:{m:02d}:00" for m in range(0, 12, 2)],
        }
    )
    times["departure_time"] = times["arrival_time"]
    return write_feed(folder, stops, times, trips)


@pytest.mark.parametrize("extra", [["--sex", "female"], ["--method", "buffer", "--radius-m", "400"]])
def test_run_on_england_msoas(tmp_path, extra):
    feed = london_feed(tmp_path / "feed")
    proc = gradient(
        "run",
        "--gtfs",
        str(feed),
        "--areas",
        str(datasets.get_path("msoa_boundaries")),
        "--le",
        str(datasets.get_path("ons_msoa_le")),
        "--le-format",
        "ons-msoa",
        *extra,
        "--maps",
        "1",
        "--out",
        str(tmp_path / "out"),
    )
    assert proc.returncode == 0, proc.stderr
    assert "warning: 1 of 1 patterns have no shape in the feed" in proc.stderr
    assert "repaired 72 of 6791 polygons" in proc.stderr
    stops = pd.read_csv(tmp_path / "out" / "stops.csv")
    assert stops["area_id"].str.startswith("E02").all()
    known = stops["le"].notna()
    assert known.sum() >= 5  # E02000193's female estimate is suppressed in the release: missing
    assert stops.loc[known, "le"].between(75, 95).all() and stops.loc[known, "le_se"].between(0.2, 5).all()
    page = (tmp_path / "out" / "maps" / "25-0-1.html").read_text()
    assert "data request REQ3292, provenance unconfirmed" in page and "above the official series" in page
    assert "ONS MSOA boundaries (Contains OS data" in page and "Open Government Licence v3.0" in page
    if "female" in extra:
        assert "female, 2016-2020" in page
