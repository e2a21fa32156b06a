"""One call from a transit source and life expectancy areas to the stops and patterns tables.

:func:`run` reads a GTFS feed (or TfL's bus sequences), finds its stop patterns,
gives every stop its areas' life expectancy, and computes every figure of
``stops.csv`` and ``patterns.csv``; it draws nothing and writes nothing (see
:func:`gradient.output.write_outputs` and :mod:`gradient.present`).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from . import _text
from .areas.dataset import Areas, as_areas
from .credits import Credit, Labels, known_credit
from .errors import AreasError, GradientWarning, InputError, OptionError
from .options import Options, as_options

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Summary:
    """What holds for a run as a whole.

    Attributes
    ----------
    family : str
        ``network`` or ``route``.
    alpha, se_scale : float
    critical : float
        The network's critical value: every claim of every route at once.
    method : str
        How the critical values were found (``simulated``, or ``bonferroni`` where the
        draws cannot resolve the level).
    mc_error : float
        Relative Monte Carlo standard error of :attr:`critical`.
    n_claims : int
        Distinct claims the network's critical value covers.
    counts : dict
        The stretches of street that change by at least ``X`` years, by ``X``:
        ``(places, routes)`` (:class:`gradient.stats.stretches.Stretches`).
    power_step, power_se : float
        The step between neighbouring areas found 80% of the time, and the typical
        standard error of such a step (years).
    count_sentence, power_sentence : str
        Both in words (:mod:`gradient.story.words`).
    n_routes : int
        Routes measured.
    """

    family: str
    alpha: float
    se_scale: float
    critical: float
    method: str
    mc_error: float
    n_claims: int
    counts: dict
    power_step: float
    power_se: float
    count_sentence: str
    power_sentence: str
    n_routes: int


@dataclass
class Result:
    """Everything one run computes: tables, nothing drawn.

    Attributes
    ----------
    stops : pandas.DataFrame
        ``stops.csv``: :func:`gradient.story.tables.stop_table`.
    patterns : pandas.DataFrame
        ``patterns.csv``: :func:`gradient.story.tables.pattern_table`, ordered by ``rank``.
    geometry : geopandas.GeoDataFrame
        ``pattern_id``, ``geometry_source`` and ``geometry`` (EPSG:4326) per pattern.
    labels : Labels
        What the numbers are, and every source's credit.
    weights : pandas.DataFrame
        Which areas each stop's value came from, with what weight
        (:func:`gradient.assign.catchments.assign`).
    options : Options
        The options the run was made with.
    stretches : pandas.DataFrame
        ``stretches.csv``: :func:`gradient.story.tables.stretch_table`.
    summary : Summary
        What holds for the run as a whole: its critical value, the count of stretches,
        what it can detect.
    areas : Areas
        The areas the run measured against (drawn under the maps).
    """

    stops: pd.DataFrame
    patterns: pd.DataFrame
    geometry: gpd.GeoDataFrame
    labels: Labels = field(default_factory=Labels)
    weights: pd.DataFrame | None = None
    options: Options = field(default_factory=Options)
    stretches: pd.DataFrame | None = None
    summary: Summary | None = None
    areas: Areas | None = None

    def pattern(self, pattern_id: str | None = None) -> pd.Series:
        """One row of ``patterns`` (default the first, i.e. the top-ranked).

        Raises
        ------
        InputError
            If there is no such pattern (the message lists some that exist).
        """
        table = self.patterns.set_index("pattern_id", drop=False)
        if pattern_id is None:
            return table.iloc[0]
        if pattern_id not in table.index:
            raise InputError(
                f"no pattern {pattern_id!r} (patterns include {', '.join(table.index[:5])})", param="pattern_id"
            )
        return table.loc[pattern_id]

    def stops_of(self, pattern_id: str) -> pd.DataFrame:
        """The rows of ``stops`` for one pattern, in stop order."""
        return self.stops[self.stops["pattern_id"] == pattern_id]

    def line(self, pattern_id: str):
        """The pattern's route line (shapely LineString, EPSG:4326), or None."""
        return self.geometry.set_index("pattern_id").geometry.get(pattern_id)


def labels_from(areas: Areas | gpd.GeoDataFrame, feed: str = "", feed_credits: Sequence[Credit] = ()) -> Labels:
    """The run's :class:`~gradient.credits.Labels`: what the areas' numbers are, and the feed's name and credit."""
    return as_areas(areas).labels(feed, tuple(feed_credits))


