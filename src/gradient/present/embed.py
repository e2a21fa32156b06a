"""Self-contained HTML for maps, with the iframe snippet and alt text a newsroom needs.

folium pages load Leaflet and several helpers from CDNs. A newsroom embed must not
break when a CDN is blocked, so :class:`Map` carries Leaflet's script and stylesheet
(with its images as data URIs) from the XStatic-Leaflet package on PyPI in its own
page, through folium's own asset lists, and none of the helpers our maps do not use
(jQuery, Bootstrap, Font Awesome). The only requests the saved page makes are for map
tiles.
:func:`save_embed` also writes ``<name>.iframe.html`` (a responsive, sandboxed snippet whose
height follows the article column's width, pointing at the address the map will be
published at) and ``<name>.alt.txt``.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import cast
from urllib.parse import quote

import folium
import xstatic.pkg.leaflet as xleaflet
from branca.element import Element, Figure

from .._files import write_atomic
from ..errors import EmbedError
from ..options import check_base_url
from .page import esc, plain

_LEAFLET = Path(xleaflet.BASE_DIR)


def _leaflet_css() -> str:
    css = (_LEAFLET / "leaflet.css").read_text(encoding="utf-8")

    def data_uri(match: re.Match[str]) -> str:
        image = _LEAFLET / "images" / match.group(1)
        encoded = base64.b64encode(image.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{encoded})"

    return re.sub(r"url\(images/([\w@.-]+\.png)\)", data_uri, css)


def _leaflet_js() -> str:
    return (_LEAFLET / "leaflet.js").read_text(encoding="utf-8").replace("</script", "<\\/script")


VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1">'
"""The page's viewport: a reader may pinch to zoom the page (folium's default forbids it)."""


def map_html(m: folium.Map) -> str:
    """The whole self-contained page of a map, as text (``lang="en"``, pinch zoom allowed).

    Raises
    ------
    EmbedError
        If the page would load a script or stylesheet from outside (only basemap tiles may
        come from outside): a map made with :class:`Map` never does.
    """
    page = m.get_root().render()
    page = re.sub(r'<meta name="viewport"[^>]*>', VIEWPORT, page, count=1)
    outside = re.search(r'<(?:script[^>]+src|link[^>]+href)="(https?:[^"]+)"', page)
    if outside:
        raise EmbedError(f"the map needs the outside file {outside.group(1)}, which gradient cannot inline")
    tail = getattr(m, "gradient_tail", "")  # data a page's script reads once the page has loaded
    if tail:
        page = page.replace("</html>", tail + "\n</html>", 1)
    return page.replace("<html>", '<html lang="en">', 1)


class Map(folium.Map):
    """A :class:`folium.Map` that carries Leaflet inside its page and shows itself in Jupyter as that page.

    folium links Leaflet (and jQuery, Bootstrap and Font Awesome, which these maps never use)
    from CDNs through its ``default_js`` and ``default_css``; here they are empty and Leaflet's
    script and stylesheet (images as data URIs), from the XStatic-Leaflet package, go into the
    page's head instead. folium's own notebook view would load from a CDN and stay blank
    offline; this one is the very page :func:`save_html` writes, in an iframe.
    """

    default_js: list = []
    default_css: list = []

    def render(self, **kwargs):
        """Render the map with Leaflet's script and stylesheet in the page's head."""
        root = cast(Figure, self.get_root())
        root.header.add_child(Element(f"<script>{_leaflet_js()}</script>"), name="leaflet_js")
        root.header.add_child(Element(f"<style>{_leaflet_css()}</style>"), name="leaflet_css")
        return super().render(**kwargs)

    notebook_height = 620
    """Height of the notebook view, CSS pixels."""

    def _repr_html_(self, **kwargs) -> str:
        title = esc(getattr(self, "title_text", "") or "Map")
        return (
            f'<iframe srcdoc="{esc(map_html(self))}" title="{title}" '
            f'style="width:100%;height:{self.notebook_height}px;border:0" loading="lazy"></iframe>'
        )


def save_html(m: folium.Map, path: str | Path) -> Path:
    """Save a folium map as one self-contained HTML file, atomically.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    return write_atomic(path, map_html(m))


EMBED_RATIO = 2 / 3
"""Height of a map's drawing area in an embed, as a share of its width."""

EMBED_CHROME_PX = 230
"""Height the title, legend and source need above and below the map, CSS pixels."""


