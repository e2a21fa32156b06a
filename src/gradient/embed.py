"""Self-contained HTML for maps, and atomic file writes.

folium pages load Leaflet and several helpers from CDNs. A newsroom embed must not
break when a CDN is blocked, so :func:`save_html` inlines Leaflet's script and
stylesheet (with its images as data URIs) from the XStatic-Leaflet package on PyPI
and drops the helpers our maps do not use (jQuery, Bootstrap, Font Awesome,
awesome-markers). The only requests the saved page makes are for map tiles.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import folium
import xstatic.pkg.leaflet as xleaflet

from .errors import GradientError
from .files import write_atomic

_LEAFLET = Path(xleaflet.BASE_DIR)

_UNUSED = ("jquery", "bootstrap", "awesome-markers", "awesome.rotate", "fontawesome", "glyphicons")
"""CDN assets folium adds by default that our maps never use."""

_SCRIPT = re.compile(r'<script\s+src="(?P<url>[^"]+)"\s*>\s*</script>\s*')
_LINK = re.compile(r'<link\s+rel="stylesheet"\s+href="(?P<url>[^"]+)"\s*/?>\s*')


class EmbedError(GradientError):
    """A map needs an outside script or stylesheet that cannot be inlined."""


def _leaflet_css() -> str:
    css = (_LEAFLET / "leaflet.css").read_text(encoding="utf-8")

    def data_uri(match: re.Match[str]) -> str:
        image = _LEAFLET / "images" / match.group(1)
        encoded = base64.b64encode(image.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{encoded})"

    return re.sub(r"url\(images/([\w@.-]+\.png)\)", data_uri, css)


def inline_assets(page: str) -> str:
    """Replace a folium page's CDN script and stylesheet links with inline copies.

    Raises
    ------
    EmbedError
        If the page links a script or stylesheet other than Leaflet's and the
        known unused folium defaults.
    """

    def script(match: re.Match[str]) -> str:
        url = match.group("url")
        if url.endswith("/leaflet.js"):
            js = (_LEAFLET / "leaflet.js").read_text(encoding="utf-8").replace("</script", "<\\/script")
            return f"<script>{js}</script>\n"
        if any(name in url.lower() for name in _UNUSED):
            return ""
        raise EmbedError(f"the map needs the outside script {url}, which gradient cannot inline")

    def link(match: re.Match[str]) -> str:
        url = match.group("url")
        if url.endswith("/leaflet.css"):
            return f"<style>{_leaflet_css()}</style>\n"
        if any(name in url.lower() for name in _UNUSED):
            return ""
        raise EmbedError(f"the map needs the outside stylesheet {url}, which gradient cannot inline")

    return _LINK.sub(link, _SCRIPT.sub(script, page))


def map_html(m: folium.Map) -> str:
    """The whole self-contained page of a folium map, as text."""
    return inline_assets(m.get_root().render())


def save_html(m: folium.Map, path: str | Path) -> Path:
    """Save a folium map as one self-contained HTML file, atomically.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    return write_atomic(path, map_html(m))
