"""A static map of one route's story for print and the web: no tiles, the neighbourhoods as the base.

Newspapers print, and a flat image is what a graphics desk can place, resize and edit. The
map is drawn with matplotlib from the run's own data, so it needs no basemap and no network:

- **the base** is the small areas near the route, filled by life expectancy in the one
  palette of every map and chart (:data:`gradient.present.colours.LIFE`: its lightness
  follows life expectancy, so the map reads in greyscale); areas whose estimate is in doubt
  are hatched and areas without one are light grey and dotted;
- **the route** over them, a black line on a white casing, its stops as small dots;
- **the stretch the sentence cites** drawn thick and labelled with its change (without a
  cited stretch, the biggest stop-to-stop fall, labelled as just that);
- **the ends and the neighbourhoods at the stretch's ends** named, with a white halo;
- a **scale bar**, the **legend** (the palette with its reference ▲ and the route's span,
  and each symbol in words), the **title** (the finding), and the **credit**.

Two sizes (:data:`SIZES`): ``column`` (86 mm wide, one column of a magazine or a half of a
broadsheet's) and ``page`` (an A4 page). :func:`save_print_map` writes a PNG for the web and
an SVG (text kept as text) and PDF for print, deterministically.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from matplotlib.figure import Figure

from .._files import write_atomic
from ..errors import ChartError
from ..schema import metric_crs
from ..story import words
from ..story.names import display_name
from ..story.words import Voice
from .charts import HASHSALT, tag, wrap
from .colours import LIFE, MISSING_COLOUR, Scale
from .page import fmt, plain
from .story import stop_names, stretch

MM = 1 / 25.4
"""Inches per millimetre."""

SIZES: dict[str, dict[str, Any]] = {
    "column": {
        "width": 86 * MM,
        "margin": 3 * MM,
        "title": 9.0,
        "subtitle": 6.5,
        "label": 6.3,
        "legend": 6.0,
        "source": 5.2,
        "map_h": (62 * MM, 110 * MM),
        "line": 1.6,
        "dpi": 300,
    },
    "page": {
        "width": 210 * MM,
        "margin": 14 * MM,
        "title": 18.0,
        "subtitle": 11.0,
        "label": 10.0,
        "legend": 10.0,
        "source": 8.5,
        "map_h": (120 * MM, 205 * MM),
        "height": 297 * MM,
        "line": 2.6,
        "dpi": 200,
    },
}
"""The two print sizes: widths, type sizes (points), the map's least and most height, and for a
page its whole height (the map takes what the text leaves)."""

FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}


def _halo(width: float = 2.2):
    from matplotlib import patheffects

    return [patheffects.withStroke(linewidth=width, foreground="white")]


def _lines(block: str) -> int:
    return block.count("\n") + 1 if block else 0


def _nice(length_m: float) -> float:
    """The largest 1, 2 or 5 times a power of ten not above ``length_m`` (metres)."""
    if length_m <= 0:
        return 1.0
    k = 10 ** np.floor(np.log10(length_m))
    return float(max(m * k for m in (1, 2, 5) if m * k <= length_m))


def _scale_bar(ax, width_m: float, size: float, lw: float) -> None:
    """A scale bar at the map's lower left: about a fifth of its width, a round length, labelled."""
    from matplotlib.patches import Rectangle

    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = _nice(0.22 * width_m)
    x, y = x0 + 0.04 * (x1 - x0), y0 + 0.05 * (y1 - y0)
    h = 0.012 * (y1 - y0)
    ax.add_patch(Rectangle((x, y), length / 2, h, facecolor="black", edgecolor="black", linewidth=0.4, zorder=9))
    ax.add_patch(
        Rectangle((x + length / 2, y), length / 2, h, facecolor="white", edgecolor="black", linewidth=0.4, zorder=9)
    )
    text = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(
        x + length + 0.01 * (x1 - x0),
        y + h / 2,
        text,
        fontsize=size,
        va="center",
        ha="left",
        zorder=9,
        path_effects=_halo(),
    )


