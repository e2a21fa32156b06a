"""Regenerate the README images from the code, never by hand.

    python docs/make_images.py [OUT_DIR]      (default docs/img; HART route 8, as the tests check)
    python docs/make_images.py --london       (docs/img/london: London's route 25 and top story)

Writes ``route-map.png`` and ``route-map-phone.png``, headless-Chromium screenshots of the
HART route 8 map at desktop (1000 x 700) and phone (390 x 844, touch) size (with the census
tracts underneath; no basemap, since the build is offline), ``profile.png``, its stop-by-stop
profile, ``profile-phone.png``, the phone chart, ``print-map.png``, the static print map, and
``print-page.pdf`` with ``print-page.png``, that map on an A4 page and a picture of the page.
``--london`` writes the same for London's route 25 (chosen beforehand) and its top story, and the
network map on a phone finding "Oxford Circus" and showing route 25. Needs Debian's ``chromium``
at ``/usr/bin/chromium`` and the ``playwright`` and ``pypdfium2`` Python packages (the test
extras); it never downloads a browser.
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from pathlib import Path

from gradient import areas, datasets, pipeline
from gradient.present import charts, embed, maps, printmap

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


def _shoot(context, page_path: Path, png: Path, width: int, height: int, actions=()) -> Path:
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": height})
    if width < 500:  # a phone: coarse pointer and touch events, as the map sees them
        context.new_cdp_session(page).send("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 2})
    page.route(lambda url: not url.startswith("file:"), lambda route: route.abort())
    page.goto(page_path.resolve().as_uri())
    page.wait_for_function("document.querySelector('.folium-map.leaflet-container')")
    page.wait_for_timeout(400)  # let the fade-in animations finish
    for act in actions:  # e.g. type into the network map's finder
        act(page)
        page.wait_for_timeout(400)
    png.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(png))
    page.close()
    return png


def screenshot(page_path: Path, png: Path, width: int = 1000, height: int = 700, context=None, actions=()) -> Path:
    """A PNG screenshot of a saved map page in headless Chromium, with the network blocked.

    ``context`` is a Playwright browser context to reuse; by default one is started
    on Debian's chromium for this call.
    """
    if context is not None:
        return _shoot(context, page_path, png, width, height, actions)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
        context = pw.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            return _shoot(context, page_path, png, width, height, actions)
        finally:
            context.close()


IMG = Path(__file__).resolve().parent / "img"


def print_images(result, pattern: str, out: Path, stem: str) -> list[Path]:
    """The static print map as a PNG (one column), its A4 page as a PDF, and a picture of that page."""
    import pypdfium2

    column = printmap.print_map(result, pattern, size="column")
    charts.tag(column, dpi=180)
    png = printmap.save_print_map(column, out / f"{stem}.png")
    page_stem = stem.replace("map", "page")
    pdf = printmap.save_print_map(printmap.print_map(result, pattern, size="page"), out / f"{page_stem}.pdf")
    page = pypdfium2.PdfDocument(str(pdf))[0]
    picture = out / f"{page_stem}.png"
    page.render(scale=1.0).to_pil().convert("P", palette=1, colors=128).save(picture, optimize=True)
    return [png, pdf, picture]


def main(out: Path = IMG, context=None) -> list[Path]:
    """Run HART end to end and write the README images to ``out`` (see the module's docstring)."""
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
    return [route_png, phone_png, profile_png, portrait_png, *print_images(result, PATTERN, out, "print-map")]


def london(out: Path = IMG / "london", context=None) -> list[Path]:
    """London (the demo's run): route 25 and the top story, on a phone and in print, and the network map."""
    from gradient import cli
    from gradient.output.write import file_stems
    from gradient.present import netmap

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = cli.demo_london()
    p = result.patterns
    story = p[p["route_story"].astype(bool)]
    wanted = {"route25": story[story["route_name"] == "25"].iloc[0]["pattern_id"], "top": story.iloc[0]["pattern_id"]}
    written: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, pid in wanted.items():
            page = embed.save_html(maps.route_map(result, pid, tiles=None), Path(tmp) / f"{name}.html")
            written.append(screenshot(page, out / f"{name}-map-phone.png", 390, 844, context=context))
            phone = charts.profile(result, pid, pyplot=False, portrait=True)
            written.append(charts.save_figure(phone, out / f"{name}-profile-phone.png", dpi=150))
            written += print_images(result, pid, out, f"{name}-print-map")
        stems = file_stems(list(wanted.values()))
        network = embed.save_html(netmap.network_map(result, tiles=None, stems=stems), Path(tmp) / "network.html")

        def find(text: str, key: str):
            def act(page):
                page.wait_for_function("document.querySelector('.folium-map').dataset.gradientFinder === 'ready'")
                page.fill("#gradient-route", "")
                page.type("#gradient-route", text, delay=10)
                if key:
                    page.press("#gradient-route", key)

            return act

        written.append(
            screenshot(network, out / "network-oxford-circus-phone.png", 390, 844, context, [find("Oxford Circus", "")])
        )
        written.append(screenshot(network, out / "network-route25-phone.png", 390, 844, context, [find("25", "Enter")]))
    return written


if __name__ == "__main__":
    if sys.argv[1:2] == ["--london"]:
        paths = london()
    else:
        paths = main(*(Path(a) for a in sys.argv[1:2]))
    for path in paths:
        print(f"{path} ({path.stat().st_size} bytes)")
