"""Route lines from a file, matched to stop patterns by fit: TfL's route lines, or any table's.

A route-lines file (GeoJSON, GeoPackage, any vector file GDAL reads) holds LineStrings or
MultiLineStrings with a property naming what each line belongs to: a route (TfL's ``line``)
or a single pattern. :func:`read_lines` reads them into vertex arrays in a metric CRS, and
:func:`line_fit` measures each pattern's stops on the line of its key that fits them best, in
the orientation along which they advance (:func:`gradient.sources._geometry.monotone_along`),
or falls back to straight lines where no line fits.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from .. import _archive
from ..errors import FeedError
from ._geometry import monotone_along
from ._measure import along_lines

MAX_MEDIAN_OFFSET_M = 100.0
"""A route line whose median stop-to-line distance exceeds this (metres) is not used."""

FAR_OFFSET_M = 250.0
MAX_FAR_SHARE = 0.1
"""A route line that more than ``MAX_FAR_SHARE`` of the stops are over ``FAR_OFFSET_M`` (metres)
away from is not used either: it misses part of the run, and distances there would be wrong."""

Lines = dict[str, list[tuple[str, np.ndarray]]]
"""Each key's distinct lines as ``(direction label, vertices in the metric CRS)``, keyed in upper case."""


def read_lines(path: Path, crs: CRS, keys: Sequence[str], hint: str) -> tuple[str, Lines, int]:
    """A route-lines file's lines, keyed by the first of ``keys`` that is one of its properties.

    Parameters
    ----------
    path : Path
        The file (any vector format GDAL reads, with a declared CRS).
    crs : pyproj.CRS
        The metric CRS to return vertices in.
    keys : sequence of str
        Property names to key the lines by, in order of preference.
    hint : str
        What to give instead, for messages.

    Returns
    -------
    key : str
        The property used.
    lines : dict
        See :data:`Lines`; keys are the property's values, trimmed and in upper case.
    ignored : int
        Features that are not lines (left out).

    Raises
    ------
    FeedError
        If the file is missing or unreadable, has none of ``keys``, declares no CRS or
        holds no lines.
    """
    if not path.is_file():
        raise FeedError(f"{'not a file' if path.exists() else 'no such file'}; {hint}", path)
    _archive.check_packed(path, FeedError)  # a zipped or gzipped file: within the limits of what it unpacks to
    try:
        gdf = gpd.read_file(path)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError) as exc:
        raise FeedError(f"cannot read as a vector file ({exc}); {hint}", path) from exc
    key = next((k for k in keys if k in gdf.columns), None)
    if key is None:
        wanted = " or ".join(f"{k!r}" for k in dict.fromkeys(keys))
        raise FeedError(f"has no {wanted} property (found: {', '.join(map(str, gdf.columns))}); {hint}", path)
    if gdf.crs is None:
        raise FeedError("declares no CRS; give it one (GeoJSON is always EPSG:4326)", path)
    kind = gdf.geom_type
    usable = kind.isin(["LineString", "MultiLineString"]) & ~gdf.geometry.is_empty
    if not usable.any():
        raise FeedError(f"has no LineString or MultiLineString features; {hint}", path)
    gdf = gdf[usable].to_crs(crs)
    direction = gdf["direction"].astype(str) if "direction" in gdf.columns else pd.Series("", index=gdf.index)
    lines: Lines = {}
    seen = set()
    for name, label, geom in zip(gdf[key].astype(str).str.strip().str.upper(), direction, gdf.geometry):
        for coords in _candidates(geom):
            sig = (name, coords.tobytes())
            if len(coords) >= 2 and sig not in seen:  # TfL repeats some lines verbatim
                seen.add(sig)
                lines.setdefault(name, []).append((label, coords))
    return key, lines, int((~usable).sum())


def _candidates(geom) -> list[np.ndarray]:
    """Vertex arrays to try for one feature: merged where parts touch, else each part and all joined."""
    if geom.geom_type == "LineString":
        return [shapely.get_coordinates(geom)]
    merged = shapely.line_merge(geom)
    if merged.geom_type == "LineString":
        return [shapely.get_coordinates(merged)]
    parts = [shapely.get_coordinates(p) for p in shapely.get_parts(merged)]
    return parts + [shapely.get_coordinates(geom)]  # the parts joined in file order


