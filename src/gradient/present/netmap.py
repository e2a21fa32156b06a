"""One map of a whole network: every route coloured by its life expectancy gradient, and a route finder.

Built to read at city scale and stay light with hundreds of routes:

- **One line per route.** A route's two directions run along the same streets; drawing
  both puts one line on top of the other. Each route is drawn once, by its pattern with
  the larger value (the first in the ranking on a tie), and its tooltip says which
  way that pattern runs ("Route 25 towards Ilford").
- **Colour that reads.** The 60% of routes with the smallest values are faint grey
  context lines; above them the colour deepens and the line widens to the largest value, and the
  strongest routes are drawn last, on top (:data:`gradient.present.colours.EMPHASIS`).
- **A route finder** above the map: type a route's name ("25") and that route is
  highlighted, the map zooms to it and its figures open; Escape or an empty box shows
  the whole network again.
- **Light.** Geometry is simplified in metres (shapely), rounded to about 1 m and
  written as Google's encoded polylines (about 5 characters a point); every route
  travels in one JSON blob drawn by one script onto one canvas (no SVG element per
  route), with tooltips built only when shown.
"""

from __future__ import annotations

import re

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from jinja2 import Template
from pyproj import Transformer

from ..errors import NetworkMapError
from ..schema import WGS84, metric_crs
from ..story import words
from ..story.names import display_name
from ..story.words import Voice, route_label
from ._interact import add_basemap
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
"""Coordinates travel as integers of 1e-5 degree (about 1 m), polyline-encoded."""

KNEE = 0.6
"""Quantile of the values below which routes are faint grey context lines."""


def _polyline(values: np.ndarray) -> str:
    """Google's encoded polyline of flat integer deltas (zig-zag, 5-bit chunks, offset 63)."""
    out = []
    for v in values.tolist():
        v = ~(v << 1) if v < 0 else v << 1
        while v >= 0x20:
            out.append(chr((0x20 | (v & 0x1F)) + 63))
            v >>= 5
        out.append(chr(v + 63))
    return "".join(out)


def encode(geoms: np.ndarray, crs, tolerance_m: float) -> list[str]:
    """Simplify lines in metres and write each as an encoded polyline (precision 1e-5 degree).

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
    list of str
        Per line: the first point's latitude and longitude times 1e5, then the
        differences to each next point, in Google's encoded polyline format (the
        characters ``?`` to ``~``: safe in JSON and HTML).

    Examples
    --------
    >>> line = shapely.LineString([(-82.45, 27.95), (-82.44, 27.95), (-82.43, 27.95)])
    >>> encode(np.array([line]), metric_crs([-82.44], [27.95]), 10.0)
    ['o~qiDnofvN?_|B']
    """
    fwd = Transformer.from_crs(WGS84, crs, always_xy=True)
    back = Transformer.from_crs(crs, WGS84, always_xy=True)
    metric = shapely.transform(geoms, lambda c: np.column_stack(fwd.transform(c[:, 0], c[:, 1])))
    simple = shapely.simplify(metric, tolerance_m, preserve_topology=False)
    coords, index = shapely.get_coordinates(simple, return_index=True)
    lon, lat = back.transform(coords[:, 0], coords[:, 1])
    ints = np.column_stack([np.round(np.asarray(lat) * SCALE), np.round(np.asarray(lon) * SCALE)]).astype(np.int64)
    bounds = np.searchsorted(index, np.arange(len(geoms) + 1))
    out: list[str] = []
    for k in range(len(geoms)):
        pts = ints[bounds[k] : bounds[k + 1]]
        if len(pts):
            pts = np.vstack([pts[:1], np.diff(pts, axis=0)])
        out.append(_polyline(pts.ravel()))
    return out


