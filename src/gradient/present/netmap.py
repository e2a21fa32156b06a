"""One map of a whole network: every pattern coloured by its life expectancy gradient.

Built to stay light at city scale (hundreds of routes): geometry is simplified in
metres (shapely), rounded to about 1 m and delta-encoded as integers; all patterns
travel in one JSON blob drawn by one script onto one canvas (no SVG element per
route), with a tooltip naming the route and its range.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from jinja2 import Template
from pyproj import Transformer

from ..errors import NetworkMapError
from ..schema import WGS84, metric_crs
from .colours import MISSING_COLOUR, Scale
from .embed import Map
from .maps import DEFAULT_TILES
from .page import DataLayer, add_page, fmt, missing_key, plain, scale_html, units_text

VALUES = {
    "le_range": "Range of life expectancy along the route, years",
    "slope_per_km": "Trend of life expectancy along the route, years per km",
    "max_drop": "Largest fall between consecutive stops, years",
}
"""Columns of ``patterns.csv`` a network map can be coloured by, and their legend text."""

SCALE = 100_000
"""Coordinates travel as integers of 1e-5 degree (about 1 m)."""


def encode(geoms: np.ndarray, crs, tolerance_m: float) -> list[list[int]]:
    """Simplify lines in metres and delta-encode them as flat [dlat, dlon, ...] integer lists.

    Parameters
    ----------
    geoms : ndarray of shapely.LineString
        EPSG:4326.
    crs : pyproj.CRS
        Metric CRS to simplify in.
    tolerance_m : float
        Douglas-Peucker tolerance, metres.

    Returns
    -------
    list of list of int
        Per line: the first point's latitude and longitude times 1e5, then the
        differences to each next point; :data:`SCALE` decodes them.

    Examples
    --------
    >>> line = shapely.LineString([(-82.45, 27.95), (-82.44, 27.95), (-82.43, 27.95)])
    >>> encode(np.array([line]), metric_crs([-82.44], [27.95]), 10.0)
    [[2795000, -8245000, 0, 2000]]
    """
    fwd = Transformer.from_crs(WGS84, crs, always_xy=True)
    back = Transformer.from_crs(crs, WGS84, always_xy=True)
    metric = shapely.transform(geoms, lambda c: np.column_stack(fwd.transform(c[:, 0], c[:, 1])))
    simple = shapely.simplify(metric, tolerance_m, preserve_topology=False)
    coords, index = shapely.get_coordinates(simple, return_index=True)
    lon, lat = back.transform(coords[:, 0], coords[:, 1])
    ints = np.column_stack([np.round(np.asarray(lat) * SCALE), np.round(np.asarray(lon) * SCALE)]).astype(np.int64)
    out: list[list[int]] = []
    for k in range(len(geoms)):
        pts = ints[index == k]
        if len(pts):
            pts = np.vstack([pts[:1], np.diff(pts, axis=0)])
        out.append(pts.ravel().tolist())
    return out


def _tooltip(row: pd.Series) -> list[str]:
    lines = [
        f"Route {plain(row['route_name'])}, direction {plain(row['direction_id'])}",
        f"{plain(row['first_stop'])} to {plain(row['last_stop'])}",
    ]
    if np.isfinite(row["le_range"]):
        lines.append(f"Life expectancy {fmt(row['le_min'])} to {fmt(row['le_max'])} years "
                     f"(range {fmt(row['le_range'])})")
    else:
        lines.append("No life expectancy estimate along this route")
    if np.isfinite(row["slope_per_km"]):
        ci = ""
        if np.isfinite(row["slope_ci_low"]):
            ci = f" (95% CI {fmt(row['slope_ci_low'], '.2f', True)} to {fmt(row['slope_ci_high'], '.2f', True)})"
        lines.append(f"Trend {fmt(row['slope_per_km'], '.2f', True)} years per km{ci}")
    if np.isfinite(row["max_drop"]) and row["max_drop"] > 0:
        lines.append(f"Biggest stop-to-stop fall {fmt(row['max_drop'])} years: {plain(row['max_drop_from'])} to "
                     f"{plain(row['max_drop_to'])}")
    return lines


class _NetworkLayer(DataLayer):
    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var d = {{ this.data }};
            {{ this.common_js }}
            var renderer = L.canvas({padding: 0.5, tolerance: 6});
            var group = L.featureGroup().addTo(map);
            function decode(a) {
                var out = [], y = 0, x = 0;
                for (var i = 0; i < a.length; i += 2) {
                    y += a[i]; x += a[i + 1]; out.push([y / d.scale, x / d.scale]);
                }
                return out;
            }
            d.p.forEach(function (p) {
                if (p.g.length < 4) { return; }
                var style = {renderer: renderer, color: p.k, weight: p.w, opacity: 0.9, dashArray: p.m ? "4 4" : null};
                var line = L.polyline(decode(p.g), style).addTo(group);
                line.bindTooltip(box(p.t), {sticky: true});
                line.on("mouseover", function () {
                    line.setStyle({weight: p.w + 4, opacity: 1}); line.bringToFront();
                });
                line.on("mouseout", function () { line.setStyle(style); });
            });
            el.setAttribute("data-gradient-patterns", String(group.getLayers().length));
            var bounds = group.getBounds();
            if (bounds.isValid()) { map.fitBounds(bounds, {padding: [8, 8]}); }
        })();
        {% endmacro %}
        """
    )

    def __init__(self, data: dict) -> None:
        super().__init__(data, "NetworkLayer")


