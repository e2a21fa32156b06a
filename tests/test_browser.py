"""Saved maps opened in a real browser: headless Debian Chromium, driven by Playwright.

The network is blocked (every request that is not a ``file:`` URL is aborted and
recorded), so these tests also prove the pages are self-contained. They skip only
when ``/usr/bin/chromium`` is absent; ``make test`` and ``.ci/run`` install it.
"""

from __future__ import annotations

import importlib.util
import io
import itertools
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, line_feed, squares
from mapdata import HART_LABELS, hart, replicate
from PIL import Image
from playwright.sync_api import expect, sync_playwright  # a test extra; drives Debian's chromium

from gradient import pipeline
from gradient.present import embed
from gradient.present.maps import route_map
from gradient.present.netmap import draw_network_map, network_map
from gradient.sources import gtfs
from gradient.story import words

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # a wheel scrolls the page at once: no animated scroll still moving a map under the pointer
    # (under a full parallel run, a wheel meant for an engaged map once scrolled the article)
    "--disable-smooth-scrolling",
]
HOSTILE = "<img src=x onerror=alert(1)>"
TILE_HOST = "https://server.arcgisonline.com/ArcGIS/rest/services/Canvas/World_Light_Gray_"  # Base and Reference
MAP = "window[document.querySelector('.folium-map').id]"
STILL = "*, *::before, *::after { transition: none !important; animation: none !important; }"
"""A style that stops every fade and transition, so tests wait for states, not for time."""
"""The page's Leaflet map, in script."""

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

    def open_page(
        path: Path,
        width: int = 1000,
        height: int = 700,
        *,
        touch: bool = False,
        ready: str = "window.L && document.querySelector('.folium-map.leaflet-container')",
    ) -> Visit:
        page = browser.new_page()
        pages.append(page)
        page.set_viewport_size({"width": width, "height": height})
        if touch:  # a phone's coarse pointer and touch events (Chrome DevTools Protocol)
            cdp = browser.new_cdp_session(page)
            cdp.send("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 2})
        v = Visit(page)

        def block(route):
            v.outside.append(route.request.url)
            route.abort()

        page.route(lambda url: not url.startswith("file:"), block)
        page.on("pageerror", lambda exc: v.errors.append(f"page error: {exc}"))
        page.on(
            "console",
            lambda msg: v.errors.append(f"{msg.location.get('url', '')}: {msg.text}") if msg.type == "error" else None,
        )

        def dialog(d):
            v.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", dialog)
        page.goto(path.resolve().as_uri())
        page.wait_for_function(ready)
        page.add_style_tag(content=STILL)  # no fades to wait for
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
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
    assert v.page.locator(".gradient-steepest").inner_text() == hart_story_label()  # the sentence's stretch
    assert v.page.locator(".leaflet-control-layers-overlays label").all_inner_texts() == [
        " Small areas",
        " Route",
        " Stops",
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
    assert v.page.locator(".gradient-title").inner_text() == (
        "No change in life expectancy along route R can be told apart from the margins of error"
    )
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
    # a phone page is as tall as the route needs (no strip in empty space); the whole route is in view
    assert m["width"] == width and m["height"] >= (260 if width == 375 else 540)
    inside = v.page.evaluate(
        f"""() => {{ const m = {MAP}, b = m.getBounds();
                   const stops = Object.values(m._layers).filter(l => l.options && /gradient-stop/.test(l.options.className || ''));
                   return stops.length > 0 && stops.every(l => b.contains(l.getLatLng())); }}"""
    )
    assert inside
    assert v.page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
    assert v.coloured_pixels() > 1000


def hart_story_label() -> str:
    """The label of the stretch HART route 8's map highlights (the one its sentence cites, else its biggest fall)."""
    from gradient.present.story import stretch

    result, _ = hart()
    row = result.pattern("8-0-1")
    return stretch(result.stops_of("8-0-1").sort_values("stop_sequence"), row).label


def route8() -> pd.Series:
    """HART route 8's story row (the direction its story is told in)."""
    result, _ = hart()
    p = result.patterns
    return p[(p["route_name"] == "8") & p["route_story"]].iloc[0]


@pytest.fixture(scope="module")
def network_page(tmp_path_factory):
    """HART's whole network as the run draws it: coloured by its stories, with its stops for the finder."""
    result, _ = hart()
    page = embed.save_html(network_map(result, tiles=None), tmp_path_factory.mktemp("network") / "network.html")
    return page, result.patterns["route_name"].nunique()  # one line per route


@pytest.fixture(scope="module")
def big_network_page(tmp_path_factory):
    """700 patterns (HART's, copied on a grid), coloured by their range so that every line has a colour."""
    result, _ = hart()
    patterns, geometry = replicate(result.patterns, result.geometry, 700)
    m = draw_network_map(
        patterns, geometry, value="le_range", title="700 patterns", source=HART_LABELS.source_line, tiles=None
    )
    page = embed.save_html(m, tmp_path_factory.mktemp("network") / "network.html")
    return page, patterns["route_name"].nunique()


def test_network_map_of_700_patterns(visit, big_network_page):
    network_page, n_routes = big_network_page
    v = visit(network_page)
    assert v.outside == [] and v.errors == [] and v.dialogs == []
    assert v.page.locator(".folium-map").get_attribute("data-gradient-patterns") == str(n_routes)
    assert v.coloured_pixels() > 1500
    # hover the strongest route (drawn last, so on top): its tooltip names it and the way it runs
    x, y = v.page.evaluate(
        f"""() => {{ const m = {MAP};
                   let line = null;
                   m.eachLayer(l => {{ if (l instanceof L.Polyline) {{ line = l; }} }});
                   const pts = line.getLatLngs(), p = m.latLngToContainerPoint(pts[Math.floor(pts.length / 2)]);
                   const r = m.getContainer().getBoundingClientRect();
                   return [p.x + r.left, p.y + r.top]; }}"""
    )
    v.page.mouse.move(x, y)
    tip = v.page.locator(".leaflet-tooltip")
    expect(tip).to_have_count(1)
    lines = tip.locator(".gradient-tip > *").all_inner_texts()
    assert lines[0].startswith("Route 8") and " towards " in lines[0]
    assert lines[2] == "No change along it that the data support"  # what its story says, in a few words


@pytest.mark.parametrize("width", [390, 1280])
def test_network_finder_waits_for_the_whole_name_and_shows_both_directions(visit, network_page, width):
    network_page, n_routes = network_page
    v = visit(network_page, width=width, height=844 if width == 390 else 800)
    v.page.wait_for_function("document.querySelector('.folium-map').dataset.gradientFinder === 'ready'")
    before = v.page.evaluate(f"{MAP}.getZoom()")
    v.page.type("#gradient-route", "8", delay=20)
    options = v.page.locator("#gradient-options li")
    assert options.count() >= 2 and options.first.inner_text() == words.towards(route8())  # the exact name first
    assert v.page.locator(".folium-map").get_attribute("data-gradient-picked") is None  # nothing picked yet
    v.page.press("#gradient-route", "Enter")
    expect(v.page.locator(".gradient-found")).to_have_text(words.towards(route8()))
    assert v.page.locator(".folium-map").get_attribute("data-gradient-picked") == "8"
    assert v.page.evaluate(f"{MAP}.getZoom()") > before  # zoomed to the route
    panel = v.page.locator(".gradient-panel")
    expect(panel.locator("h2")).to_have_text(words.towards(route8()))
    assert panel.locator(".gradient-ways button").count() == 2  # both directions
    assert panel.locator("svg[role=img] path").count() >= 1  # its profile, stop by stop
    panel.locator(".gradient-ways button").nth(1).click()
    assert panel.locator(".gradient-ways button").nth(1).get_attribute("aria-pressed") == "true"
    v.page.fill("#gradient-route", "no such route")
    v.page.press("#gradient-route", "Enter")
    expect(v.page.locator(".gradient-found")).to_have_text("No route or place called \u201cno such route\u201d")
    v.page.fill("#gradient-route", "")
    v.page.press("#gradient-route", "Escape")
    expect(v.page.locator(".gradient-found")).to_have_text("")
    assert v.page.evaluate(f"{MAP}.getZoom()") == before
    assert v.errors == [] and v.outside == []


def test_network_finder_finds_a_place_by_keyboard(visit, network_page):
    network_page, _ = network_page
    v = visit(network_page, width=390, height=844)
    v.page.wait_for_function("document.querySelector('.folium-map').dataset.gradientFinder === 'ready'")
    v.page.focus("#gradient-route")
    v.page.keyboard.type("Marion Transit", delay=20)
    first = v.page.locator("#gradient-options li").first
    assert first.inner_text().startswith("Marion Transit Center (")
    v.page.keyboard.press("ArrowDown")
    assert first.get_attribute("aria-selected") == "true"
    assert v.page.get_attribute("#gradient-route", "aria-activedescendant") == "gradient-option-0"
    v.page.keyboard.press("Enter")
    expect(v.page.locator(".gradient-panel h2")).to_have_text("Routes through Marion Transit Center")
    routes = v.page.locator(".gradient-panel .gradient-ways button")
    assert routes.count() >= 5  # HART's hub
    routes.first.click()
    expect(v.page.locator(".gradient-panel svg[role=img]")).to_have_count(1)
    assert v.errors == [] and v.outside == []


AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(page) -> list:
    """Serious and critical accessibility violations axe-core finds on the page (installed by npm ci)."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => [v.id, v.impact, v.nodes.length, v.nodes.slice(0, 3).map(n => n.target.join(' '))])"
    )
    return [v for v in found if v[1] in ("serious", "critical")]


@pytest.mark.skipif(not AXE.exists(), reason="axe-core is an npm package: `npm ci` (make test runs it)")
@pytest.mark.parametrize("which", ["route", "network", "article"])
def test_no_serious_accessibility_violations(visit, hart_route_page, network_page, which):
    if which == "route":
        v = visit(hart_route_page, width=390, height=844)
    elif which == "network":
        v = visit(network_page[0], width=390, height=844)
    else:
        v = visit(
            article(hart_route_page, "axe-article.html"),
            width=390,
            height=844,
            ready="document.querySelector('iframe')",
        )
    assert axe_violations(v.page) == []
    if which != "article":
        title = v.page.title()
        assert title and title == v.page.locator(".gradient-title").inner_text()
        viewport = v.page.evaluate("document.querySelector('meta[name=viewport]').content")
        assert "user-scalable=no" not in viewport and "maximum-scale" not in viewport  # pinch zoom allowed


ARTICLE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Article</title><style>body {{ margin: 0 auto; max-width: 700px; padding: 0 12px; font: 18px/1.5 serif; }}
</style></head><body><h1>A bus route and its lives</h1>{before}{snippet}{after}</body></html>
"""
"""A CMS article: paragraphs, the map's snippet pasted as delivered, more paragraphs."""


def article(page: Path, name: str = "article.html") -> Path:
    snippet = page.with_name(page.stem + ".iframe.html").read_text(encoding="utf-8")
    text = "<p>" + "Words of the story around the map. " * 40 + "</p>"
    path = page.with_name(name)
    path.write_text(ARTICLE.format(before=text * 3, snippet=snippet, after=text * 4), encoding="utf-8")
    return path


SCROLL_SETTLED = """() => new Promise(done => {
    const y = window.scrollY;
    requestAnimationFrame(() => requestAnimationFrame(() => requestAnimationFrame(() => done(window.scrollY === y))));
})"""
"""True once the page has not scrolled for three frames (to be waited for: a smooth scroll takes a while)."""


@pytest.mark.parametrize("width", [390, 1280])
def test_the_wheel_scrolls_the_article_around_an_embedded_map(visit, hart_route_page, width):
    v = visit(
        article(hart_route_page),
        width=width,
        height=844 if width == 390 else 800,
        ready="document.querySelector('iframe')",
    )
    frame = v.page.locator("iframe")
    frame.scroll_into_view_if_needed()
    inner = v.page.frame_locator("iframe")
    expect(inner.locator(".gradient-stop").first).to_be_attached()
    leaflet = v.page.frames[1]
    # the embedded map has settled: loaded, fitted, no zoom or pan under way
    leaflet.wait_for_function(
        f"{MAP}._loaded && !{MAP}._animatingZoom && !({MAP}._panAnim && {MAP}._panAnim._inProgress)"
    )
    v.page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    box = frame.bounding_box()
    assert box["width"] == pytest.approx(min(width - 24, 700), abs=1)  # the column's width ...
    assert box["height"] == pytest.approx(box["width"] * 2 / 3 + 230, abs=1)  # ... and a height that follows it
    zoom = leaflet.evaluate(f"{MAP}.getZoom()")
    top = v.page.evaluate("window.scrollY")
    v.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    v.page.mouse.wheel(0, 300)
    expect(inner.locator(".gradient-hint.on")).to_have_count(1)  # the map says how to use it ...
    v.page.wait_for_function(f"window.scrollY > {top + 100}")  # ... the article scrolled ...
    assert leaflet.evaluate(f"{MAP}.getZoom()") == zoom  # ... and the map did not zoom
    # once the reader clicks the map, the wheel zooms it and the article stays put
    v.page.wait_for_function(SCROLL_SETTLED)  # (the wheel's smooth scroll over: the map is where it is drawn)
    box = frame.bounding_box()
    v.page.mouse.click(box["x"] + 12, box["y"] + box["height"] / 2)
    expect(inner.locator(".folium-map")).to_have_attribute("data-gradient-engaged", "true")
    top = v.page.evaluate("window.scrollY")
    v.page.mouse.wheel(0, -300)
    leaflet.wait_for_function(f"{MAP}.getZoom() !== {zoom}")  # the map zoomed ...
    assert v.page.evaluate("window.scrollY") == top  # ... and the article stayed put
    assert all(url.startswith(TILE_HOST) for url in v.outside) and v.dialogs == []


def test_one_finger_scrolls_a_phone_page_until_the_map_is_tapped(visit, hart_route_page):
    v = visit(hart_route_page, width=390, height=844, touch=True)
    state = f"[{MAP}.dragging.enabled(), {MAP}.scrollWheelZoom.enabled(), {MAP}.touchZoom.enabled()]"
    assert v.page.evaluate(state) == [False, False, True]  # one finger scrolls the page; two pinch the map
    assert v.page.evaluate("getComputedStyle(document.querySelector('.folium-map')).touchAction") == "pan-x pan-y"
    assert v.page.locator(".gradient-hint").inner_text() == "Tap the map to explore it; two fingers move it"
    box = v.map_box()
    point = {"x": box["x"] + 20, "y": box["y"] + box["height"] - 60}
    cdp = v.page.context.new_cdp_session(v.page)
    for kind, points in (("touchStart", [point]), ("touchEnd", [])):  # a tap
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})
    v.page.wait_for_function(f"{MAP}.dragging.enabled()")
    assert v.page.evaluate(state) == [True, True, True]


