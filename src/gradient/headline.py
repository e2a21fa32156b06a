"""The printable sentence: what a pattern's numbers support, in words.

"Between Oxford Circus and Ilford on route 25, life expectancy falls by 11.0 years
over 57 stops" is printed only when the two ends' 95% intervals do not overlap; where
they overlap the sentence says the ends cannot be told apart. The direction word
comes from the sign of the change, so a rise is never called a fall.
"""

from __future__ import annotations

import math

import pandas as pd

from .options import Z95


def _num(value: float) -> str:
    return f"{value:.1f}"


def _known(value) -> bool:
    return value is not None and value is not pd.NA and not (isinstance(value, float) and math.isnan(value))


def headline(row: pd.Series, sex: str = "", period: str = "", source: str = "") -> str:
    """One sentence about a pattern's end-to-end change that its intervals support.

    Parameters
    ----------
    row : pandas.Series
        A row of :func:`gradient.gradient.pattern_table` (uses ``route_name``,
        ``le_change_from``, ``le_change_to``, ``le_change_stops``, ``le_first``,
        ``le_last``, ``le_first_se``, ``le_last_se``, ``le_change``).
    sex, period, source : str
        Named in brackets at the end, e.g. ``persons``, ``2016-2020``, ``ONS``.

    Returns
    -------
    str
        - a fall or rise ("falls by"/"rises by", from the sign) when the ends'
          95% intervals do not overlap;
        - "cannot be told apart" when they overlap;
        - the change with "untested" when the source gives no standard errors;
        - a sentence saying there is too little data otherwise.

    Examples
    --------
    >>> row = pd.Series({"route_name": "25", "le_change_from": "Oxford Circus", "le_change_to": "Ilford",
    ...                  "le_change_stops": 57, "le_first": 85.0, "le_last": 74.0, "le_first_se": 1.0,
    ...                  "le_last_se": 1.0, "le_change": -11.0})
    >>> headline(row, "persons", "2016-2020", "ONS")
    'Between Oxford Circus and Ilford on route 25, life expectancy falls by 11.0 years over 57 stops, from 85.0 to 74.0 (persons, 2016-2020; ONS).'
    """  # noqa: E501
    tail = ", ".join(p for p in (sex, period) if p)
    tail = "; ".join(p for p in (tail, source) if p)
    bracket = f" ({tail})" if tail else ""
    route = f"route {row['route_name']}"
    if not _known(row.get("le_change")) or not row.get("le_change_stops"):
        return f"On {route}, too few stops have a life expectancy estimate to compare its ends{bracket}."
    a, b = row["le_change_from"], row["le_change_to"]
    first, last, change = float(row["le_first"]), float(row["le_last"]), float(row["le_change"])
    where = f"Between {a} and {b} on {route}"
    if change == 0:
        return f"{where}, life expectancy is the same at both ends ({_num(first)} years){bracket}."
    verb = "falls" if change < 0 else "rises"
    claim = (
        f"{where}, life expectancy {verb} by {_num(abs(change))} years over {int(row['le_change_stops'])} "
        f"stops, from {_num(first)} to {_num(last)}"
    )
    se_a, se_b = row.get("le_first_se"), row.get("le_last_se")
    if not (_known(se_a) and _known(se_b)):
        return f"{claim}{bracket}; the source gives no uncertainty, so the difference is untested."
    low_a, high_a = first - Z95 * float(se_a), first + Z95 * float(se_a)
    low_b, high_b = last - Z95 * float(se_b), last + Z95 * float(se_b)
    if low_a <= high_b and low_b <= high_a:
        sentence = (
            f"{where}, life expectancy at the two ends ({_num(first)} and {_num(last)} years) cannot be "
            f"told apart: their 95% intervals overlap{bracket}."
        )
    else:
        sentence = f"{claim}{bracket}."
    return " ".join([sentence, fall_sentence(row)]).strip()


def fall_sentence(row: pd.Series) -> str:
    """A sentence on the steepest stretch, only where its 95% interval excludes 0.

    Uses ``steepest_fall``, ``steepest_fall_se``, ``steepest_fall_from``,
    ``steepest_fall_to`` and ``steepest_fall_stops``; returns ``""`` when the fall
    is not distinguishable from no change (or has no standard error).
    """
    fall, se = row.get("steepest_fall"), row.get("steepest_fall_se")
    if not (_known(fall) and _known(se)) or float(fall) <= 0 or float(fall) - Z95 * float(se) <= 0:
        return ""
    hops = int(row["steepest_fall_stops"])
    span = "the next stop" if hops == 1 else f"{hops} stops on"
    low, high = float(fall) - Z95 * float(se), float(fall) + Z95 * float(se)
    return (
        f"The steepest stretch is from {row['steepest_fall_from']} to {span}, {row['steepest_fall_to']}, "
        f"where it falls by {_num(float(fall))} years (95% interval {_num(low)} to {_num(high)})."
    )