def print_map(
    result,
    pattern_id: str | None = None,
    *,
    size: str = "column",
    scale: Scale | None = None,
    areas=None,
    pyplot: bool = False,
) -> Figure:
    """A static map of one pattern's story for print (and a PNG for the web), with no tiles.

    Parameters
    ----------
    result : gradient.Result
    pattern_id : str, optional
        Default the top-ranked pattern.
    size : {"column", "page"}, default "column"
        86 mm wide, or an A4 page (:data:`SIZES`).
    scale : Scale, optional
        The run's colour scale, so the print map matches the web maps and charts; default
        :func:`gradient.present.colours.reference_scale` of the run.
    areas : Areas or geopandas.GeoDataFrame, optional
        The small areas (default the run's ``areas``).
    pyplot : bool, default False
        Make the figure with pyplot (shown inline in Jupyter).

    Returns
    -------
    matplotlib.figure.Figure
        Its ``alt_text`` describes it; save it with :func:`save_print_map`.

    Raises
    ------
    ChartError
        If ``size`` is not one of :data:`SIZES`.
    """
    from ..areas.dataset import as_areas
    from .charts import _figure
    from .colours import reference_scale
    from .page import units_text

    if size not in SIZES:
        raise ChartError(f"size={size!r}: choose one of {', '.join(SIZES)}")
    look = SIZES[size]
    row = result.pattern(pattern_id)
    labels = result.labels
    voice = words.voice_of(result.options, labels)
    areas = areas if areas is not None else getattr(result, "areas", None)
    scale = scale or reference_scale(result.stops, getattr(result.options, "scale_reference", "areas"), areas)
    stops = result.stops_of(row["pattern_id"]).sort_values("stop_sequence", kind="stable").reset_index(drop=True)
    line = result.line(row["pattern_id"])
    if line is None or line.is_empty:
        line = shapely.LineString(stops[["lon", "lat"]].to_numpy(float)) if len(stops) > 1 else None
    crs = metric_crs(stops["lon"], stops["lat"])
    to_m = gpd.GeoSeries([line] if line is not None else [], crs="EPSG:4326").to_crs(crs)
    route = to_m.iloc[0] if len(to_m) else None
    pts = gpd.GeoSeries(gpd.points_from_xy(stops["lon"], stops["lat"]), crs="EPSG:4326").to_crs(crs)
    px, py = pts.x.to_numpy(), pts.y.to_numpy()

    W, m = look["width"], look["margin"]
    content = W - 2 * m
    unit = 1.22 / 72
    title_t = wrap(str(row.get("takeaway") or words.route_title(row)), content, 5, size=look["title"], weight="bold")
    sub_t = wrap(
        f"{words.route_title(row)}. " + units_text("Life expectancy at birth, years", labels.sex, labels.period),
        content,
        4,
        size=look["subtitle"],
    )
    # the map's extent: the route with a margin, in the map's own proportions
    bx = np.r_[px, np.asarray(route.xy[0]) if route is not None else []]
    by = np.r_[py, np.asarray(route.xy[1]) if route is not None else []]
    x0, x1, y0, y1 = bx.min(), bx.max(), by.min(), by.max()
    span = max(x1 - x0, y1 - y0, 800.0)
    pad = 0.12 * span
    x0, x1, y0, y1 = x0 - pad, x1 + pad, y0 - pad, y1 + pad

    st = stretch(stops, row, voice)
    names = stop_names(stops)
    keys = _legend_entries(stops, st, names, row, voice)
    key_t = [wrap(text, content - 0.32 * look["legend"] / 6, 6, size=look["legend"]) for _, text in keys]
    bar_h = 4.3 * look["legend"] * unit + 0.12
    src_t = wrap(words.credit_line(labels) + " Map: no basemap; areas as published.", content, 14, size=look["source"])

    head = m + _lines(title_t) * look["title"] * unit + 0.05 + _lines(sub_t) * look["subtitle"] * unit + 0.08
    # a whole page also prints the sentence, with its interval: a column leaves it to the caption
    said = row.get("headline")
    said = said if isinstance(said, str) and "height" in look else ""
    said_t = wrap(said, content, 8, size=look["subtitle"]) if said else ""
    if said_t:
        head += _lines(said_t) * look["subtitle"] * unit + 0.08
    foot = 0.1 + bar_h + sum(max(_lines(t), 1) * look["legend"] * unit + 0.05 for t in key_t) + 0.06
    foot += _lines(src_t) * look["source"] * unit + m
    lo_h, hi_h = look["map_h"]
    if "height" in look:  # a page: the map takes what the text leaves
        hi_h = max(lo_h, look["height"] - head - foot)
    map_h = float(np.clip(content * (y1 - y0) / (x1 - x0), lo_h, hi_h))
    map_top = head
    H = look.get("height", head + map_h + foot)
    # widen the shorter side so metres are square on the page
    want = map_h / content
    if (y1 - y0) / (x1 - x0) < want:
        grow = want * (x1 - x0) - (y1 - y0)
        y0, y1 = y0 - grow / 2, y1 + grow / 2
    else:
        grow = (y1 - y0) / want - (x1 - x0)
        x0, x1 = x0 - grow / 2, x1 + grow / 2

    fig = _figure((W, H), pyplot, constrained=False)
    tag(fig, dpi=look["dpi"])
    fx = lambda inches: inches / W  # noqa: E731
    fy = lambda inches: 1 - inches / H  # noqa: E731
    y = m
    fig.text(fx(m), fy(y), title_t, fontsize=look["title"], fontweight="bold", va="top", ha="left", linespacing=1.12)
    y += _lines(title_t) * look["title"] * unit + 0.05
    fig.text(fx(m), fy(y), sub_t, fontsize=look["subtitle"], color="0.2", va="top", ha="left", linespacing=1.12)
    if said_t:
        y += _lines(sub_t) * look["subtitle"] * unit + 0.08
        fig.text(fx(m), fy(y), said_t, fontsize=look["subtitle"], va="top", ha="left", linespacing=1.12)

    ax = fig.add_axes((fx(m), fy(map_top + map_h), fx(content), map_h / H))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_linewidth(0.5)
        spine.set_color("0.4")
    ax.set_facecolor("#f4f4f2")
    lw = look["line"]
    if areas is not None:
        _draw_areas(ax, as_areas(areas).frame, stops, crs, (x0, y0, x1, y1), scale, lw)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
    ax.set_xlabel("")
    ax.set_ylabel("")
    if route is not None:
        rx, ry = route.xy
        ax.plot(rx, ry, color="white", linewidth=lw * 2.6, solid_capstyle="round", zorder=5)
        ax.plot(rx, ry, color="black", linewidth=lw, solid_capstyle="round", zorder=6)
    ax.scatter(px, py, s=(lw * 1.6) ** 2, facecolors="white", edgecolors="black", linewidths=lw * 0.35, zorder=7)
    doubt = (
        stops["area_doubt"].fillna("").astype(str).str.strip().ne("").to_numpy()
        if "area_doubt" in stops
        else np.zeros(len(stops), bool)
    )
    if doubt.any():
        ax.scatter(
            px[doubt],
            py[doubt],
            s=(lw * 3.2) ** 2,
            facecolors="none",
            edgecolors="black",
            linewidths=lw * 0.45,
            zorder=7,
        )
    if st is not None:
        dist = stops["dist_m"].to_numpy(float)
        piece = None
        if route is not None and route.length > 0:
            piece = shapely.ops.substring(route, max(dist[st.start], 0.0), min(dist[st.end], route.length))
        if piece is None or piece.is_empty or piece.geom_type != "LineString":
            piece = shapely.LineString([(px[st.start], py[st.start]), (px[st.end], py[st.end])])
        sx, sy = piece.xy
        ax.plot(sx, sy, color="white", linewidth=lw * 5.2, solid_capstyle="round", zorder=7.5)
        ax.plot(sx, sy, color="black", linewidth=lw * 3.2, solid_capstyle="round", zorder=8)
        mid = piece.interpolate(0.5, normalized=True)
        label = st.label if st.cited else words.fallback_label(st.change, row.to_dict(), voice)
        _callout(
            ax,
            (mid.x, mid.y),
            wrap(label, content * 0.42, 3, size=look["label"], weight="bold"),
            look["label"],
            (x0, y0, x1, y1),
        )
    _end_labels(ax, px, py, names, look["label"], (x0, y0, x1, y1))
    _area_names(ax, stops, row, crs, areas, look["label"] * 0.92, (x0, y0, x1, y1))
    _scale_bar(ax, x1 - x0, look["label"] * 0.9, lw)

    y = map_top + map_h + 0.1
    strip = 0.9 * look["legend"] * unit
    _colour_bar(
        fig,
        scale,
        stops,
        (fx(m), fy(y + 1.5 * look["legend"] * unit + strip), fx(content * 0.7), strip / H),
        look["legend"],
    )
    fig.text(
        fx(m),
        fy(y),
        units_text("Life expectancy at birth, years", labels.sex, labels.period),
        fontsize=look["legend"],
        fontweight="bold",
        va="top",
    )
    y += bar_h
    for (draw, _), text in zip(keys, key_t):
        h = max(_lines(text), 1) * look["legend"] * unit
        kx = fig.add_axes(
            (fx(m), fy(y + look["legend"] * unit), fx(0.3 * look["legend"] / 6), look["legend"] * unit / H)
        )
        kx.set_axis_off()
        kx.set_xlim(0, 1)
        kx.set_ylim(0, 1)
        draw(kx, lw)
        fig.text(
            fx(m + 0.36 * look["legend"] / 6),
            fy(y),
            text,
            fontsize=look["legend"],
            va="top",
            ha="left",
            linespacing=1.12,
        )
        y += h + 0.05
    y += 0.06
    fig.text(fx(m), fy(y), src_t, fontsize=look["source"], color="0.3", va="top", ha="left", linespacing=1.12)
    tag(fig, alt_text=print_alt_text(stops, row, st, names, labels, voice))
    return fig


