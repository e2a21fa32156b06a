"""Runs laid end to end: the index arithmetic numpy has no single call for.

A table of runs (a trip's stop times, a pattern's stops, a line's pieces) is often held as
one flat array and the runs' lengths; these give each element's place in its run, or the
flat positions of many runs at once, without a loop.
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
