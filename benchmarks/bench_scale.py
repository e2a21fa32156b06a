r"""Benchmark: GTFS feeds of every size, as wall time, CPU time and peak memory against the parse floor.

Run from the project root:

    PYTHONPATH=src .venv/bin/python benchmarks/bench_scale.py --copies 1 4 16 60
    PYTHONPATH=src .venv/bin/python benchmarks/bench_scale.py --copies --london 31 --stages
    PYTHONPATH=src .venv/bin/python benchmarks/bench_scale.py --copies --feed my_region.zip \
        --areas msoas.topojson --le le.xlsx --le-format ons-msoa

For each feed (``--copies``: copies of the bundled HART feed made by ``make_feed.py`` under
``--feeds-dir`` when missing; ``--london TRIPS``: a regional feed of London's bus patterns
each run ``TRIPS`` times a day, made by ``make_feed.py --london``, 31 giving Greater
Manchester's 1.7 million stop times, run against England's MSOAs and ONS's 2009-2013 life
expectancy of men (``--london 1 31``: the same network with 55,000 and 1.7 million stop
times, which shows what a run's time owes to the network rather than to the stop times;
with ``--routes 404`` and ``--london 55``, Greater Manchester's 404 routes and its size);
``--cities N``: a national feed, N copies of the last ``--london`` feed (every route) centred on
England's large cities, 8 giving 13.5 million stop times on 5,792 routes, against the same
areas; ``--feed``: any GTFS zip or folder) it runs, each in a fresh
process so that its peak resident memory can be read (``os.wait4``; imports included):

- *floor*: pyarrow parsing ``stop_times.txt`` (every column, multi-threaded, into buffers from
  ``malloc`` as gradient's parses use), nothing else;
- *patterns*: the feed to stop patterns with distances and minutes, as ``gradient run``
  reads it (:func:`gradient.sources.gtfs.read_patterns`, or ``read_feed`` +
  ``stop_patterns`` in versions without it);
- *run*: ``python -m gradient run --maps 0`` against the bundled Hillsborough tracts and
  USALEEP (or ``--areas``/``--le``/``--le-format``), CSVs written;
- *gtfs-kit*: gtfs-kit's path to patterns with distances (``read_feed``,
  ``name_stop_patterns``, ``append_dist_to_stop_times``), for feeds of at most
  ``--gtfs-kit-max`` million stop times (it takes minutes and many GB beyond).

Each line gives seconds of wall time, seconds of CPU (user + system, of the whole process
for *run* and *gtfs-kit*, of the measured call for the others), peak GB and the wall time
as a multiple of the floor. ``--hot`` profiles the patterns stage on the last feed and
prints its hot spots. ``--stages`` runs ``gradient run`` once more per feed, in a fresh
process, and prints the wall time of each of its stages (the feed, the areas, the
assignment, the doubtful areas, the stop table, the claims, the pattern table, the
stretches, the files) and of the rest (start-up, imports and the steps in between).
``--again`` adds *again*: ``gradient run`` twice in one fresh process, the second run timed
(its imports and first calls paid, as a notebook's next run; CPU of that run alone). Run
one benchmark at a time: the machine's other load shows in the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = Path(os.environ.get("GRADIENT_DATA", ROOT / "data" / "raw"))


def floor(path: str | Path) -> int:
    """Parse ``stop_times.txt`` with pyarrow, as fast as it goes; returns its rows.

    The buffers come from ``malloc`` (pyarrow's system pool), as gradient's own parses' do: on a
    machine where the fresh memory of pyarrow's default pool is slow (``benchmarks/README.md``,
    the fourth pass), a floor parsed with it measures the machine more than the parse.
    """
    import io
    import zipfile

    import pyarrow as pa
    import pyarrow.csv as pacsv

    pool = pa.system_memory_pool()
    p = Path(path)
    if p.is_file():
        with zipfile.ZipFile(p) as zf:
            name = next(n for n in zf.namelist() if n.rsplit("/", 1)[-1] == "stop_times.txt")
            return pacsv.read_csv(io.BytesIO(zf.read(name)), memory_pool=pool).num_rows
    return pacsv.read_csv(p / "stop_times.txt", memory_pool=pool).num_rows


def patterns(path: str) -> int:
    """The feed to stop patterns, as ``gradient run`` reads it; returns the patterns."""
    from gradient.sources import gtfs

    if hasattr(gtfs, "read_patterns"):  # streamed (issue 26)
        return len(gtfs.read_patterns(path)[0])
    return len(gtfs.stop_patterns(gtfs.read_feed(path), path=path)[0])


CHILD = """
import json, resource, sys, time, warnings
warnings.simplefilter("ignore")
sys.path.insert(0, {here!r})
import bench_scale, pyarrow.csv, gradient.sources.gtfs
wall, cpu = time.perf_counter(), time.process_time()
n = getattr(bench_scale, {kind!r})({path!r})
print(json.dumps({{"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu, "n": n}}))
"""

GTFS_KIT = """
import sys, warnings
warnings.simplefilter("ignore")
import gtfs_kit as gk
feed = gk.read_feed(sys.argv[1], dist_units="km")
gk.name_stop_patterns(feed)
gk.append_dist_to_stop_times(feed)
"""


STAGES = """
import json, sys, time, warnings
warnings.simplefilter("ignore")
import gradient.cli, gradient.output, gradient.pipeline
import gradient.assign.catchments, gradient.areas.doubt, gradient.stats.claims, gradient.stats.stretches
import gradient.story.tables
spent = {{}}

def timing(module, name, label):
    f = getattr(module, name)

    def timed(*a, **k):
        start = time.perf_counter()
        try:
            return f(*a, **k)
        finally:
            spent[label] = spent.get(label, 0.0) + time.perf_counter() - start

    setattr(module, name, timed)

for module, name, label in [
    (gradient.cli, "_read_source", "feed"),
    (gradient.cli, "_load_areas", "areas"),
    (gradient.assign.catchments, "assign", "assignment"),
    (gradient.areas.doubt, "doubtful_areas", "doubt"),
    (gradient.story.tables, "stop_table", "stop table"),
    (gradient.stats.claims, "build", "claims"),
    (gradient.story.tables, "pattern_table", "pattern table"),
    (gradient.stats.stretches, "stretches", "stretches"),
    (gradient.output, "write_outputs", "files"),
]:
    timing(module, name, label)
code = gradient.cli.main({argv!r})
print(json.dumps(spent))
sys.exit(code)
"""


AGAIN = """
import contextlib, io, json, shutil, sys, time, warnings
warnings.simplefilter("ignore")
import gradient.cli
argv = {argv!r}
out = argv[argv.index("--out") + 1]
for _ in range(2):  # the second run's time: imports and first calls paid, as a notebook's next run
    shutil.rmtree(out, ignore_errors=True)
    wall, cpu = time.perf_counter(), time.process_time()
    with contextlib.redirect_stdout(io.StringIO()):
        code = gradient.cli.main(argv)
    if code:
        sys.exit(code)
print(json.dumps({{"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}}))
"""


def again(cmd: list[str]) -> dict:
    """``gradient run`` (``cmd`` after its ``-m gradient``) twice in one fresh process: the second run."""
    return timed([sys.executable, "-c", AGAIN.format(argv=cmd[3:])])


def stages(cmd: list[str]) -> dict:
    """``gradient run`` (``cmd`` after its ``-m gradient``) in a fresh process, each stage timed."""
    r = timed([sys.executable, "-c", STAGES.format(argv=cmd[3:])])
    known = {k: v for k, v in r.items() if k not in ("wall", "cpu", "sys", "gb")}
    return {**known, "start-up, imports, rest": r["wall"] - sum(known.values()), "whole": r["wall"]}


def child(kind: str, path: Path) -> dict:
    """One in-process measurement in a fresh process (its peak RSS counts its imports)."""
    return timed([sys.executable, "-c", CHILD.format(here=str(HERE), kind=kind, path=str(path))])


def timed(cmd: list[str]) -> dict:
    """``cmd`` as a child whose resource usage is read when it ends."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=os.environ)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code:
        raise SystemExit(f"{' '.join(map(str, cmd[:5]))} ... failed with status {code}")
    cpu, sys_cpu, gb = usage.ru_utime + usage.ru_stime, usage.ru_stime, usage.ru_maxrss / 1024**2
    result = {"wall": wall, "cpu": cpu, "sys": sys_cpu, "gb": gb}
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if lines:  # the child's own timing of the measured call, start-up and imports left out
        result.update(json.loads(lines[-1]))
    return result


ENGLAND = [
    "--areas",
    str(DATA / "england" / "msoa2011_bgc.topojson"),
    "--le",
    str(DATA / "england" / "ons_le_hle_msoa_england_2009_2013.xls"),
    "--le-format",
    "ons-msoa",
    "--sex",
    "male",
]
"""The regional feed's areas: England's MSOAs and ONS's life expectancy of men, 2009-2013."""


def run_command(path: Path, args: argparse.Namespace, out: Path, areas: list[str] | None = None) -> list[str]:
    if areas is None:
        le = args.le or str(DATA / "usa" / "US_A.CSV")
        areas = [
            "--areas",
            args.areas or str(DATA / "tampa" / "hillsborough_tracts_2010.geojson"),
            "--le",
            le,
            "--le-format",
            args.le_format or ("usaleep" if args.le is None else "auto"),
        ]
    cmd = [sys.executable, "-m", "gradient", "run", "--gtfs", str(path), *areas]
    return cmd + ["--maps", "0", "--out", str(out)]


def feeds(args: argparse.Namespace) -> list[tuple[str, Path, list[str] | None]]:
    """Each feed's name, path, and its areas' options for the run (None: the command line's)."""
    found: list[tuple[str, Path, list[str] | None]] = []
    for copies in args.copies:
        path = Path(args.feeds_dir) / f"hart_x{copies}"
        if not (path / "stop_times.txt").exists():
            subprocess.run(
                [sys.executable, str(HERE / "make_feed.py"), "--copies", str(copies), "--out", str(path)], check=True
            )
        found.append((f"HART x{copies}", path, None))
    for trips in args.london:
        tail, kept = (f"_r{args.routes}", ["--routes", str(args.routes)]) if args.routes else ("", [])
        path = Path(args.feeds_dir) / f"london_x{trips}{tail}"
        if not (path / "stop_times.txt").exists():
            subprocess.run(
                [sys.executable, str(HERE / "make_feed.py"), "--london", str(trips), *kept, "--out", str(path)],
                check=True,
            )
        found.append((f"London x{trips}{tail.replace('_', ' ')}", path, ENGLAND))
    if args.cities:
        trips = args.london[-1] if args.london else 31
        path = Path(args.feeds_dir) / f"england_x{args.cities}"
        if not (path / "stop_times.txt").exists():
            make = [str(HERE / "make_feed.py"), "--london", str(trips), "--cities", str(args.cities)]
            subprocess.run([sys.executable, *make, "--out", str(path)], check=True)
        found.append((f"England x{args.cities}", path, ENGLAND))
    found += [(Path(f).name, Path(f), None) for f in args.feed]
    return found


def hot(path: Path, n: int = 12) -> None:
    """The patterns stage on ``path`` under cProfile: the functions it spends most time in."""
    code = (
        "import cProfile, pstats, sys, warnings; warnings.simplefilter('ignore');"
        f"sys.path.insert(0, {str(HERE)!r}); import bench_scale;"
        "cProfile.runctx('bench_scale.patterns(sys.argv[2])', globals(), globals(), sys.argv[1]);"
        f"pstats.Stats(sys.argv[1]).sort_stats('tottime').print_stats({n})"
    )
    with tempfile.NamedTemporaryFile(suffix=".prof") as f:
        out = subprocess.run(
            [sys.executable, "-c", code, f.name, str(path)], capture_output=True, text=True, check=True
        ).stdout
    print(f"hot spots of the patterns stage on {path} (cProfile, by own time):")
    keep = False
    for line in out.splitlines():
        keep = keep or line.strip().startswith("ncalls")
        if keep and line.strip():
            print("  " + line.strip()[:150])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--copies", type=int, nargs="*", default=[1, 4, 16, 60], help="copies of HART (default 1 4 16 60)"
    )
    parser.add_argument("--feed", nargs="*", default=[], help="other GTFS zips or folders")
    parser.add_argument("--feeds-dir", default="/tmp/gradient_feeds", help="where the synthetic feeds go")
    parser.add_argument("--areas", help="areas for the run (default the bundled Hillsborough tracts)")
    parser.add_argument("--le", help="life expectancy for the run (default the bundled USALEEP)")
    parser.add_argument("--le-format", help="its format (default usaleep with the defaults, else auto)")
    parser.add_argument("--gtfs-kit-max", type=float, default=7.5, help="gtfs-kit up to this many M stop times")
    parser.add_argument("--skip", nargs="*", default=[], choices=["run", "gtfs-kit"], help="stages to leave out")
    parser.add_argument(
        "--london",
        type=int,
        nargs="*",
        default=[],
        metavar="TRIPS",
        help="regional feeds: London's patterns, TRIPS a day",
    )
    parser.add_argument("--routes", type=int, metavar="N", help="the regional feeds keep N of London's routes")
    parser.add_argument("--cities", type=int, metavar="N", help="a national feed: the regional one on N English cities")
    parser.add_argument("--hot", action="store_true", help="profile the patterns stage on the last feed")
    parser.add_argument("--stages", action="store_true", help="time each stage of every feed's run")
    parser.add_argument("--again", action="store_true", help="time a second run in the run's process")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}; load {os.getloadavg()[0]:.1f}")
    header = (
        f"{'feed':>15} {'M stop times':>12} | {'stage':<9} {'wall s':>7} {'CPU s':>7} {'sys s':>6} {'peak GB':>8}"
        f" {'x floor':>8}"
    )
    print(header)
    out = Path(tempfile.mkdtemp(prefix="bench_scale_"))

    def line(name: str, rows: float, stage: str, r: dict, floor: dict) -> None:
        print(
            f"{name:>15} {rows:12.2f} | {stage:<9} {r['wall']:7.2f} {r['cpu']:7.2f} {r['sys']:6.2f} {r['gb']:8.2f}"
            f" {r['wall'] / floor['wall']:8.1f}",
            flush=True,
        )

    split = {}
    for name, path, areas in feeds(args):
        f = child("floor", path)
        rows = f["n"] / 1e6

        line(name, rows, "floor", f, f)
        line(name, rows, "patterns", child("patterns", path), f)
        cmd = run_command(path, args, out / name.replace(" ", "_"), areas)
        if "run" not in args.skip:
            line(name, rows, "run", timed(cmd), f)
        if args.again:
            line(name, rows, "again", again(cmd), f)
        if args.stages:
            split[name] = stages(cmd)
        if "gtfs-kit" not in args.skip and rows <= args.gtfs_kit_max:
            line(name, rows, "gtfs-kit", timed([sys.executable, "-c", GTFS_KIT, str(path)]), f)
    print(
        "wall and CPU: of the measured call for floor and patterns (in a fresh process, imports not counted), "
        "of the whole process for run and gtfs-kit; sys: the system part of the whole process's CPU (faulting in "
        "fresh memory shows here: see 'this machine's memory' in benchmarks/README.md); peak: the whole "
        "process; x floor: wall over the floor's"
    )
    if split:
        print("\nstages of each run, wall s (one more run, in a fresh process):")
        names = list(split)
        print(f"{'':>24}" + "".join(f"{n:>16}" for n in names))
        for stage in dict.fromkeys(k for n in names for k in split[n]):
            print(f"{stage:>24}" + "".join(f"{split[n].get(stage, float('nan')):16.2f}" for n in names))
    if args.hot:
        hot(feeds(args)[-1][1])


if __name__ == "__main__":
    main()