def _draw_areas(ax, frame: pd.DataFrame, stops: pd.DataFrame, crs, box: tuple, scale: Scale, lw: float) -> None:
    """The small areas inside the map's box, filled by life expectancy; in doubt hatched, unknown dotted."""
    g = gpd.GeoDataFrame(frame, geometry="geometry", crs=frame.crs if hasattr(frame, "crs") else "EPSG:4326")
    view = shapely.box(*box)
    g = g[g.geometry.notna()].to_crs(crs)
    g = g[g.intersects(view)]
    if not len(g):
        return
    # simplified to a thousandth of the map's width: finer than print shows, and light files
    tolerance = (box[2] - box[0]) / 1000
    try:
        g = g.set_geometry(shapely.coverage_simplify(g.geometry.to_numpy(), tolerance))
    except (AttributeError, shapely.errors.GEOSException):
        g = g.set_geometry(g.geometry.simplify(tolerance))
    le = pd.to_numeric(g["le"], errors="coerce").to_numpy(float)
    colours = [c if np.isfinite(v) else "#e6e6e6" for v, c in zip(le, scale.colours(le))]
    g.plot(ax=ax, color=colours, edgecolor="white", linewidth=lw * 0.25, zorder=1)
    doubt = set(
        stops.loc[
            stops.get("area_doubt", pd.Series("", index=stops.index)).fillna("").astype(str).str.strip().ne(""),
            "area_id",
        ]
        .dropna()
        .astype(str)
    )
    if "le_doubt" in g:
        doubt |= set(g.loc[g["le_doubt"].fillna("").astype(str).str.strip().ne(""), "area_id"].astype(str))
    hatched = g[g["area_id"].astype(str).isin(doubt)]
    if len(hatched):
        hatched.plot(ax=ax, facecolor="none", edgecolor="white", hatch="////", linewidth=0, zorder=2)
        hatched.boundary.plot(ax=ax, color="black", linewidth=lw * 0.3, zorder=2)
    unknown = g[~np.isfinite(le)]
    if len(unknown):
        unknown.boundary.plot(ax=ax, color=MISSING_COLOUR, linewidth=lw * 0.4, linestyle=":", zorder=2)


