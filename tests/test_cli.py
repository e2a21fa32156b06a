"""The command line: outputs per the contract, exit codes and one-line messages."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
from conftest import ROOT, line_feed, squares

from gradient import datasets
from gradient.schema import PATTERNS_CSV_COLUMNS, STOPS_CSV_COLUMNS


def gradient(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gradient", *args], capture_output=True, text=True, cwd=cwd)


@pytest.fixture(scope="module")
def hart_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("hart")
    proc = gradient(
        "run", "--gtfs", str(datasets.get_path("hart_gtfs")),
        "--areas", str(datasets.get_path("hillsborough_tracts")),
        "--le", str(datasets.get_path("usaleep")), "--le-format", "usaleep",
        "--maps", "2", "--out", str(out),
    )
    return proc, out


def test_run_on_hart_writes_the_contract(hart_run):
    proc, out = hart_run
    assert proc.returncode == 0, proc.stderr
    stops = pd.read_csv(out / "stops.csv", dtype={"stop_id": str, "area_id": str})
    patterns = pd.read_csv(out / "patterns.csv")
    assert list(stops.columns) == STOPS_CSV_COLUMNS
    assert list(patterns.columns) == PATTERNS_CSV_COLUMNS
    assert len(patterns) == 85
    assert patterns["le_range"].dropna().is_monotonic_decreasing
    no_values = patterns["le_range"].isna()
    assert no_values.sum() == 4  # the SkyConnect shuttles and route 75 serve no tract with an estimate
    assert (patterns.loc[no_values, "n_stops_le"] == 0).all() and no_values.iloc[-4:].all()
    assert stops["le"].min() > 50  # missing stays empty, never 0
    assert stops.groupby("pattern_id")["stop_sequence"].apply(lambda s: (s.diff().dropna() == 1).all()).all()
    expected_maps = [f"{p}{s}" for p in patterns["pattern_id"][:2] for s in (".html", ".iframe.html", ".alt.txt")]
    assert sorted(p.name for p in (out / "maps").iterdir()) == sorted(expected_maps + ["network.html"])
    assert len(list((out / "profiles").glob("*.png"))) == 2 and len(list((out / "profiles").glob("*.svg"))) == 2
    assert "85 patterns" in proc.stdout
    assert "warning: 2 of 2276 stops fall outside every area" in proc.stderr


def test_two_runs_give_identical_csvs(hart_run, tmp_path):
    _, first = hart_run
    proc = gradient(
        "run", "--gtfs", str(datasets.get_path("hart_gtfs")),
        "--areas", str(datasets.get_path("hillsborough_tracts")),
        "--le", str(datasets.get_path("usaleep")), "--le-format", "usaleep",
        "--maps", "0", "--out", str(tmp_path),
    )
    assert proc.returncode == 0, proc.stderr
    for name in ("stops.csv", "patterns.csv"):
        assert (tmp_path / name).read_bytes() == (first / name).read_bytes()


def test_route_filter(tmp_path):
    proc = gradient(
        "run", "--gtfs", str(datasets.get_path("hart_gtfs")),
        "--areas", str(datasets.get_path("hillsborough_tracts")),
        "--le", str(datasets.get_path("usaleep")), "--le-format", "usaleep",
        "--route", "8", "34", "--maps", "0", "--out", str(tmp_path),
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(pd.read_csv(tmp_path / "patterns.csv")["route_name"].astype(str)) == ["34", "34", "8", "8"]


def bad_input_cases(tmp_path):
    feed = line_feed(tmp_path / "feed")
    areas_file = tmp_path / "areas.geojson"
    squares()[["area_id", "geometry"]].to_file(areas_file)
    table = tmp_path / "le.csv"
    table.write_text("id,e0\nA0,80\nA1,78\nA2,76\n")
    base = ["run", "--gtfs", str(feed), "--areas", str(areas_file), "--le", str(table),
            "--le-format", "csv", "--le-id", "id", "--le-col", "e0", "--area-id", "area_id"]
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
    proc = gradient("run", "--gtfs", "x")
    assert proc.returncode == 2 and "required" in proc.stderr


def test_demo(tmp_path):
    proc = gradient("demo", "--out", str(tmp_path / "demo"), cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "demo" / "stops.csv").exists() and (tmp_path / "demo" / "patterns.csv").exists()
    maps = tmp_path / "demo" / "maps"
    assert len([p for p in maps.glob("*.html") if not p.name.endswith(".iframe.html")]) == 5 + 1  # and network.html
    assert len(list(maps.glob("*.iframe.html"))) == len(list(maps.glob("*.alt.txt"))) == 5
    assert "route 8" in proc.stdout
