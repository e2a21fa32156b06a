"""Walking catchments: how much street each stop reaches within a walk, area by area.

Exact bounded shortest walks (``scipy.sparse.csgraph.dijkstra`` with ``limit``), done
where the walkers can go: stops are taken in spatial order (the leaf order of a k-d tree)
in batches, and each batch is searched on the part of the graph its stops can reach, found
by one bounded search from all of the batch's stops at once. Every node on a walk of at most
``walk_m`` from a stop is itself within ``walk_m`` of that stop, so the batch's sub-graph
holds every such walk and the distances are the same as on the whole graph; time and memory
follow the batch, not the network.

Streets are cut by the area boundaries once, and only the streets that cross a boundary
are cut: a street wholly inside one area lies in it from end to end.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from .. import _arrays
from ..options import SNAP_M, WALK_M
from ..schema import WGS84, metric_crs
from .netarrays import MetricStreets, StreetArrays

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx

BATCH = 256
"""Stops searched together (each batch's sub-graph is about the area its stops can walk to)."""

MAX_CELLS = 20_000_000
"""At most this many distances (sources x sub-graph nodes, 160 MB) in flight: larger batches are split."""


def as_arrays(network: nx.MultiDiGraph | StreetArrays) -> StreetArrays:
    """A street network as :class:`~gradient.assign.netarrays.StreetArrays` (a graph is converted once)."""
    return network if isinstance(network, StreetArrays) else StreetArrays.from_graph(network)


def sparse_graph(n: int, rows: np.ndarray, cols: np.ndarray, w: np.ndarray) -> csr_matrix:
    """A csgraph matrix keeping the shortest of parallel edges (csr would sum them)."""
    order = np.lexsort((w, cols, rows))
    rows, cols, w = rows[order], cols[order], w[order]
    first = np.r_[True, (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])]
    # csgraph ignores explicit zeros: a zero-length edge gets a negligible length instead
    return csr_matrix((np.maximum(w[first], 1e-6), (rows[first], cols[first])), shape=(n, n))


def spatial_order(xy: np.ndarray) -> np.ndarray:
    """Positions of the points in spatial order: the leaf order of a k-d tree (scipy's ``cKDTree.indices``)."""
    if len(xy) == 0:
        return np.empty(0, np.int64)
    return cKDTree(xy, leafsize=16).indices