def _inside(x: float, y: float, box: tuple) -> bool:
    x0, y0, x1, y1 = box
    return x0 <= x <= x1 and y0 <= y <= y1


def _callout(ax, at: tuple[float, float], text: str, size: float, box: tuple) -> None:
    """The stretch's label, set off towards the map's emptier side with a leader line."""
    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    dx = -1 if at[0] > cx else 1
    dy = -1 if at[1] > cy else 1
    ax.annotate(
        text,
        xy=at,
        xytext=(dx * 28, dy * 22),
        textcoords="offset points",
        ha="left" if dx > 0 else "right",
        va="bottom" if dy > 0 else "top",
        fontsize=size,
        fontweight="bold",
        bbox={"boxstyle": "round,pad=0.3", "facecolor": "white", "edgecolor": "black", "linewidth": 0.6},
        arrowprops={"arrowstyle": "-", "color": "black", "linewidth": 0.8},
        zorder=11,
    )


def _end_labels(ax, px: np.ndarray, py: np.ndarray, names: list[str], size: float, box: tuple) -> None:
    """The first and last stops named (one label for a loop), each turned towards the map's inside."""
    if not len(px):
        return
    x0, y0, x1, y1 = box
    ends = [(0, "Start: ")] if names[0] == names[-1] or len(px) < 2 else [(0, "Start: "), (len(px) - 1, "End: ")]
    for k, prefix in ends:
        right = px[k] < (x0 + x1) / 2
        ax.scatter(
            [px[k]],
            [py[k]],
            s=size * 9,
            facecolors="white" if prefix == "Start: " else "black",
            edgecolors="black",
            linewidths=1.2,
            zorder=10,
        )
        ax.annotate(
            wrap(prefix + names[k], 1.3 * size / 6.3, 3, size=size, weight="bold"),
            xy=(px[k], py[k]),
            xytext=(6 if right else -6, 0),
            textcoords="offset points",
            ha="left" if right else "right",
            va="center",
            fontsize=size,
            fontweight="bold",
            path_effects=_halo(),
            zorder=10,
        )


