"""Checks on a GTFS feed before any number is computed from it.

Real feeds are messy and some are hostile. Each check either raises a
:class:`~gradient.errors.FeedError` naming the file and the problem (when going on
would print wrong numbers), or warns with counts (when the affected rows can stay
in the output as missing). ``docs/CHECKS.md`` lists them all.
"""

from __future__ import annotations

import re
import warnings
import zipfile
from collections import Counter
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from .. import _archive
from ..errors import FeedError, GradientWarning
from . import _gtfs_tables
from ._gtfs_tables import GTFS_FILES, TABLES, feed_members, visible_members
from ._trips import isin

MAX_RATIO = _archive.MAX_RATIO
"""A zip member over :data:`gradient._archive.RATIO_FLOOR` that unpacks to more than this many times
its packed size is refused as a zip bomb (GTFS text packs about 5 to 15 times)."""

_TIME = re.compile(r"^\s*\d{1,3}:[0-5]\d:[0-5]\d\s*$")
"""A GTFS time: hours (24 and more after midnight), then minutes and seconds below 60."""
SWAP_FAR_DEG = 5.0
"""A stop this many degrees from the feed's median stop is examined as a possible swap."""


def check_zip(path: Path) -> None:
    """Refuse, before reading, a zip that is unsafe, ambiguous, unreadable or absurd.

    Raises
    ------
    FeedError
        For an absolute or ``..`` member path; GTFS files in two folders or a name
        twice; a table that is password-protected or compressed by a method Python
        cannot unpack; declared sizes beyond
        :data:`~gradient.sources._gtfs_tables.MAX_UNCOMPRESSED_BYTES` or a ratio
        beyond ``MAX_RATIO``. Hidden members (``__MACOSX/``, ``._stops.txt``) are
        never read.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise FeedError(f"cannot open the zip archive ({exc})", path) from exc
    _archive.check_paths(infos, path, FeedError)
    _check_one_feed(infos, path)
    tables = [info for table, info in feed_members(infos).items() if table in TABLES]
    _archive.check_members(tables, path, FeedError, _gtfs_tables.MAX_UNCOMPRESSED_BYTES)


def _check_one_feed(infos: list[zipfile.ZipInfo], path: Path) -> None:
    """Refuse a zip holding GTFS files in more than one folder, or one member name twice.

    Only GTFS file names (:data:`gradient.sources._gtfs_tables.GTFS_FILES`) count, and hidden
    members (macOS's ``__MACOSX/`` copies, ``._stops.txt``) are ignored, so a readme or a
    metadata folder beside the feed is harmless; names are compared with ``/`` between folders, however written.
    """
    names = [name for name, _ in visible_members(infos)]
    counts = Counter(names)
    twice = [n for n, c in counts.items() if c > 1]
    if twice:
        more = f" (and {len(twice) - 1} other name(s) more than once)" if len(twice) > 1 else ""
        raise FeedError(
            f"the zip holds {twice[0]!r} {counts[twice[0]]} times{more}; which one is the feed's cannot be told: "
            "refusing to read it",
            path,
        )
    folders = sorted({str(PurePosixPath(n).parent) for n in names if PurePosixPath(n).name in GTFS_FILES})
    if len(folders) > 1:
        shown = ", ".join("(top level)" if f == "." else f"{f}/" for f in folders[:3])
        raise FeedError(
            f"the zip holds GTFS files in {len(folders)} folders ({shown}): more than one feed? "
            "Give each feed as its own zip or folder",
            path,
        )


def _examples(values, n: int = 3) -> str:
    return ", ".join(map(str, list(dict.fromkeys(values))[:n]))


def check_ids(feed, path: Path) -> None:
    """Refuse blank or duplicate ids: ``stop_id`` in stops.txt, ``trip_id`` in trips.txt, ``route_id`` in routes.txt."""
    for table, col in (("stops", "stop_id"), ("trips", "trip_id"), ("routes", "route_id")):
        ids = getattr(feed, table)[col]
        if ids.isna().any():
            raise FeedError(f"{table}.txt has {int(ids.isna().sum())} row(s) with a blank {col}", path)
        dup = ids[ids.duplicated()]
        if len(dup):
            raise FeedError(
                f"{table}.txt has {dup.nunique()} {col}(s) more than once (e.g. {_examples(dup)}); each must be unique",
                path,
            )


def check_coordinates(feed, path: Path, used=None) -> None:
    """Refuse stops in use whose coordinates are missing, impossible, at 0,0 or swapped.

    A stop is taken to have latitude and longitude swapped when it lies more than
    ``SWAP_FAR_DEG`` degrees from the median of the feed's stops and swapping its two
    coordinates puts it within 1 degree of that median. ``used``: the ids of the stops
    in use (default: those ``feed.stop_times`` names).
    """
    if used is None:
        used = pd.unique(feed.stop_times["stop_id"])
    used = feed.stops[isin(feed.stops["stop_id"], used)]
    lat = pd.to_numeric(used["stop_lat"], errors="coerce").to_numpy(float)
    lon = pd.to_numeric(used["stop_lon"], errors="coerce").to_numpy(float)
    ids = used["stop_id"].astype(str).to_numpy()
    problems = [
        (~np.isfinite(lat) | ~np.isfinite(lon), "have no coordinates"),
        ((np.abs(lat) > 90) | (np.abs(lon) > 180), "have coordinates out of range"),
        ((lat == 0) & (lon == 0), "sit at latitude 0, longitude 0 (missing coordinates written as zeros)"),
    ]
    bad_any = np.zeros(len(lat), dtype=bool)
    for mask, what in problems:
        mask = mask & ~bad_any
        if mask.any():
            raise FeedError(f"stops.txt: {int(mask.sum())} stop(s) in use {what} (e.g. {_examples(ids[mask])})", path)
        bad_any |= mask
    mid_lat, mid_lon = np.median(lat), np.median(lon)
    far = np.hypot(lat - mid_lat, lon - mid_lon) > SWAP_FAR_DEG
    swapped = far & (np.hypot(lon - mid_lat, lat - mid_lon) < 1.0)
    if swapped.any():
        raise FeedError(
            f"stops.txt: {int(swapped.sum())} stop(s) in use have latitude and longitude swapped "
            f"(e.g. {_examples(ids[swapped])}); fix stop_lat and stop_lon",
            path,
        )


def _matches(values: np.ndarray, pattern: str) -> np.ndarray:
    """Where text values match a regular expression (pyarrow's RE2, vectorised); False where not text."""
    import pyarrow as pa
    import pyarrow.compute as pc

    found = pc.match_substring_regex(
        pa.array(pd.Index(values).astype("string"), type=pa.string(), from_pandas=True), pattern
    )
    return np.asarray(pc.fill_null(found, False).to_numpy(zero_copy_only=False), dtype=bool)


def check_times(feed, path: Path) -> None:
    """Warn when ``arrival_time`` or ``departure_time`` values are not ``H:MM:SS``.

    Written as seconds, or with minutes or seconds of 60 or more (``5:80:00``): only
    scheduled minutes depend on times, so they are left missing for those rows rather
    than stopping the run.
    """
    for col in ("arrival_time", "departure_time"):
        if col not in feed.stop_times:
            continue
        codes, uniques = pd.factorize(feed.stop_times[col])  # each distinct time checked once
        uniques = np.asarray(uniques, dtype=object)
        ok = _matches(uniques, _TIME.pattern)
        bad = (codes >= 0) & ~ok[np.maximum(codes, 0)] if len(uniques) else np.zeros(len(codes), bool)
        if bad.any():
            warn_times(path, col, int(bad.sum()), len(codes), list(uniques[np.unique(codes[bad])[:3]]))


def warn_times(path: Path, col: str, n_bad: int, n: int, examples: list) -> None:
    """The warning of :func:`check_times`: ``n_bad`` of ``n`` values of ``col`` are not ``H:MM:SS``."""
    if n_bad:
        warnings.warn(
            f"{path}: {n_bad} of {n} {col} values in stop_times.txt are not H:MM:SS "
            f"(e.g. {_examples(examples)}); scheduled minutes stay missing for them",
            GradientWarning,
            stacklevel=4,
        )


def check_references(feed, path: Path) -> None:
    """Refuse trips whose ``route_id`` is blank or missing from routes.txt."""
    route = feed.trips["route_id"]
    blank = route.isna().to_numpy(bool)
    if blank.any():
        raise FeedError(
            f"trips.txt: {int(blank.sum())} trip(s) have a blank route_id "
            f"(e.g. trip {_examples(feed.trips['trip_id'][blank])}); every trip needs its route",
            path,
        )
    known = pd.Index(feed.routes["route_id"].astype(str)).unique()
    bad = known.get_indexer(pd.Index(route.astype(str))) < 0
    if bad.any():
        raise FeedError(
            f"trips.txt: {int(bad.sum())} trip(s) name a route_id missing from routes.txt "
            f"(e.g. {_examples(route[bad])!s}); fix routes.txt or the trips' route_id",
            path,
        )


def check_directions(feed, path: Path) -> None:
    """Refuse a ``direction_id`` other than 0, 1 or blank (the only values GTFS defines)."""
    if "direction_id" not in feed.trips:
        return
    d = pd.to_numeric(feed.trips["direction_id"], errors="coerce")
    bad = (d.notna() & ~d.isin([0, 1])).to_numpy(bool)
    if bad.any():
        raise FeedError(
            f"trips.txt: column direction_id must be 0, 1 or blank; {int(bad.sum())} value(s) are not "
            f"(e.g. {_examples(feed.trips['direction_id'][bad].astype(str))})",
            path,
        )


def check_sequences(feed, path: Path) -> None:
    """Refuse a blank or negative ``stop_sequence`` (GTFS: a required non-negative integer)."""
    seq = feed.stop_times["stop_sequence"]
    for mask, what in ((seq.isna(), "blank"), (seq.fillna(0) < 0, "negative")):
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            trips = feed.stop_times["trip_id"][mask].astype(str)
            raise FeedError(
                f"stop_times.txt: {int(mask.sum())} row(s) have a {what} stop_sequence (e.g. trip "
                f"{_examples(trips)}); it must be a whole number 0 or more",
                path,
            )


def check_tables(feed, path: Path) -> None:
    """The checks of the tables other than ``stop_times.txt``: ids, references, directions."""
    check_ids(feed, path)
    check_references(feed, path)
    check_directions(feed, path)


def check_feed(feed, path: str | Path) -> None:
    """Run every content check on a feed (see the functions above)."""
    path = Path(path)
    check_tables(feed, path)
    check_sequences(feed, path)
    check_coordinates(feed, path)
    check_times(feed, path)
