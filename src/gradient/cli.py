"""The ``gradient`` command line (see ``docs/CONTRACT.md``).

Exit status 0 on success; 2 with one line naming the file and the problem on bad
input (no traceback); 1 on an unexpected failure.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path
from typing import Sequence

from . import __version__

EXIT_BAD_INPUT = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gradient",
        description="Life expectancy along public transport routes, stop by stop.",
    )
    parser.add_argument("--version", action="version", version=f"gradient {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run the bundled real data end to end, offline")
    demo.add_argument("--out", default="data/processed/demo", help="output folder (default %(default)s)")

    run = sub.add_parser("run", help="run a feed against a life expectancy table")
    src = run.add_mutually_exclusive_group(required=True)
    src.add_argument("--gtfs", metavar="FEED", help="GTFS zip or folder")
    run.add_argument("--areas", required=True, metavar="BOUNDARIES", help="boundary file GeoPandas reads")
    run.add_argument("--le", required=True, metavar="TABLE", help="life expectancy table")
    run.add_argument("--le-format", required=True, choices=["usaleep", "ons-msoa", "csv"], help="layout of TABLE")
    run.add_argument("--area-id", metavar="COL", help="id column in BOUNDARIES")
    run.add_argument("--areas-crs", metavar="CRS", help="CRS of a boundary file that declares none")
    run.add_argument("--le-id", metavar="COL", help="id column in TABLE (csv)")
    run.add_argument("--le-col", metavar="COL", help="life expectancy column in TABLE (csv)")
    err = run.add_mutually_exclusive_group()
    err.add_argument("--le-se-col", metavar="COL", help="standard error column in TABLE (csv)")
    err.add_argument("--le-ci-cols", nargs=2, metavar=("LOW", "HIGH"), help="95%% limit columns (csv)")
    run.add_argument("--le-source", default="", help="name of the life expectancy source for maps (csv)")
    run.add_argument("--le-period", default="", help="years the estimates cover, for maps (csv)")
    run.add_argument("--sex", choices=["persons", "male", "female"], default="persons", help="for ons-msoa")
    run.add_argument("--method", choices=["point", "buffer"], default="point", help="stop to area assignment")
    run.add_argument("--radius-m", type=float, default=200.0, metavar="M", help="buffer radius (default 200)")
    run.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    run.add_argument("--correction", choices=["none", "holm", "fdr_bh"], default="none",
                     help="multiple-comparison correction across a pattern's stop-to-stop tests")
    run.add_argument("--stretch-k", type=int, default=5, metavar="K",
                     help="longest stretch (stops) searched for the steepest fall (default 5)")
    run.add_argument("--route", nargs="+", metavar="NAME", help="route short names or ids (default all)")
    run.add_argument("--all-patterns", action="store_true", help="every distinct pattern, not only the main ones")
    run.add_argument("--maps", type=int, default=5, metavar="N", help="maps for the N steepest patterns (default 5)")
    run.add_argument("--out", required=True, metavar="DIR", help="output folder")
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"gradient: warning: {message}", file=sys.stderr)


def _labels_for(args: argparse.Namespace, le_areas):
    from .pipeline import labels_from

    labels = labels_from(le_areas, Path(args.gtfs).name)
    labels.le_source = args.le_source or labels.le_source
    labels.period = args.le_period or labels.period
    return labels


def _run(args: argparse.Namespace) -> int:
    from . import areas, pipeline

    start = time.perf_counter()
    le_areas = areas.load_areas(
        args.areas,
        args.le,
        args.le_format,
        area_id=args.area_id,
        areas_crs=args.areas_crs,
        le_id=args.le_id,
        le_col=args.le_col,
        le_se_col=args.le_se_col,
        le_ci_cols=tuple(args.le_ci_cols) if args.le_ci_cols else None,
        sex=args.sex,
    )
    result = pipeline.run_gtfs(
        args.gtfs,
        le_areas,
        routes=args.route,
        all_patterns=args.all_patterns,
        labels=_labels_for(args, le_areas),
        method=args.method,
        radius_m=args.radius_m,
        alpha=args.alpha,
        correction=args.correction,
        k=args.stretch_k,
    )
    written = pipeline.write_outputs(result, args.out, maps=args.maps)
    _summary(result, written, time.perf_counter() - start)
    return 0


def _summary(result, written, seconds: float) -> None:
    p = result.patterns
    print(f"{len(p)} patterns, {len(result.stops)} stops on them, in {seconds:.1f} s")
    for _, row in p.head(5).iterrows():
        if row["n_stops_le"] > 0:
            print(
                f"  route {row['route_name']} ({row['first_stop']} to {row['last_stop']}): "
                f"range {row['le_range']:.1f} years over {row['n_stops_le']} stops with a value"
            )
    for kind, paths in written.items():
        if paths:
            print(f"{kind}: {paths[0].parent}/ ({len(paths)} files)")


def _demo(args: argparse.Namespace) -> int:
    from . import areas, datasets, pipeline

    start = time.perf_counter()
    tracts = areas.load_areas(
        datasets.get_path("hillsborough_tracts"), datasets.get_path("usaleep"), "usaleep"
    )
    labels = pipeline.labels_from(tracts, "HART GTFS 2018")
    result = pipeline.run_gtfs(datasets.get_path("hart_gtfs"), tracts, labels=labels)
    written = pipeline.write_outputs(result, args.out, maps=5)
    print("Tampa (HART GTFS 2018) against USALEEP 2010-2015 census tract life expectancy")
    _summary(result, written, time.perf_counter() - start)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    from .errors import GradientError

    args = _parser().parse_args(argv)
    warnings.showwarning = _show_warning
    try:
        return _demo(args) if args.command == "demo" else _run(args)
    except GradientError as exc:
        message = " ".join(str(exc).split())
        print(f"gradient: error: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
