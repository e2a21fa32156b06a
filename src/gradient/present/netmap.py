"""One map of a whole network: every route coloured by the strength of its story, a finder and a panel.

Built to read at city scale, on a phone too, and stay light with hundreds of routes:

- **One line per route**, drawn by the pattern its story is told on; its tooltip says which
  way that pattern runs ("Route 25 towards Ilford").
- **Colour by the ranking's own statistic** (``lead_low``, the least the route's supported
  change could be): the darker and wider, the stronger, so the darkest line is the
  top-ranked route (:data:`gradient.present.colours.STRENGTH`, the one palette's darker
  end); routes with no change the data support are thin grey context lines.
- **A finder** above the map that waits for the reader: typing lists routes and places
  (stops and neighbourhoods, "Oxford Circus") and nothing is picked until one is chosen
  (Enter, a click, or *Show*), by keyboard too (a combobox with a listbox). A route shows
  both its directions, each with its sentence and its stop-by-stop profile, and links to its
  own map and full chart where those were written; a place shows the routes through it.
- **Light.** Geometry is simplified in metres (shapely), rounded to about 1 m and written as
  Google's encoded polylines, profiles as encoded integers; every route travels in one JSON
  blob drawn by one script onto one canvas, with tooltips built only when shown.
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
from .page import DataLayer, add_page, esc, fmt, missing_key, plain, safe_json, scale_html, units_text

VALUES = words.NETWORK_VALUES
"""Columns of ``patterns.csv`` a network map can be coloured by, and their legend text."""

SCALE = 100_000
"""Coordinates travel as integers of 1e-5 degree (about 1 m), polyline-encoded."""


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
    return words.network_tooltip(row.to_dict(), voice)[:2] + [words.network_story(row.to_dict())]


FINDER_HTML = (
    '<form class="gradient-search" role="search" autocomplete="off">'
    '<label for="gradient-route" id="gradient-find-label"></label> '
    '<span class="gradient-combo"><input id="gradient-route" type="search" enterkeyhint="search" role="combobox" '
    'aria-autocomplete="list" aria-expanded="false" aria-controls="gradient-options">'
    '<ul id="gradient-options" role="listbox" aria-labelledby="gradient-find-label" hidden></ul></span> '
    '<button type="submit" id="gradient-go"></button> '
    '<span class="gradient-found" aria-live="polite"></span></form>'
)
"""The finder in the page's header (its words filled by the script with ``textContent``)."""

PANEL_HTML = '<section class="gradient-panel" aria-live="polite" hidden></section>'
"""Where a picked route's two directions and profiles, or a place's routes, are shown."""

FINDER_CSS = """
.gradient-search { margin: 3px 0 0; font-size: 13px; display: flex; flex-wrap: wrap; gap: 4px 6px;
  align-items: center; }
.gradient-search label { font-weight: 600; }
.gradient-combo { position: relative; display: inline-block; }
.gradient-search input { font: inherit; font-size: 16px; padding: 2px 6px; width: 13em; max-width: 60vw;
  border: 1px solid #767676; border-radius: 3px; }
.gradient-search button, .gradient-panel button { font: inherit; font-size: 14px; padding: 3px 9px;
  border: 1px solid #555; border-radius: 3px; background: #f4f4f4; color: #111; cursor: pointer; }
.gradient-panel button[aria-pressed="true"] { background: #222; color: #fff; }
#gradient-options { position: absolute; z-index: 2000; left: 0; top: 100%; margin: 1px 0 0; padding: 2px 0;
  list-style: none; background: #fff; border: 1px solid #767676; min-width: 100%; max-height: 50vh; overflow-y: auto;
  box-shadow: 0 2px 6px rgba(0, 0, 0, .25); }
#gradient-options li { padding: 5px 8px; cursor: pointer; white-space: nowrap; }
#gradient-options li[aria-selected="true"] { background: #222; color: #fff; }
.gradient-found { color: #333; }
.gradient-panel { order: 2; flex: none; padding: 6px 10px; border-top: 1px solid #ddd; max-height: 46vh;
  overflow-y: auto; }
.gradient-panel h2 { font-size: 14px; margin: 0 0 4px; }
.gradient-panel p { margin: 4px 0; }
.gradient-panel .gradient-ways, .gradient-panel .gradient-links { display: flex; flex-wrap: wrap; gap: 6px;
  margin: 4px 0; }
.gradient-panel svg { width: 100%; max-width: 520px; height: auto; display: block; }
.gradient-panel a { color: #1a4f8b; }
"""


