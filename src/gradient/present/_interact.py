"""How a map behaves inside an article: no scroll trap, labels kept inside, a basemap with place names.

- **No scroll trap.** A reader scrolling an article must never get stuck in a map. The
  mouse wheel zooms the map, and one finger drags it on a touch screen, only after the
  reader has engaged it (a click or a tap); until then the wheel and a one-finger swipe
  scroll the page, two fingers pinch and move the map, and a hint says so ("Click the
  map to zoom it with the wheel", "Tap the map to explore it; two fingers move it").
  Leaving the map (the pointer goes out, or the article takes the focus) disengages it.
  The map's element carries ``data-gradient-engaged`` ("true"/"false") for tests.
- **Labels inside the map.** :data:`LABELS_JS` places permanent labels (tooltips) on the
  side of their point where they fit inside the map, miss the map's controls and the labels
  placed before them and cover the fewest stops, and nudges them inside when no side fits;
  again after every zoom and pan.
- **Place names.** With the default basemap (Esri's light grey canvas, no key needed), Esri's
  matching reference layer of place names is drawn in a pane above the routes (names stay
  readable over them) and below markers and labels; it takes no clicks.
"""

from __future__ import annotations

import folium
import xyzservices.providers as xyz

from ..options import DEFAULT_TILES

REFERENCE_TILES = {
    DEFAULT_TILES: "https://server.arcgisonline.com/ArcGIS/rest/services/Canvas/World_Light_Gray_Reference/"
    "MapServer/tile/{z}/{y}/{x}",
}
"""Basemaps with a separate layer of place names, and that layer's tile URL."""

INTERACT_CSS = """
.gradient-hint { position: absolute; inset: 0; z-index: 1000; display: flex; align-items: center;
  justify-content: center; padding: 0 18%; text-align: center; background: rgba(20, 20, 20, .55); color: #fff;
  font-size: 15px; line-height: 1.35; font-weight: 600; opacity: 0; transition: opacity .25s; pointer-events: none; }
.gradient-hint.on { opacity: 1; }
.leaflet-tooltip.gradient-label { font-size: 11.5px; line-height: 1.25; padding: 2px 5px; white-space: normal;
  width: max-content; max-width: 150px; font-weight: 600; box-shadow: 0 1px 2px rgba(0, 0, 0, .3); }
.leaflet-tooltip.gradient-label.gradient-steepest { font-weight: 700; max-width: 170px; }
.leaflet-tooltip.gradient-label.gradient-end { color: #1a1a1a; }
@media (max-width: 480px) { .leaflet-tooltip.gradient-label { max-width: 120px; font-size: 11px; } }
"""

ENGAGE_JS = """
            // no scroll trap: wheel zoom (and one-finger drag on touch) only once the reader engages
            var touch = L.Browser.mobile || !!(window.matchMedia && matchMedia("(pointer: coarse)").matches);
            var hint = document.createElement("div");
            hint.className = "gradient-hint";
            hint.setAttribute("aria-hidden", "true");
            hint.textContent = touch ? "Tap the map to explore it; two fingers move it"
                                     : "Click the map to zoom it with the wheel";
            el.appendChild(hint);
            var engaged = false, hideHint = null;
            function setEngaged(on) {
                engaged = on;
                if (on) { map.scrollWheelZoom.enable(); map.dragging.enable(); hint.classList.remove("on"); }
                else { map.scrollWheelZoom.disable(); if (touch) { map.dragging.disable(); } }
                el.setAttribute("data-gradient-engaged", on ? "true" : "false");
            }
            function nudge() {
                if (engaged) { return; }
                hint.classList.add("on");
                clearTimeout(hideHint);
                hideHint = setTimeout(function () { hint.classList.remove("on"); }, 1400);
            }
            setEngaged(false);
            el.addEventListener("wheel", nudge, {passive: true});
            el.addEventListener("touchmove", function (e) { if (e.touches.length === 1) { nudge(); } },
                                {passive: true});
            el.addEventListener("click", function () { setEngaged(true); });
            el.addEventListener("keydown", function () { setEngaged(true); });
            el.addEventListener("mouseleave", function () { if (!touch) { setEngaged(false); } });
            window.addEventListener("blur", function () { setEngaged(false); });
"""
"""Script (needs ``map`` and ``el`` in scope) that keeps a map from trapping the page's scroll."""

