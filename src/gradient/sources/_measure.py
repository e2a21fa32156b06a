"""The measuring step every source shares: stops along a line, in metres, never backwards.

A source (GTFS shapes, TfL route lines, or none) says which line each pattern should be
measured on; :func:`along_lines` measures the stops on it with
:func:`gradient.sources._geometry.monotone_along` (or along straight lines between the stops
where there is none) and cuts the line to the first and last stop.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from ..schema import WGS84
from ._geometry import monotone_along, nearest_along, straight_along, substring
from ._trips import isin

Fit = Callable[[int, np.ndarray], "tuple[np.ndarray, np.ndarray, np.ndarray] | None"]
"""``fit(i, pts)``: for pattern ``i`` with metric stop coordinates ``pts``, ``(along, offset,
line)`` measured on its line, or None to measure along straight lines."""


class ShapeFit:
    """A :data:`Fit` that measures pattern ``i`` on ``lines[i]`` whenever it has one.

    :meth:`prepare` finds every pattern's nearest positions on its line at once (most
    patterns need nothing more); calling the object measures one pattern.
    """

    def __init__(self, lines: list[np.ndarray | None]) -> None:
        self.lines = lines
        self.nearest: dict = {}

    def __call__(self, i: int, pts: np.ndarray):
        line = self.lines[i]
        if line is None:
            return None
        along, offset = monotone_along(pts, line, nearest=self.nearest.pop(i, None))
        return along, offset, line

    def prepare(self, xy: np.ndarray, bounds: np.ndarray) -> None:
        """Every pattern's nearest positions on its line at once."""
        have = [i for i, line in enumerate(self.lines[: len(bounds)]) if line is not None and len(line) >= 2]
        chosen = [line for line in (self.lines[i] for i in have) if line is not None]
        found = nearest_along(chosen, [xy[a:b] for a, b in bounds[have]])
        self.nearest = dict(zip(have, found))


def shape_fit(lines: list[np.ndarray | None]) -> Fit:
    """A :data:`Fit` that measures pattern ``i`` on ``lines[i]`` whenever it has one (:class:`ShapeFit`)."""
    return ShapeFit(lines)


def along_lines(
    xy: np.ndarray, bounds: np.ndarray, fit: Fit, source: str
) -> tuple[np.ndarray, np.ndarray, list[shapely.LineString], list[str]]:
    """Distances along each pattern's line, and the line from its first to its last stop.

    Parameters
    ----------
    xy : ndarray of shape (n, 2)
        Metric coordinates of every pattern's stops, patterns contiguous and in order.
    bounds : ndarray of shape (m, 2)
        ``[start, end)`` rows of each pattern in ``xy``.
    fit : callable
        See :data:`Fit`.
    source : str
        The ``geometry_source`` of patterns measured on their line (e.g. ``"shape"``).

    Returns
    -------
    dist : ndarray
        Metres from each pattern's first stop (0 there, never decreasing).
    offset : ndarray
        Metres from each stop to its matched point on the line (0 on straight lines).
    geoms : list of shapely.LineString
        Per pattern, in the metric CRS.
    sources : list of str
        Per pattern, ``source`` or ``"straight_line"``.
    """
    if hasattr(fit, "prepare"):
        fit.prepare(xy, bounds)
    dist = np.empty(len(xy))
    offset = np.zeros(len(xy))
    geoms: list[shapely.LineString] = []
    sources: list[str] = []
    for i, (a, b) in enumerate(bounds):
        pts = xy[a:b]
        got = fit(i, pts)
        if got is None:
            dist[a:b] = straight_along(pts)
            geoms.append(shapely.LineString(pts))
            sources.append("straight_line")
            continue
        along, off, line = got
        dist[a:b] = along - along[0]
        offset[a:b] = off
        geoms.append(shapely.LineString(substring(line, along[0], along[-1]) if along[-1] > along[0] else pts))
        sources.append(source)
    return dist, offset, geoms, sources


def to_wgs84(geoms: list[shapely.LineString], crs) -> list[shapely.LineString]:
    """Lines from a metric CRS to EPSG:4326 (every vertex of every line in one transformation)."""
    if not geoms:
        return []
    back = Transformer.from_crs(crs, WGS84, always_xy=True)
    coords, index = shapely.get_coordinates(np.asarray(geoms, dtype=object), return_index=True)
    x, y = back.transform(coords[:, 0], coords[:, 1])
    return list(shapely.linestrings(np.column_stack([x, y]), indices=index))


def shape_lines(shapes: pd.DataFrame | None, crs, keep: pd.Series | None = None) -> dict[str, np.ndarray]:
    """Each GTFS shape's vertices in the metric CRS ``crs``, in ``shape_pt_sequence`` order.

    ``keep``: only these shape ids (the ones the chosen patterns use). Shapes with
    fewer than two points are left out.
    """
    if shapes is None or shapes.empty:
        return {}
    codes, uniques = pd.factorize(shapes["shape_id"])  # each id hashed once; then whole numbers only
    names = pd.Index(uniques).astype(str)
    wanted = np.ones(len(names), dtype=bool) if keep is None else isin(names, keep.dropna().astype(str))
    rows = np.flatnonzero(np.append(wanted, False)[codes])  # blank ids (code -1) never
    seq, code = shapes["shape_pt_sequence"].to_numpy()[rows], codes[rows]
    step, seq_step = np.diff(code), np.diff(seq)
    if not np.all((step > 0) | ((step == 0) & (seq_step >= 0))):  # feeds are usually in order already
        rows = rows[np.lexsort((seq, code))]  # by shape, then sequence (stable: ties in file order)
    tr = Transformer.from_crs(WGS84, crs, always_xy=True)
    x, y = tr.transform(shapes["shape_pt_lon"].to_numpy(float)[rows], shapes["shape_pt_lat"].to_numpy(float)[rows])
    xy = np.column_stack([x, y])
    code = codes[rows]
    starts = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
    bounds = np.r_[starts, len(code)]
    return {names[code[a]]: xy[a:b] for a, b in zip(bounds[:-1], bounds[1:]) if b - a >= 2}
