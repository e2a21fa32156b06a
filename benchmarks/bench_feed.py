"""Benchmark: a GTFS feed to ``patterns.csv``, against gtfs-kit and the parsing floor.

Also the feed-to-stop-patterns stage on country-size synthetic feeds.

Run from the project root:

    .venv/bin/python benchmarks/bench_feed.py                      # HART: ratios
    .venv/bin/python benchmarks/bench_feed.py --scale 1 10 30 60   # + scaling curve

HART part, all in this one process on the bundled HART feed (435,507 stop times),
each timed ``--repeat`` times and the fastest kept (the machine is shared):

- *pipeline*: ``read_feed(engine="pyarrow")``, ``stop_patterns``, assignment and
  statistics against the bundled census tracts (``pipeline.run_patterns``; the tracts
  are loaded once beforehand), and writing ``stops.csv`` and ``patterns.csv``;
- *gtfs-kit*: ``gtfs_kit.name_stop_patterns`` plus ``append_dist_to_stop_times`` on
  the feed gtfs-kit has already read (its reading is not counted);
- *floor*: pyarrow parsing ``stop_times.txt`` out of the zip, nothing else.

Whole-process part (first, unless ``--skip-processes``): ``python -m gradient run --maps 0``
on HART against the bundled tracts, and gtfs-kit's path from the feed file to stop
patterns with distances, each a fresh process, start-up and imports included, run in
turn (gradient, gtfs-kit, gradient, ...) so that a shared machine's drift falls on both;
it prints the fastest of each and the median of the run-by-run ratios (each gtfs-kit
run against the mean of the two gradient runs beside it). Run it under ``taskset -c 0``
for one core: pyarrow's parse of the feed then has one thread instead of two (the feed
and the areas are read in turn either way).

The scaling curve, when asked for, runs first (see :func:`scaling`).

Scaling part: feeds of 1, 10, 30, 60... copies of HART (``make_feed.py``; made under
``--feeds-dir`` when missing), each run in its own subprocess so that its peak
resident memory can be read (``os.wait4``). The stage timed is feed to stop patterns
with distances: ``read_feed(engine="pyarrow")`` and ``stop_patterns`` (no areas);
the floor (pyarrow parsing ``stop_times.txt`` alone) is measured the same way.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

from bench_scale import GTFS_KIT, floor  # the same floor and gtfs-kit path as the scaling benchmark

HERE = Path(__file__).resolve().parent


def patterns_stage(path: Path) -> int:
    """Feed to stop patterns with distances; returns the stop times read."""
    from gradient.sources import gtfs

    feed = gtfs.read_feed(path, engine="pyarrow")
    gtfs.stop_patterns(feed, path=path)
    return len(feed.stop_times)


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def hart(repeat: int) -> dict[str, float]:
    import gtfs_kit as gk

    from gradient import Options, areas, datasets, pipeline
    from gradient.output import write_outputs
    from gradient.sources import gtfs

    path = datasets.get_path("hart_gtfs")
    tracts = areas.load_areas(datasets.get_path("hillsborough_tracts"), datasets.get_path("usaleep"), "usaleep")
    out = Path(tempfile.mkdtemp(prefix="bench_feed_"))

    def ours() -> None:
        feed = gtfs.read_feed(path, engine="pyarrow")
        patterns, pattern_stops = gtfs.stop_patterns(feed, path=path)
        result = pipeline.run_patterns(patterns, pattern_stops, tracts)
        write_outputs(result, out, Options(maps=0))

    def ours_stage() -> None:
        gtfs.stop_patterns(gtfs.read_feed(path, engine="pyarrow"), path=path)

    gk_feed = gk.read_feed(path, dist_units="km")

    def naive() -> None:
        gk.name_stop_patterns(gk_feed)
        gk.append_dist_to_stop_times(gk_feed)

    return {
        "floor": best(lambda: floor(path), repeat),
        "stage": best(ours_stage, repeat),
        "pipeline": best(ours, repeat),
        "gtfs_kit_read": best(lambda: gk.read_feed(path, dist_units="km"), 1),
        "gtfs_kit": best(naive, repeat),
    }


"""gtfs-kit's path from a feed file to stop patterns with distances, as one whole process."""


def processes(repeat: int) -> dict[str, float]:
    """Whole processes, start-up and imports included: ``gradient run --maps 0`` against gtfs-kit's path.

    Both run from bytecode: gtfs-kit's wheel was compiled when pip installed it, and an
    editable install of gradient is compiled here first (``PYTHONDONTWRITEBYTECODE``
    would otherwise make every run compile gradient's modules again, as no installed
    wheel does).
    """
    import compileall

    import gradient
    from gradient import datasets

    compileall.compile_dir(Path(gradient.__file__).parent, quiet=1)

    path = datasets.get_path("hart_gtfs")
    out = Path(tempfile.mkdtemp(prefix="bench_process_"))
    run = [
        sys.executable,
        "-m",
        "gradient",
        "run",
        "--gtfs",
        str(path),
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
    ]
    kit = [sys.executable, "-c", GTFS_KIT, str(path)]
    imports = [sys.executable, "-c", "import gradient.cli"]

    def timed(cmd: list[str]) -> float:
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        return time.perf_counter() - start

    timed(run), timed(kit)  # warm the file cache for both
    ours = [timed(run)]
    kits = []
    for _ in range(repeat):  # in turn, so that a shared machine's drift falls on both alike
        kits.append(timed(kit))
        ours.append(timed(run))
    pairs = [k / ((a + b) / 2) for k, a, b in zip(kits, ours, ours[1:])]  # each gtfs-kit run against the two beside it
    return {
        "run": min(ours),
        "gtfs_kit": min(kits),
        "pair_ratio": statistics.median(pairs),
        "pair_low": min(pairs),
        "pair_high": max(pairs),
        "start": best(lambda: timed(imports), repeat),
    }


