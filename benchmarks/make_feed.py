"""Make a country-size synthetic GTFS feed by replicating a real one.

Run from the project root:

    .venv/bin/python benchmarks/make_feed.py --copies 60 --out /tmp/gradient_feeds/hart_x60

Writes a GTFS *folder* holding ``copies`` copies of the feed (default the bundled
HART feed, 435,507 stop times: 60 copies are about 26 million), each with fresh ids
(``c<copy>_`` before every trip, stop, route, shape and block id) and its stops and
shapes moved on a grid of 0.5 degree steps (8 copies to a row), so no two copies
share a stop or a pattern. Service ids and calendars are shared. ``stop_times.txt``
is streamed through pyarrow one copy at a time, so memory stays at a few copies of
the source's stop times whatever ``copies`` is. Files go where ``--out`` says (keep
them under ``/tmp``; never commit them).

``--london TRIPS`` writes a *regional* feed instead, the size of a metropolitan county's
buses, on real English streets (``london_feed``):

    .venv/bin/python benchmarks/make_feed.py --london 31 --out /tmp/gradient_feeds/london_x31

London's bus network as TfL's sequences and route lines give it (July 2018, bundled: 724
routes, the 1,434 patterns of their two main directions, 54,371 stops in order, 18,860
distinct stops), each pattern run ``TRIPS`` times a day (31: 44,454 trips and 1.69 million
stop times, the size of Greater Manchester's feed of
1.67 million), every 20 minutes from 05:00, at one of three speeds by time of day
(12, 15 and 18 km/h, times in whole minutes as timetables print them), its route line as
its shape. It runs against England's MSOAs like the feed of a real English region.
London's network is larger than most regions': ``--routes N`` keeps N of its routes
(seeded), so ``--london 55 --routes 404`` has Greater Manchester's 404 routes and about its
1.7 million stop times.
"""

from __future__ import annotations

import argparse
import io
import shutil
import tempfile
import time
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

ID_COLUMNS = {
    "stop_times": ["trip_id", "stop_id"],
    "trips": ["trip_id", "route_id", "shape_id", "block_id"],
    "routes": ["route_id"],
    "stops": ["stop_id", "parent_station"],
    "shapes": ["shape_id"],
    "frequencies": ["trip_id"],
    "fare_rules": ["route_id"],
}
"""Id columns given a fresh prefix in every copy."""

STEP_DEG = 0.5
ROW = 8


CITIES = {
    "London": (-0.128, 51.507),
    "Birmingham": (-1.890, 52.486),
    "Manchester": (-2.243, 53.481),
    "Leeds": (-1.549, 53.801),
    "Newcastle": (-1.617, 54.978),
    "Bristol": (-2.588, 51.454),
    "Nottingham": (-1.158, 52.954),
    "Liverpool": (-2.992, 53.408),
}
"""Where ``--cities`` puts London's copies: England's large cities (lon, lat of their centres)."""