def one_per_route(patterns: pd.DataFrame, value: str) -> pd.DataFrame:
    """Each route's story pattern (``route_story``, the one its sentence is about), else its largest ``value``.

    Without ``route_story`` (tables from elsewhere), the pattern with the largest ``value``
    (absolute, for the trend), in ranking order on ties.
    """
    if "route_story" in patterns and patterns["route_story"].any():
        story = patterns[patterns["route_story"].astype(bool)]
        rest = patterns[~patterns["route_name"].isin(story["route_name"])]
        return pd.concat([story, one_per_route(rest.drop(columns="route_story"), value)]) if len(rest) else story
    key = patterns[value].abs() if value == "slope_per_km" else patterns[value]
    order = pd.DataFrame({"key": key.to_numpy(float), "pos": np.arange(len(patterns))}, index=patterns.index)
    order = order.sort_values(["key", "pos"], ascending=[False, True], na_position="last", kind="stable")
    chosen = patterns.loc[order.index].drop_duplicates("route_name")
    return patterns.loc[patterns.index.isin(chosen.index)]


def _tooltip(row: pd.Series, voice: Voice | None = None) -> list[str]:
    return words.network_tooltip(row.to_dict(), voice)


SEARCH_HTML = (
    '<form class="gradient-search" role="search" autocomplete="off">'
    '<label for="gradient-route">Find a route</label> '
    '<input id="gradient-route" type="search" list="gradient-routes" enterkeyhint="search" size="8">'
    '<datalist id="gradient-routes"></datalist> '
    '<span class="gradient-found" aria-live="polite"></span></form>'
)
"""The route finder in the page's header (filled by the script with ``value``/``textContent``)."""

SEARCH_CSS = """
.gradient-search { margin: 3px 0 0; font-size: 13px; display: flex; flex-wrap: wrap; gap: 4px 6px;
  align-items: center; }
.gradient-search label { font-weight: 600; }
.gradient-search input { font: inherit; font-size: 16px; padding: 2px 6px; width: 8.5em; border: 1px solid #888;
  border-radius: 3px; }
.gradient-found { color: #333; }
"""


def _natural(name: str) -> tuple:
    """Sort key that puts route 9 before route 10 (digits compared as numbers)."""
    return tuple((0, int(t), "") if t.isdigit() else (1, 0, t.lower()) for t in re.findall(r"\d+|\D+", name))