def child(kind: str, path: Path) -> dict:
    """Run one measurement in a subprocess; returns its seconds and peak RSS."""
    code = (
        "import json, sys, time, warnings; warnings.simplefilter('ignore');"
        f"sys.path.insert(0, {str(HERE)!r}); import bench_feed as b; from pathlib import Path;"
        "import pyarrow.csv; import gradient.sources.gtfs;"
        f"t = time.perf_counter(); n = b.{kind}(Path({str(path)!r}));"
        "print(json.dumps({'seconds': time.perf_counter() - t, 'rows': n}))"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=os.environ)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{kind} on {path} failed with status {proc.returncode}")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_gb"] = usage.ru_maxrss / 1024**2  # ru_maxrss is in KiB on Linux
    return result


def scaling(sizes: list[int], feeds_dir: Path) -> list[dict]:
    """The scaling curve.

    Run before anything big is loaded here: a child's peak RSS counts the memory of the
    process it was started from.
    """
    rows = []
    for copies in sizes:
        path = feeds_dir / f"hart_x{copies}"
        if not (path / "stop_times.txt").exists():
            subprocess.run(
                [sys.executable, str(HERE / "make_feed.py"), "--copies", str(copies), "--out", str(path)], check=True
            )
        f = child("floor", path)
        s = child("patterns_stage", path)
        rows.append(
            {
                "copies": copies,
                "rows": s["rows"],
                "floor_s": f["seconds"],
                "floor_gb": f["peak_gb"],
                "stage_s": s["seconds"],
                "stage_gb": s["peak_gb"],
            }
        )
        r = rows[-1]
        print(
            f"{copies:4d}x {r['rows'] / 1e6:7.2f} M stop times | floor {r['floor_s']:6.2f} s {r['floor_gb']:5.2f} GB"
            f" | feed->patterns {r['stage_s']:6.2f} s {r['stage_gb']:5.2f} GB"
            f" | {r['stage_s'] / r['floor_s']:4.1f}x floor | {r['stage_s'] / r['rows'] * 1e6:5.2f} s per M",
            flush=True,
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2, help="timings per HART measurement; the fastest is kept")
    parser.add_argument(
        "--scale",
        type=int,
        nargs="*",
        default=[],
        metavar="COPIES",
        help="copies of HART for the scaling curve, e.g. 1 10 30 60 (default none)",
    )
    parser.add_argument("--feeds-dir", default="/tmp/gradient_feeds", help="where synthetic feeds go")
    parser.add_argument("--skip-hart", action="store_true", help="only the scaling curve")
    parser.add_argument("--skip-processes", action="store_true", help="no whole-process timings")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}", flush=True)
    if args.scale:
        rows = scaling(args.scale, Path(args.feeds_dir))
        first = rows[0]
        for r in rows[1:]:
            growth = (r["stage_s"] / first["stage_s"]) / (r["rows"] / first["rows"])
            print(f"  {r['copies']}x vs {first['copies']}x: time per stop time {growth:.2f}x")
    if not args.skip_processes:
        p = processes(args.repeat)
        print(
            f"whole processes on HART, fastest of {args.repeat} (gtfs-kit's) and {args.repeat + 1} (gradient's), "
            "run in turn:"
        )
        print(f"  python -c 'import gradient.cli'           {p['start']:6.2f} s")
        print(f"  gradient run --maps 0 (tracts, CSVs)       {p['run']:6.2f} s")
        print(
            f"  gtfs-kit read + patterns + distances       {p['gtfs_kit']:6.2f} s  "
            f"({p['gtfs_kit'] / p['run']:.1f}x the whole gradient run)"
        )
        print(
            f"  gtfs-kit / gradient, run by run: median {p['pair_ratio']:.1f}x "
            f"(from {p['pair_low']:.1f}x to {p['pair_high']:.1f}x)"
        )
    if not args.skip_hart:
        t = hart(args.repeat)
        print(f"HART, fastest of {args.repeat}:")
        print(f"  floor: pyarrow parses stop_times.txt     {t['floor']:6.2f} s")
        print(f"  feed -> stop patterns (read + patterns)  {t['stage']:6.2f} s  ({t['stage'] / t['floor']:.1f}x floor)")
        print(
            f"  feed -> patterns.csv (whole pipeline)    {t['pipeline']:6.2f} s  "
            f"({t['pipeline'] / t['floor']:.1f}x floor)"
        )
        print(
            f"  gtfs-kit patterns + distances            {t['gtfs_kit']:6.2f} s  "
            f"({t['gtfs_kit'] / t['pipeline']:.1f}x the whole pipeline, {t['gtfs_kit'] / t['stage']:.1f}x the "
            f"feed -> stop patterns stage; gtfs-kit's own reading adds {t['gtfs_kit_read']:.2f} s)"
        )


if __name__ == "__main__":
    main()
