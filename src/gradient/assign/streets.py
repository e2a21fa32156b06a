"""Street networks (osmnx): load or download them, walk catchments, and street-following lines.

Three uses of an OpenStreetMap street network:

- :func:`load_network` reads one from local files (osmnx GraphML, or OSM XML filtered to a
  network type), :func:`download_network` fetches one from OpenStreetMap for the area
  around some stops and caches it (only when asked: tests never download);
- :func:`catchment_lengths` (:mod:`gradient.assign.walks`) measures, for each stop, the
  length of street reachable within a walk and how much of it lies in each area (used by
  :func:`gradient.assign.catchments.assign_network`);
- :func:`street_geometry` routes patterns that have no route geometry along the streets,
  giving both their map lines and ``dist_m``.

Graphs are osmnx ``MultiDiGraph`` objects with a ``crs`` graph attribute, or their arrays
(:class:`~gradient.assign.netarrays.StreetArrays`, which :func:`~gradient.assign.networkfiles.read_streets`
reads from files once and caches); they are projected to a metric CRS (the stops' UTM zone
unless given) before anything is measured.
"""

from __future__ import annotations

import hashlib
import logging
import re
import tempfile
import warnings
import xml.etree.ElementTree as ET
from os import PathLike
from pathlib import Path
from typing import Sequence

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import shapely
from pyproj import CRS
from scipy.spatial import cKDTree

from ..errors import GradientWarning, InputError, NetworkError, OptionError
from ..options import SNAP_M
from ..schema import WGS84, metric_crs
from .netarrays import StreetArrays
from .walks import as_arrays, catchment_lengths, local_searches, sparse_graph, spatial_order

__all__ = [
    "NETWORK_TYPES",
    "catchment_lengths",
    "download_network",
    "keeps_way",
    "load_network",
    "street_geometry",
]

log = logging.getLogger(__name__)

NETWORK_TYPES = ("all", "drive", "walk")
"""Network types :func:`load_network` can filter OSM XML to (osmnx's own filters)."""


MAX_DETOUR = 3.0
"""A routed stop-to-stop hop longer than this many times the straight line (plus
``DETOUR_SLACK_M``) is taken to have snapped to the wrong carriageway: it stays straight."""

DETOUR_SLACK_M = 200.0

_EXCLUDE = {
    # osmnx 2's Overpass filters (``osmnx._overpass._get_network_filter``): tag -> regex a
    # way's value must not match
    "all": {
        "area": "yes",
        "highway": "abandoned|construction|no|planned|platform|proposed|raceway|razed|rest_area|services",
    },
    "drive": {
        "area": "yes",
        "access": "private",
        "highway": "abandoned|bridleway|bus_guideway|construction|corridor|cycleway|elevator|escalator|"
        "footway|no|path|pedestrian|planned|platform|proposed|raceway|razed|rest_area|service|services|"
        "steps|track",
        "motor_vehicle": "no",
        "motorcar": "no",
        "service": "alley|driveway|emergency_access|parking|parking_aisle|private",
    },
    "walk": {
        "area": "yes",
        "access": "private",
        "highway": "abandoned|bus_guideway|construction|cycleway|motor|no|planned|platform|proposed|"
        "raceway|razed|rest_area|services",
        "foot": "no",
        "service": "private",
        "sidewalk": "separate",
        "sidewalk:both": "separate",
        "sidewalk:left": "separate",
        "sidewalk:right": "separate",
    },
}


def keeps_way(tags: dict, network_type: str) -> bool:
    """Whether a way with these OSM tags belongs to a ``network_type`` network.

    The rules are osmnx's Overpass filters: the way must have a ``highway`` tag and no
    tag value matching the type's exclusions (e.g. ``highway=footway`` is not ``drive``,
    ``highway=motorway`` is not ``walk``). A tag holding a list (osmnx's merged edges)
    passes if any of its values does.

    Examples
    --------
    >>> keeps_way({"highway": "footway"}, "walk"), keeps_way({"highway": "footway"}, "drive")
    (True, False)
    """
    if "highway" not in tags:
        return False
    for key, pattern in _EXCLUDE[network_type].items():
        if key not in tags or tags[key] is None:
            continue
        values = tags[key] if isinstance(tags[key], list) else [tags[key]]
        if all(re.search(pattern, str(v)) for v in values):
            return False
    return True