def _natural(name: str) -> tuple:
    """Sort key that puts route 9 before route 10 (digits compared as numbers)."""
    return tuple((0, int(t), "") if t.isdigit() else (1, 0, t.lower()) for t in re.findall(r"\d+|\D+", name))


def profile_code(dist_m: np.ndarray, le: np.ndarray) -> str:
    """A pattern's profile for the page: distance in 10 m and life expectancy in 0.1 years, polyline-encoded.

    Pairs ``(dist, le)`` as integers, the first as is and then differences; an unknown life
    expectancy travels as 0 (never a real value) and the page draws a gap there.

    Examples
    --------
    >>> profile_code(np.array([0.0, 420.0]), np.array([80.0, np.nan]))
    '?_q@sA~p@'
    """
    d = np.round(np.asarray(dist_m, float) / 10.0)
    v = np.asarray(le, float)
    v = np.where(np.isfinite(v), np.round(v * 10.0), 0.0)
    ints = np.column_stack([d, v]).astype(np.int64)
    if len(ints):
        ints = np.vstack([ints[:1], np.diff(ints, axis=0)])
    return _polyline(ints.ravel())


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
            function ints(str) {
                var out = [], i = 0;
                while (i < str.length) {
                    var shift = 0, result = 0, b;
                    do { b = str.charCodeAt(i++) - 63; result |= (b & 31) << shift; shift += 5; } while (b >= 32);
                    out.push((result & 1) ? ~(result >> 1) : (result >> 1));
                }
                return out;
            }
            function decode(str) {
                var v = ints(str), out = [], lat = 0, lon = 0;
                for (var i = 0; i + 1 < v.length; i += 2) { lat += v[i]; lon += v[i + 1];
                    out.push([lat / d.scale, lon / d.scale]); }
                return out;
            }
            var lines = [], byRoute = {}, picked = null, casing = null;
            d.p.forEach(function (p) {
                var pts = decode(p.g);
                if (pts.length < 2) { return; }
                var style = {renderer: renderer, color: p.k, weight: p.w, opacity: p.o, dashArray: p.m ? "4 4" : null};
                var line = L.polyline(pts, style);
                var l = {line: line, p: p, style: style};
                line.gradient = l;
                group.addLayer(line);
                lines.push(l);
                byRoute[p.i] = l;
            });
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
            var pickRoute = function () {};  // set once the finder's data has arrived (it follows the map)
            group.on("click", function (e) { map.closeTooltip(tip); pickRoute(e.propagatedFrom.gradient.p.i, 0); });
            var bounds = group.getBounds();
            if (bounds.isValid()) { map.fitBounds(bounds, {padding: [8, 8], animate: false}); }
            group.addTo(map);  // after the view is set: each line is projected once
            el.setAttribute("data-gradient-patterns", String(lines.length));
            function setup() {
            var blob = document.getElementById("gradient-finder");
            if (!blob) { return; }
            var f = JSON.parse(blob.textContent), ui = f.ui;
            var panel = document.querySelector(".gradient-panel");
            var input = document.getElementById("gradient-route");
            var found = document.querySelector(".gradient-found");
            var list = document.getElementById("gradient-options");
            if (!input) { return; }
            document.getElementById("gradient-find-label").textContent = ui.find;
            document.getElementById("gradient-go").textContent = ui.go;
            input.placeholder = ui.example.replace("{example}", f.example).replace("{place}", f.examplePlace || "");
            function fill(text) { return function (s) { return s.replace(/\\{(\\w+)\\}/g, function (m, k) {
                return text[k] === undefined ? m : text[k]; }); }; }
            function norm(s) { return String(s).trim().toLowerCase().replace(/^route\\s+/, ""); }
            var routeIndex = {};
            f.routes.forEach(function (r, i) { routeIndex[norm(r.r)] = i; });

            function clearStyles() {
                if (casing) { map.removeLayer(casing); casing = null; }
                lines.forEach(function (l) { l.line.setStyle(l.style); });
            }
            function unpick() {
                picked = null;
                clearStyles();
                map.closePopup();
                found.textContent = "";
                panel.hidden = true;
                panel.textContent = "";
                el.removeAttribute("data-gradient-picked");
                if (bounds.isValid()) { map.fitBounds(bounds, {padding: [8, 8], animate: false}); }
            }
            function el_(tag, text, cls) { var e = document.createElement(tag); if (text) { e.textContent = text;
                } if (cls) { e.className = cls; } return e; }
            function profileSvg(r, dir) {
                var v = ints(dir.s), pts = [], dd = 0, ll = 0;
                for (var i = 0; i + 1 < v.length; i += 2) { dd += v[i]; ll += v[i + 1];
                    pts.push([dd / 100, ll ? ll / 10 : null]); }
                var known = pts.filter(function (p) { return p[1] !== null; });
                var W = 320, H = 130, L0 = 34, R0 = 8, T0 = 8, B0 = 22;
                var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
                svg.setAttribute("viewBox", "0 0 " + W + " " + H);
                svg.setAttribute("role", "img");
                svg.setAttribute("aria-label", fill({route: r.r, first: dir.f, last: dir.l})(ui.profile));
                if (!known.length) { return svg; }
                var lo = Math.min.apply(null, known.map(function (p) { return p[1]; }));
                var hi = Math.max.apply(null, known.map(function (p) { return p[1]; }));
                if (hi - lo < 2) { lo -= 1; hi += 1; }
                var kmMax = pts[pts.length - 1][0] || 1;
                function X(km) { return L0 + (W - L0 - R0) * km / kmMax; }
                function Y(y) { return T0 + (H - T0 - B0) * (hi - y) / (hi - lo); }
                function add(tag, attrs, text) {
                    var e = document.createElementNS("http://www.w3.org/2000/svg", tag);
                    for (var k in attrs) { e.setAttribute(k, attrs[k]); }
                    if (text !== undefined) { e.textContent = text; }
                    svg.appendChild(e); return e;
                }
                add("line", {x1: L0, x2: W - R0, y1: H - B0, y2: H - B0, stroke: "#999"});
                [lo, hi].forEach(function (y) {
                    add("text", {x: L0 - 4, y: Y(y) + 4, "text-anchor": "end", "font-size": 11, fill: "#333"},
                        y.toFixed(1));
                });
                add("text", {x: W - R0, y: H - 6, "text-anchor": "end", "font-size": 11, fill: "#333"},
                    kmMax.toFixed(1) + " " + ui.km);
                add("text", {x: L0, y: H - 6, "font-size": 11, fill: "#333"}, "0");
                if (dir.a !== undefined && dir.b !== undefined && pts[dir.a] && pts[dir.b]) {
                    add("rect", {x: X(pts[dir.a][0]), y: T0, width: Math.max(X(pts[dir.b][0]) - X(pts[dir.a][0]), 2),
                                 height: H - T0 - B0, fill: "#e3e3e3"});
                }
                var path = "", pen = false;
                pts.forEach(function (p, i) {
                    if (p[1] === null) { pen = false; return; }
                    var a = i ? (pts[i - 1][0] + p[0]) / 2 : p[0];
                    var b = i + 1 < pts.length ? (p[0] + pts[i + 1][0]) / 2 : p[0];
                    path += (pen ? "L" : "M") + X(a).toFixed(1) + " " + Y(p[1]).toFixed(1) +
                        "L" + X(b).toFixed(1) + " " + Y(p[1]).toFixed(1);
                    pen = true;
                });
                add("path", {d: path, fill: "none", stroke: "#111", "stroke-width": 1.6});
                if (dir.a !== undefined && dir.b !== undefined) {
                    var seg = "";
                    for (var i = dir.a; i <= dir.b && i < pts.length; i++) { if (pts[i][1] !== null) {
                        seg += (seg ? "L" : "M") + X(pts[i][0]).toFixed(1) + " " + Y(pts[i][1]).toFixed(1); } }
                    add("path", {d: seg, fill: "none", stroke: "#000", "stroke-width": 3.4});
                }
                return svg;
            }
            function showRoute(i, way) {
                var r = f.routes[i], dir = r.d[way] || r.d[0];
                panel.textContent = "";
                panel.appendChild(el_("h2", dir.w));
                if (r.d.length > 1) {
                    var ways = el_("div", "", "gradient-ways");
                    r.d.forEach(function (o, k) {
                        var b = el_("button", k === 0 ? ui.this_way + ": " + o.w : ui.other_way + ": " + o.w);
                        b.type = "button";
                        b.setAttribute("aria-pressed", k === way ? "true" : "false");
                        b.addEventListener("click", function () { showRoute(i, k); });
                        ways.appendChild(b);
                    });
                    panel.appendChild(ways);
                }
                panel.appendChild(el_("p", dir.h));
                panel.appendChild(profileSvg(r, dir));
                var links = el_("div", "", "gradient-links");
                if (dir.c) { var a = el_("a", ui.chart); a.href = dir.c; a.target = "_blank"; a.rel = "noopener";
                    links.appendChild(a); }
                if (dir.m) { var a2 = el_("a", ui.map); a2.href = dir.m; a2.target = "_blank"; a2.rel = "noopener";
                    links.appendChild(a2); }
                var clear = el_("button", ui.clear); clear.type = "button";
                clear.addEventListener("click", function () { input.value = ""; unpick(); input.focus(); });
                links.appendChild(clear);
                panel.appendChild(links);
                panel.hidden = false;
            }
            pickRoute = function (i, way) {
                var l = byRoute[i];
                clearStyles();
                picked = i;
                if (l) {
                    lines.forEach(function (o) { if (o !== l) { o.line.setStyle({opacity: 0.15}); } });
                    casing = L.polyline(l.line.getLatLngs(), {renderer: renderer, color: "#111111", weight: l.p.w + 6,
                                        opacity: 1, interactive: false}).addTo(map);
                    l.line.setStyle({weight: l.p.w + 2, opacity: 1});
                    l.line.bringToFront();
                    map.fitBounds(l.line.getBounds(), {padding: [24, 24], maxZoom: 15, animate: false});
                }
                found.textContent = f.routes[i].d[0].w;
                el.setAttribute("data-gradient-picked", f.routes[i].r);
                showRoute(i, way);
            };
            function placeRoutes(k) {
                var v = ints(f.places[k][1]), out = [], at = 0;
                v.forEach(function (x) { at += x; out.push(at); });
                return out;
            }
            function pickPlace(k) {
                var place = f.places[k], chosen = {}, through = placeRoutes(k);
                through.forEach(function (i) { chosen[i] = true; });
                clearStyles();
                picked = -1;
                var b = L.latLngBounds([]);
                lines.forEach(function (o) {
                    if (chosen[o.p.i]) { o.line.setStyle({opacity: 1, weight: o.p.w + 1}); o.line.bringToFront();
                        b.extend(o.line.getBounds()); }
                    else { o.line.setStyle({opacity: 0.12}); }
                });
                if (b.isValid()) { map.fitBounds(b, {padding: [24, 24], maxZoom: 15, animate: false}); }
                found.textContent = fill({place: place[0]})(ui.place);
                el.setAttribute("data-gradient-picked", place[0]);
                panel.textContent = "";
                panel.appendChild(el_("h2", fill({place: place[0]})(ui.place)));
                var ways = el_("div", "", "gradient-ways");
                through.forEach(function (i) {
                    var btn = el_("button", f.routes[i].d[0].w); btn.type = "button";
                    btn.addEventListener("click", function () { input.value = f.routes[i].r; pickRoute(i, 0); });
                    ways.appendChild(btn);
                });
                panel.appendChild(ways);
                panel.hidden = false;
            }
            // suggestions: routes whose name starts with the text, then places containing a word that does;
            // nothing is picked until the reader chooses one (Enter, a click, or the Show button)
            var options = [], active = -1;
            function suggest() {
                var text = norm(input.value);
                options = [];
                if (text) {
                    f.routes.forEach(function (r, i) { if (norm(r.r).indexOf(text) === 0) {
                        options.push({kind: "r", i: i, label: r.d[0].w, exact: norm(r.r) === text}); } });
                    options.sort(function (a, b) { return (b.exact - a.exact); });
                    options = options.slice(0, 6);
                    if (text.length >= 3) {
                        var n = 0;
                        for (var k = 0; k < f.places.length && n < 8; k++) {
                            var name = f.places[k][0].toLowerCase();
                            if (name.indexOf(text) === 0 || name.indexOf(" " + text) >= 0) {
                                var many = fill({n: placeRoutes(k).length})(ui.routes);
                                options.push({kind: "p", i: k, label: f.places[k][0] + " (" + many + ")"});
                                n++;
                            }
                        }
                    }
                }
                list.textContent = "";
                active = -1;
                options.forEach(function (o, k) {
                    var li = el_("li", o.label);
                    li.id = "gradient-option-" + k;
                    li.setAttribute("role", "option");
                    li.setAttribute("aria-selected", "false");
                    li.addEventListener("mousedown", function (e) { e.preventDefault(); choose(k); });
                    list.appendChild(li);
                });
                list.hidden = !options.length;
                input.setAttribute("aria-expanded", options.length ? "true" : "false");
                input.removeAttribute("aria-activedescendant");
            }
            function highlight(k) {
                active = k;
                Array.prototype.forEach.call(list.children, function (li, j) {
                    li.setAttribute("aria-selected", j === k ? "true" : "false"); });
                if (k >= 0) { input.setAttribute("aria-activedescendant", "gradient-option-" + k);
                    list.children[k].scrollIntoView({block: "nearest"}); }
            }
            function close() { list.hidden = true; input.setAttribute("aria-expanded", "false");
                input.removeAttribute("aria-activedescendant"); }
            function choose(k) {
                var o = options[k];
                close();
                if (!o) { return; }
                if (o.kind === "r") { input.value = f.routes[o.i].r; pickRoute(o.i, 0); }
                else { input.value = f.places[o.i][0]; pickPlace(o.i); }
            }
            function submit() {
                var text = norm(input.value);
                if (!text) { unpick(); return; }
                if (active >= 0) { choose(active); return; }
                if (routeIndex[text] !== undefined) { close(); pickRoute(routeIndex[text], 0); return; }
                for (var k = 0; k < f.places.length; k++) { if (f.places[k][0].toLowerCase() === text) { close();
                    pickPlace(k); return; } }
                if (options.length === 1) { choose(0); return; }
                close();
                found.textContent = fill({text: input.value.trim()})(ui.nothing);
            }
            input.addEventListener("input", suggest);
            input.addEventListener("blur", function () { setTimeout(close, 150); });
            input.addEventListener("keydown", function (e) {
                if (e.key === "ArrowDown" && options.length) { e.preventDefault();
                    highlight(Math.min(active + 1, options.length - 1)); }
                else if (e.key === "ArrowUp" && options.length) { e.preventDefault();
                    highlight(Math.max(active - 1, 0)); }
                else if (e.key === "Escape") { if (!list.hidden) { close(); } else { input.value = ""; unpick(); } }
            });
            input.form.addEventListener("submit", function (e) { e.preventDefault(); submit(); });
            el.setAttribute("data-gradient-finder", "ready");
            }
            if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", setup); } else {
                setup(); }
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
    text = [f"Map of {len(patterns)} routes, each coloured by the {what}."]
    top = patterns.dropna(subset=[value])
    top = top[top[value].abs() > 0] if value == "lead_low" else top
    key = top[value].abs() if value == "slope_per_km" else top[value]
    top = top.loc[key.sort_values(ascending=False, kind="stable").index].head(3)
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


