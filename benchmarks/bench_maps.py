"""Benchmark: London's network map (every TfL bus pattern) in headless Chromium.

Run from the project root:  .venv/bin/python benchmarks/bench_maps.py [--repeat 3]

Runs the bundled TfL bus sequences (July 2018) against England's MSOAs, builds the
network map with :func:`gradient.present.netmap.network_map`, saves it as one
self-contained page and opens it in Debian's chromium (``/usr/bin/chromium``, driven by
Playwright, every outside request blocked so basemap tiles never load) at 1x and at 4x
CPU slowdown (Chrome DevTools Protocol ``Emulation.setCPUThrottlingRate``; 4x is
Lighthouse's stand-in for a mid-range phone). Prints the file size and the draw time:
from navigation start to the second animation frame after the network layer has added
its lines, when Leaflet's canvas has drawn and painted them (the fastest of ``--repeat``
loads at each rate; basemap tiles, blocked here, play no part). Both rates, and any
``--also`` page (e.g. one saved by an earlier version), are measured in this one run, so
their ratios are meaningful on a shared machine even when absolute times are noisy.

With ``--fast3g`` every page is also served gzipped from a local HTTP server and loaded
under DevTools' "Fast 3G" (562.5 ms round trip, 1.44 Mbit/s down) at 4x CPU slowdown, the
conditions of a slow phone: the draw time then includes the download, and the time until
the finder's data has arrived (it follows the map in the page) is printed beside it.
"""

from __future__ import annotations

import argparse
import gzip
import http.server
import platform
import tempfile
import threading
import time
import warnings
from pathlib import Path

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

PAINTED = """() => new Promise(done => {
    const drawn = () => document.querySelector(".folium-map[data-gradient-patterns]");
    const twice = () => requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now())));
    const poll = () => drawn() ? twice() : requestAnimationFrame(poll);
    poll();
})"""
"""Milliseconds since navigation start until two frames after the network layer has added its
lines (the canvas has drawn and painted them): basemap tiles and the ``load`` event play no part."""


FINDER_READY = """() => new Promise(done => {
    const ready = () => document.querySelector("[data-gradient-finder=ready]");
    const loaded = () => document.readyState === "complete";
    let since = null;
    const poll = () => {
        if (ready()) { done(performance.now()); return; }
        if (loaded()) { since = since || performance.now(); }
        if (since !== null && performance.now() - since > 2000) { done(-1); return; }
        requestAnimationFrame(poll);
    };
    poll();
})"""
"""Milliseconds since navigation start until the network map's finder has its data (-1: a page without one)."""

FAST_3G = {
    "offline": False,
    "latency": 562.5,
    "downloadThroughput": 1.6e6 / 8 * 0.9,
    "uploadThroughput": 7.5e5 / 8 * 0.9,
}
"""Chrome DevTools' "Fast 3G" preset (Lighthouse's mobile throttling): bytes a second, milliseconds."""


def serve_gzipped(pages: list[Path]) -> tuple[http.server.ThreadingHTTPServer, dict[Path, str]]:
    """A local server that sends each page gzipped, as a web host would; returns it and each page's URL."""
    bodies = {f"/{i}.html": gzip.compress(p.read_bytes()) for i, p in enumerate(pages)}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
            body = bodies.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    return server, {p: f"{base}/{i}.html" for i, p in enumerate(pages)}


def slow_phone_ms(context, url: str) -> tuple[float, float]:
    """Milliseconds until the map has painted and until its finder is ready, on Fast 3G at 4x CPU."""
    page = context.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    base = url.rsplit("/", 1)[0]
    page.route(lambda u: not u.startswith(base), lambda route: route.abort())
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send("Network.emulateNetworkConditions", FAST_3G)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
    page.goto(url, wait_until="commit")
    drawn = float(page.evaluate(PAINTED))
    ready = float(page.evaluate(FINDER_READY))
    page.close()
    return drawn, ready


