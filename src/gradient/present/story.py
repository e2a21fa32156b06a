"""What a map or chart of one pattern says in words: its title, its ends, and the stretch it highlights.

The stretch is the one the printed sentence cites. The statistics decide it, not the
drawing: ``patterns.csv`` may carry ``story_from_seq`` and ``story_to_seq`` (the
``stop_sequence`` of the stretch's two ends) with ``story_label`` (its short label,
e.g. "−7.7 years over 4 stops") and ``takeaway`` (a title-like sentence for the phone
chart). Where they are absent or empty, maps and charts fall back to the biggest
stop-to-stop fall (``max_drop`` of ``patterns.csv``), labelled as what it is, with no
claim that it is more than noise.

Every name here goes through :func:`gradient.story.names.display_name`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..story.names import display_name
from .page import fmt

UNNAMED = "(unnamed stop)"


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

    def note(self, names: list[str]) -> str:
        """One legend line: what the stretch is, between which stops (plain text)."""
        where = f"{names[self.start]} to {names[self.end]}"
        if self.cited:
            return f"Highlighted: {self.label}, {where}"
        words = self.label.split(" years", 1)[1] if " years" in self.label else ""
        return f"Biggest stop-to-stop fall, {fmt(-abs(self.change))} years{words}: {where}"


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


def stretch(stops: pd.DataFrame, row: pd.Series | None = None) -> Stretch | None:
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
    return Stretch(k - 1, k, f"Biggest stop-to-stop fall: {fmt(change)} years{drop_words(row)}", False, change)


def drop_words(row: pd.Series | None, unit: str = "", margins: str = "the margins of error") -> str:
    """What the biggest stop-to-stop fall's simultaneous interval allows (:func:`gradient.stats.claims.drop`).

    ``unit`` follows the interval's limits (``" years"`` in sentences) and ``margins``
    names what a fall that cannot be told apart is within.
    """
    if row is None:
        return ""
    from ..stats.claims import drop

    c = drop(row)
    if c.supported:
        return f" (95% interval {fmt(c.low)} to {fmt(c.high)}{unit})"
    return f", within {margins}" if c.verdict == "cannot_tell" else ""


def route_label(row: pd.Series) -> str:
    """``Route 25`` (the route's name as readers know it)."""
    return f"Route {display_name(row['route_name'])}"


def towards(row: pd.Series) -> str:
    """``Route 25 towards Ilford``: the route and the direction it runs, in words."""
    last = display_name(row.get("last_stop"))
    return f"{route_label(row)} towards {last}" if last else route_label(row)


def route_title(row: pd.Series) -> str:
    """A map or chart title: ``Route 25: Oxford Circus to Ilford`` (display names; a loop says so)."""
    first, last = display_name(row.get("first_stop")) or UNNAMED, display_name(row.get("last_stop")) or UNNAMED
    if first == last:
        return f"{route_label(row)}: a loop from {first}"
    return f"{route_label(row)}: {first} to {last}"


def takeaway(row: pd.Series) -> str:
    """The phone chart's title: the ``takeaway`` column where present, else :func:`route_title`."""
    text = _value(row, "takeaway")
    return str(text) if text is not None else route_title(row)


def doubt_text(doubt: object, se: float) -> str:
    """A stop's ``area_doubt`` in plain words for its popup (``""`` when there is none).

    Examples
    --------
    >>> doubt_text("imprecise", 4.6)
    'Estimate uncertain: its 95% interval spans 18 years'
    >>> doubt_text("", 1.0)
    ''
    """
    if doubt is None or (isinstance(doubt, float) and not np.isfinite(doubt)) or pd.isna(doubt) or not str(doubt):
        return ""
    from ..options import Z95

    kind = str(doubt).strip().lower()
    if kind == "imprecise" and np.isfinite(se):
        return f"Estimate uncertain: its 95% interval spans {2 * Z95 * se:.0f} years"
    if kind == "imprecise":
        return "Estimate uncertain: its interval is wide"
    if kind == "implausible":
        return "Estimate doubtful: implausible for a whole area, treat with care"
    return f"Estimate flagged: {' '.join(str(doubt).split())}"
