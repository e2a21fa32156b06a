"""GTFS feeds to stop patterns.

A *stop pattern* is one distinct ordered list of stops that trips of one route and
direction run. Work is done once per pattern, never per trip: trips are grouped by
their stop list with whole-array numpy operations (a hash of each trip's stop codes,
checked exactly against one trip of its group), and distances are measured once per
pattern on the shape its trips use most.

:func:`read_feed` reads a feed into a :class:`Feed` (every field as text exactly as
written, ``stop_times.txt`` by pyarrow); ``engine="gtfs-kit"`` reads it with gtfs-kit
instead, and :func:`stop_patterns` also takes a ``gtfs_kit.Feed`` directly.
"""

from __future__ import annotations

import logging
import warnings
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
from pyproj import Transformer

from .. import _arrays
from ..errors import FeedError, GradientError, GradientWarning, NotStreamed, OptionError
from ..options import ENGINES
from ..schema import PATTERN_COLUMNS, PATTERN_STOP_COLUMNS, WGS84, metric_crs, pattern_ids
from . import _directions, _feedcheck, _gtfs_read, _stream, _times, _trips
from ._collapse import Collapsed, Collector
from ._directions import infer_directions
from ._gtfs_read import REQUIRED  # noqa: F401  (documented here)
from ._gtfs_tables import DAMAGED
from ._measure import along_lines, shape_fit, shape_lines, to_wgs84
from ._routes import match_routes

log = logging.getLogger(__name__)


@dataclass
class Feed:
    """The tables of a GTFS feed that `gradient` uses.

    Attributes
    ----------
    routes, trips, stops, stop_times : pandas.DataFrame
        As written in the feed: ids and names are text (``string``), never read as
        missing unless empty; ``stop_lat``, ``stop_lon`` are floats, ``direction_id``
        nullable integers, ``stop_sequence`` integers; ``stop_times`` keeps
        ``trip_id``, ``stop_id``, ``stop_sequence``, ``arrival_time`` and
        ``departure_time`` (ids and times as categoricals).
    shapes, agency : pandas.DataFrame or None
        Where the feed has them (``shape_pt_lat``, ``shape_pt_lon`` floats,
        ``shape_pt_sequence`` integers).
    path : pathlib.Path or None
        Where it was read from.
    """

    routes: pd.DataFrame
    trips: pd.DataFrame
    stops: pd.DataFrame
    stop_times: pd.DataFrame
    shapes: pd.DataFrame | None = None
    agency: pd.DataFrame | None = None
    path: Path | None = None

    @property
    def agency_name(self) -> str:
        """The feed's agency name(s), joined with ``and`` (empty when it names none)."""
        if self.agency is None or "agency_name" not in self.agency:
            return ""
        names = [str(n).strip() for n in self.agency["agency_name"].dropna().unique() if str(n).strip()]
        return " and ".join(names)


