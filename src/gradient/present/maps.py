"""Folium maps of one pattern's life expectancy gradient, for a newsroom to publish.

:func:`route_map` draws the route along its real geometry, each stretch coloured by
the life expectancy of the nearest stop on a scale centred on a stated reference
(by default the median of the areas the network serves); stop markers with a
tooltip and popup; the steepest stretch (the largest fall between consecutive
stops) highlighted and labelled; optionally the small areas underneath, toggled by
a layer control; title, legend and source line around the map.

Feed and table strings (stop, route and area names) reach the page only as JSON
data put into the document with ``textContent``, or as HTML-escaped text (see
:mod:`gradient.page`). :func:`gradient.embed.save_embed` writes the map as one
self-contained file with its iframe snippet and alt text.
"""

from __future__ import annotations

import json

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from jinja2 import Template
from pyproj import Transformer

from ..options import DEFAULT_TILES, Z95
from ..schema import WGS84, metric_crs
from .colours import MISSING_COLOUR, Scale
from .embed import Map
from .page import DataLayer, add_page, esc, fmt, missing_key, plain, safe_json, scale_html, units_text

__all__ = ["DEFAULT_TILES", "MISSING_COLOUR", "describe_route", "draw_route_map", "route_map", "safe_json", "steepest"]


COORD_DECIMALS = 5
"""Degrees are rounded to 5 decimals (about 1 m) in the page."""


def _ci(value: float, se: float) -> str:
    if np.isfinite(value) and np.isfinite(se):
        return f" (95% CI {fmt(value - Z95 * se)} to {fmt(value + Z95 * se)})"
    return ""


def steepest(stops: pd.DataFrame) -> int | None:
    """Position (0-based, in stop order) of the stop that ends the largest fall, or None.

    The largest fall is the most negative ``le_delta`` (the first one on a tie), the
    stretch ``max_drop_from`` to ``max_drop_to`` of ``patterns.csv``; None when life
    expectancy never falls from one stop to the next.
    """
    delta = stops["le_delta"].to_numpy(float)
    if not np.isfinite(delta).any() or np.nanmin(delta) >= 0:
        return None
    return int(np.nanargmin(delta))


def _stop_lines(stops: pd.DataFrame) -> list[list[str]]:
    """Tooltip lines per stop: name, value with 95% interval, change, area, position."""
    n = len(stops)
    delta_se = stops["le_delta_se"].to_numpy(float) if "le_delta_se" in stops else np.full(n, np.nan)
    out = []
    for i, (name, le, se, delta, dse, area, dist) in enumerate(zip(
        stops["stop_name"].fillna("(unnamed stop)"),
        stops["le"].to_numpy(float),
        stops["le_se"].to_numpy(float),
        stops["le_delta"].to_numpy(float),
        delta_se,
        stops["area_id"].fillna(""),
        stops["dist_m"].to_numpy(float),
    )):
        lines = [plain(name), f"Life expectancy: {fmt(le)} years{_ci(le, se)}"]
        if i == 0:
            lines.append("First stop of the route")
        else:
            lines.append(f"Change from previous stop: {fmt(delta, sign=True)} years{_ci(delta, dse)}")
        if area:
            lines.append(f"Area: {plain(area)}")
        lines.append(f"Stop {i + 1} of {n}, {dist / 1000:.1f} km from the start")
        out.append(lines)
    return out


class _Lines:
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


def _pieces(stops: pd.DataFrame, lines: _Lines, colours: list[str]) -> list[dict]:
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


def _area_layer(areas: gpd.GeoDataFrame, lines: _Lines, stops: pd.DataFrame, scale: Scale,
                buffer_m: float, tolerance_m: float) -> dict:
    """GeoJSON of the areas within ``buffer_m`` of the route (and those its stops use), simplified."""
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
    name_col = "area_name" if "area_name" in near.columns else "area_id"
    features = []
    for geom, name, le, se, k in zip(geoms, near[name_col], near["le"].to_numpy(float),
                                     near["le_se"].to_numpy(float), scale.colours(near["le"])):
        if geom is None or geom.is_empty:
            continue
        lines_ = [plain(name), f"Life expectancy: {fmt(le)} years{_ci(le, se)}"]
        features.append({"type": "Feature", "geometry": json.loads(shapely.to_geojson(geom)),
                         "properties": {"k": k, "m": int(not np.isfinite(le)), "lines": lines_}})
    return {"type": "FeatureCollection", "features": features}


