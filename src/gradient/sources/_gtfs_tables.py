"""Reading the tables of a GTFS zip or folder as the specification writes them.

Every field is text exactly as written: only an empty field is missing (``NA``,
``null`` or ``None`` are ids and names like any other). Numeric fields are converted
afterwards by :func:`numbers`, whose errors name the table and the column; the
coordinates and sequences of :data:`NUMBERS` are parsed as numbers straight away where
every value is one (the usual case), and otherwise read as text for :func:`numbers`.
``stop_times.txt``, by far the largest table, is read by pyarrow's multi-threaded CSV
reader, only the columns :func:`gradient.sources.gtfs.stop_patterns` uses, with ids and times
dictionary-encoded (pandas categoricals of the exact strings).
"""

from __future__ import annotations

import csv
import functools
import io
import zipfile
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import IO, Callable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .. import _archive
from .._tables import finite_floats
from ..errors import FeedError

MAX_UNCOMPRESSED_BYTES = 20 * 2**30
"""A feed whose tables would unpack to more than this (20 GiB), by their declared sizes or by the bytes
actually unpacked, is refused."""

TABLES = ("agency", "routes", "trips", "stops", "stop_times", "shapes")
"""The GTFS tables :func:`gradient.sources.gtfs.read_feed` reads (others are ignored)."""

NUMBERS = {
    "stops": {"stop_lat": pa.float64(), "stop_lon": pa.float64()},
    "shapes": {"shape_pt_lat": pa.float64(), "shape_pt_lon": pa.float64(), "shape_pt_sequence": pa.int64()},
}
"""Columns parsed as numbers while the table is read (:func:`read_text_table`'s ``types``), where
every value is a finite number or (for floats) blank. Parsing 60 copies of HART's shapes as text
and then as numbers took 0.5-4.4 s against 0.4-0.6 s, most of the difference the fresh memory of
three columns of text."""

PARSE_POOL = pa.system_memory_pool()
"""Where the buffers of a parsed GTFS table come from: the C library's ``malloc``, not pyarrow's
default pool (mimalloc). A parse's buffers are few and large, so the allocator's speed does not
show; where the memory comes from does. On the 2-core virtual machine of ``benchmarks/``, whose
fresh huge pages are slow to come by, the default pool's took 60 copies of HART to 21.3-22.3 s
(7.7-8.0 s of it system time) against 18.6-18.7 s (4.6-5.0 s) with this one, the same files."""

STOP_TIMES_COLUMNS = ["trip_id", "stop_id", "stop_sequence", "arrival_time", "departure_time"]
"""The columns of ``stop_times.txt`` that are kept (where the feed has them)."""

GTFS_FILES = frozenset(
    f"{name}.txt"
    for name in (
        "agency",
        "stops",
        "routes",
        "trips",
        "stop_times",
        "calendar",
        "calendar_dates",
        "fare_attributes",
        "fare_rules",
        "fare_media",
        "fare_products",
        "fare_leg_rules",
        "fare_transfer_rules",
        "timeframes",
        "areas",
        "stop_areas",
        "networks",
        "route_networks",
        "shapes",
        "frequencies",
        "transfers",
        "pathways",
        "levels",
        "location_groups",
        "location_group_stops",
        "booking_rules",
        "translations",
        "feed_info",
        "attributions",
    )
)
"""File names the GTFS reference defines: a zip holding them in two folders holds two feeds."""

MAX_HEADER_BYTES = 2**16
"""The longest header line of ``stop_times.txt`` read (GTFS headers are a few hundred bytes)."""

DAMAGED = _archive.DAMAGED
"""What reading a damaged zip member raises (bad deflate data, a bad CRC, a truncated member)."""


