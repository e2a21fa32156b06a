"""Street networks as arrays: read once (GraphML, OSM XML, OSM PBF), cached, projected in one step.

A :class:`StreetArrays` holds what walking catchments and street-following lines need of
a street network, and nothing else: node ids and coordinates, each directed edge's end
nodes and its line (the edge's ``geometry``, or the straight line between its nodes).
It comes from

- an osmnx graph (:meth:`StreetArrays.from_graph`: one pass over the edges, no
  GeoDataFrames);
- files (:func:`read_streets`): osmnx GraphML read straight into arrays, element by
  element, with osmnx's own types and rules (a networkx graph of a city's million nodes
  would hold about 16 GB); OSM XML through osmnx, as :func:`~gradient.assign.streets.load_network`
  reads it; OSM PBF through pyosmium. Each file's arrays are cached as ``.npz``, keyed by
  the file's SHA-256 and the network type, so a second run reads them in about a second.

:meth:`StreetArrays.metric` projects it into a metric CRS as the edge lines, their
lengths and (for walking) each two-way street once.
"""

from __future__ import annotations

import ast
import hashlib
import logging
import os
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from os import PathLike
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

_GRAPHML = "{http://graphml.graphdrawing.org/xmlns}"
_ONEWAY = {"yes", "true", "1", "-1", "reverse", "T", "F"}  # osmnx's values (osmnx.graph._add_paths)
_REVERSED = {"-1", "reverse", "T"}


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


# --- reading files ------------------------------------------------------------------------


def default_cache_dir() -> Path:
    """Where network arrays are cached: ``$GRADIENT_NETWORK_CACHE``, else the user's cache folder."""
    env = os.environ.get("GRADIENT_NETWORK_CACHE")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("gradient")) / "networks"


