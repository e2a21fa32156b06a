"""Saved maps opened in a real browser: headless Debian Chromium, driven by Playwright.

The network is blocked (every request that is not a ``file:`` URL is aborted and
recorded), so these tests also prove the pages are self-contained. They skip only
when ``/usr/bin/chromium`` is absent; ``make test`` and ``.ci/run`` install it.
"""

from __future__ import annotations

import importlib.util
import io
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, line_feed, squares
from mapdata import HART_LABELS, hart, replicate
from PIL import Image
from playwright.sync_api import expect, sync_playwright  # a test extra; drives Debian's chromium

from gradient import gtfs, pipeline
from gradient.present import embed
from gradient.present.maps import route_map
from gradient.present.netmap import draw_network_map

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
HOSTILE = "<img src=x onerror=alert(1)>"
TILE_HOST = "https://server.arcgisonline.com/ArcGIS/rest/services/Canvas/World_Light_Gray_Base/MapServer/tile/"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="browser tests need Debian's chromium at /usr/bin/chromium "
    "(apt-get install -y chromium chromium-driver; `make test` installs it)",
)


@dataclass
class Visit:
    """A page opened with the network blocked, and everything it tried to do."""

    page: object
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)

    def map_box(self) -> dict:
        return self.page.locator(".folium-map").bounding_box()

    def coloured_pixels(self) -> int:
        """Strongly coloured pixels inside the map (the route and markers; the background is grey)."""
        box = self.map_box()
        shot = Image.open(io.BytesIO(self.page.screenshot(clip=box))).convert("RGB")
        rgb = np.asarray(shot).astype(int)
        return int(((rgb.max(axis=2) - rgb.min(axis=2)) >= 60).sum())


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), args=FLAGS, headless=True, viewport={"width": 1000, "height": 700}
        )
        yield context
        context.close()


@pytest.fixture()
def visit(browser):
    pages = []

    def open_page(path: Path, width: int = 1000, height: int = 700) -> Visit:
        page = browser.new_page()
        pages.append(page)
        page.set_viewport_size({"width": width, "height": height})
        v = Visit(page)

        def block(route):
            v.outside.append(route.request.url)
            route.abort()

        page.route(lambda url: not url.startswith("file:"), block)
        page.on("pageerror", lambda exc: v.errors.append(f"page error: {exc}"))
        page.on("console", lambda msg: v.errors.append(f"{msg.location.get('url', '')}: {msg.text}")
                if msg.type == "error" else None)

        def dialog(d):
            v.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", dialog)
        page.goto(path.resolve().as_uri())
        page.wait_for_function("window.L && document.querySelector('.folium-map.leaflet-container')")
        page.wait_for_timeout(300)  # fade-in animations
        return v

    yield open_page
    for page in pages:
        page.close()


@pytest.fixture(scope="module")
def hart_route_page(tmp_path_factory):
    result, tracts = hart()
    out = tmp_path_factory.mktemp("hart")
    return embed.save_embed(route_map(result, "8-0-1", areas=tracts), out / "8-0-1.html")[0]


