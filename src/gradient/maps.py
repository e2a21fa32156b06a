"""Folium maps of a pattern's life expectancy gradient.

Every string that comes from a feed or a table (stop, route and area names) reaches
the page only as JSON data that the page's script puts into the document with
``textContent``, or as HTML-escaped text: never as markup or code.
:func:`gradient.embed.save_html` writes the map as one self-contained file.
"""

from __future__ import annotations

import html
import json

import folium
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from jinja2 import Template
from matplotlib import colormaps
from matplotlib.colors import to_hex
from pyproj import Transformer

from .schema import WGS84, metric_crs

DEFAULT_TILES = "Esri.WorldGrayCanvas"
"""Default basemap (light; its attribution is added by folium)."""

MISSING_COLOUR = "#9e9e9e"
"""Colour of stops and stretches without a life expectancy."""

_CMAP = colormaps["RdYlBu"]


def safe_json(value: object) -> str:
    """JSON that is safe inside an HTML ``<script>`` element.

    ``<``, ``>``, ``&`` and the two JavaScript line separators are written as
    ``\\u`` escapes so no string can close the script or open markup.
    """
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    for char, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, esc)
    return text


def colour(values: np.ndarray, vmin: float, vmax: float) -> list[str]:
    """Hex colours for life expectancy values: red low, blue high, grey missing."""
    values = np.asarray(values, dtype=float)
    span = (vmax - vmin) or 1.0
    scaled = np.clip((values - vmin) / span, 0, 1)
    return [to_hex(_CMAP(v)) if np.isfinite(v) else MISSING_COLOUR for v in scaled]


def _fmt(value: float, spec: str = ".1f", sign: bool = False) -> str:
    if not np.isfinite(value):
        return "unknown"
    text = format(value, ("+" if sign else "") + spec)
    return text.replace("-", "\u2212")


def _stop_lines(stops: pd.DataFrame) -> list[list[str]]:
    """Tooltip lines per stop: name, value with 95% interval, change, area."""
    out = []
    for name, le, se, delta, area in zip(
        stops["stop_name"].fillna("(unnamed stop)"),
        stops["le"].to_numpy(float),
        stops["le_se"].to_numpy(float),
        stops["le_delta"].to_numpy(float),
        stops["area_id"].fillna(""),
    ):
        value = f"Life expectancy: {_fmt(le)} years"
        if np.isfinite(le) and np.isfinite(se):
            value += f" (95% CI {_fmt(le - 1.96 * se)}\u2013{_fmt(le + 1.96 * se)})"
        lines = [str(name), value, f"Change from previous stop: {_fmt(delta, sign=True)} years"]
        if area:
            lines.append(f"Area: {area}")
        out.append(lines)
    return out


def _segments(stops: pd.DataFrame, line: shapely.LineString, colours: list[str]) -> list[dict]:
    """The route line cut at each stop, each stretch coloured by its two stops' mean value."""
    crs = metric_crs(stops["lon"], stops["lat"])
    fwd = Transformer.from_crs(WGS84, crs, always_xy=True)
    back = Transformer.from_crs(crs, WGS84, always_xy=True)
    line_m = shapely.transform(line, lambda c: np.column_stack(fwd.transform(c[:, 0], c[:, 1])))
    dist = stops["dist_m"].to_numpy(float)
    le = stops["le"].to_numpy(float)
    vmin, vmax = _range(stops)
    a, b = le[:-1], le[1:]
    mids = np.where(np.isfinite(a) & np.isfinite(b), (a + b) / 2, np.where(np.isfinite(a), a, b))
    seg_colours = colour(mids, vmin, vmax)
    out = []
    for i, (a, b) in enumerate(zip(dist[:-1], dist[1:])):
        piece = shapely.ops.substring(line_m, a, b) if b > a else shapely.LineString([line_m.coords[0]] * 2)
        coords = np.asarray(piece.coords) if piece.geom_type == "LineString" else np.empty((0, 2))
        if len(coords) < 2:
            continue
        lon, lat = back.transform(coords[:, 0], coords[:, 1])
        out.append({"c": np.round(np.column_stack([lat, lon]), 6).tolist(), "k": seg_colours[i]})
    return out


def _range(stops: pd.DataFrame) -> tuple[float, float]:
    le = stops["le"].to_numpy(float)
    if not np.isfinite(le).any():
        return 70.0, 85.0
    return float(np.nanmin(le)), float(np.nanmax(le))


