"""Which stretch of one pattern a map or chart highlights, and the names of its stops.

The stretch is the one the printed sentence cites. The statistics decide it, not the
drawing: ``patterns.csv`` may carry ``story_from_seq`` and ``story_to_seq`` (the
``stop_sequence`` of the stretch's two ends) with ``story_label`` (its short label,
e.g. "−7.7 years over 4 stops") and ``takeaway`` (a title-like sentence for the phone
chart). Where they are absent or empty, maps and charts fall back to the biggest
stop-to-stop fall (``max_drop`` of ``patterns.csv``), labelled as what it is, with no
claim that it is more than noise.

Every name here goes through :func:`gradient.story.names.display_name`; every phrase comes
from :mod:`gradient.story.words`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..story import words
from ..story.names import display_name
from ..story.words import Voice
from .page import fmt

UNNAMED = words.UNNAMED


@dataclass(frozen=True)
class Stretch:
    """The stretch of a pattern a map or chart highlights.

    Attributes
    ----------
    start, end : int
        Positions (0-based, in stop order) of its first and last stop; ``end > start``.
    label : str
        Its short label, e.g. ``"−7.7 years over 4 stops"``.
    cited : bool
        True when it is the stretch the printed sentence cites (``story_*`` columns);
        False for the fallback, the biggest stop-to-stop fall.
    change : float
        Life expectancy at ``end`` minus at ``start``, years (NaN if either is unknown).
    """

    start: int
    end: int
    label: str
    cited: bool
    change: float

    def note(self, names: list[str], row: pd.Series | None = None, voice: Voice | None = None) -> str:
        """One legend line: what the stretch is, between which stops (plain text, :mod:`gradient.story.words`)."""
        return words.stretch_note(self.label, names, self.start, self.end, self.cited, self.change, _row(row), voice)


def stop_names(stops: pd.DataFrame) -> list[str]:
    """Display names of a pattern's stops, in the order given (``(unnamed stop)`` for none)."""
    return [display_name(n) or UNNAMED for n in stops["stop_name"]]


def steepest(stops: pd.DataFrame) -> int | None:
    """Position (0-based, in stop order) of the stop that ends the largest fall, or None.

    The largest fall is the most negative ``le_delta`` (the first one on a tie), the
    stretch ``max_drop_from`` to ``max_drop_to`` of ``patterns.csv``; None when life
    expectancy never falls from one stop to the next.
    """
    delta = stops["le_delta"].to_numpy(float)
    if not np.isfinite(delta).any() or np.nanmin(delta) >= 0:
        return None
    return int(np.nanargmin(delta))


def _value(row: pd.Series | None, column: str):
    if row is None or column not in row.index:
        return None
    value = row[column]
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        return None
    return value


def _row(row: pd.Series | None) -> dict | None:
    return None if row is None else row.to_dict()


def stretch(stops: pd.DataFrame, row: pd.Series | None = None, voice: Voice | None = None) -> Stretch | None:
    """The stretch to highlight on one pattern: the one the sentence cites, else the biggest fall.

    Parameters
    ----------
    stops : pandas.DataFrame
        The pattern's rows of ``stops.csv``, in stop order (``stop_sequence``, ``le``, ``le_delta``).
    row : pandas.Series, optional
        Its row of ``patterns.csv``; ``story_from_seq``, ``story_to_seq`` and
        ``story_label`` are used when present and not empty.

    Returns
    -------
    Stretch or None
        None when there is no cited stretch and life expectancy never falls from one
        stop to the next.
    """
    le = stops["le"].to_numpy(float)
    seq = pd.to_numeric(stops["stop_sequence"], errors="coerce").to_numpy(float)
    a, b = _value(row, "story_from_seq"), _value(row, "story_to_seq")
    if a is not None and b is not None:
        ia, ib = np.flatnonzero(seq == float(a)), np.flatnonzero(seq == float(b))
        if len(ia) and len(ib) and ia[0] != ib[-1]:
            i, j = sorted((int(ia[0]), int(ib[-1])))
            change = le[j] - le[i]
            label = _value(row, "story_label")
            if label is None:
                hops = j - i
                label = f"{fmt(change, sign=True)} years over {hops} stop{'s' if hops != 1 else ''}"
            return Stretch(i, j, str(label), True, float(change))
    k = steepest(stops)
    if k is None:
        return None
    change = float(le[k] - le[k - 1])
    return Stretch(k - 1, k, words.fallback_label(change, _row(row), voice), False, change)