def read_feed(path: str | Path, engine: str = "pyarrow") -> Feed:
    """Read a GTFS feed (zip file or folder) and check what we need.

    Parameters
    ----------
    path : str or Path
        A GTFS zip archive or a folder of GTFS ``.txt`` files.
    engine : {'pyarrow', 'gtfs-kit'}, default 'pyarrow'
        ``'pyarrow'`` reads every field as text exactly as written (GTFS ids such as
        ``NA`` stay ids) and ``stop_times.txt`` with pyarrow's multi-threaded reader.
        ``'gtfs-kit'`` reads every table with gtfs-kit (which reads ``NA``, ``null``
        and the like as missing); :func:`stop_patterns` gives the same results from
        either on feeds without such values.

    Returns
    -------
    Feed

    Raises
    ------
    FeedError
        If the path does not exist, is not a GTFS feed, is not UTF-8, lacks a
        required table or column (see ``REQUIRED``), has a field that should be a
        number and is not, or fails a check of :mod:`gradient.sources._feedcheck` (unsafe or
        absurd zip, duplicate ids, impossible or swapped coordinates). Times that are
        not ``H:MM:SS`` only warn.
    OptionError
        If ``engine`` is unknown.

    Notes
    -----
    A zip whose files sit in one sub-folder is read as if they were at its root;
    nothing is ever unpacked to disk.
    """
    if engine not in ENGINES:
        raise OptionError(f"engine={engine!r} is not one of {', '.join(ENGINES)}", param="engine")
    path = Path(path)
    if not path.exists():
        raise FeedError("no such file or folder; give a GTFS zip or folder", path)
    if path.is_file():
        if not zipfile.is_zipfile(path):
            raise FeedError("not a zip archive; give a GTFS zip or folder", path)
        _feedcheck.check_zip(path)
    try:
        tables = _gtfs_read.read_gtfs_kit(path) if engine == "gtfs-kit" else _gtfs_read.read_own(path)
        feed = Feed(**tables, path=path)
    except UnicodeDecodeError as exc:
        raise FeedError(
            f"is not UTF-8 text ({exc.reason} at byte {exc.start}); GTFS files must be UTF-8, so re-save them as UTF-8",
            path,
        ) from exc
    except FeedError as exc:
        raise FeedError(exc.message, path, param=exc.param) from exc
    except DAMAGED as exc:  # gtfs-kit's reader: find the member to name
        raise FeedError(
            f"{_gtfs_read.damaged_member(path)} in the zip is damaged ({exc}); download the feed again", path
        ) from exc
    except (ValueError, KeyError, pd.errors.ParserError, pa.ArrowException) as exc:
        raise FeedError(f"cannot read as GTFS ({' '.join(str(exc).split())})", path) from exc
    _feedcheck.check_feed(feed, path)
    return feed


