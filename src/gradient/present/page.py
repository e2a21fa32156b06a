"""The page around a folium map: title, legend and source outside the map, and safe text.

A map embedded in an article is often read on a phone 375 px wide. Title, legend
and source line therefore sit in a header and a footer of the page (a flex column),
never over the map, so they cannot cover it at any width.

Every string that comes from a feed or a table reaches the page either as
HTML-escaped text (:func:`esc`) or as JSON data (:func:`safe_json`) that the page's
script puts into the document with ``textContent``: never as markup or code.
"""

from __future__ import annotations

import html
import json
import re
from typing import cast

import folium
import numpy as np
from branca.element import Element, Figure, MacroElement

from ._interact import ENGAGE_JS, INTERACT_CSS, LABELS_JS
from .colours import MISSING_COLOUR, Scale

MINUS = "\u2212"

PAGE_CSS = """
html, body { height: 100%; margin: 0; }
body { display: flex; flex-direction: column; background: #fff; color: #1a1a1a;
  font: 13px/1.35 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
body > .folium-map { order: 1; flex: 1 1 auto; height: auto !important; min-height: 160px; }
.leaflet-container { background: #f2f2f0;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
.gradient-tip { white-space: normal; min-width: 170px; max-width: 250px; line-height: 1.35; }
.gradient-head { order: 0; flex: none; padding: 6px 10px 4px; }
.gradient-title { margin: 0; font-size: 15px; line-height: 1.25; font-weight: 700; }
.gradient-foot { order: 3; flex: none; padding: 4px 10px 6px; display: flex; flex-wrap: wrap;
  gap: 2px 18px; align-items: flex-start; border-top: 1px solid #ddd; }
.gradient-legend { flex: 1 1 240px; max-width: 420px; }
.gradient-units { font-weight: 600; }
.gradient-bar { height: 10px; border-radius: 2px; margin-top: 2px; }
.gradient-range { height: 3px; background: #111; margin-top: 1px; }
.gradient-ticks { position: relative; height: 15px; font-size: 11px; }
.gradient-ticks span { position: absolute; top: 0; white-space: nowrap; transform: translateX(-50%); }
.gradient-ticks span.lo { transform: none; }
.gradient-ticks span.hi { transform: translateX(-100%); }
.gradient-notes { flex: 1 1 240px; font-size: 11px; color: #333; }
.gradient-notes > div { display: inline-block; margin: 1px 12px 1px 0; }
.gradient-notes > div.gradient-source { display: block; }
.gradient-sw { display: inline-block; width: 18px; height: 0; vertical-align: middle; margin-right: 4px; }
.gradient-source { color: #555; }
.gradient-sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);
  white-space: nowrap; }
.gradient-tip strong { display: block; }
.leaflet-tooltip.gradient-steepest { font-weight: 700; font-size: 11px; padding: 1px 4px; }
@media (max-width: 480px) { .gradient-title { font-size: 14px; } .gradient-foot { padding: 3px 8px 4px; } }
"""


def esc(text: object) -> str:
    """HTML-escaped text (quotes too, so it is safe in attribute values; braces too, see below).

    branca renders every page element as a Jinja template, so a ``{{ ... }}`` or
    ``{% ... %}`` in a stop name would run as template code when the page is written.
    Braces are therefore written as character references, which the browser shows as
    braces and Jinja never reads.

    Examples
    --------
    >>> esc('<b> & "{{ 7*7 }}"')
    '&lt;b&gt; &amp; &quot;&#123;&#123; 7*7 &#125;&#125;&quot;'
    """
    return html.escape(str(text), quote=True).replace("{", "&#123;").replace("}", "&#125;")


def safe_json(value: object) -> str:
    r"""JSON that is safe inside an HTML ``<script>`` element and inside a branca (Jinja) template.

    ``<``, ``>``, ``&`` and the two JavaScript line separators are written as
    ``\u`` escapes so no string can close the script or open markup; so is a ``{``
    that would open a Jinja tag (``{{``, ``{%``, ``{#``), so no string runs as template
    code when branca renders the page (structural braces of JSON never do).

    Examples
    --------
    >>> safe_json({"name": "</script>"})
    '{"name": "\\u003c/script\\u003e"}'
    """
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    escapes = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))
    for char, code in escapes:
        text = text.replace(char, code)
    return re.sub(r"\{(?=[{%#])", r"\\u007b", text)


def plain(text: object) -> str:
    """One line of plain text: whitespace (newlines, tabs) collapsed to single spaces."""
    return re.sub(r"\s+", " ", str(text)).strip()


def fmt(value: float, spec: str = ".1f", sign: bool = False) -> str:
    """A number for people: one decimal, a true minus sign, ``unknown`` for NaN.

    Examples
    --------
    >>> fmt(-12.66, sign=True)
    '−12.7'
    >>> fmt(float("nan"))
    'unknown'
    """
    if value is None or not np.isfinite(value):
        return "unknown"
    spec = ("+" if sign else "") + spec
    text = format(value, spec)
    if float(text) == 0:  # no "-0.0"
        text = format(0.0, spec)
    return text.replace("-", MINUS)