class _RouteLayer(DataLayer):
    """Areas, route, steepest stretch and stop markers, drawn from one JSON blob by one script."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var d = {{ this.data }};
            {{ this.common_js }}
            var overlays = {};
            if (d.areas) {
                var areas = L.geoJSON(d.areas, {
                    style: function (f) {
                        return {color: "#ffffff", weight: 1, fillColor: f.properties.k,
                                fillOpacity: f.properties.m ? 0.15 : 0.3};
                    },
                    onEachFeature: function (f, layer) { layer.bindTooltip(box(f.properties.lines), {sticky: true}); }
                });
                if (d.showAreas) { areas.addTo(map); }
                overlays[d.areasName] = areas;
            }
            var route = L.featureGroup().addTo(map);
            if (d.steep) {
                L.polyline(d.steep.c, {color: "#000000", weight: 18, opacity: 0.28, interactive: false}).addTo(route);
            }
            L.polyline(d.casing, {color: "#1a1a1a", weight: 8, opacity: 1, interactive: false}).addTo(route);
            d.pieces.forEach(function (p) {
                L.polyline(p.c, {color: p.k, weight: 5, opacity: 1, interactive: false,
                                 dashArray: p.m ? "5 5" : null}).addTo(route);
            });
            if (d.steep) {
                var label = document.createElement("span");
                label.textContent = d.steep.text;
                L.tooltip({permanent: true, direction: d.steep.dir, offset: d.steep.dir === "top" ? [0, -10] : [10, 0],
                           className: "gradient-steepest", interactive: false})
                    .setLatLng(d.steep.at).setContent(label).addTo(map);
            }
            var stops = L.featureGroup().addTo(map);
            function radius() { var z = map.getZoom(); return z >= 14 ? 6 : z >= 13 ? 5 : z >= 12 ? 4 : 3; }
            d.stops.forEach(function (s) {
                var marker = L.circleMarker([s.y, s.x], {
                    radius: 5, color: "#1a1a1a", weight: 1.5, fillColor: s.k, fillOpacity: 1,
                    className: "gradient-stop"
                });
                if (!L.Browser.mobile) { marker.bindTooltip(box(s.lines)); }  // a tap opens the popup alone
                marker.bindPopup(box(s.lines), {maxWidth: 260});
                marker.addTo(stops);
            });
            overlays[d.routeName] = route;
            overlays[d.stopsName] = stops;
            L.control.layers(null, overlays, {collapsed: true, position: "topright"}).addTo(map);
            var bounds = route.getBounds();
            if (stops.getLayers().length) { bounds.extend(stops.getBounds()); }
            if (bounds.isValid()) { map.fitBounds(bounds, {padding: [16, 16], maxZoom: 16}); }
            function resize() { var r = radius(); stops.eachLayer(function (m) { m.setRadius(r); }); }
            map.on("zoomend", resize);
            resize();
        })();
        {% endmacro %}
        """
    )

    def __init__(self, data: dict) -> None:
        super().__init__(data, "RouteLayer")