@pytest.mark.parametrize("width", [390, 1280])
def test_labels_and_text_stay_inside_and_show_display_names(visit, hart_route_page, width):
    height = 844 if width == 390 else 800
    v = visit(hart_route_page, width=width, height=height)
    labels = v.page.locator(".gradient-label")
    assert labels.all_inner_texts() == [hart_story_label(), "Marion Transit Center", "Westfield Brandon Mall"]
    m = v.map_box()
    boxes = [labels.nth(k).bounding_box() for k in range(labels.count())]
    for b in boxes:  # inside the map ...
        assert m["x"] - 0.5 <= b["x"] and b["x"] + b["width"] <= m["x"] + m["width"] + 0.5
        assert m["y"] - 0.5 <= b["y"] and b["y"] + b["height"] <= m["y"] + m["height"] + 0.5
    for a, b in itertools.combinations(boxes, 2):  # ... and clear of each other
        assert (
            a["x"] + a["width"] <= b["x"]
            or b["x"] + b["width"] <= a["x"]
            or a["y"] + a["height"] <= b["y"]
            or b["y"] + b["height"] <= a["y"]
        )
    # no text anywhere on the page lies outside the viewport
    outside = v.page.evaluate(
        """([w, h]) => Array.from(document.querySelectorAll('body *')).filter(e => {
               if (!e.childNodes.length || !Array.from(e.childNodes).some(n => n.nodeType === 3 && n.textContent.trim())) {
                   return false; }
               const r = e.getBoundingClientRect(), s = getComputedStyle(e);
               if (s.visibility === 'hidden' || s.display === 'none' || r.width === 0 || e.closest('.gradient-sr')) {
                   return false; }
               return r.left < -0.5 || r.top < -0.5 || r.right > w + 0.5 || r.bottom > h + 0.5;
           }).map(e => e.textContent.slice(0, 40))""",
        [width, height],
    )
    assert outside == []
    # popups and tooltips show display names: HART's "@" reads "at"
    stop = v.page.locator(".gradient-stop").nth(20)
    stop.click(force=True)
    name = v.page.locator(".leaflet-popup-content strong").inner_text()
    assert " at " in name and "@" not in name and "  " not in name


def size_of(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size


def test_readme_images_are_regenerated_from_the_code(browser, tmp_path):
    spec = importlib.util.spec_from_file_location("make_images", ROOT / "docs" / "make_images.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    route, phone, profile, portrait, print_png, page_pdf, page_png = module.main(tmp_path, context=browser)
    for path in (route, phone, profile, portrait, print_png, page_png):
        with Image.open(path) as image:
            assert image.format == "PNG" and path.stat().st_size < 300_000
    assert size_of(route) == (1000, 700) and size_of(phone) == (390, 844)
    assert size_of(portrait)[0] == 540 and size_of(portrait)[1] >= 675
    import pypdfium2

    page = pypdfium2.PdfDocument(str(page_pdf))[0]
    assert [round(v) for v in page.get_size()] == [595, 842]  # an A4 page, in points
    names = (
        "route-map.png",
        "route-map-phone.png",
        "profile.png",
        "profile-phone.png",
        "print-map.png",
        "print-page.png",
    )
    for name in names:
        assert (ROOT / "docs" / "img" / name).stat().st_size < 300_000  # the committed copies exist and are small