LABELS_JS = """
            // permanent labels: each where it fits inside, overlaps no other and covers fewest stops
            var SIDES = {right: [8, 0], left: [-8, 0], top: [0, -8], bottom: [0, 8]};
            var SHIFTS = [0, -1, 1];  // beside the point, then slid along that side (70 px across, 26 px down)
            function label(at, text, className, sides) {
                var span = document.createElement("span");
                span.textContent = text;
                var tip = L.tooltip({permanent: true, direction: sides[0], offset: SIDES[sides[0]],
                                     className: "gradient-label " + className, interactive: false, opacity: 0.95})
                    .setLatLng(at).setContent(span).addTo(map);
                return {tip: tip, at: L.latLng(at), sides: sides};
            }
            function placeLabels(labels, avoid) {
                var box = el.getBoundingClientRect(), size = map.getSize(), margin = 4;
                var dots = (avoid || []).map(function (at) {  // points a label should not cover (stops)
                    var q = map.latLngToContainerPoint(at);
                    return [q.x + box.left, q.y + box.top];
                });
                function covers(r) {
                    return dots.filter(function (q) {
                        return q[0] > r.left - 3 && q[0] < r.right + 3 && q[1] > r.top - 3 && q[1] < r.bottom + 3;
                    }).length;
                }
                var placed = Array.prototype.map.call(el.querySelectorAll(".leaflet-control"), function (c) {
                    return c.getBoundingClientRect();  // the zoom buttons, scale bar and layer control
                });
                function spill(r) {
                    var dx = Math.max(0, box.left + margin - r.left) - Math.max(0, r.right - (box.right - margin));
                    var dy = Math.max(0, box.top + margin - r.top) - Math.max(0, r.bottom - (box.bottom - margin));
                    return [dx, dy];
                }
                function hits(r) {
                    return placed.some(function (q) {
                        return r.left < q.right && q.left < r.right && r.top < q.bottom && q.top < r.bottom;
                    });
                }
                labels.forEach(function (l) {
                    var p = map.latLngToContainerPoint(l.at), best = null;
                    if (p.x < 0 || p.y < 0 || p.x > size.x || p.y > size.y) { return; }  // off view: leave it
                    SHIFTS.forEach(function (shift, far) {
                        l.sides.forEach(function (side) {
                            if (best && best.score === 0) { return; }
                            var along = side === "top" || side === "bottom" ? [70 * shift, 0] : [0, 26 * shift];
                            var off = [SIDES[side][0] + along[0], SIDES[side][1] + along[1]];
                            l.tip.options.direction = side;
                            l.tip.options.offset = off;
                            l.tip.update();
                            var r0 = l.tip.getElement().getBoundingClientRect(), s = spill(r0);
                            var r = {left: r0.left + s[0], right: r0.right + s[0], top: r0.top + s[1],
                                     bottom: r0.bottom + s[1]};  // where it ends up once nudged inside
                            var own = p.x + box.left > r.left - 6 && p.x + box.left < r.right + 6 &&
                                      p.y + box.top > r.top - 6 && p.y + box.top < r.bottom + 6;
                            var score = Math.abs(s[0]) + Math.abs(s[1]) + (hits(r) ? 500 : 0) + 25 * covers(r) +
                                        (own ? 300 : 0) + (far ? 4 : 0);
                            if (!best || score < best.score) { best = {side: side, score: score, s: s, off: off}; }
                        });
                    });
                    l.tip.options.direction = best.side;
                    l.tip.options.offset = [best.off[0] + best.s[0], best.off[1] + best.s[1]];
                    l.tip.update();
                    placed.push(l.tip.getElement().getBoundingClientRect());
                });
            }
"""
"""Script (needs ``map`` and ``el`` in scope) with ``label(at, text, className, sides)`` and
``placeLabels(labels, avoid)`` (``avoid``: [lat, lon] points not to cover); labels' text goes
in with ``textContent``."""


def add_basemap(m: folium.Map, tiles: str | None) -> None:
    """Add the place-name layer that goes with ``tiles`` (see :data:`REFERENCE_TILES`), if any.

    The map itself is made with ``tiles``; this adds the names above the routes in their
    own pane (z-index 450: over the overlay pane's lines, under markers and labels).
    """
    url = REFERENCE_TILES.get(tiles) if isinstance(tiles, str) else None
    if url is None:
        return
    folium.map.CustomPane("gradient-names", z_index=450, pointer_events=False).add_to(m)
    attr = xyz.Esri.WorldGrayCanvas.html_attribution  # the base's own words, so the credit shows once
    folium.TileLayer(
        url,
        attr=attr,
        name="Place names",
        overlay=True,
        control=False,
        max_native_zoom=16,
        max_zoom=19,
        pane="gradient-names",
    ).add_to(m)
