"""Today's walking catchments before issue 30, kept only to hold the new ones equal to them.

``catchment_lengths`` here is ``gradient.assign.streets.catchment_lengths`` as it was at
59a588b: the graph to GeoDataFrames of every edge (osmnx ``graph_to_gdfs``), one bounded
Dijkstra per stop on the whole graph, both ends of every edge read for every stop, and
every edge overlaid with the areas.
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from gradient.errors import InputError
from gradient.options import SNAP_M, WALK_M
from gradient.schema import WGS84, metric_crs


def _metric_edges(G: nx.MultiDiGraph, crs, undirected: bool):
    """Node ids and coordinates, and edges (u, v indices, metric line, length) of ``G`` in ``crs``.

    Undirected: a two-way street, stored by osmnx as u-v and v-u, is one edge (pairs of
    nodes with edges of equal length to the decimetre count once; osmnx's own
    ``to_undirected`` compares geometries and is ten times slower). Each edge's line
    runs from its ``u`` to its ``v``.
    """
    if "crs" not in G.graph:
        raise InputError("the street network declares no crs (graph attribute 'crs'); load it with osmnx")
    nodes, edges = ox.graph_to_gdfs(G, nodes=True, edges=True, fill_edge_geometry=True)
    nodes = nodes.to_crs(crs)
    edges = edges.to_crs(crs)
    node_ids = nodes.index.to_numpy()
    xy = shapely.get_coordinates(nodes.geometry.array)
    pos = pd.Series(np.arange(len(node_ids)), index=node_ids)
    u = pos.reindex(edges.index.get_level_values(0)).to_numpy()
    v = pos.reindex(edges.index.get_level_values(1)).to_numpy()
    lines = np.asarray(edges.geometry.array)
    if undirected:
        key = pd.DataFrame({"a": np.minimum(u, v), "b": np.maximum(u, v), "m": np.round(shapely.length(lines), 1)})
        once = ~key.duplicated().to_numpy()
        u, v, lines = u[once], v[once], lines[once].copy()
    # orient every line from u to v (undirected graphs may store it either way)
    first = shapely.get_coordinates(shapely.get_point(lines, 0))
    flip = np.hypot(*(first - xy[v]).T) < np.hypot(*(first - xy[u]).T)
    lines[flip] = shapely.reverse(lines[flip])
    return node_ids, xy, u, v, lines, shapely.length(lines)


def _sparse(n: int, rows: np.ndarray, cols: np.ndarray, w: np.ndarray) -> csr_matrix:
    """A csgraph matrix keeping the shortest of parallel edges (csr would sum them)."""
    order = np.lexsort((w, cols, rows))
    rows, cols, w = rows[order], cols[order], w[order]
    first = np.r_[True, (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])]
    # csgraph ignores explicit zeros: a zero-length edge gets a negligible length instead
    return csr_matrix((np.maximum(w[first], 1e-6), (rows[first], cols[first])), shape=(n, n))


def catchment_lengths(
    graph: nx.MultiDiGraph,
    stops: pd.DataFrame,
    areas: gpd.GeoDataFrame,
    walk_m: float = WALK_M,
    snap_m: float = SNAP_M,
    crs=None,
    chunk: int = 256,
) -> tuple[pd.DataFrame, np.ndarray]:
    """How much street each stop reaches on foot within ``walk_m``, area by area.

    Each stop joins the network at its nearest point on the nearest street (within
    ``snap_m``), splitting that street; walking ignores one-way tags. Shortest walks
    from all stops are found at once (``scipy.sparse.csgraph.dijkstra`` with
    ``limit=walk_m``). A street whose ends are reached with ``d0`` and ``d1`` metres
    walked counts its first ``walk_m - d0`` and last ``walk_m - d1`` metres (all of it
    when these meet). Streets are cut by the area boundaries once, and each stop's
    reachable stretches are measured within each piece.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        osmnx graph with a ``crs`` (:func:`load_network`).
    stops : pandas.DataFrame
        Distinct ``stop_id`` with ``lon``, ``lat`` (WGS84).
    areas : geopandas.GeoDataFrame
        Polygons; rows are referred to by position.
    walk_m, snap_m : float
        Walk length and snapping distance, metres.
    crs : optional
        Metric CRS; default the stops' UTM zone.
    chunk : int, default 256
        Stops per dijkstra call (memory: ``chunk`` × nodes floats).

    Returns
    -------
    lengths : pandas.DataFrame
        One row per stop and area its walk reaches: ``stop`` (position in ``stops``),
        ``area`` (position in ``areas``), ``length_m`` (metres of reachable street in
        the area).
    snapped : numpy.ndarray of bool
        Whether each stop lies within ``snap_m`` of the network (the others have no rows).
    """
    crs = crs or metric_crs(stops["lon"], stops["lat"])
    node_ids, xy, u, v, lines, length = _metric_edges(graph, crs, undirected=True)
    n_nodes, n_stops = len(node_ids), len(stops)
    pts = np.asarray(gpd.GeoSeries(gpd.points_from_xy(stops["lon"], stops["lat"]), crs=WGS84).to_crs(crs).array)
    tree = shapely.STRtree(lines)
    (which, edge), dist = tree.query_nearest(pts, max_distance=snap_m, return_distance=True, all_matches=False)
    snapped = np.zeros(n_stops, bool)
    snapped[which] = True
    own = np.full(n_stops, -1)
    own[which] = edge
    along = np.zeros(n_stops)
    along[which] = shapely.line_locate_point(lines[edge], pts[which])

    # the street graph both ways, plus one start node per snapped stop with edges to its street's ends
    s = np.flatnonzero(snapped)
    rows = np.r_[u, v, n_nodes + s, n_nodes + s]
    cols = np.r_[v, u, u[own[s]], v[own[s]]]
    w = np.r_[length, length, along[s], length[own[s]] - along[s]]
    matrix = _sparse(n_nodes + n_stops, rows, cols, w)

    pieces = _area_pieces(lines, areas, crs)
    frames = []
    for start in range(0, len(s), chunk):
        batch = s[start : start + chunk]
        d = dijkstra(matrix, directed=True, indices=n_nodes + batch, limit=walk_m)
        du, dv = d[:, u], d[:, v]
        bi, ei = np.nonzero((du < walk_m) | (dv < walk_m))
        keep = ei != own[batch[bi]]  # a stop's own street is counted as two halves below
        bi, ei = bi[keep], ei[keep]
        k = np.arange(len(batch))
        oe = own[batch]
        intervals = [
            _reach(bi, ei, np.zeros(len(bi)), length[ei], du[bi, ei], dv[bi, ei], walk_m),
            _reach(k, oe, np.zeros(len(k)), along[batch], du[k, oe], np.zeros(len(k)), walk_m),
            _reach(k, oe, along[batch], length[oe], np.zeros(len(k)), dv[k, oe], walk_m),
        ]
        iv = pd.concat(intervals, ignore_index=True)
        iv["stop"] = batch[iv["stop"].to_numpy()]
        m = iv.merge(pieces, on="edge")
        m["length_m"] = np.clip(np.minimum(m["b"], m["p1"]) - np.maximum(m["a"], m["p0"]), 0, None)
        frames.append(m[m["length_m"] > 0].groupby(["stop", "area"], as_index=False)["length_m"].sum())
    cols_out = ["stop", "area", "length_m"]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols_out)
    return out[cols_out].sort_values(["stop", "area"]).reset_index(drop=True), snapped


def _reach(stop, edge, o0, o1, d0, d1, walk_m) -> pd.DataFrame:
    """Reachable stretches ``[a, b]`` (metres along the edge) of edge spans ``[o0, o1]``.

    The span's ends are reached after ``d0`` and ``d1`` metres of walking.
    """
    span = o1 - o0
    r0 = np.clip(walk_m - np.nan_to_num(d0, posinf=walk_m), 0, span)
    r1 = np.clip(walk_m - np.nan_to_num(d1, posinf=walk_m), 0, span)
    whole = r0 + r1 >= span
    first = pd.DataFrame({"stop": stop, "edge": edge, "a": o0, "b": np.where(whole, o1, o0 + r0)})
    second = pd.DataFrame({"stop": stop, "edge": edge, "a": o1 - r1, "b": o1})[~whole]
    both = pd.concat([first, second], ignore_index=True)
    return both[both["b"] > both["a"]]


def _area_pieces(lines: np.ndarray, areas: gpd.GeoDataFrame, crs) -> pd.DataFrame:
    """The stretches ``[p0, p1]`` (metres along each edge) that lie in each area."""
    polys = np.asarray(areas.to_crs(crs).geometry.array)
    ei, ai = shapely.STRtree(polys).query(lines, predicate="intersects")
    parts = shapely.intersection(lines[ei], polys[ai])
    geoms, index = shapely.get_parts(parts, return_index=True)
    ok = shapely.get_type_id(geoms) == 1  # LineStrings; points where a street only touches
    geoms, index = geoms[ok], index[ok]
    line = lines[ei[index]]
    p = shapely.line_locate_point(line, shapely.get_point(geoms, 0))
    q = shapely.line_locate_point(line, shapely.get_point(geoms, -1))
    return pd.DataFrame({"edge": ei[index], "area": ai[index], "p0": np.minimum(p, q), "p1": np.maximum(p, q)})
