"""Colour scales for maps: legible on a light basemap, with a stated reference.

Every colour of both palettes has a contrast ratio of at least 3:1 (WCAG 2.x, for
graphics) against white and against the light grey of the default basemap, so no
value fades into the background; the old RdYlBu middle was near-white. Missing
values are a neutral grey that no palette colour comes near, and maps also draw
them dashed so they do not rely on colour alone.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

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

EMPHASIS = LinearSegmentedColormap.from_list("gradient_emphasis", ["#b9b9b9", "#b07cc6", "#7a3a97", "#4d0a62"])
"""Faint grey (small) to deep purple (large), for a network map: the many small values stay
context and only the large ones draw the eye. Its low end is deliberately faint (below 3:1)."""

PALETTES = {"diverging": DIVERGING, "sequential": SEQUENTIAL, "emphasis": EMPHASIS}


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
    knee : float
        Share of the scale (0 to 1, from ``vmin``) that takes the palette's first colour;
        the palette spreads over the rest. 0 (the default) spreads it over the whole scale.
    """

    vmin: float
    vmax: float
    reference: float
    reference_label: str = ""
    palette: str = "diverging"
    clipped: bool = False
    knee: float = field(default=0.0, repr=False)

    @classmethod
    def around(
        cls,
        values: np.ndarray | pd.Series,
        reference: float | None = None,
        reference_label: str = "median",
        coverage: float = 1.0,
        min_half: float = 1.0,
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
        return cls(
            reference - half, reference + half, float(reference), reference_label, "diverging", bool((dev > half).any())
        )

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

    def strength(self, values: np.ndarray | pd.Series | float) -> np.ndarray:
        """Where values fall on the palette, 0 to 1: :meth:`position` past the ``knee``."""
        p = self.position(values)
        if self.knee <= 0:
            return p
        return np.clip((p - self.knee) / (1.0 - self.knee), 0.0, 1.0)

    def colours(self, values: np.ndarray | pd.Series) -> list[str]:
        """Hex colours of values; missing values get :data:`MISSING_COLOUR`."""
        cmap = PALETTES[self.palette]
        return [to_hex(cmap(p)) if np.isfinite(p) else MISSING_COLOUR for p in np.atleast_1d(self.strength(values))]

    def css_gradient(self, n: int = 11) -> str:
        """A CSS ``linear-gradient`` of the palette, left (``vmin``) to right (``vmax``)."""
        cmap = PALETTES[self.palette]
        stops = [f"{to_hex(cmap(p))} {100 * (self.knee + (1 - self.knee) * p):.1f}%" for p in np.linspace(0, 1, n)]
        if self.knee <= 0:
            stops = [to_hex(cmap(p)) for p in np.linspace(0, 1, n)]
        return "linear-gradient(to right, " + ", ".join(stops) + ")"


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


def reference_scale(
    stops: pd.DataFrame,
    reference: str | float = "areas",
    areas: Any = None,
    label: str = "areas",
    coverage: float = 0.95,
) -> Scale:
    """The diverging scale of every map and chart of a run, centred on a fixed, named reference.

    Parameters
    ----------
    stops : pandas.DataFrame
        ``area_id`` and ``le`` per stop, as in ``stops.csv``.
    reference : {'areas', 'table'} or float, default 'areas'
        ``'areas'``: the median of the distinct areas the stops serve
        (:func:`areas_scale`). ``'table'``: the median of the whole life expectancy table,
        :attr:`gradient.areas.dataset.Areas.reference` where known (named by its
        ``reference_label``, e.g. "median of the 6,790 MSOAs in the table"), otherwise the
        median of the areas' ``le``. A number: that many years, "set by the
        publisher". With ``'table'`` or a number the scale's width comes from the whole
        table too (when given), so maps made by several runs against one table match
        colour for colour.
    areas : Areas, optional
        The life expectancy table (from :func:`gradient.load_areas`, or a frame with ``le``).
    label : str
        What the areas are called, e.g. ``"tracts"``.
    coverage : float, default 0.95
        As for :meth:`Scale.around`.

    Returns
    -------
    Scale
        Its ``reference_label`` says what the reference is.

    Warns
    -----
    GradientWarning
        If ``reference='table'`` but no ``areas`` are given: the scale falls back to the
        median of the areas served, and says so.

    Examples
    --------
    >>> s = pd.DataFrame({"area_id": ["a", "b", "c"], "le": [70.0, 76.0, 80.0]})
    >>> reference_scale(s, 80).reference_label
    'reference set by the publisher'
    """
    from ..areas.dataset import as_areas
    from ..errors import GradientWarning

    table, known, known_label = None, math.nan, ""
    if areas is not None:
        a = as_areas(areas)
        table = pd.to_numeric(a.frame["le"], errors="coerce").to_numpy(float)
        table = table[np.isfinite(table)]
        known, known_label = a.reference, a.reference_label
    if isinstance(reference, str) and reference == "areas":
        return areas_scale(stops, label, coverage)
    if isinstance(reference, str) and reference == "table":
        if np.isfinite(known):
            value = float(known)
            name = known_label or "median of the table"
        elif table is not None and len(table):
            value = float(np.median(table))
            name = f"median of all {len(table):,} {label} in the table"
        else:
            warnings.warn(
                "scale_reference='table' needs the life expectancy table (areas=); the maps use the "
                "median of the areas served instead",
                GradientWarning,
                stacklevel=2,
            )
            return areas_scale(stops, label, coverage)
    else:
        value, name = float(reference), "reference set by the publisher"
    if table is not None and len(table):
        return Scale.around(table, reference=value, reference_label=name, coverage=coverage)
    used = stops.loc[stops["area_id"].notna() & stops["le"].notna(), ["area_id", "le"]].drop_duplicates("area_id")
    return Scale.around(used["le"], reference=value, reference_label=name, coverage=coverage)