def visible_members(infos: list[zipfile.ZipInfo]) -> list[tuple[str, zipfile.ZipInfo]]:
    """The files of a zip that can be data: (path with ``/``, member), without folders or hidden clutter.

    macOS's ``__MACOSX/`` copies and AppleDouble ``._stops.txt`` files, and any other
    member with a part starting with ``.``, are never data (:func:`gradient._archive.is_hidden`);
    paths written with backslashes are read with ``/``.
    """
    return [
        (_archive.normalised(i.filename), i) for i in infos if not i.is_dir() and not _archive.is_hidden(i.filename)
    ]


def feed_members(infos: list[zipfile.ZipInfo]) -> dict[str, zipfile.ZipInfo]:
    """The GTFS files of a zip by table name (``stops``), from the one folder that holds them.

    The caller has refused zips with GTFS files in two folders, or a name twice
    (:func:`gradient.sources._feedcheck.check_zip`); hidden members never count.
    """
    found = {}
    for name, info in visible_members(infos):
        file = PurePosixPath(name).name
        if file in GTFS_FILES:
            found[file[: -len(".txt")]] = info
    return found


@contextmanager
def openers(path: Path) -> Iterator[dict[str, Callable[[], io.BufferedReader]]]:
    """Each non-empty GTFS table of a zip or folder, by name in sorted order: an opener of its bytes.

    A zip stays open while the context lasts; its members are read through the limits on
    bytes actually unpacked (:func:`gradient._archive.open_member`).
    """
    if path.is_file():
        budget = _archive.Budget(MAX_UNCOMPRESSED_BYTES)
        with zipfile.ZipFile(path) as zf:
            yield {
                table: functools.partial(_archive.open_member, zf, info, path, budget, FeedError)
                for table, info in sorted(feed_members(zf.infolist()).items())
                if info.file_size
            }
    else:
        yield {
            p.stem: _opener(p)
            for p in sorted(path.iterdir())
            if p.is_file() and p.suffix == ".txt" and p.stat().st_size
        }


def members(path: Path) -> Iterator[tuple[str, Callable[[], io.BufferedReader]]]:
    """Each non-empty GTFS table of a zip or folder: (table name, opener of its bytes); see :func:`openers`."""
    with openers(path) as found:
        yield from found.items()


def read_tables(path: Path) -> dict[str, pd.DataFrame]:
    """The tables of :data:`TABLES` that the feed has (those with a header but no rows are empty).

    Raises
    ------
    FeedError
        Naming the table, if a zip member is damaged (its data or its CRC does not check out).
    """
    tables: dict[str, pd.DataFrame] = {}
    for table, opener in members(path):
        if table not in TABLES:
            continue
        try:
            with opener() as fh:
                if table == "stop_times":
                    tables[table] = read_stop_times(fh, opener)
                else:
                    tables[table] = read_text_table(fh, types=NUMBERS.get(table))
        except DAMAGED as exc:
            raise FeedError(f"{table}.txt in the zip is damaged ({exc}); download the feed again") from exc
    return tables


def read_text_table(
    fh: IO[bytes], columns: Sequence[str] | None = None, types: Mapping[str, pa.DataType] | None = None
) -> pd.DataFrame:
    """A GTFS table with every field as text (``string`` dtype); empty fields missing.

    ``columns``: only these (those the table has), for a reader that needs no others.
    ``types``: these columns as numbers (float64, or int64) where every value parses as one,
    finite and (for whole numbers) never blank; else the whole table as text.
    """
    data = fh.read()
    frame = _arrow_text_table(data, columns, types) if types else None
    if frame is None:
        frame = _arrow_text_table(data, columns)
    if frame is None:  # ragged rows, text that is not UTF-8 and the like: pandas' parser reads or says what is wrong
        text = data.decode("utf-8-sig")
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""], skipinitialspace=False)
        frame = frame.astype("string")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame if columns is None else frame[[c for c in frame.columns if c in columns]]


BOM = b"\xef\xbb\xbf"


