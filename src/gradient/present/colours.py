"""One palette for every map and chart: its lightness follows life expectancy.

:data:`LIFE` is matplotlib's ``viridis``: its lightness (CIE L*) rises steadily from
dark purple (low) to yellow (high), so it reads in greyscale print and under the
common colour-vision deficiencies (``tests/test_maps.py`` measures both), and low life
expectancy is always the darker. Lines drawn in it on a basemap have a dark casing, so
the light end never fades into the background. :data:`STRENGTH` is the same palette's
darker part reversed, for a magnitude such as the strength of a route's claim: the
stronger, the darker. Missing values are a neutral grey and maps also draw them dashed,
so they do not rely on colour alone.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap, to_hex, to_rgb

MISSING_COLOUR = "#9e9e9e"
"""Colour of stops, stretches and areas without a life expectancy."""

BASEMAP_GREY = "#e1e1e1"
"""The land colour of the default basemap (Esri World Gray Canvas), for contrast checks."""

_VIRIDIS = matplotlib.colormaps["viridis"]

LIFE = ListedColormap(_VIRIDIS(np.linspace(0.0, 1.0, 256)), name="gradient_life")
"""Life expectancy: dark purple (low) through teal to yellow (high), lightness rising throughout."""

STRENGTH = ListedColormap(_VIRIDIS(np.linspace(0.62, 0.0, 256)), name="gradient_strength")
"""A magnitude (e.g. the lower bound of a route's claim): green (small) to dark purple (large)."""

PALETTES = {"life": LIFE, "strength": STRENGTH}


def lightness(colour: Any) -> float:
    """CIE L* (0 black to 100 white) of a colour, with sRGB's D65 white.

    Examples
    --------
    >>> round(lightness("#777777"), 1)
    50.0
    """
    c = np.asarray(to_rgb(colour))
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    y = float(0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2])
    return 116 * y ** (1 / 3) - 16 if y > (6 / 29) ** 3 else y * (29 / 3) ** 3


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
        The value the legend marks (▲; the middle of a scale made by :meth:`around`).
    reference_label : str
        What the reference is, e.g. ``"network median of 262 areas"``.
    palette : str
        ``"life"`` (:data:`LIFE`) or ``"strength"`` (:data:`STRENGTH`).
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
    palette: str = "life"
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
        """A scale centred on ``reference`` (default the median of ``values``).

        The scale is symmetric, so equal distances above and below the reference
        get equally strong colours. Its half-width is the ``coverage`` quantile of
        the values' distances from the reference (1.0: the largest), at least
        ``min_half``; with ``coverage`` < 1 a few extreme values take the end colours
        instead of washing out the rest.

        Examples
        --------
        >>> Scale.around([70.0, 76.0, 80.0])
        Scale(vmin=70.0, vmax=82.0, reference=76.0, reference_label='median', palette='life', clipped=False)
        """
        v = np.asarray(values, dtype=float)
        v = v[np.isfinite(v)]
        if reference is None:
            reference = float(np.median(v)) if len(v) else 0.0
        dev = np.abs(v - reference)
        half = max(float(np.quantile(dev, coverage)) if len(v) else 0.0, min_half)
        return cls(
            reference - half, reference + half, float(reference), reference_label, "life", bool((dev > half).any())
        )

    @classmethod
    def upto(cls, values: np.ndarray | pd.Series, label: str = "") -> Scale:
        """A strength scale (:data:`STRENGTH`) from 0 to the largest of ``values`` (at least 1)."""
        v = np.asarray(values, dtype=float)
        top = float(np.nanmax(v)) if np.isfinite(v).any() else 1.0
        return cls(0.0, max(top, 1.0), 0.0, label, "strength")

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
    """The network-wide scale: centred on the median of the areas the stops use.

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
    return Scale.around(used["le"], reference_label=f"median of the {len(used):,} {label} served", coverage=coverage)


def reference_scale(
    stops: pd.DataFrame,
    reference: str | float = "areas",
    areas: Any = None,
    label: str = "areas",
    coverage: float = 0.95,
) -> Scale:
    """The scale of every map and chart of a run, centred on a fixed, named reference.

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
