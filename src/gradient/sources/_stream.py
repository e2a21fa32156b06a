"""A GTFS feed read with ``stop_times.txt`` streamed: memory that grows with what is kept.

:func:`read` reads every other table whole (they are small) and ``stop_times.txt`` in
blocks of whole lines (pyarrow's multi-threaded reader, only the five columns used, ids and times
dictionary-encoded), turning each block into codes of ``stops.txt``'s and ``trips.txt``'s
ids and seconds, which a :class:`gradient.sources._collapse.Collector` collapses to stop
lists and timings as they arrive. What the checks of :mod:`gradient.sources._feedcheck`
need of the stop times (the stops in use, the times that are not ``H:MM:SS``) is counted on
the way.

Anything unusual (an id that the other tables do not define, a blank or repeated
``stop_sequence``, a table that cannot be read, a check that fails) raises, and
:func:`gradient.sources.gtfs.stop_patterns` then reads the feed whole, as
:func:`gradient.sources.gtfs.read_feed` always has, so that every error and warning is
worded, ordered and counted exactly as it is there.
"""

from __future__ import annotations

import csv
import io
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ..errors import NotStreamed
from . import _feedcheck
from ._collapse import Collapsed, Collector
from ._gtfs_read import REQUIRED, typed
from ._gtfs_tables import MAX_HEADER_BYTES, NUMBERS, PARSE_POOL, STOP_TIMES_COLUMNS, TABLES, openers, read_text_table
from ._trips import unique_seconds

BLOCK_BYTES = 2**25
"""Bytes of ``stop_times.txt`` parsed at a time (whole lines, by pyarrow's multi-threaded reader)."""

CHUNK_ROWS = 2**18
"""Stop times collapsed at a time (at least: the blocks parsed until there are this many, in practice
one block of about 900,000 rows). Larger chunks gain nothing and cost time where fresh memory is slow
to come by: on the 2-core virtual machine of ``benchmarks/``, chunks of 2**20 rows made a regional
feed's run 6.9-8.3 s instead of 5.8-6.5 s (six runs each, alternating), the difference all system
time (1.3-2.7 s against 0.4-0.9 s) spent faulting in the chunks' larger temporary arrays."""

COLUMNS = {
    "trips": ("trip_id", "route_id", "direction_id", "shape_id"),
    "shapes": ("shape_id", "shape_pt_lat", "shape_pt_lon", "shape_pt_sequence"),
}
"""Of the larger tables, only the columns that stop patterns use are read."""

TIME_COLUMNS = ("departure_time", "arrival_time")
"""The time columns, in the order they are read: where both are given, the arrival (read last) wins."""


@dataclass
class Seen:
    """What the stream saw of ``stop_times.txt`` beyond the trips it collapsed (for the checks).

    Attributes
    ----------
    used : numpy.ndarray
        Per stop code, whether a stop time names it.
    n_rows : int
        Stop times read.
    bad_times : dict
        Per time column present: rows whose value is not ``H:MM:SS``, and the first three
        such distinct values in the order they first appear.
    """

    used: np.ndarray
    n_rows: int = 0
    bad_times: dict[str, tuple[int, list[str]]] = field(default_factory=dict)


def read(path: Path, client: Any = None) -> tuple[dict[str, pd.DataFrame | None], Collapsed, Seen]:
    """The feed's tables other than ``stop_times.txt``, its stop times collapsed, and what the stream saw.

    Parameters
    ----------
    path : Path
        A GTFS zip or folder.
    client : dask.distributed.Client, optional
        Collapse the stop times on its workers, a block each (:func:`collapse`).

    Returns
    -------
    (dict, Collapsed, Seen)
        ``routes``, ``trips``, ``stops``, ``shapes``, ``agency`` as
        :func:`gradient.sources._gtfs_read.read_own` gives them; the collapsed stop times;
        what the checks need.

    Raises
    ------
    NotStreamed, FeedError, pyarrow.ArrowException, UnicodeDecodeError, ValueError
        On anything but a well-formed feed (the caller reads it whole instead).
    """
    if path.is_file():
        _feedcheck.check_zip(path)
    with openers(path) as found:
        if "stop_times" not in found:
            raise NotStreamed("no stop_times.txt")
        raw = {}
        for table, opener in found.items():
            if table in TABLES and table != "stop_times":
                with opener() as fh:
                    raw[table] = read_text_table(fh, COLUMNS.get(table), NUMBERS.get(table))
        tables = typed(raw, path, stop_times=False)
        trips, stops = raw["trips"], raw["stops"]
        trip_index, stop_index = _ids(trips["trip_id"]), _ids(stops["stop_id"])
        collapsed, seen = collapse(found["stop_times"], trip_index, stop_index, client)
    return tables, collapsed, seen


