"""Whole-array helpers numpy has no single call for.

- Runs laid end to end: a table of runs (a trip's stop times, a pattern's stops, a line's
  pieces) is often held as one flat array and the runs' lengths; :func:`within` and
  :func:`ranges` give each element's place in its run, or the flat positions of many runs
  at once, without a loop.
- :func:`mix`: a well-mixed 64-bit hash of each integer (splitmix64's finaliser), for the
  hashes that find equal stop lists and equal stops quickly (both checked exactly after).
"""

from __future__ import annotations

import numpy as np


def within(lengths: np.ndarray) -> np.ndarray:
    """Each element's position in its run (0, 1, ...), for runs of ``lengths`` laid end to end.

    >>> within(np.array([3, 1, 2]))
    array([0, 1, 2, 0, 0, 1])
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    return np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)


def ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``starts[i], starts[i] + 1, ..., starts[i] + lengths[i] - 1`` of every run, concatenated.

    >>> ranges(np.array([10, 4]), np.array([3, 2]))
    array([10, 11, 12,  4,  5])
    """
    return np.repeat(starts, lengths) + within(lengths)


def mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a well-mixed 64-bit hash of each integer (uint64, wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))
