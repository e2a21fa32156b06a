"""Stop-by-stop profile charts of life expectancy along a pattern (matplotlib).

Drawn in black and greys so they read in greyscale print: the 95% interval is a
light grey band, the biggest stop-to-stop fall a thick dashed line with a label, the reference
a dotted line; nothing relies on colour. Saved files are deterministic: the same
figure gives the same bytes (SVG without a date and with a fixed hash salt).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .._files import write_atomic
from ..errors import ChartError
from ..options import Z95
from .maps import steepest
from .page import fmt, plain

HASHSALT = "gradient"
"""Fixed salt for the ids matplotlib writes into SVG files, so two runs match."""

FORMATS = {".png": "png", ".svg": "svg"}



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


def profile_chart(
    stops: pd.DataFrame,
    *,
    title: str = "",
    subtitle: str = "",
    source: str = "",
    reference: float | None = None,
    reference_label: str = "",
    max_labels: int = 14,
    pyplot: bool = True,
) -> Figure:
    """Draw life expectancy stop by stop with its 95% interval band.

    Parameters
    ----------
    stops : pandas.DataFrame
        One pattern's rows of :func:`gradient.gradient.stop_table`.
    title : str
        Figure title (e.g. route and end stops).
    subtitle : str
        What is shown: measure, sex and period, printed under the title.
    source : str
        Source line, printed at the foot of the figure.
    reference, reference_label : float and str, optional
        A dotted horizontal line and its label, e.g. the network median of the maps.
    max_labels : int, default 14
        Most stop names written along the distance axis (spread out, see :func:`thin_labels`).
    pyplot : bool, default True
        Make the figure with pyplot, so that Jupyter shows it inline; ``False`` makes a
        bare :class:`~matplotlib.figure.Figure` that no backend or figure manager
        holds (for writing files in a loop).

    Returns
    -------
    matplotlib.figure.Figure
        Save it with :func:`save_figure`.
    """
    s = stops.sort_values("stop_sequence", kind="stable")
    km = s["dist_m"].to_numpy(float) / 1000.0
    le = s["le"].to_numpy(float)
    se = s["le_se"].to_numpy(float)
    fig = _figure((10, 6), pyplot)
    ax, foot = fig.subplots(2, 1, height_ratios=[1, 0.2])
    foot.axis("off")
    if np.isfinite(se).any():
        ax.fill_between(km, le - Z95 * se, le + Z95 * se, step="mid", color="0.84", linewidth=0,
                        label="95% interval")
    ax.step(km, le, where="mid", color="black", linewidth=1.4, label="life expectancy at the stop")
    ax.plot(km, le, "o", color="black", markersize=3)
    missing = ~np.isfinite(le)
    if missing.any():
        ax.plot(km[missing], np.full(missing.sum(), 0.03), "x", color="0.4", markersize=4, markeredgewidth=1,
                transform=ax.get_xaxis_transform(), label="stop without an estimate")
    if reference is not None and np.isfinite(reference):
        ax.axhline(reference, color="0.3", linestyle=":", linewidth=1.2,
                   label=text(f"{fmt(reference)}: {reference_label}" if reference_label else fmt(reference)))
    i = steepest(s)
    names = s["stop_name"].fillna("").to_numpy()
    if i is not None:
        fall = f"biggest stop-to-stop fall: {fmt(le[i] - le[i - 1])} years, {names[i - 1]} to {names[i]}"
        ax.plot(km[i - 1 : i + 1], le[i - 1 : i + 1], linestyle=(0, (3, 1.5)), color="0.15", linewidth=3.2,
                label=text(fall, 90))
        ax.annotate(text(f"{fmt(le[i] - le[i - 1])} years"), xy=(km[i], (le[i] + le[i - 1]) / 2), xytext=(6, 0),
                    textcoords="offset points", fontsize=8.5, fontweight="bold", va="center")
    idx = thin_labels(km, max_labels)
    ax.set_xticks(km[idx], [text(n, 28) for n in names[idx]], rotation=50, ha="right",
                  rotation_mode="anchor", fontsize=7.5)
    sec = ax.secondary_xaxis("top")
    sec.set_xlabel("km from the first stop", fontsize=8.5)
    sec.tick_params(labelsize=8)
    ax.set_ylabel("life expectancy at birth (years)")
    ax.grid(axis="y", color="0.9")
    ax.set_xlim(km[0] - 0.01 * (km[-1] - km[0] or 1), km[-1] + 0.01 * (km[-1] - km[0] or 1))
    handles, labels = ax.get_legend_handles_labels()
    foot.legend(handles, labels, loc="upper left", ncols=3, fontsize=8, frameon=False, borderaxespad=0,
                bbox_to_anchor=(0, 1.0))
    fig.suptitle(text(title), fontsize=12, x=0.01, ha="left", fontweight="bold")
    if subtitle:
        ax.set_title(text(subtitle), fontsize=9, loc="left", color="0.2", pad=26)
    if source:
        foot.text(0, 0, text(source), fontsize=7.5, color="0.3", ha="left", va="bottom", transform=foot.transAxes)
    return fig


def _figure(size: tuple[float, float], pyplot: bool) -> Figure:
    """A constrained-layout figure, from pyplot (shown inline in Jupyter) or bare."""
    if pyplot:
        import matplotlib.pyplot as plt

        return plt.figure(figsize=size, layout="constrained")
    return Figure(figsize=size, layout="constrained")


def profile(result, pattern_id: str | None = None, *, scale=None, pyplot: bool = True) -> Figure:
    """:func:`profile_chart` of one pattern of a run, titled and sourced.

    Parameters
    ----------
    result : gradient.Result
    pattern_id : str, optional
        Default the top-ranked pattern.
    scale : gradient.present.colours.Scale, optional
        Its reference is drawn as a dotted line; default the run's
        :func:`~gradient.present.colours.areas_scale`.
    pyplot : bool, default True
        As for :func:`profile_chart`.
    """
    from ..pipeline import pattern_title
    from .colours import areas_scale
    from .page import units_text

    row = result.pattern(pattern_id)
    scale = scale or areas_scale(result.stops)
    labels = result.labels
    return profile_chart(
        result.stops_of(row["pattern_id"]),
        title=pattern_title(row),
        subtitle=units_text("Life expectancy at birth at each stop, years", labels.sex, labels.period),
        source=labels.source_line,
        reference=scale.reference,
        reference_label=scale.reference_label,
        pyplot=pyplot,
    )


def save_figure(fig: Figure, path: str | Path, dpi: int = 150) -> Path:
    """Save a figure atomically and deterministically: ``.png`` for the web, ``.svg`` for print.

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

    with matplotlib.rc_context({"svg.hashsalt": HASHSALT, "svg.fonttype": "path"}):
        fig.savefig(buf, format=fmt_, dpi=dpi, metadata=metadata)
    return write_atomic(path, buf.getvalue())