def file_digest(path: Path) -> str:
    """The SHA-256 of a file's content, read in 8 MB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 23):
            h.update(block)
    return h.hexdigest()


def read_streets(
    path: str | PathLike[str] | Sequence[str | PathLike[str]],
    network_type: str = "all",
    cache_dir: str | PathLike[str] | bool | None = None,
) -> StreetArrays:
    """Read street network files into arrays, once: later calls read the cache.

    Parameters
    ----------
    path : str or Path, or a sequence of them
        osmnx GraphML (``.graphml``), OSM XML (``.osm``, ``.xml``) or OSM PBF
        (``.pbf``, needs ``osmium``). Several files are joined (:func:`compose`).
    network_type : {'all', 'drive', 'walk'}, default 'all'
        Keep only these ways (:func:`gradient.assign.streets.keeps_way`), as
        :func:`gradient.assign.streets.load_network` does.
    cache_dir : str, Path or bool, optional
        Folder of the cache (default :func:`default_cache_dir`); ``False`` reads the
        files without it. Each file's arrays are kept as
        ``<sha256 of the file>-<network_type>-v<CACHE_VERSION>.npz``: a changed file is
        read again, a copy of it under another name is not.

    Returns
    -------
    StreetArrays

    Raises
    ------
    NetworkError
        If a file is missing, unreadable, of another kind, or has no streets of the type
        asked for (the message names the file).
    InputError
        If ``network_type`` is unknown.
    """
    from .streets import _check_type

    _check_type(network_type)
    paths = [path] if isinstance(path, (str, PathLike)) else list(path)
    if not paths:
        raise InputError("read_streets: give at least one network file")
    folder = None if cache_dir is False else Path(default_cache_dir() if cache_dir in (None, True) else cache_dir)
    parts = []
    for p in map(Path, paths):
        if not p.is_file():
            raise NetworkError("no such street network file; give an osmnx GraphML, OSM XML or OSM PBF file", p)
        cached = None
        if folder is not None:
            cached = folder / f"{file_digest(p)}-{network_type}-v{CACHE_VERSION}.npz"
            if cached.is_file():
                try:
                    parts.append(StreetArrays._load(cached))
                    log.info("%s: street network from the cache %s", p.name, cached)
                    continue
                except (OSError, ValueError, KeyError, TypeError) as exc:  # a damaged cache file is read again
                    log.warning("%s: the cached arrays %s are unreadable (%s); reading the file", p.name, cached, exc)
        arrays = _read_file(p, network_type)
        if cached is not None:
            try:
                cached.parent.mkdir(parents=True, exist_ok=True)
                arrays._save(cached)
            except OSError as exc:
                log.warning("could not cache the street network in %s (%s)", cached.parent, exc)
        parts.append(arrays)
    return compose(parts)


def _read_file(path: Path, network_type: str) -> StreetArrays:
    from .streets import _read_xml

    suffix = path.suffix.lower()
    if suffix == ".graphml":
        arrays = _read_graphml(path, network_type)
    elif suffix in (".osm", ".xml"):
        arrays = StreetArrays.from_graph(_read_xml(path, network_type))
    elif suffix == ".pbf":
        arrays = _read_pbf(path, network_type)
    else:
        raise NetworkError(f"unknown street network format {suffix!r}; give .graphml, .osm or .osm.pbf", path)
    if arrays.number_of_edges() == 0:
        raise NetworkError(f"no streets of type {network_type!r} in this file", path)
    return arrays


def _tag_value(value: str):
    """A GraphML value as osmnx reads it: a stringified list becomes a list."""
    if value.startswith("[") and value.endswith("]"):
        try:
            return ast.literal_eval(value)
        except (SyntaxError, ValueError):
            return value
    return value


def _read_graphml(path: Path, network_type: str) -> StreetArrays:
    """Read osmnx GraphML into arrays, element by element, as ``osmnx.load_graphml`` would read it.

    Nodes and edges keep networkx's order; edges are filtered on their tags by
    :func:`~gradient.assign.streets.keeps_way` (not for ``all``), and nodes left without
    edges are dropped, as :func:`~gradient.assign.streets.load_network` does.
    """
    from .streets import _EXCLUDE, keeps_way

    wanted = {"highway", *_EXCLUDE.get(network_type, {})} if network_type != "all" else set()
    keys: dict[str, str] = {}
    graph_keys: set[str] = set()
    crs = None
    node_ids: list[str] = []
    xs: list[str] = []
    ys: list[str] = []
    src: list[str] = []
    dst: list[str] = []
    ekey: list[str] = []
    geoms: list[str | None] = []
    data: dict[str, str] = {}
    try:
        for _, el in ET.iterparse(path, events=("end",)):
            tag = el.tag[len(_GRAPHML) :] if el.tag.startswith(_GRAPHML) else el.tag
            if tag == "data":
                name = keys.get(el.get("key", ""), el.get("key", ""))
                if el.get("key") in graph_keys:
                    crs = el.text if name == "crs" else crs
                else:
                    data[name] = el.text or ""
            elif tag == "node":
                node_ids.append(el.get("id"))
                xs.append(data.get("x", "nan"))
                ys.append(data.get("y", "nan"))
                data = {}
                el.clear()
            elif tag == "edge":
                if not wanted or keeps_way({k: _tag_value(data[k]) for k in wanted if k in data}, network_type):
                    src.append(el.get("source"))
                    dst.append(el.get("target"))
                    ekey.append(el.get("id", "0"))
                    geoms.append(data.get("geometry"))
                data = {}
                el.clear()
            elif tag == "key":
                keys[el.get("id")] = el.get("attr.name")
                if el.get("for") == "graph":
                    graph_keys.add(el.get("id"))
    except (ET.ParseError, OSError) as exc:
        raise NetworkError(f"not a readable osmnx GraphML file (ParseError: {exc})", path) from exc
    if crs is None:
        raise NetworkError("the graph declares no crs; save it with osmnx", path)
    try:
        ids = np.array(node_ids + src + dst, dtype=np.int64)
        x, y = np.array(xs, float), np.array(ys, float)
        key = np.array(ekey, np.int64)
    except ValueError as exc:
        raise NetworkError(f"not a readable osmnx GraphML file (ValueError: {exc})", path) from exc
    if np.isnan(x).any() or np.isnan(y).any():
        raise NetworkError("not a readable osmnx GraphML file: a node has no x or y", path)
    n, m = len(node_ids), len(src)
    uniq, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
    if len(uniq) > n:
        raise NetworkError("not a readable osmnx GraphML file: an edge names a node the file does not have", path)
    pos = np.empty(len(uniq), np.int64)
    pos[np.argsort(first, kind="stable")] = np.arange(len(uniq))
    at = pos[inverse]
    node_pos, u, v = at[:n], at[n : n + m], at[n + m :]
    if (node_pos != np.arange(n)).any():
        raise NetworkError("not a readable osmnx GraphML file: a node id appears twice", path)
    if network_type != "all":  # nodes of the dropped edges go too
        used = np.zeros(n, bool)
        used[u] = used[v] = True
        new = np.cumsum(used) - 1
        ids, x, y, u, v, n = ids[:n][used], x[used], y[used], new[u], new[v], int(used.sum())
    else:
        ids = ids[:n]
    # networkx's edge order: by first node, then by the order each pair first appears, then by key
    pair = u * max(n, 1) + v
    _, pair_first, pair_inv = np.unique(pair, return_index=True, return_inverse=True)
    order = np.lexsort((np.arange(m), pair_first[pair_inv], u))
    geom = np.array([None if g is None else g for g in geoms], dtype=object)[order]
    with_geom = np.flatnonzero(geom != None)  # noqa: E711 (elementwise)
    geom[with_geom] = shapely.from_wkt(geom[with_geom].astype(str))
    return StreetArrays._assemble(ids, x, y, u[order], v[order], key[order], geom, crs)


def _read_pbf(path: Path, network_type: str) -> StreetArrays:
    """OSM PBF to arrays through pyosmium: the ways ``network_type`` keeps, cut where ways meet.

    As osmnx builds a graph from OSM data: a way's nodes between two junctions (or the
    way's ends) are one edge whose line runs through them; a one-way street (osmnx's
    ``oneway`` values and roundabouts) has one direction, except in a ``walk``
    network; every other way both.
    """
    from .streets import keeps_way

    try:
        import osmium
    except ImportError as exc:  # pragma: no cover - osmium is a dependency
        raise NetworkError("reading OSM PBF needs pyosmium: pip install osmium", path) from exc
    refs: list[np.ndarray] = []
    lon: list[np.ndarray] = []
    lat: list[np.ndarray] = []
    oneway: list[int] = []  # 0 both ways, 1 forward, -1 backward
    try:
        fp = osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY).with_locations()
        for way in fp:
            if not way.is_way():  # nodes are read for their locations only
                continue
            tags = dict(way.tags)
            if not keeps_way(tags, network_type) or len(way.nodes) < 2:
                continue
            nodes = way.nodes
            try:
                loc = [(nd.lon, nd.lat) for nd in nodes]
            except osmium.InvalidLocationError:
                continue  # a way whose nodes are outside the extract
            refs.append(np.fromiter((nd.ref for nd in nodes), np.int64, len(nodes)))
            xy = np.array(loc, float)
            lon.append(xy[:, 0])
            lat.append(xy[:, 1])
            one = network_type != "walk" and (tags.get("oneway") in _ONEWAY or tags.get("junction") == "roundabout")
            oneway.append((-1 if tags.get("oneway") in _REVERSED else 1) if one else 0)
    except (RuntimeError, OSError) as exc:
        raise NetworkError(f"not a readable OSM PBF file ({exc})", path) from exc
    if not refs:
        raise NetworkError(f"no streets of type {network_type!r} in this file", path)
    flat = np.concatenate(refs)
    lengths = np.array([len(r) for r in refs])
    way_of = np.repeat(np.arange(len(refs)), lengths)
    starts = np.r_[0, np.cumsum(lengths)[:-1]]
    ends = starts + lengths - 1
    ids, first, inverse, count = np.unique(flat, return_index=True, return_inverse=True, return_counts=True)
    junction = count[inverse] > 1  # shared by two ways, or visited twice by one
    junction[starts] = junction[ends] = True
    x_all, y_all = np.concatenate(lon), np.concatenate(lat)
    cut = np.flatnonzero(junction)
    # pieces between consecutive cuts of the same way
    same = way_of[cut[1:]] == way_of[cut[:-1]]
    a, b = cut[:-1][same], cut[1:][same]
    keep_node = np.zeros(len(ids), bool)
    keep_node[inverse[cut]] = True
    order = np.argsort(first[keep_node], kind="stable")
    node_ids = ids[keep_node][order]
    pos = np.full(len(ids), -1, np.int64)
    pos[np.flatnonzero(keep_node)[order]] = np.arange(len(node_ids))
    u, v = pos[inverse[a]], pos[inverse[b]]
    direction = np.array(oneway)[way_of[a]]
    node_at = first[keep_node][order]
    x, y = x_all[node_at], y_all[node_at]
    fwd, bwd = direction >= 0, direction <= 0
    pieces = [np.arange(p, q + 1) for p, q in zip(a, b)]
    lines = [pieces[i] for i in np.flatnonzero(fwd)] + [pieces[i][::-1] for i in np.flatnonzero(bwd)]
    eu, ev = np.r_[u[fwd], v[bwd]], np.r_[v[fwd], u[bwd]]
    counts = np.array([len(p) for p in lines], np.int64)
    idx = np.concatenate(lines) if lines else np.empty(0, np.int64)
    coords = np.column_stack([x_all[idx], y_all[idx]])
    pair = pd.DataFrame({"u": eu, "v": ev})
    key = pair.groupby(["u", "v"]).cumcount().to_numpy()
    edge_order = np.lexsort((np.arange(len(eu)), eu))
    offsets = np.r_[0, np.cumsum(counts)]
    pieces_coords = [coords[offsets[i] : offsets[i + 1]] for i in edge_order]
    counts = counts[edge_order]
    return StreetArrays(
        node_ids=node_ids,
        x=x,
        y=y,
        u=eu[edge_order],
        v=ev[edge_order],
        key=key[edge_order],
        offsets=np.r_[0, np.cumsum(counts)],
        coords=np.concatenate(pieces_coords) if pieces_coords else np.empty((0, 2)),
        crs="epsg:4326",
    )
