"""Sensitivity: does a headline depend on how stops take their life expectancy.

Runs the same patterns under several assignment methods (point in polygon, buffers
of several radii, and walks along a street network) and shows how much each
pattern's range and slope move.
"""

from __future__ import annotations

import warnings
from typing import Sequence

import geopandas as gpd
import pandas as pd

from .errors import GradientWarning
from .options import WALK_M, Options
from .pipeline import run_patterns

DEFAULT_METHODS: tuple[tuple[str, float | None], ...] = (
    ("point", None),
    ("buffer", 100.0),
    ("buffer", 200.0),
    ("buffer", 400.0),
)
"""Point in polygon, and buffers of 100, 200 and 400 m."""


def method_label(method: str, radius_m: float | None) -> str:
    """``"point"``, ``"buffer 200 m"`` or ``"network 400 m"`` (the walk, for ``network``)."""
    return method if radius_m is None else f"{method} {radius_m:g} m"


def sensitivity(
    patterns: gpd.GeoDataFrame,
    pattern_stops: pd.DataFrame,
    areas: gpd.GeoDataFrame,
    methods: Sequence[tuple[str, float | None]] = DEFAULT_METHODS,
    network=None,
) -> pd.DataFrame:
    """Each pattern's range and slope under each assignment method.

    Parameters
    ----------
    patterns, pattern_stops
        As returned by a source (e.g. :func:`gradient.sources.gtfs.stop_patterns`).
    areas : geopandas.GeoDataFrame
        ``AREA_COLUMNS``.
    methods : sequence of (method, metres)
        Default: point, and buffers of 100, 200 and 400 m. For ``network`` the metres
        are the walk (e.g. ``("network", 400.0)``); its stops off the network fall
        back to 200 m buffers.
    network : networkx.MultiDiGraph, optional
        Street network (:func:`gradient.assign.streets.load_network`), needed by ``network``
        methods. Patterns without route geometry are first routed along it once
        (:func:`gradient.assign.streets.street_geometry`), so every method measures the
        same distances.

    Returns
    -------
    pandas.DataFrame
        Long table, one row per pattern and method: ``pattern_id``,
        ``route_name``, ``direction_id``, ``method`` (label, e.g. ``buffer 200 m``),
        ``n_stops_le``, ``le_range`` (years), ``slope_per_km``, ``slope_ci_low``,
        ``slope_ci_high`` (years per km).
    """
    if network is not None:
        from .assign.streets import street_geometry

        patterns, pattern_stops = street_geometry(patterns, pattern_stops, network)
    frames = []
    for method, radius in methods:
        with warnings.catch_warnings():  # the same stops warn once per method; keep one
            warnings.simplefilter("ignore", GradientWarning)
            if method == "network":
                options = Options(method=method, network=network, walk_m=radius or WALK_M)
            elif radius is None:
                options = Options(method=method)
            else:
                options = Options(method=method, radius_m=radius)
            res = run_patterns(patterns, pattern_stops, areas, options)
        cols = [
            "pattern_id",
            "route_name",
            "direction_id",
            "n_stops_le",
            "le_range",
            "slope_per_km",
            "slope_ci_low",
            "slope_ci_high",
        ]
        frame = res.patterns[cols].copy()
        frame.insert(3, "method", method_label(method, radius))
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def sensitivity_summary(long: pd.DataFrame) -> pd.DataFrame:
    """How far each pattern's figures move across methods.

    Parameters
    ----------
    long : pandas.DataFrame
        As returned by :func:`sensitivity`.

    Returns
    -------
    pandas.DataFrame
        One row per pattern, widest range first: ``pattern_id``, ``route_name``,
        ``direction_id``; ``range_min``, ``range_max`` and ``range_spread``
        (years: the smallest and largest ``le_range`` over methods and their
        difference); ``slope_min``, ``slope_max`` (years per km);
        ``slope_sign_agrees``: True when every method's 95% slope interval lies on
        the same side of zero (all above, or all below), so the direction of the
        trend does not depend on the method.
    """
    g = long.groupby(["pattern_id", "route_name", "direction_id"], dropna=False)
    out = pd.DataFrame(
        {
            "range_min": g["le_range"].min(),
            "range_max": g["le_range"].max(),
            "slope_min": g["slope_per_km"].min(),
            "slope_max": g["slope_per_km"].max(),
        }
    )
    out["range_spread"] = out["range_max"] - out["range_min"]
    above = g["slope_ci_low"].apply(lambda s: bool((s > 0).all()))
    below = g["slope_ci_high"].apply(lambda s: bool((s < 0).all()))
    out["slope_sign_agrees"] = above | below
    out = out.reset_index().sort_values(["range_max", "pattern_id"], ascending=[False, True], na_position="last")
    cols = [
        "pattern_id",
        "route_name",
        "direction_id",
        "range_min",
        "range_max",
        "range_spread",
        "slope_min",
        "slope_max",
        "slope_sign_agrees",
    ]
    return out[cols].reset_index(drop=True)