def network_map(
    result, value: str = "lead_low", *, tiles: str | None = DEFAULT_TILES, title: str = "", stems: dict | None = None
) -> folium.Map:
    """:func:`draw_network_map` of every route of a run, sourced, with each route's profiles and places.

    ``stems`` maps a pattern id to the file stem of its saved map and charts (the mapped
    patterns of :func:`gradient.output.write.write_outputs`): the panel then links to them.
    """
    labels = result.labels
    return draw_network_map(
        result.patterns,
        result.geometry,
        stops=result.stops,
        value=value,
        title=title or words.network_title(value),
        source=words.credit_line(labels),
        voice=words.voice_of(result.options, labels),
        period=labels.period,
        sex=labels.sex,
        tiles=tiles,
        stems=stems,
    )


def _scale(values: np.ndarray, value: str) -> tuple[Scale, np.ndarray]:
    """The network map's scale (the palette's strength end) and each route's strength (0 to 1: colour and width).

    Routes without a value (no supported change, for ``lead_low``) get NaN: thin grey lines.
    """
    v = np.abs(values) if value == "slope_per_km" else values.copy()
    if value == "lead_low":
        v = np.where(v > 0, v, np.nan)
    scale = Scale.upto(v, label="")
    if value == "lead_low" and np.isfinite(v).any():
        scale = Scale(0.0, float(np.nanmax(v)), 0.0, "", "strength")
    return scale, scale.strength(v)


