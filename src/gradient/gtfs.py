"""GTFS feeds to stop patterns.

A *stop pattern* is one distinct ordered list of stops that trips of one route and
direction run. Work is done once per pattern, never per trip: trips are grouped by
their stop list with numpy, and distances are measured once per pattern on the
shape its trips use most.
"""

from __future__ import annotations

import logging
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import gtfs_kit as gk
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from . import feedcheck
from .errors import FeedError, GradientWarning
from .geometry import monotone_along, straight_along
from .schema import PATTERN_COLUMNS, PATTERN_STOP_COLUMNS, WGS84, metric_crs, pattern_ids

log = logging.getLogger(__name__)

REQUIRED = {
    "routes": ["route_id"],
    "trips": ["trip_id", "route_id"],
    "stops": ["stop_id", "stop_lat", "stop_lon"],
    "stop_times": ["trip_id", "stop_id", "stop_sequence"],
}
"""Tables and columns a feed must have."""


def read_feed(path: str | Path) -> gk.Feed:
    """Read a GTFS feed (zip file or folder) with gtfs-kit and check what we need.

    Parameters
    ----------
    path : str or Path
        A GTFS zip archive or a folder of GTFS ``.txt`` files.

    Returns
    -------
    gtfs_kit.Feed

    Raises
    ------
    FeedError
        If the path does not exist, is not a GTFS feed, is not UTF-8, lacks a
        required table or column (see ``REQUIRED``), or fails a check of
        :mod:`gradient.feedcheck` (unsafe or absurd zip, duplicate ids, impossible or
        swapped coordinates). Times that are not ``H:MM:SS`` only warn.

    Notes
    -----
    A zip whose files sit in one sub-folder is read as if they were at its root
    (gtfs-kit reads members by their file name); nothing is ever unpacked to disk.
    """
    path = Path(path)
    if not path.exists():
        raise FeedError("no such file or folder; give a GTFS zip or folder", path)
    if path.is_file():
        if not zipfile.is_zipfile(path):
            raise FeedError("not a zip archive; give a GTFS zip or folder", path)
        feedcheck.check_zip(path)
    try:
        feed = gk.read_feed(path, dist_units="km")
    except UnicodeDecodeError as exc:
        raise FeedError(
            f"is not UTF-8 text ({exc.reason} at byte {exc.start}); GTFS files must be UTF-8, so re-save them "
            "as UTF-8",
            path,
        ) from exc
    except (ValueError, KeyError, zipfile.BadZipFile, pd.errors.ParserError) as exc:
        raise FeedError(f"cannot read as GTFS ({' '.join(str(exc).split())})", path) from exc
    for table, columns in REQUIRED.items():
        frame = getattr(feed, table, None)
        if frame is None:
            raise FeedError(f"the feed has no {table}.txt", path)
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise FeedError(f"{table}.txt lacks the column(s) {', '.join(missing)}", path)
    feedcheck.check_feed(feed, path)
    return feed


def _seconds(times: pd.Series) -> np.ndarray:
    """GTFS ``H:MM:SS`` / ``HH:MM:SS`` strings to seconds (NaN where blank or malformed).

    Parses each distinct string once: a feed repeats a few thousand times many times.
    """
    codes, uniques = pd.factorize(times.astype("string"), use_na_sentinel=True)
    parts = pd.Series(uniques, dtype="string").str.split(":", n=2, expand=True)
    if len(uniques) == 0 or parts.shape[1] < 3:
        return np.full(len(times), np.nan)
    nums = parts.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    secs = np.append(nums[:, 0] * 3600 + nums[:, 1] * 60 + nums[:, 2], np.nan)
    return secs[codes]  # the sentinel -1 picks the trailing NaN


def _trip_keys(stop_times: pd.DataFrame, stop_codes: np.ndarray) -> tuple[pd.Series, np.ndarray]:
    """One bytes key per trip: its ordered stop codes. Returns (keys by trip, trip starts)."""
    trip = stop_times["trip_id"].to_numpy()
    starts = np.flatnonzero(np.r_[True, trip[1:] != trip[:-1]])
    bounds = np.r_[starts, len(trip)]
    keys = [stop_codes[a:b].tobytes() for a, b in zip(bounds[:-1], bounds[1:])]
    return pd.Series(keys, index=trip[starts], name="key"), starts