def _shift(copy: int, cities: bool = False) -> tuple[float, float]:
    """Degrees (lon, lat) that copy number ``copy`` is moved by: on a grid, or London's to a city."""
    if cities:
        (lon0, lat0), (lon, lat) = CITIES["London"], list(CITIES.values())[copy % len(CITIES)]
        return lon - lon0, lat - lat0
    return STEP_DEG * (copy % ROW), STEP_DEG * (copy // ROW)


def _read_all(source: Path) -> dict[str, bytes]:
    if source.is_file():
        with zipfile.ZipFile(source) as zf:
            return {Path(n).stem: zf.read(n) for n in zf.namelist() if n.endswith(".txt")}
    return {p.stem: p.read_bytes() for p in source.glob("*.txt")}


def _copy_table(table: pa.Table, name: str, copy: int, cities: bool = False) -> pa.Table:
    prefix = f"c{copy}_"
    for col in ID_COLUMNS.get(name, []):
        if col in table.column_names:
            i = table.column_names.index(col)
            table = table.set_column(i, col, pc.binary_join_element_wise(prefix, table[col], ""))
    dlon, dlat = _shift(copy, cities)
    for lon, lat in (("stop_lon", "stop_lat"), ("shape_pt_lon", "shape_pt_lat")):
        if lon in table.column_names:
            for col, d in ((lon, dlon), (lat, dlat)):
                i = table.column_names.index(col)
                table = table.set_column(i, col, pc.add(table[col].cast(pa.float64()), d))
    return table


def make_feed(out: str | Path, copies: int, source: str | Path | None = None, cities: bool = False) -> Path:
    """Write ``copies`` shifted, re-identified copies of ``source`` as a GTFS folder at ``out``.

    ``cities``: the source is London's (``london_feed``), and its copies are centred on
    England's large cities (:data:`CITIES`) instead of a grid.
    """
    if source is None:
        from gradient import datasets

        source = datasets.get_path("hart_gtfs")
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for name, data in _read_all(Path(source)).items():
        header = data.decode("utf-8-sig").splitlines()[0].split(",")
        strings = {c.strip(): pa.string() for c in header}
        for c in ("stop_lon", "stop_lat", "shape_pt_lon", "shape_pt_lat"):
            strings.pop(c, None)
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=[c.strip() for c in header], skip_rows=1),
            convert_options=pacsv.ConvertOptions(column_types=strings, strings_can_be_null=True),
        )
        if name not in ID_COLUMNS:  # agency, calendar...: shared by every copy
            pacsv.write_csv(table, out / f"{name}.txt")
            continue
        # ids, times and numbers need no quotes; names and headsigns might
        quoting = "none" if name in ("stop_times", "shapes") else "needed"
        options = pacsv.WriteOptions(quoting_style=quoting)
        with pacsv.CSVWriter(out / f"{name}.txt", table.schema, write_options=options) as writer:
            for copy in range(copies):
                writer.write_table(_copy_table(table, name, copy, cities))
    return out


