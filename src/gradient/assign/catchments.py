"""Stops to life expectancy: which small areas' estimates each stop takes, and how.

Three methods:

``point``
    The area that contains the stop (:func:`assign_point`), with a nearest-area
    fallback for stops just outside every area.
``buffer``
    The areas within R metres of the stop, averaged with weights
    (:func:`assign_buffer`).
``network``
    The areas along the streets reachable within W metres' walk of the stop,
    weighted by the length of those streets in each (:func:`assign_network`).

Each distinct stop is assigned once (a stop on many patterns is looked up once),
with a spatial index, never a loop over stops. Life expectancy is *intensive*:
every combination is a weighted mean, never a sum, and an area without an estimate
is left out of the mean (never counted as 0).
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from ..areas.dataset import Areas, as_areas
from ..errors import GradientWarning, OptionError
from ..options import METHODS, NEAREST_M, RADIUS_M, SNAP_M, WALK_M
from ..schema import ASSIGNMENT_COLUMNS, WGS84, metric_crs


def _stop_points(stops: pd.DataFrame) -> gpd.GeoDataFrame:
    """Distinct stops as WGS84 points."""
    s = stops.drop_duplicates("stop_id")[["stop_id", "lon", "lat"]].reset_index(drop=True)
    return gpd.GeoDataFrame(s, geometry=gpd.points_from_xy(s["lon"], s["lat"]), crs=WGS84)


def _areas_near(areas: gpd.GeoDataFrame, points: gpd.GeoDataFrame, metres: float) -> gpd.GeoDataFrame:
    """The areas that come within a box of ``metres`` (with room to spare) around any of the points (WGS84).

    Every area within ``metres`` of a point meets its box, so the nearest one is among them;
    only these few are then projected.
    """
    lat = np.radians(np.clip(np.abs(points["lat"].to_numpy(float)), 0, 85))
    dy = 1.5 * metres / 111_000.0
    dx = dy / np.cos(lat)
    x, y = points["lon"].to_numpy(float), points["lat"].to_numpy(float)
    boxes = shapely.box(x - dx, y - dy, x + dx, y + dy)
    hit = np.unique(areas.sindex.query(boxes, predicate="intersects")[1])
    return areas.iloc[hit][["area_id", "geometry"]]


def assign_point(
    stops: pd.DataFrame,
    areas: Areas | gpd.GeoDataFrame,
    nearest_m: float = NEAREST_M,
    crs: str | CRS | None = None,
    return_weights: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """Give each stop the life expectancy of the area that contains it.

    A stop on the shared border of two areas takes the one with the smaller
    ``area_id`` (a deterministic tie-break). A stop outside every area (a river, a
    county line) takes the nearest area within ``nearest_m`` metres; the rest stay
    missing. Both are reported in one :class:`GradientWarning` with counts.

    Parameters
    ----------
    stops : pandas.DataFrame
        Columns ``stop_id``, ``lon``, ``lat`` (WGS84); repeated stop ids are looked up once.
    areas : Areas or geopandas.GeoDataFrame
        ``AREA_COLUMNS`` as from :func:`gradient.areas.load.load_areas`.
    nearest_m : float, default 250
        Fallback search distance in metres; 0 disables the fallback.
    crs : str, optional
        Metric CRS for the fallback distances; default the stops' UTM zone.
    return_weights : bool, default False
        Also return the weights table (see :func:`assign`).

    Returns
    -------
    pandas.DataFrame
        One row per distinct stop: ``stop_id``, ``area_id`` (string, NA if none),
        ``le`` and ``le_se`` (years; NaN where the area has no estimate or none
        was found), ``n_areas`` (1 when the stop has a value, else 0) and
        ``method`` and ``weighting`` (``point`` or ``nearest``).
    """
    areas = as_areas(areas).frame
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
        lost = pts[outside.to_numpy()]
        near = gpd.sjoin_nearest(
            lost.to_crs(crs), _areas_near(areas, lost, nearest_m).to_crs(crs), how="left", max_distance=nearest_m
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
    out["n_areas"] = out["le"].notna().astype(int)
    out["method"] = method.replace("", pd.NA).to_numpy()
    out["weighting"] = out["method"]
    out = out[ASSIGNMENT_COLUMNS + ["n_areas", "method", "weighting"]]
    if not return_weights:
        return out
    valued = out[out["le"].notna()]
    weights = pd.DataFrame(
        {
            "stop_id": valued["stop_id"],
            "area_id": valued["area_id"],
            "weight": 1.0,
            "area_le": valued["le"],
            "le_se": valued["le_se"],
        }
    )
    return out, weights.reset_index(drop=True)


def _weight_mode(weight: str, areas: gpd.GeoDataFrame, plain: str) -> str:
    """Resolve ``weight`` to ``plain`` (overlap) or ``population``, checking it can be done.

    ``auto`` without a population says so in a warning: an empty industrial area then weighs
    as much as a dense one, and that is never chosen silently.
    """
    has_pop = "population" in areas.columns and areas["population"].notna().any()
    if weight == "auto":
        if not has_pop:
            warnings.warn(
                f"the areas have no population, so catchments weight areas by {plain} alone (weighting={plain!r} "
                "in stops.csv); give a population table to weight them by where people live",
                GradientWarning,
                stacklevel=3,
            )
        return "population" if has_pop else plain
    if weight not in (plain, "population"):
        raise OptionError(f"weight={weight!r} is not one of auto, {plain}, population", param="weight")
    if weight == "population" and not has_pop:
        raise OptionError("weight='population' needs a population column in the areas table", param="weight")
    return weight


def assign_buffer(
    stops: pd.DataFrame,
    areas: Areas | gpd.GeoDataFrame,
    radius_m: float = RADIUS_M,
    weight: str = "auto",
    crs: str | CRS | None = None,
    return_weights: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """Give each stop the weighted mean life expectancy of the areas within ``radius_m``.

    The weight of area *i* for a stop is the area of its overlap with the stop's
    circle (``weight="area"``), or that overlap times the area's population density
    (``weight="population"``: population / area, so the mean follows where people
    live). ``"auto"`` uses population where ``areas`` has a ``population`` column.
    Weights are normalised over the overlapping areas *that have an estimate*:
    an area without one is left out, never counted as 0.

    The standard error of the weighted mean ``sum(w_i * le_i)`` is
    ``sqrt(sum(w_i**2 * se_i**2))``. This assumes the areas' estimation errors are
    independent (reasonable for separately estimated small areas, though
    neighbouring estimates that share a modelling prior are in truth positively
    correlated, so it is a lower bound then), and it treats the weights as fixed. It
    is NaN when any contributing area has no standard error.

    Parameters
    ----------
    stops : pandas.DataFrame
        Columns ``stop_id``, ``lon``, ``lat`` (WGS84).
    areas : Areas or geopandas.GeoDataFrame
        ``AREA_COLUMNS`` (plus ``population`` for density weights).
    radius_m : float, default 200
        Catchment radius in metres.
    weight : {'auto', 'area', 'population'}
    crs : str, optional
        Metric CRS; default the stops' UTM zone.
    return_weights : bool, default False
        Also return the weights table (see :func:`assign`).

    Returns
    -------
    pandas.DataFrame
        One row per distinct stop: ``stop_id``; ``area_id``, the area with the
        largest weight (ties to the smaller id; NA if the circle meets no area);
        ``le`` and ``le_se`` (years, the weighted mean and its standard error; NaN
        where no overlapping area has an estimate); ``n_areas`` (areas that
        contributed a value); ``method`` (``buffer``); ``weighting`` (``area`` or
        ``population``: what weighted the areas, never chosen silently).

    Raises
    ------
    OptionError
        If ``radius_m`` is not positive or ``weight`` is unknown or asks for a
        population the areas do not have.
    """
    areas = as_areas(areas).frame
    if not radius_m > 0:
        raise OptionError(f"radius_m={radius_m!r} must be a positive number of metres", param="radius_m")
    weight = _weight_mode(weight, areas, plain="area")
    pts = _stop_points(stops)
    crs = crs or metric_crs(pts["lon"], pts["lat"])
    circles = shapely.buffer(pts.to_crs(crs).geometry.array, radius_m, quad_segs=16)
    shapes = areas.to_crs(crs)
    a_geom = shapes.geometry.array
    stop_i, area_i = shapes.sindex.query(circles, predicate="intersects")
    circle_of, area_of = np.asarray(circles)[stop_i], np.asarray(a_geom)[area_i]
    # most circles lie wholly inside one area: their overlap is the circle itself, and a
    # prepared containment test is far cheaper than an intersection
    shapely.prepare(area_of)
    inside = shapely.contains(area_of, circle_of)
    overlap = shapely.area(circle_of)
    overlap[~inside] = shapely.area(shapely.intersection(circle_of[~inside], area_of[~inside]))
    w = overlap
    if weight == "population":
        density = (areas["population"].to_numpy(float) / shapely.area(np.asarray(a_geom)))[area_i]
        w = overlap * np.nan_to_num(density)
    pairs = pd.DataFrame(
        {
            "w_plain": overlap,
            "stop": stop_i,
            "area_id": areas["area_id"].to_numpy()[area_i],
            "w": w,
            "le": areas["le"].to_numpy(float)[area_i],
            "le_se": areas["le_se"].to_numpy(float)[area_i],
        }
    )
    out, weights = _weighted_mean(pairs, pts["stop_id"], "buffer", weight, plain="area")
    lost = int(out["area_id"].isna().sum())
    if lost:
        warnings.warn(
            f"{lost} of {len(out)} stops have no area within {radius_m:g} m and stay missing",
            GradientWarning,
            stacklevel=2,
        )
    return (out, weights) if return_weights else out


def _weighted_mean(
    pairs: pd.DataFrame, stop_ids: pd.Series, method: str, weighting: str, plain: str = ""
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-stop weighted means from ``pairs`` (``stop`` position, ``area_id``, ``w``, ``le``, ``le_se``).

    Returns the assignment (``ASSIGNMENT_COLUMNS``, ``n_areas``, ``method``,
    ``weighting``) and the weights table; areas without an estimate are left out of the mean.
    Where population weights give a stop nothing (nobody lives in its catchment), its
    areas are weighted by ``w_plain`` (overlap or street length), and ``weighting`` says
    ``plain`` for that stop.
    """
    fallback = pd.Series(False, index=pd.RangeIndex(len(stop_ids)))
    if "w_plain" in pairs and weighting in ("population", "length x population"):
        nobody = pairs.groupby("stop")["w"].sum() <= 0
        use = pairs["stop"].isin(nobody[nobody].index)
        pairs = pairs.assign(w=np.where(use, pairs["w_plain"], pairs["w"]))
        fallback[nobody[nobody].index] = True
    pairs = pairs[pairs["w"] > 0]
    dominant = (
        pairs.sort_values(["stop", "w", "area_id"], ascending=[True, False, True], kind="stable")
        .drop_duplicates("stop")
        .set_index("stop")["area_id"]
    )
    valued = pairs[pairs["le"].notna()].copy()
    valued["w"] = valued["w"] / valued.groupby("stop")["w"].transform("sum")
    valued["wle"] = valued["w"] * valued["le"]
    valued["wse2"] = (valued["w"] * valued["le_se"]) ** 2
    g = valued.groupby("stop")
    le = g["wle"].sum()
    se = np.sqrt(g["wse2"].sum(min_count=1)).where(g["le_se"].count() == g.size())
    n = pd.RangeIndex(len(stop_ids))
    out = pd.DataFrame({"stop_id": stop_ids.astype("string").to_numpy()})
    out["area_id"] = dominant.reindex(n).astype("string").to_numpy()
    out["le"] = le.reindex(n).to_numpy(float)
    out["le_se"] = se.reindex(n).to_numpy(float)
    out["n_areas"] = g.size().reindex(n).fillna(0).astype(int).to_numpy()
    out["method"] = method
    out["weighting"] = np.where(fallback.to_numpy(), plain, weighting)
    out = out[ASSIGNMENT_COLUMNS + ["n_areas", "method", "weighting"]]
    weights = pd.DataFrame(
        {
            "stop_id": out["stop_id"].to_numpy()[valued["stop"].to_numpy()],
            "area_id": valued["area_id"].astype("string").to_numpy(),
            "weight": valued["w"].to_numpy(),
            "area_le": valued["le"].to_numpy(),
            "le_se": valued["le_se"].to_numpy(),
        }
    )
    return out, weights