def describe_route(stops: pd.DataFrame, *, route: str = "", sex: str = "", period: str = "",
                   source: str = "") -> str:
    """One plain-text paragraph describing a route map, for alt text and screen readers.

    Parameters
    ----------
    stops : pandas.DataFrame
        One pattern's rows of ``stops.csv``, in stop order.
    route : str
        How to call the route, e.g. ``"Route 8"``.
    sex, period, source : str
        As on the map, e.g. ``"persons"``, ``"2010-2015"``, ``"Sources: ..."``.

    Returns
    -------
    str
        Route, ends, length, the range of life expectancy and where its ends are,
        where the biggest fall between consecutive stops is, period and source. Plain
        text (not HTML): escape it where it goes into a page.
    """
    s = stops.sort_values("stop_sequence", kind="stable")
    names = [plain(n) for n in s["stop_name"].fillna("(unnamed stop)")]
    le = s["le"].to_numpy(float)
    dist = s["dist_m"].to_numpy(float)
    detail = ", ".join(p for p in (sex, period) if p)
    what = "life expectancy at birth" + (f" ({detail})" if detail else "")
    text = [
        (
            f"Map of {plain(route) or 'a route'} from {names[0]} to {names[-1]} ({dist[-1] / 1000:.1f} km, "
            f"{len(s)} stops), coloured stop by stop by the {what} of the small area each stop stands in."
        )
    ]
    ok = np.isfinite(le)
    if ok.any():
        lo, hi = int(np.nanargmin(le)), int(np.nanargmax(le))
        text.append(
            f"Along the route it ranges from {fmt(le[lo])} years at {names[lo]} to {fmt(le[hi])} years at "
            f"{names[hi]}, a difference of {fmt(le[hi] - le[lo])} years, over the {int(ok.sum())} stops "
            "with an estimate."
        )
        i = steepest(s)
        if i is None:
            text.append("Life expectancy never falls from one stop to the next.")
        else:
            text.append(
                f"The biggest fall between consecutive stops is {fmt(-s['le_delta'].iloc[i])} years, from "
                f"{fmt(le[i - 1])} at {names[i - 1]} to {fmt(le[i])} at {names[i]}, "
                f"{dist[i] / 1000:.1f} km from {names[0]}."
            )
    else:
        text.append("None of its stops has a life expectancy estimate.")
    if source:
        text.append(plain(source).rstrip(".") + ".")
    return " ".join(text)


def route_map(
    result,
    pattern_id: str | None = None,
    *,
    tiles: str | None = DEFAULT_TILES,
    areas: gpd.GeoDataFrame | None = None,
    scale: Scale | None = None,
) -> folium.Map:
    """Map one pattern of a run: :func:`draw_route_map`, titled and sourced.

    Parameters
    ----------
    result : gradient.Result
    pattern_id : str, optional
        Default the top-ranked pattern.
    tiles : str or None
        Basemap, as for :func:`draw_route_map`.
    areas : geopandas.GeoDataFrame, optional
        The areas (e.g. from :func:`gradient.load_areas`), drawn underneath.
    scale : Scale, optional
        Default :func:`gradient.present.colours.areas_scale` of the whole run, so every
        map shares one scale centred on the median of the areas served.

    Returns
    -------
    folium.Map
    """
    from ..pipeline import pattern_title
    from .colours import areas_scale

    row = result.pattern(pattern_id)
    labels = result.labels
    return draw_route_map(
        result.stops_of(row["pattern_id"]),
        result.line(row["pattern_id"]),
        title=pattern_title(row),
        source=labels.source_line,
        period=labels.period,
        sex=labels.sex,
        route=f"route {row['route_name']}",
        tiles=tiles,
        scale=scale or areas_scale(result.stops),
        areas=areas,
    )


