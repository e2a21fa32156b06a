"""Stop-by-stop profile charts of life expectancy along a pattern (matplotlib), for web, print and phones.

Drawn in black and greys so they read in greyscale print: the 95% interval is a
light grey band, the highlighted stretch (the one the printed sentence cites, else
the biggest stop-to-stop fall, :func:`gradient.present.story.stretch`) a thick dashed
line with its label, the reference a dotted line, stops whose estimate is in doubt
(``area_doubt``) hollow; nothing relies on colour.

Every text stays inside the figure at every route length: legend entries are wrapped
to the width they have, the stretch label turns to the side with room, and the plot
keeps the full width. :func:`save_figure` writes deterministic files (the same figure
gives the same bytes) and keeps SVG text as text (``svg.fonttype: none``) so a print
desk can edit a name. ``portrait=True`` makes the phone version (1080 x 1350 px at
150 dpi) titled with the pattern's ``takeaway``.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .._files import write_atomic
from ..errors import ChartError
from ..story import words
from ..story.words import Voice
from .page import fmt, plain
from .story import stop_names, stretch

HASHSALT = "gradient"
"""Fixed salt for the ids matplotlib writes into SVG files, so two runs match."""

FORMATS = {".png": "png", ".svg": "svg"}

LANDSCAPE = {
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

PORTRAIT = {
    "size": (3.6, 4.5),
    "dpi": 300,
    "title": 10,
    "subtitle": 7,
    "ticks": 6.5,
    "axis": 7.5,
    "legend": 6.5,
    "source": 5.8,
    "note": 7,
    "labels": 6,
    "name": 20,
    "ncols": 1,
    "rotation": 55,
}
"""The phone chart: 3.6 x 4.5 inches at 300 dpi, 1080 x 1350 px, so its type is twice as large in pixels."""

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
    for word in words:
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
) -> Figure:
    """Draw life expectancy stop by stop with each estimate's interval as a band.

    Parameters
    ----------
    stops : pandas.DataFrame
        One pattern's rows of :func:`gradient.gradient.stop_table`; ``area_doubt`` marks
        stops whose estimate is in doubt (drawn hollow) when present.
    title : str
        Figure title (e.g. route and end stops, or the takeaway on a phone).
    subtitle : str
        What is shown: measure, sex and period, printed under the title.
    source : str
        Source line, printed at the foot of the figure.
    reference, reference_label : float and str, optional
        A dotted horizontal line and its label, e.g. the network median of the maps.
    max_labels : int, optional
        Most stop names written along the distance axis (spread out, see
        :func:`thin_labels`); default 14, 6 in portrait.
    pyplot : bool, default True
        Make the figure with pyplot, so that Jupyter shows it inline; ``False`` makes a
        bare :class:`~matplotlib.figure.Figure` that no backend or figure manager
        holds (for writing files in a loop).
    pattern : pandas.Series, optional
        The pattern's row of ``patterns.csv``: the stretch its sentence cites is
        highlighted (:func:`gradient.present.story.stretch`); without it, the biggest
        stop-to-stop fall.
    portrait : bool, default False
        The phone version: :data:`PORTRAIT` instead of :data:`LANDSCAPE`.
    panels : sequence of callables, optional
        Extra panels under the profile, each drawn by ``panel(ax, stops)`` on an axes
        sharing the profile's x axis (km from the first stop).
    voice : Voice, optional
        The run's level and names (:class:`gradient.story.words.Voice`).

    Returns
    -------
    matplotlib.figure.Figure
        Save it with :func:`save_figure` (at its ``gradient_dpi``: 150, or 300 in portrait).
    """
    voice = voice or Voice()
    z = words.z_of(voice)
    s = stops.sort_values("stop_sequence", kind="stable")
    km = s["dist_m"].to_numpy(float) / 1000.0
    le = s["le"].to_numpy(float)
    se = s["le_se"].to_numpy(float)
    names = stop_names(s)
    look = PORTRAIT if portrait else LANDSCAPE
    full = look["size"][0] * 0.93  # inches a title may take (measured widths run a few % short)
    inner = look["size"][0] * (0.76 if portrait else 0.84)  # inches from the plot's left edge to the figure's

    fig = _figure(look["size"], pyplot)
    fig.gradient_dpi = look["dpi"]
    # legend and source sit in two flat axes under the plot: whatever height they take, the
    # constrained layout makes room for it (their text overflows the axes as decorations)
    ratios = [1.0] + [0.35] * len(panels) + [0.001, 0.001]
    axes = fig.subplots(len(ratios), 1, height_ratios=ratios, squeeze=False)[:, 0]
    ax, key, foot = axes[0], axes[-2], axes[-1]
    key.axis("off")
    foot.axis("off")
    if np.isfinite(se).any():
        ax.fill_between(
            km, le - z * se, le + z * se, step="mid", color="0.84", linewidth=0, label=words.band_label(voice)
        )
    ax.step(
        km, le, where="mid", color="black", linewidth=1.4 if not portrait else 1.0, label="life expectancy at the stop"
    )
    doubt = _doubtful(s)
    dot = 3 if not portrait else 2.2
    ax.plot(km[~doubt], le[~doubt], "o", color="black", markersize=dot)
    if doubt.any():
        ax.plot(
            km[doubt],
            le[doubt],
            "o",
            markerfacecolor="white",
            markeredgecolor="black",
            markersize=dot * 1.8,
            markeredgewidth=1.0,
            linestyle="none",
            label="estimate in doubt (see the map)",
        )
    missing = ~np.isfinite(le)
    if missing.any():
        ax.plot(
            km[missing],
            np.full(missing.sum(), 0.03),
            "x",
            color="0.4",
            markersize=dot * 1.3,
            markeredgewidth=1,
            transform=ax.get_xaxis_transform(),
            label="stop without an estimate",
        )
    if reference is not None and np.isfinite(reference):
        ax.axhline(
            reference,
            color="0.3",
            linestyle=":",
            linewidth=1.2,
            label=text(f"{fmt(reference)}: {reference_label}" if reference_label else fmt(reference)),
        )
    st = stretch(s, pattern, voice)
    if st is not None:
        i, j = st.start, st.end
        what = st.note(names, pattern, voice)  # the fallback says whether its fall can be told apart from noise
        ax.plot(
            km[i : j + 1],
            le[i : j + 1],
            linestyle=(0, (3, 1.5)),
            color="0.15",
            linewidth=3.2 if not portrait else 2.4,
            label=what[0].lower() + what[1:],
        )
    idx = thin_labels(km, max_labels or look["labels"])
    ax.set_xticks(
        km[idx],
        [text(names[k], look["name"]) for k in idx],
        rotation=look["rotation"],
        ha="right",
        rotation_mode="anchor",
        fontsize=look["ticks"],
    )
    ax.tick_params(axis="y", labelsize=look["ticks"] + 1)
    sec = ax.secondary_xaxis("top")
    sec.set_xlabel("km from the first stop", fontsize=look["ticks"] + 1)
    sec.tick_params(labelsize=look["ticks"] + 0.5)
    ax.set_ylabel("life expectancy at birth (years)", fontsize=look["axis"])
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
    ncols = look["ncols"]
    labels = [wrap(label, inner / ncols - 3 * look["legend"] / 72, size=look["legend"]) for label in labels]
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
        wrap(title, full, 4 if portrait else 2, size=look["title"], weight="bold"),
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
            wrap(source, inner, max_lines=8, size=look["source"]),
            fontsize=look["source"],
            color="0.3",
            ha="left",
            va="top",
            transform=foot.transAxes,
        )
    return fig


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


def _figure(size: tuple[float, float], pyplot: bool) -> Figure:
    """A constrained-layout figure, from pyplot (shown inline in Jupyter) or bare."""
    if pyplot:
        import matplotlib.pyplot as plt

        return plt.figure(figsize=size, layout="constrained")
    return Figure(figsize=size, layout="constrained")


def context_panel(name: str) -> Panel:
    """A panel drawing the second measure (``context``) stop by stop, named with its units.

    The same stops and distances as the profile above it, in grey steps: the reader can
    see where the two move together; the chart does not say why.
    """

    def draw(ax, stops: pd.DataFrame) -> None:
        km = stops["dist_m"].to_numpy(float) / 1000.0
        values = stops["context"].to_numpy(float)
        ax.step(km, values, where="mid", color="0.35", linewidth=1.2)
        ax.plot(km, values, "o", color="0.35", markersize=2.2)
        ax.set_ylabel(wrap(text(name.split(" (")[0]), 1.3, size=7.5), fontsize=7.5)
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
    """:func:`profile_chart` of one pattern of a run, titled, sourced, its sentence's stretch highlighted.

    Parameters
    ----------
    result : gradient.Result
    pattern_id : str, optional
        Default the top-ranked pattern.
    scale : gradient.present.colours.Scale, optional
        Its reference is drawn as a dotted line; default the run's
        :func:`~gradient.present.colours.reference_scale` (``scale_reference`` option).
    pyplot : bool, default True
        As for :func:`profile_chart`.
    portrait : bool, default False
        The phone version, titled with the pattern's ``takeaway`` where it has one.
    areas : geopandas.GeoDataFrame, optional
        The life expectancy table, for ``scale_reference='table'``.
    panels : sequence of callables, optional
        As for :func:`profile_chart`; default the second measure (:func:`context_panel`)
        where the run has one (not on the phone chart).
    """
    from .colours import reference_scale
    from .page import units_text

    row = result.pattern(pattern_id)
    voice = words.voice_of(result.options, result.labels)
    if panels is None:
        context = getattr(result.labels, "context", "")
        # the phone chart keeps to one message; the landscape one shows the second measure under it
        panels = [context_panel(context)] if context and "context" in result.stops and not portrait else []
    areas = areas if areas is not None else getattr(result, "areas", None)
    scale = scale or reference_scale(result.stops, getattr(result.options, "scale_reference", "areas"), areas)
    labels = result.labels
    title = str(row.get("takeaway") or words.route_title(row))
    subtitle = units_text("Life expectancy at birth at each stop, years", labels.sex, labels.period)
    subtitle = f"{words.route_title(row)}. {subtitle}"
    return profile_chart(
        result.stops_of(row["pattern_id"]),
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