def stop_patterns(
    feed: gk.Feed, all_patterns: bool = False, crs: str | None = None, path: str | Path | None = None
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Find each route and direction's stop patterns and measure stops along them.

    Parameters
    ----------
    feed : gtfs_kit.Feed
        As returned by :func:`read_feed`.
    all_patterns : bool, default False
        Return every distinct pattern; by default only each route and direction's
        main one (the ordered stop list the most trips run; ties go to the longer,
        then to the first in stop order).
    crs : str, optional
        Metric CRS to measure in; default the local UTM zone.
    path : str or Path, optional
        The feed's file, named in error messages.

    Returns
    -------
    patterns : geopandas.GeoDataFrame
        One row per pattern, EPSG:4326, columns ``PATTERN_COLUMNS`` plus
        ``rank`` (1 for the main pattern of its route and direction) and
        ``geometry`` (the route line from the first to the last stop).
        ``geometry_source`` is ``shape`` or ``straight_line`` (no usable shape).
    pattern_stops : pandas.DataFrame
        One row per stop per pattern, ordered by ``pattern_id`` and
        ``stop_sequence``; columns ``PATTERN_STOP_COLUMNS`` plus ``minutes``
        (median scheduled minutes from the first stop over the pattern's trips,
        NaN where the feed gives no times) and ``offset_m`` (metres from the stop to
        the route line).

    Raises
    ------
    FeedError
        If stop_times refers to stops or trips the feed does not define, or no
        trip has two stops.
    """
    st = feed.stop_times[["trip_id", "stop_id", "stop_sequence", "arrival_time"]]
    st = st.sort_values(["trip_id", "stop_sequence"], kind="stable").reset_index(drop=True)
    stops = feed.stops.drop_duplicates("stop_id").set_index("stop_id")
    unknown = ~st["stop_id"].isin(stops.index)
    if unknown.any():
        examples = ", ".join(st.loc[unknown, "stop_id"].astype(str).unique()[:3])
        raise FeedError(
            f"stop_times.txt refers to {unknown.sum()} stop(s) missing from stops.txt (e.g. {examples})",
            path,
        )
    trips = feed.trips.drop_duplicates("trip_id").set_index("trip_id")
    orphan = ~st["trip_id"].isin(trips.index)
    if orphan.any():
        examples = ", ".join(st.loc[orphan, "trip_id"].astype(str).unique()[:3])
        raise FeedError(
            f"stop_times.txt refers to {orphan.sum()} row(s) of trips missing from trips.txt (e.g. {examples})",
            path,
        )

    stop_codes, stop_index = pd.factorize(st["stop_id"])
    stop_codes = stop_codes.astype(np.int32)
    keys, starts = _trip_keys(st, stop_codes)

    # Scheduled minutes from each trip's first stop, per stop time.
    secs = _seconds(st["arrival_time"]) if "arrival_time" in st else np.full(len(st), np.nan)
    trip_pos = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(st)]))
    minutes = (secs - secs[starts][trip_pos]) / 60.0

    t = trips.reindex(keys.index)
    direction = t["direction_id"] if "direction_id" in t else pd.Series(pd.NA, index=t.index)
    shape = t["shape_id"] if "shape_id" in t else pd.Series(pd.NA, index=t.index)
    trip_table = pd.DataFrame(
        {
            "route_id": t["route_id"].astype("string").to_numpy(),
            "direction_id": direction.astype("Int64").to_numpy(),
            "shape_id": shape.astype("string").to_numpy(),
            "key": keys.to_numpy(),
            "trip_n": np.arange(len(keys)),
        }
    )
    trip_table["n_stops"] = trip_table["key"].map(len) // 4
    short = trip_table["n_stops"] < 2
    if short.all():
        raise FeedError("no trip serves two or more stops", path)
    if short.any():
        examples = ", ".join(map(str, keys.index[trip_table.index[short]][:3]))
        warnings.warn(
            f"{int(short.sum())} of {len(trip_table)} trips serve a single stop and are left out "
            f"(e.g. trip {examples})",
            GradientWarning,
            stacklevel=2,
        )
        trip_table = trip_table[~short]

    group = ["route_id", "direction_id", "key"]
    pats = (
        trip_table.groupby(group, dropna=False, sort=False)
        .agg(n_trips=("trip_n", "size"), first_trip=("trip_n", "min"), n_stops=("n_stops", "first"))
        .reset_index()
    )
    shape_mode = (
        trip_table.dropna(subset=["shape_id"])
        .groupby(group + ["shape_id"], dropna=False, sort=False)
        .size()
        .rename("n")
        .reset_index()
        .sort_values(["n", "shape_id"], ascending=[False, True], kind="stable")
        .drop_duplicates(group)
    )
    pats = pats.merge(shape_mode[group + ["shape_id"]], on=group, how="left")
    pats = pats.sort_values(
        ["route_id", "direction_id", "n_trips", "n_stops", "first_trip"],
        ascending=[True, True, False, False, True],
        kind="stable",
    )
    pats["rank"] = pats.groupby(["route_id", "direction_id"], dropna=False).cumcount() + 1
    if not all_patterns:
        pats = pats[pats["rank"] == 1]
    pats = pats.reset_index(drop=True)
    routes = feed.routes.drop_duplicates("route_id").set_index("route_id")
    short = routes["route_short_name"] if "route_short_name" in routes else pd.Series(pd.NA, index=routes.index)
    name = short.astype("string").replace("", pd.NA)
    names = pd.Series(name.reindex(pats["route_id"]).to_numpy(), dtype="string")
    pats["route_name"] = names.fillna(pats["route_id"].astype("string"))
    pats["pattern_id"] = pattern_ids(pats)

    # Stops of every pattern, in order, from the pattern keys.
    codes = [np.frombuffer(k, dtype=np.int32) for k in pats["key"]]
    lengths = np.array([len(c) for c in codes])
    flat = np.concatenate(codes)
    ps = pd.DataFrame(
        {
            "pattern_id": np.repeat(pats["pattern_id"].to_numpy(), lengths),
            "stop_sequence": np.concatenate([np.arange(1, n + 1) for n in lengths]),
            "stop_id": pd.array(stop_index[flat], dtype="string"),
        }
    )
    ps["stop_name"] = stops["stop_name"].reindex(ps["stop_id"]).astype("string").to_numpy() if "stop_name" in stops else pd.NA
    ps["lon"] = stops["stop_lon"].reindex(ps["stop_id"]).to_numpy(dtype=float)
    ps["lat"] = stops["stop_lat"].reindex(ps["stop_id"]).to_numpy(dtype=float)
    # Median scheduled minutes over the pattern's trips (trips with identical stop lists).
    trip_pattern = trip_table.merge(pats[group + ["pattern_id"]], on=group)[["trip_n", "pattern_id"]]
    m = pd.DataFrame({"trip_n": trip_pos, "minutes": minutes})
    m["stop_sequence"] = np.arange(len(st)) - starts[trip_pos] + 1
    m = m.merge(trip_pattern, on="trip_n")
    med = m.groupby(["pattern_id", "stop_sequence"])["minutes"].median()
    ps["minutes"] = med.reindex(pd.MultiIndex.from_frame(ps[["pattern_id", "stop_sequence"]])).to_numpy()

    crs = crs or metric_crs(ps["lon"], ps["lat"])
    shapes = _shape_lines(feed, crs)
    ps, geoms, sources = _measure(pats, ps, shapes, crs)
    pats["geometry_source"] = sources
    pats["n_stops"] = lengths
    out = gpd.GeoDataFrame(pats[PATTERN_COLUMNS + ["rank"]], geometry=geoms, crs=WGS84)
    n_straight = int((out["geometry_source"] == "straight_line").sum())
    if n_straight:
        warnings.warn(
            f"{n_straight} of {len(out)} patterns have no shape in the feed; "
            "their distances and lines are straight lines between stops",
            GradientWarning,
            stacklevel=2,
        )
    ps = ps.sort_values(["pattern_id", "stop_sequence"], kind="stable").reset_index(drop=True)
    out = out.sort_values("pattern_id", kind="stable").reset_index(drop=True)
    return out, ps[PATTERN_STOP_COLUMNS + ["minutes", "offset_m"]]


def _shape_lines(feed: gk.Feed, crs) -> dict[str, np.ndarray]:
    """Each shape's vertices in the metric CRS, in ``shape_pt_sequence`` order."""
    shapes = getattr(feed, "shapes", None)
    if shapes is None or shapes.empty:
        return {}
    s = shapes.sort_values(["shape_id", "shape_pt_sequence"], kind="stable")
    tr = Transformer.from_crs(WGS84, crs, always_xy=True)
    x, y = tr.transform(s["shape_pt_lon"].to_numpy(float), s["shape_pt_lat"].to_numpy(float))
    xy = np.column_stack([x, y])
    ids = s["shape_id"].astype(str).to_numpy()
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    bounds = np.r_[starts, len(ids)]
    return {ids[a]: xy[a:b] for a, b in zip(bounds[:-1], bounds[1:]) if b - a >= 2}


def _measure(pats: pd.DataFrame, ps: pd.DataFrame, shapes: dict[str, np.ndarray], crs):
    """Distances along each pattern's shape (or straight lines); geometry per pattern."""
    to_m = Transformer.from_crs(WGS84, crs, always_xy=True)
    to_deg = Transformer.from_crs(crs, WGS84, always_xy=True)
    x, y = to_m.transform(ps["lon"].to_numpy(float), ps["lat"].to_numpy(float))
    xy = np.column_stack([x, y])
    dist = np.empty(len(ps))
    offset = np.zeros(len(ps))
    geoms, sources = [], []
    starts = np.flatnonzero(np.r_[True, ps["pattern_id"].to_numpy()[1:] != ps["pattern_id"].to_numpy()[:-1]])
    bounds = np.r_[starts, len(ps)]
    for (a, b), shape_id in zip(zip(bounds[:-1], bounds[1:]), pats["shape_id"]):
        pts = xy[a:b]
        line = shapes.get(str(shape_id)) if pd.notna(shape_id) else None
        if line is not None:
            along, off = monotone_along(pts, line)
            piece = shapely.ops.substring(shapely.LineString(line), along[0], along[-1])
            if piece.geom_type != "LineString" or piece.length == 0:
                piece = shapely.LineString(pts)
            dist[a:b] = along - along[0]
            offset[a:b] = off
            sources.append("shape")
        else:
            dist[a:b] = straight_along(pts)
            piece = shapely.LineString(pts)
            sources.append("straight_line")
        geoms.append(shapely.transform(piece, lambda c: np.column_stack(to_deg.transform(c[:, 0], c[:, 1]))))
    out = ps.copy()
    out["dist_m"] = dist
    out["offset_m"] = offset
    return out, geoms, sources
