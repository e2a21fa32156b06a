"""Colour scales for maps: legible on a light basemap, with a stated reference.

Every colour of both palettes has a contrast ratio of at least 3:1 (WCAG 2.x, for
graphics) against white and against the light grey of the default basemap, so no
value fades into the background; the old RdYlBu middle was near-white. Missing
values are a neutral grey that no palette colour comes near, and maps also draw
them dashed so they do not rely on colour alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.colors import LinearSegmentedColormap, to_hex, to_rgb

MISSING_COLOUR = "#9e9e9e"
"""Colour of stops, stretches and areas without a life expectancy."""

BASEMAP_GREY = "#e1e1e1"
"""The land colour of the default basemap (Esri World Gray Canvas), for contrast checks."""

DIVERGING = LinearSegmentedColormap.from_list(
    "gradient_diverging", ["#a50f15", "#d0432a", "#94559a", "#3572bd", "#08407e"]
)
"""Red (below the reference) through purple (at it) to blue (above it)."""

SEQUENTIAL = LinearSegmentedColormap.from_list("gradient_sequential", ["#2f8575", "#4a68a8", "#7a3a97", "#4d0a62"])
"""Teal (small) to deep purple (large), for magnitudes such as a route's range."""

PALETTES = {"diverging": DIVERGING, "sequential": SEQUENTIAL}


def contrast_ratio(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours (1 to 21).

    Examples
    --------
    >>> round(contrast_ratio("#000000", "#ffffff"), 1)
    21.0
    """

    def luminance(colour: str) -> float:
        c = np.asarray(to_rgb(colour))
        c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
        return float(0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2])

    low, high = sorted((luminance(a), luminance(b)))
    return (high + 0.05) / (low + 0.05)


@dataclass(frozen=True)
class Scale:
    """A colour scale: value limits, the reference it is centred on, and its palette.

    Attributes
    ----------
    vmin, vmax : float
        Values at the two ends of the palette; values beyond take the end colours.
    reference : float
        The value the legend marks (the middle of a diverging scale).
    reference_label : str
        What the reference is, e.g. ``"network median of 262 areas"``.
    palette : str
        ``"diverging"`` or ``"sequential"``.
    clipped : bool
        Whether some values lie beyond the ends (the legend then reads ``≤`` and ``≥``).
    """

    vmin: float
    vmax: float
    reference: float
    reference_label: str = ""
    palette: str = "diverging"
    clipped: bool = False

    @classmethod
    def around(
        cls, values: np.ndarray | pd.Series, reference: float | None = None, reference_label: str = "median",
        coverage: float = 1.0, min_half: float = 1.0,
    ) -> Scale:
        """A diverging scale centred on ``reference`` (default the median of ``values``).

        The scale is symmetric, so equal distances above and below the reference
        get equally strong colours. Its half-width is the ``coverage`` quantile of
        the values' distances from the reference (1.0: the largest), at least
        ``min_half``; with ``coverage`` < 1 a few extreme values take the end colours
        instead of washing out the rest.

        Examples
        --------
        >>> Scale.around([70.0, 76.0, 80.0])
        Scale(vmin=70.0, vmax=82.0, reference=76.0, reference_label='median', palette='diverging', clipped=False)
        """
        v = np.asarray(values, dtype=float)
        v = v[np.isfinite(v)]
        if reference is None:
            reference = float(np.median(v)) if len(v) else 0.0
        dev = np.abs(v - reference)
        half = max(float(np.quantile(dev, coverage)) if len(v) else 0.0, min_half)
        return cls(reference - half, reference + half, float(reference), reference_label, "diverging",
                   bool((dev > half).any()))

    @classmethod
    def upto(cls, values: np.ndarray | pd.Series, label: str = "") -> Scale:
        """A sequential scale from 0 to the largest of ``values`` (at least 1)."""
        v = np.asarray(values, dtype=float)
        top = float(np.nanmax(v)) if np.isfinite(v).any() else 1.0
        return cls(0.0, max(top, 1.0), 0.0, label, "sequential")

    def position(self, values: np.ndarray | pd.Series | float) -> np.ndarray:
        """Where values fall on the scale, 0 to 1 (clipped; NaN stays NaN)."""
        v = np.asarray(values, dtype=float)
        span = (self.vmax - self.vmin) or 1.0
        return np.clip((v - self.vmin) / span, 0.0, 1.0)

    def colours(self, values: np.ndarray | pd.Series) -> list[str]:
        """Hex colours of values; missing values get :data:`MISSING_COLOUR`."""
        cmap = PALETTES[self.palette]
        return [to_hex(cmap(p)) if np.isfinite(p) else MISSING_COLOUR for p in np.atleast_1d(self.position(values))]

    def css_gradient(self, n: int = 11) -> str:
        """A CSS ``linear-gradient`` of the palette, left (``vmin``) to right (``vmax``)."""
        cmap = PALETTES[self.palette]
        return "linear-gradient(to right, " + ", ".join(to_hex(cmap(p)) for p in np.linspace(0, 1, n)) + ")"


def areas_scale(stops: pd.DataFrame, label: str = "areas", coverage: float = 0.95) -> Scale:
    """The network-wide diverging scale: centred on the median of the areas the stops use.

    Parameters
    ----------
    stops : pandas.DataFrame
        ``area_id`` and ``le`` per stop (any number of patterns), as in ``stops.csv``.
    label : str
        What the areas are called, e.g. ``"tracts"``.
    coverage : float, default 0.95
        Share of those areas whose values fall inside the scale (see :meth:`Scale.around`).

    Returns
    -------
    Scale
        Centred on the median life expectancy of the distinct areas with a value
        that at least one stop falls in (each area counted once, however many stops
        it holds); ``reference_label`` says so, with the count.

    Examples
    --------
    >>> s = pd.DataFrame({"area_id": ["a", "a", "b", "c"], "le": [70.0, 70.0, 76.0, 80.0]})
    >>> areas_scale(s).reference_label
    'median of the 3 areas served'
    """
    used = stops.loc[stops["area_id"].notna() & stops["le"].notna(), ["area_id", "le"]].drop_duplicates("area_id")
    return Scale.around(used["le"], reference_label=f"median of the {len(used)} {label} served", coverage=coverage)