def _ids(column: pd.Series) -> pd.Index:
    """A table's ids as an index to code against (blank or repeated ids: the whole reader names them)."""
    index = pd.Index(column.astype("string"))
    if index.hasnans or not index.is_unique:
        raise NotStreamed("blank or repeated ids")
    return index


def collapse(
    opener: Callable[[], io.BufferedReader], trip_index: pd.Index, stop_index: pd.Index, client: Any = None
) -> tuple[Collapsed, Seen]:
    """Stream ``stop_times.txt`` through a :class:`~gradient.sources._collapse.Collector`.

    Parameters
    ----------
    opener : callable
        Opens the table's bytes.
    trip_index, stop_index : pandas.Index
        ``trips.txt``'s and ``stops.txt``'s ids (unique, in file order): the codes.
    client : dask.distributed.Client, optional
        Parse and collapse each block of whole lines on a worker (:func:`collapse_block`),
        at most :data:`IN_FLIGHT` per worker at a time, and merge what they return here in
        the file's order (:meth:`~gradient.sources._collapse.Collector.merge`): the result
        is the one this process would reach alone. This process only reads (and unzips)
        the file and merges.

    Returns
    -------
    (Collapsed, Seen)
    """
    with opener() as fh:
        header = fh.readline(MAX_HEADER_BYTES + 1).decode("utf-8-sig")
        if len(header) > MAX_HEADER_BYTES:
            raise NotStreamed("header too long")
        names = [n.strip() for n in next(csv.reader([header]), [])]
        if any(c not in names for c in REQUIRED["stop_times"]):
            raise NotStreamed("a required column is missing")
        cols = [c for c in STOP_TIMES_COLUMNS if c in names]
        if client is not None:
            return _collapse_on(client, fh, names, cols, trip_index, stop_index)
        convert = _convert(cols)
        collector = Collector()
        seen = Seen(used=np.zeros(len(stop_index), dtype=bool))
        times = _Times([c for c in TIME_COLUMNS if c in cols])
        batches: list[pa.RecordBatch] = []
        for block in _blocks(fh):
            batches += _parse(block, names, convert).to_batches()
            if sum(b.num_rows for b in batches) >= CHUNK_ROWS:
                collector.add(*_chunk(batches, trip_index, stop_index, times, seen))
                batches = []
    if batches:
        collector.add(*_chunk(batches, trip_index, stop_index, times, seen))
    if seen.n_rows == 0:
        raise NotStreamed("no stop times")
    seen.bad_times = {c: (times.n_bad[c], list(times.bad[c])[:3]) for c in times.columns}
    return collector.finish(trip_index, stop_index, rows=True), seen


IN_FLIGHT = 2
"""Blocks sent to each worker ahead of the merge (memory here: about this many blocks a worker)."""


def collapse_block(
    block: pa.Buffer, names: list[str], cols: list[str], trip_index: pd.Index, stop_index: pd.Index
) -> tuple[Collector, np.ndarray, int, dict[str, int], dict[str, list[str]]]:
    """One block of whole lines of ``stop_times.txt`` parsed and collapsed on its own (a worker's task).

    Returns
    -------
    (Collector, numpy.ndarray, int, dict, dict)
        The block's collector (not finished), which stops it names, its rows, and per time
        column the rows that are not ``H:MM:SS`` and their distinct values in order.
    """
    collector = Collector()
    seen = Seen(used=np.zeros(len(stop_index), dtype=bool))
    times = _Times([c for c in TIME_COLUMNS if c in cols])
    collector.add(*_chunk(_parse(block, names, _convert(cols)).to_batches(), trip_index, stop_index, times, seen))
    return collector, seen.used, seen.n_rows, times.n_bad, {c: list(times.bad[c]) for c in times.columns}