def london_feed(out: str | Path, trips: int, routes: int | None = None) -> Path:
    """London's bus patterns, each run ``trips`` times a day, as a GTFS folder at ``out`` (see the module's notes).

    ``routes`` keeps that many of London's 724 routes, drawn at random (seeded, so the same
    routes every time), for a region whose network is smaller than London's.
    """
    import numpy as np
    import pandas as pd
    import shapely

    from gradient import datasets, sources

    patterns, stops = sources.read_tfl_sequences(
        datasets.get_path("tfl_sequences"), datasets.get_path("tfl_route_lines")
    )
    main = patterns["direction_id"] <= 1  # runs 3 and 4 (rare workings) have no GTFS direction
    patterns = patterns[main].reset_index(drop=True)
    if routes is not None:
        ids = pd.unique(patterns["route_id"])
        kept = np.random.default_rng(26).choice(ids, size=min(routes, len(ids)), replace=False)
        patterns = patterns[patterns["route_id"].isin(kept)].reset_index(drop=True)
    stops = stops[stops["pattern_id"].isin(patterns["pattern_id"])].reset_index(drop=True)
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    stops["stop_id"] = stops["stop_id"].astype(str)
    stops.drop_duplicates("stop_id").rename(columns={"lat": "stop_lat", "lon": "stop_lon"})[
        ["stop_id", "stop_name", "stop_lat", "stop_lon"]
    ].to_csv(out / "stops.txt", index=False)
    routes = patterns.drop_duplicates("route_id")
    pd.DataFrame(
        {"route_id": routes["route_id"], "agency_id": "TfL", "route_short_name": routes["route_name"], "route_type": 3}
    ).to_csv(out / "routes.txt", index=False)
    (out / "agency.txt").write_text(
        "agency_id,agency_name,agency_url,agency_timezone\nTfL,Transport for London,https://tfl.gov.uk,Europe/London\n"
    )
    (out / "calendar.txt").write_text(
        "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
        "weekday,1,1,1,1,1,0,0,20180701,20181231\n"
    )
    coords, index = shapely.get_coordinates(np.asarray(patterns.geometry), return_index=True)
    shape_of = patterns["pattern_id"].to_numpy()
    seq = np.arange(len(index)) - np.searchsorted(index, index)
    pd.DataFrame(
        {
            "shape_id": shape_of[index],
            "shape_pt_lat": coords[:, 1],
            "shape_pt_lon": coords[:, 0],
            "shape_pt_sequence": seq,
        }
    ).to_csv(out / "shapes.txt", index=False)
    trip_rows = patterns.loc[patterns.index.repeat(trips), ["pattern_id", "route_id", "direction_id"]]
    trip_rows["n"] = np.tile(np.arange(trips), len(patterns))
    trip_rows["trip_id"] = trip_rows["pattern_id"] + "-" + trip_rows["n"].astype(str)
    pd.DataFrame(
        {
            "route_id": trip_rows["route_id"],
            "service_id": "weekday",
            "trip_id": trip_rows["trip_id"],
            "direction_id": trip_rows["direction_id"],
            "shape_id": trip_rows["pattern_id"],
        }
    ).to_csv(out / "trips.txt", index=False)
    by_pattern = stops.groupby("pattern_id", sort=False)
    with open(out / "stop_times.txt", "w") as fh:
        fh.write("trip_id,arrival_time,departure_time,stop_id,stop_sequence\n")
        for n in range(trips):
            start = 5 * 3600 + 20 * 60 * n
            speed = (12.0, 15.0, 18.0)[n % 3] / 3.6  # metres a second
            secs = start + 60 * np.round(stops["dist_m"].to_numpy() / speed / 60)
            h, rest = np.divmod(secs.astype(np.int64), 3600)
            m, sec = np.divmod(rest, 60)
            times = [f"{a}:{b:02d}:{c:02d}" for a, b, c in zip(h, m, sec)]
            chunk = pd.DataFrame(
                {
                    "trip_id": stops["pattern_id"] + f"-{n}",
                    "arrival_time": times,
                    "departure_time": times,
                    "stop_id": stops["stop_id"],
                    "stop_sequence": by_pattern.cumcount() + 1,
                }
            )
            chunk.to_csv(fh, index=False, header=False)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, help="how many copies of the source")
    parser.add_argument("--london", type=int, metavar="TRIPS", help="London's patterns run TRIPS times a day instead")
    parser.add_argument("--routes", type=int, metavar="N", help="with --london: keep N of its routes (seeded)")
    parser.add_argument("--cities", type=int, metavar="N", help="with --london: N copies, on England's large cities")
    parser.add_argument("--out", required=True, help="GTFS folder to write (under /tmp)")
    parser.add_argument("--source", default=None, help="GTFS zip or folder (default: bundled HART)")
    args = parser.parse_args()
    if (args.copies is None) == (args.london is None):
        parser.error("give one of --copies and --london")
    if (args.cities or args.routes) and args.london is None:
        parser.error("--cities and --routes change the London feed: give --london too")
    start = time.perf_counter()
    if args.london is not None and args.cities:
        with tempfile.TemporaryDirectory(prefix="london_") as folder:
            london = london_feed(Path(folder) / "london", args.london, args.routes)
            path = make_feed(args.out, args.cities, london, cities=True)
        what = f"London's patterns run {args.london} times, on {args.cities} cities"
    elif args.london is not None:
        path = london_feed(args.out, args.london, args.routes)
        what = f"London's patterns run {args.london} times" + (f", {args.routes} of its routes" if args.routes else "")
    else:
        path = make_feed(args.out, args.copies, args.source)
        what = f"{args.copies} copies"
    size = sum(p.stat().st_size for p in path.iterdir()) / 1e9
    print(f"{path}: {what}, {size:.2f} GB, in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
