"""The ``gradient`` command line (see ``docs/CONTRACT.md``).

Exit status 0 on success; 2 with one line naming the file and the problem on bad
input (no traceback); 1 on an unexpected failure. ``gradient batch`` reports each
failed feed on one line naming it and carries on with the others; it exits 0 if every
feed succeeded, 3 if some failed (the others' outputs are written), 2 if all failed.
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
EXIT_SOME_FEEDS_FAILED = 3


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
    src.add_argument("--tfl-sequences", metavar="FILE", help="TfL bus-sequences file (instead of --gtfs)")
    run.add_argument("--tfl-route-lines", metavar="FILE", help="TfL route lines (GeoJSON) for --tfl-sequences")
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
    run.add_argument("--method", choices=["point", "buffer", "network"], default="point",
                     help="stop to area assignment")
    run.add_argument("--radius-m", type=float, default=200.0, metavar="M", help="buffer radius (default 200)")
    run.add_argument("--network", nargs="+", metavar="FILE",
                     help="street network(s), osmnx GraphML or OSM XML: walking catchments for --method network, "
                          "street-following lines for patterns without route geometry")
    run.add_argument("--walk-m", type=float, default=400.0, metavar="W",
                     help="walk along the streets for --method network (default 400)")
    run.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    run.add_argument("--correction", choices=["none", "holm", "fdr_bh"], default="none",
                     help="multiple-comparison correction across a pattern's stop-to-stop tests")
    run.add_argument("--stretch-k", type=int, default=5, metavar="K",
                     help="longest stretch (stops) searched for the steepest fall (default 5)")
    run.add_argument("--route", nargs="+", metavar="NAME", help="route short names or ids (default all)")
    run.add_argument("--all-patterns", action="store_true", help="every distinct pattern, not only the main ones")
    run.add_argument("--maps", type=int, default=5, metavar="N", help="maps for the N steepest patterns (default 5)")
    run.add_argument("--out", required=True, metavar="DIR", help="output folder")

    batch = sub.add_parser("batch", help="run many GTFS feeds on dask.distributed, one task per feed")
    batch.add_argument("feeds", nargs="+", metavar="FEED", help="GTFS zips or folders")
    _share_arguments(run, batch, skip={"help", "gtfs", "tfl_sequences", "tfl_route_lines", "maps"})
    batch.add_argument("--maps", type=int, default=0, metavar="N", help="maps per feed (default 0)")
    batch.add_argument("--scheduler", metavar="ADDRESS", help="a running dask scheduler (default: a local cluster)")
    batch.add_argument("--workers", type=int, default=2, metavar="N", help="local worker processes (default 2)")
    return parser


def _share_arguments(source: argparse.ArgumentParser, target: argparse.ArgumentParser, skip: set[str]) -> None:
    """Give ``target`` the very argument definitions of ``source`` (not copies), but ``skip``."""
    groups: dict[int, argparse._MutuallyExclusiveGroup] = {}
    group_of = {id(a): g for g in source._mutually_exclusive_groups for a in g._group_actions}
    for action in source._actions:
        if action.dest in skip:
            continue
        group = group_of.get(id(action))
        if group is None:
            target._add_action(action)
        else:
            if id(group) not in groups:
                groups[id(group)] = target.add_mutually_exclusive_group(required=group.required)
            groups[id(group)]._add_action(action)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"gradient: warning: {message}", file=sys.stderr)


def _labels_for(args: argparse.Namespace, le_areas):
    from .pipeline import labels_from

    labels = labels_from(le_areas, Path(args.gtfs or args.tfl_sequences).name)
    labels.le_source = args.le_source or labels.le_source
    labels.period = args.le_period or labels.period
    return labels


def _run(args: argparse.Namespace) -> int:
    from . import pipeline

    start = time.perf_counter()
    le_areas = _load_areas(args)
    network = None
    if args.network:
        from .networks import load_network

        network = load_network(args.network)
    elif args.method == "network":
        from .errors import InputError

        raise InputError("--method network needs a street network: add --network FILE (GraphML or OSM XML)")
    options = dict(
        network=network,
        walk_m=args.walk_m,
        routes=args.route,
        labels=_labels_for(args, le_areas),
        method=args.method,
        radius_m=args.radius_m,
        alpha=args.alpha,
        correction=args.correction,
        k=args.stretch_k,
    )
    if args.gtfs:
        result = pipeline.run_gtfs(args.gtfs, le_areas, all_patterns=args.all_patterns, **options)
    else:
        result = pipeline.run_tfl(args.tfl_sequences, le_areas, route_lines=args.tfl_route_lines, **options)
    written = pipeline.write_outputs(result, args.out, maps=args.maps, areas=le_areas)
    _summary(result, written, time.perf_counter() - start)
    return 0


def _load_areas(args: argparse.Namespace):
    from . import areas

    return areas.load_areas(
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


def _batch(args: argparse.Namespace) -> int:
    from . import batch

    start = time.perf_counter()
    outcomes = batch.run_batch(
        args.feeds,
        _load_areas(args),
        args.out,
        scheduler=args.scheduler,
        n_workers=args.workers,
        maps=args.maps,
        progress=True,
        routes=args.route,
        all_patterns=args.all_patterns,
        method=args.method,
        radius_m=args.radius_m,
        alpha=args.alpha,
        correction=args.correction,
        k=args.stretch_k,
        le_source=args.le_source,
        period=args.le_period,
    )
    for o in outcomes:
        for message in o.warnings:
            print(f"gradient: warning: {o.feed}: {message}", file=sys.stderr)
        if o.ok:
            print(f"{o.feed}: {o.n_patterns} patterns -> {o.out_dir}/")
        else:
            print(f"gradient: error: {o.error}", file=sys.stderr)
    failed = sum(not o.ok for o in outcomes)
    print(f"{len(outcomes) - failed} of {len(outcomes)} feeds done in {time.perf_counter() - start:.1f} s")
    if failed == 0:
        return 0
    return EXIT_BAD_INPUT if failed == len(outcomes) else EXIT_SOME_FEEDS_FAILED


def _summary(result, written, seconds: float, top: int = 5) -> None:
    p = result.patterns
    n_routes = p["route_name"].nunique()
    print(f"{len(p)} patterns on {n_routes} routes, {len(result.stops)} stops on them, in {seconds:.1f} s")
    print(f"widest ranges of life expectancy ({result.labels.sex or 'all'}, {result.labels.period or 'period n/a'}):")
    for _, row in p[p["n_stops_le"] > 0].head(top).iterrows():
        print(
            f"  route {row['route_name']} ({row['first_stop']} to {row['last_stop']}): range "
            f"{row['le_range']:.1f} years over {row['n_stops_le']} of {row['n_stops']} stops with a value"
        )
        if "headline" in row:
            print(f"    {row['headline']}")
    for kind, paths in written.items():
        if paths:
            print(f"{kind}: {paths[0].parent}/ ({len(paths)} files)")


DEMO_ROUTES = ("25",)
"""London routes always mapped by the demo besides the steepest: 25, Oxford Circus to Ilford."""


def _demo(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from . import areas, datasets, pipeline

    out = Path(args.out)
    start = time.perf_counter()
    steps = tqdm(total=6, desc="demo", unit="step", file=sys.stderr)
    steps.set_postfix_str("England's MSOA life expectancy")
    msoas = areas.load_areas(datasets.get_path("msoa_boundaries"), datasets.get_path("ons_msoa_le"), "ons-msoa")
    steps.update()
    steps.set_postfix_str("London's bus network")
    london = pipeline.run_tfl(
        datasets.get_path("tfl_sequences"), msoas, route_lines=datasets.get_path("tfl_route_lines"),
        labels=pipeline.labels_from(msoas, "TfL bus sequences, July 2018"),
    )
    steps.update()
    steps.set_postfix_str("London maps")
    also = [pid for pid in london.patterns["pattern_id"]
            if pid.split("-")[0] in DEMO_ROUTES and not pid.split("-")[1] in ("2", "3")]
    london_files = pipeline.write_outputs(london, out / "london", maps=5, areas=msoas, also=also, progress=True)
    london_time = time.perf_counter() - start
    steps.update()
    steps.set_postfix_str("Tampa's census tracts")
    tracts = areas.load_areas(datasets.get_path("hillsborough_tracts"), datasets.get_path("usaleep"), "usaleep")
    steps.update()
    steps.set_postfix_str("Tampa's HART network")
    tampa = pipeline.run_gtfs(datasets.get_path("hart_gtfs"), tracts, labels=pipeline.labels_from(tracts, "HART GTFS 2018"))
    steps.update()
    tampa_files = pipeline.write_outputs(tampa, out / "tampa", maps=5, areas=tracts, progress=True)
    steps.update()
    steps.close()
    print("London (TfL bus sequences, July 2018) against ONS MSOA life expectancy 2016-2020")
    _summary(london, london_files, london_time)
    for pid in also:
        print(f"  route 25: {london.pattern(pid)['headline']}")
    print()
    print("Tampa (HART GTFS 2018) against CDC/NCHS USALEEP 2010-2015 census tract life expectancy")
    _summary(tampa, tampa_files, time.perf_counter() - start - london_time)
    print(f"\nall done in {time.perf_counter() - start:.1f} s; open {out}/london/maps/ in a browser")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    from .errors import GradientError

    args = _parser().parse_args(argv)
    warnings.showwarning = _show_warning
    try:
        if args.command == "batch":
            return _batch(args)
        return _demo(args) if args.command == "demo" else _run(args)
    except GradientError as exc:
        message = " ".join(str(exc).split())
        print(f"gradient: error: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:  # e.g. an output folder that cannot be written
        where = exc.filename or "?"
        print(f"gradient: error: {where}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