def iframe_snippet(src: str, title: str, height: int | None = None) -> str:
    """An embed snippet for pasting into an article: a responsive, sandboxed ``<iframe>``.

    Parameters
    ----------
    src : str
        Address of the map file as the article will reach it (a file name next to
        the article, or a full URL); HTML-escaped here.
    title : str
        Plain text for the ``title`` attribute, which screen readers announce; it is
        HTML-escaped here.
    height : int, optional
        A fixed height in CSS pixels. By default the height follows the width: a
        wrapper ``<div>`` is :data:`EMBED_RATIO` of the article column's width for the
        map plus :data:`EMBED_CHROME_PX` for its title, legend and source (about 490 px
        on a phone, 700 px in a 700 px column).

    Returns
    -------
    str
        The snippet and a newline. The iframe is sandboxed (scripts run, but the map
        cannot touch the article page) and loads lazily.

    Examples
    --------
    >>> print(iframe_snippet("8-0-1.html", 'Map: "A" & <B>', height=560), end="")
    <iframe src="8-0-1.html" title="Map: &quot;A&quot; &amp; &lt;B&gt;" width="100%" height="560" \
style="border:0;display:block;width:100%" loading="lazy" sandbox="allow-scripts allow-popups"></iframe>
    """
    attrs = f'src="{esc(src)}" title="{esc(plain(title))}"'
    tail = 'loading="lazy" sandbox="allow-scripts allow-popups"></iframe>'
    if height is not None:
        if isinstance(height, bool) or not isinstance(height, int) or height <= 0:
            raise EmbedError(f"height must be a positive whole number of pixels, got {height!r}")
        return f'<iframe {attrs} width="100%" height="{height}" style="border:0;display:block;width:100%" {tail}\n'
    pad = f"calc({100 * EMBED_RATIO:.2f}% + {EMBED_CHROME_PX}px)"
    return (
        f'<div class="gradient-embed" style="position:relative;width:100%;height:0;padding-top:{pad}">'
        f'<iframe {attrs} style="position:absolute;top:0;left:0;width:100%;height:100%;border:0" {tail}</div>\n'
    )


def embed_src(name: str, base_url: str | None = None) -> str:
    """The address of a saved map in its snippet: ``base_url/name`` (name percent-encoded), or ``name``.

    Raises
    ------
    OptionError
        If ``base_url`` is not an http(s) address (:func:`gradient.options.check_base_url`).

    Examples
    --------
    >>> embed_src("25-0-1.html", "https://example.org/buses/")
    'https://example.org/buses/25-0-1.html'
    """
    if base_url is None:
        return name
    return f"{check_base_url(base_url, 'base_url')}/{quote(name)}"


def save_embed(
    m: folium.Map,
    path: str | Path,
    *,
    title: str | None = None,
    alt: str | None = None,
    src: str | None = None,
    base_url: str | None = None,
) -> list[Path]:
    """Save a map page with its iframe snippet and alt text, each atomically.

    Parameters
    ----------
    m : folium.Map
        A map from :func:`gradient.present.maps.route_map` (or any map, given ``title`` and ``alt``).
    path : str or Path
        The page, e.g. ``maps/8-0-1.html``; the snippet goes to ``maps/8-0-1.iframe.html``
        and the alt text to ``maps/8-0-1.alt.txt``.
    title, alt : str, optional
        Plain text; default the map's ``title_text`` and ``alt_text``.
    src : str, optional
        Address of the page in the snippet; default :func:`embed_src` of its file name.
    base_url : str, optional
        The http(s) address the page will be published under (the ``embed_base_url``
        option): the snippet points at ``base_url/<file name>``.

    Returns
    -------
    list of pathlib.Path
        The page, the snippet and the alt text file.

    Raises
    ------
    EmbedError
        If no title or alt text is given and the map carries none.
    OptionError
        If ``base_url`` is not an http(s) address.
    """
    path = Path(path)
    title = title if title is not None else getattr(m, "title_text", None)
    alt = alt if alt is not None else getattr(m, "alt_text", None)
    if not title or not alt:
        raise EmbedError("save_embed needs a title and alt text: pass title= and alt=, or a map from gradient.maps")
    src = src or embed_src(path.name, base_url)
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    return [
        save_html(m, path),
        write_atomic(path.with_name(f"{stem}.iframe.html"), iframe_snippet(src, f"Map: {title}")),
        write_atomic(path.with_name(f"{stem}.alt.txt"), plain(alt) + "\n"),
    ]