def _network(options: Options):
    """The options' street network as arrays: from a graph, as given, or from files read once (cached)."""
    net = options.network
    if net is None:
        return None
    from .assign.netarrays import StreetArrays

    if isinstance(net, StreetArrays):
        return net
    if hasattr(net, "graph"):  # a networkx graph: its arrays, made once for every use in the run
        return StreetArrays.from_graph(net)
    from ._extras import require

    require("networks", "walking catchments (method='network')")
    from .assign.networkfiles import read_streets

    return read_streets(list(net), cache_dir=options.network_cache)


def run_patterns(
    patterns: gpd.GeoDataFrame,
    pattern_stops: pd.DataFrame,
    areas: Areas | gpd.GeoDataFrame,
    options: Options | None = None,
    labels: Labels | None = None,
) -> Result:
    """Assign life expectancy to stop patterns from any source and compute every figure.

    Parameters
    ----------
    patterns, pattern_stops
        As returned by a source, e.g. :func:`gradient.sources.gtfs.stop_patterns`.
    areas : Areas
        From :func:`gradient.areas.load.load_areas` (or a GeoDataFrame with
        ``AREA_COLUMNS``).
    options : Options, optional
        ``method``, ``radius_m``, ``network``, ``walk_m``, ``alpha``, ``correction``,
        ``family``, ``stretch_k``, ``draws``, ``se_scale`` matter here (default
        :class:`Options`).
    labels : Labels, optional
        Default: from ``areas``.

    Returns
    -------
    Result
    """
    from .areas.doubt import doubtful_areas
    from .assign.catchments import assign, context_at_stops
    from .stats import claims as claims_
    from .stats.claims import power_step
    from .stats.stretches import stretches as find_stretches
    from .stats.uncertainty import Model
    from .story import words
    from .story.tables import pattern_table, stop_table, stretch_table

    options = as_options(options)
    areas = as_areas(areas)
    # names reach sentences, terminals, SVG and HTML: nothing in them may act instead of show
    areas = _text.clean_fields(areas).replace(frame=_text.clean_columns(areas.frame))
    patterns, pattern_stops = _text.clean_columns(patterns), _text.clean_columns(pattern_stops)
    frame = areas.frame
    labels = _text.clean_fields(labels or areas.labels())
    labels = replace(labels, intervals=bool(frame["le_se"].notna().any()))  # what the data says, whoever labelled it
    pattern_stops = pattern_stops[pattern_stops["pattern_id"].isin(patterns["pattern_id"])]
    network = _network(options)
    if network is not None:
        from .assign.streets import street_geometry

        patterns, pattern_stops = street_geometry(patterns, pattern_stops, network)
    # the assignment's warnings (stops outside every area...) are said only if the run goes on:
    # when no stop is joined at all, the one error says everything
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always", GradientWarning)
        assignment, weights = assign(
            pattern_stops,
            frame,
            method=options.method,
            radius_m=options.radius_m,
            return_weights=True,
            network=network,
            walk_m=options.walk_m,
        )
    _some_stop_joined(assignment, weights, pattern_stops, frame, options)
    for w in said:
        warnings.warn(w.message, w.category, stacklevel=2)
    doubt = doubtful_areas(frame, used=pd.Index(weights["area_id"].unique()))
    by_id = frame.drop_duplicates("area_id").set_index("area_id")
    names = by_id["area_name"] if "area_name" in by_id else None
    area_context = by_id["context"] if "context" in by_id else None
    context = context_at_stops(weights, area_context) if area_context is not None else None
    stops = stop_table(
        patterns, pattern_stops, assignment, weights, options, doubt=doubt, area_names=names, context=context
    )
    model = Model(weights)
    claims = claims_.build(stops, weights, patterns, options, model)
    voice = words.Voice(
        alpha=options.alpha,
        family=options.family,
        se_scale=options.se_scale,
        stretch_k=options.stretch_k,
        place=labels.place,
        unit=labels.unit,
        intervals=labels.intervals,
    )
    table = pattern_table(patterns, stops, weights, claims, options, labels, area_context=area_context, voice=voice)
    route_names = table.drop_duplicates("route_id").set_index("route_id")["route_name"]
    found = find_stretches(stops, claims, route_names)
    step, se = power_step(claims)
    summary = Summary(
        family=options.family,
        alpha=options.alpha,
        se_scale=options.se_scale,
        critical=claims.c_network,
        method=claims.critical.method,
        mc_error=claims.critical.mc_error,
        n_claims=claims.critical.n_overall,
        counts=found.counts,
        power_step=step,
        power_se=se,
        count_sentence=words.count_sentence(found.counts, voice),
        power_sentence=words.power_sentence(step, se, voice, int(patterns["route_id"].nunique())),
        n_routes=int(patterns["route_id"].nunique()),
    )
    geometry = gpd.GeoDataFrame(patterns[["pattern_id", "geometry_source", "geometry"]], crs=patterns.crs)
    return Result(
        stops=stops,
        patterns=table,
        geometry=geometry,
        labels=labels,
        weights=weights,
        options=options,
        stretches=stretch_table(found, voice),
        summary=summary,
        areas=areas,
    )


