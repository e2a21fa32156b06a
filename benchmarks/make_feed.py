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
"""

from __future__ import annotations

import argparse
import io
import shutil
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


def _shift(copy: int) -> tuple[float, float]:
    """Degrees (lon, lat) that copy number ``copy`` is moved by."""
    return STEP_DEG * (copy % ROW), STEP_DEG * (copy // ROW)


def _read_all(source: Path) -> dict[str, bytes]:
    if source.is_file():
        with zipfile.ZipFile(source) as zf:
            return {Path(n).stem: zf.read(n) for n in zf.namelist() if n.endswith(".txt")}
    return {p.stem: p.read_bytes() for p in source.glob("*.txt")}


def _copy_table(table: pa.Table, name: str, copy: int) -> pa.Table:
    prefix = f"c{copy}_"
    for col in ID_COLUMNS.get(name, []):
        if col in table.column_names:
            i = table.column_names.index(col)
            table = table.set_column(i, col, pc.binary_join_element_wise(prefix, table[col], ""))
    dlon, dlat = _shift(copy)
    for lon, lat in (("stop_lon", "stop_lat"), ("shape_pt_lon", "shape_pt_lat")):
        if lon in table.column_names:
            for col, d in ((lon, dlon), (lat, dlat)):
                i = table.column_names.index(col)
                table = table.set_column(i, col, pc.add(table[col].cast(pa.float64()), d))
    return table


def make_feed(out: str | Path, copies: int, source: str | Path | None = None) -> Path:
    """Write ``copies`` shifted, re-identified copies of ``source`` as a GTFS folder at ``out``."""
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
                writer.write_table(_copy_table(table, name, copy))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, required=True, help="how many copies of the source")
    parser.add_argument("--out", required=True, help="GTFS folder to write (under /tmp)")
    parser.add_argument("--source", default=None, help="GTFS zip or folder (default: bundled HART)")
    args = parser.parse_args()
    start = time.perf_counter()
    path = make_feed(args.out, args.copies, args.source)
    size = sum(p.stat().st_size for p in path.iterdir()) / 1e9
    print(f"{path}: {args.copies} copies, {size:.2f} GB, in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
