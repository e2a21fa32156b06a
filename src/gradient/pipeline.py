"""One call from a feed and life expectancy areas to the stops and patterns tables,
and one call to write them (with maps and profiles) to a folder.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import geopandas as gpd
import pandas as pd
from tqdm.auto import tqdm

from . import charts, gtfs, tfl
from .assign import RADIUS_M, WALK_M, assign
from .colours import Scale, areas_scale
from .embed import save_embed, save_html
from .errors import InputError
from .files import staged_dir, write_csv
from .gradient import pattern_table, stop_table
from .headline import headline
from .stats import STRETCH_K
from .maps import DEFAULT_TILES, route_map
from .netmap import VALUES, network_map
from .page import units_text
from .schema import (
    PATTERNS_CSV_COLUMNS,
    PATTERNS_EXTRA_COLUMNS,
    STOPS_CSV_COLUMNS,
    STOPS_EXTRA_COLUMNS,
    safe_name,
)

log = logging.getLogger(__name__)


@dataclass
class Labels:
    """What the numbers are, for titles, legends and source lines.

    Attributes
    ----------
    le_source : str
        The life expectancy source, e.g. ``"CDC/NCHS USALEEP"``.
    period : str
        Years the estimates cover, e.g. ``"2010-2015"``.
    sex : str
        ``"persons"``, ``"male"`` or ``"female"``.
    feed : str
        The transit source, e.g. ``"HART GTFS 2018"``.
    """

    le_source: str = ""
    period: str = ""
    sex: str = "persons"
    feed: str = ""

    @property
    def source_line(self) -> str:
        """One line naming the sources and period, for maps and charts."""
        le = " ".join(p for p in (self.le_source, self.period) if p)
        return "Sources: " + "; ".join(p for p in (le, self.feed) if p)


@dataclass
class Result:
    """Everything one run computes.

    Attributes
    ----------
    stops : pandas.DataFrame
        :func:`gradient.gradient.stop_table` (``stops.csv`` plus ``minutes``).
    patterns : pandas.DataFrame
        :func:`gradient.gradient.pattern_table` (``patterns.csv``), steepest first.
    geometry : geopandas.GeoDataFrame
        ``pattern_id``, ``geometry_source`` and ``geometry`` (EPSG:4326) per pattern.
    labels : Labels
    weights : pandas.DataFrame
        Which areas each stop's value came from (:func:`gradient.assign.assign`).
    """

    stops: pd.DataFrame
    patterns: pd.DataFrame
    geometry: gpd.GeoDataFrame
    labels: Labels = field(default_factory=Labels)
    weights: pd.DataFrame | None = None

    def pattern(self, pattern_id: str | None = None) -> pd.Series:
        """One row of ``patterns`` (default the first, i.e. the widest range)."""
        table = self.patterns.set_index("pattern_id", drop=False)
        if pattern_id is None:
            return table.iloc[0]
        if pattern_id not in table.index:
            raise InputError(f"no pattern {pattern_id!r} (patterns include {', '.join(table.index[:5])})")
        return table.loc[pattern_id]

    def stops_of(self, pattern_id: str) -> pd.DataFrame:
        """The rows of ``stops`` for one pattern, in stop order."""
        return self.stops[self.stops["pattern_id"] == pattern_id]

    def route_map(self, pattern_id: str | None = None, tiles: str | None = DEFAULT_TILES, *,
                  areas: gpd.GeoDataFrame | None = None, scale: Scale | None = None):
        """:func:`gradient.maps.route_map` of one pattern, titled and sourced.

        The colour scale defaults to :func:`gradient.colours.areas_scale` of the whole
        run, so every map shares one scale centred on the median of the areas served;
        ``areas`` (e.g. the table given to :func:`run_gtfs`) adds the area layer.
        """
        row = self.pattern(pattern_id)
        line = self.geometry.set_index("pattern_id").geometry.get(row["pattern_id"])
        return route_map(
            self.stops_of(row["pattern_id"]),
            line,
            title=pattern_title(row),
            source=self.labels.source_line,
            period=self.labels.period,
            sex=self.labels.sex,
            route=f"route {row['route_name']}",
            tiles=tiles,
            scale=scale or areas_scale(self.stops),
            areas=areas,
        )

    def network_map(self, value: str = "le_range", tiles: str | None = DEFAULT_TILES, title: str = ""):
        """:func:`gradient.netmap.network_map` of every pattern, sourced."""
        return network_map(
            self.patterns, self.geometry, value=value,
            title=title or VALUES[value].split(",")[0].replace("the route", "each route"),
            source=self.labels.source_line, period=self.labels.period, sex=self.labels.sex, tiles=tiles,
        )

    def profile(self, pattern_id: str | None = None, scale: Scale | None = None):
        """:func:`gradient.charts.profile_chart` of one pattern, titled and sourced."""
        row = self.pattern(pattern_id)
        scale = scale or areas_scale(self.stops)
        return charts.profile_chart(
            self.stops_of(row["pattern_id"]),
            title=pattern_title(row),
            subtitle=units_text("Life expectancy at birth at each stop, years", self.labels.sex, self.labels.period),
            source=self.labels.source_line,
            reference=scale.reference,
            reference_label=scale.reference_label,
        )


def select_routes(patterns: gpd.GeoDataFrame, routes: Sequence[str] | None, path=None) -> gpd.GeoDataFrame:
    """Keep the patterns of the named routes (``route_name`` or ``route_id``).

    Raises
    ------
    InputError
        If a name matches no route (the message lists some that exist).
    """
    if not routes:
        return patterns
    wanted = set(map(str, routes))
    names = patterns["route_name"].astype(str)
    ids = patterns["route_id"].astype(str)
    unknown = sorted(wanted - set(names) - set(ids))
    if unknown:
        known = ", ".join(sorted(set(names))[:10])
        raise InputError(f"no route named {', '.join(unknown)} (routes include {known})", path)
    return patterns[names.isin(wanted) | ids.isin(wanted)].reset_index(drop=True)


def labels_from(areas: gpd.GeoDataFrame, feed: str = "") -> Labels:
    """Labels from the ``attrs`` that :func:`gradient.areas.load_areas` sets."""
    attrs = areas.attrs
    return Labels(attrs.get("source", ""), attrs.get("period", ""), attrs.get("sex", ""), feed)


def run_patterns(
    patterns: gpd.GeoDataFrame,
    pattern_stops: pd.DataFrame,
    areas: gpd.GeoDataFrame,
    labels: Labels | None = None,
    method: str = "point",
    radius_m: float = RADIUS_M,
    alpha: float = 0.05,
    correction: str = "none",
    k: int = STRETCH_K,
    network=None,
    walk_m: float = WALK_M,
) -> Result:
    """Assign life expectancy to stop patterns from any source and summarise them.

    Parameters
    ----------
    patterns, pattern_stops
        As returned by a source, e.g. :func:`gradient.gtfs.stop_patterns`.
    areas : geopandas.GeoDataFrame
        ``AREA_COLUMNS``, e.g. from :func:`gradient.areas.load_areas`.
    labels : Labels, optional
        Default: from ``areas.attrs``.
    method : {'point', 'buffer'}, default 'point'
        How stops take life expectancy (:func:`gradient.assign.assign`).
    radius_m : float, default 200
        Buffer radius for ``method='buffer'``.
    alpha : float, default 0.05
        Significance level of the stop-to-stop tests.
    correction : {'none', 'holm', 'fdr_bh'}
        Multiple-comparison correction across each pattern's stop-to-stop tests.
    k : int, default 5
        Longest stretch (stop-to-stop hops) searched for the steepest fall.
    network : networkx.MultiDiGraph, optional
        A street network (:func:`gradient.networks.load_network`): patterns without
        route geometry follow its streets (:func:`gradient.networks.street_geometry`),
        and ``method='network'`` walks on it.
    walk_m : float, default 400
        Walk for ``method='network'``, metres.

    Returns
    -------
    Result
        ``patterns`` carries a ``headline`` column (:func:`gradient.headline.headline`).
    """
    labels = labels or labels_from(areas)
    pattern_stops = pattern_stops[pattern_stops["pattern_id"].isin(patterns["pattern_id"])]
    if network is not None:
        from .networks import street_geometry

        patterns, pattern_stops = street_geometry(patterns, pattern_stops, network)
    assignment, weights = assign(pattern_stops, areas, method=method, radius_m=radius_m, return_weights=True,
                                 network=network, walk_m=walk_m)
    stops = stop_table(patterns, pattern_stops, assignment, weights, alpha=alpha, correction=correction)
    table = pattern_table(patterns, stops, weights, k=k)
    source = " ".join(p for p in (labels.le_source,) if p)
    table["headline"] = [headline(row, labels.sex, labels.period, source) for _, row in table.iterrows()]
    geometry = gpd.GeoDataFrame(patterns[["pattern_id", "geometry_source", "geometry"]], crs=patterns.crs)
    return Result(stops=stops, patterns=table, geometry=geometry, labels=labels, weights=weights)


def run_gtfs(
    feed_path: str | Path,
    areas: gpd.GeoDataFrame,
    *,
    routes: Sequence[str] | None = None,
    all_patterns: bool = False,
    labels: Labels | None = None,
    engine: str = "gtfs-kit",
    **options,
) -> Result:
    """Run a GTFS feed against life expectancy areas.

    Parameters
    ----------
    feed_path : str or Path
        GTFS zip or folder.
    areas : geopandas.GeoDataFrame
        ``AREA_COLUMNS``, e.g. from :func:`gradient.areas.load_areas`.
    routes : sequence of str, optional
        Route short names or ids to keep; default all.
    all_patterns : bool, default False
        Every distinct pattern rather than each route and direction's main one.
    labels : Labels, optional
        Sources and period for maps and charts (default from ``areas.attrs``).
    engine : {'gtfs-kit', 'pyarrow'}, default 'gtfs-kit'
        The feed reader (:func:`gradient.gtfs.read_feed`); same results, pyarrow is
        the one for large feeds.
    **options
        ``method``, ``radius_m``, ``alpha``, ``correction``, ``k``, ``network``,
        ``walk_m``: as in :func:`run_patterns`.

    Returns
    -------
    Result

    Examples
    --------
    >>> from gradient import areas, datasets, pipeline
    >>> tracts = areas.load_areas(datasets.get_path("hillsborough_tracts"),
    ...                           datasets.get_path("usaleep"), "usaleep")  # doctest: +SKIP
    >>> res = pipeline.run_gtfs(datasets.get_path("hart_gtfs"), tracts)  # doctest: +SKIP
    >>> res.patterns.head()  # doctest: +SKIP
    """
    feed = gtfs.read_feed(feed_path, engine=engine)
    patterns, pattern_stops = gtfs.stop_patterns(feed, all_patterns=all_patterns, path=feed_path)
    patterns = select_routes(patterns, routes, feed_path)
    labels = labels or labels_from(areas, Path(feed_path).name)
    return run_patterns(patterns, pattern_stops, areas, labels, **options)


def run_tfl(
    sequences: str | Path,
    areas: gpd.GeoDataFrame,
    *,
    route_lines: str | Path | None = None,
    routes: Sequence[str] | None = None,
    labels: Labels | None = None,
    **options,
) -> Result:
    """Run TfL's bus sequences against life expectancy areas.

    Parameters
    ----------
    sequences : str or Path
        TfL's bus-sequences file (:func:`gradient.tfl.read_tfl_sequences`).
    areas : geopandas.GeoDataFrame
        ``AREA_COLUMNS``, e.g. England's MSOAs from :func:`gradient.areas.load_areas`.
    route_lines : str or Path, optional
        TfL's route lines, for distances along the roads; straight lines otherwise.
    routes : sequence of str, optional
        Route names to keep; default all.
    labels : Labels, optional
        Default from ``areas.attrs`` and the file's name.
    **options
        As in :func:`run_patterns`.

    Returns
    -------
    Result
    """
    patterns, pattern_stops = tfl.read_tfl_sequences(sequences, route_lines)
    patterns = select_routes(patterns, routes, sequences)
    labels = labels or labels_from(areas, Path(sequences).name)
    return run_patterns(patterns, pattern_stops, areas, labels, **options)


def pattern_title(row: pd.Series) -> str:
    """A title for one pattern: route name and its end stops."""
    return f"Route {row['route_name']}: {row['first_stop']} to {row['last_stop']}"


def write_outputs(
    result: Result,
    out_dir: str | Path,
    maps: int = 5,
    tiles: str | None = DEFAULT_TILES,
    areas: gpd.GeoDataFrame | None = None,
    also: Sequence[str] = (),
    progress: bool = False,
) -> dict[str, list[Path]]:
    """Write ``stops.csv``, ``patterns.csv``, and maps and profiles of the steepest patterns.

    Everything is written to a staging folder first and moved into ``out_dir`` only
    when all of it has been written (:func:`gradient.files.staged_dir`): an error or
    an interruption leaves ``out_dir`` as it was. See :func:`_write_all` for the files.

    Returns
    -------
    dict
        ``{"tables": [...], "maps": [...], "profiles": [...]}`` paths written, in ``out_dir``.
    """
    out = Path(out_dir)
    with staged_dir(out) as stage:
        staged = _write_all(result, stage, maps=maps, tiles=tiles, areas=areas, also=also, progress=progress)
    return {kind: [out / p.relative_to(stage) for p in paths] for kind, paths in staged.items()}


def _write_all(
    result: Result,
    out_dir: str | Path,
    maps: int = 5,
    tiles: str | None = DEFAULT_TILES,
    areas: gpd.GeoDataFrame | None = None,
    also: Sequence[str] = (),
    progress: bool = False,
) -> dict[str, list[Path]]:
    """Write ``stops.csv``, ``patterns.csv``, and maps and profiles of the steepest patterns.

    The CSVs hold the contract's columns in order, then the additional columns
    documented in ``docs/COLUMNS.md``. For the first ``maps`` patterns (by
    ``le_range``) that have any life expectancy, and for the patterns named in
    ``also``: ``maps/<pattern_id>.html`` (a self-contained page),
    ``maps/<pattern_id>.iframe.html`` (an ``<iframe>`` snippet) and
    ``maps/<pattern_id>.alt.txt`` (one paragraph of alt text), and
    ``profiles/<pattern_id>.png`` and ``.svg``; plus ``maps/network.html`` with every
    pattern when ``maps`` > 0. All maps and profiles share one colour scale and
    reference (:func:`gradient.colours.areas_scale`); ``areas`` adds the area layer.
    ``progress`` shows a progress bar (tqdm) over the maps.

    Returns
    -------
    dict
        ``{"tables": [...], "maps": [...], "profiles": [...]}`` paths written.
    """
    out = Path(out_dir)
    written: dict[str, list[Path]] = {"tables": [], "maps": [], "profiles": []}
    stop_cols = STOPS_CSV_COLUMNS + [c for c in STOPS_EXTRA_COLUMNS if c in result.stops]
    pattern_cols = PATTERNS_CSV_COLUMNS + [c for c in PATTERNS_EXTRA_COLUMNS if c in result.patterns]
    written["tables"].append(write_csv(result.stops[stop_cols], out / "stops.csv"))
    written["tables"].append(write_csv(result.patterns[pattern_cols], out / "patterns.csv"))
    mapped = result.patterns[result.patterns["n_stops_le"] > 0].head(max(maps, 0))
    chosen = list(dict.fromkeys(list(mapped["pattern_id"]) + [result.pattern(p)["pattern_id"] for p in also]))
    scale = areas_scale(result.stops)
    for pid in tqdm(chosen, desc="maps and profiles", unit="route", disable=not progress, leave=False):
        name = safe_name(pid)
        m = result.route_map(pid, tiles=tiles, areas=areas, scale=scale)
        written["maps"] += save_embed(m, out / "maps" / f"{name}.html")
        fig = result.profile(pid, scale=scale)
        for suffix in (".png", ".svg"):
            written["profiles"].append(charts.save_figure(fig, out / "profiles" / f"{name}{suffix}"))
        charts.plt.close(fig)
    if maps > 0:
        written["maps"].append(save_html(result.network_map(tiles=tiles), out / "maps" / "network.html"))
    return written