def _collapse_on(
    client: Any, fh: io.BufferedReader, names: list[str], cols: list[str], trip_index: pd.Index, stop_index: pd.Index
) -> tuple[Collapsed, Seen]:
    """:func:`collapse` with each block's work on a worker of ``client``, merged here in the file's order."""
    trips_at, stops_at = client.scatter([trip_index, stop_index], broadcast=True)
    limit = IN_FLIGHT * max(1, len(client.scheduler_info().get("workers", {})))
    collector = Collector()
    seen = Seen(used=np.zeros(len(stop_index), dtype=bool))
    time_cols = [c for c in TIME_COLUMNS if c in cols]
    n_bad = dict.fromkeys(time_cols, 0)
    bad: dict[str, dict[str, None]] = {c: {} for c in time_cols}

    def take(future: Any) -> None:
        part, used, n_rows, part_bad, part_values = future.result()
        collector.merge(part)
        seen.used |= used
        seen.n_rows += n_rows
        for c in time_cols:
            n_bad[c] += part_bad[c]
            for value in part_values[c]:
                bad[c].setdefault(value, None)

    pending: deque = deque()
    for block in _blocks(fh, reuse=False):
        pending.append(client.submit(collapse_block, block, names, cols, trips_at, stops_at, pure=False))
        if len(pending) >= limit:
            take(pending.popleft())
    while pending:
        take(pending.popleft())
    if seen.n_rows == 0:
        raise NotStreamed("no stop times")
    seen.bad_times = {c: (n_bad[c], list(bad[c])[:3]) for c in time_cols}
    return collector.finish(trip_index, stop_index, rows=True), seen


def _convert(cols: list[str]) -> pacsv.ConvertOptions:
    """How the kept columns are read: ``stop_sequence`` as whole numbers, the rest dictionary-encoded text."""
    text = pa.dictionary(pa.int32(), pa.string())
    return pacsv.ConvertOptions(
        include_columns=cols,
        column_types={c: (pa.int64() if c == "stop_sequence" else text) for c in cols},
        strings_can_be_null=True,
        null_values=[""],
    )


def _blocks(fh: io.BufferedReader, reuse: bool = True) -> Iterator[pa.Buffer]:
    """The rest of ``fh`` (a CSV table after its header) in blocks of about :data:`BLOCK_BYTES` of whole lines.

    With ``reuse`` (one process), every block is read into the same buffer, after the
    previous block's unfinished line moved to its front: a block is valid until the next
    one is asked for (pyarrow's parse copies what it keeps), and nothing is copied but that
    line. Without (blocks sent elsewhere), each block is a buffer of its own.
    """
    buf = bytearray(BLOCK_BYTES)
    view = memoryview(buf)
    held = 0  # bytes of an unfinished line at the front of buf
    while True:
        got = fh.readinto(view[held:])
        end = held + (got or 0)
        cut = buf.rfind(b"\n", 0, end) + 1 if got else end
        if cut:
            yield pa.py_buffer(view[:cut]) if reuse else pa.py_buffer(bytes(view[:cut]))
        if not got:
            return
        if cut == 0 and end == len(buf):  # one line longer than the buffer: a buffer twice as long
            buf = bytearray(2 * len(buf))
            buf[:end] = view
            view = memoryview(buf)
        held = end - cut
        view[:held] = view[cut:end]


def _parse(block: pa.Buffer, names: list[str], convert: pacsv.ConvertOptions) -> pa.Table:
    """One block of whole lines parsed by pyarrow's multi-threaded reader (the parse runs on every core)."""
    return pacsv.read_csv(
        pa.BufferReader(block),
        read_options=pacsv.ReadOptions(column_names=names),
        convert_options=convert,
        memory_pool=PARSE_POOL,
    )


