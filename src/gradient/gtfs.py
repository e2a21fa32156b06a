"""GTFS feeds to stop patterns.

A *stop pattern* is one distinct ordered list of stops that trips of one route and
direction run. Work is done once per pattern, never per trip: trips are grouped by
their stop list with whole-array numpy operations (a hash of each trip's stop codes,
checked exactly against one trip of its group), and distances are measured once per
pattern on the shape its trips use most.

Two readers give identical stop patterns: gtfs-kit (``read_feed(path)``, every column
of every table) and pyarrow (``read_feed(path, engine="pyarrow")``), which reads only
the columns of ``stop_times.txt`` that :func:`stop_patterns` uses, with ids and times
dictionary-encoded (pandas categoricals), and is the one for national feeds of tens of
millions of stop times (``benchmarks/README.md``).
"""

from __future__ import annotations

import csv
import logging
import warnings
import zipfile
from pathlib import Path
from typing import IO, Callable, Iterator

import geopandas as gpd
import gtfs_kit as gk
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import shapely
from gtfs_kit import constants as gk_constants
from pandas._libs.parsers import STR_NA_VALUES
from pyproj import Transformer

from . import feedcheck
from .errors import FeedError, GradientWarning, InputError
from .geometry import monotone_along, straight_along, substring
from .schema import PATTERN_COLUMNS, PATTERN_STOP_COLUMNS, WGS84, metric_crs, pattern_ids

log = logging.getLogger(__name__)

REQUIRED = {
    "routes": ["route_id"],
    "trips": ["trip_id", "route_id"],
    "stops": ["stop_id", "stop_lat", "stop_lon"],
    "stop_times": ["trip_id", "stop_id", "stop_sequence"],
}
"""Tables and columns a feed must have."""

ENGINES = ("gtfs-kit", "pyarrow")
"""Readers :func:`read_feed` offers."""

STOP_TIMES_COLUMNS = ["trip_id", "stop_id", "stop_sequence", "arrival_time"]
"""The columns of ``stop_times.txt`` the pyarrow reader keeps (all :func:`stop_patterns` uses)."""

_NA_VALUES = sorted(set(STR_NA_VALUES) | {" "})
"""Cells read as missing: pandas' defaults plus gtfs-kit's blank, so both readers agree."""