@pytest.fixture(scope="module")
def hostile_page(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    feed = gtfs.read_feed(line_feed(tmp / "feed", names=(HOSTILE, "B's stop #2", "C & D <depot>")))
    patterns, ps = gtfs.stop_patterns(feed)
    areas = squares().assign(area_name=[f"{HOSTILE} tract", "B", "C"])
    result = pipeline.run_patterns(patterns, ps, areas, labels=HART_LABELS)
    m = route_map(result, "R-0-1", tiles=None, areas=areas)
    return embed.save_embed(m, tmp / "R-0-1.html")[0]


def test_route_map_loads_leaflet_and_draws_route_and_stops(visit, hart_route_page):
    v = visit(hart_route_page)
    assert v.page.evaluate("typeof window.L === 'object' && L.version") == "1.9.3"
    assert v.page.locator(".gradient-stop").count() == 68
    assert v.page.locator(".gradient-steepest").inner_text() == "Biggest stop-to-stop fall: \u221212.7 years"
    assert v.page.locator(".leaflet-control-layers-overlays label").all_inner_texts() == [
        " Small areas", " Route", " Stops"
    ]
    assert v.coloured_pixels() > 3000  # not blank: the route, its casing and markers are drawn
    # the only outside requests are basemap tiles (blocked here), and their failures the only console errors
    assert v.outside and all(url.startswith(TILE_HOST) for url in v.outside)
    assert [e for e in v.errors if not (e.startswith(TILE_HOST) and "Failed to load resource" in e)] == []


def test_hostile_stop_name_is_text_not_markup(visit, hostile_page):
    v = visit(hostile_page)
    assert v.outside == [] and v.errors == []
    assert v.page.locator(".gradient-stop").count() == 3
    first = v.page.locator(".gradient-stop").first
    first.hover()
    expect(v.page.locator(".leaflet-tooltip:not(.gradient-steepest) strong")).to_have_text([HOSTILE])
    # the area this stop stands in is named after the same string: hover it above the route
    box = first.bounding_box()
    v.page.mouse.move(box["x"] + box["width"] / 2, box["y"] - 40, steps=4)
    expect(v.page.locator(".leaflet-tooltip strong")).to_have_text([f"{HOSTILE} tract"])  # waits for fades
    first.click()
    expect(v.page.locator(".leaflet-popup-content strong")).to_have_text([HOSTILE])
    assert v.page.locator(".gradient-title").inner_text() == f"Route R: {HOSTILE} to C & D <depot>"
    assert v.page.locator("img[src='x']").count() == 0
    assert v.page.evaluate("document.querySelectorAll('.leaflet-tooltip img, .leaflet-popup img').length") == 0
    assert v.dialogs == []


@pytest.mark.parametrize("width", [375, 1000])
def test_title_and_legend_never_cover_the_map(visit, hart_route_page, width):
    v = visit(hart_route_page, width=width, height=700)
    assert v.page.evaluate("document.querySelector('meta[name=viewport]').content").startswith("width=device-width")
    m = v.map_box()
    for selector in (".gradient-head", ".gradient-foot"):
        b = v.page.locator(selector).bounding_box()
        overlap = min(b["y"] + b["height"], m["y"] + m["height"]) - max(b["y"], m["y"])
        assert overlap <= 0.5, selector  # stacked above and below the map, never over it
        assert b["y"] >= 0 and b["y"] + b["height"] <= 700.5 and b["width"] <= width, selector
    assert m["width"] == width and m["height"] >= (420 if width == 375 else 540)
    assert v.page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
    assert v.coloured_pixels() > 1000


def test_network_map_of_700_patterns(visit, tmp_path):
    result, _ = hart()
    patterns, geometry = replicate(result.patterns, result.geometry, 700)
    m = draw_network_map(patterns, geometry, title="700 patterns", source=HART_LABELS.source_line, tiles=None)
    v = visit(embed.save_html(m, tmp_path / "network.html"))
    assert v.outside == [] and v.errors == [] and v.dialogs == []
    assert v.page.locator(".folium-map").get_attribute("data-gradient-patterns") == "700"
    assert v.coloured_pixels() > 3000
    # hover the top route (drawn last, so on top): its tooltip names it
    x, y = v.page.evaluate(
        """() => { const m = window[document.querySelector('.folium-map').id];
                   let line = null;
                   m.eachLayer(l => { if (l instanceof L.Polyline) { line = l; } });
                   const pts = line.getLatLngs(), p = m.latLngToContainerPoint(pts[Math.floor(pts.length / 2)]);
                   const r = m.getContainer().getBoundingClientRect();
                   return [p.x + r.left, p.y + r.top]; }"""
    )
    v.page.mouse.move(x, y)
    tip = v.page.locator(".leaflet-tooltip")
    expect(tip).to_have_count(1)
    lines = tip.locator(".gradient-tip > *").all_inner_texts()
    assert lines[0].startswith("Route 8") and lines[2] == "Life expectancy 64.1 to 80.2 years (range 16.1)"


def test_readme_images_are_regenerated_from_the_code(browser, tmp_path):
    spec = importlib.util.spec_from_file_location("make_images", ROOT / "docs" / "make_images.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    route, profile = module.main(tmp_path, context=browser)
    for path in (route, profile):
        image = Image.open(path)
        assert image.format == "PNG" and path.stat().st_size < 300_000
    assert Image.open(route).size == (1000, 700)
    for name in ("route-map.png", "profile.png"):  # the committed copies exist and are small
        assert (ROOT / "docs" / "img" / name).stat().st_size < 300_000