def describe_network(patterns: pd.DataFrame, value: str, *, sex: str = "", period: str = "", source: str = "") -> str:
    """One plain-text paragraph describing a network map (for alt text and screen readers)."""
    detail = ", ".join(p for p in (sex, period) if p)
    what = VALUES[value].split(",")[0].lower() + (f" ({detail})" if detail else "")
    text = [f"Map of {len(patterns)} route patterns, each coloured by its {what}."]
    top = patterns.dropna(subset=[value]).sort_values(value, ascending=False, kind="stable").head(3)
    if len(top):
        parts = [f"route {plain(r['route_name'])} from {plain(r['first_stop'])} to {plain(r['last_stop'])} "
                 f"({fmt(r[value], '.2f' if value == 'slope_per_km' else '.1f')})" for _, r in top.iterrows()]
        text.append("The highest values are on " + "; ".join(parts) + ".")
    if source:
        text.append(plain(source).rstrip(".") + ".")
    return " ".join(text)


def network_map(result, value: str = "le_range", *, tiles: str | None = DEFAULT_TILES, title: str = "") -> folium.Map:
    """:func:`draw_network_map` of every pattern of a run, sourced."""
    labels = result.labels
    return draw_network_map(
        result.patterns, result.geometry, value=value,
        title=title or VALUES[value].split(",")[0].replace("the route", "each route"),
        source=labels.source_line, period=labels.period, sex=labels.sex, tiles=tiles,
    )


def draw_network_map(
    patterns: pd.DataFrame,
    geometry: gpd.GeoDataFrame,
    *,
    value: str = "le_range",
    title: str = "",
    source: str = "",
    period: str = "",
    sex: str = "",
    tiles: str | None = DEFAULT_TILES,
    tolerance_m: float = 8.0,
) -> folium.Map:
    """Map every pattern of a network, each coloured (and widened) by its gradient.

    Parameters
    ----------
    patterns : pandas.DataFrame
        ``patterns.csv`` (``PATTERNS_CSV_COLUMNS``), one row per pattern.
    geometry : geopandas.GeoDataFrame
        ``pattern_id`` and ``geometry`` (LineString, EPSG:4326) per pattern, as
        ``Result.geometry``; patterns without geometry are left out.
    value : {"le_range", "slope_per_km", "max_drop"}, default ``"le_range"``
        The column that colours the routes: a sequential scale from 0 for ranges and
        falls, a diverging scale around 0 for the trend (the two directions of a
        route have opposite trends and are drawn on top of each other).
    title, source, period, sex : str
        As for :func:`gradient.maps.route_map`.
    tiles : str or None
        Basemap, as for :func:`gradient.maps.route_map`.
    tolerance_m : float, default 8
        Geometry simplification, metres.

    Returns
    -------
    folium.Map
        With ``title_text`` and ``alt_text``; save it with :func:`gradient.present.embed.save_html`.

    Raises
    ------
    NetworkMapError
        If ``value`` is not one of ``VALUES`` or ``geometry`` has no CRS or another than EPSG:4326.
    """
    if value not in VALUES:
        raise NetworkMapError(f"value={value!r} cannot colour a network map; choose one of {', '.join(VALUES)}")
    if geometry.crs is None or geometry.crs != WGS84:
        raise NetworkMapError(f"geometry must be in EPSG:4326, found {geometry.crs}; use geometry.to_crs('EPSG:4326')")
    geo = geometry.dropna(subset=["geometry"]).drop_duplicates("pattern_id").set_index("pattern_id").geometry
    table = patterns[patterns["pattern_id"].isin(geo.index)]
    table = table.sort_values(value, na_position="first", kind="stable").reset_index(drop=True)
    values = table[value].to_numpy(float)
    units = units_text(VALUES[value], sex, period)
    if value == "slope_per_km":
        half = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 1.0
        scale = Scale(-half, half, 0.0, "no trend", "diverging")
        strength = np.abs(values) / (half or 1.0)
    else:
        scale = Scale.upto(values)
        strength = scale.position(values)
    colours = scale.colours(values)
    lines = geo.reindex(table["pattern_id"]).to_numpy()
    pts = shapely.get_coordinates(lines)
    crs = metric_crs(pts[:, 0], pts[:, 1]) if len(pts) else metric_crs([0.0], [0.0])
    encoded = encode(lines, crs, tolerance_m)
    data = {
        "label": f"Map: {plain(title)}" if title else "Map",
        "scale": SCALE,
        "p": [
            {"g": g, "k": k, "w": round(1.5 + 4.5 * float(s), 1) if np.isfinite(s) else 1.5,
             "m": int(k == MISSING_COLOUR), "t": _tooltip(row)}
            for g, k, s, (_, row) in zip(encoded, colours, strength, table.iterrows())
        ],
    }
    centre = [float(np.mean(pts[:, 1])), float(np.mean(pts[:, 0]))] if len(pts) else [0.0, 0.0]
    m = Map(location=centre, zoom_start=11, tiles=tiles, control_scale=False, zoom_snap=0.25,
                   font_size="12px")
    _NetworkLayer(data).add_to(m)
    notes = (missing_key("no estimate") + "<div>Wider lines: larger values. Hover over or tap a route for its "
             "name and figures.</div>")
    description = describe_network(table, value, sex=sex, period=period, source=source)
    add_page(m, title=title, legend=scale_html(scale, units), notes=notes, source=source, description=description)
    return m
