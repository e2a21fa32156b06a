"""Reading a GTFS zip or folder into its tables, by our own reader or by gtfs-kit's.

:func:`gradient.sources.gtfs.read_feed` calls these and checks the result
(:mod:`gradient.sources._feedcheck`).
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from pathlib import Path

import pandas as pd

from ..errors import FeedError
from ._gtfs_tables import DAMAGED, TABLES, members, numbers, read_tables

REQUIRED = {
    "routes": ["route_id"],
    "trips": ["trip_id", "route_id"],
    "stops": ["stop_id", "stop_lat", "stop_lon"],
    "stop_times": ["trip_id", "stop_id", "stop_sequence"],
}
"""Tables and columns a feed must have."""


def damaged_member(path: Path) -> str:
    """The first member of a zip whose data does not check out (or ``'a file'``)."""
    try:
        with zipfile.ZipFile(path) as zf:
            return zf.testzip() or "a file"
    except DAMAGED as exc:  # testzip itself can fail on deflate errors: find the member by hand
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                try:
                    with zf.open(info) as fh:
                        while fh.read(2**20):
                            pass
                except DAMAGED:
                    return info.filename
        return f"a file ({exc})"


def read_own(path: Path) -> dict[str, pd.DataFrame | None]:
    """The tables of a feed by our own reader (every field as text; numbers parsed by :func:`numbers`)."""
    return typed(read_tables(path), path)


def typed(tables: dict[str, pd.DataFrame], path: Path, stop_times: bool = True) -> dict[str, pd.DataFrame | None]:
    """The tables :func:`read_own` returns, from the text tables: required ones checked, numbers parsed.

    With ``stop_times=False`` the tables other than ``stop_times.txt`` (streamed apart).
    """
    require(tables, path, skip=() if stop_times else ("stop_times",))
    stops = tables["stops"]
    for col in ("stop_lat", "stop_lon"):
        stops[col] = numbers(stops[col], "stops", col)
    trips = tables["trips"]
    if "direction_id" in trips:
        trips["direction_id"] = numbers(trips["direction_id"], "trips", "direction_id", whole=True).astype("Int64")
    shapes = tables.get("shapes")
    if shapes is not None and {"shape_id", "shape_pt_lat", "shape_pt_lon", "shape_pt_sequence"} <= set(shapes):
        for col in ("shape_pt_lat", "shape_pt_lon"):
            shapes[col] = numbers(shapes[col], "shapes", col)
        shapes["shape_pt_sequence"] = numbers(shapes["shape_pt_sequence"], "shapes", "shape_pt_sequence", whole=True)
    else:
        shapes = None
    out: dict[str, pd.DataFrame | None] = dict(routes=tables["routes"], trips=trips, stops=stops)
    if stop_times:
        out["stop_times"] = tables["stop_times"]
    out.update(shapes=shapes, agency=tables.get("agency"))
    return out


def read_gtfs_kit(path: Path) -> dict[str, pd.DataFrame | None]:
    """The tables of a feed as gtfs-kit reads them.

    A zip is first unpacked by our own reader into a temporary folder (only the tables
    :data:`gradient.sources._gtfs_tables.TABLES`, through the same limits on bytes actually
    unpacked, hidden members never), and gtfs-kit reads that folder.
    """
    if path.is_file():
        with tempfile.TemporaryDirectory(prefix="gradient-gtfs-") as folder:
            for table, opener in members(path):
                if table not in TABLES:
                    continue
                try:
                    with opener() as fh, open(Path(folder) / f"{table}.txt", "wb") as dest:
                        shutil.copyfileobj(fh, dest, 2**20)
                except DAMAGED as exc:
                    raise FeedError(f"{table}.txt in the zip is damaged ({exc}); download the feed again") from exc
            return _gtfs_kit_tables(Path(folder), path)
    return _gtfs_kit_tables(path, path)


def _gtfs_kit_tables(folder: Path, path: Path) -> dict[str, pd.DataFrame | None]:
    from .._extras import require as require_extra

    require_extra("gtfs-kit", "engine='gtfs_kit'")
    import gtfs_kit as gk  # imports folium and more: only when asked for

    try:
        feed = gk.read_feed(folder, dist_units="km")
    except TypeError as exc:  # e.g. a stop_sequence beyond 2**31: gtfs-kit reads it as int32
        raise FeedError(
            f"engine='gtfs-kit' cannot read this feed ({exc}); the default engine='pyarrow' reads every GTFS integer",
            param="engine",
        ) from exc
    tables = {t: getattr(feed, t, None) for t in ("routes", "trips", "stops", "stop_times", "shapes", "agency")}
    require({k: v for k, v in tables.items() if v is not None}, path)
    return tables


def require(tables: dict[str, pd.DataFrame], path: Path, skip: tuple[str, ...] = ()) -> None:
    """Refuse a feed without a table or column of :data:`REQUIRED` (but ``skip``), or whose required table is empty."""
    for table, columns in REQUIRED.items():
        if table in skip:
            continue
        frame = tables.get(table)
        if frame is None:
            raise FeedError(f"the feed has no {table}.txt", path)
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise FeedError(f"{table}.txt lacks the column(s) {', '.join(missing)}", path)
        if frame.empty:
            raise FeedError(f"{table}.txt has a header but no rows", path)
