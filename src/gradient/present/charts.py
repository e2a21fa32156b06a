"""Stop-by-stop profile charts of life expectancy along a pattern (matplotlib), for web, print and phones.

Two layouts, one look. The landscape chart (web and print, PNG and SVG) runs along the
route from left to right; the phone chart (:func:`phone_chart`) runs down the page, so
every named stop's full name reads across it and the second measure stands beside life
expectancy. Both: the interval as a light grey band, stops as dots in the maps' one
palette (:data:`gradient.present.colours.LIFE`, darker is lower, so it reads in greyscale
too), stops whose estimate is in doubt hollow, the stretch the printed sentence cites (else
the biggest stop-to-stop fall, :func:`gradient.present.story.stretch`) shaded and drawn
thick with its label, the maps' reference dotted, and a gap where stops are far apart (no
step drawn where no stop is). Every phrase comes from :mod:`gradient.story.words`; each
chart's alt text is its ``alt_text``.

:func:`save_figure` writes deterministic files (the same figure gives the same bytes) and
keeps SVG text as text (``svg.fonttype: none``) so a print desk can edit a name.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path
from typing import Any, Callable, Literal, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .._files import write_atomic
from ..errors import ChartError
from ..story import words
from ..story.words import Voice
from .colours import Scale
from .page import fmt, plain
from .story import Stretch, stop_names, stretch

HASHSALT = "gradient"
"""Fixed salt for the ids matplotlib writes into SVG files, so two runs match."""

FORMATS = {".png": "png", ".svg": "svg"}

LANDSCAPE: dict[str, Any] = {
    "size": (10.0, 6.0),
    "dpi": 150,
    "title": 12,
    "subtitle": 9,
    "ticks": 7.5,
    "axis": 10,
    "legend": 8,
    "source": 7.5,
    "note": 8.5,
    "labels": 14,
    "name": 28,
    "ncols": 2,
    "rotation": 50,
}
"""The web and print chart: 10 x 6 inches, 1500 x 900 px at 150 dpi."""

Panel = Callable[[object, pd.DataFrame], None]
"""A function drawing one more panel under the profile: ``panel(ax, stops)``, x in km (a hook for
a second measure such as deprivation; the axes share the profile's x axis)."""


def text(value: object, max_len: int | None = None) -> str:
    r"""Feed text made safe for matplotlib: one line, ``$`` not read as mathtext, shortened.

    Examples
    --------
    >>> text("Fare $1 & $2 <stop>")
    'Fare \\$1 & \\$2 <stop>'
    >>> text("Westfield Brandon Mall Transfer Center", 20)
    'Westfield Brandon M…'
    """
    s = plain(value)
    if max_len and len(s) > max_len:
        s = s[: max_len - 1].rstrip() + "\u2026"
    return s.replace("$", r"\$")


def wrap(value: object, width: float, max_lines: int = 3, size: float | None = None, weight: str = "normal") -> str:
    r""":func:`text` wrapped into lines no wider than ``width`` (the last one shortened if need be).

    ``width`` is in characters, or in inches when ``size`` (points) is given: then each
    line is measured in the default font (DejaVu Sans), so it fits whatever its letters.
    Each distinct character is measured once and a line's width is the sum of its
    characters' (2% kept in hand for kerning), so wrapping takes time in proportion to the
    text's length, however long a feed's names are.

    Examples
    --------
    >>> wrap("Sources: CDC/NCHS USALEEP 2010-2015; HART GTFS 2018", 24)
    'Sources: CDC/NCHS\nUSALEEP 2010-2015; HART\nGTFS 2018'
    """
    words = plain(value).split(" ")
    widths = _char_widths(size, weight)
    limit = width if size is None else width * 72 * 0.98

    def measure(s: str) -> float:
        return float(len(s)) if widths is None else sum(widths(ch) for ch in s)

    space, ellipsis = measure(" "), measure("\u2026")
    lines: list[list] = []  # [text, width]
    for word in _pieces(words, measure, limit):
        w = measure(word)
        if lines and lines[-1][1] + space + w <= limit:
            lines[-1][0] += " " + word
            lines[-1][1] += space + w
        else:
            lines.append([word, w])
    out = [line[0] for line in lines]
    if len(out) > max_lines:
        last = " ".join(out[max_lines - 1 :])
        used, cut = ellipsis, 0
        for k, ch in enumerate(last):  # the longest start that fits with its ellipsis
            used += measure(ch)
            if used > limit:
                break
            cut = k + 1
        out = out[: max_lines - 1] + [last[: max(cut, 1)].rstrip() + "\u2026"]
    return "\n".join(text(line) for line in out)


def _pieces(words: list[str], measure: Callable[[str], float], limit: float) -> list[str]:
    """The words, each too wide for a line cut into pieces that fit (a feed's name may have no spaces)."""
    out: list[str] = []
    for word in words:
        if measure(word) <= limit:
            out.append(word)
            continue
        piece, used = "", 0.0
        for ch in word:
            w = measure(ch)
            if piece and used + w > limit:
                out.append(piece)
                piece, used = "", 0.0
            piece += ch
            used += w
        out.append(piece)
    return out


def _char_widths(size: float | None, weight: str) -> Callable[[str], float] | None:
    """Width in points of one character in DejaVu Sans at ``size`` (cached), or None to count characters."""
    if size is None:
        return None
    return _char_width_of(float(size), weight)


@functools.lru_cache(maxsize=32)
def _char_width_of(size: float, weight: str) -> Callable[[str], float]:
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    prop, ttp = FontProperties(size=size, weight=weight), TextToPath()

    @functools.lru_cache(maxsize=4096)
    def width(ch: str) -> float:
        if ch == " ":  # a space alone measures 0: take it from between two letters
            return ttp.get_text_width_height_descent("a a", prop, ismath=False)[0] - 2 * width("a")
        return float(ttp.get_text_width_height_descent(ch, prop, ismath=False)[0])

    return width


def thin_labels(km: np.ndarray, max_labels: int, keep: tuple[int, ...] = ()) -> np.ndarray:
    """Indices of stops to name along the axis: spread out so their labels never crowd.

    The first and last stops and ``keep`` come first; then stops nearest to evenly
    spaced targets, each only if it is at least ``span / (max_labels + 2)`` from every
    label already chosen. Clusters of close stops therefore get one label, not a smear.

    Examples
    --------
    >>> thin_labels(np.array([0.0, 0.1, 0.2, 5.0, 10.0]), 5).tolist()
    [0, 3, 4]
    """
    n = len(km)
    if n == 0:
        return np.arange(0)
    span = float(km[-1] - km[0]) or 1.0
    gap = span / (max_labels + 2)
    chosen: list[int] = []
    for i in [0, n - 1, *keep, *np.searchsorted(km, np.linspace(km[0], km[-1], max_labels * 3))]:
        i = int(min(max(i, 0), n - 1))
        if len(chosen) < max_labels and all(abs(km[i] - km[j]) >= gap for j in chosen):
            chosen.append(i)
    return np.array(sorted(chosen), dtype=int)


def _doubtful(stops: pd.DataFrame) -> np.ndarray:
    if "area_doubt" not in stops:
        return np.zeros(len(stops), dtype=bool)
    d = stops["area_doubt"]
    return (d.notna() & d.astype(str).str.strip().ne("") & d.astype(str).ne("<NA>")).to_numpy()


def _steps(km: np.ndarray, values: np.ndarray, gap_km: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A stop-by-stop step line (each stop's value held to halfway to its neighbours), broken at gaps.

    Returns ``(along, value)`` of the steps (NaN breaks the line at a gap or a missing value)
    and ``(along, value)`` of dotted joins across the gaps. Where two stops are more than
    ``gap_km`` apart each holds its value only ``gap_km / 4`` towards the other: no step is
    drawn where there is no stop.
    """
    n = len(km)
    if n == 0:
        return np.empty(0), np.empty(0), np.empty(0), np.empty(0)
    d = np.diff(km)
    half = np.where(d > gap_km, gap_km / 4, d / 2)
    lo = np.r_[km[0], km[1:] - half]
    hi = np.r_[km[:-1] + half, km[-1]]
    along, value = [], []
    for i in range(n):
        along += [lo[i], hi[i]]
        value += [values[i], values[i]]
        if i < n - 1 and d[i] > gap_km:
            along.append(np.nan)
            value.append(np.nan)
    join_a, join_v = [], []
    for i in np.flatnonzero(d > gap_km).tolist():
        if np.isfinite(values[i]) and np.isfinite(values[i + 1]):
            join_a += [hi[i], lo[i + 1], np.nan]
            join_v += [values[i], values[i + 1], np.nan]
    return np.asarray(along), np.asarray(value), np.asarray(join_a), np.asarray(join_v)


def _kinds(stops: pd.DataFrame) -> list[str]:
    return sorted({str(v) for v in stops.loc[_doubtful(stops), "area_doubt"]}) if "area_doubt" in stops else []


def _colours(le: np.ndarray, scale: Scale | None) -> list:
    from .colours import MISSING_COLOUR

    scale = scale or Scale.around(le)
    return [MISSING_COLOUR if not np.isfinite(v) else c for v, c in zip(le, scale.colours(le))]


def profile_chart(
    stops: pd.DataFrame,
    *,
    title: str = "",
    subtitle: str = "",
    source: str = "",
    reference: float | None = None,
    reference_label: str = "",
    max_labels: int | None = None,
    pyplot: bool = True,
    pattern: pd.Series | None = None,
    portrait: bool = False,
    panels: Sequence[Panel] = (),
    voice: Voice | None = None,
    scale: Scale | None = None,
    context_name: str = "",
) -> Figure:
    """Draw life expectancy stop by stop with each estimate's interval as a band.

    Parameters
    ----------
    stops : pandas.DataFrame
        One pattern's rows of ``stops.csv`` (``stop_sequence``, ``stop_name``, ``dist_m``,
        ``le``, ``le_se``); ``area_doubt`` marks stops whose estimate is in doubt (drawn
        hollow) and ``context`` a second measure, when present.
    title : str
        Figure title (the finding: the pattern's ``takeaway``, or the route and its ends).
    subtitle : str
        What is shown: route, measure, sex and period, printed under the title.
    source : str
        Source line, printed at the foot of the figure.
    reference, reference_label : float and str, optional
        A dotted line at the maps' reference and its label, e.g. the network median.
    max_labels : int, optional
        Most stop names written along the distance axis (landscape; spread out, see
        :func:`thin_labels`); default 14. The phone chart names as many as fit.
    pyplot : bool, default True
        Make the figure with pyplot, so that Jupyter shows it inline; ``False`` makes a
        bare :class:`~matplotlib.figure.Figure` that no backend or figure manager
        holds (for writing files in a loop).
    pattern : pandas.Series, optional
        The pattern's row of ``patterns.csv``: the stretch its sentence cites is
        highlighted (:func:`gradient.present.story.stretch`); without it, the biggest
        stop-to-stop fall.
    portrait : bool, default False
        The phone chart (:func:`phone_chart`): distance runs down the page, names across.
    panels : sequence of callables, optional
        Extra panels under the landscape profile, each drawn by ``panel(ax, stops)`` on an
        axes sharing the profile's x axis (km from the first stop).
    voice : Voice, optional
        The run's level and names (:class:`gradient.story.words.Voice`).
    scale : Scale, optional
        The maps' colour scale: stops take its colours (:data:`gradient.present.colours.LIFE`).
    context_name : str
        The second measure's name with its direction (``context`` column), for the phone
        chart's second panel.

    Returns
    -------
    matplotlib.figure.Figure
        Save it with :func:`save_figure` (at its ``gradient_dpi``: 150, or 300 for phones);
        its ``alt_text`` attribute describes it (:func:`gradient.story.words.chart_alt_text`).
    """
    if portrait:
        return phone_chart(
            stops,
            title=title,
            subtitle=subtitle,
            source=source,
            reference=reference,
            reference_label=reference_label,
            pyplot=pyplot,
            pattern=pattern,
            voice=voice,
            scale=scale,
            context_name=context_name,
        )
    voice = voice or Voice()
    z = words.z_of(voice)
    s = stops.sort_values("stop_sequence", kind="stable")
    km = s["dist_m"].to_numpy(float) / 1000.0
    le = s["le"].to_numpy(float)
    se = s["le_se"].to_numpy(float)
    names = stop_names(s)
    look = LANDSCAPE
    gap_km = words.GAP_M / 1000.0
    full = look["size"][0] * 0.93  # inches a title may take (measured widths run a few % short)
    inner = look["size"][0] * 0.84  # inches from the plot's left edge to the figure's

    fig = _figure(look["size"], pyplot)
    tag(fig, dpi=look["dpi"])
    # legend and source sit in two flat axes under the plot: whatever height they take, the
    # constrained layout makes room for it (their text overflows the axes as decorations)
    ratios = [1.0] + [0.35] * len(panels) + [0.001, 0.001]
    axes = fig.subplots(len(ratios), 1, height_ratios=ratios, squeeze=False)[:, 0]
    ax, key, foot = axes[0], axes[-2], axes[-1]
    key.axis("off")
    foot.axis("off")
    along, band_lo, _, _ = _steps(km, le - z * se, gap_km)
    _, band_hi, _, _ = _steps(km, le + z * se, gap_km)
    if np.isfinite(se).any():
        ax.fill_between(along, band_lo, band_hi, color="0.85", linewidth=0, label=words.band_label(voice))
    along, value, join_a, join_v = _steps(km, le, gap_km)
    ax.plot(along, value, color="black", linewidth=1.3, solid_capstyle="butt")
    if len(join_a):
        ax.plot(join_a, join_v, color="0.35", linewidth=1.0, linestyle=":", label=words.gap_key(gap_km))
    _dots(ax, km, le, s, scale, 3.6, horizontal=True)
    if reference is not None and np.isfinite(reference):
        ax.axhline(
            reference,
            color="0.3",
            linestyle=":",
            linewidth=1.2,
            label=text(words.reference_key(reference, reference_label)),
        )
    st = stretch(s, pattern, voice)
    if st is not None:
        i, j = st.start, st.end
        what = st.note(names, pattern, voice)  # the fallback says whether its fall can be told apart from noise
        ax.axvspan(km[i], km[j], color="0.92", zorder=0)
        ax.plot(
            km[i : j + 1],
            le[i : j + 1],
            linestyle=(0, (3, 1.5)),
            color="0.1",
            linewidth=3.2,
            label=what[0].lower() + what[1:],
        )
    idx = thin_labels(km, max_labels or look["labels"])
    ax.set_xticks(
        km[idx],
        [wrap(names[k], 1.5, max_lines=8, size=look["ticks"]) for k in idx],
        rotation=look["rotation"],
        ha="right",
        rotation_mode="anchor",
        fontsize=look["ticks"],
    )
    ax.tick_params(axis="y", labelsize=look["ticks"] + 1)
    sec = ax.secondary_xaxis("top")
    sec.set_xlabel(words.KM_AXIS, fontsize=look["ticks"] + 1)
    sec.tick_params(labelsize=look["ticks"] + 0.5)
    ax.set_ylabel(words.LE_AXIS, fontsize=look["axis"])
    ax.grid(axis="y", color="0.9")
    pad = 0.01 * (km[-1] - km[0] or 1)
    ax.set_xlim(km[0] - pad, km[-1] + pad)
    drop_told = pattern is not None and words.flag(pattern.get("max_drop_significant"))
    if st is not None and (st.cited or drop_told):
        # an unsupported fall gets no number on the plot: the legend says it is within the margins of error
        _label_stretch(ax, km, le, st.start, st.end, st.label if st.cited else f"{fmt(st.change)} years", look["note"])
    for panel, pax in zip(panels, axes[1:-2]):
        pax.sharex(ax)
        panel(pax, s)
    handles, labels = ax.get_legend_handles_labels()
    # the order a reader takes it in: the band, the stops, doubts and gaps, the reference, the stretch
    first = [words.band_label(voice), words.dots_key()]
    rank = {label: k for k, label in enumerate(first)}
    order = sorted(range(len(labels)), key=lambda k: (rank.get(labels[k], 2), k if labels[k] not in rank else 0))
    handles, labels = [handles[k] for k in order], [labels[k] for k in order]
    ncols = look["ncols"]
    labels = [
        wrap(label, inner / ncols - 3 * look["legend"] / 72, max_lines=6, size=look["legend"]) for label in labels
    ]
    key.legend(
        handles,
        labels,
        loc="upper left",
        bbox_to_anchor=(0, 1),
        ncols=ncols,
        fontsize=look["legend"],
        frameon=False,
        borderaxespad=0,
    )
    fig.suptitle(
        wrap(title, full, 2, size=look["title"], weight="bold"),
        fontsize=look["title"],
        x=0.01,
        ha="left",
        fontweight="bold",
    )
    if subtitle:
        ax.set_title(
            wrap(subtitle, inner, size=look["subtitle"]),
            fontsize=look["subtitle"],
            loc="left",
            color="0.2",
            pad=look["ticks"] * 3.4,
        )
    if source:
        foot.text(
            0,
            1,
            wrap(source, inner, max_lines=10, size=look["source"]),
            fontsize=look["source"],
            color="0.3",
            ha="left",
            va="top",
            transform=foot.transAxes,
        )
    return fig


def _dots(
    ax, along: np.ndarray, le: np.ndarray, stops: pd.DataFrame, scale: Scale | None, size: float, horizontal: bool
) -> None:
    """Each stop as a dot in the maps' colours (hollow where in doubt, a cross where unknown), labelled once."""
    doubt = _doubtful(stops)
    colours = _colours(le, scale)
    ok = np.isfinite(le) & ~doubt
    xy = (lambda a, v: (a, v)) if horizontal else (lambda a, v: (v, a))
    if ok.any():
        x, y = xy(along[ok], le[ok])
        ax.scatter(
            x,
            y,
            s=size**2,
            c=[colours[k] for k in np.flatnonzero(ok)],
            edgecolors="0.1",
            linewidths=0.6,
            zorder=4,
            label=words.dots_key(),
        )
    hollow = np.isfinite(le) & doubt
    if hollow.any():
        x, y = xy(along[hollow], le[hollow])
        ax.scatter(
            x,
            y,
            s=(size * 1.7) ** 2,
            facecolors="white",
            edgecolors="black",
            linewidths=1.1,
            zorder=5,
            label=words.doubt_key(_kinds(stops)),
        )
    missing = ~np.isfinite(le)
    if missing.any():
        if horizontal:
            ax.plot(
                along[missing],
                np.full(missing.sum(), 0.03),
                "x",
                color="0.4",
                markersize=size * 1.3,
                markeredgewidth=1,
                transform=ax.get_xaxis_transform(),
                label=words.missing_key(),
            )
        else:
            ax.plot(
                np.full(missing.sum(), 0.03),
                along[missing],
                "x",
                color="0.4",
                markersize=size * 1.3,
                markeredgewidth=1,
                transform=ax.get_yaxis_transform(),
                label=words.missing_key(),
            )


PHONE: dict[str, Any] = {
    "width": 3.6,
    "dpi": 300,
    "margin": 0.14,
    "title": 12.5,
    "subtitle": 8.5,
    "names": 7.8,
    "ticks": 7.8,
    "legend": 8.0,
    "source": 7.2,
    "note": 8.5,
    "names_w": 1.2,
    "context_w": 0.78,
}
"""The phone chart: 3.6 inches (1080 px at 300 dpi) wide, as tall as it needs. Shown 390 px
wide on a phone, a point is 1.5 px there: names and ticks about 12 px, the title about 19 px."""


def _lines(block: str) -> int:
    return block.count("\n") + 1 if block else 0


def phone_chart(
    stops: pd.DataFrame,
    *,
    title: str = "",
    subtitle: str = "",
    source: str = "",
    reference: float | None = None,
    reference_label: str = "",
    pyplot: bool = True,
    pattern: pd.Series | None = None,
    voice: Voice | None = None,
    scale: Scale | None = None,
    context_name: str = "",
) -> Figure:
    """The phone chart: distance runs down the page, stop names across it in full, both measures side by side.

    A route read on a phone is a strip: the first stop at the top, the last at the bottom,
    each named stop's full name (wrapped, never cut) on the left at its place, life
    expectancy with its interval in the middle and, where the run has one, the second
    measure on the right, its direction in its heading. The stretch the sentence cites is a
    shaded band across both panels, its change written beside it; the title is the finding;
    the legend and the credit say everything in words that stand on paper. Every size is
    in :data:`PHONE`; the figure is as tall as its text needs. Parameters as for
    :func:`profile_chart`.
    """
    voice = voice or Voice()
    z = words.z_of(voice)
    look = PHONE
    s = stops.sort_values("stop_sequence", kind="stable").reset_index(drop=True)
    km = s["dist_m"].to_numpy(float) / 1000.0
    le = s["le"].to_numpy(float)
    se = s["le_se"].to_numpy(float)
    names = stop_names(s)
    gap_km = words.GAP_M / 1000.0
    has_context = bool(context_name) and "context" in s and np.isfinite(s["context"].to_numpy(float)).any()
    W, m = look["width"], look["margin"]
    content = W - 2 * m
    line = 1.25 / 72  # inches per point of type, one line

    title_t = wrap(title, content, 8, size=look["title"], weight="bold") if title else ""
    sub_t = wrap(subtitle, content, 6, size=look["subtitle"]) if subtitle else ""
    left = m + look["names_w"] + 0.1
    right_axis = 0.3  # km ticks on the right
    ctx_w = look["context_w"] if has_context else 0.0
    gutter = 0.12 if has_context else 0.0
    le_w = W - m - right_axis - left - ctx_w - gutter
    le_head = wrap(words.LE_SHORT, le_w, 4, size=look["ticks"], weight="bold")
    ctx_head = wrap(context_name, ctx_w + right_axis * 0.6, 5, size=look["ticks"], weight="bold") if has_context else ""
    plot_h = float(np.clip(0.085 * len(s), 3.2, 6.0))

    st = stretch(s, pattern, voice)
    entries = _phone_legend(s, le, se, st, names, pattern, voice, reference, reference_label, km, gap_km)
    key_w = content - 0.42
    key_t = [wrap(label, key_w, 8, size=look["legend"]) for _, label in entries]
    src_t = wrap(source, content, 12, size=look["source"]) if source else ""

    y = 0.12
    heights = {}
    heights["title"] = _lines(title_t) * look["title"] * line
    heights["sub"] = _lines(sub_t) * look["subtitle"] * line
    heights["head"] = max(_lines(le_head), _lines(ctx_head)) * look["ticks"] * line
    heights["ticks"] = look["ticks"] * line + 0.06
    heights["key"] = sum(max(_lines(t), 1) * look["legend"] * line + 0.07 for t in key_t)
    heights["src"] = _lines(src_t) * look["source"] * line
    H = y + heights["title"] + 0.08 + heights["sub"] + 0.16 + heights["head"] + 0.04 + heights["ticks"]
    plot_top = H
    H += plot_h + 0.22 + heights["key"] + 0.1 + heights["src"] + 0.12

    fig = _figure((W, H), pyplot, constrained=False)
    tag(fig, dpi=look["dpi"])
    fx = lambda inches: inches / W  # noqa: E731
    fy = lambda inches: 1 - inches / H  # noqa: E731
    if title_t:
        fig.text(
            fx(m), fy(y), title_t, fontsize=look["title"], fontweight="bold", va="top", ha="left", linespacing=1.15
        )
    y += heights["title"] + 0.08
    if sub_t:
        fig.text(fx(m), fy(y), sub_t, fontsize=look["subtitle"], color="0.2", va="top", ha="left", linespacing=1.15)
    y += heights["sub"] + 0.16
    fig.text(fx(left), fy(y), le_head, fontsize=look["ticks"], fontweight="bold", va="top", ha="left", linespacing=1.1)
    if has_context:
        fig.text(
            fx(left + le_w + gutter),
            fy(y),
            ctx_head,
            fontsize=look["ticks"],
            fontweight="bold",
            va="top",
            ha="left",
            linespacing=1.1,
        )

    ax = fig.add_axes((fx(left), fy(plot_top + plot_h), fx(le_w), plot_h / H))
    span = (km[-1] - km[0]) or 1.0
    top_km, bottom_km = km[0] - 0.02 * span, km[-1] + 0.02 * span
    if st is not None:
        ax.axhspan(km[st.start], km[st.end], color="0.88", zorder=0, linewidth=0)
    along, lo_v, _, _ = _steps(km, le - z * se, gap_km)
    _, hi_v, _, _ = _steps(km, le + z * se, gap_km)
    if np.isfinite(se).any():
        ax.fill_betweenx(along, lo_v, hi_v, color="0.8", linewidth=0, zorder=1)
    along, value, join_a, join_v = _steps(km, le, gap_km)
    ax.plot(value, along, color="black", linewidth=1.0, zorder=2)
    if len(join_a):
        ax.plot(join_v, join_a, color="0.35", linewidth=0.9, linestyle=":", zorder=2)
    _dots(ax, km, le, s, scale, 3.4, horizontal=False)
    if reference is not None and np.isfinite(reference):
        ax.axvline(reference, color="0.3", linestyle=":", linewidth=1.1, zorder=1)
    if st is not None:
        i, j = st.start, st.end
        ax.plot(le[i : j + 1], km[i : j + 1], color="0.05", linewidth=2.6, zorder=3, solid_capstyle="butt")
    ax.set_ylim(bottom_km, top_km)
    ax.xaxis.tick_top()
    ax.tick_params(axis="x", labelsize=look["ticks"], length=2.5, pad=1.5)
    ax.set_yticks(km[_name_rows(km, names, plot_h, top_km, bottom_km, look, st)])
    ax.tick_params(axis="y", labelleft=False, length=3, color="0.5")
    ax.grid(axis="x", color="0.92", zorder=0)
    for spine in ("right", "bottom"):
        ax.spines[spine].set_visible(False)
    for k in _name_rows(km, names, plot_h, top_km, bottom_km, look, st):
        ax.annotate(
            wrap(
                names[k],
                look["names_w"],
                6,
                size=look["names"],
                weight="bold" if st is not None and k in (st.start, st.end) else "normal",
            ),
            xy=(0, km[k]),
            xycoords=("axes fraction", "data"),
            xytext=(-5, 0),
            textcoords="offset points",
            ha="right",
            va="center",
            fontsize=look["names"],
            fontweight="bold" if st is not None and k in (st.start, st.end) else "normal",
            linespacing=1.1,
            annotation_clip=False,
        )
    last = ax
    if has_context:
        cx = fig.add_axes((fx(left + le_w + gutter), fy(plot_top + plot_h), fx(ctx_w), plot_h / H), sharey=ax)
        ctx = s["context"].to_numpy(float)
        if st is not None:
            cx.axhspan(km[st.start], km[st.end], color="0.88", zorder=0, linewidth=0)
        along, value, join_a, join_v = _steps(km, ctx, gap_km)
        cx.plot(value, along, color="0.3", linewidth=1.0)
        if len(join_a):
            cx.plot(join_v, join_a, color="0.35", linewidth=0.9, linestyle=":")
        cx.plot(ctx, km, "o", color="0.3", markersize=2.2)
        cx.xaxis.tick_top()
        cx.xaxis.set_major_locator(_few_ticks())
        cx.tick_params(axis="x", labelsize=look["ticks"], length=2.5, pad=1.5)
        cx.tick_params(axis="y", left=False, labelleft=False)
        cx.grid(axis="x", color="0.92")
        for spine in ("right", "bottom"):
            cx.spines[spine].set_visible(False)
        last = cx
    ax.xaxis.set_major_locator(_few_ticks())
    km_ax = last.secondary_yaxis("right")
    km_ax.tick_params(labelsize=look["ticks"] - 0.6, length=2.5, pad=1.5, colors="0.3")
    km_ax.set_ylabel(words.KM_AXIS, fontsize=look["ticks"] - 0.6, color="0.3", labelpad=2)
    if st is not None and (st.cited or (pattern is not None and words.flag(pattern.get("max_drop_significant")))):
        mid = (km[st.start] + km[st.end]) / 2
        part = le[st.start : st.end + 1][np.isfinite(le[st.start : st.end + 1])]
        xlo, xhi = ax.get_xlim()
        on_left = len(part) > 0 and (part.min() - xlo) > (xhi - part.max())  # the side with more room
        note = ax.annotate(
            f"{fmt(st.change)} years",  # the legend says over what and where
            xy=(0 if on_left else 1, mid),
            xycoords=("axes fraction", "data"),
            xytext=(3 if on_left else -3, 0),
            textcoords="offset points",
            ha="left" if on_left else "right",
            va="center",
            fontsize=look["note"],
            fontweight="bold",
            bbox={"boxstyle": "round,pad=0.25", "facecolor": "white", "edgecolor": "0.2", "linewidth": 0.6},
            zorder=6,
        )
        note.set_in_layout(False)

    y = plot_top + plot_h + 0.22
    for (handle, _), label in zip(entries, key_t):
        h = max(_lines(label), 1) * look["legend"] * line
        kx = fig.add_axes((fx(m), fy(y + min(h, look["legend"] * line)), fx(0.34), look["legend"] * line / H))
        kx.set_axis_off()
        kx.set_xlim(0, 1)
        kx.set_ylim(0, 1)
        handle(kx)
        fig.text(fx(m + 0.42), fy(y), label, fontsize=look["legend"], va="top", ha="left", linespacing=1.15)
        y += h + 0.07
    y += 0.1
    if src_t:
        fig.text(fx(m), fy(y), src_t, fontsize=look["source"], color="0.3", va="top", ha="left", linespacing=1.15)
    return fig


def _few_ticks():
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(nbins=3, steps=[1, 2, 5, 10])


def _name_rows(
    km: np.ndarray, names: list[str], plot_h: float, top: float, bottom: float, look: dict, st: Stretch | None
) -> np.ndarray:
    """Stops named on the phone chart: ends and the stretch's ends first, then spread out, never overlapping.

    Each name is wrapped to the names column in full; a stop is named only where its whole
    label fits between the labels already placed.
    """
    n = len(km)
    if n == 0:
        return np.arange(0)
    per_km = plot_h / ((bottom - top) or 1.0)
    line = look["names"] * 1.1 / 72
    heights = [(_lines(wrap(nm, look["names_w"], 6, size=look["names"])) * line + 0.05) for nm in names]
    order = [0, n - 1]
    if st is not None:
        order += [st.start, st.end]
    order += [int(i) for i in np.searchsorted(km, np.linspace(km[0], km[-1], 40))]
    order += list(range(n))
    placed: list[tuple[float, float]] = []
    chosen: list[int] = []
    for i in order:
        i = min(max(i, 0), n - 1)
        if i in chosen:
            continue
        c = (km[i] - top) * per_km
        a, b = c - heights[i] / 2, c + heights[i] / 2
        if all(b <= pa or a >= pb for pa, pb in placed):
            placed.append((a, b))
            chosen.append(i)
    return np.array(sorted(chosen), dtype=int)


def _phone_legend(
    s, le, se, st, names, pattern, voice, reference, reference_label, km, gap_km
) -> list[tuple[Callable, str]]:
    """The phone chart's legend: (a function drawing the key's symbol, its words), only what is drawn."""
    entries: list[tuple[Callable, str]] = []
    if np.isfinite(se).any():
        entries.append(
            (lambda a: a.fill_between([0.05, 0.95], 0.2, 0.8, color="0.8", linewidth=0), words.band_label(voice))
        )
    from .colours import LIFE

    def dots(a):
        a.scatter(
            [0.2, 0.5, 0.8], [0.5] * 3, s=22, c=[LIFE(0.1), LIFE(0.5), LIFE(0.9)], edgecolors="0.1", linewidths=0.6
        )

    if np.isfinite(le).any():
        entries.append((dots, words.dots_key()))
    doubt = _doubtful(s)
    if (doubt & np.isfinite(le)).any():
        entries.append(
            (
                lambda a: a.scatter([0.5], [0.5], s=40, facecolors="white", edgecolors="black", linewidths=1.1),
                words.doubt_key(_kinds(s)),
            )
        )
    if (~np.isfinite(le)).any():
        entries.append((lambda a: a.plot([0.5], [0.5], "x", color="0.4", markersize=5), words.missing_key()))
    if len(km) > 1 and (np.diff(km) > gap_km).any():
        entries.append(
            (
                lambda a: a.plot([0.05, 0.95], [0.5, 0.5], color="0.35", linestyle=":", linewidth=1),
                words.gap_key(gap_km),
            )
        )
    if reference is not None and np.isfinite(reference):
        entries.append(
            (
                lambda a: a.plot([0.5, 0.5], [0.0, 1.0], color="0.3", linestyle=":", linewidth=1.1),
                words.reference_key(reference, reference_label),
            )
        )
    if st is not None:
        what = st.note(names, pattern, voice)

        def band(a):
            a.fill_between([0.05, 0.95], 0.0, 1.0, color="0.88", linewidth=0)
            a.plot([0.3, 0.7], [0.5, 0.5], color="0.05", linewidth=2.6)

        entries.append((band, what[0].upper() + what[1:] if what else what))
    return entries


def _label_stretch(ax, km: np.ndarray, le: np.ndarray, i: int, j: int, label: str, size: float) -> None:
    """The stretch's label above it (below it near the top), turned inwards near either end of the plot."""
    span = (km[-1] - km[0]) or 1.0
    x = (km[i] + km[j]) / 2
    part = le[i : j + 1][np.isfinite(le[i : j + 1])]
    lo, hi = ax.get_ylim()
    top, bottom = (float(part.max()), float(part.min())) if len(part) else (hi, lo)
    above = (top - lo) / ((hi - lo) or 1.0) < 0.8
    where = (x - km[0]) / span
    ha = "left" if where < 0.12 else "right" if where > 0.88 else "center"
    note = ax.annotate(
        wrap(label, 1.9, size=size, weight="bold"),
        xy=(x, top if above else bottom),
        xytext=(0, 7 if above else -7),
        textcoords="offset points",
        fontsize=size,
        fontweight="bold",
        va="bottom" if above else "top",
        ha=ha,
        bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none", "alpha": 0.85},
    )
    note.set_in_layout(False)


def tag(fig: Figure, **attrs: object) -> Figure:
    """Set what a saved figure carries beside its drawing: ``dpi`` (``gradient_dpi``) and ``alt_text``."""
    for key, value in attrs.items():
        setattr(fig, "gradient_dpi" if key == "dpi" else key, value)
    return fig


def _figure(size: tuple[float, float], pyplot: bool, constrained: bool = True) -> Figure:
    """A figure (constrained layout unless placed by hand), from pyplot (shown inline in Jupyter) or bare."""
    layout: Literal["constrained"] | None = "constrained" if constrained else None
    if pyplot:
        import matplotlib.pyplot as plt

        return plt.figure(figsize=size, layout=layout)
    return Figure(figsize=size, layout=layout)


def context_panel(name: str) -> Panel:
    """A panel drawing the second measure (``context``) stop by stop, headed by its name and direction.

    The same stops and distances as the profile above it, in grey steps (with gaps where
    the profile has them): the reader can see where the two move together; the chart does
    not say why.
    """

    def draw(ax, stops: pd.DataFrame) -> None:
        km = stops["dist_m"].to_numpy(float) / 1000.0
        values = stops["context"].to_numpy(float)
        along, value, join_a, join_v = _steps(km, values, words.GAP_M / 1000.0)
        ax.plot(along, value, color="0.35", linewidth=1.2)
        if len(join_a):
            ax.plot(join_a, join_v, color="0.35", linewidth=0.9, linestyle=":")
        ax.plot(km, values, "o", color="0.35", markersize=2.2)
        ax.set_title(wrap(name, 8.0, 2, size=8), fontsize=8, loc="left", color="0.15", pad=3)
        ax.tick_params(axis="x", labelbottom=False)
        ax.tick_params(axis="y", labelsize=7.5)
        ax.grid(axis="y", color="0.92")

    return draw


def profile(
    result,
    pattern_id: str | None = None,
    *,
    scale=None,
    pyplot: bool = True,
    portrait: bool = False,
    areas=None,
    panels: Sequence[Panel] | None = None,
) -> Figure:
    """:func:`profile_chart` of one pattern of a run, titled with its finding, sourced, its stretch highlighted.

    Parameters
    ----------
    result : gradient.Result
    pattern_id : str, optional
        Default the top-ranked pattern.
    scale : gradient.present.colours.Scale, optional
        The maps' scale (stops take its colours, its reference is a dotted line); default the
        run's :func:`~gradient.present.colours.reference_scale` (``scale_reference`` option).
    pyplot : bool, default True
        As for :func:`profile_chart`.
    portrait : bool, default False
        The phone chart (:func:`phone_chart`), with the second measure beside life expectancy.
    areas : geopandas.GeoDataFrame, optional
        The life expectancy table, for ``scale_reference='table'``.
    panels : sequence of callables, optional
        As for :func:`profile_chart`; default the second measure (:func:`context_panel`)
        where the run has one.

    Returns
    -------
    matplotlib.figure.Figure
        With ``alt_text``: one paragraph describing it (:func:`chart_alt_text`).
    """
    from .colours import reference_scale
    from .page import units_text

    row = result.pattern(pattern_id)
    voice = words.voice_of(result.options, result.labels)
    labels = result.labels
    context = getattr(labels, "context", "") if "context" in result.stops else ""
    if panels is None:
        panels = [context_panel(context)] if context and not portrait else []
    areas = areas if areas is not None else getattr(result, "areas", None)
    scale = scale or reference_scale(result.stops, getattr(result.options, "scale_reference", "areas"), areas)
    title = str(row.get("takeaway") or words.route_title(row))
    subtitle = units_text("Life expectancy at birth at each stop, years", labels.sex, labels.period)
    subtitle = f"{words.route_title(row)}. {subtitle}"
    stops = result.stops_of(row["pattern_id"])
    fig = profile_chart(
        stops,
        title=title,
        subtitle=subtitle,
        source=words.credit_line(labels),
        voice=voice,
        reference=scale.reference,
        reference_label=scale.reference_label,
        pyplot=pyplot,
        pattern=row,
        portrait=portrait,
        panels=panels,
        scale=scale,
        context_name=context,
    )
    tag(fig, alt_text=chart_alt_text(stops, row, voice, labels, context))
    return fig


def chart_alt_text(stops: pd.DataFrame, row: pd.Series | None, voice: Voice, labels, context_name: str = "") -> str:
    """One paragraph describing a pattern's profile chart (:func:`gradient.story.words.chart_alt_text`)."""
    s = stops.sort_values("stop_sequence", kind="stable")
    detail = ", ".join(p for p in (getattr(labels, "sex", ""), getattr(labels, "period", "")) if p)
    what = "life expectancy at birth" + (f" ({detail})" if detail else "")
    st = stretch(s, row, voice)
    highlight = None if st is None else (st.start, st.end, plain(st.label), st.cited, st.change)
    route = f"route {words.display_name(row['route_name'])}" if row is not None else ""
    return words.chart_alt_text(
        stop_names(s),
        s["le"].to_numpy(float).tolist(),
        s["dist_m"].to_numpy(float).tolist(),
        route,
        what,
        None if row is None else row.to_dict(),
        highlight,
        words.credit_line(labels) if labels is not None else "",
        voice,
        context_name,
        s["context"].to_numpy(float).tolist() if context_name and "context" in s else None,
    )


def save_figure(fig: Figure, path: str | Path, dpi: int | None = None) -> Path:
    """Save a figure atomically and deterministically: ``.png`` for the web, ``.svg`` for print.

    SVG keeps its text as text (``svg.fonttype: none``), so names can be edited. ``dpi``
    defaults to the figure's ``gradient_dpi`` (150, or 300 for a portrait chart), else 150.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    ChartError
        If the suffix is neither ``.png`` nor ``.svg``.
    """
    path = Path(path)
    fmt_ = FORMATS.get(path.suffix.lower())
    if fmt_ is None:
        raise ChartError(f"cannot save a chart as {path.name!r}: use a .png or .svg file name")
    buf = io.BytesIO()
    metadata = {"Date": None} if fmt_ == "svg" else {"Software": None}
    import matplotlib

    dpi = dpi or getattr(fig, "gradient_dpi", 150)
    with matplotlib.rc_context({"svg.hashsalt": HASHSALT, "svg.fonttype": "none"}):
        fig.savefig(buf, format=fmt_, dpi=dpi, metadata=metadata)
    return write_atomic(path, buf.getvalue())
