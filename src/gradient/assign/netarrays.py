"""Street networks as arrays: read once (GraphML, OSM XML, OSM PBF), cached, projected in one step.

A :class:`StreetArrays` holds what walking catchments and street-following lines need of
a street network, and nothing else: node ids and coordinates, each directed edge's end
nodes and its line (the edge's ``geometry``, or the straight line between its nodes).
It comes from

- an osmnx graph (:meth:`StreetArrays.from_graph`: one pass over the edges, no
  GeoDataFrames);
- files (:func:`~gradient.assign.networkfiles.read_streets`): osmnx GraphML read straight into arrays, element by
  element, with osmnx's own types and rules (a networkx graph of a city's million nodes
  would hold about 16 GB); OSM XML through osmnx, as :func:`~gradient.assign.streets.load_network`
  reads it; OSM PBF through pyosmium. Each file's arrays are cached as ``.npz``, keyed by
  the file's SHA-256 and the network type, so a second run reads them in about a second.

:meth:`StreetArrays.metric` projects it into a metric CRS as the edge lines, their
lengths and (for walking) each two-way street once.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Sequence

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from ..errors import InputError, NetworkError

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx

log = logging.getLogger(__name__)

CACHE_VERSION = 1
"""Bumped whenever what the cache holds changes: older cached files are then read again."""


class MetricStreets(NamedTuple):
    """A street network measured in a metric CRS (:meth:`StreetArrays.metric`)."""

    node_ids: np.ndarray
    """Node ids, as in the graph."""
    xy: np.ndarray
    """Node coordinates, metres, shape (nodes, 2)."""
    u: np.ndarray
    """Each edge's first node (position in ``node_ids``)."""
    v: np.ndarray
    """Each edge's last node."""
    lines: np.ndarray
    """Each edge's line (shapely), running from ``u`` to ``v``."""
    length: np.ndarray
    """Each line's length, metres."""


@dataclass(frozen=True, eq=False)
class StreetArrays:
    """A street network as arrays, in the CRS of its source.

    Parameters
    ----------
    node_ids : numpy.ndarray
        Node ids (OSM ids for files), in the graph's node order.
    x, y : numpy.ndarray
        Node coordinates in ``crs``.
    u, v : numpy.ndarray of int
        Each directed edge's end nodes (positions in ``node_ids``), in the graph's edge order.
    key : numpy.ndarray of int
        Each edge's key among the edges from ``u`` to ``v`` (osmnx's third index).
    offsets : numpy.ndarray of int
        Edge ``i``'s line is ``coords[offsets[i]:offsets[i + 1]]``.
    coords : numpy.ndarray
        Every edge's line, shape (points, 2), in ``crs``: its ``geometry`` where it has
        one, else its two nodes.
    crs : str
        The coordinates' CRS (WGS84 for OpenStreetMap files).
    """

    node_ids: np.ndarray
    x: np.ndarray
    y: np.ndarray
    u: np.ndarray
    v: np.ndarray
    key: np.ndarray
    offsets: np.ndarray
    coords: np.ndarray
    crs: str
    _memo: dict = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.node_ids)

    def number_of_edges(self) -> int:
        """The number of directed edges."""
        return len(self.u)

    @classmethod
    def from_graph(cls, G: nx.MultiDiGraph) -> StreetArrays:
        """The arrays of an osmnx graph (nodes with ``x``, ``y``; edges with ``geometry`` where not straight).

        Raises
        ------
        InputError
            If the graph declares no ``crs``.
        """
        if "crs" not in G.graph:
            raise InputError("the street network declares no crs (graph attribute 'crs'); load it with osmnx")
        ids = list(G.nodes)
        n = len(ids)
        x = np.fromiter((d["x"] for _, d in G.nodes(data=True)), float, n)
        y = np.fromiter((d["y"] for _, d in G.nodes(data=True)), float, n)
        pos = dict(zip(ids, range(n)))
        edges = list(G.edges(keys=True, data="geometry"))
        u = np.fromiter((pos[e[0]] for e in edges), np.int64, len(edges))
        v = np.fromiter((pos[e[1]] for e in edges), np.int64, len(edges))
        keys = [e[2] for e in edges]
        numeric = all(isinstance(k, (int, np.integer)) for k in keys)
        key = np.asarray(keys, np.int64) if numeric else np.zeros(len(u), np.int64)
        geoms = np.array([e[3] for e in edges], dtype=object)
        return cls._assemble(np.asarray(ids), x, y, u, v, key, geoms, str(G.graph["crs"]))

    @classmethod
    def _assemble(cls, node_ids, x, y, u, v, key, geoms, crs: str) -> StreetArrays:
        """Arrays from edges whose ``geoms`` are shapely lines or None (straight from u to v)."""
        has = np.array([g is not None for g in geoms], bool)
        gcoords, gidx = shapely.get_coordinates(geoms[has].astype(object), return_index=True)
        counts = np.full(len(u), 2, np.int64)
        counts[has] = np.bincount(gidx, minlength=int(has.sum()))
        offsets = np.r_[0, np.cumsum(counts)]
        coords = np.empty((offsets[-1], 2))
        first = offsets[:-1]
        gstart = np.r_[0, np.cumsum(counts[has])][:-1]
        coords[first[has][gidx] + np.arange(len(gidx)) - gstart[gidx]] = gcoords
        straight = np.flatnonzero(~has)
        coords[first[straight]] = np.c_[x[u[straight]], y[u[straight]]]
        coords[first[straight] + 1] = np.c_[x[v[straight]], y[v[straight]]]
        return cls(node_ids, x, y, u, v, key, offsets, coords, crs)

    def metric(self, crs, undirected: bool) -> MetricStreets:
        """The network in a metric CRS: node coordinates, edge lines and lengths.

        Parameters
        ----------
        crs
            A metric CRS (anything pyproj takes).
        undirected : bool
            Keep each two-way street once: of the edges joining a pair of nodes, those of
            equal length to the decimetre count once (osmnx stores a two-way street as u-v
            and v-u; its own ``to_undirected`` compares geometries and is ten times
            slower). Each line then runs from its ``u`` to its ``v``.

        Returns
        -------
        MetricStreets
        """
        xy, lines, length, first = self._projected(crs)
        u, v = self.u, self.v
        if undirected:
            key = pd.DataFrame({"a": np.minimum(u, v), "b": np.maximum(u, v), "m": np.round(length, 1)})
            once = ~key.duplicated().to_numpy()
            u, v, lines, length, first = u[once], v[once], lines[once], length[once], first[once]
        else:
            lines, length = lines.copy(), length.copy()
        # orient every line from u to v (undirected graphs may store it either way)
        flip = np.hypot(*(first - xy[v]).T) < np.hypot(*(first - xy[u]).T)
        lines[flip] = shapely.reverse(lines[flip])
        length[flip] = shapely.length(lines[flip])
        return MetricStreets(self.node_ids, xy, u, v, lines, length)

    def _projected(self, crs) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Node coordinates, edge lines, their lengths and first points in ``crs``; the last CRS's kept."""
        name = CRS.from_user_input(crs).to_wkt()
        if self._memo.get("crs") != name:
            to = Transformer.from_crs(CRS.from_user_input(self.crs), CRS.from_user_input(crs), always_xy=True)
            coords = np.column_stack(to.transform(self.coords[:, 0], self.coords[:, 1]))
            lines = shapely.linestrings(coords, indices=np.repeat(np.arange(len(self.u)), np.diff(self.offsets)))
            self._memo.clear()
            self._memo.update(
                crs=name,
                parts=(
                    np.column_stack(to.transform(self.x, self.y)),
                    lines,
                    shapely.length(lines),
                    coords[self.offsets[:-1]],
                ),
            )
        return self._memo["parts"]

    def _save(self, path: Path) -> None:
        """Write the arrays as ``.npz`` atomically (a temporary file of its own, then a rename)."""
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=path.name, suffix=".part", delete=False) as f:
            np.savez(
                f,
                **{k: getattr(self, k) for k in ("node_ids", "x", "y", "u", "v", "key", "offsets", "coords")},
                crs=np.array(self.crs),
            )
        Path(f.name).replace(path)

    @classmethod
    def _load(cls, path: Path) -> StreetArrays:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        arrays["crs"] = str(arrays["crs"])
        return cls(**arrays)


