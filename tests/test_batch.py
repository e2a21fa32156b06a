"""Many feeds on dask: identical to one at a time, failures reported, not fatal."""

from __future__ import annotations

import subprocess
import sys

import gtfs_kit as gk
import pytest
from conftest import line_feed, squares

from gradient import InputError, Options, pipeline
from gradient.batch import feed_dirs, run_batch
from gradient.output import write_outputs


@pytest.fixture(scope="module")
def three_feeds(tmp_path_factory, hart_path):
    """Two route subsets of HART as GTFS folders, and the whole HART zip."""
    root = tmp_path_factory.mktemp("feeds")
    feed = gk.read_feed(hart_path, dist_units="km")
    subsets = []
    for name, routes in (("hart_8_34", ["8", "34"]), ("hart 1", ["1"])):
        sub = feed.restrict_to_routes(routes)
        folder = root / name
        sub.to_file(folder)
        subsets.append(folder)
    return subsets + [hart_path]


@pytest.mark.filterwarnings("ignore:2 of 2276 stops fall outside every area")
def test_batch_matches_feeds_run_alone(three_feeds, tracts, tmp_path):
    # worker threads (not processes) keep the test quick; one, because recording each feed's
    # warnings is not thread-safe (a real cluster runs one feed per process)
    outcomes = run_batch(three_feeds, tracts, tmp_path / "batch", processes=False, n_workers=1)
    assert [o.ok for o in outcomes] == [True, True, True]
    assert [o.out_dir.name for o in outcomes] == ["hart_8_34", "hart_1", "hart_gtfs_2018"]
    assert [o.n_patterns for o in outcomes] == [4, 2, 85]
    assert any("2 of 2276 stops fall outside every area" in w for w in outcomes[2].warnings)
    for feed, outcome in zip(three_feeds, outcomes):
        alone = tmp_path / "alone" / outcome.out_dir.name
        write_outputs(pipeline.run(feed, tracts), alone, Options(maps=0))
        for name in ("stops.csv", "patterns.csv"):
            assert (outcome.out_dir / name).read_bytes() == (alone / name).read_bytes(), (feed, name)


def test_a_corrupt_feed_does_not_sink_the_others(tmp_path):
    good = line_feed(tmp_path / "good")
    bad = tmp_path / "broken.zip"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    outcomes = run_batch([bad, good], squares(), tmp_path / "out", processes=False, n_workers=1)
    assert outcomes[0].error == f"{bad}: not a zip archive; give a GTFS zip or folder"
    assert outcomes[1].ok and outcomes[1].n_patterns == 2
    assert (tmp_path / "out" / "good" / "patterns.csv").exists()
    assert not (tmp_path / "out" / "broken").exists()


def test_feed_dirs_tell_clashing_names_apart():
    assert [p.name for p in feed_dirs(["a/x.zip", "b/x", "c/x.ZIP", "../y z"], "o")] == ["x", "x-2", "x-3", "y_z"]


def test_no_feeds():
    with pytest.raises(InputError, match="no feeds given"):
        run_batch([], squares(), "unused")


def test_unreachable_scheduler(tmp_path):
    import socket

    with socket.socket() as closed:  # a port that is ours and not listening: every connection is refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        with pytest.raises(InputError, match=r"cannot reach the dask scheduler .*check --scheduler"):
            run_batch(
                [line_feed(tmp_path / "f")],
                squares(),
                tmp_path / "o",
                scheduler=f"tcp://127.0.0.1:{port}",
                connect_timeout=1,
            )


def test_cli_batch_exit_status_and_one_line_per_failure(tmp_path):
    feed = line_feed(tmp_path / "feed")
    areas_file = tmp_path / "areas.geojson"
    sq = squares()
    sq[["area_id", "geometry"]].to_file(areas_file)
    sq[["area_id", "le", "le_se"]].to_csv(tmp_path / "le.csv", index=False)
    bad = tmp_path / "bad.zip"
    bad.write_text("hello")
    args = [
        "--areas",
        str(areas_file),
        "--le",
        str(tmp_path / "le.csv"),
        "--le-format",
        "csv",
        "--area-id",
        "area_id",
        "--le-id",
        "area_id",
        "--le-col",
        "le",
        "--le-se-col",
        "le_se",
        "--workers",
        "1",
        "--out",
        str(tmp_path / "out"),
    ]

    def gradient(*feeds):
        return subprocess.run(
            [sys.executable, "-m", "gradient", "batch", *map(str, feeds), *args], capture_output=True, text=True
        )

    some = gradient(feed, bad)
    assert some.returncode == 3, some.stderr
    errors = [line for line in some.stderr.splitlines() if line.startswith("gradient: error:")]
    assert errors == [f"gradient: error: {bad}: not a zip archive; give a GTFS zip or folder"]
    assert "1 of 2 feeds done" in some.stdout
    assert (tmp_path / "out" / "feed" / "stops.csv").exists()
    assert gradient(bad).returncode == 2
