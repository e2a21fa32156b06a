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
    secs: np.ndarray,
    trip_of_row: np.ndarray,
    target: np.ndarray,
    dist: np.ndarray,
    n: int,
    weights: np.ndarray | None = None,
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
    weights : numpy.ndarray, optional
        How many trips each trip stands for (trips that run the same times, collapsed);
        default 1 each. Counts and medians are those of the trips it stands for.

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
    w = np.ones(len(starts), dtype=np.int64) if weights is None else np.asarray(weights, dtype=np.int64)
    good_trip = ~incomplete & ~backwards
    good = np.repeat(good_trip, lengths)
    row_w = np.repeat(w, lengths)
    counts.update(
        trips=int(w.sum()),
        incomplete=int(w[incomplete].sum()),
        backwards=int(w[backwards].sum()),
        interpolated=int(row_w[fill & good].sum()),
    )
    return weighted_median(target[good], minutes[good], row_w[good], n), counts


def weighted_median(group: np.ndarray, values: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    """Per group ``0..n-1``, the median of its values each repeated ``weights`` times (NaN for an empty group).

    The same number as pandas' grouped median of the values written out: the middle
    value, or the mean ``(upper + lower) / 2`` of the middle two.

    Examples
    --------
    >>> weighted_median(np.array([0, 0, 1]), np.array([1.0, 4.0, 2.0]), np.array([3, 1, 2]), 3).tolist()
    [1.0, 2.0, nan]
    """
    out = np.full(n, np.nan)
    if len(values) == 0:
        return out
    order = np.lexsort((values, group))
    g, v, w = group[order], values[order], weights[order]
    cum = np.cumsum(w)
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    total = np.add.reduceat(w, starts)
    before = cum[starts] - w[starts]
    upper = v[np.searchsorted(cum, before + total // 2, side="right")]
    lower = v[np.searchsorted(cum, before + (total - 1) // 2, side="right")]
    out[g[starts]] = np.where(total % 2 == 1, upper, (upper + lower) / 2)
    return out


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