def assign_network(
    stops: pd.DataFrame,
    areas: Areas | gpd.GeoDataFrame,
    network,
    walk_m: float = WALK_M,
    snap_m: float | None = None,
    radius_m: float = RADIUS_M,
    weight: str = "auto",
    crs: str | CRS | None = None,
    return_weights: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """Give each stop the mean life expectancy of the areas along the streets it can walk to.

    A stop's catchment is the street network reachable within ``walk_m`` metres of
    walking (:func:`gradient.assign.streets.catchment_lengths`: the stop joins its nearest
    street, one-way tags are ignored, partly reachable streets count their reachable
    stretch). Area *i* is weighted by the **length of reachable street inside it**
    (``weight="length"``), or that length times the area's population density
    (``weight="population"``; ``"auto"`` uses population where the areas have it).

    Why street length, not the area of a buffered hull of the reachable streets: the
    length is exactly what the walk reaches, with no second radius to choose; people
    live along streets, so street length follows where they are better than a hull,
    which fills parks, rail yards and river between two reachable streets; and it adds
    up piece by piece, so it needs no polygon per stop (a hull would reinstate the
    circle-through-buildings this method replaces).

    Weights are normalised over the areas *with an estimate* (an area without one is
    left out, never counted as 0); the standard error is as in :func:`assign_buffer`.

    Stops the network does not reach (farther than ``snap_m`` from every street, e.g.
    outside the extract) fall back to :func:`assign_buffer` with ``radius_m``, with a
    :class:`GradientWarning` giving the count; their ``method`` is ``buffer``. Note that
    a stop near the edge of the extract is assigned on the part of its walk that
    the extract holds.

    Parameters
    ----------
    stops : pandas.DataFrame
        Columns ``stop_id``, ``lon``, ``lat`` (WGS84); repeated stop ids are looked up once.
    areas : Areas or geopandas.GeoDataFrame
        ``AREA_COLUMNS`` (plus ``population`` for density weights).
    network : networkx.MultiDiGraph
        osmnx street network with a ``crs`` (:func:`gradient.assign.streets.load_network`);
        a walking network is best, a drive network walks along the roads only.
    walk_m : float, default 400
        Walk along the streets, metres.
    snap_m : float, optional
        Farthest a stop may be from the network, metres; default
        :data:`gradient.options.SNAP_M` (100).
    radius_m : float, default 200
        Buffer radius for the stops the network does not reach.
    weight : {'auto', 'length', 'population'}
    crs : str, optional
        Metric CRS; default the stops' UTM zone.
    return_weights : bool, default False
        Also return the weights table (see :func:`assign`).

    Returns
    -------
    pandas.DataFrame
        One row per distinct stop: ``stop_id``; ``area_id``, the area with the largest
        weight (ties to the smaller id; NA if the walk reaches no area); ``le`` and
        ``le_se`` (years, the weighted mean and its standard error; NaN where no
        reached area has an estimate); ``n_areas`` (areas that contributed a value);
        ``method`` (``network``, or ``buffer`` for the fallback); ``weighting``
        (``length`` or ``length x population``, ``area`` or ``population`` for the fallback).

    Raises
    ------
    OptionError
        If ``walk_m`` or ``snap_m`` is not positive, or ``weight`` is unknown or asks
        for a population the areas do not have.

    Warns
    -----
    GradientWarning
        With the count of stops that fell back to buffers, and of stops whose walk
        reaches no area.
    """
    areas = as_areas(areas).frame
    from .streets import catchment_lengths

    snap_m = SNAP_M if snap_m is None else snap_m
    if not walk_m > 0:
        raise OptionError(f"walk_m={walk_m!r} must be a positive number of metres", param="walk_m")
    if not snap_m > 0:
        raise OptionError(f"snap_m={snap_m!r} must be a positive number of metres", param="snap_m")
    weight = _weight_mode(weight, areas, plain="length")
    pts = _stop_points(stops)
    crs = crs or metric_crs(pts["lon"], pts["lat"])
    lengths, snapped = catchment_lengths(network, pts, areas, walk_m=walk_m, snap_m=snap_m, crs=crs)
    w = lengths["length_m"].to_numpy(float)
    ai = lengths["area"].to_numpy(int)
    if weight == "population":
        density = areas["population"].to_numpy(float) / shapely.area(np.asarray(areas.to_crs(crs).geometry.array))
        w = w * np.nan_to_num(density[ai])
    pairs = pd.DataFrame(
        {
            "w_plain": lengths["length_m"].to_numpy(float),
            "stop": lengths["stop"].to_numpy(int),
            "area_id": areas["area_id"].to_numpy()[ai],
            "w": w,
            "le": areas["le"].to_numpy(float)[ai],
            "le_se": areas["le_se"].to_numpy(float)[ai],
        }
    )
    out, weights = _weighted_mean(
        pairs, pts["stop_id"], "network", "length x population" if weight == "population" else "length", plain="length"
    )
    lost = int((out["area_id"].isna() & snapped).sum())
    if lost:
        warnings.warn(
            f"{lost} of {len(out)} stops reach no area within a {walk_m:g} m walk and stay missing",
            GradientWarning,
            stacklevel=2,
        )
    n_off = int((~snapped).sum())
    if n_off:
        warnings.warn(
            f"{n_off} of {len(out)} stops are over {snap_m:g} m from the street network and take "
            f"{radius_m:g} m buffers instead",
            GradientWarning,
            stacklevel=2,
        )
        off = pts[~snapped]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", GradientWarning)  # counted in the warning above
            b_out, b_weights = assign_buffer(
                off,
                areas,
                radius_m=radius_m,
                weight=weight if weight == "population" else "area",
                crs=crs,
                return_weights=True,
            )
        out = pd.concat([out[snapped], b_out], ignore_index=True)
        out = out.set_index("stop_id").loc[pts["stop_id"].astype("string")].reset_index()
        weights = pd.concat([weights, b_weights], ignore_index=True)
    if not return_weights:
        return out
    return out, weights.reset_index(drop=True)


def context_at_stops(weights: pd.DataFrame, context: pd.Series) -> pd.Series:
    """Each stop's value of a second measure, from the same areas with the same weights as its ``le``.

    Parameters
    ----------
    weights : pandas.DataFrame
        The weights table of :func:`assign`.
    context : pandas.Series
        The measure by area id (``areas["context"]``, :func:`gradient.areas.attributes.add_context`).

    Returns
    -------
    pandas.Series
        By stop id: the weighted mean of its areas' values, the weights normalised over the
        areas that have one (NaN where none has; never 0).
    """
    w = weights[["stop_id", "area_id", "weight"]].copy()
    w["c"] = context.reindex(w["area_id"]).to_numpy(float)
    w = w[np.isfinite(w["c"])]
    w["wc"] = w["weight"] * w["c"]
    g = w.groupby("stop_id", sort=False)
    return g["wc"].sum() / g["weight"].sum()


def assign(
    stops: pd.DataFrame,
    areas: Areas | gpd.GeoDataFrame,
    method: str = "point",
    radius_m: float = RADIUS_M,
    crs: str | CRS | None = None,
    return_weights: bool = False,
    network=None,
    walk_m: float = WALK_M,
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """Assign life expectancy to stops by ``method`` (``point``, ``buffer`` or ``network``).

    See :func:`assign_point`, :func:`assign_buffer` and :func:`assign_network` for the
    output columns; ``network`` and ``walk_m`` are for the ``network`` method.
    With ``return_weights``, also returns the *weights table*, one row per stop
    and area that contributed a value: ``stop_id``, ``area_id``, ``weight``
    (summing to 1 for each stop), ``area_le`` and ``le_se`` (the area's estimate and
    standard error, years).
    A stop's ``le`` is ``sum(weight * area le)``; :mod:`gradient.stats.figures` uses the
    table to give exact standard errors of differences between stops that share
    areas.

    Raises
    ------
    OptionError
        If the method is unknown (the message lists the known ones), or is
        ``network`` without a ``network``.
    """
    areas = as_areas(areas).frame
    if method == "point":
        return assign_point(stops, areas, crs=crs, return_weights=return_weights)
    if method == "buffer":
        return assign_buffer(stops, areas, radius_m=radius_m, crs=crs, return_weights=return_weights)
    if method == "network":
        if network is None:
            raise OptionError(
                "method='network' needs a street network: give network=GRAPH (gradient.assign.streets.load_network)",
                param="network",
            )
        return assign_network(
            stops, areas, network, walk_m=walk_m, radius_m=radius_m, crs=crs, return_weights=return_weights
        )
    raise OptionError(f"method={method!r} is not one of {', '.join(METHODS)}", param="method")