def best_fit(pts: np.ndarray, candidates: list[tuple[str, np.ndarray]]):
    """Match ordered stops to the route line and orientation that fit them best.

    Each stop's nearest point on each candidate line (shapely, vectorised) picks
    the line with the smallest mean stop distance and, from the way the stops'
    nearest points advance along it, its orientation; where they advance neither
    way clearly (a loop) both orientations are matched and the one with the
    smaller mean offset kept; distances come from
    :func:`~gradient.sources._geometry.monotone_along`. Returns
    ``(along, offset, vertices, label, reversed)``.
    """
    points = shapely.points(pts)
    screened = []
    for label, line in candidates:
        geom = shapely.LineString(line)
        near = shapely.distance(geom, points)
        screened.append((float(near.mean()), label, line, geom, near))
    _, label, line, geom, near = min(screened, key=lambda s: s[0])
    pos = shapely.line_locate_point(geom, points)
    steps = np.sign(np.diff(pos[near <= MAX_MEDIAN_OFFSET_M]))
    vote = steps.sum() / max(np.abs(steps).sum(), 1.0)
    orientations = [False] if vote > 0.5 else [True] if vote < -0.5 else [False, True]
    best = None
    for reverse in orientations:
        oriented = line[::-1] if reverse else line
        along, off = monotone_along(pts, oriented)  # skips its search when the stops come in order
        if best is None or off.mean() < best[1].mean():
            best = (along, off, oriented, label, reverse)
    return best


def fits(offset: np.ndarray) -> bool:
    """Whether stops with these offsets (metres) fit their line well enough to measure along it."""
    return bool(np.median(offset) <= MAX_MEDIAN_OFFSET_M and (offset > FAR_OFFSET_M).mean() <= MAX_FAR_SHARE)


def line_fit(keys: np.ndarray, groups: np.ndarray, bounds: np.ndarray, xy: np.ndarray, lines: Lines):
    """Distances along each pattern's best-fitting line of its key, straight lines where none fits.

    Parameters
    ----------
    keys : ndarray of str
        Per pattern, the (upper-case) key of its lines in ``lines``.
    groups : ndarray
        Per pattern, what to count the lines used under in the log (TfL's run number).
    bounds, xy : ndarray
        As :func:`gradient.sources._measure.along_lines` takes them.
    lines : dict
        From :func:`read_lines`.

    Returns
    -------
    dist, offset, geoms, sources
        As from :func:`~gradient.sources._measure.along_lines` (``route_line`` or
        ``straight_line``).
    used : collections.Counter
        ``(label, group, "reversed" or "as drawn")`` -> patterns measured so.
    n_none, n_bad : int
        Patterns whose key has no line, and patterns whose best line fits badly
        (:func:`fits`).
    """
    used: Counter = Counter()
    misses = {"none": 0, "bad": 0}

    def fit(i: int, pts: np.ndarray):
        best = best_fit(pts, lines[keys[i]]) if keys[i] in lines else None
        if best is None or not fits(best[1]):
            misses["none" if best is None else "bad"] += 1
            return None
        along, off, line, label, reverse = best
        used[(label, groups[i], "reversed" if reverse else "as drawn")] += 1
        return along, off, line

    dist, offset, geoms, sources = along_lines(xy, bounds, fit, "route_line")
    return dist, offset, geoms, sources, used, misses["none"], misses["bad"]


def fallback_warning(n_none: int, n_bad: int, n: int, given: bool) -> str:
    """The warning that counts patterns measured along straight lines instead of their route line."""
    return (
        f"{n_none} of {n} patterns have no route line{'' if given else ' (no route-lines file given)'} and "
        f"{n_bad} more fit theirs badly (median stop offset over {MAX_MEDIAN_OFFSET_M:.0f} m, or over "
        f"{MAX_FAR_SHARE:.0%} of stops more than {FAR_OFFSET_M:.0f} m away); their distances and lines are "
        "straight lines between stops"
    )