def _check_type(network_type: str) -> None:
    if network_type not in NETWORK_TYPES:
        raise OptionError(
            f"network_type={network_type!r} is not one of {', '.join(NETWORK_TYPES)}", param="network_type"
        )


def _read_xml(path: Path, network_type: str) -> nx.MultiDiGraph:
    """OSM XML to a simplified graph of the ways ``network_type`` keeps."""
    try:
        tree = ET.parse(path)
    except (ET.ParseError, OSError) as exc:
        raise NetworkError(f"not a readable OSM XML file ({exc}); give an .osm file or osmnx GraphML", path) from exc
    root = tree.getroot()
    if root.tag != "osm":
        raise NetworkError(f"root element is <{root.tag}>, not <osm>; give an OSM XML file", path)
    dropped = 0
    for way in root.findall("way"):
        tags = {t.get("k"): t.get("v") for t in way.findall("tag")}
        if not keeps_way(tags, network_type):
            root.remove(way)
            dropped += 1
    log.info("%s: dropped %d ways that are not part of a %s network", path.name, dropped, network_type)
    with tempfile.TemporaryDirectory() as tmp:
        filtered = Path(tmp) / "filtered.osm"
        tree.write(filtered, encoding="utf-8", xml_declaration=True)
        try:
            G = ox.graph_from_xml(filtered, bidirectional=network_type == "walk", retain_all=True)
        except (ValueError, KeyError) as exc:  # osmnx: no ways or nodes left
            raise NetworkError(f"no streets of type {network_type!r} in this OSM file ({exc})", path) from exc
    G.remove_nodes_from([n for n, degree in G.degree() if degree == 0])  # nodes of the dropped ways
    return G


def _read_graphml(path: Path, network_type: str) -> nx.MultiDiGraph:
    try:
        G = ox.load_graphml(path)
    except Exception as exc:  # osmnx and networkx raise many kinds on bad GraphML
        raise NetworkError(f"not a readable osmnx GraphML file ({type(exc).__name__}: {exc})", path) from exc
    if network_type != "all":
        drop = [(u, v, k) for u, v, k, d in G.edges(keys=True, data=True) if not keeps_way(d, network_type)]
        G.remove_edges_from(drop)
        G.remove_nodes_from([n for n, degree in G.degree() if degree == 0])
    return G