class _NetworkLayer(DataLayer):
    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var d = {{ this.data }};
            {{ this.common_js }}
            var renderer = L.canvas({padding: 0.1, tolerance: 6});
            var group = L.featureGroup();
            function decode(str) {
                var out = [], i = 0, lat = 0, lon = 0;
                while (i < str.length) {
                    for (var k = 0; k < 2; k++) {
                        var shift = 0, result = 0, b;
                        do { b = str.charCodeAt(i++) - 63; result |= (b & 31) << shift; shift += 5; } while (b >= 32);
                        var v = (result & 1) ? ~(result >> 1) : (result >> 1);
                        if (k === 0) { lat += v; } else { lon += v; }
                    }
                    out.push([lat / d.scale, lon / d.scale]);
                }
                return out;
            }
            var lines = [], byName = {}, picked = null, casing = null;
            function norm(s) { return String(s).trim().toLowerCase().replace(/^route\\s+/, ""); }
            d.p.forEach(function (p) {
                var pts = decode(p.g);
                if (pts.length < 2) { return; }
                var style = {renderer: renderer, color: p.k, weight: p.w, opacity: p.o, dashArray: p.m ? "4 4" : null};
                var line = L.polyline(pts, style);
                var l = {line: line, p: p, style: style};
                line.gradient = l;
                group.addLayer(line);
                lines.push(l);
                byName[norm(p.r)] = l;
            });
            // one tooltip for every route, its content made when shown
            var tip = L.tooltip({sticky: true, direction: "auto", offset: [12, 0]});
            group.on("mouseover", function (e) {
                var l = e.propagatedFrom.gradient;
                tip.setContent(box(l.p.t)).setLatLng(e.latlng);
                map.openTooltip(tip);
                if (!picked) { l.line.setStyle({weight: l.p.w + 3, opacity: 1}); l.line.bringToFront(); }
            });
            group.on("mousemove", function (e) { tip.setLatLng(e.latlng); });
            group.on("mouseout", function (e) {
                map.closeTooltip(tip);
                if (!picked) { e.propagatedFrom.setStyle(e.propagatedFrom.gradient.style); }
            });
            group.on("click", function (e) {
                map.closeTooltip(tip);
                L.popup({maxWidth: 240}).setLatLng(e.latlng).setContent(box(e.propagatedFrom.gradient.p.t)).openOn(map);
            });
            var bounds = group.getBounds();
            if (bounds.isValid()) { map.fitBounds(bounds, {padding: [8, 8], animate: false}); }
            group.addTo(map);  // after the view is set: each line is projected once
            el.setAttribute("data-gradient-patterns", String(lines.length));
            var input = document.getElementById("gradient-route");
            var found = document.querySelector(".gradient-found");
            var list = document.getElementById("gradient-routes");
            if (!input) { return; }
            if (d.example) { input.placeholder = "e.g. " + d.example; }
            function fill() {  // the route list, made when the reader first reaches for it
                if (list.childNodes.length) { return; }
                d.names.forEach(function (name) {
                    var option = document.createElement("option");
                    option.value = name;
                    list.appendChild(option);
                });
            }
            input.addEventListener("focus", fill);
            function unpick() {
                picked = null;
                if (casing) { map.removeLayer(casing); casing = null; }
                lines.forEach(function (l) { l.line.setStyle(l.style); });
                map.closePopup();
                found.textContent = "";
                el.removeAttribute("data-gradient-picked");
                if (bounds.isValid()) { map.fitBounds(bounds, {padding: [8, 8], animate: false}); }
            }
            function pick(l) {
                if (casing) { map.removeLayer(casing); }
                picked = l;
                lines.forEach(function (o) { if (o !== l) { o.line.setStyle({opacity: 0.18}); } });
                casing = L.polyline(l.line.getLatLngs(), {renderer: renderer, color: "#111111",
                                    weight: l.p.w + 6, opacity: 1, interactive: false}).addTo(map);
                l.line.setStyle({weight: l.p.w + 2, opacity: 1});
                l.line.bringToFront();
                map.fitBounds(l.line.getBounds(), {padding: [24, 24], maxZoom: 15, animate: false});
                var pts = l.line.getLatLngs();
                L.popup({maxWidth: 240, autoPanPadding: [8, 8]}).setLatLng(pts[Math.floor(pts.length / 2)])
                    .setContent(box(l.p.t)).openOn(map);
                found.textContent = l.p.t[0];
                el.setAttribute("data-gradient-picked", l.p.r);
            }
            function look(submitted) {
                var text = norm(input.value), l = byName[text];
                if (!text) { if (picked) { unpick(); } return; }
                if (l) { if (l !== picked) { pick(l); } return; }
                if (submitted) { found.textContent = "No route called \\u201c" + input.value.trim() + "\\u201d"; }
            }
            input.addEventListener("input", function () { fill(); look(false); });
            input.addEventListener("keydown", function (e) { if (e.key === "Escape") { input.value = ""; unpick(); } });
            input.form.addEventListener("submit", function (e) { e.preventDefault(); look(true); });
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
    text = [f"Map of {len(patterns)} routes, each coloured by its {what}."]
    top = patterns.dropna(subset=[value]).sort_values(value, ascending=False, kind="stable").head(3)
    if len(top):
        parts = [
            f"{route_label(r).lower()} from {display_name(r['first_stop'])} to {display_name(r['last_stop'])} "
            f"({fmt(r[value], '.2f' if value == 'slope_per_km' else '.1f')})"
            for _, r in top.iterrows()
        ]
        text.append("The highest values are on " + "; ".join(parts) + ".")
    if source:
        text.append(plain(source).rstrip(".") + ".")
    return " ".join(text)


def network_map(result, value: str = "le_range", *, tiles: str | None = DEFAULT_TILES, title: str = "") -> folium.Map:
    """:func:`draw_network_map` of every route of a run, sourced."""
    labels = result.labels
    return draw_network_map(
        result.patterns,
        result.geometry,
        value=value,
        title=title or VALUES[value].split(",")[0].replace("the route", "each route"),
        source=words.credit_line(labels),
        voice=words.voice_of(result.options, labels),
        period=labels.period,
        sex=labels.sex,
        tiles=tiles,
    )


