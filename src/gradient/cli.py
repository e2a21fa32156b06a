"""The ``gradient`` command line (see ``docs/CONTRACT.md``).

Exit status 0 on success; 2 with one line naming the file and the problem on bad
input (no traceback); 143 or 130 with one line when stopped by SIGTERM or SIGINT
(nothing half-written is left); 1 on an unexpected failure. ``gradient batch`` reports each
failed feed on one line naming it and carries on with the others; it exits 0 if every
feed succeeded, 3 if some failed (the others' outputs are written), 2 if all failed.

The flags of ``run`` and ``batch`` are made from :class:`gradient.options.Options`
(flag, help, choices and default of each field) and from :data:`AREA_FLAGS`; library
messages name parameters (``radius_m=``) and :func:`cli_message` turns them into flags
with :data:`FLAGS`, the one table that maps the two. Options and paths are checked
before anything heavy is imported or read.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Sequence

from . import __version__, _text
from ._hold import hold
from .errors import AreasError, GradientError, GradientWarning, InputError, Interrupted, OutputError
from .options import Options, option_fields

EXIT_BAD_INPUT = 2
EXIT_SOME_FEEDS_FAILED = 3

AREA_FLAGS: dict[str, tuple[str, dict[str, Any]]] = {
    "boundaries": ("--areas", dict(required=True, metavar="BOUNDARIES", help="boundary file GeoPandas reads")),
    "table": ("--le", dict(required=True, metavar="TABLE", help="life expectancy table")),
    "le_format": ("--le-format", dict(required=True, choices=["usaleep", "ons-msoa", "csv"], help="layout of TABLE")),
    "area_id": ("--area-id", dict(metavar="COL", help="id column in BOUNDARIES")),
    "areas_crs": ("--areas-crs", dict(metavar="CRS", help="CRS of a boundary file that declares none")),
    "le_id": ("--le-id", dict(metavar="COL", help="id column in TABLE (csv)")),
    "le_col": ("--le-col", dict(metavar="COL", help="life expectancy column in TABLE (csv)")),
    "le_se_col": ("--le-se-col", dict(metavar="COL", help="standard error column in TABLE (csv)")),
    "le_ci_cols": ("--le-ci-cols", dict(nargs=2, metavar=("LOW", "HIGH"), help="95%% limit columns (csv)")),
    "le_source": ("--le-source", dict(default="", help="name of the life expectancy source, for credits (csv)")),
    "le_period": ("--le-period", dict(default="", help="years the estimates cover, e.g. 2015-2019 (csv)")),
    "sex": ("--sex", dict(choices=["persons", "male", "female"], default="persons", help="for ons-msoa")),
    "le_encoding": (
        "--le-encoding",
        dict(
            metavar="ENCODING",
            help="encoding of a text TABLE, e.g. cp1252 (default: detected; UTF-8, UTF-16, else Windows-1252)",
        ),
    ),
    "le_pop_col": (
        "--le-pop-col",
        dict(metavar="COL", help="population column in TABLE (csv), to weight catchments by where people live"),
    ),
    "area_name": ("--area-name", dict(metavar="COL", help="column of names readers know in BOUNDARIES")),
    "names": (
        "--names",
        dict(
            metavar="TABLE",
            help="a table of area names (default for ons-msoa: the bundled House of Commons Library MSOA names)",
        ),
    ),
    "names_id": ("--names-id", dict(metavar="COL", help="id column of --names")),
    "names_lang": (
        "--names-lang",
        dict(
            choices=["en", "cy", "both"],
            default="en",
            help="language of the bundled MSOA names (ons-msoa): English, Welsh where there is one, or both",
        ),
    ),
    "names_col": ("--names-col", dict(metavar="COL", help="name column of --names")),
    "population": (
        "--population",
        dict(
            metavar="TABLE",
            help="a table of population by area (default for usaleep: the bundled 2010 census tract populations)",
        ),
    ),
    "population_id": ("--population-id", dict(metavar="COL", help="id column of --population")),
    "population_col": ("--population-col", dict(metavar="COL", help="population column of --population")),
    "context": (
        "--context",
        dict(
            metavar="TABLE",
            help="a second small-area measure beside life expectancy (e.g. England's IMD 2019 score by MSOA)",
        ),
    ),
    "context_id": ("--context-id", dict(metavar="COL", help="id column of --context")),
    "context_col": ("--context-col", dict(metavar="COL", help="value column of --context")),
    "place": ("--place", dict(metavar="TEXT", default="", help="where the network is, for sentences, e.g. London")),
    "feed_name": (
        "--feed-name",
        dict(
            metavar="TEXT",
            default="",
            help="the feed as readers know it, with its date, for credits (default: the feed's own)",
        ),
    ),
    "byline": ("--byline", dict(metavar="TEXT", default="", help="a byline for maps and charts")),
    "context_name": (
        "--context-name",
        dict(
            metavar="TEXT",
            default="",
            help="what the measure is, with its units and direction, for legends and sentences",
        ),
    ),
}
"""Flags of the life expectancy areas (:func:`gradient.areas.load.load_areas` parameters)."""

SEQ_FLAGS = {
    "--seq-route": ("route_col", "column of the route (default route_id; none: each pattern its own route)"),
    "--seq-pattern": ("pattern_col", "column of the pattern (default pattern_id)"),
    "--seq-order": ("order_col", "column of the order along the pattern (default stop_sequence)"),
    "--seq-stop": ("stop_col", "column of the stop id, empty for a shape point (default stop_id)"),
    "--seq-name": ("stop_name_col", "column of the stop name (default stop_name)"),
    "--seq-lat": ("lat_col", "column of the latitude, WGS84 (default stop_lat)"),
    "--seq-lon": ("lon_col", "column of the longitude, WGS84 (default stop_lon)"),
}
"""Flags naming the columns of ``--sequences``: flag -> (:func:`gradient.read_sequences` parameter, help)."""

FLAGS: dict[str, str] = {
    **{f.name: f.metadata["flag"] for f in option_fields()},
    **{name: flag for name, (flag, _) in AREA_FLAGS.items()},
    "out_dir": "--out",
    "route_lines": "--tfl-route-lines",
    "pattern_id": "--route",
    "lines": "--seq-lines",
    **{param: flag for flag, (param, _) in SEQ_FLAGS.items()},
}
"""Library parameter -> command-line flag: the one place the two vocabularies meet."""

_PARAM = re.compile(r"\b(" + "|".join(sorted(map(re.escape, FLAGS), key=len, reverse=True)) + r")=(?:'([^'\s]*)')?")


def cli_message(exc: BaseException) -> str:
    """An exception as one line of the command line's words (flags, not parameters).

    Examples
    --------
    >>> from gradient.errors import OptionError
    >>> cli_message(OptionError("alpha=5 must be a number between 0 and 1", param="alpha"))
    '--alpha 5 must be a number between 0 and 1'
    >>> cli_message(OptionError("method='network' needs a street network: give network=FILE"))
    '--method network needs a street network: give --network FILE'
    """
    return _PARAM.sub(lambda m: FLAGS[m.group(1)] + " " + (m.group(2) or ""), " ".join(str(exc).split()))


def _add_areas(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("life expectancy by area")
    errors = group.add_mutually_exclusive_group()
    for name, (flag, kwargs) in AREA_FLAGS.items():
        target = errors if name in ("le_se_col", "le_ci_cols") else group
        target.add_argument(flag, dest=name, **kwargs)


def _add_options(parser: argparse.ArgumentParser, command: str) -> None:
    """One flag per :class:`Options` field offered by ``command``, with its default and choices."""
    group = parser.add_argument_group("options")
    for f in option_fields():
        meta = f.metadata
        if command not in meta["commands"]:
            continue
        default = meta.get(f"{command}_default", f.default)
        kwargs: dict = {"dest": f.name, "default": default}
        if meta.get("action"):
            kwargs["action"] = meta["action"]
        else:
            kwargs["type"] = {"float": float, "int": int}.get(f.type, str)
            if meta.get("nargs"):
                kwargs["nargs"] = meta["nargs"]
            if meta.get("choices"):
                kwargs["choices"] = meta["choices"]
            if meta.get("metavar"):
                kwargs["metavar"] = meta["metavar"]
        shown = "" if default in (None, False) else f" (default {default})"
        kwargs["help"] = meta["help"] + shown.replace("%", "%%")
        group.add_argument(meta["flag"], **kwargs)


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
    src.add_argument("--tfl-sequences", metavar="FILE", help="TfL bus-sequences file, any published layout")
    src.add_argument("--sequences", metavar="TABLE", help="any table of stops in order along patterns (CSV or Parquet)")
    run.add_argument("--tfl-route-lines", metavar="FILE", help="TfL route lines (GeoJSON) for --tfl-sequences")
    seq = run.add_argument_group("columns of --sequences (one row per point per pattern)")
    seq.add_argument("--seq-lines", metavar="FILE", help="route lines, with a pattern_id or route_id property")
    for flag, (param, text) in SEQ_FLAGS.items():
        seq.add_argument(flag, dest=param, metavar="COL", help=text)
    _add_areas(run)
    _add_options(run, "run")
    run.add_argument("--out", required=True, metavar="DIR", help="output folder")

    from .fetching import SOURCES

    fetch = sub.add_parser(
        "fetch",
        help="download an official source by name, once, into a cache with its checksum and licence",
        description="Sources: "
        + "; ".join(f"{s.name}{' ' + s.arg if s.arg else ''}: {s.what}" for s in SOURCES.values()).replace("%", "%%"),
    )
    fetch.add_argument("name", choices=list(SOURCES), metavar="NAME", help=", ".join(SOURCES))
    fetch.add_argument("arg", nargs="?", default="", metavar="ARG", help="a feed's URL, a state, a place")
    fetch.add_argument("--cache", metavar="DIR", help="cache folder (default $GRADIENT_CACHE, else data/raw/fetched)")
    fetch.add_argument("--url", metavar="URL", help="the source's whole address, instead of the known one")
    fetch.add_argument("--force", action="store_true", help="download again even if the cache has it")

    batch = sub.add_parser("batch", help="run many GTFS feeds on dask.distributed, one task per feed")
    batch.add_argument("feeds", nargs="+", metavar="FEED", help="GTFS zips or folders")
    _add_areas(batch)
    _add_options(batch, "batch")
    batch.add_argument("--out", required=True, metavar="DIR", help="output folder (one sub-folder per feed)")
    batch.add_argument("--scheduler", metavar="ADDRESS", help="a running dask scheduler (default: a local cluster)")
    batch.add_argument("--workers", type=int, default=2, metavar="N", help="local worker processes (default 2)")
    return parser


def _options(args: argparse.Namespace, command: str) -> Options:
    """The :class:`Options` the flags ask for (checked on the spot)."""
    return Options(**{f.name: getattr(args, f.name) for f in option_fields() if command in f.metadata["commands"]})


def _check_paths(*paths: tuple[str, str | Sequence[str] | None]) -> None:
    """Refuse a missing input file before anything heavy is read (the same words as the readers')."""
    for message, given in paths:
        for p in [given] if isinstance(given, str) else list(given or []):
            if not Path(p).exists():
                raise InputError(message, p)


def _check_outside_out(out: str, *inputs: tuple[str, str | Sequence[str] | None]) -> None:
    """Refuse an input that lives inside the output folder, before anything is read or written.

    A run replaces what it writes in ``--out``: an input there could be overwritten by an
    output, or taken for one. Links are followed (an input that is a link into ``--out``
    is inside it too).
    """
    root = Path(os.path.realpath(out))
    for flag, given in inputs:
        for p in [given] if isinstance(given, str) else list(given or []):
            real = Path(os.path.realpath(p))
            if real == root or root in real.parents:
                raise OutputError(
                    f"{flag} is inside the output folder --out {out}; gradient replaces what it writes there: "
                    "move the input out of it or choose another --out",
                    p,
                )


def _area_inputs(args: argparse.Namespace) -> list[tuple[str, str | Sequence[str] | None]]:
    """The input files of the areas and options, with their flags."""
    return [
        (FLAGS[name], getattr(args, name, None))
        for name in ("boundaries", "table", "names", "population", "context", "network")
    ]


def _check_area_options(args: argparse.Namespace) -> None:
    """Refuse an unknown CRS or encoding before anything is read (the same words as the readers')."""
    import codecs

    from ._extras import require
    from .areas._crs import crs_of

    crs_of(args.areas_crs, "areas_crs")
    # what the run will need that the core does not bring: said first, not after the feed is read
    if getattr(args, "method", None) == "network":
        require("networks", "--method network")
    from .options import Options

    maps = getattr(args, "maps", None)
    maps = Options().maps if maps is None else maps
    if maps:
        require("maps", f"--maps {maps} (--maps 0 draws none)")
    if args.le_encoding is not None:
        try:
            codecs.lookup(args.le_encoding)
        except LookupError as exc:
            raise AreasError(
                f"le_encoding={args.le_encoding!r} is not an encoding Python knows (e.g. utf-8, "
                "cp1252, latin-1, utf-16)",
                param="le_encoding",
            ) from exc


def _input_paths(args: argparse.Namespace) -> list[tuple[str, str | Sequence[str] | None]]:
    for table, needs in (("context", ("context_id", "context_col")), ("names", ("names_id", "names_col"))):
        if getattr(args, table) and not all(getattr(args, n) for n in needs):
            raise InputError(f"{FLAGS[table]} needs {' and '.join(FLAGS[n] for n in needs)}", getattr(args, table))
    return [
        ("no such boundary file", args.boundaries),
        ("no such life expectancy table", args.table),
        ("no such street network file; give an osmnx GraphML or OSM XML file", args.network),
        ("no such context table", args.context),
        ("no such names table", args.names),
        ("no such population table", args.population),
    ]


def _load_areas(args: argparse.Namespace):
    from .areas import attributes
    from .areas.load import load_areas

    areas = load_areas(
        args.boundaries,
        args.table,
        args.le_format,
        area_id=args.area_id,
        areas_crs=args.areas_crs,
        le_id=args.le_id,
        le_col=args.le_col,
        le_se_col=args.le_se_col,
        le_ci_cols=tuple(args.le_ci_cols) if args.le_ci_cols else None,
        sex=args.sex,
        le_encoding=args.le_encoding,
        area_name=args.area_name,
        le_pop_col=args.le_pop_col,
        bundled=not (args.names or args.population),
        le_source=args.le_source,
        le_period=args.le_period,
        names_lang=args.names_lang,
    )
    if args.names:
        areas = attributes.add_names(areas, args.names, args.names_id, args.names_col)
    if args.population:
        areas = attributes.add_population(areas, args.population, args.population_id, args.population_col)
    if args.context:
        areas = attributes.add_context(areas, args.context, args.context_id, args.context_col, args.context_name)
    return areas


def _labels(args: argparse.Namespace, areas, source: str, name: str):
    from dataclasses import replace

    from .pipeline import labels_from, source_credits

    credits = source_credits(source, args.tfl_route_lines or args.seq_lines, name, args.feed_name or "")
    labels = labels_from(areas, args.feed_name or name, credits)
    place = args.place or ("London" if args.tfl_sequences else "")
    return replace(labels, place=place, byline=args.byline)


SOURCE_HINTS = {
    "gtfs": "no such file or folder; give a GTFS zip or folder",
    "tfl_sequences": "no such file; give TfL's bus-sequences file",
    "sequences": "no such file; give a table of stops in order along patterns (CSV or Parquet)",
}
"""What to give instead of a missing source, by its flag's destination."""


def _check_source_flags(args: argparse.Namespace) -> None:
    """Refuse route lines or column names given for another kind of source."""
    if args.tfl_route_lines and not args.tfl_sequences:
        raise InputError(
            "--tfl-route-lines is for --tfl-sequences (--sequences takes --seq-lines)", args.tfl_route_lines
        )
    given = [flag for flag, (param, _) in SEQ_FLAGS.items() if getattr(args, param) is not None]
    if args.seq_lines:
        given.insert(0, "--seq-lines")
    if given and not args.sequences:
        raise InputError(f"{', '.join(given)} name the columns of --sequences TABLE; give --sequences too")


def _read_source(args: argparse.Namespace, options: Options):
    """The run's stop patterns and the source's name, from whichever source flag was given."""
    from . import pipeline

    if args.sequences:
        from .sources.sequences import read_sequences

        columns = {param: getattr(args, param) for param, _ in SEQ_FLAGS.values() if getattr(args, param)}
        patterns, stops = read_sequences(args.sequences, args.seq_lines, routes=options.routes, **columns)
        return patterns, stops, Path(args.sequences).name
    kind = "gtfs" if args.gtfs else "tfl"
    return pipeline.read_source(
        args.gtfs or args.tfl_sequences, route_lines=args.tfl_route_lines, options=options, kind=kind
    )


def _run(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    options = _options(args, "run")
    source = args.gtfs or args.tfl_sequences or args.sequences
    _check_source_flags(args)
    _check_area_options(args)
    _check_paths(
        (next(hint for dest, hint in SOURCE_HINTS.items() if getattr(args, dest)), source),
        ("no such file; give route lines with a 'line' property, e.g. TfL's route-lines GeoJSON", args.tfl_route_lines),
        ("no such file; give lines with a pattern_id or route_id property (e.g. GeoJSON)", args.seq_lines),
        *_input_paths(args),
    )
    _check_outside_out(
        args.out,
        (next("--" + dest.replace("_", "-") for dest in SOURCE_HINTS if getattr(args, dest)), source),
        ("--tfl-route-lines", args.tfl_route_lines),
        ("--seq-lines", args.seq_lines),
        *_area_inputs(args),
    )
    hold("run")  # (tests) everything checked, nothing heavy imported yet
    from . import pipeline
    from .output import write_outputs

    patterns, pattern_stops, name = _read_source(args, options)
    areas = _load_areas(args)
    try:
        result = pipeline.run_patterns(patterns, pattern_stops, areas, options, _labels(args, areas, source, name))
    except AreasError as exc:
        if exc.path is None and exc.param == "boundaries":  # about the boundary file: say which
            raise AreasError(exc.message, args.boundaries, param=exc.param) from exc
        raise
    written = write_outputs(result, args.out, areas=areas)
    _summary(result, written, time.perf_counter() - start)
    return 0


def _fetch(args: argparse.Namespace) -> int:
    from .fetching import describe, fetch

    done = fetch(args.name, args.arg, cache=args.cache, url=args.url, force=args.force)
    _say(f"{args.name}{' ' + args.arg if args.arg else ''}: {describe(done)}")
    return 0


def _batch(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    options = _options(args, "batch")
    _check_area_options(args)
    _check_paths(*_input_paths(args))
    _check_outside_out(args.out, ("FEED", args.feeds), *_area_inputs(args))
    from . import batch

    outcomes = batch.run_batch(
        args.feeds,
        _load_areas(args),
        args.out,
        options,
        scheduler=args.scheduler,
        n_workers=args.workers,
        progress=True,
        le_source=args.le_source,
        period=args.le_period,
    )
    for o in outcomes:
        for message in o.warnings:
            _say(f"gradient: warning: {o.feed}: {message}", err=True)
        if o.ok:
            _say(f"{o.feed}: {o.n_patterns} patterns -> {o.out_dir}/")
        else:
            _say(f"gradient: error: {cli_message(InputError(o.error or 'failed'))}", err=True)
    failed = sum(not o.ok for o in outcomes)
    _say(f"{len(outcomes) - failed} of {len(outcomes)} feeds done in {time.perf_counter() - start:.1f} s")
    if failed == 0:
        return 0
    return EXIT_BAD_INPUT if failed == len(outcomes) else EXIT_SOME_FEEDS_FAILED


def _summary(result, written, seconds: float, top: int = 5, title: str = "") -> None:
    """What a run prints: what was measured, over what its claims hold, the count, the top stories, the power."""
    from .output import top_stories
    from .story import words

    p, s = result.patterns, result.summary
    options, labels = result.options, result.labels
    voice = words.voice_of(options, labels)
    n_routes = int(p["route_id"].nunique())  # names repeat across routes (two agencies' route 1)
    whole = options.routes is None
    what = ", ".join(x for x in (labels.sex, labels.period) if x)
    measured = (
        f"{words.count(len(p), 'pattern')} on {words.count(n_routes, 'route')} serving "
        f"{words.count(int(result.stops['stop_id'].nunique()), 'stop')}"
    )
    first = title or measured[0].upper() + measured[1:] + (f" ({what})" if what else "") + f", in {seconds:.1f} s"
    _say(first if voice.intervals else words.no_interval_title(first))
    _say(words.scope_sentence(voice, n_routes))
    _say(s.count_sentence)
    rows = top_stories(result, top).to_dict("records")
    if voice.intervals:
        _say(("The story:" if n_routes == 1 else "Top stories:") if rows else "Top stories: none.")
    for line in words.console_lines(rows, voice, n_routes, whole, night_prefix="N" if labels.place == "London" else ""):
        _say(line)
    _say(s.power_sentence)
    for kind, paths in written.items():
        if paths:
            where = sorted({str(q.parent) for q in paths})
            _say(f"{kind}: {len(paths)} files in {', '.join(w + '/' for w in where)}")


DEMO_CONTEXT = "IMD 2019 score (higher = more deprived)"
"""The second measure the London demo shows beside life expectancy (English Indices of Deprivation 2019)."""

DEMO_ROUTES = ("25",)
"""London routes always mapped by the demo besides the top-ranked: 25, Oxford Circus to Ilford."""


DEMO_SEX = "male"
"""The sex of the London demo: ONS's official 2009-2013 MSOA release gives males and females apart (no
persons); the demo shows men's life expectancy, the measure of London's best-known maps of health
along a transport line (the London Health Observatory's Jubilee line map). ``--sex female`` gives
women's."""


def demo_areas():
    """England's MSOAs as the demo reads them: ONS's 2009-2013 life expectancy (:data:`DEMO_SEX`) and IMD 2019."""
    from . import datasets
    from .areas.attributes import add_context
    from .areas.load import load_areas

    msoas = load_areas(
        datasets.get_path("msoa_boundaries"), datasets.get_path("ons_msoa_le_2009_2013"), "ons-msoa", sex=DEMO_SEX
    )
    return add_context(msoas, datasets.get_path("imd2019_msoa"), "msoa_code", "Score", DEMO_CONTEXT)


def demo_london(msoas=None, **options):
    """The demo's London run (the whole bus network, or ``routes=``), on :func:`demo_areas`."""
    from . import datasets, pipeline

    msoas = msoas if msoas is not None else demo_areas()
    lines = datasets.get_path("tfl_route_lines")
    return pipeline.run(datasets.get_path("tfl_sequences"), msoas, route_lines=lines, kind="tfl", **options)


def _demo(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from . import datasets, pipeline
    from .areas.load import load_areas
    from .output import write_outputs

    out = Path(args.out)
    start = time.perf_counter()
    steps = tqdm(total=6, desc="demo", unit="step", file=sys.stderr, disable=not sys.stderr.isatty())
    steps.set_postfix_str("England's MSOA life expectancy")
    msoas = demo_areas()
    steps.update()
    steps.set_postfix_str("London's bus network")
    # the printed list is chosen from the whole network: every claim holds over all of it (the default family)
    london = demo_london(msoas)
    london_files = write_outputs(london, out / "london", progress=sys.stderr.isatty())
    london_time = time.perf_counter() - start
    steps.update()
    steps.set_postfix_str("London's route 25, chosen beforehand")
    # a route chosen beforehand is a network of one: its own claims, as `gradient run --route 25` gives them
    route25 = demo_london(msoas, routes=DEMO_ROUTES, maps=1)
    write_outputs(route25, out / "route25")
    steps.update()
    steps.set_postfix_str("Tampa's census tracts")
    tracts = load_areas(datasets.get_path("hillsborough_tracts"), datasets.get_path("usaleep"), "usaleep")
    steps.update()
    steps.set_postfix_str("Tampa's HART network")
    tampa_start = time.perf_counter()
    tampa = pipeline.run(datasets.get_path("hart_gtfs"), tracts, place="Tampa")
    steps.update()
    tampa_files = write_outputs(tampa, out / "tampa", progress=sys.stderr.isatty())
    steps.update()
    steps.close()
    _say(f"London: TfL's buses (July 2018) against ONS life expectancy at birth by MSOA, {DEMO_SEX}s, 2009-2013")
    _summary(london, london_files, london_time)
    row = route25.patterns[route25.patterns["route_story"]].iloc[0]
    in_london = london.patterns[(london.patterns["route_name"] == "25") & london.patterns["route_story"]].iloc[0]
    from .story import words

    _say(
        f"Route 25, chosen beforehand (its own claims, in {out / 'route25'}/; "
        f"{words.ordinal(in_london['rank'])} of London's {london.patterns['route_id'].nunique()} routes):"
    )
    _say(f"    {row['headline']}")
    _say()
    _say("Tampa: HART's buses (GTFS, 2018) against CDC/NCHS USALEEP census tract life expectancy, 2010-2015")
    _summary(tampa, tampa_files, time.perf_counter() - tampa_start)
    _say(f"\nall done in {time.perf_counter() - start:.1f} s; open {out}/london/maps/ in a browser")
    return 0


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Print gradient's own warnings as ``gradient: warning: ...``, others as theirs."""
    from .errors import GradientWarning

    if issubclass(category, GradientWarning):
        _say(f"gradient: warning: {cli_message(message)}", err=True)
    else:
        _say(f"{Path(filename).name}:{lineno}: {category.__name__}: {message}", err=True)


@contextmanager
def _signals_stop_the_run() -> Iterator[None]:
    """SIGTERM, SIGINT and SIGHUP unwind the run like any failure, once: a second one waits for the clean-up.

    Only in the main thread (where Python delivers signals); the handlers before are
    put back afterwards. The signal is remembered (:data:`_STOPPED_BY`): whatever the
    unwinding raises after it (a module left half-imported) is reported as the stop.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    wanted = [s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None]
    before = {s: signal.getsignal(s) for s in wanted}

    def stop(signum, frame):
        for s in wanted:  # the clean-up the exception unwinds must not itself be cut short
            signal.signal(s, signal.SIG_IGN)
        _STOPPED_BY.append(signum)
        raise Interrupted(signum)

    for s in wanted:
        signal.signal(s, stop)
    try:
        yield
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)


_STOPPED_BY: list[int] = []
"""The signal that stopped the run, once one has."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    Exit status 0 on success, 2 on bad input (one line naming the file and the
    problem), 3 when ``batch`` lost some feeds, ``128 + signum`` when stopped by a
    signal (143 for SIGTERM, 130 for SIGINT, 129 for SIGHUP; nothing is left
    half-written), 1 on an unexpected failure.
    """
    args = _parser().parse_args(argv)
    _STOPPED_BY.clear()
    with warnings.catch_warnings(), _signals_stop_the_run():
        warnings.showwarning = _show_warning
        warnings.simplefilter("default", GradientWarning)  # a program prints its warnings, whatever filters it met
        try:
            if args.command == "batch":
                return _batch(args)
            if args.command == "fetch":
                return _fetch(args)
            return _demo(args) if args.command == "demo" else _run(args)
        except (Interrupted, KeyboardInterrupt) as exc:
            signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
            return _stopped(int(signum))
        except BaseException as exc:
            if _STOPPED_BY:  # an error the interruption caused (a module half-imported): the stop is the news
                return _stopped(_STOPPED_BY[0])
            if isinstance(exc, GradientError):
                _say(f"gradient: error: {cli_message(exc)}", err=True)
                return EXIT_BAD_INPUT
            if isinstance(exc, OSError):  # e.g. an output folder that cannot be written, a full disk
                where = f"{exc.filename}: " if exc.filename else ""
                _say(f"gradient: error: {where}{exc.strerror or exc}", err=True)
                return EXIT_BAD_INPUT
            raise


def _stopped(signum: int) -> int:
    _say(f"gradient: stopped by {signal.Signals(signum).name}; nothing was left half-written", err=True)
    return 128 + signum


def _say(text: object = "", *, err: bool = False) -> None:
    """Print to the console (stdout, or stderr with ``err``), every line cleaned by :func:`gradient._text.clean`.

    The last guard: nothing a feed or a table holds (a terminal escape sequence, a
    right-to-left override) reaches the terminal as anything but text. A console that
    cannot be written (a pipe whose reader has quit, ``| head``; a full device) loses the
    text, not the run: its stream is pointed at the null device and the run goes on.
    """
    stream = sys.stderr if err else sys.stdout
    if stream is None:  # started with the stream closed
        return
    try:
        stream.write("\n".join(_text.clean(line) for line in str(text).split("\n")) + "\n")
        if err:
            stream.flush()
    except (OSError, ValueError):  # a broken pipe, a full device, a closed stream (ValueError)
        _to_null(stream)


def _to_null(stream) -> None:
    """Point a console stream that cannot be written (its reader gone, its device full) at the null device.

    What it still holds is dropped, so that no later write or flush (at exit too) fails.
    """
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, stream.fileno())
        os.close(null)
    except (OSError, ValueError, AttributeError):
        pass


def console() -> int:
    """The ``gradient`` command and ``python -m gradient``: :func:`main` with the process's own arguments.

    A pipe closed by its reader (``| head``, ``| true``) after the outputs were written
    changes nothing: exit status 0, nothing more printed. A run stopped by a signal
    leaves at once after its line (exit ``128 + signum``), skipping the clean-up of
    modules it may have left half-imported.
    """
    status = main()
    for stream in (sys.stdout, sys.stderr):
        if stream is None:
            continue
        try:
            stream.flush()
        except (OSError, ValueError):
            _to_null(stream)
    if _STOPPED_BY:
        os._exit(status)
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(console())
