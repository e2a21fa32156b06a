"""One call from a transit source and life expectancy areas to the stops and patterns tables.

:func:`run` reads a GTFS feed (or TfL's bus sequences), finds its stop patterns,
gives every stop its areas' life expectancy, and computes every figure of
``stops.csv`` and ``patterns.csv``; it draws nothing and writes nothing (see
:func:`gradient.output.write_outputs` and :mod:`gradient.present`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import geopandas as gpd
import pandas as pd

from .errors import InputError
from .options import Options
from .sources._routes import match_routes

log = logging.getLogger(__name__)


@dataclass
class Labels:
    """What the numbers are, for titles, legends, sentences and source lines.

    Attributes
    ----------
    le_source : str
        The life expectancy source, e.g. ``"CDC/NCHS USALEEP"``.
    period : str
        Years the estimates cover, e.g. ``"2010-2015"``.
    sex : str
        ``"persons"``, ``"male"`` or ``"female"``.
    feed : str
        The transit source, e.g. ``"HART"`` (the feed's agency) or ``"TfL bus sequences, July 2018"``.
    context : str
        The second measure's name with its units, e.g. ``"IMD 2019 score (higher = more deprived)"``.
    """

    le_source: str = ""
    period: str = ""
    sex: str = "persons"
    feed: str = ""
    context: str = ""

    @property
    def source_line(self) -> str:
        """One line naming the sources and period, for maps and charts."""
        le = " ".join(p for p in (self.le_source, self.period) if p)
        return "Sources: " + "; ".join(p for p in (le, self.feed) if p)


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
    weights : pandas.DataFrame
        Which areas each stop's value came from, with what weight
        (:func:`gradient.assign.catchments.assign`).
    options : Options
        The options the run was made with.
    """

    stops: pd.DataFrame
    patterns: pd.DataFrame
    geometry: gpd.GeoDataFrame
    labels: Labels = field(default_factory=Labels)
    weights: pd.DataFrame | None = None
    options: Options = field(default_factory=Options)

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


def select_routes(patterns: gpd.GeoDataFrame, routes: Sequence[str] | None, path=None) -> gpd.GeoDataFrame:
    """Keep the patterns of the named routes (``route_name``, ``route_long_name`` where present, or ``route_id``).

    The sources choose routes themselves before measuring (``routes=`` of
    :func:`gradient.sources.gtfs.stop_patterns` and :func:`gradient.sources.tfl.read_tfl_sequences`,
    where GTFS long names are matched too); this is for patterns from elsewhere.

    Raises
    ------
    InputError
        If a name matches no route (the message lists some that exist).
    """
    keep = match_routes(patterns, routes, path)
    return patterns if keep is None else patterns[keep].reset_index(drop=True)


def labels_from(areas: gpd.GeoDataFrame, feed: str = "") -> Labels:
    """Labels from the ``attrs`` that :func:`gradient.areas.load.load_areas` sets."""
    attrs = areas.attrs
    return Labels(
        attrs.get("source", ""),
        attrs.get("period", ""),
        attrs.get("sex", ""),
        feed,
        attrs.get("context_name", "") if "context" in areas else "",
    )


def _network(options: Options):
    """The options' street network as a graph (loaded from its files once), or None."""
    net = options.network
    if net is None or hasattr(net, "graph"):
        return net
    from .assign.streets import load_network

    return load_network(list(net))


def run_patterns(
    patterns: gpd.GeoDataFrame,
    pattern_stops: pd.DataFrame,
    areas: gpd.GeoDataFrame,
    options: Options | None = None,
    labels: Labels | None = None,
) -> Result:
    """Assign life expectancy to stop patterns from any source and compute every figure.

    Parameters
    ----------
    patterns, pattern_stops
        As returned by a source, e.g. :func:`gradient.sources.gtfs.stop_patterns`.
    areas : geopandas.GeoDataFrame
        ``AREA_COLUMNS``, e.g. from :func:`gradient.areas.load.load_areas`.
    options : Options, optional
        ``method``, ``radius_m``, ``network``, ``walk_m``, ``alpha``, ``correction``,
        ``family``, ``stretch_k``, ``draws`` matter here (default :class:`Options`).
    labels : Labels, optional
        Default: from ``areas.attrs``.

    Returns
    -------
    Result
    """
    from .areas.doubt import doubtful_areas, shrink
    from .assign.catchments import assign, context_at_stops
    from .story.tables import pattern_table, stop_table

    options = options or Options()
    labels = labels or labels_from(areas)
    pattern_stops = pattern_stops[pattern_stops["pattern_id"].isin(patterns["pattern_id"])]
    network = _network(options)
    if network is not None:
        from .assign.streets import street_geometry

        patterns, pattern_stops = street_geometry(patterns, pattern_stops, network)
    assignment, weights = assign(
        pattern_stops,
        areas,
        method=options.method,
        radius_m=options.radius_m,
        return_weights=True,
        network=network,
        walk_m=options.walk_m,
    )
    eb = shrink(areas)
    doubt = doubtful_areas(areas, eb, used=pd.Index(weights["area_id"].unique()))
    by_id = areas.drop_duplicates("area_id").set_index("area_id")
    names = by_id["area_name"] if "area_name" in by_id else None
    area_context = by_id["context"] if "context" in by_id else None
    context = context_at_stops(weights, area_context) if area_context is not None else None
    stops = stop_table(
        patterns, pattern_stops, assignment, weights, options, eb=eb, doubt=doubt, area_names=names, context=context
    )
    table = pattern_table(patterns, stops, weights, options, labels, eb=eb, area_names=names, area_context=area_context)
    geometry = gpd.GeoDataFrame(patterns[["pattern_id", "geometry_source", "geometry"]], crs=patterns.crs)
    return Result(stops=stops, patterns=table, geometry=geometry, labels=labels, weights=weights, options=options)


def read_source(
    source: str | Path, *, route_lines: str | Path | None = None, options: Options | None = None, kind: str = "auto"
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, str]:
    """Stop patterns of a GTFS feed or of TfL's bus sequences, and a name for the source.

    Parameters
    ----------
    source : str or Path
        A GTFS zip or folder, or TfL's bus-sequences file.
    route_lines : str or Path, optional
        TfL's route lines (TfL only).
    options : Options, optional
        ``routes`` (chosen before anything is measured), ``all_patterns`` and
        ``engine`` matter here.
    kind : {'auto', 'gtfs', 'tfl'}
        ``auto``: TfL for a ``.tsv``, ``.csv`` or ``.txt`` file, GTFS otherwise.

    Returns
    -------
    patterns, pattern_stops, name
        As from the source; ``name`` is the GTFS agency (or the file name) for labels.
    """
    options = options or Options()
    path = Path(source)
    if kind == "auto":
        kind = "tfl" if path.is_file() and path.suffix.lower() in {".tsv", ".csv", ".txt"} else "gtfs"
    if kind == "tfl":
        from .sources.tfl import read_tfl_sequences

        patterns, stops = read_tfl_sequences(path, route_lines, routes=options.routes)
        name = path.name
    elif kind == "gtfs":
        from .sources.gtfs import read_feed, stop_patterns

        if route_lines is not None:
            raise InputError(
                "route_lines= is for TfL's bus sequences; a GTFS feed has its own shapes", param="route_lines"
            )
        feed = read_feed(path, engine=options.engine)
        patterns, stops = stop_patterns(feed, all_patterns=options.all_patterns, path=path, routes=options.routes)
        name = feed.agency_name or path.name
    else:
        raise InputError(f"kind={kind!r} is not one of auto, gtfs, tfl", param="kind")
    return patterns, stops, name


def run(
    source: str | Path,
    areas: gpd.GeoDataFrame,
    options: Options | None = None,
    *,
    route_lines: str | Path | None = None,
    labels: Labels | None = None,
    kind: str = "auto",
    **changes: Any,
) -> Result:
    """Run a GTFS feed (or TfL's bus sequences) against life expectancy areas.

    Parameters
    ----------
    source : str or Path
        A GTFS zip or folder, or TfL's bus-sequences file (see :func:`read_source`).
    areas : geopandas.GeoDataFrame
        ``AREA_COLUMNS``, e.g. from :func:`gradient.areas.load.load_areas`.
    options : Options, optional
        Every option of the run, each a typed field of :class:`Options` (default
        ``Options()``): ``method``, ``radius_m``, ``network``, ``walk_m`` (how stops
        take their areas), ``alpha``, ``correction``, ``family``, ``stretch_k``,
        ``draws`` (what is tested, at what level), ``routes``, ``all_patterns``,
        ``engine`` (what is read) and ``maps``, ``scale_reference``, ``embed_base_url``
        (what :func:`gradient.write_outputs` draws, on what colour scale, for what address).
    route_lines : str or Path, optional
        TfL's route lines, for distances along the roads (TfL only).
    labels : Labels, optional
        Sources and period for sentences, maps and charts (default from ``areas.attrs``
        and the source's agency or file name).
    kind : {'auto', 'gtfs', 'tfl'}
        What ``source`` is.
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
    options = (options or Options()).replace(**changes) if changes else (options or Options())
    patterns, pattern_stops, name = read_source(source, route_lines=route_lines, options=options, kind=kind)
    labels = labels or labels_from(areas, name)
    return run_patterns(patterns, pattern_stops, areas, options, labels)


def pattern_title(row: pd.Series) -> str:
    """A title for one pattern: route name and its end stops, as readers see them."""
    from .story.names import display_name

    ends = f"{display_name(row['first_stop'])} to {display_name(row['last_stop'])}"
    return f"Route {display_name(row['route_name'])}: {ends}"
