"""Regenerate the README images from the code, never by hand.

    python docs/make_images.py [OUT_DIR]      (default docs/img)

Writes ``route-map.png`` and ``route-map-phone.png``, headless-Chromium screenshots of the
HART route 8 map at desktop (1000 x 700) and phone (390 x 844, touch) size (with the census
tracts underneath; no basemap, since the build is offline), ``profile.png``, its stop-by-stop
profile, and ``profile-phone.png``, the portrait version for phones. Needs Debian's ``chromium`` at
``/usr/bin/chromium`` and the ``playwright`` Python package (the test extras); it never
downloads a browser.
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from pathlib import Path

from gradient import areas, datasets, pipeline
from gradient.present import charts, embed, maps

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PATTERN = "8-0-1"


def _shoot(context, page_path: Path, png: Path, width: int, height: int) -> Path:
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": height})
    if width < 500:  # a phone: coarse pointer and touch events, as the map sees them
        context.new_cdp_session(page).send("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 2})
    page.route(lambda url: not url.startswith("file:"), lambda route: route.abort())
    page.goto(page_path.resolve().as_uri())
    page.wait_for_function("document.querySelectorAll('.gradient-stop').length > 0")
    page.wait_for_timeout(400)  # let the fade-in animations finish
    png.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(png))
    page.close()
    return png


def screenshot(page_path: Path, png: Path, width: int = 1000, height: int = 700, context=None) -> Path:
    """A PNG screenshot of a saved map page in headless Chromium, with the network blocked.

    ``context`` is a Playwright browser context to reuse; by default one is started
    on Debian's chromium for this call.
    """
    if context is not None:
        return _shoot(context, page_path, png, width, height)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
        context = pw.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            return _shoot(context, page_path, png, width, height)
        finally:
            context.close()


IMG = Path(__file__).resolve().parent / "img"


def main(out: Path = IMG, context=None) -> list[Path]:
    """Run HART end to end and write the four README images to ``out`` (see :func:`screenshot`)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tracts = areas.load_areas(datasets.get_path("hillsborough_tracts"), datasets.get_path("usaleep"), "usaleep")
        labels = pipeline.Labels("CDC/NCHS USALEEP", "2010-2015", "persons", "HART GTFS 2018")
        result = pipeline.run(datasets.get_path("hart_gtfs"), tracts, labels=labels)
    with tempfile.TemporaryDirectory() as tmp:
        page = embed.save_html(maps.route_map(result, PATTERN, tiles=None, areas=tracts), Path(tmp) / "map.html")
        route_png = screenshot(page, out / "route-map.png", context=context)
        phone_png = screenshot(page, out / "route-map-phone.png", 390, 844, context=context)
    fig = charts.profile(result, PATTERN, pyplot=False)
    profile_png = charts.save_figure(fig, out / "profile.png", dpi=110)
    portrait = charts.profile(result, PATTERN, pyplot=False, portrait=True)
    portrait_png = charts.save_figure(portrait, out / "profile-phone.png", dpi=150)
    return [route_png, phone_png, profile_png, portrait_png]


if __name__ == "__main__":
    for path in main(*(Path(a) for a in sys.argv[1:2])):
        print(f"{path} ({path.stat().st_size} bytes)")