def local_searches(
    matrix: csr_matrix,
    sources: np.ndarray,
    limit: float | np.ndarray,
    batch: int = BATCH,
    return_predecessors: bool = False,
    max_cells: int = MAX_CELLS,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]]:
    """Bounded shortest paths from each source, batch by batch, each batch on its own sub-graph.

    Parameters
    ----------
    matrix : scipy.sparse.csr_matrix
        The graph (csgraph conventions), square.
    sources : numpy.ndarray of int
        Source nodes, searched in this order, ``batch`` at a time (give them in spatial
        order: a batch's sub-graph is then small).
    limit : float or numpy.ndarray
        Longest path searched, for all sources or one per source; a batch is searched
        with the largest limit of its sources.
    batch : int, default 256
    return_predecessors : bool, default False
    max_cells : int, default 20,000,000
        A batch whose sources times sub-graph nodes would exceed this is split in halves
        (long walks, far-apart sources), so memory stays about ``max_cells`` distances.

    Yields
    ------
    rows : numpy.ndarray of int
        The batch's positions in ``sources`` (batches come in the order of ``sources``).
    nodes : numpy.ndarray of int
        The sub-graph's nodes (positions in ``matrix``), ascending: every node within
        the batch's limit of one of its sources.
    dist : numpy.ndarray
        Shape (len(rows), len(nodes)): the distance from each source to each node, as
        ``dijkstra(matrix, indices=sources, limit=...)`` gives it on the whole graph
        (``inf`` beyond the batch's limit).
    pred : numpy.ndarray or None
        Predecessors as positions in ``nodes`` (-9999 for none), with
        ``return_predecessors``.
    """
    limits = np.broadcast_to(np.asarray(limit, float), sources.shape)
    todo = [np.arange(start, min(start + batch, len(sources))) for start in range(0, len(sources), batch)][::-1]
    while todo:
        rows = todo.pop()
        src, lim = sources[rows], float(limits[rows].max())
        reach = dijkstra(matrix, directed=True, indices=np.unique(src), limit=lim, min_only=True)
        nodes = np.flatnonzero(np.isfinite(reach))
        if len(rows) > 1 and len(rows) * len(nodes) > max_cells:
            todo += [rows[len(rows) // 2 :], rows[: len(rows) // 2]]
            continue
        sub = matrix[nodes][:, nodes]
        at = np.searchsorted(nodes, src)
        out = dijkstra(sub, directed=True, indices=at, limit=lim, return_predecessors=return_predecessors)
        if return_predecessors:
            yield rows, nodes, out[0], out[1]
        else:
            yield rows, nodes, out, None


def catchment_lengths(
    graph: nx.MultiDiGraph | StreetArrays,
    stops: pd.DataFrame,
    areas: gpd.GeoDataFrame,
    walk_m: float = WALK_M,
    snap_m: float = SNAP_M,
    crs=None,
    chunk: int = BATCH,
) -> tuple[pd.DataFrame, np.ndarray]:
    """How much street each stop reaches on foot within ``walk_m``, area by area.

    Each stop joins the network at its nearest point on the nearest street (within
    ``snap_m``), splitting that street; walking ignores one-way tags. Shortest walks are
    exact and bounded (``scipy.sparse.csgraph.dijkstra`` with ``limit=walk_m``), found
    for ``chunk`` stops at a time in spatial order, each batch on the part of the network
    its stops can reach (:func:`local_searches`). A street whose ends are reached with
    ``d0`` and ``d1`` metres walked counts its first ``walk_m - d0`` and last
    ``walk_m - d1`` metres (all of it when these meet). Streets are cut by the area
    boundaries once (only those that cross one), and each stop's reachable stretches are
    measured within each piece.

    Parameters
    ----------
    graph : networkx.MultiDiGraph or StreetArrays
        osmnx graph with a ``crs`` (:func:`~gradient.assign.streets.load_network`), or its
        arrays (:func:`~gradient.assign.networkfiles.read_streets`).
    stops : pandas.DataFrame
        Distinct ``stop_id`` with ``lon``, ``lat`` (WGS84).
    areas : geopandas.GeoDataFrame
        Polygons; rows are referred to by position.
    walk_m, snap_m : float
        Walk length and snapping distance, metres.
    crs : optional
        Metric CRS; default the stops' UTM zone.
    chunk : int, default 256
        Stops searched together (memory: about ``chunk`` × the nodes their walks can reach).

    Returns
    -------
    lengths : pandas.DataFrame
        One row per stop and area its walk reaches: ``stop`` (position in ``stops``),
        ``area`` (position in ``areas``), ``length_m`` (metres of reachable street in
        the area), sorted by stop and area.
    snapped : numpy.ndarray of bool
        Whether each stop lies within ``snap_m`` of the network (the others have no rows).
    """
    crs = crs or metric_crs(stops["lon"], stops["lat"])
    net = as_arrays(graph).metric(crs, undirected=True)
    tree = shapely.STRtree(net.lines)
    pieces = _area_pieces(net, tree, areas, crs)
    pts = np.asarray(gpd.GeoSeries(gpd.points_from_xy(stops["lon"], stops["lat"]), crs=WGS84).to_crs(crs).array)
    return _walk(net, tree, pts, pieces, walk_m, snap_m, chunk)


def _walk(
    net: MetricStreets,
    tree: shapely.STRtree,
    pts: np.ndarray,
    pieces: _Pieces,
    walk_m: float,
    snap_m: float,
    chunk: int,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Snap the stops (metric points) to the streets, search their walks batch by batch and measure them."""
    n_nodes, n_stops = len(net.node_ids), len(pts)
    (which, edge), _ = tree.query_nearest(pts, max_distance=snap_m, return_distance=True, all_matches=False)
    snapped = np.zeros(n_stops, bool)
    snapped[which] = True
    own = np.full(n_stops, -1)
    own[which] = edge
    along = np.zeros(n_stops)
    along[which] = shapely.line_locate_point(net.lines[edge], pts[which])

    # the street graph both ways, plus one start node per snapped stop with edges to its street's ends
    u, v, length = net.u, net.v, net.length
    s = np.flatnonzero(snapped)
    s = s[spatial_order(shapely.get_coordinates(pts[s]))]
    rows = np.r_[u, v, n_nodes + s, n_nodes + s]
    cols = np.r_[v, u, u[own[s]], v[own[s]]]
    w = np.r_[length, length, along[s], length[own[s]] - along[s]]
    matrix = sparse_graph(n_nodes + n_stops, rows, cols, w)
    # each node's streets, for finding the streets a walk touches
    ends = np.r_[u, v]
    incident = csr_matrix(
        (np.r_[np.arange(len(u)), np.arange(len(u))] + 1, (ends, np.arange(len(ends)))), shape=(n_nodes, len(ends))
    )

    frames = []
    where = np.full(n_nodes + n_stops, -1)
    for batch_rows, nodes, d, _ in local_searches(matrix, n_nodes + s, walk_m, batch=chunk):
        batch = s[batch_rows]
        where[nodes] = np.arange(len(nodes))
        dd = np.c_[d, np.full(len(batch), np.inf)]  # column -1: a node outside the sub-graph
        bi, ni = np.nonzero(d < walk_m)
        graph_nodes = nodes[ni] < n_nodes
        bi, ni = bi[graph_nodes], nodes[ni[graph_nodes]]
        # the streets at each reached node, for each stop that reached it
        sub = incident[ni]
        ei = sub.data - 1
        bi = np.repeat(bi, np.diff(sub.indptr))
        pair = np.unique(bi.astype(np.int64) * len(u) + ei)
        bi, ei = pair // len(u), pair % len(u)
        keep = ei != own[batch[bi]]  # a stop's own street is counted as two halves below
        bi, ei = bi[keep], ei[keep]
        k = np.arange(len(batch))
        oe = own[batch]
        du, dv = dd[bi, where[u[ei]]], dd[bi, where[v[ei]]]
        odu, odv = dd[k, where[u[oe]]], dd[k, where[v[oe]]]
        iv = [
            _reach(bi, ei, np.zeros(len(bi)), length[ei], du, dv, walk_m),
            _reach(k, oe, np.zeros(len(k)), along[batch], odu, np.zeros(len(k)), walk_m),
            _reach(k, oe, along[batch], length[oe], np.zeros(len(k)), odv, walk_m),
        ]
        where[nodes] = -1
        stop, e, a, b = (np.concatenate([part[j] for part in iv]) for j in range(4))
        frames.append(_measure(batch[stop], e, a, b, pieces))
    cols_out = ["stop", "area", "length_m"]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols_out)
    return out[cols_out].sort_values(["stop", "area"]).reset_index(drop=True), snapped


def _reach(stop, edge, o0, o1, d0, d1, walk_m) -> tuple[np.ndarray, ...]:
    """Reachable stretches ``[a, b]`` (metres along the edge) of edge spans ``[o0, o1]``.

    The span's ends are reached after ``d0`` and ``d1`` metres of walking. Returns
    ``stop``, ``edge``, ``a``, ``b`` of the stretches longer than nothing.
    """
    span = o1 - o0
    r0 = np.clip(walk_m - np.nan_to_num(d0, posinf=walk_m), 0, span)
    r1 = np.clip(walk_m - np.nan_to_num(d1, posinf=walk_m), 0, span)
    whole = r0 + r1 >= span
    part = ~whole
    stop = np.r_[stop, stop[part]]
    edge = np.r_[edge, edge[part]]
    a = np.r_[o0, (o1 - r1)[part]]
    b = np.r_[np.where(whole, o1, o0 + r0), o1[part]]
    ok = b > a
    return stop[ok], edge[ok], a[ok], b[ok]


class _Pieces:
    """The stretches ``[p0, p1]`` (metres along each edge) of each edge in each area, by edge."""

    def __init__(self, edge: np.ndarray, area: np.ndarray, p0: np.ndarray, p1: np.ndarray, n_edges: int) -> None:
        order = np.argsort(edge, kind="stable")
        self.area, self.p0, self.p1 = area[order], p0[order], p1[order]
        self.start = np.searchsorted(edge[order], np.arange(n_edges + 1))


def _area_pieces(net: MetricStreets, tree: shapely.STRtree, areas: gpd.GeoDataFrame, crs) -> _Pieces:
    """Where each edge lies in each area: whole if it lies inside one area only, else cut by the boundaries."""
    polys = np.asarray(areas.to_crs(crs).geometry.array)
    ai, ei = tree.query(polys, predicate="intersects")
    inside_a, inside_e = tree.query(polys, predicate="contains_properly")
    hits = np.bincount(ei, minlength=len(net.lines))
    whole = np.zeros(len(net.lines), bool)
    whole[inside_e[hits[inside_e] == 1]] = True
    # a closed loop or a self-crossing street goes through the cut below, as it always has (a closed
    # loop's pieces start and end at the same point, so it counts 0 m: kept so results stay the same)
    whole[whole] = shapely.is_simple(net.lines[whole]) & ~shapely.is_closed(net.lines[whole])
    w_edges = np.flatnonzero(whole)
    w_area = np.zeros(len(net.lines), np.int64)
    w_area[inside_e] = inside_a
    cut = ~whole[ei]
    ai, ei = ai[cut], ei[cut]
    lines = net.lines
    parts = shapely.intersection(lines[ei], polys[ai])
    geoms, index = shapely.get_parts(parts, return_index=True)
    ok = shapely.get_type_id(geoms) == 1  # LineStrings; points where a street only touches
    geoms, index = geoms[ok], index[ok]
    line = lines[ei[index]]
    p = shapely.line_locate_point(line, shapely.get_point(geoms, 0))
    q = shapely.line_locate_point(line, shapely.get_point(geoms, -1))
    return _Pieces(
        np.r_[w_edges, ei[index]],
        np.r_[w_area[w_edges], ai[index]],
        np.r_[np.zeros(len(w_edges)), np.minimum(p, q)],
        np.r_[net.length[w_edges], np.maximum(p, q)],
        len(lines),
    )


def _measure(stop: np.ndarray, edge: np.ndarray, a: np.ndarray, b: np.ndarray, pieces: _Pieces) -> pd.DataFrame:
    """Metres of the stretches ``[a, b]`` of ``edge`` in each area, summed by stop and area."""
    first, count = pieces.start[edge], np.diff(pieces.start)[edge]
    row = np.repeat(np.arange(len(edge)), count)
    at = _arrays.ranges(first, count)
    m = np.clip(np.minimum(b[row], pieces.p1[at]) - np.maximum(a[row], pieces.p0[at]), 0, None)
    got = pd.DataFrame({"stop": stop[row], "area": pieces.area[at], "length_m": m})
    return got[got["length_m"] > 0].groupby(["stop", "area"], as_index=False)["length_m"].sum()