class _GradientLayer(MacroElement):
    """Route stretches and stop markers drawn from JSON data by one script."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var d = {{ this.data }};
            var route = L.featureGroup().addTo(map);
            d.segments.forEach(function (s) {
                L.polyline(s.c, {color: s.k, weight: 6, opacity: 0.9}).addTo(route);
            });
            var stops = L.featureGroup().addTo(map);
            d.stops.forEach(function (s) {
                var marker = L.circleMarker([s.y, s.x], {
                    radius: 5, color: "#222", weight: 1, fillColor: s.k, fillOpacity: 1,
                    className: "gradient-stop"
                });
                var box = document.createElement("div");
                s.lines.forEach(function (text, i) {
                    var el = document.createElement(i === 0 ? "strong" : "div");
                    el.textContent = text;
                    box.appendChild(el);
                });
                marker.bindTooltip(box);
                marker.bindPopup(box.cloneNode(true));
                marker.addTo(stops);
            });
            var bounds = stops.getBounds();
            if (route.getLayers().length) { bounds.extend(route.getBounds()); }
            if (bounds.isValid()) { map.fitBounds(bounds, {padding: [24, 24]}); }
        })();
        {% endmacro %}
        """
    )

    def __init__(self, data: dict) -> None:
        super().__init__()
        self._name = "GradientLayer"
        self.data = safe_json(data)


def _legend_html(vmin: float, vmax: float, units: str) -> str:
    stops_css = ", ".join(colour(np.linspace(vmin, vmax, 7), vmin, vmax))
    return (
        '<div class="gradient-legend" style="position:absolute;bottom:28px;right:10px;z-index:1000;'
        'background:rgba(255,255,255,.92);padding:6px 8px;font:12px/1.3 sans-serif;border-radius:4px;'
        'box-shadow:0 1px 4px rgba(0,0,0,.3);max-width:60%">'
        f"<div>{html.escape(units)}</div>"
        f'<div style="height:10px;background:linear-gradient(to right, {stops_css});margin:3px 0"></div>'
        f'<div style="display:flex;justify-content:space-between"><span>{vmin:.1f}</span>'
        f"<span>{vmax:.1f}</span></div>"
        f'<div><span style="display:inline-block;width:10px;height:10px;background:{MISSING_COLOUR}"></span>'
        " no estimate</div></div>"
    )


def _title_html(title: str, source: str) -> str:
    return (
        '<div class="gradient-title" style="position:absolute;top:10px;left:50px;right:10px;z-index:1000;'
        "font:bold 14px/1.3 sans-serif;background:rgba(255,255,255,.92);padding:4px 8px;"
        'border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3);width:fit-content;max-width:calc(100% - 70px)">'
        f"{html.escape(title)}"
        f'<div class="gradient-source" style="font-weight:normal;font-size:11px;color:#444">'
        f"{html.escape(source)}</div></div>"
    )


def route_map(
    stops: pd.DataFrame,
    line: shapely.LineString | None = None,
    *,
    title: str = "",
    source: str = "",
    period: str = "",
    sex: str = "",
    tiles: str | None = DEFAULT_TILES,
) -> folium.Map:
    """Map one pattern: its route coloured by life expectancy, and its stops.

    Parameters
    ----------
    stops : pandas.DataFrame
        One pattern's rows of :func:`gradient.gradient.stop_table` (``stop_name``,
        ``lon``, ``lat``, ``dist_m``, ``area_id``, ``le``, ``le_se``, ``le_delta``),
        in stop order.
    line : shapely.LineString, optional
        The route geometry (EPSG:4326) from the first to the last stop, as in the
        ``patterns`` table; default straight lines between the stops.
    title : str
        Shown on the map (e.g. the route and its end stops).
    source : str
        The source line shown under the title (data sources and period).
    period, sex : str
        Named in the legend, e.g. ``"2010-2015"`` and ``"persons"``.
    tiles : str or None, default ``"Esri.WorldGrayCanvas"``
        A folium tile name or URL; ``None`` for no basemap.

    Returns
    -------
    folium.Map
        Save it with :func:`gradient.embed.save_html` for a self-contained file.
    """
    stops = stops.sort_values("stop_sequence", kind="stable")
    if line is None:
        line = shapely.LineString(stops[["lon", "lat"]].to_numpy(float))
    vmin, vmax = _range(stops)
    stop_colours = colour(stops["le"].to_numpy(float), vmin, vmax)
    data = {
        "segments": _segments(stops, line, stop_colours),
        "stops": [
            {"x": round(x, 6), "y": round(y, 6), "k": k, "lines": lines}
            for x, y, k, lines in zip(stops["lon"], stops["lat"], stop_colours, _stop_lines(stops))
        ],
    }
    centre = [float(stops["lat"].mean()), float(stops["lon"].mean())]
    m = folium.Map(location=centre, zoom_start=12, tiles=tiles, control_scale=True)
    _GradientLayer(data).add_to(m)
    detail = ", ".join(p for p in (sex, period) if p)
    units = "Life expectancy at birth, years" + (f" ({detail})" if detail else "")
    root = m.get_root()
    root.html.add_child(Element(_title_html(title, source)))
    root.html.add_child(Element(_legend_html(vmin, vmax, units)))
    return m