def _routes(
    table: pd.DataFrame, patterns: pd.DataFrame, stops: pd.DataFrame | None, stems: dict, voice
) -> tuple[list, dict]:
    """Each drawn route's directions for the panel (words, headline, profile, links), and the route index by name."""
    order = list(table["route_name"])
    index = {name: i for i, name in enumerate(order)}
    main = patterns[patterns["route_name"].isin(index)]
    if "route_story" in main:
        main = main.sort_values("route_story", ascending=False, kind="stable")
    by_pattern: dict = {}
    if stops is not None and len(stops):
        s = stops[stops["pattern_id"].isin(main["pattern_id"])].sort_values(["pattern_id", "stop_sequence"])
        pid = s["pattern_id"].to_numpy(dtype=object)
        cuts = np.flatnonzero(pid[1:] != pid[:-1]) + 1
        for k, d, v, q in zip(
            np.split(pid, cuts),
            np.split(s["dist_m"].to_numpy(float), cuts),
            np.split(s["le"].to_numpy(float), cuts),
            np.split(s["stop_sequence"].to_numpy(), cuts),
        ):
            if len(k):
                by_pattern[k[0]] = (d, v, q)
    out: list[dict] = [{"r": display_name(n), "d": []} for n in order]
    for _, row in main.drop_duplicates(
        ["route_name", "direction_id"] if "direction_id" in main else ["route_name"]
    ).iterrows():
        r = out[index[row["route_name"]]]
        if len(r["d"]) >= 2:
            continue
        story = bool(row.get("route_story", not r["d"]))
        said = str(row.get("headline") or "") if story else words.network_story(row.to_dict())
        way: dict[str, object] = {
            "w": words.towards(row),
            "h": said,
            "f": display_name(row["first_stop"]),
            "l": display_name(row["last_stop"]),
        }
        if row["pattern_id"] in by_pattern:
            dist, le, seq = by_pattern[row["pattern_id"]]
            way["s"] = profile_code(dist, le)
            a, b = row.get("story_from_seq"), row.get("story_to_seq")
            if words.known(a) and words.known(b):
                ia, ib = np.flatnonzero(seq == a), np.flatnonzero(seq == b)
                if len(ia) and len(ib):
                    way["a"], way["b"] = int(min(ia[0], ib[0])), int(max(ia[0], ib[0]))
        else:
            way["s"] = ""
        stem = stems.get(row["pattern_id"])
        if stem:
            way["c"] = f"../profiles/{stem}.portrait.png"
            way["m"] = f"{stem}.html"
        r["d"].append(way)
    return out, index


