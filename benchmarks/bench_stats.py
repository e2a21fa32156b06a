"""Benchmark: the statistics and ranking of a whole network, once the data is loaded.

Run from the project root:  .venv/bin/python benchmarks/bench_stats.py

Loads HART and the tracts, then times assigning stops and computing every statistic and
rank of every main pattern (85) and of every distinct pattern (118, with Holm's
correction), and prints them beside the time to find the feed's stop patterns, measured in
this one run (absolute times on a shared machine are noise; the ratio is the figure).
"""

from __future__ import annotations

import platform
import time
import warnings

from gradient import Options, areas, datasets, pipeline
from gradient.sources import gtfs


def main() -> None:
    warnings.simplefilter("ignore")
    tracts = areas.load_areas(datasets.get_path("hillsborough_tracts"), datasets.get_path("usaleep"), "usaleep")
    feed = gtfs.read_feed(datasets.get_path("hart_gtfs"))
    t0 = time.perf_counter()
    patterns, ps = gtfs.stop_patterns(feed)
    t1 = time.perf_counter()
    main_res = pipeline.run_patterns(patterns, ps, tracts)
    t2 = time.perf_counter()
    all_p, all_ps = gtfs.stop_patterns(feed, all_patterns=True)
    t3 = time.perf_counter()
    pipeline.run_patterns(all_p, all_ps, tracts, Options(correction="holm"))
    t4 = time.perf_counter()
    assert main_res.patterns["headline"].notna().all()
    print(f"machine: {platform.machine()}, python {platform.python_version()}")
    print(f"stop patterns of the feed:                 {t1 - t0:6.2f} s")
    print(
        f"assign + statistics + ranking, {len(patterns):4d} patterns: {t2 - t1:6.2f} s "
        f"({(t2 - t1) / len(patterns) * 1000:.1f} ms a pattern)"
    )
    print(f"assign + statistics + ranking, {len(all_p):4d} patterns: {t4 - t3:6.2f} s (all distinct patterns, Holm)")
    print(f"ranking the main patterns takes {(t2 - t1) / (t1 - t0):.2f} x the time to find them")


if __name__ == "__main__":
    main()