def draw_route_map(
    stops: pd.DataFrame,
    line: shapely.LineString | None = None,
    *,
    title: str = "",
    source: str = "",
    period: str = "",
    sex: str = "",
    route: str = "",
    tiles: str | None = DEFAULT_TILES,
    scale: Scale | None = None,
    areas: gpd.GeoDataFrame | None = None,
    areas_name: str = "Small areas",
    show_areas: bool = True,
    areas_buffer_m: float = 1000.0,
    tolerance_m: float = 15.0,
) -> folium.Map:
    """Map one pattern: its route coloured by life expectancy, its stops and steepest stretch.

    Parameters
    ----------
    stops : pandas.DataFrame
        One pattern's rows of :func:`gradient.gradient.stop_table` (``stop_name``,
        ``lon``, ``lat``, ``dist_m``, ``area_id``, ``le``, ``le_se``, ``le_delta``;
        ``le_delta_se`` is shown when present).
    line : shapely.LineString, optional
        The route geometry (EPSG:4326) from the first to the last stop, as in the
        ``patterns`` table; default straight lines between the stops.
    title : str
        Shown above the map (e.g. the route and its end stops).
    source : str
        The source line shown under the legend (data sources and period).
    period, sex : str
        Named in the legend, e.g. ``"2010-2015"`` and ``"persons"``.
    route : str
        The route's name for the description, e.g. ``"Route 8"``.
    tiles : str or None, default ``"Esri.WorldGrayCanvas"``
        A folium tile name or URL; ``None`` for no basemap.
    scale : Scale, optional
        Colour scale; default :meth:`gradient.colours.Scale.around` the median of
        this route's stops. Pass :func:`gradient.colours.areas_scale` of the whole
        network so every map of an article shares one scale and reference.
    areas : geopandas.GeoDataFrame, optional
        ``AREA_COLUMNS`` (and ``area_name`` if present): the areas within
        ``areas_buffer_m`` metres of the route are drawn underneath, simplified to
        ``tolerance_m`` metres, as a layer the layer control toggles.
    areas_name : str
        Name of that layer in the layer control.
    show_areas : bool, default True
        Whether the area layer is on when the page opens.

    Returns
    -------
    folium.Map
        With attributes ``title_text`` and ``alt_text`` (plain text, see
        :func:`describe_route`). Save it with :func:`gradient.embed.save_embed`.
    """
    stops = stops.sort_values("stop_sequence", kind="stable").reset_index(drop=True)
    if line is None or line.is_empty:
        line = shapely.LineString(stops[["lon", "lat"]].to_numpy(float)) if len(stops) > 1 else None
    if line is None:
        line = shapely.LineString([stops[["lon", "lat"]].to_numpy(float)[0]] * 2)
    le = stops["le"].to_numpy(float)
    scale = scale or Scale.around(le, reference_label="median of this route's stops")
    colours = scale.colours(le)
    lines = _Lines(stops, line)
    dist = stops["dist_m"].to_numpy(float)
    casing = lines.latlon(np.asarray(lines.line.coords))
    data: dict = {
        "label": f"Map: {plain(title)}" if title else "Map",
        "pieces": _pieces(stops, lines, colours),
        "casing": casing,
        "steep": None,
        "stops": [
            {"x": round(float(x), COORD_DECIMALS), "y": round(float(y), COORD_DECIMALS), "k": k, "lines": lines_}
            for x, y, k, lines_ in zip(stops["lon"], stops["lat"], colours, _stop_lines(stops))
        ],
        "areas": None,
        "areasName": esc(areas_name),  # Leaflet's layer control writes names as HTML
        "routeName": "Route",
        "stopsName": "Stops",
        "showAreas": bool(show_areas),
    }
    i = steepest(stops)
    notes = [missing_key("no estimate")]
    if i is not None:
        drop = -float(stops["le_delta"].iloc[i])
        coords = lines.cut(dist[i - 1], dist[i]) or [
            [float(stops["lat"][k]), float(stops["lon"][k])] for k in (i - 1, i)]
        dlat, dlon = np.ptp(np.asarray(coords), axis=0) * [1.0, np.cos(np.radians(coords[0][0]))]
        data["steep"] = {"c": coords, "at": lines.point((dist[i - 1] + dist[i]) / 2),
                         "text": f"Biggest stop-to-stop fall: {fmt(-drop)} years",
                         "dir": "top" if dlon >= dlat else "right"}  # beside the stretch, not along it
        notes.append(
            '<div><span class="gradient-sw" style="border-top:9px solid rgba(0,0,0,.28)"></span>'
            f"Biggest stop-to-stop fall, {fmt(-drop)} years: {esc(plain(stops['stop_name'].iloc[i - 1]))} to "
            f"{esc(plain(stops['stop_name'].iloc[i]))}</div>"
        )
    if areas is not None and len(areas):
        data["areas"] = _area_layer(areas, lines, stops, scale, areas_buffer_m, tolerance_m)
    ok = np.isfinite(le)
    span = (float(np.nanmin(le)), float(np.nanmax(le))) if ok.any() else None
    if span:
        notes.insert(0, f'<div><span class="gradient-sw" style="border-top:3px solid #111"></span>'
                        f"This route: {fmt(span[0])} to {fmt(span[1])} years</div>")
    if scale.palette == "diverging" and scale.reference_label:
        notes.append(f"<div>\u25b2 {fmt(scale.reference)}: {esc(plain(scale.reference_label))}</div>")
    centre = [float(stops["lat"].mean()), float(stops["lon"].mean())]
    m = Map(location=centre, zoom_start=12, tiles=tiles, control_scale=False, zoom_snap=0.25,
                   font_size="12px")
    _RouteLayer(data).add_to(m)
    legend = scale_html(scale, units_text("Life expectancy at birth, years", sex, period), span, "this route")
    description = describe_route(stops, route=route or title, sex=sex, period=period, source=source)
    add_page(m, title=title, legend=legend, notes="".join(notes), source=source, description=description)
    return m
