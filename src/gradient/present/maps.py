"""Folium maps of one pattern's life expectancy gradient, for a newsroom to publish.

:func:`route_map` draws the route along its real geometry, each stretch coloured by
the life expectancy of the nearest stop on a scale centred on a stated reference
(:func:`gradient.present.colours.reference_scale`); stop markers with a tooltip and
popup (display names, the area's name, doubts about its estimate); start and end
marked and named; the stretch the printed sentence cites (or, without one, the
biggest fall between consecutive stops) highlighted and labelled, every label kept
inside the map; optionally the small areas underneath, toggled by a layer control;
title, legend and source line around the map, place names on the basemap, and no
scroll trap (:mod:`gradient.present._interact`).

Feed and table strings (stop, route and area names) reach the page only as JSON
data put into the document with ``textContent``, or as HTML-escaped text (see
:mod:`gradient.present.page`). :func:`gradient.present.embed.save_embed` writes the map as one
self-contained file with its iframe snippet and alt text.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from jinja2 import Template

from ..options import DEFAULT_TILES
from ..story import words
from ..story.names import display_name
from ..story.words import Voice
from ._interact import add_basemap
from ._route import COORD_DECIMALS, Lines, area_layer, pieces, stop_lines
from .colours import MISSING_COLOUR, Scale
from .embed import Map
from .page import DataLayer, add_page, esc, fmt, missing_key, plain, safe_json, scale_html, units_text
from .story import Stretch, steepest, stop_names, stretch

__all__ = ["DEFAULT_TILES", "MISSING_COLOUR", "describe_route", "draw_route_map", "route_map", "safe_json", "steepest"]


class _RouteLayer(DataLayer):
    """Areas, route, highlighted stretch, ends and stop markers, drawn from one JSON blob by one script."""

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
            if (d.steep) {  // the cited stretch: a black and white band around the route, found at a glance
                [["#000000", 20], ["#ffffff", 13]].forEach(function (band) {
                    L.polyline(d.steep.c, {color: band[0], weight: band[1], opacity: 1, interactive: false,
                                           lineCap: "butt"}).addTo(route);
                });
            }
            L.polyline(d.casing, {color: "#1a1a1a", weight: 8, opacity: 1, interactive: false}).addTo(route);
            d.pieces.forEach(function (p) {
                L.polyline(p.c, {color: p.k, weight: 5, opacity: 1, interactive: false,
                                 dashArray: p.m ? "5 5" : null}).addTo(route);
            });
            var stops = L.featureGroup().addTo(map);
            function radius() { var z = map.getZoom(); return z >= 14 ? 6 : z >= 13 ? 5 : z >= 12 ? 4 : 3; }
            var rings = d.ends.map(function (e) {
                return L.circleMarker(e.at, {radius: 9, color: "#1a1a1a", weight: 2.5, fillOpacity: 1,
                                             fillColor: e.kind === "start" ? "#ffffff" : "#1a1a1a",
                                             interactive: false, className: "gradient-ring gradient-" + e.kind})
                    .addTo(stops);
            });
            d.stops.forEach(function (s) {
                var marker = L.circleMarker([s.y, s.x], s.q ? {  // in doubt: hollow, a dashed ring
                    radius: 7, color: "#000000", weight: 2.5, dashArray: "3 2", fillColor: "#ffffff", fillOpacity: 1,
                    className: "gradient-stop gradient-doubt"
                } : {
                    radius: 5, color: "#1a1a1a", weight: 1.5, fillColor: s.k, fillOpacity: 1,
                    className: "gradient-stop"
                });
                if (!touch) { marker.bindTooltip(box(s.lines)); }  // a tap opens the popup alone
                marker.bindPopup(box(s.lines), {maxWidth: 260});
                marker.addTo(stops);
            });
            overlays[d.routeName] = route;
            overlays[d.stopsName] = stops;
            L.control.layers(null, overlays, {collapsed: true, position: "topright"}).addTo(map);
            var bounds = route.getBounds();
            if (stops.getLayers().length) { bounds.extend(stops.getBounds()); }
            var narrow = el.clientWidth < 600;
            if (bounds.isValid()) { map.fitBounds(bounds, {padding: narrow ? [14, 14] : [30, 30], maxZoom: 16}); }
            // a page of its own on a phone: the map is as tall as the route needs, not a strip in empty space
            if (bounds.isValid() && narrow && window.self === window.top) {
                var ne = map.latLngToContainerPoint(bounds.getNorthEast());
                var sw = map.latLngToContainerPoint(bounds.getSouthWest());
                var need = Math.abs(sw.y - ne.y) + 60, have = el.clientHeight;
                if (need < have * 0.8) {
                    el.style.setProperty("flex", "none", "important");
                    var tall = Math.max(need, 260, Math.round(window.innerHeight * 0.42));
                    el.style.setProperty("height", tall + "px", "important");
                    map.invalidateSize(false);
                    map.fitBounds(bounds, {padding: [14, 14], maxZoom: 16, animate: false});
                }
            }
            var labels = [];
            if (d.steep) { labels.push(label(d.steep.at, d.steep.text, "gradient-steepest", d.steep.sides)); }
            d.ends.forEach(function (e) {
                if (e.text) { labels.push(label(e.at, e.text, "gradient-end", ["right", "left", "bottom", "top"])); }
            });
            function resize() {
                var r = radius();
                stops.eachLayer(function (m) { m.setRadius(rings.indexOf(m) >= 0 ? r + 4 : r); });
            }
            map.on("zoomend", resize);
            var dots = d.stops.map(function (s) { return [s.y, s.x]; });
            map.on("moveend resize", function () { placeLabels(labels, dots); });
            resize();
            placeLabels(labels, dots);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, data: dict) -> None:
        super().__init__(data, "RouteLayer")


def describe_route(
    stops: pd.DataFrame,
    *,
    route: str = "",
    sex: str = "",
    period: str = "",
    source: str = "",
    pattern: pd.Series | None = None,
    voice: Voice | None = None,
) -> str:
    """One plain-text paragraph describing a route map, for alt text and screen readers.

    Parameters
    ----------
    stops : pandas.DataFrame
        One pattern's rows of ``stops.csv``, in stop order.
    route : str
        How to call the route, e.g. ``"route 8"``.
    sex, period, source : str
        As on the map, e.g. ``"male"``, ``"2009-2013"`` and the credit line.
    pattern : pandas.Series, optional
        The pattern's row of ``patterns.csv``: its sentence, and the stretch it cites.
    voice : Voice, optional
        The run's level and names.

    Returns
    -------
    str
        The words of :func:`gradient.story.words.route_alt_text` (plain text: escape it
        where it goes into a page).
    """
    s = stops.sort_values("stop_sequence", kind="stable")
    detail = ", ".join(p for p in (sex, period) if p)
    what = "life expectancy at birth" + (f" ({detail})" if detail else "")
    st = stretch(s, pattern, voice)
    highlight = None if st is None else (st.start, st.end, plain(st.label), st.cited, st.change)
    return words.route_alt_text(
        stop_names(s),
        s["le"].to_numpy(float).tolist(),
        s["dist_m"].to_numpy(float).tolist(),
        plain(route),
        what,
        None if pattern is None else pattern.to_dict(),
        highlight,
        plain(source),
        voice,
    )


def route_map(
    result,
    pattern_id: str | None = None,
    *,
    tiles: str | None = DEFAULT_TILES,
    areas: gpd.GeoDataFrame | None = None,
    scale: Scale | None = None,
) -> folium.Map:
    """Map one pattern of a run: :func:`draw_route_map`, titled, sourced, its sentence's stretch highlighted.

    Parameters
    ----------
    result : gradient.Result
    pattern_id : str, optional
        Default the top-ranked pattern.
    tiles : str or None
        Basemap, as for :func:`draw_route_map`.
    areas : geopandas.GeoDataFrame, optional
        The areas (e.g. from :func:`gradient.load_areas`), drawn underneath; also the
        table behind ``scale_reference='table'``.
    scale : Scale, optional
        Default :func:`gradient.present.colours.reference_scale` of the whole run with
        the run's ``scale_reference`` option, so every map shares one scale and reference.

    Returns
    -------
    folium.Map
    """
    from .colours import reference_scale

    row = result.pattern(pattern_id)
    labels = result.labels
    reference = getattr(result.options, "scale_reference", "areas")
    areas = areas if areas is not None else getattr(result, "areas", None)
    voice = words.voice_of(result.options, labels)
    return draw_route_map(
        result.stops_of(row["pattern_id"]),
        result.line(row["pattern_id"]),
        title=str(row.get("takeaway") or words.route_title(row)),
        source=words.credit_line(labels),
        voice=voice,
        period=labels.period,
        sex=labels.sex,
        route=f"route {display_name(row['route_name'])}",
        tiles=tiles,
        scale=scale or reference_scale(result.stops, reference, areas),
        areas=areas,
        pattern=row,
        context_name=getattr(labels, "context", ""),
    )


def _ends(stops: pd.DataFrame, names: list[str]) -> list[dict]:
    """The start and end markers and their labels (one label for a loop that ends where it starts)."""
    at = [
        [round(float(stops["lat"].iloc[k]), COORD_DECIMALS), round(float(stops["lon"].iloc[k]), COORD_DECIMALS)]
        for k in (0, -1)
    ]
    if len(stops) < 2:
        return [{"kind": "start", "at": at[0], "text": names[0]}]
    if names[0] == names[-1]:  # a loop: one label
        return [
            {"kind": "start", "at": at[0], "text": f"{names[0]} (start and end)"},
            {"kind": "end", "at": at[1], "text": ""},
        ]
    return [{"kind": "start", "at": at[0], "text": names[0]}, {"kind": "end", "at": at[1], "text": names[-1]}]


def _steep(stops: pd.DataFrame, lines: Lines, st: Stretch) -> dict:
    dist = stops["dist_m"].to_numpy(float)
    i, j = st.start, st.end
    coords = lines.cut(dist[i], dist[j]) or [[float(stops["lat"].iloc[k]), float(stops["lon"].iloc[k])] for k in (i, j)]
    dlat, dlon = np.ptp(np.asarray(coords), axis=0) * [1.0, np.cos(np.radians(coords[0][0]))]
    across = ["top", "bottom", "right", "left"] if dlon >= dlat else ["right", "left", "top", "bottom"]
    return {
        "c": coords,
        "at": lines.point((dist[i] + dist[j]) / 2),
        "text": st.label,
        "cited": st.cited,
        "sides": across,
    }  # beside the stretch, not along it


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
    pattern: pd.Series | None = None,
    context_name: str = "",
    voice: Voice | None = None,
) -> folium.Map:
    """Map one pattern: its route coloured by life expectancy, its stops, ends and highlighted stretch.

    Parameters
    ----------
    stops : pandas.DataFrame
        One pattern's rows of :func:`gradient.story.tables.stop_table` (``stop_name``,
        ``lon``, ``lat``, ``dist_m``, ``area_id``, ``le``, ``le_se``, ``le_delta``;
        ``le_delta_se``, ``area_name`` and ``area_doubt`` are shown when present).
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
        A folium tile name or URL; ``None`` for no basemap. The default comes with
        Esri's layer of place names above the route.
    scale : Scale, optional
        Colour scale; default :meth:`gradient.present.colours.Scale.around` the median of
        this route's stops. Pass :func:`gradient.present.colours.reference_scale` of the whole
        network so every map of an article shares one scale and reference.
    areas : geopandas.GeoDataFrame, optional
        ``AREA_COLUMNS`` (and ``area_name`` if present): the areas within
        ``areas_buffer_m`` metres of the route are drawn underneath, simplified to
        ``tolerance_m`` metres, as a layer the layer control toggles.
    areas_name : str
        Name of that layer in the layer control.
    show_areas : bool, default True
        Whether the area layer is on when the page opens.
    pattern : pandas.Series, optional
        The pattern's row of ``patterns.csv``: the stretch its sentence cites
        (``story_from_seq``, ``story_to_seq``, ``story_label``) is highlighted; without
        it, the biggest stop-to-stop fall.
    context_name : str
        What a ``context`` column of ``stops`` is (a second measure, with its units),
        shown by name in every popup.
    voice : Voice, optional
        The run's level and names (:class:`gradient.story.words.Voice`).

    Returns
    -------
    folium.Map
        With attributes ``title_text`` and ``alt_text`` (plain text, see
        :func:`describe_route`). Save it with :func:`gradient.present.embed.save_embed`.
    """
    voice = voice or Voice()
    stops = stops.sort_values("stop_sequence", kind="stable").reset_index(drop=True)
    if line is None or line.is_empty:
        line = shapely.LineString(stops[["lon", "lat"]].to_numpy(float)) if len(stops) > 1 else None
    if line is None:
        line = shapely.LineString([stops[["lon", "lat"]].to_numpy(float)[0]] * 2)
    le = stops["le"].to_numpy(float)
    scale = scale or Scale.around(le, reference_label="median of this route's stops")
    colours = scale.colours(le)
    lines = Lines(stops, line)
    names = stop_names(stops)
    data: dict = {
        "label": f"Map: {plain(title)}" if title else "Map",
        "pieces": pieces(stops, lines, colours),
        "casing": lines.latlon(np.asarray(lines.line.coords)),
        "steep": None,
        "ends": _ends(stops, names),
        "stops": [
            {"x": round(float(x), COORD_DECIMALS), "y": round(float(y), COORD_DECIMALS), "k": k, "lines": lines_}
            | ({"q": 1} if q else {})
            for x, y, k, lines_, q in zip(
                stops["lon"], stops["lat"], colours, stop_lines(stops, context_name, voice), _in_doubt(stops)
            )
        ],
        "areas": None,
        "areasName": esc(areas_name),  # Leaflet's layer control writes names as HTML
        "routeName": "Route",
        "stopsName": "Stops",
        "showAreas": bool(show_areas),
    }
    st = stretch(stops, pattern, voice)
    notes = [missing_key("no estimate"), _ends_key()]
    if any(_in_doubt(stops)):
        notes.append(
            '<div><span class="gradient-sw" style="width:12px;height:12px;border-radius:50%;border:2.5px dashed #000;'
            f'box-sizing:border-box;background:#fff"></span>{esc(words.doubt_key(_doubt_kinds(stops)))}</div>'
        )
    if st is not None:
        data["steep"] = _steep(stops, lines, st)
        notes.append(
            f'<div><span class="gradient-sw" style="height:5px;border:3px solid #000;background:#fff"></span>'
            f"{esc(st.note(names, pattern, voice))}</div>"
        )
    if areas is not None and len(areas):
        from ..areas.dataset import as_areas

        data["areas"] = area_layer(as_areas(areas).frame, lines, stops, scale, areas_buffer_m, tolerance_m, voice)
    ok = np.isfinite(le)
    span = (float(np.nanmin(le)), float(np.nanmax(le))) if ok.any() else None
    if span:
        notes.insert(
            0,
            f'<div><span class="gradient-sw" style="border-top:3px solid #111"></span>'
            f"This route: {fmt(span[0])} to {fmt(span[1])} years</div>",
        )
    if scale.palette == "life" and scale.reference_label:
        notes.append(f"<div>\u25b2 {fmt(scale.reference)}: {esc(plain(scale.reference_label))}</div>")
    centre = [float(stops["lat"].mean()), float(stops["lon"].mean())]
    m = Map(
        location=centre,
        zoom_start=12,
        tiles=tiles,
        control_scale=False,
        zoom_snap=0.25,
        font_size="12px",
        scroll_wheel_zoom=False,
    )
    add_basemap(m, tiles)
    _RouteLayer(data).add_to(m)
    legend = scale_html(scale, units_text("Life expectancy at birth, years", sex, period), span, "this route")
    description = describe_route(
        stops, route=route or title, sex=sex, period=period, source=source, pattern=pattern, voice=voice
    )
    add_page(m, title=title, legend=legend, notes="".join(notes), source=source, description=description)
    return m


def _in_doubt(stops: pd.DataFrame) -> list[bool]:
    """Per stop, whether its area's estimate is in doubt (``area_doubt`` not empty)."""
    if "area_doubt" not in stops:
        return [False] * len(stops)
    return stops["area_doubt"].fillna("").astype(str).str.strip().ne("").tolist()


def _doubt_kinds(stops: pd.DataFrame) -> list[str]:
    return sorted({str(v) for v, q in zip(stops.get("area_doubt", []), _in_doubt(stops)) if q})


def _ends_key() -> str:
    """Legend line for the start and end markers."""
    ring = (
        '<span class="gradient-sw" style="width:10px;height:10px;border-radius:50%;border:2.5px solid #1a1a1a;'
        'box-sizing:border-box;background:{}"></span>'
    )
    return f"<div>{ring.format('#fff')}start {ring.format('#1a1a1a')}end</div>"