def _some_stop_joined(
    assignment: pd.DataFrame, weights: pd.DataFrame, pattern_stops: pd.DataFrame, frame: gpd.GeoDataFrame, options
) -> None:
    """Refuse a run in which no stop lies in (or near) any area: the areas cover another place, or their CRS is wrong.

    Raises
    ------
    AreasError
        Naming the extent of the stops and of the areas.
    """
    if len(assignment) == 0 or len(weights) > 0:
        return
    from .options import NEAREST_M

    def extent(lon, lat) -> str:
        return f"longitude {min(lon):.4g} to {max(lon):.4g}, latitude {min(lat):.4g} to {max(lat):.4g}"

    x0, y0, x1, y1 = frame.total_bounds
    within = f"within {options.radius_m:g} m of" if options.method != "point" else f"in or within {NEAREST_M:g} m of"
    raise AreasError(
        f"none of the {assignment['stop_id'].nunique()} stops lies {within} any of the {len(frame)} areas "
        f"(stops: {extent(pattern_stops['lon'], pattern_stops['lat'])}; areas: {extent([x0, x1], [y0, y1])}); "
        "do the boundaries cover the feed, and is their CRS right?",
        param="boundaries",
    )


def read_source(
    source: str | Path, *, route_lines: str | Path | None = None, options: Options | None = None, kind: str = "auto"
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, str]:
    """Stop patterns of a GTFS feed, TfL's bus sequences or a stop-sequence table, and a name for the source.

    Parameters
    ----------
    source : str or Path
        A GTFS zip or folder, TfL's bus-sequences file, or a table of stops in order
        along patterns (:func:`gradient.sources.sequences.read_sequences`, its columns
        named as by default; call it yourself to name others).
    route_lines : str or Path, optional
        Route lines (TfL's, or a stop-sequence table's); not for GTFS.
    options : Options, optional
        ``routes`` (chosen before anything is measured), ``all_patterns``,
        ``engine`` and ``cluster`` (a GTFS feed's stop times read on dask) matter here.
    kind : {'auto', 'gtfs', 'tfl', 'sequences'}
        ``auto`` (see :func:`source_kind`): a folder or zip is GTFS; a file whose header
        is TfL's bus sequences' is TfL; another table (CSV, Parquet) is a stop-sequence
        table.

    Returns
    -------
    patterns, pattern_stops, name
        As from the source; ``name`` is the GTFS agency (or the file name) for labels.
    """
    options = as_options(options)
    path = Path(source)
    if kind == "auto":
        kind = source_kind(path)
    if options.cluster and kind != "gtfs":
        raise OptionError(
            "cluster= reads a GTFS feed's stop times on dask; TfL's sequences and stop-sequence tables are read here",
            param="cluster",
        )
    if kind == "tfl":
        from .sources.tfl import read_tfl_sequences

        patterns, stops = read_tfl_sequences(path, route_lines, routes=options.routes)
        name = path.name
    elif kind == "sequences":
        from .sources.sequences import read_sequences

        patterns, stops = read_sequences(path, route_lines, routes=options.routes)
        name = path.name
    elif kind == "gtfs":
        from .sources.gtfs import read_patterns

        if route_lines is not None:
            raise InputError(
                "route_lines= is for TfL's bus sequences or a stop-sequence table; a GTFS feed has its own shapes",
                param="route_lines",
            )
        from ._cluster import connect

        with connect(options.cluster, what="--cluster") if options.cluster else nullcontext() as client:
            patterns, stops, name = read_patterns(
                path, engine=options.engine, all_patterns=options.all_patterns, routes=options.routes, client=client
            )
    else:
        raise InputError(f"kind={kind!r} is not one of auto, gtfs, tfl, sequences", param="kind")
    return patterns, stops, name


SEQUENCE_SUFFIXES = {".csv", ".tsv", ".txt", ".parquet", ".pq", ".parq"}
"""Files read as a stop-sequence table by ``kind='auto'`` (unless their header is TfL's)."""