def _places(stops: pd.DataFrame | None, index: dict) -> list:
    """Places a reader may type (stop names and neighbourhoods, as readers know them) and the routes through each.

    Each place is ``[name, routes]``, the routes' indices in :func:`_routes` order as an
    encoded polyline of their differences (the page adds them up).
    """
    if stops is None or not len(stops):
        return []
    s = stops[stops["route_name"].isin(index)]
    cols = [c for c in ("stop_name", "area_name") if c in s]
    pairs = pd.concat(
        [pd.DataFrame({"place": s[c].astype(object), "route": s["route_name"].map(index)}) for c in cols],
        ignore_index=True,
    ).dropna()
    names = {raw: display_name(raw) for raw in pd.unique(pairs["place"])}
    pairs["place"] = pairs["place"].map(names)
    pairs = pairs[pairs["place"].astype(bool)].drop_duplicates()
    grouped = pairs.groupby("place", sort=True)["route"].apply(lambda r: np.sort(r.to_numpy(np.int64)))
    return [[name, _polyline(np.diff(routes, prepend=0))] for name, routes in grouped.items()]


def _example_place(places: list) -> str:
    """A place to suggest in the finder: a well-served one (the most routes), named briefly."""
    if not places:
        return ""
    short = [p for p in places if len(p[0]) <= 20] or places
    return max(short, key=lambda p: len(p[1]))[0]


