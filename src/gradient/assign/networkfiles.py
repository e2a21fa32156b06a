"""Street network files read once into :class:`~gradient.assign.netarrays.StreetArrays`, and cached.

- :func:`read_streets`: any of these files, each read once: later calls (and later runs)
  read the arrays from a cache keyed by the file's SHA-256 and the network type;
- :func:`read_graphml`: osmnx GraphML, element by element (``xml.etree.ElementTree.iterparse``),
  with osmnx's types, :func:`~gradient.assign.streets.keeps_way`'s filters and networkx's order,
  so the arrays equal those of ``osmnx.load_graphml`` (a test holds them together) without a
  networkx graph, which for a city's million nodes would hold about 16 GB;
- :func:`read_pbf`: OSM PBF through pyosmium;
- OSM XML through osmnx (:func:`gradient.assign.streets.load_network`'s reader).
"""

from __future__ import annotations

import ast
import hashlib
import logging
import os
import xml.etree.ElementTree as ET
from os import PathLike
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import shapely

from ..errors import InputError, NetworkError
from .netarrays import CACHE_VERSION, StreetArrays, compose

log = logging.getLogger(__name__)

_GRAPHML = "{http://graphml.graphdrawing.org/xmlns}"
_ONEWAY = {"yes", "true", "1", "-1", "reverse", "T", "F"}  # osmnx's values (osmnx.graph._add_paths)
_REVERSED = {"-1", "reverse", "T"}


def _tag_value(value: str):
    """A GraphML value as osmnx reads it: a stringified list becomes a list."""
    if value.startswith("[") and value.endswith("]"):
        try:
            return ast.literal_eval(value)
        except (SyntaxError, ValueError):
            return value
    return value


def read_graphml(path: Path, network_type: str) -> StreetArrays:
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
                node_ids.append(el.get("id", ""))
                xs.append(data.get("x", "nan"))
                ys.append(data.get("y", "nan"))
                data = {}
                el.clear()
            elif tag == "edge":
                if not wanted or keeps_way({k: _tag_value(data[k]) for k in wanted if k in data}, network_type):
                    src.append(el.get("source", ""))
                    dst.append(el.get("target", ""))
                    ekey.append(el.get("id", "0"))
                    geoms.append(data.get("geometry"))
                data = {}
                el.clear()
            elif tag == "key":
                keys[el.get("id", "")] = el.get("attr.name", "")
                if el.get("for") == "graph":
                    graph_keys.add(el.get("id", ""))
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


def read_pbf(path: Path, network_type: str) -> StreetArrays:
    """OSM PBF to arrays through pyosmium: the ways ``network_type`` keeps, cut where ways meet.

    As osmnx builds a graph from OSM data: a way's nodes between two junctions (or the
    way's ends) are one edge whose line runs through them; a one-way street (osmnx's
    ``oneway`` values and roundabouts) has one direction, except in a ``walk``
    network; every other way both.
    """
    from .._extras import require
    from .streets import keeps_way

    require("networks", "reading OSM PBF")
    import osmium

    refs: list[np.ndarray] = []
    lon: list[np.ndarray] = []
    lat: list[np.ndarray] = []
    oneway: list[int] = []  # 0 both ways, 1 forward, -1 backward
    try:
        fp = osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY).with_locations()
        for obj in fp:
            if not isinstance(obj, osmium.osm.Way):  # nodes are read for their locations only
                continue
            way = obj
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
    folder = None
    if cache_dir is not False:
        folder = default_cache_dir() if cache_dir is None or cache_dir is True else Path(cache_dir)
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
        arrays = read_graphml(path, network_type)
    elif suffix in (".osm", ".xml"):
        arrays = StreetArrays.from_graph(_read_xml(path, network_type))
    elif suffix == ".pbf":
        arrays = read_pbf(path, network_type)
    else:
        raise NetworkError(f"unknown street network format {suffix!r}; give .graphml, .osm or .osm.pbf", path)
    if arrays.number_of_edges() == 0:
        raise NetworkError(f"no streets of type {network_type!r} in this file", path)
    return arrays
