"""Scheduled minutes along each pattern, from the times its trips give.

GTFS lets a producer leave ``arrival_time`` and ``departure_time`` blank at stops that
are not timepoints: the consumer is to interpolate. :func:`pattern_minutes` does, by
distance along the pattern (the metres :func:`gradient.sources.gtfs.stop_patterns` measured on
the pattern's usual shape: every trip of a pattern runs the same stops), trip by trip
and before any minute is computed, then takes each stop's median over the pattern's
trips. A blank ``arrival_time`` takes the stop's ``departure_time``.

Only trips whose times are complete after interpolation (a time at their first and
last stop, as GTFS requires) and never go backwards are used, so minutes never run
backwards either: a median of non-decreasing sequences, stop by stop, is
non-decreasing. Everything is whole-array numpy over the stop times.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import _trips


def row_seconds(st: pd.DataFrame, order: np.ndarray) -> np.ndarray:
    """Seconds after midnight of each ordered stop time: ``arrival_time``, else ``departure_time``, else NaN."""
    secs = np.full(len(order), np.nan)
    for col in ("departure_time", "arrival_time"):  # arrival last: it wins where both are given
        if col in st:
            codes, index = _trips.id_codes(st[col])
            got = _trips.unique_seconds(index)[codes[order]]
            secs = np.where(np.isnan(got), secs, got)
    return secs


def pattern_minutes(
    secs: np.ndarray, trip_of_row: np.ndarray, target: np.ndarray, dist: np.ndarray, n: int
) -> tuple[np.ndarray, dict[str, int]]:
    """Median minutes from the first stop at each pattern stop, blank times interpolated by distance.

    Parameters
    ----------
    secs : numpy.ndarray
        Seconds of the stop times of the trips that run a measured pattern, in
        (trip, stop_sequence) order, NaN where blank; each trip's rows contiguous.
    trip_of_row : numpy.ndarray
        Each row's trip (any integer label, equal within a trip).
    target : numpy.ndarray
        Each row's pattern stop: its row in the ``pattern_stops`` table.
    dist : numpy.ndarray
        Metres along the pattern of each ``pattern_stops`` row.
    n : int
        Rows of ``pattern_stops``.

    Returns
    -------
    minutes : numpy.ndarray
        Per ``pattern_stops`` row, the median over the pattern's usable trips of
        minutes from the trip's first stop; NaN where no trip is usable.
    counts : dict
        ``trips`` (trips looked at), ``incomplete`` (no time at the first or last
        stop, or none at all) and ``backwards`` (times that decrease) left out, and
        ``interpolated`` (stop times filled in).
    """
    m = len(secs)
    counts = {"trips": 0, "incomplete": 0, "backwards": 0, "interpolated": 0}
    if m == 0:
        return np.full(n, np.nan), counts
    starts = np.flatnonzero(np.r_[True, trip_of_row[1:] != trip_of_row[:-1]])
    lengths = np.diff(np.r_[starts, m])
    first = np.repeat(starts, lengths)
    last = np.repeat(starts + lengths - 1, lengths)
    idx = np.arange(m)
    known = np.isfinite(secs)
    prev = np.maximum.accumulate(np.where(known, idx, -1))
    nxt = np.minimum.accumulate(np.where(known, idx, m)[::-1])[::-1]
    fill = ~known & (prev >= first) & (nxt <= last)
    d = dist[target]
    p, q = prev[fill], nxt[fill]
    span = d[q] - d[p]
    frac = np.where(span > 0, (d[fill] - d[p]) / np.where(span > 0, span, 1.0), (idx[fill] - p) / (q - p))
    secs = secs.copy()
    secs[fill] = secs[p] + frac * (secs[q] - secs[p])
    minutes = (secs - secs[first]) / 60.0
    incomplete = np.logical_or.reduceat(~np.isfinite(secs), starts)
    step_back = np.r_[np.diff(secs) < 0, False] & (idx < last)
    backwards = np.logical_or.reduceat(step_back, starts) & ~incomplete
    good = np.repeat(~incomplete & ~backwards, lengths)
    counts.update(
        trips=len(starts),
        incomplete=int(incomplete.sum()),
        backwards=int(backwards.sum()),
        interpolated=int(fill[good].sum()),
    )
    med = pd.Series(minutes[good]).groupby(target[good]).median()
    return med.reindex(np.arange(n)).to_numpy(dtype=float), counts


def message(counts: dict[str, int]) -> str | None:
    """The warning for trips left out of scheduled minutes, or None."""
    parts = []
    if counts["incomplete"]:
        parts.append(f"{counts['incomplete']} have no time at their first or last stop")
    if counts["backwards"]:
        parts.append(f"{counts['backwards']} have times that go backwards")
    if not parts:
        return None
    return (
        f"{' and '.join(parts)} (of {counts['trips']} trips on the patterns measured): they are left out "
        "of scheduled minutes, which stay missing where no trip of a pattern is left"
    )
