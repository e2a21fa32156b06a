"""Trips collapsed to stop lists and timings as their stop times arrive.

``stop_times.txt`` is by far a feed's largest table (a national feed has tens of millions
of rows), but :func:`gradient.sources.gtfs.stop_patterns` needs little of it: each trip's
ordered stop list, of which a feed has a few hundred distinct ones, and each trip's times,
of which it has a few thousand distinct *timings*. A :class:`Collector` takes the stop
times in chunks and keeps only that:

- every run of consecutive rows of one trip (a *fragment*: normally the whole trip) is
  ordered by ``stop_sequence`` and reduced to one row: its trip, its stop list (one
  representative per distinct ordered list of stops and sequence numbers), its timing (one
  representative per distinct list of seconds) and the seconds of its first stop;
- a timing whose seconds are all whole is kept relative to the trip's first stop (exactly:
  whole seconds are exact in floating point), so trips that run the same times at another
  hour share it; a timing with a blank or a fraction is kept as written;
- a trip whose rows come in more than one run (a feed need not be ordered by trip, and a
  chunk boundary cuts one trip in two) is put back together from its fragments at the end,
  exactly as the rows would have been.

Distinct lists are found with a random linear hash per run (whole-array numpy),
checked exactly against the representative, and matched across chunks by their bytes.
Memory is the chunk being read plus what is kept, whatever the feed's size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import _arrays
from ..errors import NotStreamed

SEED = 20240607
"""Seed of the hash weights (any value would do: collisions are checked)."""

WHOLE_LIMIT = 2.0**53
"""Seconds below this are whole numbers stored exactly (float64)."""


@dataclass
class Collapsed:
    """A feed's stop times, collapsed: one row per trip, one stop list per pattern, one timing per distinct one.

    Attributes
    ----------
    trip_ids : pandas.Index
        The trips that have stop times, in the string order of their ids (a trip's
        position here is its ``trip_n``).
    stop_index : pandas.Index
        Stop ids; stop codes are positions in it.
    pattern : numpy.ndarray
        Per trip, its ordered stop list: an index into ``pattern_start``.
    timing : numpy.ndarray
        Per trip, its seconds: an index into ``timing_start``.
    pattern_start, pattern_stops : numpy.ndarray
        Stop list ``k`` is ``pattern_stops[pattern_start[k]:pattern_start[k + 1]]`` (stop codes).
    timing_start, timing_secs : numpy.ndarray
        Timing ``k`` is ``timing_secs[timing_start[k]:timing_start[k + 1]]``: seconds of
        each stop (NaN where blank), relative to the first stop where all are whole.
    n_rows : int
        Stop times read.
    trip_rows : numpy.ndarray or None
        Per trip, its row in ``trips.txt``, where the trip codes were those rows (the
        streamed reader's are); else None.
    """

    trip_ids: pd.Index
    stop_index: pd.Index
    pattern: np.ndarray
    timing: np.ndarray
    pattern_start: np.ndarray
    pattern_stops: np.ndarray
    timing_start: np.ndarray
    timing_secs: np.ndarray
    n_rows: int
    trip_rows: np.ndarray | None = None

    @property
    def n_stops(self) -> np.ndarray:
        """Stops of each trip."""
        return np.diff(self.pattern_start)[self.pattern]

    def stops_of(self, pattern: int) -> np.ndarray:
        """Stop codes of one stop list, in order."""
        return self.pattern_stops[self.pattern_start[pattern] : self.pattern_start[pattern + 1]]


def _weights(n: int) -> np.ndarray:
    """Odd 64-bit hash weights, one per position: the first ``n`` of any longer call."""
    return _arrays.mix(np.arange(n, dtype=np.uint64) + np.uint64(SEED)) | np.uint64(1)


@dataclass
class _Runs:
    """Runs of consecutive rows of one trip in a chunk."""

    starts: np.ndarray
    lengths: np.ndarray
    pos: np.ndarray  # each row's position within its run

    @classmethod
    def of(cls, trip: np.ndarray) -> _Runs:
        m = len(trip)
        new = np.empty(m, dtype=bool)
        new[:1] = True
        np.not_equal(trip[1:], trip[:-1], out=new[1:])
        starts = np.flatnonzero(new)
        lengths = np.diff(np.append(starts, m))
        pos = _arrays.within(lengths)
        return cls(starts, lengths, pos)


def list_keys(columns: list[np.ndarray], runs: _Runs) -> tuple[np.ndarray, np.ndarray]:
    """One label per run, equal for runs whose rows are equal in every column, and a run per label.

    Parameters
    ----------
    columns : list of numpy.ndarray
        uint64 values per row.
    runs : _Runs

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Each run's label (0, 1, ...) and, per label, its first run. A 64-bit hash and the
        length group the runs; every row is then checked against its label's first run,
        and on a collision the runs are grouped by their exact bytes instead.
    """
    wp = _weights(int(runs.lengths.max(initial=1)))[runs.pos]
    h = np.zeros(len(runs.starts), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k, col in enumerate(columns):
            v = _arrays.mix(col + np.uint64(k + 1)) if len(columns) > 1 else col + np.uint64(1)
            h += np.add.reduceat(v * wp, runs.starts)
    labels = pd.DataFrame({"n": runs.lengths, "h": h}).groupby(["n", "h"], sort=False).ngroup()
    labels = labels.to_numpy(np.int64)
    first = np.unique(labels, return_index=True)[1]
    rep_row = np.repeat(runs.starts[first[labels]], runs.lengths) + runs.pos
    if all(np.array_equal(col, col[rep_row]) for col in columns):
        return labels, first
    exact = [b"".join(col[a : a + n].tobytes() for col in columns) for a, n in zip(runs.starts, runs.lengths)]
    labels = pd.factorize(pd.Series(exact, dtype=object))[0].astype(np.int64)
    return labels, np.unique(labels, return_index=True)[1]


class _Distinct:
    """Distinct lists of values across chunks, by their exact bytes: an id per list."""

    def __init__(self) -> None:
        self.ids: dict[bytes, int] = {}
        self.parts: list[list[np.ndarray]] = []

    def ids_of(self, columns: list[np.ndarray], runs: _Runs, labels: np.ndarray, first: np.ndarray) -> np.ndarray:
        """The global id of each run, from its chunk label (new lists are kept)."""
        out = np.empty(len(first), dtype=np.int64)
        for label, run in enumerate(first):
            a, n = runs.starts[run], runs.lengths[run]
            pieces = [col[a : a + n] for col in columns]
            key = b"".join(p.tobytes() for p in pieces)
            got = self.ids.get(key)
            if got is None:
                got = self.ids[key] = len(self.parts)
                self.parts.append([p.copy() for p in pieces])
            out[label] = got
        return out[labels]

    def merge(self, other: _Distinct) -> np.ndarray:
        """Take in ``other``'s lists (those new here get the next ids, in ``other``'s order); its ids here."""
        out = np.empty(len(other.parts), dtype=np.int64)
        for i, pieces in enumerate(other.parts):
            key = b"".join(p.tobytes() for p in pieces)
            got = self.ids.get(key)
            if got is None:
                got = self.ids[key] = len(self.parts)
                self.parts.append(pieces)
            out[i] = got
        return out

    def flat(self, column: int) -> tuple[np.ndarray, np.ndarray]:
        """Offsets and concatenated values of one column of every list, by id."""
        lengths = np.array([len(p[column]) for p in self.parts], dtype=np.int64)
        start = np.r_[0, np.cumsum(lengths)]
        values = np.concatenate([p[column] for p in self.parts]) if self.parts else np.empty(0)
        return start, values


class Collector:
    """Collapses stop times chunk by chunk (see the module's notes).

    Call :meth:`add` with each chunk's rows in file order, then :meth:`finish`.
    """

    def __init__(self) -> None:
        self.lists = _Distinct()  # columns: stop codes, sequence numbers
        self.timings = _Distinct()  # columns: seconds
        self.fragments: list[tuple[np.ndarray, ...]] = []
        self.n_rows = 0

    def add(self, trip: np.ndarray, stop: np.ndarray, seq: np.ndarray, secs: np.ndarray) -> None:
        """Collapse one chunk of stop times.

        Parameters
        ----------
        trip, stop : numpy.ndarray
            Codes (non-negative integers) of each row's trip and stop.
        seq : numpy.ndarray
            ``stop_sequence`` (non-negative integers).
        secs : numpy.ndarray
            Seconds after midnight (NaN where blank or malformed).

        Raises
        ------
        NotStreamed
            If a run of one trip repeats a ``stop_sequence``.
        """
        self.n_rows += len(trip)
        self._add(trip, stop, seq, secs)

    def _add(self, trip: np.ndarray, stop: np.ndarray, seq: np.ndarray, secs: np.ndarray) -> None:
        if len(trip) == 0:
            return
        runs = _Runs.of(trip)
        inside = runs.pos[1:] > 0
        step = np.diff(seq)
        if np.any((step < 0) & inside):  # a run out of order: sorted within itself (runs stay where they are)
            order = np.lexsort((seq, np.repeat(np.arange(len(runs.starts)), runs.lengths)))
            trip, stop, seq, secs = trip[order], stop[order], seq[order], secs[order]
            step = np.diff(seq)
        if np.any((step == 0) & inside):  # checked once in order: a repeat anywhere in a run is now beside itself
            raise NotStreamed("a trip repeats a stop_sequence")
        if int(seq.max()) < 2**32 and int(stop.max()) < 2**31:  # both exactly in one number
            both = stop.astype(np.uint64)
            both <<= np.uint64(32)
            both |= seq.astype(np.uint64)
            cols = [both]
        else:
            cols = [stop.astype(np.uint64), seq.astype(np.uint64)]
        labels, first = list_keys(cols, runs)
        lists = self.lists.ids_of([stop, seq], runs, labels, first)
        # timings: relative to the first stop where every second is whole (exact), else as written
        s0 = secs[runs.starts]
        values = np.floor(secs)  # NaN and infinities are never whole: NaN != NaN, |inf| is over the limit
        whole = values == secs
        np.abs(secs, out=values)
        whole &= values < WHOLE_LIMIT
        relative = np.logical_and.reduceat(whole, runs.starts)
        values[:] = secs  # the same buffer: secs, less the first stop's where the run is relative
        rows = np.repeat(relative, runs.lengths)
        values[rows] -= np.repeat(s0, runs.lengths)[rows]
        labels, first = list_keys([values.view(np.uint64)], runs)
        timings = self.timings.ids_of([values], runs, labels, first)
        self.fragments.append((trip[runs.starts], lists, timings, s0, relative))

    def merge(self, other: Collector) -> None:
        """Take in what ``other`` collapsed of the rows that follow this one's in the file.

        Collectors of consecutive parts of ``stop_times.txt`` (on other processes or
        machines), merged in the file's order, finish as one collector of the whole file
        would: distinct lists are matched by their bytes, and a trip cut between two parts
        is put together in :meth:`finish` as one cut between two chunks is.
        """
        lists, timings = self.lists.merge(other.lists), self.timings.merge(other.timings)
        for trip, li, ti, s0, relative in other.fragments:
            self.fragments.append((trip, lists[li], timings[ti], s0, relative))
        self.n_rows += other.n_rows

    def finish(self, trip_index: pd.Index, stop_index: pd.Index, rows: bool = False) -> Collapsed:
        """Every trip put together from its fragments, in the string order of trip ids.

        Parameters
        ----------
        trip_index, stop_index : pandas.Index
            The ids the trip and stop codes stand for.
        rows : bool, default False
            Whether ``trip_index`` is ``trips.txt``'s ids in file order (then the result
            keeps each trip's row there, :attr:`Collapsed.trip_rows`).

        Raises
        ------
        NotStreamed
            If a trip put together from fragments repeats a ``stop_sequence``.
        """
        trip, lists, timings, s0, relative = (
            np.concatenate([f[k] for f in self.fragments]) if self.fragments else np.empty(0, dtype=t)
            for k, t in enumerate((np.int64, np.int64, np.int64, float, bool))
        )
        split = np.bincount(trip, minlength=len(trip_index))[trip] > 1 if len(trip) else np.zeros(0, bool)
        if split.any():
            self.fragments = [tuple(a[~split] for a in (trip, lists, timings, s0, relative))]
            self._join(*(a[split] for a in (trip, lists, timings, s0, relative)))
            trip, lists, timings = (np.concatenate([f[k] for f in self.fragments]) for k in range(3))
        list_start, stops = self.lists.flat(0)
        stops = stops.astype(np.int64)
        # trips by the string order of their ids (as sorting the rows by trip_id would put them)
        ids = pa.array(pd.Index(trip_index).astype("string"), type=pa.string(), from_pandas=True)
        rank = np.empty(len(trip_index), dtype=np.int64)
        rank[pc.sort_indices(ids).to_numpy()] = np.arange(len(trip_index))
        order = np.argsort(rank[trip], kind="stable")
        trip, lists, timings = trip[order], lists[order], timings[order]
        # stop lists without their sequence numbers: lists that differ only in numbering are one pattern
        pattern_of, reps = pd.factorize(
            pd.Series([stops[a:b].tobytes() for a, b in zip(list_start[:-1], list_start[1:])], dtype=object)
        )
        first_list = pd.Series(np.arange(len(pattern_of))).groupby(pattern_of).first().to_numpy()
        lengths = np.diff(list_start)[first_list]
        pattern_start = np.r_[0, np.cumsum(lengths)]
        pattern_stops = (
            np.concatenate([stops[list_start[k] : list_start[k + 1]] for k in first_list])
            if len(first_list)
            else np.empty(0, np.int64)
        )
        timing_start, timing_secs = self.timings.flat(0)
        return Collapsed(
            trip_ids=pd.Index(pd.Index(trip_index)[trip].astype("string")),
            stop_index=pd.Index(stop_index),
            pattern=pattern_of[lists].astype(np.int64),
            timing=timings,
            pattern_start=pattern_start,
            pattern_stops=pattern_stops,
            timing_start=timing_start,
            timing_secs=np.asarray(timing_secs, dtype=float),
            n_rows=self.n_rows,
            trip_rows=trip if rows else None,
        )

    def _join(self, trip, lists, timings, s0, relative) -> None:
        """Put trips that came in several fragments back together (their rows in file order, then by sequence)."""
        order = np.argsort(trip, kind="stable")
        trip, lists, timings, s0, relative = (a[order] for a in (trip, lists, timings, s0, relative))
        list_start, stops = self.lists.flat(0)
        _, seqs = self.lists.flat(1)
        timing_start, secs = self.timings.flat(0)
        n = np.diff(list_start)[lists]
        rows = _arrays.ranges(list_start[lists], n)
        time_rows = _arrays.ranges(timing_start[timings], n)
        values = np.asarray(secs, dtype=float)[time_rows] + np.repeat(np.where(relative, s0, 0.0), n)
        self._add(np.repeat(trip, n), stops[rows].astype(np.int64), seqs[rows].astype(np.int64), values)