def london():
    """The London run: every TfL bus pattern against England's MSOAs (ONS 2016-2020)."""
    from gradient import areas, datasets, pipeline

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        msoas = areas.load_areas(datasets.get_path("msoa_boundaries"), datasets.get_path("ons_msoa_le"), "ons-msoa")
        return pipeline.run(
            datasets.get_path("tfl_sequences"),
            msoas,
            route_lines=datasets.get_path("tfl_route_lines"),
            labels=pipeline.labels_from(msoas, "TfL bus sequences, July 2018"),
            kind="tfl",
        )


def draw_ms(context, page_path: Path, rate: float, width: int = 1280, height: int = 800) -> float:
    """Milliseconds from navigation start until the map has painted, at ``rate``x CPU slowdown."""
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": height})
    page.route(lambda url: not url.startswith("file:"), lambda route: route.abort())
    cdp = context.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})
    page.goto(page_path.resolve().as_uri(), wait_until="commit")
    ms = float(page.evaluate(PAINTED))
    drawn = page.evaluate("document.querySelector('.folium-map').getAttribute('data-gradient-patterns')")
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
    page.close()
    if not drawn:
        raise RuntimeError("the network layer did not draw")
    return ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="loads at each CPU rate (fastest kept; default 3)")
    parser.add_argument("--keep", type=Path, help="write the page here (default a temporary folder)")
    parser.add_argument(
        "--also",
        type=Path,
        nargs="*",
        default=[],
        metavar="PAGE",
        help="saved pages to time in the same run, e.g. one made by an earlier version",
    )
    parser.add_argument("--fast3g", action="store_true", help="also load every page gzipped over Fast 3G at 4x CPU")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from gradient.present import embed, netmap

    t0 = time.perf_counter()
    result = london()
    t1 = time.perf_counter()
    m = netmap.network_map(result)
    with tempfile.TemporaryDirectory() as tmp:
        page = embed.save_html(m, Path(args.keep or Path(tmp) / "network.html"))
        t2 = time.perf_counter()
        size = page.stat().st_size
        with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
            context = pw.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, args=FLAGS, headless=True
            )
            try:
                timed = {
                    p: {rate: min(draw_ms(context, p, rate) for _ in range(args.repeat)) for rate in (1, 4)}
                    for p in [page, *args.also]
                }
                slow = {}
                if args.fast3g:
                    server, urls = serve_gzipped([page, *args.also])
                    try:
                        for p, url in urls.items():
                            runs = [slow_phone_ms(context, url) for _ in range(args.repeat)]
                            slow[p] = (
                                min(r[0] for r in runs),
                                min(r[1] for r in runs),
                                len(gzip.compress(p.read_bytes())),
                            )
                    finally:
                        server.shutdown()
            finally:
                context.close()
    times = timed[page]
    n_routes = result.patterns["route_name"].nunique()
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(
        f"London: {len(result.patterns)} patterns on {n_routes} routes; run {t1 - t0:.1f} s, "
        f"map built and saved {t2 - t1:.1f} s"
    )
    print(f"network map: {size:,} bytes ({size / 1e6:.2f} MB)")
    for rate, ms in times.items():
        print(f"draw time at {rate}x CPU slowdown: {ms / 1000:.2f} s (fastest of {args.repeat})")
    print(f"ratio 4x/1x: {times[4] / times[1]:.1f}")
    for other in args.also:
        t = timed[other]
        print(
            f"{other.name}: {other.stat().st_size:,} bytes; draw {t[1] / 1000:.2f} s at 1x, {t[4] / 1000:.2f} s at 4x"
        )
    for p, (drawn, ready, gz) in slow.items():
        name = "this run's page" if p == page else p.name
        print(
            f"{name} on Fast 3G at 4x CPU, 390 px wide ({gz:,} bytes gzipped): drawn {drawn / 1000:.2f} s, "
            + (f"finder ready {ready / 1000:.2f} s" if ready >= 0 else "no finder")
            + f" (fastest of {args.repeat})"
        )


if __name__ == "__main__":
    main()