def stop_patterns(
    feed: Feed | str | Path,
    all_patterns: bool = False,
    measure_crs: str | None = None,
    path: str | Path | None = None,
    routes: Sequence[str] | None = None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Find each route and direction's stop patterns and measure stops along them.

    Parameters
    ----------
    feed : Feed, gtfs_kit.Feed, str or Path
        As returned by :func:`read_feed` (or gtfs-kit's own reader), or a GTFS zip or
        folder: then ``stop_times.txt`` is streamed and collapsed as it is read, so memory
        grows with the feed's distinct stop lists and timings, not with its stop times
        (see Notes).
    all_patterns : bool, default False
        Return every distinct pattern; by default only each route and direction's
        main one (the ordered stop list the most trips run; ties go to the longer,
        then to the first in stop order).
    measure_crs : str, optional
        Metric CRS to measure in; default the local UTM zone.
    path : str or Path, optional
        The feed's file, named in error messages (default ``feed.path``, or ``feed``
        itself when it is a path).
    routes : sequence of str, optional
        Only these routes, by ``route_short_name``, ``route_long_name`` or
        ``route_id`` (default all). They are chosen before anything is measured, so
        warnings count only their patterns.

    Returns
    -------
    patterns : geopandas.GeoDataFrame
        One row per pattern, EPSG:4326, ordered by ``pattern_id``; columns
        ``PATTERN_COLUMNS`` plus ``rank`` (1 for the main pattern of its route and
        direction) and ``geometry`` (the route line from the first to the last stop).
        ``route_name`` is ``route_short_name``, else ``route_long_name``, else
        ``route_id``. ``geometry_source`` is ``shape`` or ``straight_line`` (no
        usable shape).
    pattern_stops : pandas.DataFrame
        One row per stop per pattern, ordered by ``pattern_id`` and
        ``stop_sequence``; columns ``PATTERN_STOP_COLUMNS`` plus ``minutes``
        (median scheduled minutes from the first stop over the pattern's trips,
        blank times interpolated by distance, never decreasing; NaN where the feed
        gives no usable times) and ``offset_m`` (metres from the stop to the route
        line).

    Raises
    ------
    FeedError
        If stop_times refers to stops or trips the feed does not define, a trip
        repeats a ``stop_sequence``, or no trip has two stops; given a path, whatever
        :func:`read_feed` raises.
    InputError
        If a name in ``routes`` matches no route (``routes=``).

    Warns
    -----
    GradientWarning
        With counts: trips serving a single stop (left out); directions inferred
        (see Notes); trips left out of scheduled minutes (no time at their first or
        last stop, or times going backwards); patterns without a shape; given a path,
        whatever :func:`read_feed` warns.

    Notes
    -----
    **Directions.** Where ``direction_id`` is absent or blank (GTFS makes it
    optional), directions are inferred by :func:`gradient.sources._directions.infer_directions`:
    trips are grouped by their ordered stop lists, and each list runs the way of its
    route's busiest list or the other way according to the order in which it passes
    that list's stops. Both directions are kept, and a warning says how many routes
    and trips were inferred.

    **Times.** Blank times at stops that are not timepoints are interpolated by
    distance along the pattern, trip by trip, before minutes are computed
    (:mod:`gradient.sources._times`); ``departure_time`` stands in for a blank
    ``arrival_time``.

    **Memory.** Given a path, ``stop_times.txt`` is read in blocks and each trip is
    reduced, as it arrives, to its stop list and its timing (:mod:`gradient.sources._collapse`):
    a national feed's tens of millions of stop times are never held at once. A feed
    that the streamed reader finds anything wrong with is read whole instead, so that
    every error and warning is exactly :func:`read_feed`'s. The results are the same
    either way.
    """
    if isinstance(feed, (str, Path)):
        path = Path(path if path is not None else feed)
        feed, collapsed = _read_collapsed(Path(feed), path)
    else:
        path = path if path is not None else getattr(feed, "path", None)
        collapsed = _collapse_feed(feed, path)
    return _patterns_of(feed, collapsed, all_patterns, measure_crs, path, routes)


def read_patterns(
    source: str | Path,
    engine: str = "pyarrow",
    all_patterns: bool = False,
    routes: Sequence[str] | None = None,
    measure_crs: str | None = None,
    client: Any = None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, str]:
    """A GTFS zip or folder straight to its stop patterns, and the feed's name.

    :func:`stop_patterns` of the path (``stop_times.txt`` streamed, see its Notes), or
    with ``engine='gtfs-kit'`` of the feed gtfs-kit reads. This is how ``gradient run``
    reads a GTFS feed.

    Parameters
    ----------
    source : str or Path
        A GTFS zip or folder.
    engine : {'pyarrow', 'gtfs-kit'}, default 'pyarrow'
        As in :func:`read_feed`.
    all_patterns : bool, default False
        As in :func:`stop_patterns`.
    routes : sequence of str, optional
        As in :func:`stop_patterns`.
    measure_crs : str, optional
        As in :func:`stop_patterns`.
    client : dask.distributed.Client, optional
        Parse and collapse ``stop_times.txt`` on its workers, a block each, and merge here
        (``gradient run --cluster``); the patterns are those of a run without it.

    Returns
    -------
    patterns : geopandas.GeoDataFrame
        As :func:`stop_patterns` returns them.
    pattern_stops : pandas.DataFrame
        As :func:`stop_patterns` returns them.
    name : str
        The feed's agencies (:attr:`Feed.agency_name`), else the file's name.

    Raises
    ------
    FeedError, InputError, OptionError
        As :func:`read_feed` and :func:`stop_patterns` raise them.
    """
    path = Path(source)
    if engine == "gtfs-kit":
        feed = read_feed(path, engine=engine)
        patterns, stops = stop_patterns(feed, all_patterns, measure_crs, path, routes)
    else:
        if engine not in ENGINES:
            raise OptionError(f"engine={engine!r} is not one of {', '.join(ENGINES)}", param="engine")
        feed, collapsed = _read_collapsed(path, client=client)
        patterns, stops = _patterns_of(feed, collapsed, all_patterns, measure_crs, path, routes)
    return patterns, stops, feed.agency_name or path.name


def _read_collapsed(source: Path, path: Path | None = None, client: Any = None) -> tuple[Feed, Collapsed]:
    """A feed's small tables and its stop times collapsed: streamed, or (on anything unusual) read whole.

    Parameters
    ----------
    source : Path
        A GTFS zip or folder.
    path : Path, optional
        Named in errors (default ``source``).
    client : dask.distributed.Client, optional
        Stream the stop times through its workers (:func:`gradient.sources._stream.collapse`);
        a feed read whole is read here.

    Returns
    -------
    (Feed, Collapsed)
        The feed's tables (its ``stop_times`` empty where they were streamed) and the
        collapsed stop times.
    """
    path = path if path is not None else source
    try:
        tables, collapsed, seen = _stream.read(source, client)
        feed = Feed(**tables, stop_times=pd.DataFrame(columns=_gtfs_read.REQUIRED["stop_times"]), path=source)
        _feedcheck.check_tables(feed, path)
        ids = collapsed.stop_index[seen.used]
        _feedcheck.check_coordinates(feed, path, used=ids)
        for col, (n_bad, examples) in seen.bad_times.items():
            _feedcheck.warn_times(path, col, n_bad, seen.n_rows, examples)
        return feed, collapsed
    except (
        NotStreamed,
        GradientError,
        pa.ArrowException,
        UnicodeDecodeError,
        ValueError,
        KeyError,
        OSError,
        *DAMAGED,
    ) as exc:
        log.debug("%s: stop_times.txt read whole (%s: %s)", source, type(exc).__name__, exc)
    feed = read_feed(source)
    return feed, _collapse_feed(feed, path)


def _collapse_feed(feed: Feed, path) -> Collapsed:
    """A feed's stop times, checked against its trips and stops and collapsed (:mod:`gradient.sources._collapse`)."""
    rows = _ordered_rows(feed, path)
    secs = _times.row_seconds(feed.stop_times, rows.order)
    collector = Collector()
    collector.add(rows.trip_rank, rows.stop_codes, _arrays.within(rows.lengths), secs)
    return collector.finish(rows.trip_names, rows.stop_index)


def _patterns_of(
    feed: Feed,
    collapsed: Collapsed,
    all_patterns: bool = False,
    measure_crs: str | None = None,
    path=None,
    routes: Sequence[str] | None = None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """:func:`stop_patterns` from a feed's tables and its collapsed stop times."""
    trips = _trip_table(feed, collapsed, path)
    trips = _keep_routes(feed, trips, routes, path)
    trips = _directions_of(feed, collapsed, trips)
    pats = _choose_patterns(trips, all_patterns)
    pats["route_name"] = _route_names(feed.routes, pats["route_id"])
    pats["pattern_id"] = pattern_ids(pats)
    ps = _pattern_stop_rows(feed, collapsed, pats)
    patterns = _measure(feed, pats, ps, measure_crs)
    ps["minutes"] = _minutes(collapsed, trips, pats, ps)
    ps = ps.sort_values(["pattern_id", "stop_sequence"], kind="stable").reset_index(drop=True)
    patterns = patterns.sort_values("pattern_id", kind="stable").reset_index(drop=True)
    return patterns, ps[PATTERN_STOP_COLUMNS + ["minutes", "offset_m"]]


@dataclass
class _Rows:
    """``stop_times`` in (trip, stop_sequence) order, as codes."""

    order: np.ndarray  # row order
    trip_rank: np.ndarray  # each ordered row's trip, as its rank in string order
    trip_names: pd.Index  # trip ids by rank
    stop_codes: np.ndarray  # each ordered row's stop, as a code into stop_index
    stop_index: pd.Index
    starts: np.ndarray  # first ordered row of each trip
    lengths: np.ndarray  # stop times of each trip


def _ordered_rows(feed: Feed, path) -> _Rows:
    """Step 1: order the stop times by trip and sequence, and check what they refer to."""
    st = feed.stop_times
    order, trip_rank, trip_names = _trips.trip_order(st)
    stop_codes, stop_index = _trips.id_codes(st["stop_id"])
    stop_codes = stop_codes[order]
    n_bad, examples = _trips.unknown(stop_codes, stop_index, feed.stops["stop_id"].drop_duplicates())
    if n_bad:
        raise FeedError(
            f"stop_times.txt refers to {n_bad} stop(s) missing from stops.txt (e.g. {', '.join(examples)})",
            path,
        )
    n_bad, examples = _trips.unknown(trip_rank, trip_names, feed.trips["trip_id"].drop_duplicates())
    if n_bad:
        raise FeedError(
            f"stop_times.txt refers to {n_bad} row(s) of trips missing from trips.txt (e.g. {', '.join(examples)})",
            path,
        )
    seq = np.asarray(st["stop_sequence"].to_numpy(dtype=np.float64 if st["stop_sequence"].hasnans else None))[order]
    twice = (trip_rank[1:] == trip_rank[:-1]) & (seq[1:] == seq[:-1])
    if twice.any():
        at = int(np.flatnonzero(twice)[0])
        n_trips = len(np.unique(trip_rank[1:][twice]))
        raise FeedError(
            f"stop_times.txt: trip {trip_names[trip_rank[at]]} has stop_sequence {seq[at]} on more than one stop "
            f"({n_trips} trip(s) repeat a stop_sequence); the order of their stops cannot be told",
            path,
        )
    starts = np.flatnonzero(np.r_[True, trip_rank[1:] != trip_rank[:-1]])
    lengths = np.diff(np.r_[starts, len(order)])
    return _Rows(order, trip_rank, trip_names, stop_codes, stop_index, starts, lengths)


def _trip_table(feed: Feed, collapsed: Collapsed, path) -> pd.DataFrame:
    """Step 2: one row per trip with two or more stops: route, direction, shape, pattern key."""
    names = collapsed.trip_ids
    if collapsed.trip_rows is not None:  # each trip's row in trips.txt is known: no lookup of every id
        t = feed.trips.iloc[collapsed.trip_rows]
    else:
        t = feed.trips.drop_duplicates("trip_id").set_index("trip_id").reindex(names)
    direction = t["direction_id"] if "direction_id" in t else pd.Series(pd.NA, index=t.index)
    shape = t["shape_id"] if "shape_id" in t else pd.Series(pd.NA, index=t.index)
    table = pd.DataFrame(
        {
            "route_id": t["route_id"].astype("string").to_numpy(),
            "direction_id": direction.astype("Int64").to_numpy(),
            "shape_id": shape.astype("string").to_numpy(),
            "key": collapsed.pattern,
            "trip_n": np.arange(len(names)),
            "n_stops": collapsed.n_stops,
        }
    )
    short = table["n_stops"] < 2
    if short.all():
        raise FeedError("no trip serves two or more stops", path)
    if short.any():
        examples = ", ".join(map(str, names[short.to_numpy()][:3]))
        warnings.warn(
            f"{int(short.sum())} of {len(table)} trips serve a single stop and are left out (e.g. trip {examples})",
            GradientWarning,
            stacklevel=3,
        )
        table = table[~short]
    return table


def _keep_routes(feed: Feed, trips: pd.DataFrame, routes: Sequence[str] | None, path) -> pd.DataFrame:
    """Step 3: the trips of the routes asked for (by short name, long name or id)."""
    if not routes:
        return trips
    table = feed.routes.drop_duplicates("route_id")
    table = table[_trips.isin(table["route_id"].astype(str), trips["route_id"].astype(str))]
    keep = match_routes(table, routes, path)
    return trips[_trips.isin(trips["route_id"].astype(str), table.loc[keep, "route_id"].astype(str))]


def _directions_of(feed: Feed, collapsed: Collapsed, trips: pd.DataFrame) -> pd.DataFrame:
    """Step 4: infer the directions the feed leaves blank, and say so."""
    if not trips["direction_id"].isna().any():
        return trips
    stops = feed.stops.drop_duplicates("stop_id").set_index("stop_id").reindex(collapsed.stop_index)
    direction, counts = infer_directions(
        trips, collapsed.stops_of, stops["stop_lon"].to_numpy(float), stops["stop_lat"].to_numpy(float)
    )
    absent = "direction_id" not in feed.trips or feed.trips["direction_id"].isna().all()
    warnings.warn(_directions.message(counts, trips["route_id"].nunique(), absent), GradientWarning, stacklevel=3)
    return trips.assign(direction_id=direction.to_numpy())


_GROUP = ["route_id", "direction_id", "key"]

MINUTES_ROWS = 2**18
"""Stop times of the patterns' distinct timings worked out at a time for the scheduled minutes."""


def _choose_patterns(trips: pd.DataFrame, all_patterns: bool) -> pd.DataFrame:
    """Step 5: the distinct patterns, ranked within route and direction, with their usual shape."""
    pats = (
        trips.groupby(_GROUP, dropna=False, sort=False)
        .agg(n_trips=("trip_n", "size"), first_trip=("trip_n", "min"), n_stops=("n_stops", "first"))
        .reset_index()
    )
    shape_mode = (
        trips.dropna(subset=["shape_id"])
        .groupby(_GROUP + ["shape_id"], dropna=False, sort=False)
        .size()
        .rename("n")
        .reset_index()
        .sort_values(["n", "shape_id"], ascending=[False, True], kind="stable")
        .drop_duplicates(_GROUP)
    )
    pats = pats.merge(shape_mode[_GROUP + ["shape_id"]], on=_GROUP, how="left")
    pats = pats.sort_values(
        ["route_id", "direction_id", "n_trips", "n_stops", "first_trip"],
        ascending=[True, True, False, False, True],
        kind="stable",
    )
    pats["rank"] = pats.groupby(["route_id", "direction_id"], dropna=False).cumcount() + 1
    if not all_patterns:
        pats = pats[pats["rank"] == 1]
    return pats.reset_index(drop=True)


def _route_names(routes: pd.DataFrame, route_ids: pd.Series) -> pd.Series:
    """Step 6: each pattern's route name: the short name, else the long name, else the id."""
    table = routes.drop_duplicates("route_id").set_index("route_id")
    name = pd.Series(pd.NA, index=route_ids.index, dtype="string")
    for col in ("route_short_name", "route_long_name"):
        if col in table:
            values = table[col].astype("string").str.strip().replace("", pd.NA)
            name = name.fillna(pd.Series(values.reindex(route_ids).to_numpy(), index=route_ids.index, dtype="string"))
    return name.fillna(route_ids.astype("string"))


def _pattern_stop_rows(feed: Feed, collapsed: Collapsed, pats: pd.DataFrame) -> pd.DataFrame:
    """Step 7: the stops of every pattern in order (patterns contiguous, in ``pats`` order)."""
    lengths = pats["n_stops"].to_numpy(np.int64)
    within = _arrays.within(lengths)
    flat = collapsed.pattern_stops[_arrays.ranges(collapsed.pattern_start[pats["key"].to_numpy()], lengths)]
    ps = pd.DataFrame(
        {
            "pattern_id": np.repeat(pats["pattern_id"].to_numpy(), lengths),
            "stop_sequence": within + 1,
            "stop_id": pd.array(np.asarray(collapsed.stop_index[flat], dtype=object), dtype="string"),
        }
    )
    stops = feed.stops.drop_duplicates("stop_id").set_index("stop_id")
    names = stops["stop_name"] if "stop_name" in stops else pd.Series(pd.NA, index=stops.index)
    ps["stop_name"] = names.reindex(ps["stop_id"]).astype("string").to_numpy()
    ps["lon"] = stops["stop_lon"].reindex(ps["stop_id"]).to_numpy(dtype=float)
    ps["lat"] = stops["stop_lat"].reindex(ps["stop_id"]).to_numpy(dtype=float)
    return ps


def _measure(feed: Feed, pats: pd.DataFrame, ps: pd.DataFrame, measure_crs) -> gpd.GeoDataFrame:
    """Step 8: distances along each pattern's usual shape (straight lines without one).

    Adds ``dist_m`` and ``offset_m`` to ``ps`` (in place, in ``pats`` order) and
    returns the patterns with their lines.
    """
    crs = measure_crs or metric_crs(ps["lon"], ps["lat"])
    shapes = shape_lines(getattr(feed, "shapes", None), crs, keep=pats["shape_id"])
    x, y = Transformer.from_crs(WGS84, crs, always_xy=True).transform(
        ps["lon"].to_numpy(float), ps["lat"].to_numpy(float)
    )
    lengths = pats["n_stops"].to_numpy(np.int64)
    starts = np.r_[0, np.cumsum(lengths)[:-1]]
    lines = [shapes.get(str(s)) if pd.notna(s) else None for s in pats["shape_id"]]
    dist, offset, geoms, sources = along_lines(
        np.column_stack([x, y]), np.c_[starts, starts + lengths], shape_fit(lines), "shape"
    )
    ps["dist_m"] = dist
    ps["offset_m"] = offset
    pats["geometry_source"] = sources
    out = gpd.GeoDataFrame(pats[PATTERN_COLUMNS + ["rank"]], geometry=to_wgs84(geoms, crs), crs=WGS84)
    n_straight = int((out["geometry_source"] == "straight_line").sum())
    if n_straight:
        warnings.warn(
            f"{n_straight} of {len(out)} patterns have no shape in the feed; "
            "their distances and lines are straight lines between stops",
            GradientWarning,
            stacklevel=3,
        )
    return out


def _minutes(collapsed: Collapsed, trips: pd.DataFrame, pats: pd.DataFrame, ps: pd.DataFrame) -> np.ndarray:
    """Step 9: median scheduled minutes per pattern stop, blank times interpolated by distance.

    Trips of one pattern that run the same timing are worked out once, standing for all of them.
    """
    lengths = pats["n_stops"].to_numpy(np.int64)
    offsets = np.r_[0, np.cumsum(lengths)[:-1]]
    keyed = pats.assign(_row=np.arange(len(pats)))
    trip_pattern = trips[["trip_n"] + _GROUP].merge(keyed[_GROUP + ["_row"]], on=_GROUP)
    runs = (
        pd.DataFrame({"row": trip_pattern["_row"].to_numpy(), "timing": collapsed.timing[trip_pattern["trip_n"]]})
        .groupby(["row", "timing"], sort=True)
        .size()
        .reset_index(name="n")
    )
    row, timing, weight = runs["row"].to_numpy(), runs["timing"].to_numpy(), runs["n"].to_numpy()
    n = lengths[row]
    dist = ps["dist_m"].to_numpy(float)
    minutes = np.full(len(ps), np.nan)
    counts: Counter[str] = Counter()
    # a block of patterns at a time, about MINUTES_ROWS stop times each, so that the two dozen
    # arrays of a block's stop times are small and made again from the same memory
    block = (np.cumsum(n) - n) // MINUTES_ROWS  # by the stop times before each run
    block = np.maximum.accumulate(np.where(np.r_[True, row[1:] != row[:-1]], block, 0))  # a pattern in one block
    cuts = np.r_[np.flatnonzero(np.r_[True, block[1:] != block[:-1]]), len(runs)]
    for a, b in zip(cuts[:-1], cuts[1:]):
        secs = collapsed.timing_secs[_arrays.ranges(collapsed.timing_start[timing[a:b]], n[a:b])]
        target = _arrays.ranges(offsets[row[a:b]], n[a:b])
        trip_of_row = np.repeat(np.arange(b - a), n[a:b])
        got, c = _times.pattern_minutes(secs, trip_of_row, target, dist, len(ps), weight[a:b])
        minutes = np.fmax(minutes, got)  # each pattern's stops are worked out in one block only
        counts.update(c)
    message = _times.message(counts)
    if message:
        warnings.warn(message, GradientWarning, stacklevel=3)
    return minutes
