"""The data a route map draws from: the line cut by distance, its coloured pieces, stops and areas.

Every string here is plain text for ``textContent`` (see :mod:`gradient.present.page`);
names are display names (:func:`gradient.story.names.display_name`).
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from ..schema import WGS84, metric_crs
from ..story import words
from ..story.names import display_name, interchanges
from ..story.words import Voice
from .colours import MISSING_COLOUR, Scale
from .story import stop_names

COORD_DECIMALS = 5
"""Degrees are rounded to 5 decimals (about 1 m) in the page."""


def area_label(stops: pd.DataFrame) -> list[str]:
    """Per stop, the name of its area (``area_name`` where present and not empty), else its code."""
    codes = stops["area_id"].astype(object).where(stops["area_id"].notna(), "")
    if "area_name" not in stops:
        return [str(c) for c in codes]
    names = stops["area_name"].astype(object).where(stops["area_name"].notna(), "")
    return [display_name(n) or str(c) for n, c in zip(names, codes)]


def stop_lines(stops: pd.DataFrame, context_name: str = "", voice: Voice | None = None) -> list[list[str]]:
    """Tooltip lines per stop: name, value and interval, doubt, change, second measure, area, interchange, place.

    ``context_name`` names the second measure (``context`` column) with its units.
    """
    voice = voice or Voice()
    n = len(stops)
    nan = np.full(n, np.nan)
    delta_se = stops["le_delta_se"].to_numpy(float) if "le_delta_se" in stops else nan
    doubts = stops["area_doubt"].tolist() if "area_doubt" in stops else [""] * n
    context = stops["context"].to_numpy(float) if "context" in stops else nan
    out = []
    for i, (name, raw, le, se, delta, dse, area, doubt, dist) in enumerate(
        zip(
            stop_names(stops),
            stops["stop_name"],
            stops["le"].to_numpy(float),
            stops["le_se"].to_numpy(float),
            stops["le_delta"].to_numpy(float),
            delta_se,
            area_label(stops),
            doubts,
            stops["dist_m"].to_numpy(float),
        )
    ):
        lines = words.stop_popup(name, le, se, delta, dse, doubt, area, i == 0, voice, context[i], context_name)
        modes = interchanges(raw)
        if modes:
            lines.append(f"Interchange: {', '.join(modes)}")
        lines.append(f"Stop {i + 1} of {n}, {dist / 1000:.1f} km from the start")
        out.append(lines)
    return out


class Lines:
    """A route line in metres, cut by distance and returned as rounded [lat, lon] lists."""

    def __init__(self, stops: pd.DataFrame, line: shapely.LineString) -> None:
        crs = metric_crs(stops["lon"], stops["lat"])
        fwd = Transformer.from_crs(WGS84, crs, always_xy=True)
        self.back = Transformer.from_crs(crs, WGS84, always_xy=True)
        self.line = shapely.transform(line, lambda c: np.column_stack(fwd.transform(c[:, 0], c[:, 1])))
        self.crs = crs

    def latlon(self, coords: np.ndarray) -> list[list[float]]:
        lon, lat = self.back.transform(coords[:, 0], coords[:, 1])
        return np.round(np.column_stack([lat, lon]), COORD_DECIMALS).tolist()

    def cut(self, a: float, b: float) -> list[list[float]] | None:
        a, b = max(a, 0.0), min(b, self.line.length)
        if b <= a:
            return None
        piece = shapely.ops.substring(self.line, a, b)
        coords = np.asarray(piece.coords) if piece.geom_type == "LineString" else np.empty((0, 2))
        return self.latlon(coords) if len(coords) >= 2 else None

    def point(self, d: float) -> list[float]:
        p = self.line.interpolate(min(max(d, 0.0), self.line.length))
        return self.latlon(np.array([[p.x, p.y]]))[0]


def pieces(stops: pd.DataFrame, lines: Lines, colours: list[str]) -> list[dict]:
    """The line split halfway between stops; each part takes its nearest stop's colour.

    Consecutive stops with the same colour share one piece. ``m`` is 1 for pieces
    without a value (drawn dashed grey).
    """
    dist = stops["dist_m"].to_numpy(float)
    mids = (dist[:-1] + dist[1:]) / 2
    starts = np.r_[dist[0], mids]
    ends = np.r_[mids, dist[-1]]
    out: list[dict] = []
    i = 0
    while i < len(dist):
        j = i
        while j + 1 < len(dist) and colours[j + 1] == colours[i]:
            j += 1
        coords = lines.cut(starts[i], ends[j])
        if coords:
            out.append({"c": coords, "k": colours[i], "m": int(colours[i] == MISSING_COLOUR)})
        i = j + 1
    return out


def area_layer(
    areas: gpd.GeoDataFrame,
    lines: Lines,
    stops: pd.DataFrame,
    scale: Scale,
    buffer_m: float,
    tolerance_m: float,
    voice: Voice | None = None,
) -> dict:
    """GeoJSON of the areas within ``buffer_m`` of the route (and those its stops use), simplified.

    Each feature's ``lines`` are its name (``area_name`` where present, then its code
    on a line of its own) and its life expectancy with the 95% interval.
    """
    near = areas.to_crs(lines.crs)
    keep = near.intersects(lines.line.buffer(buffer_m)) | near["area_id"].isin(stops["area_id"].dropna())
    near = near[keep & near.geometry.notna()]
    geoms = near.geometry.to_numpy()
    try:
        geoms = shapely.coverage_simplify(geoms, tolerance_m)
    except (AttributeError, shapely.errors.GEOSException):
        geoms = shapely.simplify(geoms, tolerance_m, preserve_topology=True)
    back = lines.back
    geoms = shapely.transform(
        geoms, lambda c: np.round(np.column_stack(back.transform(c[:, 0], c[:, 1])), COORD_DECIMALS)
    )
    names = area_label(near)
    voice = voice or Voice()
    features = []
    for geom, name, le, se, k in zip(
        geoms,
        names,
        near["le"].to_numpy(float),
        near["le_se"].to_numpy(float),
        scale.colours(near["le"]),
    ):
        if geom is None or geom.is_empty:
            continue
        text = [name, f"Life expectancy: {words.estimate_line(le, se, voice)}"]
        features.append(
            {
                "type": "Feature",
                "geometry": json.loads(shapely.to_geojson(geom)),
                "properties": {"k": k, "m": int(not np.isfinite(le)), "lines": text},
            }
        )
    return {"type": "FeatureCollection", "features": features}
