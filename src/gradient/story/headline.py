"""The printable sentence: the strongest thing a pattern's numbers support, in one sentence.

Each sentence asks :mod:`gradient.stats.claims` what may be said and leads with the strongest
supported claim (a steep stretch, with its distance in metres and its minutes where the
feed has times, or the end-to-end change), in one sentence of about 40 words a sub-editor
would keep, with the genre's per-stop rate where the fall is spread over the stretch
("about a year for every two stops"). Where nothing is supported it says so; both ends
in one small area, loops, untested sources and missing data each get their own words; an
estimate flagged as doubtful (:mod:`gradient.stats.ranking`) is named. The sources go in a
separate credit line (:func:`credit`), never inside the sentence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..stats import claims
from ..stats.claims import Claim, known
from .names import display_name

MAX_WORDS = 40
"""A sentence a sub-editor keeps: the stretch sentence drops its rate, then its minutes, to fit."""

WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def _clean(text) -> str:
    """A name as readers see it (:func:`gradient.story.names.display_name`), or "an unnamed stop"."""
    return display_name(text) if known(text) and str(text).strip() else "an unnamed stop"


def _num(value: float) -> str:
    return f"{abs(value):.1f}"


def _count(n: int, what: str) -> str:
    word = WORDS[n] if 0 <= n < len(WORDS) else str(n)
    return f"{word} {what}{'' if n == 1 else 's'}"


def route_words(name) -> str:
    """``route 25`` for a short route name, the name itself for a long one (``the Airport Express``)."""
    name = _clean(name)
    return f"route {name}" if len(name) <= 6 or name.isdigit() else f"the {name}"


@dataclass(frozen=True)
class Story:
    """What the sentence needs beyond the pattern row: the cited stretch's length and doubts.

    Attributes
    ----------
    metres, minutes : float
        Length of the cited stretch (NaN where unknown).
    largest_hop_share : float
        Share of the stretch's fall that its steepest single hop accounts for.
    doubts : tuple of str
        Plain phrases such as ``"the estimate for Holland Park is imprecise"``.
    """

    metres: float = math.nan
    minutes: float = math.nan
    largest_hop_share: float = 1.0
    doubts: tuple[str, ...] = ()


def _interval(c: Claim, level: str) -> str:
    """The interval of the size of the change in the direction the verb says (so "falls by 8.8 (2.6 to 15.0)")."""
    low, high = (c.low, c.high) if c.kind != "change" or c.value > 0 else (-c.high, -c.low)
    return f"({level} interval {_num(low)} to {_num(high)})"


def _signed(v: float) -> str:
    return f"{v:.1f}".replace("-", "\u2212")


def _distance(story: Story) -> str:
    if not math.isfinite(story.metres):
        return ""
    far = f"{story.metres:.0f} m" if story.metres < 1000 else f"{story.metres / 1000:.1f} km"
    if math.isfinite(story.minutes) and story.minutes >= 1:
        far += f", about {story.minutes:.0f} minutes"
    return far


def _rate(c: Claim, hops: int, story: Story) -> str:
    """The per-stop rate, only where the fall is spread over the stretch."""
    if hops < 2 or story.largest_hop_share > 2 / 3:
        return ""
    per_stop = c.value / hops
    if per_stop >= 0.95:
        return f", about {per_stop:.1f} years for every stop you pass"
    every = round(1 / per_stop)
    return ", about a year for every stop you pass" if every <= 1 else f", about a year for every {every} stops"


def _caveat(story: Story) -> str:
    return ", though " + " and ".join(story.doubts) if story.doubts else ""


def headline(row, story: Story | None = None, level: str = "95%", lead: Claim | None | bool = False) -> str:
    """One printable sentence about a pattern that its numbers support.

    Parameters
    ----------
    row : pandas.Series
        A row of :func:`gradient.story.tables.pattern_table`.
    story : Story, optional
        Length and doubts of the cited stretch (:func:`gradient.story.tables.pattern_table`
        gives them).
    level : str
        The interval level, e.g. ``"95%"``.
    lead : Claim or None, optional
        :func:`gradient.stats.claims.lead` of the row, if already known.

    Returns
    -------
    str
        One sentence, no source or dataset code in it: a fall or rise only where
        :func:`gradient.stats.claims.lead` finds one supported; otherwise that no change can be
        told apart (or why nothing can be said).

    Examples
    --------
    >>> row = dict({"route_name": "25", "le_change": -11.0, "le_change_se": 2.0, "le_change_stops": 57,
    ...                  "le_change_ci_low": -14.9, "le_change_ci_high": -7.1, "le_change_significant": True,
    ...                  "le_change_from": "Oxford Circus", "le_change_to": "Ilford", "le_first": 85.0,
    ...                  "le_last": 74.0, "first_stop": "Oxford Circus", "last_stop": "Ilford"})
    >>> headline(row)
    'On route 25, life expectancy falls by 11.0 years from Oxford Circus to Ilford (95% interval 7.1 to 14.9).'
    """
    story = story or Story()
    route = route_words(row.get("route_name"))
    c = claims.lead(row) if lead is False else lead
    if c is not None and c.kind == "stretch":
        hops = int(row.get("steepest_fall_stops") or 0)
        a, b = _clean(c.from_name), _clean(c.to_name)
        for far, rate in (
            (_distance(story), _rate(c, hops, story)),
            (_distance(story), ""),
            (_distance(story).split(",")[0], ""),
        ):  # shorter until it fits MAX_WORDS
            if hops <= 1:
                where = f"in the {far.split(',')[0]} from {a} to {b}" if far else f"from {a} to the next stop, {b}"
            else:
                where = f"over the {_count(hops, 'stop')}{f' ({far})' if far else ''} from {a} to {b}"
            text = (
                f"On {route}, life expectancy falls by {_num(c.value)} years {where} {_interval(c, level)}"
                f"{rate}{_caveat(story)}."
            )
            if len(text.split()) <= MAX_WORDS:
                break
        return text
    if c is not None:  # the end-to-end change
        verb = "falls" if c.value < 0 else "rises"
        return (
            f"On {route}, life expectancy {verb} by {_num(c.value)} years from {_clean(c.from_name)} to "
            f"{_clean(c.to_name)} {_interval(c, level)}{_caveat(story)}."
        )
    return _nothing_supported(row, route)


def _nothing_supported(row, route: str) -> str:
    end = claims.change(row)
    first, last = _clean(row.get("first_stop")), _clean(row.get("last_stop"))
    ends = f"a loop from and back to {first}" if first == last else f"from {first} to {last}"
    if end.verdict == "no_data":
        return f"On {route}, too few stops have a life expectancy estimate to say how it changes."
    if end.verdict == "untested":
        return (
            f"On {route}, life expectancy is {_num(row['le_first'])} years at {_clean(end.from_name)} and "
            f"{_num(row['le_last'])} at {_clean(end.to_name)}; the source gives no margins of error, so the "
            "difference is untested."
        )
    if first == last or end.verdict == "same_area":
        same = " (both ends lie in the same small area)" if first != last else ""
        return (
            f"On {route}, {ends}{same}, no fall in life expectancy over a few stops can be told apart from "
            "the estimates' margins of error."
        )
    return (
        f"On {route}, {ends}, neither the change in life expectancy from end to end nor any fall over a few "
        "stops can be told apart from the estimates' margins of error."
    )


def story_label(row, story: Story | None = None, lead: Claim | None | bool = False) -> str | None:
    """A short label for the stretch a map or chart highlights (``"−7.7 years over 4 stops"``), or None."""
    story = story or Story()
    c = claims.lead(row) if lead is False else lead
    if c is None:
        return None
    if c.kind == "stretch":
        hops = int(row.get("steepest_fall_stops") or 0)
        span = (
            (f"in {story.metres:.0f} m" if math.isfinite(story.metres) else "to the next stop")
            if hops <= 1
            else f"over {hops} stops"
        )
        return f"\u2212{_num(c.value)} years {span}"
    return f"{_signed(c.value) if c.value < 0 else '+' + _num(c.value)} years end to end"


def takeaway(row, lead: Claim | None | bool = False) -> str:
    """A title-like takeaway for a chart (``"Life expectancy falls 7.7 years over four stops on route 25"``)."""
    route = route_words(row.get("route_name"))
    c = claims.lead(row) if lead is False else lead
    if c is None:
        return f"No clear change in life expectancy along {route}"
    if c.kind == "stretch":
        hops = int(row.get("steepest_fall_stops") or 0)
        span = "between two stops" if hops <= 1 else f"over {_count(hops, 'stop')}"
        return f"Life expectancy falls {_num(c.value)} years {span} on {route}"
    verb = "falls" if c.value < 0 else "rises"
    return f"Life expectancy {verb} {_num(c.value)} years along {route}"


def context_note(row, name: str) -> str | None:
    """How a second measure moves along the route beside life expectancy, as an association only.

    Parameters
    ----------
    row : pandas.Series or dict
        ``route_name``, ``le_change_from`` and ``le_change_to`` (or ``first_stop`` and
        ``last_stop``), ``context_first``, ``context_last``,
        ``context_le_corr`` and ``context_n_areas``.
    name : str
        What the measure is, e.g. ``"the IMD 2019 score (higher = more deprived)"``.

    Returns
    -------
    str or None
        One sentence; the correlation is described in words only over 6 or more areas, and
        always as an association between places, never a cause. None without values.

    Examples
    --------
    >>> context_note({"route_name": "25", "first_stop": "A", "last_stop": "B", "context_first": 20.04,
    ...               "context_last": 23.3, "context_le_corr": -0.54, "context_n_areas": 30}, "the IMD score")
    'Along route 25, the IMD score goes from 20.0 at A to 23.3 at B; across its 30 areas it tends to be higher where life expectancy is lower (correlation −0.54), an association between places, not evidence of a cause.'
    """  # noqa: E501
    first, last = row.get("context_first"), row.get("context_last")
    if not (known(first) and known(last)):
        return None
    route = route_words(row.get("route_name"))
    name = name if name.lower().startswith("the ") else f"the {name}"
    a = row.get("le_change_from") if known(row.get("le_change_from")) else row.get("first_stop")
    b = row.get("le_change_to") if known(row.get("le_change_to")) else row.get("last_stop")
    text = f"Along {route}, {name} goes from {first:.1f} at {_clean(a)} to {last:.1f} at {_clean(b)}"
    r, n = row.get("context_le_corr"), row.get("context_n_areas")
    if known(r) and known(n) and int(n) >= 6:
        strength = "strongly tends" if abs(r) >= 0.7 else "tends" if abs(r) >= 0.4 else None
        if strength is None:
            text += (
                f"; across its {int(n)} areas it bears little relation to life expectancy (correlation {_signed2(r)})"
            )
        else:
            where = "lower" if r < 0 else "higher"
            text += (
                f"; across its {int(n)} areas it {strength} to be higher where life expectancy is {where} "
                f"(correlation {_signed2(r)}), an association between places, not evidence of a cause"
            )
    return text + "."


def _signed2(v: float) -> str:
    return f"{v:.2f}".replace("-", "\u2212")


def credit(sex: str = "", period: str = "", source: str = "", feed: str = "") -> str:
    """The credit line printed under a sentence, map or chart.

    Examples
    --------
    >>> credit("persons", "2016-2020", "ONS MSOA life expectancy", "TfL bus sequences, July 2018")
    'Life expectancy at birth (persons, 2016-2020): ONS MSOA life expectancy. Stops: TfL bus sequences, July 2018.'
    """
    detail = ", ".join(p for p in (sex, period) if p)
    first = "Life expectancy at birth" + (f" ({detail})" if detail else "") + (f": {source}" if source else "")
    return first + "." + (f" Stops: {feed}." if feed else "")
