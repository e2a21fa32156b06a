"""Stops to life expectancy: which small area's estimate each stop takes.

Each distinct stop is assigned once (a stop on many patterns is looked up once),
with a spatial index (GeoPandas ``sjoin``), never a loop over stops.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd

from .errors import GradientWarning
from .schema import ASSIGNMENT_COLUMNS, WGS84, metric_crs

NEAREST_M = 250.0
"""Default distance (metres) within which a stop outside every area takes the nearest one."""


def _stop_points(stops: pd.DataFrame) -> gpd.GeoDataFrame:
    """Distinct stops as WGS84 points."""
    s = stops.drop_duplicates("stop_id")[["stop_id", "lon", "lat"]].reset_index(drop=True)
    return gpd.GeoDataFrame(s, geometry=gpd.points_from_xy(s["lon"], s["lat"]), crs=WGS84)


def assign_point(
    stops: pd.DataFrame,
    areas: gpd.GeoDataFrame,
    nearest_m: float = NEAREST_M,
    crs: str | None = None,
) -> pd.DataFrame:
    """Give each stop the life expectancy of the area that contains it.

    A stop on the shared border of two areas takes the one with the smaller
    ``area_id`` (a deterministic tie-break). A stop outside every area (a river, a
    county line) takes the nearest area within ``nearest_m`` metres; the rest stay
    missing. Both are reported in one :class:`GradientWarning` with counts.

    Parameters
    ----------
    stops : pandas.DataFrame
        Columns ``stop_id``, ``lon``, ``lat`` (WGS84); repeated stop ids are looked up once.
    areas : geopandas.GeoDataFrame
        ``AREA_COLUMNS`` as from :func:`gradient.areas.load_areas`.
    nearest_m : float, default 250
        Fallback search distance in metres; 0 disables the fallback.
    crs : str, optional
        Metric CRS for the fallback distances; default the stops' UTM zone.

    Returns
    -------
    pandas.DataFrame
        One row per distinct stop: ``stop_id``, ``area_id`` (string, NA if none),
        ``le`` and ``le_se`` (years; NaN where the area has no estimate or none
        was found), ``n_areas`` (1, or 0 when unassigned) and ``method``
        (``point`` or ``nearest``).
    """
    pts = _stop_points(stops)
    hit = gpd.sjoin(pts, areas[["area_id", "geometry"]], how="left", predicate="intersects")
    hit = hit.sort_values(["stop_id", "area_id"], na_position="last", kind="stable")
    hit = hit.drop_duplicates("stop_id").set_index("stop_id").reindex(pts["stop_id"])
    area_id = hit["area_id"].astype("string")
    method = pd.Series(np.where(area_id.notna(), "point", ""), index=area_id.index, dtype="string")
    outside = area_id.isna()
    n_out = int(outside.sum())
    n_near = 0
    if n_out and nearest_m > 0:
        crs = crs or metric_crs(pts["lon"], pts["lat"])
        lost = pts[outside.to_numpy()].to_crs(crs)
        near = gpd.sjoin_nearest(
            lost, areas[["area_id", "geometry"]].to_crs(crs), how="left", max_distance=nearest_m
        )
        near = near.sort_values(["stop_id", "area_id"], kind="stable").drop_duplicates("stop_id")
        near = near.set_index("stop_id")["area_id"].dropna().astype("string")
        area_id.loc[near.index] = near
        method.loc[near.index] = "nearest"
        n_near = len(near)
    if n_out:
        warnings.warn(
            f"{n_out} of {len(pts)} stops fall outside every area: {n_near} took the nearest area "
            f"within {nearest_m:g} m, {n_out - n_near} stay missing",
            GradientWarning,
            stacklevel=2,
        )
    values = areas.drop_duplicates("area_id").set_index("area_id")[["le", "le_se"]]
    out = pd.DataFrame({"stop_id": area_id.index.astype("string"), "area_id": area_id.to_numpy()})
    out["le"] = values["le"].reindex(out["area_id"]).to_numpy(dtype=float)
    out["le_se"] = values["le_se"].reindex(out["area_id"]).to_numpy(dtype=float)
    out["n_areas"] = out["area_id"].notna().astype(int)
    out["method"] = method.replace("", pd.NA).to_numpy()
    return out[ASSIGNMENT_COLUMNS + ["n_areas", "method"]]