def load_network(
    path: str | PathLike[str] | Sequence[str | PathLike[str]], network_type: str = "all"
) -> nx.MultiDiGraph:
    """Read a street network from local files.

    Parameters
    ----------
    path : str or Path, or a sequence of them
        osmnx GraphML (``.graphml``, as saved by ``osmnx.save_graphml``) or OSM XML
        (``.osm`` or ``.xml``). Several files are joined into one graph (OSM node ids
        are shared, so streets that cross from one extract into the next connect).
    network_type : {'all', 'drive', 'walk'}, default 'all'
        Keep only these ways, by osmnx's own rules (:func:`keeps_way`). osmnx 2's
        ``graph_from_xml`` keeps every way in the file, so OSM XML is filtered here
        before the graph is built (``walk`` graphs ignore one-way tags). GraphML edges
        are filtered on the tags they kept (``highway``, ``access``, ``service``).

    Returns
    -------
    networkx.MultiDiGraph
        osmnx graph: nodes with ``x``, ``y`` (the file's CRS, usually WGS84 degrees),
        edges with ``length`` (metres) and ``geometry`` where not straight; graph
        attribute ``crs``.

    Raises
    ------
    NetworkError
        If a file is missing, unreadable, of another kind, or has no streets of the
        type asked for (the message names the file).
    InputError
        If ``network_type`` is unknown.

    Examples
    --------
    >>> from gradient import assign, datasets
    >>> G = assign.load_network(datasets.get_path("moorgate_walk"), "walk")  # doctest: +SKIP
    """
    _check_type(network_type)
    paths = [path] if isinstance(path, (str, PathLike)) else list(path)
    if not paths:
        raise InputError("load_network: give at least one network file")
    graphs = []
    for p in map(Path, paths):
        if not p.is_file():
            raise NetworkError("no such street network file; give an osmnx GraphML or OSM XML file", p)
        suffix = p.suffix.lower()
        if suffix == ".graphml":
            G = _read_graphml(p, network_type)
        elif suffix in (".osm", ".xml"):
            G = _read_xml(p, network_type)
        else:
            raise NetworkError(f"unknown street network format {suffix!r}; give .graphml or .osm", p)
        if G.number_of_edges() == 0:
            raise NetworkError(f"no streets of type {network_type!r} in this file", p)
        if "crs" not in G.graph:
            raise NetworkError("the graph declares no crs; save it with osmnx", p)
        graphs.append(G)
    if len(graphs) == 1:
        return graphs[0]
    crss = {CRS.from_user_input(G.graph["crs"]) for G in graphs}
    if len(crss) > 1:
        raise NetworkError(
            f"the files' graphs are in different CRSs ({', '.join(c.to_string() for c in crss)})", paths[0]
        )
    joined = nx.compose_all(graphs)
    joined.graph = dict(graphs[0].graph)
    return joined


def download_network(
    stops: pd.DataFrame,
    network_type: str = "drive",
    buffer_m: float = 1000.0,
    cache_dir: str | PathLike[str] | None = None,
) -> nx.MultiDiGraph:
    """Download the OpenStreetMap network around some stops (needs internet), with a cache.

    The area is the convex hull of the stops grown by ``buffer_m``. The graph is
    saved as GraphML in ``cache_dir`` (default ``data/raw/osm/`` of the checkout, see
    :func:`gradient.datasets.data_dir`) under a name made from the network type and
    the area, and read from there on later calls, without the internet.

    Parameters
    ----------
    stops : pandas.DataFrame
        Columns ``lon``, ``lat`` (WGS84).
    network_type : {'all', 'drive', 'walk'}, default 'drive'
    buffer_m : float, default 1000
    cache_dir : str or Path, optional

    Returns
    -------
    networkx.MultiDiGraph
        As :func:`load_network`.

    Raises
    ------
    NetworkError
        If the download fails (no internet, Overpass refuses); the message says to
        give a local file with :func:`load_network` instead.
    """
    from ..datasets import data_dir

    _check_type(network_type)
    lon, lat = stops["lon"].to_numpy(float), stops["lat"].to_numpy(float)
    crs = metric_crs(lon, lat)
    hull = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=WGS84).to_crs(crs).union_all().convex_hull
    area = gpd.GeoSeries([hull.buffer(buffer_m)], crs=crs).to_crs(WGS84).iloc[0]
    key = hashlib.sha1(f"{network_type} {np.round(area.bounds, 4).tolist()}".encode()).hexdigest()[:12]
    cache = Path(cache_dir) if cache_dir is not None else data_dir() / "osm"
    target = cache / f"osm_{network_type}_{key}.graphml"
    if target.is_file():
        log.info("street network from the cache %s", target)
        return load_network(target)
    try:
        G = ox.graph_from_polygon(area, network_type=network_type, retain_all=True)
    except Exception as exc:  # requests and osmnx errors: no internet, Overpass busy or refusing
        raise NetworkError(
            f"could not download the {network_type} network from OpenStreetMap ({type(exc).__name__}: {exc}); "
            "without internet, give a local GraphML or OSM XML file to load_network"
        ) from exc
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".graphml.part")
    ox.save_graphml(G, partial)
    partial.replace(target)  # atomic: a half-written cache is never read
    log.info("street network saved to %s", target)
    return G