def _arrow_text_table(
    data: bytes, columns: Sequence[str] | None = None, types: Mapping[str, pa.DataType] | None = None
) -> pd.DataFrame | None:
    """The table parsed by pyarrow from its bytes, every field text and empty fields missing; None where it cannot.

    The bytes are parsed as they are (after a byte-order mark): no decoded copy of the
    file is made. pyarrow checks that every field is UTF-8. The columns of ``types`` are
    parsed as those types instead; None unless each value is finite and a whole number is
    never blank.
    """
    types = types or {}
    start = len(BOM) if data.startswith(BOM) else 0
    end = data.find(b"\n", start)
    if end < 0:
        return None
    try:
        names = next(csv.reader([data[start:end].decode("utf-8").rstrip("\r")]), [])
    except (csv.Error, UnicodeDecodeError):  # e.g. a field over csv's limit: pandas' parser says what is wrong
        return None
    if not names or len(set(names)) != len(names):
        return None
    try:
        table = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(data)[start:]),
            # one thread: a whole table's text parsed on two threads took 1.1-3.0 s against 0.43 s on
            # one (60 copies of HART's shapes), the difference system time faulting in fresh memory
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, use_threads=False),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={n: types.get(n.strip(), pa.string()) for n in names},
                include_columns=[n for n in names if columns is None or n.strip() in columns],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
                null_values=[""],
            ),
            memory_pool=PARSE_POOL,
        )
    except (pa.ArrowInvalid, ValueError):
        return None
    for name, col in zip(table.column_names, table.columns):
        if name.strip() not in types:
            continue
        if pa.types.is_floating(col.type) and (pc.any(pc.is_nan(col)).as_py() or pc.any(pc.is_inf(col)).as_py()):
            return None
        if pa.types.is_integer(col.type) and col.null_count:
            return None
    return table.to_pandas(types_mapper={pa.string(): pd.StringDtype()}.get, memory_pool=PARSE_POOL)


def read_stop_times(fh: IO[bytes], opener: Callable[[], IO[bytes]]) -> pd.DataFrame:
    """:data:`STOP_TIMES_COLUMNS` of ``stop_times.txt``; ids and times as categoricals.

    ``stop_sequence`` is parsed as int64 (GTFS allows any non-negative integer); where
    that fails, the column is read again as text so the error can name the value.
    """
    header = fh.readline(MAX_HEADER_BYTES + 1).decode("utf-8-sig")
    try:
        if len(header) > MAX_HEADER_BYTES:
            raise csv.Error(f"its first line is longer than {MAX_HEADER_BYTES:,} bytes")
        names = [n.strip() for n in next(csv.reader([header]), [])]
    except csv.Error as exc:
        raise FeedError(f"stop_times.txt: the header cannot be read ({exc}); is it a GTFS table?") from exc
    keep = [c for c in STOP_TIMES_COLUMNS if c in names]
    types = {
        "trip_id": pa.string(),
        "stop_id": pa.string(),
        "arrival_time": pa.string(),
        "departure_time": pa.string(),
        "stop_sequence": pa.int64(),
    }

    def read(seq_type: pa.DataType) -> pa.Table:
        with opener() as whole:
            return pacsv.read_csv(
                whole,
                read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
                convert_options=pacsv.ConvertOptions(
                    include_columns=keep,
                    column_types={c: (seq_type if c == "stop_sequence" else types[c]) for c in keep},
                    strings_can_be_null=True,
                    null_values=[""],
                ),
                memory_pool=PARSE_POOL,
            )

    try:
        table = read(pa.int64())
    except pa.ArrowInvalid:
        table = read(pa.string())
    frame = pd.DataFrame(
        {c: _categorical(table.column(c)) if c != "stop_sequence" else table.column(c).to_pandas() for c in keep}
    )
    if "stop_sequence" in frame:
        if table.schema.field("stop_sequence").type == pa.string():
            frame["stop_sequence"] = numbers(frame["stop_sequence"], "stop_times", "stop_sequence", whole=True)
        elif frame["stop_sequence"].dtype == float:  # blanks: nullable integers
            frame["stop_sequence"] = frame["stop_sequence"].astype("Int64")
    return frame