def _area_names(ax, stops: pd.DataFrame, row: pd.Series, crs, areas, size: float, box: tuple) -> None:
    """The neighbourhoods at the ends of the cited stretch, named in italics where they lie."""
    if areas is None:
        return
    from ..areas.dataset import as_areas

    frame = as_areas(areas).frame
    if "area_name" not in frame:
        return
    wanted = [row.get("lead_from_area"), row.get("lead_to_area")]
    wanted = [str(a) for a in wanted if words.known(a) and str(a)]
    if not wanted:
        return
    g = gpd.GeoDataFrame(frame[frame["area_id"].astype(str).isin(wanted)], geometry="geometry", crs="EPSG:4326").to_crs(
        crs
    )
    for _, a in g.iterrows():
        p = a.geometry.representative_point()
        name = display_name(a.get("area_name"))
        if name and _inside(p.x, p.y, box):
            ax.text(
                p.x,
                p.y,
                wrap(name, 1.1 * size / 6, 3, size=size),
                fontsize=size,
                style="italic",
                ha="center",
                va="center",
                color="0.1",
                path_effects=_halo(2.5),
                zorder=9,
            )


def _colour_bar(fig: Figure, scale: Scale, stops: pd.DataFrame, rect: tuple, size: float) -> None:
    """The palette from ``vmin`` to ``vmax`` with its reference ▲ (named under it), the route's span over it.

    ``rect`` is the bar's place in figure fractions.
    """
    left, bottom, width, height = rect
    bar = fig.add_axes(rect)
    bar.imshow(np.linspace(0, 1, 256)[None, :], aspect="auto", cmap=LIFE, extent=(scale.vmin, scale.vmax, 0, 1))
    bar.set_yticks([])
    lo_mark, hi_mark = ("\u2264 ", "\u2265 ") if scale.clipped else ("", "")
    bar.set_xticks(
        [scale.vmin, scale.reference, scale.vmax],
        [f"{lo_mark}{fmt(scale.vmin)}", f"\u25b2 {fmt(scale.reference)}", f"{hi_mark}{fmt(scale.vmax)}"],
        fontsize=size,
    )
    bar.tick_params(length=2, pad=1.5)
    ticks = bar.get_xticklabels()
    ticks[0].set_horizontalalignment("left")
    ticks[-1].set_horizontalalignment("right")
    for spine in bar.spines.values():
        spine.set_linewidth(0.4)
    le = stops["le"].to_numpy(float)
    if np.isfinite(le).any():
        a, b = np.clip([np.nanmin(le), np.nanmax(le)], scale.vmin, scale.vmax)
        bar.plot([a, b], [1.25, 1.25], color="black", linewidth=1.4, clip_on=False, solid_capstyle="butt")
    if scale.reference_label:
        fig.text(
            left,
            bottom - 2.3 * size / 72 / fig.get_figheight(),
            f"\u25b2 {plain(scale.reference_label)}",
            fontsize=size,
            va="top",
            ha="left",
            color="0.25",
        )