# --- street-following geometry ------------------------------------------------------------


def street_geometry(
    patterns: gpd.GeoDataFrame,
    pattern_stops: pd.DataFrame,
    graph: nx.MultiDiGraph | StreetArrays,
    snap_m: float = SNAP_M,
    crs=None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Route patterns without route geometry along the streets, stop to stop.

    Only patterns with ``geometry_source == "straight_line"`` change. Each hop between
    consecutive stops whose nearest network nodes both lie within ``snap_m`` follows the
    shortest path (by length, one-way streets respected) between those nodes: stop,
    nearest node, path, nearest node, stop. A hop with no path, or one longer than
    ``MAX_DETOUR`` times the straight line plus ``DETOUR_SLACK_M`` (a stop snapped to the
    far carriageway), stays a straight line. A pattern with at least one routed hop
    takes ``geometry_source = "street_network"``.

    Parameters
    ----------
    patterns, pattern_stops
        As returned by a source (:func:`gradient.sources.gtfs.stop_patterns`,
        :func:`gradient.sources.tfl.read_tfl_sequences`).
    graph : networkx.MultiDiGraph or StreetArrays
        A drive network with a ``crs`` (:func:`load_network`), or its arrays
        (:func:`~gradient.assign.networkfiles.read_streets`).
    snap_m : float, default 100
    crs : optional
        Metric CRS to measure in; default the stops' UTM zone.

    Returns
    -------
    patterns : geopandas.GeoDataFrame
        The same rows and columns; for routed patterns ``geometry`` (EPSG:4326) follows
        the streets and ``geometry_source`` is ``street_network``.
    pattern_stops : pandas.DataFrame
        The same rows and columns; for routed patterns ``dist_m`` is metres along the
        new line from the first stop (straight hops count their straight length).

    Warns
    -----
    GradientWarning
        With counts of patterns routed, of their hops left straight, and of patterns
        the network does not cover (left as straight lines).
    """
    todo = patterns.index[patterns["geometry_source"] == "straight_line"]
    if len(todo) == 0:
        return patterns, pattern_stops
    ps = pattern_stops.reset_index(drop=True)
    sel = ps.index[ps["pattern_id"].isin(patterns.loc[todo, "pattern_id"])]
    sub = ps.loc[sel].sort_values(["pattern_id", "stop_sequence"], kind="stable")
    crs = crs or metric_crs(sub["lon"], sub["lat"])
    node_ids, xy, u, v, lines, length = as_arrays(graph).metric(crs, undirected=False)
    pts = shapely.get_coordinates(gpd.points_from_xy(sub["lon"], sub["lat"], crs=WGS84).to_crs(crs))
    gap, near = cKDTree(xy).query(pts, distance_upper_bound=snap_m)
    near = np.where(np.isfinite(gap), near, -1)
    pid = sub["pattern_id"].to_numpy()
    hop = np.flatnonzero(pid[1:] == pid[:-1])  # hop from row i to row i + 1 of ``sub``
    straight = np.hypot(*(pts[hop + 1] - pts[hop]).T)
    hop_len = straight.copy()
    routed = np.zeros(len(hop), bool)
    paths: dict[int, list[int]] = {}

    matrix = sparse_graph(len(node_ids), u, v, length)
    best = pd.DataFrame({"u": u, "v": v, "w": length, "e": np.arange(len(u))}).sort_values("w")
    best = best.drop_duplicates(["u", "v"]).sort_values(["u", "v"])
    pair_key, pair_edge = best["u"].to_numpy() * len(node_ids) + best["v"].to_numpy(), best["e"].to_numpy()
    a, b = near[hop], near[hop + 1]
    ok = np.flatnonzero((a >= 0) & (b >= 0))
    # each source searched as far as its longest hop may go, in spatial order, on local sub-graphs
    bound = pd.Series(MAX_DETOUR * straight[ok] + DETOUR_SLACK_M).groupby(a[ok]).max()
    sources = bound.index.to_numpy()
    order = spatial_order(xy[sources])
    sources, limits = sources[order], bound.to_numpy()[order]
    hops_of = pd.Series(ok).groupby(a[ok]).agg(list)
    where = np.full(len(node_ids), -1)  # a node's position in the batch's sub-graph
    for rows, nodes, d, pred in local_searches(matrix, sources, limits, batch=128, return_predecessors=True):
        assert pred is not None  # asked for above
        where[nodes] = np.arange(len(nodes))
        for r, src in zip(range(len(rows)), sources[rows]):
            for h in hops_of[src]:
                to, home = where[b[h]], where[a[h]]
                total = gap[hop[h]] + (d[r, to] if to >= 0 else np.inf) + gap[hop[h] + 1]
                if not np.isfinite(total) or total > MAX_DETOUR * straight[h] + DETOUR_SLACK_M:
                    continue
                path = [to]
                while path[-1] != home:
                    path.append(pred[r, path[-1]])
                paths[h] = nodes[path[::-1]].tolist()
                hop_len[h] = total
                routed[h] = True
        where[nodes] = -1

    # new lines and distances, pattern by pattern
    out_p, out_ps = patterns.copy(), ps.copy()
    starts = np.flatnonzero(np.r_[True, pid[1:] != pid[:-1]])
    ends = np.r_[starts[1:], len(pid)]
    hop_at = pd.Series(np.arange(len(hop)), index=hop)
    n_routed_patterns = n_straight_hops = 0
    new_geoms, new_ids = [], []
    for s0, s1 in zip(starts, ends):
        hs = hop_at.reindex(np.arange(s0, s1 - 1)).to_numpy(int)
        if not routed[hs].any():
            continue
        n_routed_patterns += 1
        n_straight_hops += int((~routed[hs]).sum())
        coords = [pts[s0]]
        for h in hs:
            if routed[h]:
                nodes = np.asarray(paths[h])
                coords.append(xy[nodes[:1]])
                # the shortest edge from each node of the path to the next
                if len(nodes) > 1:
                    edges = pair_edge[np.searchsorted(pair_key, nodes[:-1] * len(node_ids) + nodes[1:])]
                    line_xy, which = shapely.get_coordinates(lines[edges], return_index=True)
                    coords.append(line_xy[np.r_[False, which[1:] == which[:-1]]])  # each line but its first point
            coords.append(pts[hop[h] + 1])
        c = np.vstack(coords)
        c = c[np.r_[True, np.any(np.diff(c, axis=0) != 0, axis=1)]]
        new_geoms.append(shapely.LineString(c) if len(c) > 1 else shapely.LineString([c[0], c[0]]))
        new_ids.append(pid[s0])
        out_ps.loc[sub.index[s0:s1], "dist_m"] = np.r_[0.0, np.cumsum(hop_len[hs])]
    if new_ids:
        lonlat = gpd.GeoSeries(new_geoms, crs=crs).to_crs(patterns.crs or WGS84)
        at = out_p.index[out_p["pattern_id"].isin(new_ids)]
        order = pd.Series(range(len(new_ids)), index=new_ids)
        out_p.loc[at, "geometry"] = lonlat.to_numpy()[order[out_p.loc[at, "pattern_id"]].to_numpy()]
        out_p.loc[at, "geometry_source"] = "street_network"
    n_left = len(todo) - n_routed_patterns
    if n_left or n_straight_hops:
        warnings.warn(
            f"{n_routed_patterns} of {len(todo)} patterns without route geometry now follow the street "
            f"network ({n_straight_hops} of their stop-to-stop hops stay straight: a stop over {snap_m:g} m "
            f"from the network, no path, or a detour); {n_left} stay straight lines (the network does not "
            "cover them)",
            GradientWarning,
            stacklevel=2,
        )
    log.info("street-following geometry for %d of %d straight-line patterns", n_routed_patterns, len(todo))
    out_ps.index = pattern_stops.index
    return out_p, out_ps