def read_feed(path: str | Path, engine: str = "gtfs-kit") -> gk.Feed:
    """Read a GTFS feed (zip file or folder) and check what we need.

    Parameters
    ----------
    path : str or Path
        A GTFS zip archive or a folder of GTFS ``.txt`` files.
    engine : {'gtfs-kit', 'pyarrow'}, default 'gtfs-kit'
        ``'gtfs-kit'`` reads every table whole with gtfs-kit. ``'pyarrow'`` reads
        ``stop_times.txt`` with pyarrow's multi-threaded CSV reader, keeping only
        ``STOP_TIMES_COLUMNS`` with ``trip_id``, ``stop_id`` and ``arrival_time`` as
        categoricals of the exact strings (leading zeros kept), and the other tables
        as gtfs-kit does; :func:`stop_patterns` gives identical results from either,
        the pyarrow one several times faster on large feeds.

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
    if engine not in ENGINES:
        raise InputError(f"engine must be one of {', '.join(ENGINES)}; got {engine!r}")
    path = Path(path)
    if not path.exists():
        raise FeedError("no such file or folder; give a GTFS zip or folder", path)
    if path.is_file():
        if not zipfile.is_zipfile(path):
            raise FeedError("not a zip archive; give a GTFS zip or folder", path)
        feedcheck.check_zip(path)
    try:
        feed = gk.read_feed(path, dist_units="km") if engine == "gtfs-kit" else _read_feed_arrow(path)
    except UnicodeDecodeError as exc:
        raise FeedError(
            f"is not UTF-8 text ({exc.reason} at byte {exc.start}); GTFS files must be UTF-8, so re-save them "
            "as UTF-8",
            path,
        ) from exc
    except (ValueError, KeyError, zipfile.BadZipFile, pd.errors.ParserError, pa.ArrowException) as exc:
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


def _members(path: Path) -> Iterator[tuple[str, Callable[[], IO[bytes]]]]:
    """Each non-empty GTFS table of a zip or folder: (table name, opener of its bytes)."""
    if path.is_file():
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if not info.is_dir() and info.file_size and info.filename.endswith(".txt"):
                    yield Path(info.filename).stem, lambda info=info: zf.open(info.filename)
    else:
        for p in sorted(path.iterdir()):
            if p.is_file() and p.suffix == ".txt" and p.stat().st_size:
                yield p.stem, lambda p=p: open(p, "rb")


def _read_feed_arrow(path: Path) -> gk.Feed:
    """The tables of a feed as gtfs-kit reads them, but ``stop_times`` by pyarrow."""
    tables: dict[str, pd.DataFrame | None] = {}
    for table, opener in _members(path):
        if table not in gk_constants.DTYPES:
            continue
        with opener() as fh:
            if table == "stop_times":
                frame = _read_stop_times(fh, opener)
            else:
                frame = pd.read_csv(fh, dtype=gk_constants.DTYPES[table], na_values=["", " ", "nan", "NaN", "null"],
                                    keep_default_na=True, dtype_backend="numpy_nullable", encoding="utf-8-sig")
                frame.columns = [str(c).strip() for c in frame.columns]
        tables[table] = None if frame.empty else frame
    return gk.Feed(dist_units="km", **tables)


def _read_stop_times(fh: IO[bytes], opener: Callable[[], IO[bytes]]) -> pd.DataFrame:
    """``STOP_TIMES_COLUMNS`` of ``stop_times.txt`` with pyarrow; ids and times as categoricals."""
    header = fh.readline().decode("utf-8-sig")
    names = [n.strip() for n in next(csv.reader([header]), [])]
    keep = [c for c in STOP_TIMES_COLUMNS if c in names]
    text = pa.dictionary(pa.int32(), pa.string())
    types = {"trip_id": text, "stop_id": text, "arrival_time": text, "stop_sequence": pa.int64()}
    with opener() as whole:
        table = pacsv.read_csv(
            whole,
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
            convert_options=pacsv.ConvertOptions(
                include_columns=keep,
                column_types={c: types[c] for c in keep},
                strings_can_be_null=True,
                null_values=_NA_VALUES,
            ),
        )
    return table.unify_dictionaries().to_pandas()


def _codes(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes (-1 where missing) of a column, and the distinct values they index."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy(np.int64), pd.Index(values.cat.categories.astype("string"))
    codes, uniques = pd.factorize(values.astype("string"), use_na_sentinel=True)
    return codes.astype(np.int64), pd.Index(uniques)


def _seconds(times: pd.Series) -> np.ndarray:
    """GTFS ``H:MM:SS`` / ``HH:MM:SS`` strings to seconds (NaN where blank or malformed).

    Parses each distinct string once: a feed repeats a few thousand times many times.
    """
    codes, uniques = _codes(times)
    return _unique_seconds(uniques)[codes]  # the sentinel -1 picks the trailing NaN


def _unique_seconds(uniques: pd.Index) -> np.ndarray:
    """Seconds of each distinct time string, with a trailing NaN for the missing code -1.

    Well-formed ``H:MM:SS`` strings are split by pyarrow in one pass; anything else
    goes through pandas' lenient number parsing (NaN where it fails).
    """
    secs = np.full(len(uniques) + 1, np.nan)
    if len(uniques) == 0:
        return secs
    text = pa.array(np.asarray(uniques, dtype=object), type=pa.string(), from_pandas=True)
    plain = pc.fill_null(pc.match_substring_regex(text, r"^[0-9]{1,6}:[0-9]{1,2}:[0-9]{1,2}$"), False)
    plain = plain.to_numpy(zero_copy_only=False)
    if plain.any():
        parts = pc.split_pattern(text.filter(pa.array(plain)), ":")
        nums = [pc.list_element(parts, i).cast(pa.float64()).to_numpy() for i in range(3)]
        secs[:-1][plain] = nums[0] * 3600 + nums[1] * 60 + nums[2]
    if not plain.all():
        rest = pd.Series(uniques[~plain], dtype="string").str.split(":", n=2, expand=True)
        if rest.shape[1] >= 3:
            nums = rest.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
            secs[:-1][~plain] = nums[:, 0] * 3600 + nums[:, 1] * 60 + nums[:, 2]
    return secs


def _trip_order(st: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, pd.Index]:
    """Rows in (trip_id, stop_sequence) order, stably, as ``sort_values`` would put them.

    Sorts integers, not strings: each distinct trip id's rank in string order, then the
    stop sequence. Returns (row order, trip rank of each ordered row, trip ids by rank).
    """
    codes, uniques = _codes(st["trip_id"])
    by_text = np.argsort(np.asarray(uniques.astype(str)), kind="stable")
    rank = np.empty(len(uniques) + 1, dtype=np.int64)
    rank[by_text] = np.arange(len(uniques))
    rank[-1] = len(uniques)  # a missing trip id sorts last
    trip_rank = rank[codes]
    seq = st["stop_sequence"]
    if pd.api.types.is_integer_dtype(seq.dtype) and not seq.hasnans and len(seq) and seq.min() >= 0:
        seq_rank = seq.to_numpy(np.int64)
    else:  # NaN last, as sort_values puts it
        seq_rank = np.unique(seq.to_numpy(dtype=float, na_value=np.nan), return_inverse=True)[1].ravel()
    key = trip_rank * (int(seq_rank.max(initial=0)) + 1) + seq_rank
    order = np.argsort(key, kind="stable") if (np.diff(key) < 0).any() else np.arange(len(key))
    names = pd.Index(uniques[by_text].astype("string"))
    return order, trip_rank[order], names


def _isin(values, known) -> np.ndarray:
    """``values.isin(known)`` by hashing: pandas' ``isin`` on Arrow strings loops in Python."""
    return pd.Index(known).unique().get_indexer(pd.Index(values)) >= 0


