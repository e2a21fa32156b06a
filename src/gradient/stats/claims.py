"""What may be said about a pattern: the one decision function behind every printed word.

Every sentence, alt text, chart title and annotation, map label and tooltip, the network
map and the console summary ask this module what a pattern's numbers support. A claim that
states a change in words ("falls", "rises") is *supported* only when its interval (the
end-to-end change's own, the simultaneous one of a chosen maximum, the slope's exact one)
excludes 0; otherwise the words are "cannot be told apart". Both ends in one small area is
said as such, never as "the same".

:func:`claims` gives the verdicts of one row; :func:`decide` adds to a whole patterns table
which claim leads its story (``lead``), the stretch it cites (``story_from_seq``,
``story_to_seq``), a short ``story_label`` for maps and charts and a ``takeaway`` title.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

SUPPORTED = ("falls", "rises")
"""Verdicts that state a change in words."""


def known(value) -> bool:
    """Whether a cell holds a value (not None, NA or NaN)."""
    if value is None or value is pd.NA:
        return False
    try:
        return not math.isnan(float(value))
    except (TypeError, ValueError):
        return True


@dataclass(frozen=True)
class Claim:
    """One thing that may (or may not) be said about a pattern.

    Attributes
    ----------
    kind : str
        ``change`` (end to end), ``stretch`` (the steepest fall within ``stretch_k``
        stops), ``drop`` (the biggest stop-to-stop fall), ``slope`` (per km) or ``range``.
    verdict : str
        ``falls`` or ``rises`` (supported), ``cannot_tell`` (its interval includes 0),
        ``same_area`` (both ends take the same areas: exactly no change, no test),
        ``untested`` (the source gives no standard errors), ``never_falls`` (no fall to
        test) or ``no_data``.
    value, low, high : float
        The estimate (years; a fall is positive for ``stretch`` and ``drop``, the signed
        change for ``change`` and ``slope``) and its interval.
    from_seq, to_seq : int or None
        The stops it is between (stop sequences).
    from_name, to_name : str
        Their names as the source wrote them.
    """

    kind: str
    verdict: str
    value: float = math.nan
    low: float = math.nan
    high: float = math.nan
    from_seq: int | None = None
    to_seq: int | None = None
    from_name: str = ""
    to_name: str = ""

    @property
    def supported(self) -> bool:
        """Whether the claim states a change in words."""
        return self.verdict in SUPPORTED

    @property
    def strength(self) -> float:
        """The bound of its interval nearest 0 (years; 0 when not supported)."""
        if not self.supported:
            return 0.0
        return min(abs(self.low), abs(self.high))


def _seq(v) -> int | None:
    return int(v) if known(v) else None


def _name(v) -> str:
    return str(v) if known(v) else ""


def change(row) -> Claim:
    """The end-to-end change: ``le_change`` with its interval and ``le_change_significant``."""
    if not known(row.get("le_change")) or not known(row.get("le_change_stops")) or int(row["le_change_stops"]) == 0:
        return Claim("change", "no_data")
    value, se = float(row["le_change"]), row.get("le_change_se")
    base = dict(
        value=value,
        from_seq=_seq(row.get("le_change_from_seq")),
        to_seq=_seq(row.get("le_change_to_seq")),
        from_name=_name(row.get("le_change_from")),
        to_name=_name(row.get("le_change_to")),
    )
    if known(se) and float(se) == 0:
        return Claim("change", "same_area", low=value, high=value, **base)
    if not known(se) or not known(row.get("le_change_significant")):
        return Claim("change", "untested", **base)
    low, high = float(row["le_change_ci_low"]), float(row["le_change_ci_high"])
    verdict = ("falls" if value < 0 else "rises") if bool(row["le_change_significant"]) else "cannot_tell"
    return Claim("change", verdict, low=low, high=high, **base)


def _fall(row, prefix: str, kind: str) -> Claim:
    fall = row.get(prefix)
    if not known(fall):
        return Claim(kind, "no_data")
    if float(fall) <= 0:
        return Claim(kind, "never_falls", value=0.0)
    base = dict(
        value=float(fall),
        from_seq=_seq(row.get(f"{prefix}_from_seq")),
        to_seq=_seq(row.get(f"{prefix}_to_seq")),
        from_name=_name(row.get(f"{prefix}_from")),
        to_name=_name(row.get(f"{prefix}_to")),
    )
    if not known(row.get(f"{prefix}_ci_low")):
        return Claim(kind, "untested", **base)
    low, high = float(row[f"{prefix}_ci_low"]), float(row[f"{prefix}_ci_high"])
    return Claim(kind, "falls" if low > 0 else "cannot_tell", low=low, high=high, **base)


def stretch(row) -> Claim:
    """The steepest stretch: ``steepest_fall`` with its simultaneous interval."""
    return _fall(row, "steepest_fall", "stretch")


def drop(row) -> Claim:
    """The biggest stop-to-stop fall: ``max_drop`` with its simultaneous interval."""
    return _fall(row, "max_drop", "drop")


def slope(row) -> Claim:
    """The trend per km: ``slope_per_km`` and its exact interval."""
    value = row.get("slope_per_km")
    if not known(value):
        return Claim("slope", "no_data")
    if not known(row.get("slope_ci_low")):
        return Claim("slope", "untested", value=float(value))
    low, high = float(row["slope_ci_low"]), float(row["slope_ci_high"])
    verdict = ("falls" if value < 0 else "rises") if (low > 0 or high < 0) else "cannot_tell"
    return Claim("slope", verdict, value=float(value), low=low, high=high)


def range_(row) -> Claim:
    """The range as a difference between its two stops, with a lower bound simultaneous over every pair.

    ``value`` is the range (positive) and ``low`` its bound; the verdict is ``falls`` when
    the higher value comes first along the route, ``rises`` otherwise.
    """
    value = row.get("le_range")
    if not known(value):
        return Claim("range", "no_data")
    if float(value) == 0:
        return Claim("range", "same_area", value=0.0)
    base = dict(
        value=float(value),
        from_seq=_seq(row.get("le_range_from_seq")),
        to_seq=_seq(row.get("le_range_to_seq")),
        from_name=_name(row.get("le_range_from")),
        to_name=_name(row.get("le_range_to")),
    )
    sig = row.get("le_range_significant")
    if not known(sig):
        return Claim("range", "untested", **base)
    low = float(row.get("le_range_ci_low", math.nan))
    verdict = ("falls" if bool(row.get("le_range_falls", True)) else "rises") if bool(sig) else "cannot_tell"
    return Claim("range", verdict, low=low, high=math.inf, **base)


def claims(row) -> dict[str, Claim]:
    """Every claim about one pattern (a row as a Series or a dict), by kind."""
    return {
        "change": change(row),
        "stretch": stretch(row),
        "drop": drop(row),
        "slope": slope(row),
        "range": range_(row),
    }


def lead(row) -> Claim | None:
    """The strongest supported claim the story leads with.

    Between a steep stretch and the end-to-end change, the one whose interval lies further
    from 0 (its bound nearest 0 is larger) leads, a tie going to the stretch, the genre's
    "for every stop you pass". None when neither is supported: the sentence then states no
    change, as the contract's ``headline`` requires (it may state one only where
    ``le_change_significant`` or ``steepest_fall_significant`` supports it). The range's
    own test (``le_range_significant``) stays a column and is never printed as a change.
    """
    candidates = [c for c in (stretch(row), change(row)) if c.supported]
    return max(candidates, key=lambda c: c.strength) if candidates else None


def decide(patterns, index=None) -> pd.DataFrame:
    """Which claim leads each pattern's story, and the stretch it cites.

    Parameters
    ----------
    patterns : pandas.DataFrame or list of dict
        The patterns table (:func:`gradient.story.tables.pattern_table` columns), or its rows.
    index : pandas.Index, optional
        The index of the result (default the table's, or a range).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``patterns``: ``lead`` (``stretch``, ``change`` or
        ``none``), ``story_from_seq`` and ``story_to_seq`` (the stop sequences of the
        stretch the sentence cites: the ends for a change, the two stops of the range;
        NA for ``none``) and ``lead_strength`` (the bound of its interval nearest 0, years).
    """
    if isinstance(patterns, pd.DataFrame):
        index = patterns.index if index is None else index
        patterns = patterns.to_dict("records")
    rows = []
    for row in patterns:
        c = lead(row)
        rows.append(("none", None, None, 0.0) if c is None else (c.kind, c.from_seq, c.to_seq, c.strength))
    out = pd.DataFrame(rows, columns=["lead", "story_from_seq", "story_to_seq", "lead_strength"], index=index)
    for col in ("story_from_seq", "story_to_seq"):
        out[col] = pd.array(out[col].to_numpy(), dtype="Int64")
    return out


__all__ = ["SUPPORTED", "Claim", "change", "claims", "decide", "drop", "known", "lead", "range_", "slope", "stretch"]