def _legend_entries(stops: pd.DataFrame, st, names: list[str], row: pd.Series, voice: Voice) -> list[tuple]:
    """The print map's keys: a drawing function and its words, only for what is drawn."""
    entries: list[tuple] = []

    def route_key(a, lw):
        a.plot([0.05, 0.95], [0.5, 0.5], color="white", linewidth=lw * 2.6)
        a.plot([0.05, 0.95], [0.5, 0.5], color="black", linewidth=lw)
        a.scatter(
            [0.5], [0.5], s=(lw * 1.6) ** 2, facecolors="white", edgecolors="black", linewidths=lw * 0.35, zorder=3
        )

    entries.append((route_key, "the route and its stops; the line over the colours spans its life expectancy"))
    if st is not None:

        def stretch_key(a, lw):
            a.plot([0.05, 0.95], [0.5, 0.5], color="black", linewidth=lw * 3.2, solid_capstyle="butt")

        what = st.note(names, row, voice)
        entries.append((stretch_key, what[0].lower() + what[1:]))
    if "area_doubt" in stops and stops["area_doubt"].fillna("").astype(str).str.strip().ne("").any():

        def doubt_key(a, lw):
            from matplotlib.patches import Rectangle

            a.add_patch(
                Rectangle((0.2, 0.0), 0.6, 1.0, facecolor="#7a7a7a", edgecolor="black", hatch="////", linewidth=0.5)
            )

        kinds = sorted({str(v) for v in stops["area_doubt"].dropna() if str(v).strip()})
        entries.append((doubt_key, words.doubt_key(kinds).replace("(hollow)", "(hatched area, ringed stop)")))
    return entries


def print_alt_text(stops: pd.DataFrame, row: pd.Series, st, names: list[str], labels, voice: Voice) -> str:
    """One paragraph describing the print map (the route map's words, as a static map)."""
    detail = ", ".join(p for p in (labels.sex, labels.period) if p)
    what = "life expectancy at birth" + (f" ({detail})" if detail else "")
    highlight = None if st is None else (st.start, st.end, plain(st.label), st.cited, st.change)
    text = words.route_alt_text(
        names,
        stops["le"].to_numpy(float).tolist(),
        stops["dist_m"].to_numpy(float).tolist(),
        f"route {display_name(row['route_name'])}",
        what,
        row.to_dict(),
        highlight,
        words.credit_line(labels),
        voice,
    )
    return text.replace("Map of ", "Static map of ", 1)


def save_print_map(fig: Figure, path: str | Path) -> Path:
    """Save a print map atomically and deterministically: ``.png`` (web), ``.svg`` or ``.pdf`` (print).

    SVG keeps its text as text a print desk can edit (``svg.fonttype: none``); the PDF, for
    printing as it is, embeds its glyphs as Type 3 (five times faster to write than Type 42).

    Raises
    ------
    ChartError
        If the suffix is not ``.png``, ``.svg`` or ``.pdf``.
    """
    import matplotlib

    path = Path(path)
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise ChartError(f"cannot save a map as {path.name!r}: use a .png, .svg or .pdf file name")
    buf = io.BytesIO()
    metadata = (
        {"Date": None}
        if kind == "svg"
        else {"CreationDate": None, "Producer": None}
        if kind == "pdf"
        else {"Software": None}
    )
    with matplotlib.rc_context(
        {"svg.hashsalt": HASHSALT, "svg.fonttype": "none", "pdf.fonttype": 3, "hatch.linewidth": 0.6}
    ):
        fig.savefig(buf, format=kind, dpi=getattr(fig, "gradient_dpi", 300), metadata=metadata)
    return write_atomic(path, buf.getvalue())