def _unknown(codes: np.ndarray, uniques: pd.Index, known: pd.Index) -> tuple[int, list[str]]:
    """How many rows have a code whose value is not in ``known``, and the first 3 such values."""
    ok = np.append(_isin(uniques, known), False)
    bad = ~ok[codes]
    if not bad.any():
        return 0, []
    names = np.append(np.asarray(uniques.astype(str), dtype=object), "nan")
    return int(bad.sum()), [str(v) for v in pd.unique(names[codes[bad]])[:3]]


def _pattern_keys(stop_codes: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """One integer per trip, equal for trips with identical ordered stop lists.

    Two random linear hashes of each trip's stop codes (wrapping uint64 arithmetic,
    one ``reduceat`` each) and its length group the trips; every stop of every trip is
    then compared with the first trip of its group, and on any collision the exact
    (slow) bytes key of each trip is used instead.
    """
    n = len(stop_codes)
    trip_pos = np.repeat(np.arange(len(starts)), lengths)
    pos = np.arange(n) - starts[trip_pos]
    weights = np.random.default_rng(20240607).integers(1, 2**63, size=(2, int(lengths.max())), dtype=np.uint64)
    v = stop_codes.astype(np.uint64) + np.uint64(1)
    h1 = np.add.reduceat(v * weights[0][pos], starts)
    h2 = np.add.reduceat(v * weights[1][pos], starts)
    keys = pd.DataFrame({"n": lengths, "h1": h1, "h2": h2}).groupby(["n", "h1", "h2"], sort=False).ngroup()
    keys = keys.to_numpy(np.int64)
    first = np.unique(keys, return_index=True)[1]
    if np.array_equal(stop_codes, stop_codes[starts[first][keys][trip_pos] + pos]):
        return keys
    log.debug("stop-list hash collision; grouping trips by exact byte keys")
    bytes_keys = [stop_codes[a:a + m].tobytes() for a, m in zip(starts, lengths)]
    return pd.factorize(pd.Series(bytes_keys, dtype=object))[0].astype(np.int64)


def stop_patterns(
    feed: gk.Feed, all_patterns: bool = False, crs: str | None = None, path: str | Path | None = None
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Find each route and direction's stop patterns and measure stops along them.

    Parameters
    ----------
    feed : gtfs_kit.Feed
        As returned by :func:`read_feed` (either engine).
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
    st = feed.stop_times
    order, trip_rank, trip_names = _trip_order(st)
    stop_codes, stop_index = _codes(st["stop_id"])
    stop_codes = stop_codes[order]
    stops = feed.stops.drop_duplicates("stop_id").set_index("stop_id")
    n_bad, examples = _unknown(stop_codes, stop_index, stops.index)
    if n_bad:
        raise FeedError(
            f"stop_times.txt refers to {n_bad} stop(s) missing from stops.txt (e.g. {', '.join(examples)})",
            path,
        )
    trips = feed.trips.drop_duplicates("trip_id").set_index("trip_id")
    n_bad, examples = _unknown(trip_rank, trip_names, trips.index)
    if n_bad:
        raise FeedError(
            f"stop_times.txt refers to {n_bad} row(s) of trips missing from trips.txt (e.g. {', '.join(examples)})",
            path,
        )

    starts = np.flatnonzero(np.r_[True, trip_rank[1:] != trip_rank[:-1]])
    trip_lengths = np.diff(np.r_[starts, len(order)])
    keys = _pattern_keys(stop_codes.astype(np.int32), starts, trip_lengths)

    # Scheduled minutes from each trip's first stop, per stop time.
    if "arrival_time" in st:
        time_codes, time_index = _codes(st["arrival_time"])
        secs = _unique_seconds(time_index)[time_codes[order]]
    else:
        secs = np.full(len(order), np.nan)
    trip_pos = np.repeat(np.arange(len(starts)), trip_lengths)
    minutes = (secs - secs[starts][trip_pos]) / 60.0
    del secs

    t = trips.reindex(trip_names[trip_rank[starts]])
    direction = t["direction_id"] if "direction_id" in t else pd.Series(pd.NA, index=t.index)
    shape = t["shape_id"] if "shape_id" in t else pd.Series(pd.NA, index=t.index)
    trip_table = pd.DataFrame(
        {
            "route_id": t["route_id"].astype("string").to_numpy(),
            "direction_id": direction.astype("Int64").to_numpy(),
            "shape_id": shape.astype("string").to_numpy(),
            "key": keys,
            "trip_n": np.arange(len(keys)),
            "n_stops": trip_lengths,
        }
    )
    short = trip_table["n_stops"] < 2
    if short.all():
        raise FeedError("no trip serves two or more stops", path)
    if short.any():
        examples = ", ".join(map(str, trip_names[trip_rank[starts]][short.to_numpy()][:3]))
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

    # Stops of every pattern, in order, from the first trip that runs it.
    lengths = pats["n_stops"].to_numpy(np.int64)
    offsets = np.r_[0, np.cumsum(lengths)[:-1]]
    within = np.arange(lengths.sum()) - np.repeat(offsets, lengths)
    flat = stop_codes[np.repeat(starts[pats["first_trip"].to_numpy()], lengths) + within]
    ps = pd.DataFrame(
        {
            "pattern_id": np.repeat(pats["pattern_id"].to_numpy(), lengths),
            "stop_sequence": within + 1,
            "stop_id": pd.array(np.asarray(stop_index[flat], dtype=object), dtype="string"),
        }
    )
    ps["stop_name"] = stops["stop_name"].reindex(ps["stop_id"]).astype("string").to_numpy() if "stop_name" in stops else pd.NA
    ps["lon"] = stops["stop_lon"].reindex(ps["stop_id"]).to_numpy(dtype=float)
    ps["lat"] = stops["stop_lat"].reindex(ps["stop_id"]).to_numpy(dtype=float)
    # Median scheduled minutes over the pattern's trips (trips with identical stop lists).
    pats["_row"] = np.arange(len(pats))
    trip_pattern = trip_table[["trip_n"] + group].merge(pats[group + ["_row"]], on=group)
    pattern_of_trip = np.full(len(keys) + 1, -1)
    pattern_of_trip[trip_pattern["trip_n"].to_numpy()] = trip_pattern["_row"].to_numpy()
    row_pattern = pattern_of_trip[trip_pos]
    used = row_pattern >= 0
    target = offsets[row_pattern[used]] + (np.arange(len(order)) - starts[trip_pos])[used]
    med = pd.Series(minutes[used]).groupby(target).median()
    ps["minutes"] = med.reindex(np.arange(len(ps))).to_numpy()
    del minutes, row_pattern, target, trip_pos

    crs = crs or metric_crs(ps["lon"], ps["lat"])
    shapes = _shape_lines(feed, crs, keep=pats["shape_id"])
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


def _shape_lines(feed: gk.Feed, crs, keep: pd.Series | None = None) -> dict[str, np.ndarray]:
    """Each shape's vertices in the metric CRS, in ``shape_pt_sequence`` order.

    ``keep``: only these shape ids (the ones the chosen patterns use).
    """
    shapes = getattr(feed, "shapes", None)
    if shapes is None or shapes.empty:
        return {}
    if keep is not None:
        shapes = shapes[_isin(shapes["shape_id"].astype(str), keep.dropna().astype(str))]
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
            piece = shapely.LineString(substring(line, along[0], along[-1]))
            if piece.length == 0:
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