def _scale(values: np.ndarray, value: str) -> tuple[Scale, np.ndarray]:
    """The network map's scale and each route's strength (0 to 1: colour depth and width)."""
    if value == "slope_per_km":
        half = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 1.0
        scale = Scale(-half, half, 0.0, "no trend", "diverging")
        return scale, np.abs(values) / (half or 1.0)
    scale = Scale.upto(values)
    if np.isfinite(values).sum() >= 4:
        knee = float(np.nanquantile(values, KNEE))
        scale = Scale(scale.vmin, scale.vmax, 0.0, scale.reference_label, "emphasis", knee=float(scale.position(knee)))
    return scale, scale.strength(values)


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
    tolerance_m: float = 10.0,
    search: bool = True,
    voice: Voice | None = None,
) -> folium.Map:
    """Map every route of a network once, each coloured (and widened) by its gradient, with a route finder.

    Parameters
    ----------
    patterns : pandas.DataFrame
        ``patterns.csv`` (``PATTERNS_CSV_COLUMNS``), one row per pattern, in ranking order.
    geometry : geopandas.GeoDataFrame
        ``pattern_id`` and ``geometry`` (LineString, EPSG:4326) per pattern, as
        ``Result.geometry``; patterns without geometry are left out.
    value : {"le_range", "slope_per_km", "max_drop"}, default ``"le_range"``
        The column that colours the routes: a sequential scale from 0 for ranges and
        falls (faint below the :data:`KNEE` quantile), a diverging scale around 0 for
        the trend. Each route is drawn by its pattern with the largest value (absolute
        for the trend), see :func:`one_per_route`.
    title, source, period, sex : str
        As for :func:`gradient.maps.route_map`.
    tiles : str or None
        Basemap, as for :func:`gradient.maps.route_map`.
    tolerance_m : float, default 10
        Geometry simplification, metres.
    search : bool, default True
        The route finder above the map.
    voice : Voice, optional
        The run's level and names (:class:`gradient.story.words.Voice`).

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
    table = one_per_route(patterns[patterns["pattern_id"].isin(geo.index)], value)
    example = display_name(table["route_name"].iloc[0]) if len(table) else ""
    table = table.sort_values(
        value, key=(lambda v: v.abs()) if value == "slope_per_km" else None, na_position="first", kind="stable"
    ).reset_index(drop=True)
    values = table[value].to_numpy(float)
    units = units_text(VALUES[value], sex, period)
    scale, strength = _scale(values, value)
    colours = scale.colours(values)
    lines = geo.reindex(table["pattern_id"]).to_numpy()
    pts = shapely.get_coordinates(lines)
    crs = metric_crs(pts[:, 0], pts[:, 1]) if len(pts) else metric_crs([0.0], [0.0])
    data = {
        "label": f"Map: {plain(title)}" if title else "Map",
        "scale": SCALE,
        "example": example,
        "names": sorted({display_name(r) for r in table["route_name"]}, key=_natural),
        "p": [
            {
                "g": g,
                "k": k,
                "w": round(0.8 + 3.4 * float(s), 1) if np.isfinite(s) else 0.8,
                "o": round(0.5 + 0.5 * float(s), 2) if np.isfinite(s) else 0.5,
                "m": int(k == MISSING_COLOUR),
                "r": display_name(row["route_name"]),
                "t": _tooltip(row, voice),
            }
            for g, k, s, (_, row) in zip(encode(lines, crs, tolerance_m), colours, strength, table.iterrows())
        ],
    }
    centre = [float(np.mean(pts[:, 1])), float(np.mean(pts[:, 0]))] if len(pts) else [0.0, 0.0]
    m = Map(
        location=centre,
        zoom_start=11,
        tiles=tiles,
        control_scale=False,
        zoom_snap=0.25,
        font_size="12px",
        scroll_wheel_zoom=False,
    )
    add_basemap(m, tiles)
    _NetworkLayer(data).add_to(m)
    faint = ""
    if scale.knee > 0:
        faint = (
            f"<div>Grey: the {100 * KNEE:.0f}% of routes below {fmt(float(np.nanquantile(values, KNEE)))}; "
            "the darker and wider, the larger.</div>"
        )
    notes = (
        missing_key("no estimate") + faint + "<div>One line per route, in its direction with the larger "
        "value. Hover over or tap a route for its name and figures.</div>"
    )
    description = describe_network(table, value, sex=sex, period=period, source=source)
    add_page(
        m,
        title=title,
        legend=scale_html(scale, units),
        notes=notes,
        source=source,
        description=description,
        header=SEARCH_HTML if search else "",
        css=SEARCH_CSS if search else "",
    )
    return m