def _categorical(column: pa.ChunkedArray) -> pd.Categorical:
    """Text as a pandas categorical by one dictionary encoding of the whole column (codes -1 where blank)."""
    encoded = column.combine_chunks().dictionary_encode()
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
    return pd.Categorical.from_codes(codes, categories=pd.Index(encoded.dictionary.to_pandas()), validate=False)


def numbers(col: pd.Series, table: str, column: str, *, whole: bool = False, path: Path | None = None) -> pd.Series:
    """A text column as numbers; anything but a blank that does not parse is an error.

    Parameters
    ----------
    col : pandas.Series
        Text as read.
    table, column : str
        Named in the error.
    whole : bool, default False
        Whole numbers (int64; ``Int64`` where some are blank), as wide as GTFS allows
        (any whole number up to 2**63 - 1, parsed exactly, never through floats).
    path : Path, optional
        Named in the error.

    Returns
    -------
    pandas.Series
        Floats (NaN where blank), or with ``whole`` int64 (``Int64`` where some are blank).

    Raises
    ------
    FeedError
        Naming the table, the column, how many values fail and an example.
    """
    if whole and col.dtype == np.int64:  # parsed as numbers when read (:data:`NUMBERS`)
        return col
    if not whole and col.dtype == np.float64 and not np.isinf(col.to_numpy()).any():  # NaN: blank
        return col
    text = col.astype("string")
    for trimmed in (False, True):  # as written (the usual case, no copy made), then trimmed, blanks missing
        if trimmed:
            text = text.str.strip()
            text = text.mask(text == "")
        if not whole:
            fast = finite_floats(text)
            if fast is not None:
                return pd.Series(fast, index=col.index)
        elif not text.isna().any():
            try:  # plain digits, the usual case: pyarrow's exact cast (anything else is read below, and named)
                return pd.Series(pc.cast(pa.array(text, type=pa.string()), pa.int64()).to_numpy(), index=col.index)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                pass
    nums = pd.to_numeric(text, errors="coerce", dtype_backend="numpy_nullable")
    bad = np.array(nums.isna() & text.notna(), dtype=bool)
    what = "numbers"
    if whole:
        what = "whole numbers"
        if pd.api.types.is_float_dtype(nums.dtype):
            values = nums.to_numpy(dtype=float, na_value=np.nan)
            bad |= ~np.isnan(values) & (~np.isfinite(values) | (values != np.round(values)))
        if not bad.any():
            big = _beyond_int64(nums)
            if big.any():
                bad, what = big, "whole numbers of at most 2**63 - 1 (9223372036854775807)"
    if bad.any():
        raise FeedError(
            f"{table}.txt: {int(bad.sum())} value(s) in column {column} are not {what} (e.g. {text[bad].iloc[0]!r})",
            path,
        )
    if whole:
        out = nums.astype("Int64")
        return out if out.isna().any() else out.astype(np.int64)
    return pd.Series(nums.to_numpy(dtype=float, na_value=np.nan), index=col.index)


def _beyond_int64(nums: pd.Series) -> np.ndarray:
    """Where whole numbers do not fit int64 (parsed as unsigned integers or floats)."""
    if pd.api.types.is_unsigned_integer_dtype(nums.dtype):
        return (nums > np.iinfo(np.int64).max).fillna(False).to_numpy(bool)
    if pd.api.types.is_float_dtype(nums.dtype):
        return (nums.abs() >= 2.0**63).fillna(False).to_numpy(bool)
    return np.zeros(len(nums), bool)


def _opener(path: Path) -> Callable[[], io.BufferedReader]:
    """A function that opens ``path`` for reading bytes."""
    return lambda: open(path, "rb")
