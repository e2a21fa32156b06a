"""Stop-by-stop profile charts of life expectancy along a pattern (matplotlib).

Drawn in black and greys so they read in greyscale print; the steepest fall is
marked by a thick dashed line and a label, not by colour alone.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # charts are files; never open a window
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from .files import write_atomic  # noqa: E402

Z95 = 1.959963984540054


def _thin(n: int, max_labels: int) -> np.ndarray:
    """Indices of at most ``max_labels`` evenly spaced labels, first and last included."""
    if n <= max_labels:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, max_labels)).astype(int))


def profile_chart(
    stops: pd.DataFrame,
    *,
    title: str = "",
    subtitle: str = "",
    max_labels: int = 14,
) -> Figure:
    """Draw life expectancy stop by stop with its 95% interval band.

    Parameters
    ----------
    stops : pandas.DataFrame
        One pattern's rows of :func:`gradient.gradient.stop_table`.
    title : str
        Figure title (e.g. route and end stops).
    subtitle : str
        Sex, period and source, printed under the title.
    max_labels : int, default 14
        Most stop names written along the distance axis (thinned evenly).

    Returns
    -------
    matplotlib.figure.Figure
        Save it with :func:`save_figure`.
    """
    s = stops.sort_values("stop_sequence", kind="stable")
    km = s["dist_m"].to_numpy(float) / 1000.0
    le = s["le"].to_numpy(float)
    se = s["le_se"].to_numpy(float)
    fig, ax = plt.subplots(figsize=(10, 5.2), layout="constrained")
    if np.isfinite(se).any():
        ax.fill_between(km, le - Z95 * se, le + Z95 * se, step="mid", color="0.85", label="95% interval")
    ax.step(km, le, where="mid", color="black", linewidth=1.4, label="life expectancy at stop")
    ax.plot(km, le, "o", color="black", markersize=3)
    delta = s["le_delta"].to_numpy(float)
    if np.isfinite(delta).any() and np.nanmin(delta) < 0:
        i = int(np.nanargmin(delta))
        ax.plot(km[i - 1 : i + 1], le[i - 1 : i + 1], linestyle="--", color="0.2", linewidth=3.5,
                label=f"largest fall between stops: {-delta[i]:.1f} years")
    names = s["stop_name"].fillna("").astype(str).to_numpy()
    idx = _thin(len(km), max_labels)
    ax.set_xticks(km[idx], [n[:28] for n in names[idx]], rotation=55, ha="right", fontsize=7.5)
    sec = ax.secondary_xaxis("top")
    sec.set_xlabel("km from first stop", fontsize=9)
    ax.set_ylabel("life expectancy at birth (years)")
    ax.grid(axis="y", color="0.9")
    ax.legend(loc="best", fontsize=8, frameon=False)
    fig.suptitle(title, fontsize=12, x=0.01, ha="left", fontweight="bold")
    if subtitle:
        ax.set_title(subtitle, fontsize=8, loc="left", color="0.25", pad=28)
    return fig


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Save a figure atomically; the format follows the suffix (``.png``, ``.svg``)."""
    path = Path(path)
    buf = io.BytesIO()
    fig.savefig(buf, format=path.suffix.lstrip(".") or "png", dpi=150, metadata={"Date": None} if path.suffix == ".svg" else None)
    return write_atomic(path, buf.getvalue())