def source_kind(path: str | Path) -> str:
    """What a source is, told from the file itself: ``gtfs``, ``tfl`` or ``sequences``.

    A folder or a zip archive is a GTFS feed; a file whose header is that of TfL's bus
    sequences (any published layout) is TfL's; a Parquet file, or a text table named
    ``.csv``, ``.tsv`` or ``.txt``, is a stop-sequence table; anything else is taken for
    GTFS, whose reader says what it is not.
    """
    import zipfile

    from .sources.sequences import PARQUET_MAGIC
    from .sources.tfl import is_tfl_sequences

    path = Path(path)
    if not path.is_file() or zipfile.is_zipfile(path):
        return "gtfs"
    if is_tfl_sequences(path):
        return "tfl"
    with open(path, "rb") as fh:
        parquet = fh.read(4) == PARQUET_MAGIC
    return "sequences" if parquet or path.suffix.lower() in SEQUENCE_SUFFIXES else "gtfs"


def run(
    source: str | Path,
    areas: Areas | gpd.GeoDataFrame,
    options: Options | dict | None = None,
    *,
    route_lines: str | Path | None = None,
    labels: Labels | None = None,
    kind: str = "auto",
    place: str = "",
    **changes: Any,
) -> Result:
    """Run a GTFS feed (or TfL's bus sequences) against life expectancy areas.

    Parameters
    ----------
    source : str or Path
        A GTFS zip or folder, TfL's bus-sequences file, or a stop-sequence table (see
        :func:`read_source`).
    areas : Areas
        From :func:`gradient.areas.load.load_areas` (or a GeoDataFrame with
        ``AREA_COLUMNS``).
    options : Options or dict, optional
        Every option of the run, each a typed field of :class:`Options` (default
        ``Options()``): ``method``, ``radius_m``, ``network``, ``walk_m``, ``network_cache`` (how stops
        take their areas), ``alpha``, ``correction``, ``family``, ``se_scale``,
        ``stretch_k``, ``draws`` (what is tested, at what level), ``routes``,
        ``all_patterns``, ``engine``, ``cluster`` (what is read, and where) and ``wide``, ``maps``,
        ``scale_reference``, ``embed_base_url`` (what :func:`gradient.write_outputs` writes
        and draws, on what colour scale, for what address).
    route_lines : str or Path, optional
        Route lines, for distances along the roads (TfL's, or a stop-sequence table's).
    labels : Labels, optional
        Sources and period for sentences, maps and charts (default from ``areas`` and
        the source's agency or file name).
    kind : {'auto', 'gtfs', 'tfl', 'sequences'}
        What ``source`` is (``auto``: told from the file, see :func:`source_kind`).
    place : str, optional
        Where the network is, for sentences ("In Tampa, ..."); TfL's sequences are London.
    **changes
        Option names and values applied to ``options`` (``method="buffer"``), checked
        as :meth:`Options.replace` checks them.

    Returns
    -------
    Result

    Examples
    --------
    >>> import gradient
    >>> tracts = gradient.load_areas(gradient.datasets.get_path("hillsborough_tracts"),
    ...                              gradient.datasets.get_path("usaleep"), "usaleep")  # doctest: +SKIP
    >>> result = gradient.run(gradient.datasets.get_path("hart_gtfs"), tracts, method="buffer")  # doctest: +SKIP
    >>> len(result.patterns)  # doctest: +SKIP
    85
    """
    options = as_options(options)
    options = options.replace(**changes) if changes else options
    patterns, pattern_stops, name = read_source(source, route_lines=route_lines, options=options, kind=kind)
    if labels is None:
        labels = labels_from(areas, name, source_credits(source, route_lines, name))
        labels = replace(labels, place=place or ("London" if _is_tfl(source, kind) else ""))
    return run_patterns(patterns, pattern_stops, areas, options, labels)


def _is_tfl(source: str | Path, kind: str) -> bool:
    return kind == "tfl" or (kind == "auto" and source_kind(source) == "tfl")


def source_credits(
    source: str | Path, route_lines: str | Path | None, name: str, feed_name: str = ""
) -> tuple[Credit, ...]:
    """The credits of a run's stops (and route lines): a bundled feed's, else its name, kind and dates.

    A GTFS feed is named by ``feed_name`` (``--feed-name``) or its agency, with the dates of
    its service (:func:`gradient.sources.feedinfo.feed_period`) and its file, e.g. "Metro
    Transit, GTFS feed, service 3 December 2023 to 1 March 2024 (metro.zip)".
    """
    stops = known_credit(source, "stops")
    file = Path(source).name
    if stops.source == file or feed_name:
        label = feed_name or (name if name and name != file else "")
        if source_kind(source) == "gtfs":
            from .sources.feedinfo import feed_period

            period = feed_period(source)
            label = ", ".join(p for p in (label, "GTFS feed", period) if p)
        stops = Credit("stops", f"{label} ({file})" if label else file)
    credits: tuple[Credit, ...] = (stops,)
    if route_lines is not None:
        credits += (known_credit(route_lines, "route lines"),)
    return credits