def draw_network_map(
    patterns: pd.DataFrame,
    geometry: gpd.GeoDataFrame,
    *,
    stops: pd.DataFrame | None = None,
    value: str = "lead_low",
    title: str = "",
    source: str = "",
    period: str = "",
    sex: str = "",
    tiles: str | None = DEFAULT_TILES,
    tolerance_m: float = 10.0,
    search: bool = True,
    voice: Voice | None = None,
    stems: dict | None = None,
) -> folium.Map:
    """Map every route of a network once, coloured by its story's strength, with a finder and a panel.

    Parameters
    ----------
    patterns : pandas.DataFrame
        ``patterns.csv`` (``PATTERNS_CSV_COLUMNS``), one row per pattern, in ranking order.
    geometry : geopandas.GeoDataFrame
        ``pattern_id`` and ``geometry`` (LineString, EPSG:4326) per pattern, as
        ``Result.geometry``; patterns without geometry are left out.
    stops : pandas.DataFrame, optional
        ``stops.csv``: with it, picking a route shows each direction's profile, and the
        finder also finds places (stop names and neighbourhoods) and the routes through them.
    value : {"lead_low", "le_range", "slope_per_km", "max_drop"}, default ``"lead_low"``
        The column that colours the routes (:data:`VALUES`): by default the ranking's own
        statistic, the least the route's supported change could be, so the darkest line is
        the top-ranked route and routes without a supported change are thin grey context.
        Each route is drawn once, by the pattern its story is told on (:func:`one_per_route`).
    title, source, period, sex : str
        As for :func:`gradient.present.maps.route_map`.
    tiles : str or None
        Basemap, as for :func:`gradient.present.maps.route_map`.
    tolerance_m : float, default 10
        Geometry simplification, metres.
    search : bool, default True
        The finder above the map and the panel under it.
    voice : Voice, optional
        The run's level and names (:class:`gradient.story.words.Voice`).
    stems : dict, optional
        Pattern id to the stem of its saved map and charts, for links from the panel.

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
    if value not in patterns:
        patterns = patterns.assign(**{value: np.nan})
    geo = geometry.dropna(subset=["geometry"]).drop_duplicates("pattern_id").set_index("pattern_id").geometry
    table = one_per_route(patterns[patterns["pattern_id"].isin(geo.index)], value)
    example = display_name(table["route_name"].iloc[0]) if len(table) else ""
    table = table.sort_values(
        value, key=(lambda v: v.abs()) if value == "slope_per_km" else None, na_position="first", kind="stable"
    ).reset_index(drop=True)
    values = table[value].to_numpy(float)
    units = units_text(VALUES[value], sex, period)
    scale, strength = _scale(values, value)
    colours = [
        MISSING_COLOUR if not np.isfinite(s) else k
        for s, k in zip(strength, scale.colours(values if value != "slope_per_km" else np.abs(values)))
    ]
    lines = geo.reindex(table["pattern_id"]).to_numpy()
    pts = shapely.get_coordinates(lines)
    crs = metric_crs(pts[:, 0], pts[:, 1]) if len(pts) else metric_crs([0.0], [0.0])
    routes, index = _routes(
        table.sort_values("route_name", key=lambda c: c.map(lambda n: _natural(display_name(n))), kind="stable"),
        patterns,
        stops,
        stems or {},
        voice,
    )
    places = _places(stops, index) if search else []
    finder = {
        "example": example,
        "examplePlace": _example_place(places),
        "ui": words.NETWORK_UI,
        "routes": routes,
        "places": places,
    }
    data = {
        "label": f"Map: {plain(title)}" if title else "Map",
        "scale": SCALE,
        "p": [
            {
                "g": g,
                "k": k,
                "w": round(1.2 + 3.6 * float(s), 1) if np.isfinite(s) else 0.8,
                "o": round(0.55 + 0.45 * float(s), 2) if np.isfinite(s) else 0.45,
                "m": 0,
                "i": index[row["route_name"]],
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
    if search:  # after the map's script: the map draws before the finder's data has arrived
        tail = f'<script type="application/json" id="gradient-finder">{safe_json(finder)}</script>'
        vars(m)["gradient_tail"] = tail
    n_without = int((~np.isfinite(strength)).sum())
    notes = missing_key("no change the data support" if value == "lead_low" else "no estimate") + "".join(
        f"<div>{esc(n)}</div>" for n in words.network_notes(value, n_without)
    )
    description = describe_network(table, value, sex=sex, period=period, source=source)
    add_page(
        m,
        title=title or words.network_title(value),
        legend=scale_html(scale, units),
        notes=notes,
        source=source,
        description=description,
        header=FINDER_HTML if search else "",
        css=FINDER_CSS if search else "",
        after_map=PANEL_HTML if search else "",
    )
    return m