def scale_html(scale: Scale, units: str, span: tuple[float, float] | None = None, span_label: str = "") -> str:
    """The colour bar of a legend: units, gradient, optional range bracket, and end ticks.

    ``span`` (low, high) draws a black bracket under the bar over that range, e.g.
    the range of the mapped route; ``span_label`` is not shown here but should be
    explained in the notes next to the legend.
    """
    pos = lambda v: f"{100 * float(scale.position(v)):.1f}%"  # noqa: E731
    lo_mark, hi_mark = ("\u2264 ", "\u2265 ") if scale.clipped else ("", "")
    ticks = [f'<span class="lo" style="left:0">{lo_mark}{fmt(scale.vmin)}</span>']
    if scale.palette == "life":
        ticks.append(f'<span style="left:{pos(scale.reference)}">\u25b2 {fmt(scale.reference)}</span>')
    ticks.append(f'<span class="hi" style="left:100%">{hi_mark}{fmt(scale.vmax)}</span>')
    bracket = ""
    if span is not None and all(np.isfinite(span)):
        lo, hi = float(scale.position(span[0])), float(scale.position(span[1]))
        bracket = (
            f'<div class="gradient-range" title="{esc(span_label)}" '
            f'style="margin-left:{100 * lo:.1f}%;width:{max(100 * (hi - lo), 0.8):.1f}%"></div>'
        )
    return (
        f'<div class="gradient-units">{esc(units)}</div>'
        f'<div class="gradient-bar" style="background:{scale.css_gradient()}"></div>'
        f'{bracket}<div class="gradient-ticks">{"".join(ticks)}</div>'
    )


def missing_key(what: str = "no estimate") -> str:
    """A legend line for missing values: a grey dashed swatch."""
    return f'<div><span class="gradient-sw" style="border-top:4px dashed {MISSING_COLOUR}"></span>{esc(what)}</div>'


def units_text(what: str, sex: str = "", period: str = "") -> str:
    """``what`` followed by sex and period, e.g. ``Life expectancy at birth, years (persons, 2010-2015)``."""
    detail = ", ".join(p for p in (sex, period) if p)
    return what + (f" ({detail})" if detail else "")


def add_page(
    m: folium.Map,
    *,
    title: str,
    legend: str,
    notes: str,
    source: str,
    description: str,
    header: str = "",
    css: str = "",
    after_map: str = "",
) -> None:
    """Put the header (title), footer (legend, notes, source) and description around a map.

    ``legend``, ``notes`` and ``header`` (more of the header under the title, e.g. a
    route finder) and ``after_map`` (a section between the map and its footer, e.g. the
    network map's panel) are HTML built by this package with every outside string escaped,
    and ``css`` its style; ``title``, ``source`` and ``description`` are plain text and are
    escaped here. The description is for screen readers (the map region points to it).
    """
    root = cast(Figure, m.get_root())
    root.header.add_child(Element(f"<title>{esc(plain(title)) or 'Map'}</title>"), name="gradient_title")
    root.header.add_child(Element(f"<style>{PAGE_CSS}{INTERACT_CSS}{css}</style>"), name="gradient_css")
    root.html.add_child(
        Element(f'<header class="gradient-head"><h1 class="gradient-title">{esc(plain(title))}</h1>{header}</header>'),
        name="gradient_head",
    )
    if after_map:
        root.html.add_child(Element(after_map), name="gradient_after_map")
    source_html = f'<div class="gradient-source">{esc(plain(source))}</div>' if source else ""
    root.html.add_child(
        Element(
            f'<footer class="gradient-foot"><div class="gradient-legend">{legend}</div>'
            f'<div class="gradient-notes">{notes}{source_html}</div>'
            f'<p id="gradient-desc" class="gradient-sr">{esc(plain(description))}</p></footer>'
        ),
        name="gradient_foot",
    )
    vars(m).update(title_text=plain(title), alt_text=plain(description))  # what save_embed writes beside it


COMMON_JS = (
    """
            var el = map.getContainer();
            L.control.scale({position: "bottomleft", maxWidth: 90}).addTo(map);
            el.setAttribute("role", "main");  // the map is the page's main content
            el.setAttribute("aria-label", d.label);
            el.setAttribute("aria-describedby", "gradient-desc");
            // feed text goes into the page only through textContent: it stays text
            function box(lines) {
                var div = document.createElement("div");
                div.className = "gradient-tip";
                lines.forEach(function (text, i) {
                    var line = document.createElement(i === 0 ? "strong" : "div");
                    line.textContent = text;
                    div.appendChild(line);
                });
                return div;
            }
"""
    + ENGAGE_JS
    + LABELS_JS
)
"""Script shared by the route and network map layers (needs ``map`` and ``d`` in scope):
scale bar, accessible name and description of the map region, ``box(lines)`` (the
tooltip and popup content built with ``textContent``), no scroll trap and permanent
labels kept inside the map (:mod:`gradient.present._interact`)."""


class DataLayer(MacroElement):
    """A map layer drawn by one script from one JSON blob (``this.data``).

    :data:`COMMON_JS` is available to its template as ``this.common_js``.
    """

    def __init__(self, data: dict, name: str) -> None:
        super().__init__()
        self._name = name
        self.data = safe_json(data)
        self.common_js = COMMON_JS