def compose(parts: Sequence[StreetArrays]) -> StreetArrays:
    """Several networks as one, as ``networkx.compose_all`` joins their graphs.

    Nodes with the same id are one node (OSM ids are shared, so streets that cross from
    one extract into the next connect); an edge with the same ends and key in two parts
    is one edge, the last part's line. Nodes keep the order in which they first appear,
    edges networkx's (by first node, then by the order each pair of nodes first appears).

    Raises
    ------
    NetworkError
        If the parts are in different CRSs.
    """
    if len(parts) == 1:
        return parts[0]
    crss = {CRS.from_user_input(p.crs) for p in parts}
    if len(crss) > 1:
        raise NetworkError(f"the files' graphs are in different CRSs ({', '.join(c.to_string() for c in crss)})")
    all_ids = np.concatenate([p.node_ids for p in parts])
    ids, first, inverse = np.unique(all_ids, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # first appearance
    rank = np.empty(len(ids), np.int64)
    rank[order] = np.arange(len(ids))
    last = np.empty(len(ids), np.int64)
    last[inverse] = np.arange(len(all_ids))  # the last part's coordinates win, as in compose_all
    xs, ys = np.concatenate([p.x for p in parts]), np.concatenate([p.y for p in parts])
    node_at = np.split(rank[inverse], np.cumsum([len(p.node_ids) for p in parts])[:-1])
    u = np.concatenate([node_at[i][p.u] for i, p in enumerate(parts)])
    v = np.concatenate([node_at[i][p.v] for i, p in enumerate(parts)])
    key = np.concatenate([p.key for p in parts])
    lines = [np.split(p.coords, p.offsets[1:-1]) for p in parts]
    coords = [c for part in lines for c in part]
    n = len(ids)
    same = pd.DataFrame({"u": u, "v": v, "key": key, "i": np.arange(len(u))}).groupby(["u", "v", "key"])["i"]
    place, keep = same.min().to_numpy(), same.max().to_numpy()  # where an edge first appears, its last line
    pair = u[place] * n + v[place]
    _, pair_first = np.unique(pair, return_inverse=True)
    first_seen = pd.Series(place).groupby(pair_first).transform("min").to_numpy()
    sort = np.lexsort((place, first_seen, u[place]))
    chosen = keep[sort]
    counts = np.array([len(coords[i]) for i in chosen], np.int64)
    return StreetArrays(
        node_ids=ids[order],
        x=xs[last[order]],
        y=ys[last[order]],
        u=u[chosen],
        v=v[chosen],
        key=key[chosen],
        offsets=np.r_[0, np.cumsum(counts)],
        coords=np.concatenate([coords[i] for i in chosen]) if len(chosen) else np.empty((0, 2)),
        crs=parts[0].crs,
    )