def _chunk(batches, trip_index, stop_index, times: _Times, seen: Seen) -> tuple[np.ndarray, ...]:
    """One chunk of parsed blocks as codes of trips and stops, sequence numbers and seconds."""

    def column(name: str) -> pa.ChunkedArray:
        return pa.chunked_array([b.column(name) for b in batches])

    trip = _codes(column("trip_id"), trip_index)
    stop = _codes(column("stop_id"), stop_index)
    seq = column("stop_sequence")
    if seq.null_count:
        raise NotStreamed("a blank stop_sequence")
    seq = np.concatenate([c.to_numpy() for c in seq.chunks])
    if len(seq) and seq.min() < 0:
        raise NotStreamed("a negative stop_sequence")
    secs = times.seconds(batches)
    seen.used[stop] = True
    seen.n_rows += len(trip)
    return trip, stop, seq, secs


def _indices(column: pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    """A dictionary column's indices (-1 where blank) and its dictionary, one for all its chunks."""
    column = column.unify_dictionaries()
    chunks = column.chunks
    dictionary = chunks[0].dictionary if chunks else pa.array([], type=pa.string())
    idx = [pc.fill_null(c.indices, -1).to_numpy() for c in chunks]
    return (np.concatenate(idx) if idx else np.empty(0, np.int32)), dictionary


def _codes(column: pa.ChunkedArray, index: pd.Index) -> np.ndarray:
    """Codes into ``index`` of a dictionary-encoded id column (an id it lacks, or a blank, is unusual)."""
    if column.null_count:
        raise NotStreamed("a blank id")
    idx, dictionary = _indices(column)
    where = index.get_indexer(pd.Index(dictionary.to_pandas()))
    if (where < 0).any():
        raise NotStreamed("an id missing from its table")
    return where[idx]


class _Times:
    """Seconds of the time columns, each distinct time string parsed once for the whole feed.

    Also counts, per column, the rows that are not ``H:MM:SS`` and keeps their distinct
    values in the order they first appear (the warning's examples).
    """

    def __init__(self, columns: list[str]) -> None:
        self.columns = columns
        self.index = pd.Index([], dtype="string")
        self.secs = np.empty(0)
        self.ok = np.empty(0, dtype=bool)
        self.n_bad = dict.fromkeys(columns, 0)
        self.bad: dict[str, dict[str, None]] = {c: {} for c in columns}

    def seconds(self, batches: list[pa.RecordBatch]) -> np.ndarray:
        """Seconds of each row: its ``arrival_time``, else its ``departure_time``, else NaN."""
        n = sum(b.num_rows for b in batches)
        secs = np.full(n, np.nan)
        code: np.ndarray | None = None
        for col in self.columns:  # departure first, arrival last: it wins where both are given
            other = "departure_time" if col == "arrival_time" else None
            same = (
                code is not None
                and other in self.columns
                and all(b.column(col).equals(b.column(other)) for b in batches)
            )
            if code is None or not same:  # a column identical to the departures (the usual case) is looked up once
                code = self._codes(pa.chunked_array([b.column(col) for b in batches]))
                got = np.append(self.secs, np.nan)[code]
                secs = np.where(np.isnan(got), secs, got)
            self._note(col, code)
        return secs

    def _codes(self, column: pa.ChunkedArray) -> np.ndarray:
        idx, dictionary = _indices(column)
        values = pd.Index(dictionary.to_pandas(), dtype="string")
        where = self.index.get_indexer(values)
        new = where < 0
        if new.any():
            fresh = values[new]
            where[new] = len(self.index) + np.arange(len(fresh))
            self.index = self.index.append(fresh)
            self.secs = np.r_[self.secs, unique_seconds(fresh)[:-1]]
            self.ok = np.r_[self.ok, _feedcheck._matches(fresh.to_numpy(dtype=object), _feedcheck._TIME.pattern)]
        return np.append(where, -1)[idx]  # blanks: -1

    def _note(self, col: str, code: np.ndarray) -> None:
        """Count the rows of ``col`` that are not ``H:MM:SS``, and note the first such values."""
        wrong = ~np.append(self.ok, True)[code]
        if not wrong.any():
            return
        self.n_bad[col] += int(wrong.sum())
        if len(self.bad[col]) < 3:  # the first distinct ones, in the order they appear
            first, at = np.unique(code[wrong], return_index=True)
            for c in first[np.argsort(at)]:
                self.bad[col].setdefault(str(self.index[c]), None)
