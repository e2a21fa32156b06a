"""Whole-array helpers behind :func:`gradient.sources.gtfs.stop_patterns`.

Integer codes of ids, times in seconds, trips in order, and one key per distinct
ordered stop list.

Everything here works on numpy arrays of codes, never a Python loop over stop times,
so that national feeds of tens of millions of rows stay near the parsing floor.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

log = logging.getLogger(__name__)


def id_codes(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes (-1 where missing) of a column, and the distinct values they index."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy(np.int64), pd.Index(values.cat.categories.astype("string"))
    codes, uniques = pd.factorize(values.astype("string"), use_na_sentinel=True)
    return codes.astype(np.int64), pd.Index(uniques)


def seconds(times: pd.Series) -> np.ndarray:
    """GTFS ``H:MM:SS`` / ``HH:MM:SS`` strings to seconds (NaN where blank or malformed).

    Parses each distinct string once: a feed repeats a few thousand times many times.
    """
    codes, uniques = id_codes(times)
    return unique_seconds(uniques)[codes]  # the sentinel -1 picks the trailing NaN


def unique_seconds(uniques: pd.Index) -> np.ndarray:
    """Seconds of each distinct time string, with a trailing NaN for the missing code -1.

    Well-formed ``H:MM:SS`` strings are split by pyarrow in one pass; anything else
    goes through pandas' lenient number parsing (NaN where it fails).
    """
    secs = np.full(len(uniques) + 1, np.nan)
    if len(uniques) == 0:
        return secs
    text = pa.array(uniques.astype("string"), type=pa.string(), from_pandas=True)
    plain = pc.fill_null(pc.match_substring_regex(text, r"^[0-9]{1,6}:[0-9]{1,2}:[0-9]{1,2}$"), False)
    plain = plain.to_numpy(zero_copy_only=False)
    if plain.any():
        parts = pc.split_pattern(text.filter(pa.array(plain)), ":")
        nums = [pc.list_element(parts, i).cast(pa.float64()).to_numpy() for i in range(3)]
        secs[:-1][plain] = _clock(*nums)
    if not plain.all():
        rest = pd.Series(uniques[~plain], dtype="string").str.split(":", n=2, expand=True)
        if rest.shape[1] >= 3:
            nums = rest.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
            secs[:-1][~plain] = _clock(nums[:, 0], nums[:, 1], nums[:, 2])
    return secs


def _clock(hours: np.ndarray, minutes: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """Seconds after midnight; NaN where minutes or seconds are not from 0 to 59 or hours are negative."""
    ok = (hours >= 0) & (minutes >= 0) & (minutes < 60) & (seconds >= 0) & (seconds < 60)
    return np.where(ok, hours * 3600 + minutes * 60 + seconds, np.nan)


def trip_order(st: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, pd.Index]:
    """Rows in (trip_id, stop_sequence) order, stably, as ``sort_values`` would put them.

    Sorts integers, not strings: each distinct trip id's rank in string order, then the
    stop sequence. Returns (row order, trip rank of each ordered row, trip ids by rank).
    """
    codes, uniques = id_codes(st["trip_id"])
    by_text = np.argsort(np.asarray(uniques.astype(str)), kind="stable")
    rank = np.empty(len(uniques) + 1, dtype=np.int64)
    rank[by_text] = np.arange(len(uniques))
    rank[-1] = len(uniques)  # a missing trip id sorts last
    trip_rank = rank[codes]
    seq = st["stop_sequence"]
    if pd.api.types.is_integer_dtype(seq.dtype) and not seq.hasnans and len(seq) and seq.min() >= 0:
        seq_rank = seq.to_numpy(np.int64)
    else:  # NaN last, as sort_values puts it
        seq_rank = np.unique(seq.to_numpy(dtype=float, na_value=np.nan), return_inverse=True)[1].ravel()
    if int(seq_rank.max(initial=0)) >= np.iinfo(np.int64).max // (len(uniques) + 2):
        seq_rank = np.unique(seq_rank, return_inverse=True)[1].ravel()  # dense ranks: the key cannot overflow
    key = trip_rank * (int(seq_rank.max(initial=0)) + 1) + seq_rank
    order = np.argsort(key, kind="stable") if (np.diff(key) < 0).any() else np.arange(len(key))
    names = pd.Index(uniques[by_text].astype("string"))
    return order, trip_rank[order], names


def isin(values, known) -> np.ndarray:
    """``values.isin(known)`` by hashing: pandas' ``isin`` on Arrow strings loops in Python."""
    return pd.Index(known).unique().get_indexer(pd.Index(values)) >= 0


def unknown(codes: np.ndarray, uniques: pd.Index, known: pd.Index) -> tuple[int, list[str]]:
    """How many rows have a code whose value is not in ``known``, and the first 3 such values."""
    ok = np.append(isin(uniques, known), False)
    bad = ~ok[codes]
    if not bad.any():
        return 0, []
    names = np.append(np.asarray(uniques.astype(str), dtype=object), "nan")
    return int(bad.sum()), [str(v) for v in pd.unique(names[codes[bad]])[:3]]


def pattern_keys(stop_codes: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """One integer per trip, equal for trips with identical ordered stop lists.

    Two random linear hashes of each trip's stop codes (wrapping uint64 arithmetic,
    one ``reduceat`` each) and its length group the trips; every stop of every trip is
    then compared with the first trip of its group, and on any collision the exact
    (slow) bytes key of each trip is used instead.
    """
    n = len(stop_codes)
    trip_pos = np.repeat(np.arange(len(starts)), lengths)
    pos = np.arange(n) - starts[trip_pos]
    weights = np.random.default_rng(20240607).integers(1, 2**63, size=(2, int(lengths.max())), dtype=np.uint64)
    v = stop_codes.astype(np.uint64) + np.uint64(1)
    h1 = np.add.reduceat(v * weights[0][pos], starts)
    h2 = np.add.reduceat(v * weights[1][pos], starts)
    keys = pd.DataFrame({"n": lengths, "h1": h1, "h2": h2}).groupby(["n", "h1", "h2"], sort=False).ngroup()
    keys = keys.to_numpy(np.int64)
    first = np.unique(keys, return_index=True)[1]
    if np.array_equal(stop_codes, stop_codes[starts[first][keys][trip_pos] + pos]):
        return keys
    log.debug("stop-list hash collision; grouping trips by exact byte keys")
    bytes_keys = [stop_codes[a : a + m].tobytes() for a, m in zip(starts, lengths)]
    return pd.factorize(pd.Series(bytes_keys, dtype=object))[0].astype(np.int64)
