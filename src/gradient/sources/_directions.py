"""Directions of trips whose feed does not give them (``direction_id`` is optional in GTFS).

Without ``direction_id`` a route's two directions would fall into one group and one of
them would be lost. :func:`infer_directions` puts them back apart, per route:

1. Trips are already grouped by their ordered stop list (one *key* per list).
2. A blank trip whose stop list other trips run with a ``direction_id`` takes theirs
   (the most common).
3. Every other list is compared with the route's *reference*: its busiest list among
   trips with a direction (which keeps that direction), else its busiest list overall
   (ties: the longer, then the first), which becomes direction 0. The list's stops are
   located along the reference's stops (a polyline, in local metres): if they advance
   along it, the list runs the reference's way; if they go back, the other way (where
   they do neither, the directions from first to last stop decide).

On HART's 2018 feed with ``direction_id`` removed this puts all 85 main patterns (and
116 of its 118 distinct stop lists) in the directions the feed gives; the two others
are short pieces of an express route whose trips are chained segments sharing no
street with its busiest one. Work is one small shapely call per distinct stop list,
never per trip or stop time.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd
import shapely


def infer_directions(
    trips: pd.DataFrame,
    stops_of: Callable[[int], np.ndarray],
    lon: np.ndarray,
    lat: np.ndarray,
) -> tuple[pd.Series, dict[str, int]]:
    """Fill the blank ``direction_id`` of trips from the order in which they pass their route's stops.

    Parameters
    ----------
    trips : pandas.DataFrame
        One row per trip: ``route_id``, ``direction_id`` (``Int64``, NA where
        blank), ``key`` (equal for equal ordered stop lists), ``trip_n`` (the trip's
        order) and ``n_stops``.
    stops_of : callable
        The stop codes, in order, of the stop list ``key``.
    lon, lat : numpy.ndarray
        WGS84 coordinates of each stop code.

    Returns
    -------
    direction : pandas.Series
        ``Int64``, aligned with ``trips``: the given direction where there is one,
        else the inferred 0 or 1.
    counts : dict
        ``trips`` (trips given a direction), ``routes`` (routes with any),
        ``whole_routes`` (routes none of whose trips had a direction).
    """
    direction = trips["direction_id"].astype("Int64").copy()
    blank = direction.isna().to_numpy(bool)
    counts = {"trips": int(blank.sum()), "routes": 0, "whole_routes": 0}
    if not blank.any():
        return direction, counts
    # one row per route and stop list: how many trips run it, with which known direction
    lists = (
        trips.assign(_d=direction, _blank=blank)
        .groupby(["route_id", "key"], sort=False)
        .agg(
            n=("trip_n", "size"),
            first=("trip_n", "min"),
            n_stops=("n_stops", "first"),
            any_blank=("_blank", "any"),
            known=("_d", lambda d: d.mode().iloc[0] if d.notna().any() else pd.NA),
        )
        .reset_index()
    )
    lat0 = np.radians(np.nanmedian(lat)) if len(lat) else 0.0
    xy = np.column_stack([np.radians(lon) * np.cos(lat0), np.radians(lat)]) * 6371000.0
    inferred: dict[tuple, int] = {}
    for route, group in lists[lists["route_id"].isin(lists.loc[lists["any_blank"], "route_id"])].groupby(
        "route_id", sort=False
    ):
        counts["routes"] += 1
        has_known = group["known"].notna()
        counts["whole_routes"] += int(not has_known.any())
        pool = group[has_known] if has_known.any() else group
        ref = pool.sort_values(["n", "n_stops", "first"], ascending=[False, False, True], kind="stable").iloc[0]
        ref_dir = int(ref["known"]) if has_known.any() else 0
        ref_pts = xy[stops_of(int(ref["key"]))]
        for row in group[group["any_blank"]].itertuples():
            if pd.notna(row.known):
                inferred[(route, row.key)] = int(row.known)
                continue
            same = _same_way(xy[stops_of(int(row.key))], ref_pts)
            inferred[(route, row.key)] = ref_dir if same else 1 - ref_dir
    pairs = pd.MultiIndex.from_arrays([trips["route_id"].to_numpy(), trips["key"].to_numpy()])
    guess = pd.Series(inferred, dtype="Int64").reindex(pairs).to_numpy()
    direction[blank] = guess[blank]
    return direction, counts


def _same_way(pts: np.ndarray, ref: np.ndarray) -> bool:
    """Whether stops ``pts`` (in order, metres) run the same way as the reference stops ``ref``.

    Each stop is located along the reference's stop line; the steps between
    consecutive stops vote by their sign. A tied vote (or a reference of one point)
    leaves it to the directions from first to last stop.
    """
    if len(np.unique(ref, axis=0)) >= 2 and len(pts) >= 2:
        pos = shapely.line_locate_point(shapely.LineString(ref), shapely.points(pts))
        vote = np.sign(np.diff(pos)).sum()
        if vote != 0:
            return bool(vote > 0)
    return bool(np.dot(pts[-1] - pts[0], ref[-1] - ref[0]) >= 0)


def message(counts: dict[str, int], n_routes: int, column_absent: bool) -> str:
    """The warning that says directions were inferred, with its counts."""
    how = "from the order in which each of their stop lists passes the stops of the route's busiest one"
    if column_absent:
        return (
            f"trips.txt has no direction_id: the directions of all {n_routes} routes ({counts['trips']} trips) "
            f"were inferred {how}"
        )
    whole = f", {counts['whole_routes']} of them with none given" if counts["whole_routes"] else ""
    return (
        f"direction_id is blank for {counts['trips']} trips on {counts['routes']} of {n_routes} routes{whole}: "
        f"their directions were inferred {how}"
    )
