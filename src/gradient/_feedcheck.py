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
from pathlib import Path, PurePosixPath, PureWindowsPath

import numpy as np
import pandas as pd

from .errors import FeedError, GradientWarning

MAX_UNCOMPRESSED_BYTES = 20 * 2**30
"""A zip whose files would unpack to more than this (20 GiB) is refused before reading."""

MAX_RATIO = 1000
"""A zip member over 100 MB that unpacks to more than this many times its packed size is
refused as a zip bomb (GTFS text packs about 5 to 15 times)."""

_TIME = re.compile(r"^\s*\d{1,3}:\d{2}:\d{2}\s*$")
SWAP_FAR_DEG = 5.0
"""A stop this many degrees from the feed's median stop is examined as a possible swap."""


def check_zip(path: Path) -> None:
    """Refuse a zip with paths that leave its folder or that unpacks to an absurd size.

    Raises
    ------
    FeedError
        For an absolute or ``..`` member path, or an uncompressed size beyond
        ``MAX_UNCOMPRESSED_BYTES`` or a ratio beyond ``MAX_RATIO``.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise FeedError(f"cannot open the zip archive ({exc})", path) from exc
    for info in infos:
        name = info.filename
        parts = PurePosixPath(name.replace("\\", "/")).parts
        if name.startswith(("/", "\\")) or PureWindowsPath(name).drive or ".." in parts:
            raise FeedError(f"the zip holds {name!r}, a path that leaves its folder; refusing to read it", path)
    total = sum(i.file_size for i in infos)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise FeedError(
            f"the zip would unpack to {total / 2**30:.1f} GiB, over the {MAX_UNCOMPRESSED_BYTES / 2**30:.0f} GiB "
            "limit; refusing to read it",
            path,
        )
    for i in infos:
        if i.file_size > 100e6 and i.file_size > MAX_RATIO * max(i.compress_size, 1):
            raise FeedError(
                f"{i.filename!r} in the zip would unpack {i.file_size / max(i.compress_size, 1):.0f} times its "
                "packed size (a zip bomb?); refusing to read it",
                path,
            )


def _examples(values, n: int = 3) -> str:
    return ", ".join(map(str, list(dict.fromkeys(values))[:n]))


def check_ids(feed, path: Path) -> None:
    """Refuse duplicate ``stop_id``s in stops.txt and ``trip_id``s in trips.txt."""
    for table, col in (("stops", "stop_id"), ("trips", "trip_id"), ("routes", "route_id")):
        ids = getattr(feed, table)[col]
        dup = ids[ids.duplicated()]
        if len(dup):
            raise FeedError(
                f"{table}.txt has {dup.nunique()} {col}(s) more than once (e.g. {_examples(dup)}); "
                "each must be unique",
                path,
            )
        if ids.isna().any():
            raise FeedError(f"{table}.txt has {int(ids.isna().sum())} row(s) with a blank {col}", path)


def check_coordinates(feed, path: Path) -> None:
    """Refuse stops in use whose coordinates are missing, impossible, at 0,0 or swapped.

    A stop is taken to have latitude and longitude swapped when it lies more than
    ``SWAP_FAR_DEG`` degrees from the median of the feed's stops and swapping its two
    coordinates puts it within 1 degree of that median.
    """
    used = feed.stops[feed.stops["stop_id"].isin(pd.unique(feed.stop_times["stop_id"]))]
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


def check_times(feed, path: Path) -> None:
    """Warn when arrival times are not ``H:MM:SS`` (e.g. written as seconds).

    Only scheduled minutes depend on times, so they are left missing rather than
    stopping the run.
    """
    if "arrival_time" not in feed.stop_times:
        return
    codes, uniques = pd.factorize(feed.stop_times["arrival_time"])  # each distinct time checked once
    uniques = np.asarray(uniques, dtype=object)
    ok = np.fromiter((isinstance(u, str) and _TIME.match(u) is not None for u in uniques), bool, len(uniques))
    bad = (codes >= 0) & ~ok[np.maximum(codes, 0)] if len(uniques) else np.zeros(len(codes), bool)
    if bad.any():
        examples = _examples(uniques[np.unique(codes[bad])[:3]])
        warnings.warn(
            f"{path}: {int(bad.sum())} of {len(codes)} arrival_time values in stop_times.txt are not H:MM:SS "
            f"(e.g. {examples}); scheduled minutes stay missing for them",
            GradientWarning,
            stacklevel=3,
        )


def check_feed(feed, path: str | Path) -> None:
    """Run every content check on a feed gtfs-kit has read (see the functions above)."""
    path = Path(path)
    check_ids(feed, path)
    check_coordinates(feed, path)
    check_times(feed, path)
