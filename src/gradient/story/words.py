"""Every phrase a reader sees: sentences, titles, labels, counts, power, credits and the methods note.

One module owns the words. It is given the run's level and names (:class:`Voice`) and the
figures the statistics decided (:mod:`gradient.stats.claims`), and never decides a claim
itself: a sentence says "falls" or "rises" only where the row's ``lead`` says the claim is
supported. Maps, charts, pages and the console lay out the text they are handed.

The words follow what readers know and what the numbers are:

- places by the names readers know (the neighbourhood, with the stop where it helps:
  "from Rochdale Road (Leyton) to Shortlands Road (Walthamstow)"), never codes;
- the interval in words, with the level used ("with 95% confidence, between 4.8 and 19.4
  years"), never "CI";
- a change between two neighbouring areas is said as a crossing from one to the other,
  never "in the 370 m" (the distance between two stops is not the size of a step), and
  no "per stop" rate of a change that happens in steps;
- where the end-to-end change and the leading stretch disagree, both are said.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..credits import Credit, Labels
from .names import display_name

WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")

MAX_WORDS = 55
"""A sentence a sub-editor keeps: clauses are dropped, least needed first, until it fits."""


@dataclass(frozen=True)
class Voice:
    """What every phrase of a run needs to know: its level, its family and the names it uses.

    Attributes
    ----------
    alpha : float
        Intervals are ``1 - alpha``.
    family : str
        ``network`` (every claim holds over every route run) or ``route``.
    se_scale : float
        Sentences state only claims that hold with the errors this many times wider.
    stretch_k : int
        Longest stretch, in stops.
    place : str
        Where the network is ("London"); empty when unknown.
    unit : str
        What an area is called, plural.
    intervals : bool
        Whether the source gives margins of error; without them every phrase says that no
        interval could be computed (:func:`no_interval`) and claims nothing it cannot test.
    """

    alpha: float = 0.05
    family: str = "network"
    se_scale: float = 1.25
    stretch_k: int = 5
    place: str = ""
    unit: str = "areas"
    intervals: bool = True

    @property
    def level(self) -> str:
        """``"95%"`` for ``alpha=0.05``, ``"90%"`` for 0.1."""
        return f"{100 * (1 - self.alpha):g}%"


def known(value: object) -> bool:
    """Whether a cell holds a value (not None, NA or NaN)."""
    if value is None:
        return False
    try:
        return not math.isnan(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value) not in ("<NA>", "nan", "NaT")


def flag(value: object) -> bool:
    """A table's boolean cell as a bool: missing (NA) is False."""
    return known(value) and bool(value)


def _clean(text: object) -> str:
    return display_name(text) if known(text) and str(text).strip() else "an unnamed stop"


def num(value: float) -> str:
    """A number of years to one decimal, without its sign."""
    return f"{abs(value):.1f}"


def signed(value: float) -> str:
    """A signed number of years with a true minus sign (``−7.7``, ``+1.2``)."""
    return f"{value:+.1f}".replace("-", "\u2212")


def number_word(n: int) -> str:
    """``one`` to ``ten`` in words, larger numbers in figures (``1,453``)."""
    return WORDS[n] if 0 <= n < len(WORDS) else f"{n:,}"


def count(n: int, what: str, plural: str | None = None) -> str:
    """``one stop``, ``four stops``, ``12 stops``."""
    return f"{number_word(n)} {what if n == 1 else (plural or what + 's')}"


def route_words(name: object) -> str:
    """``route 25`` for a short route name, ``the Airport Express`` for a long one."""
    name = _clean(name)
    return f"route {name}" if len(name) <= 6 or name.isdigit() else f"the {name}"


def routes_words(names: list[str], night_prefix: str = "") -> str:
    """Several routes that tell one story: ``routes 295 and 316``; ``route 18 (and the N18 at night)``.

    Parameters
    ----------
    names : list of str
        Route names, the first the one whose pattern tells the story.
    night_prefix : str
        A prefix that marks night buses (TfL's ``N``): a night route that repeats a day
        route's name is said as such.

    Examples
    --------
    >>> routes_words(["295", "316"])
    'routes 295 and 316'
    >>> routes_words(["18", "N18"], night_prefix="N")
    'route 18 (and the N18 at night)'
    """
    clean = [_clean(n) for n in dict.fromkeys(names)]
    if len(clean) == 1:
        return route_words(clean[0])
    if night_prefix and len(clean) == 2 and clean[1] == night_prefix + clean[0]:
        return f"{route_words(clean[0])} (and the {clean[1]} at night)"
    head = ", ".join(clean[:-1])
    return f"routes {head} and {clean[-1]}"


def place_words(stop: object, area: object) -> str:
    """A place as readers know it: ``Rochdale Road (Leyton)`` (the stop, then its neighbourhood).

    The neighbourhood goes in brackets, since names such as "Knightsbridge, Belgravia & Hyde
    Park" hold commas of their own; a stop named after its neighbourhood is said once.
    """
    stop_name = _clean(stop)
    area_name = display_name(area) if known(area) else ""
    if not area_name or area_name.lower() in stop_name.lower():
        return stop_name
    if stop_name.lower() in area_name.lower():  # "Ilford" in Ilford Central: the neighbourhood says it
        return area_name
    return f"{stop_name} ({area_name})"


def from_to(a: str, b: str) -> str:
    """``from A to B``."""
    return f"from {a} to {b}"


def interval(low: float, high: float, voice: Voice, unit: str = " years") -> str:
    """The interval in words, with its level: ``with 95% confidence between 4.8 and 19.4 years``."""
    a, b = sorted((abs(low), abs(high))) if low * high >= 0 else (0.0, max(abs(low), abs(high)))
    return f"with {voice.level} confidence between {num(a)} and {num(b)}{unit}"


def robustness_words(robustness: float) -> str:
    """``it would still hold with margins of error 1.8 times as wide`` (empty when unknown)."""
    if not (known(robustness) and math.isfinite(robustness) and robustness > 0):
        return ""
    return f"it would still hold with margins of error {robustness:.1f} times as wide"


def _compose(required: list[str], optional: list[str], end: str = ".") -> str:
    """The sentence ``required`` plus as many ``optional`` clauses (in order) as fit :data:`MAX_WORDS`."""
    text = "".join(required)
    for clause in optional:
        if clause and len((text + clause).split()) <= MAX_WORDS:
            text += clause
    return text + end


def _ends(row: dict, kind: str) -> tuple[str, str]:
    """The two places of a claim, as readers know them (stop and neighbourhood)."""
    return (
        place_words(row.get(f"{kind}_from"), row.get(f"{kind}_from_area_name")),
        place_words(row.get(f"{kind}_to"), row.get(f"{kind}_to_area_name")),
    )


def _area_pair(row: dict) -> tuple[str, str] | None:
    a, b = row.get("lead_from_area_name"), row.get("lead_to_area_name")
    if known(a) and known(b) and display_name(a) != display_name(b):
        return display_name(a), display_name(b)
    return None


def where_words(row: dict) -> str:
    """Where the lead claim is, in readers' words (no distance quoted as if it measured the change).

    One step between two neighbouring areas is a crossing ("where the route crosses from
    Leyton into Walthamstow, between Rochdale Road and Shortlands Road"); a longer stretch
    names its stops ("over four stops, from Norland Square, Notting Hill, to White City
    Station, White City"); an end-to-end change runs "from end to end".
    """
    a, b = _ends(row, "lead")
    hops = int(row.get("lead_hops") or 0)
    if row.get("lead") == "change":
        return f"from end to end, {from_to(a, b)}"
    pair = _area_pair(row)
    if int(row.get("lead_steps") or 0) == 1 and pair is not None:
        stops = f"{_clean(row.get('lead_from'))} and {_clean(row.get('lead_to'))}"
        return f"where it crosses from {pair[0]} into {pair[1]}, between {stops}"
    if hops <= 1:
        return f"from {a} to the next stop, {b}"
    return f"over {count(hops, 'stop')}, {from_to(a, b)}"


def _express(row: dict) -> str:
    if not flag(row.get("sparse")):
        return ""
    n, km = int(row.get("n_stops") or 0), float(row.get("length_m") or 0) / 1000
    return f", an express with {count(n, 'stop')} over {km:.1f} km"


def headline(row: dict, voice: Voice | None = None) -> str:
    """One printable sentence about a pattern that its numbers support.

    Parameters
    ----------
    row : dict
        A row of the patterns table with its story columns (``lead``, ``lead_fall``,
        ``lead_low``, ``lead_high``, ``lead_robustness``, ``lead_from``, ``lead_to``,
        their area names, ``lead_hops``, ``lead_steps``, ``change_supported``, ...).
    voice : Voice, optional
        The run's level and names.

    Returns
    -------
    str
        One sentence: "falls" or "rises" only where the lead is supported; both the lead
        stretch and the end-to-end change where they point opposite ways; otherwise why
        nothing can be said.

    Examples
    --------
    >>> row = {"route_name": "25", "lead": "change", "lead_fall": 8.2, "lead_low": 2.8, "lead_high": 13.6,
    ...        "lead_robustness": 1.5, "lead_from": "OXFORD CIRCUS STN", "lead_to": "ILFORD",
    ...        "lead_from_area_name": "Soho", "lead_to_area_name": "Ilford Central"}
    >>> print(headline(row))  # doctest: +NORMALIZE_WHITESPACE
    On route 25, life expectancy falls by 8.2 years from end to end, from Oxford Circus Station (Soho) to
    Ilford Central, with 95% confidence between 2.8 and 13.6 years; it would still hold with margins of error
    1.5 times as wide.
    """
    voice = voice or Voice()
    route = route_words(row.get("route_name")) + _express(row)
    lead = row.get("lead")
    if lead in ("stretch", "change"):
        fall = float(row["lead_fall"])
        verb = "falls" if fall > 0 else "rises"
        ci = interval(row["lead_low"], row["lead_high"], voice)
        required = [f"On {route}, life expectancy {verb} by {num(fall)} years {where_words(row)}, {ci}"]
        required.append(_change_not_shown(row, fall))
        robust = robustness_words(float(row.get("lead_robustness") or 0.0))
        return _compose(required, [_also_change(row, fall), "; " + robust if robust else ""])
    return nothing_supported(row, voice)


def _also_change(row: dict, lead_fall: float) -> str:
    """The end-to-end change beside a leading stretch, where it is supported too."""
    if row.get("lead") != "stretch" or not flag(row.get("change_supported")):
        return ""
    change = float(row.get("le_change", math.nan))
    if not math.isfinite(change) or change == 0:
        return ""
    verb = "rises" if change > 0 else "falls"
    joint = "though" if (change > 0 and lead_fall > 0) or (change < 0 and lead_fall < 0) else "and"
    a, b = _ends(row, "le_change")
    return f"; {joint} from end to end, {from_to(a, b)}, it {verb} by {num(change)} years"


def _change_not_shown(row: dict, lead_fall: float) -> str:
    """Beside a leading stretch whose route's estimate runs the other way end to end, that this is not shown.

    Without it, "falls by 10 years over five stops" on a route whose estimates rise by 17 years
    from end to end misleads by omission; the end-to-end rise is not supported (else
    :func:`_also_change` states it), so the sentence says only that it cannot be told apart.
    """
    if row.get("lead") != "stretch" or flag(row.get("change_supported")):
        return ""
    change = float(row.get("le_change", math.nan))
    if not math.isfinite(change) or (change > 0) != (lead_fall > 0) or change == 0:
        return ""
    return "; from end to end, no change can be told apart from the margins of error"


def nothing_supported(row: dict, voice: Voice | None = None) -> str:
    """The sentence of a pattern whose numbers support no change, saying why."""
    voice = voice or Voice()
    route = route_words(row.get("route_name")) + _express(row)
    first, last = _clean(row.get("first_stop")), _clean(row.get("last_stop"))
    ends = f"a loop from and back to {first}" if first == last else f"from {first} to {last}"
    if not known(row.get("le_change")) or int(row.get("n_stops_le") or 0) < 2:
        return f"On {route}, too few stops have a life expectancy estimate to say how it changes."
    if not voice.intervals or not known(row.get("le_change_se")):
        return no_interval_sentence(row, route)
    doubt = row.get("doubt_names")
    if known(doubt) and str(doubt):
        return (
            f"On {route}, {ends}, no change in life expectancy can be told apart from the estimates' margins of error "
            f"without leaning on the estimate for {doubt}, which is in doubt."
        )
    return f"On {route}, {ends}, no change in life expectancy can be told apart from the estimates' margins of error."


def story_label(row: dict) -> str | None:
    """A short label for the stretch a map or chart highlights (``−12.1 years, Leyton to Walthamstow``)."""
    lead = row.get("lead")
    if lead not in ("stretch", "change"):
        return None
    fall = float(row["lead_fall"])
    if lead == "change":
        return f"{signed(-fall)} years end to end"
    pair = _area_pair(row)
    if pair is not None and int(row.get("lead_steps") or 0) == 1:
        return f"{signed(-fall)} years, {pair[0]} to {pair[1]}"
    return f"{signed(-fall)} years over {count(int(row.get('lead_hops') or 0), 'stop')}"


def takeaway(row: dict, voice: Voice | None = None) -> str:
    """A chart title that states the finding.

    Examples
    --------
    >>> takeaway({"route_name": "N38", "lead": "stretch", "lead_fall": 12.1, "lead_steps": 1,
    ...           "lead_from_area_name": "Leyton", "lead_to_area_name": "Walthamstow"})
    'Life expectancy falls 12.1 years from Leyton to Walthamstow on route N38'
    """
    route = route_words(row.get("route_name"))
    lead = row.get("lead")
    if lead not in ("stretch", "change") and known(row.get("le_change")):
        if (voice is not None and not voice.intervals) or not known(row.get("le_change_se")):
            return no_interval_takeaway(route)
    if lead not in ("stretch", "change"):
        return f"No change in life expectancy along {route} can be told apart from the margins of error"
    fall = float(row["lead_fall"])
    verb = "falls" if fall > 0 else "rises"
    if lead == "change":
        return f"Life expectancy {verb} {num(fall)} years along {route}"
    pair = _area_pair(row)
    if pair is not None and int(row.get("lead_steps") or 0) == 1:
        return f"Life expectancy {verb} {num(fall)} years from {pair[0]} to {pair[1]} on {route}"
    return f"Life expectancy {verb} {num(fall)} years over {count(int(row.get('lead_hops') or 0), 'stop')} on {route}"


def stretch_sentence(row: dict, voice: Voice | None = None) -> str:
    """The sentence of one stretch of street (a row of ``stretches.csv``)."""
    voice = voice or Voice()
    a = place_words(row.get("from_stop"), row.get("from_area_name"))
    b = place_words(row.get("to_stop"), row.get("to_area_name"))
    routes = str(row.get("routes") or "").split("; ")
    on = routes_words([r for r in routes if r]) if any(routes) else "its routes"
    if not voice.intervals:
        return no_interval_stretch(from_to(a, b), on)
    if not flag(row.get("supported")):
        why = " without leaning on an estimate in doubt" if str(row.get("area_doubt") or "") else ""
        return (
            f"{from_to(a, b)[0].upper()}{from_to(a, b)[1:]}, on {on}, no change in life expectancy can be told apart "
            "from the estimates' margins "
            f"of error{why}."
        )
    hops = int(row.get("n_stops") or 0)
    span = "between neighbouring stops" if hops <= 1 else f"over {count(hops, 'stop')}"
    ci = interval(row["le_fall_ci_low"], row["le_fall_ci_high"], voice)
    return f"Life expectancy falls by {num(row['le_fall'])} years {span} {from_to(a, b)}, on {on}, {ci}."


def count_sentence(counts: dict, voice: Voice | None = None) -> str:
    """The seed's sentence as a measured fact: how many stretches of street, served by how many routes.

    Parameters
    ----------
    counts : dict
        :attr:`gradient.stats.stretches.Stretches.counts`: by change in years, ``(places,
        routes)``.
    voice : Voice, optional
    """
    voice = voice or Voice()
    where = f"In {voice.place}" if voice.place else "In this network"
    if not voice.intervals:
        return no_interval_count(where)
    keys = sorted(counts)
    n, m = counts[keys[0]]
    if n == 0:
        return (
            f"{where}, no stretch of street can be shown, {voice.level} sure and allowing for margins of error "
            f"{voice.se_scale:g} times as wide as published, to change in life expectancy by {_years(keys[0])} or "
            f"more within {count(voice.stretch_k, 'stop')}."
        )
    text = (
        f"{where}, {count(n, 'stretch', 'stretches')} of street, served by {count(m, 'route')}, change in life "
        f"expectancy by at least {_years(keys[0])} within {count(voice.stretch_k, 'stop')}"
    )
    more = [f"{number_word(counts[k][0])} of them by at least {_years(k)}" for k in keys[1:] if counts[k][0]]
    if more:
        text += " (" + "; ".join(more) + ")"
    return (
        text + f"; with {voice.level} confidence every one of them does, even with margins of error "
        f"{voice.se_scale:g} times as wide as published."
    )


def _years(x: float) -> str:
    return f"{x:g} year" + ("" if x == 1 else "s")


def power_sentence(step: float, se: float, voice: Voice | None = None, n_routes: int = 2) -> str:
    """How big a change the run can see: the step found 80% of the time at its typical margin of error."""
    voice = voice or Voice()
    if not voice.intervals or not (math.isfinite(step) and math.isfinite(se)):
        return no_interval_power()
    scope = "anywhere in the network" if voice.family == "network" else "on a route"
    if n_routes == 1:
        scope = "on this route"
    return (
        f"At this run's typical margin of error between neighbouring {voice.unit} ({num(se)} years), a step of "
        f"{num(step)} years from one to the next is found {scope} 80% of the time; smaller steps mostly go unseen."
    )


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


def credit_line(labels: Labels) -> str:
    """Every source of a run in one line for a chart or map, each with its notice and licence."""
    shorts = list(dict.fromkeys(c.short_text() for c in labels.credits))
    if shorts:
        text = "Sources: " + "; ".join(shorts) + "."
    else:
        text = labels.source_line if (labels.le_source or labels.feed) else ""
    notes = [c.note for c in labels.credits if c.note]
    text = " ".join([text, *notes]) if notes else text
    return f"{labels.byline}. {text}" if labels.byline else text


def credit_text(labels: Labels, sep: str = " ") -> str:
    """Every source of a run, credited as its licence asks, in full: the ``credit`` column and ``methods.md``."""
    credits: list[Credit] = list(labels.credits)
    text = (
        sep.join(c.text() for c in credits)
        if credits
        else (labels.source_line if (labels.le_source or labels.feed) else "")
    )
    if labels.byline:
        text = f"{labels.byline}.{sep}{text}" if text else labels.byline
    return text


def stops_credit(labels: Labels) -> str:
    """The credit of the stops alone (for a short credit line)."""
    return next((c.text() for c in labels.credits if c.role == "stops"), "")


__all__ = [
    "UNNAMED",
    "MARGINS",
    "band_label",
    "change_line",
    "doubt_text",
    "drop_words",
    "estimate_line",
    "fallback_label",
    "fmt",
    "network_alt_text",
    "network_tooltip",
    "range_words",
    "route_alt_text",
    "route_label",
    "route_title",
    "stop_popup",
    "stretch_note",
    "towards",
    "voice_of",
    "z_of",
    "MAX_WORDS",
    "Voice",
    "methods_note",
    "console_lines",
    "ordinal",
    "place_in_list",
    "scope_sentence",
    "story_routes_words",
    "context_note",
    "count",
    "count_sentence",
    "flag",
    "credit_line",
    "credit_text",
    "headline",
    "interval",
    "known",
    "nothing_supported",
    "place_words",
    "power_sentence",
    "robustness_words",
    "route_words",
    "routes_words",
    "story_label",
    "stretch_sentence",
    "takeaway",
    "where_words",
]


def ordinal(n: int) -> str:
    """``1st``, ``2nd``, ``23rd``, ``111th``."""
    n = int(n)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def place_in_list(row: dict, n_routes: int, whole_network: bool) -> str:
    """A story's place, and how sure it is: ``1st of 724 routes (somewhere from 1st to 40th)``.

    A run of some routes says "of the routes run", and a run of one route gives no place.
    """
    if n_routes <= 1 or not known(row.get("rank")):
        return ""
    scope = f"of {n_routes:,} routes" if whole_network else f"of the {n_routes:,} routes run"
    text = f"{ordinal(row['rank'])} {scope}"
    low, high = row.get("rank_low"), row.get("rank_high")
    if low is not None and high is not None and known(low) and known(high) and int(low) != int(high):
        text += f" (its place could be anywhere from {ordinal(int(low))} to {ordinal(int(high))})"
    return text


def story_routes_words(row: dict, night_prefix: str = "") -> str:
    """The routes that tell one story: ``routes 137 and 452 (and the N137 at night)``."""
    names = [n for n in str(row.get("story_routes") or row.get("route_name") or "").split("; ") if n]
    night = [n for n in names if night_prefix and n.startswith(night_prefix) and n[len(night_prefix) :] in names]
    day = [n for n in names if n not in night]
    text = routes_words(day or names)
    if night:
        text += f" (and the {' and '.join(night)} at night)"
    return text


def scope_sentence(voice: Voice, n_routes: int) -> str:
    """What the printed claims hold over, in words."""
    if not voice.intervals:
        return no_interval_scope()
    if n_routes == 1:
        what = "for this route"
    elif voice.family == "network":
        what = f"over all {n_routes:,} routes at once"
    else:
        what = "for each route on its own"
    return (
        f"Every change stated below holds {what}, with {voice.level} confidence, even with margins of error "
        f"{voice.se_scale:g} times as wide as published."
    )


def console_lines(
    top: list[dict], voice: Voice, n_routes: int, whole_network: bool, night_prefix: str = ""
) -> list[str]:
    """The console's list of top stories: each one's place, its routes, its sentence.

    A list never leads with a non-finding: ``top`` holds supported stories only, and where
    there are none the console says so.
    """
    if not voice.intervals:
        return [no_interval_console()]
    if not top:
        return ["No route's change in life expectancy can be told apart from the margins of error."]
    lines = []
    for row in top:
        place = place_in_list(row, n_routes, whole_network)
        head = story_routes_words(row, night_prefix)
        lines.append(f"  {head[0].upper()}{head[1:]}" + (f", {place}" if place else "") + ":")
        lines.append(f"    {row['headline']}")
    return lines


# --- the words of maps, charts and pages ---------------------------------------------------

UNNAMED = "(unnamed stop)"

MARGINS = "the estimates' margins of error"
"""What a difference that cannot be told apart is within."""


def voice_of(options: object, labels: object = None) -> Voice:
    """The :class:`Voice` of a run, from its options and labels (duck-typed: any objects with the fields)."""
    return Voice(
        alpha=float(getattr(options, "alpha", 0.05)),
        family=str(getattr(options, "family", "network")),
        se_scale=float(getattr(options, "se_scale", 1.25)),
        stretch_k=int(getattr(options, "stretch_k", 5)),
        place=str(getattr(labels, "place", "") or ""),
        unit=str(getattr(labels, "unit", "areas") or "areas"),
        intervals=bool(getattr(labels, "intervals", True)),
    )


def z_of(voice: Voice) -> float:
    """The normal quantile of one estimate's own ``1 - alpha`` interval."""
    from statistics import NormalDist

    return NormalDist().inv_cdf(1 - voice.alpha / 2)


def fmt(value: float, spec: str = ".1f", sign: bool = False) -> str:
    """A number for a page: one decimal, a true minus sign, ``n/a`` when missing."""
    if not known(value) or not math.isfinite(float(value)):
        return "n/a"
    text = format(float(value), ("+" if sign else "") + spec)
    if float(text.lstrip("+")) == 0:  # never a minus zero
        text = format(0.0, ("+" if sign else "") + spec)
    return text.replace("-", "\u2212")


def route_label(row: dict) -> str:
    """``Route 25`` (the route's name as readers know it)."""
    return f"Route {display_name(row['route_name'])}"


def towards(row: dict) -> str:
    """``Route 25 towards Ilford``: the route and the direction it runs, in words."""
    last = display_name(row.get("last_stop"))
    return f"{route_label(row)} towards {last}" if last else route_label(row)


def route_title(row: dict) -> str:
    """``Route 25: Holles Street (Marylebone) to Hainault Street (Ilford)``: the ends as readers know them.

    Each end is its stop's display name with the neighbourhood it lies in, where the row has
    ``first_area_name`` and ``last_area_name``; a loop says so.
    """

    def end(stop: object, area: object) -> str:
        return place_words(stop, area) if display_name(stop) else UNNAMED

    first = end(row.get("first_stop"), row.get("first_area_name"))
    last = end(row.get("last_stop"), row.get("last_area_name"))
    if display_name(row.get("first_stop")) == display_name(row.get("last_stop")):
        return f"{route_label(row)}: a loop from {first}"
    return f"{route_label(row)}: {first} to {last}"


def estimate_line(value: float, se: float, voice: Voice) -> str:
    """``82.1 years (95% interval 80.0 to 84.2)``: one area's estimate with its own interval."""
    text = f"{fmt(value)} years"
    if known(value) and known(se) and math.isfinite(float(se)):
        z = z_of(voice)
        text += f" ({voice.level} interval {fmt(value - z * se)} to {fmt(value + z * se)})"
    return text


def change_line(delta: float, se: float, voice: Voice) -> str:
    """A stop's change from the previous one, for its popup."""
    if known(se) and float(se) == 0 and known(delta) and float(delta) == 0:
        return "Same small area as the previous stop"
    text = f"Change from the previous stop: {fmt(delta, sign=True)} years"
    if known(delta) and known(se) and math.isfinite(float(se)):
        z = z_of(voice)
        text += f" ({voice.level} interval {fmt(delta - z * se, sign=True)} to {fmt(delta + z * se, sign=True)})"
    return text


def doubt_text(doubt: object, se: float, voice: Voice | None = None) -> str:
    """A stop's ``area_doubt`` in plain words for its popup (``""`` when there is none).

    Examples
    --------
    >>> doubt_text("imprecise", 4.6)
    'Estimate uncertain: its 95% interval spans 18 years'
    >>> doubt_text("", 1.0)
    ''
    """
    voice = voice or Voice()
    if not known(doubt) or not str(doubt).strip():
        return ""
    kind = str(doubt).strip().lower()
    parts = []
    if "implausible" in kind:
        parts.append("Estimate doubtful: far from its neighbours' or set apart by its publisher; no claim rests on it")
    if "imprecise" in kind:
        if known(se) and math.isfinite(float(se)):
            span = 2 * z_of(voice) * float(se)
            parts.append(f"Estimate uncertain: its {voice.level} interval spans {span:.0f} years")
        else:
            parts.append("Estimate uncertain: its interval is wide")
    return "; ".join(parts)


def drop_words(
    row: dict | None, voice: Voice | None = None, unit: str = "", margins: str = "the margins of error"
) -> str:
    """What the biggest stop-to-stop fall's interval allows: ``(95% interval 2.1 to 9.8)``, or within the margins."""
    voice = voice or Voice()
    if row is None or not known(row.get("max_drop")) or float(row["max_drop"]) <= 0:
        return ""
    # stated as a fall only where a sentence could state it: it holds with the errors widened too
    robust = row.get("max_drop_robustness")
    supported = robust is None or not known(robust) or float(robust) >= voice.se_scale
    if flag(row.get("max_drop_significant")) and supported and known(row.get("max_drop_ci_low")):
        return f" ({voice.level} interval {fmt(row['max_drop_ci_low'])} to {fmt(row['max_drop_ci_high'])}{unit})"
    if known(row.get("max_drop_ci_low")):
        return f", within {margins}"
    return ""


def range_words(row: dict | None, voice: Voice | None = None) -> str:
    """Whether the route's highest and lowest estimates can be told apart, in words."""
    if row is None:
        return " (the difference is not tested here)"
    sig = row.get("le_range_significant")
    if not known(sig):
        return ""
    voice = voice or Voice()
    spread, low = row.get("le_range"), row.get("le_range_ci_low")
    if flag(sig) and spread is not None and low is not None and known(spread) and known(low):
        # as a sentence would: it holds with the errors widened too
        sig = float(spread) - voice.se_scale * (float(spread) - float(low)) > 0
    if flag(sig):
        return f"; allowing for {MARGINS} the difference is at least {fmt(row['le_range_ci_low'])} years"
    return f"; the two cannot be told apart from {MARGINS}"


def stretch_note(
    label: str,
    names: list[str],
    start: int,
    end: int,
    cited: bool,
    change: float,
    row: dict | None,
    voice: Voice | None = None,
) -> str:
    """One legend line for the stretch a map or chart highlights (plain text)."""
    where = f"{names[start]} to {names[end]}"
    if cited:
        return f"The change the sentence states: {label}, {where}"
    return f"Biggest stop-to-stop fall, {fmt(-abs(change))} years{drop_words(row, voice)}: {where}"


def fallback_label(change: float, row: dict | None, voice: Voice | None = None) -> str:
    """The label of the biggest stop-to-stop fall where no sentence states a change."""
    return f"Biggest stop-to-stop fall: {fmt(change)} years{drop_words(row, voice)}"


def band_label(voice: Voice) -> str:
    """The profile chart's interval band."""
    return f"{voice.level} interval of each stop's estimate"


def stop_popup(
    name: str,
    le: float,
    se: float,
    delta: float,
    dse: float,
    doubt: object,
    area: str,
    first: bool,
    voice: Voice,
    context: float = math.nan,
    context_name: str = "",
) -> list[str]:
    """A stop's popup lines: name, estimate and interval, doubt, change, second measure, area."""
    lines = [name, f"Life expectancy: {estimate_line(le, se, voice)}"]
    d = doubt_text(doubt, se, voice)
    if d:
        lines.append(d)
    lines.append("First stop of the route" if first else change_line(delta, dse, voice))
    if known(context) and math.isfinite(float(context)):
        lines.append(f"{context_name or 'Second measure'}: {fmt(context)}")
    if area:
        lines.append(f"Neighbourhood: {area}")
    return lines


def route_alt_text(
    names: list[str],
    le: list[float],
    dist: list[float],
    route: str,
    what: str,
    row: dict | None,
    highlight: tuple[int, int, str, bool, float] | None,
    credit: str = "",
    voice: Voice | None = None,
) -> str:
    """One plain-text paragraph describing a route map or chart, for alt text and screen readers.

    ``highlight`` is ``(start, end, label, cited, change)`` of the highlighted stretch, or None.
    """
    voice = voice or Voice()
    n = len(names)
    text = [
        f"Map of {route or 'a route'} from {names[0]} to {names[-1]} ({dist[-1] / 1000:.1f} km, {n} stops), "
        f"coloured stop by stop by the {what} of the neighbourhood each stop stands in."
    ]
    if row is not None and row.get("headline"):
        text.append(str(row["headline"]))
    finite = [i for i, v in enumerate(le) if known(v) and math.isfinite(v)]
    if finite:
        lo = min(finite, key=lambda i: le[i])
        hi = max(finite, key=lambda i: le[i])
        text.append(
            f"Along the route it ranges from {fmt(le[lo])} years at {names[lo]} to {fmt(le[hi])} years at "
            f"{names[hi]} over the {len(finite)} stops with an estimate{range_words(row, voice)}."
        )
        if highlight is None:
            text.append("Life expectancy never falls from one stop to the next.")
        else:
            i, j, label, cited, change = highlight
            if cited:
                text.append(f"The highlighted stretch ({label}) runs from {names[i]} to {names[j]}.")
            else:
                text.append(
                    f"The biggest fall between consecutive stops is {fmt(-change)} years, from {names[j - 1]} to "
                    f"{names[j]}{drop_words(row, voice, ' years', MARGINS)}."
                )
    else:
        text.append("None of its stops has a life expectancy estimate.")
    if credit:
        text.append(credit.rstrip(".") + ".")
    return " ".join(text)


def network_tooltip(row: dict, voice: Voice | None = None) -> list[str]:
    """A route's lines in the network map's tooltip: which way, its ends, its range, its story."""
    voice = voice or Voice()
    lines = [towards(row), f"{display_name(row['first_stop'])} to {display_name(row['last_stop'])}"]
    if known(row.get("le_range")):
        lines.append(
            f"Life expectancy {fmt(row['le_min'])} to {fmt(row['le_max'])} years "
            f"(range {fmt(row['le_range'])}{range_words(row, voice).replace('; allowing for ' + MARGINS, ';')})"
        )
    else:
        lines.append("No life expectancy estimate along this route")
    label = row.get("story_label")
    if known(label) and str(label):
        lines.append(f"Its story: {label}")
    elif known(row.get("max_drop")) and float(row["max_drop"]) > 0:
        lines.append(
            f"Biggest stop-to-stop fall {fmt(row['max_drop'])} years{drop_words(row, voice)}: "
            f"{display_name(row['max_drop_from'])} to {display_name(row['max_drop_to'])}"
        )
    return lines


def network_alt_text(n_routes: int, what: str, top: list[dict], credit: str = "") -> str:
    """One plain-text paragraph describing a network map."""
    text = [f"Map of {n_routes} routes, each coloured by {what}."]
    if top:
        parts = [f"{route_label(r).lower()}: {r.get('story_label') or ''}".rstrip(": ") for r in top]
        text.append("The strongest stories are on " + "; ".join(parts) + ".")
    if credit:
        text.append(credit.rstrip(".") + ".")
    return " ".join(text)


def _methods_where_what(voice: Voice, labels: Labels) -> tuple[str, str]:
    """The readers' note's place and what its estimates are (sex and period)."""
    return voice.place or "this network", ", ".join(x for x in (labels.sex, labels.period) if x)


def _stop_takes(method: str, unit: str) -> str:
    """What each stop takes, in words, for the way stops took their areas (``unit``: one area's name)."""
    return {
        "point": f"the life expectancy of the {unit} it stands in",
        "buffer": "the average life expectancy of the areas within a short radius, weighted by where people live",
        "network": "the average life expectancy of the areas along the streets within a short walk",
    }.get(method, "the life expectancy of its area")


def _sources_lines(labels: Labels) -> list[str]:
    """The readers' note's last lines: every source with its licence, then the byline."""
    lines = ["**Sources.**", ""] + [f"- {c.text()}" for c in labels.credits]
    return lines + (["", labels.byline] if labels.byline else [])


def methods_note(
    voice: Voice,
    labels: Labels,
    n_routes: int,
    n_stops: int,
    method: str,
    summary: object,
    n_doubtful: int,
    n_supported: int,
) -> str:
    """A short note for readers on how the run's numbers were made, with its own figures (Markdown).

    A few hundred words, no equations: what was measured, how sure every sentence is and
    why, what the count and the ranking mean, what the run could and could not see, and
    every source. Written beside the outputs as ``methods.md``.
    """
    if not voice.intervals:
        return no_interval_methods(voice, labels, n_routes, n_stops, method, summary, n_doubtful)
    where, what = _methods_where_what(voice, labels)
    how = _stop_takes(method, voice.unit[:-1] if voice.unit.endswith("s") else voice.unit)
    scope = f"all {n_routes:,} routes at once" if voice.family == "network" and n_routes > 1 else "each route"
    step = getattr(summary, "power_step", math.nan)
    se = getattr(summary, "power_se", math.nan)
    lines = [
        f"# How these numbers were made: {where}",
        "",
        f"**What was measured.** {n_routes:,} routes and {n_stops:,} stops of {labels.feed or 'the feed'}. Each stop "
        f"takes {how}: life expectancy at birth ({what or 'as published'}), an official small-area estimate with "
        "its own margin of error. Estimates describe the people who live in an area over a period, not the people "
        "on the bus, and a difference between places is not evidence of its cause.",
        "",
        f"**How sure every sentence is.** A sentence says that life expectancy falls or rises only where the "
        f"change holds with {voice.level} confidence over {scope}, and would still hold with every published "
        f"margin of error {voice.se_scale:g} times as wide: published margins count the uncertainty in deaths, "
        "not in the population counts or in who moved before they died. "
        f"{n_supported:,} of the {n_routes:,} routes have a change their sentence may state."
        if n_supported
        else f"None of the {n_routes:,} routes has a change its sentence may state.",
        "",
        f"**Stretches of street.** {getattr(summary, 'count_sentence', '')} A stretch is a place where a route "
        f"crosses from one neighbourhood into another, or through a few of them, within {voice.stretch_k} stops; "
        "routes that run the same place count it once.",
        "",
        "**The ranking.** Routes are ordered by how large a change the evidence supports (the lower end of its "
        "range of likely values), so a neighbourhood with a wide margin of error cannot buy a place at the top. "
        "Each place comes with the range it could really be in; when that range is wide, the place cannot be "
        "pinned down.",
        "",
        "**What the data could not see.** "
        + (
            f"With these margins of error (typically {num(se)} years between neighbouring areas), a step of about "
            f"{num(step)} years is needed to be found 80% of the time: smaller real differences mostly go unseen, "
            "so the absence of a sentence is not evidence that life expectancy is flat."
            if math.isfinite(step) and math.isfinite(se)
            else "The source gives no margins of error, so no change could be tested."
        ),
        "",
        f"**Estimates in doubt.** {n_doubtful:,} of the areas served have an estimate flagged as imprecise or "
        "implausible (set apart by its publisher, or far from its neighbours). No stated change rests on one.",
        "",
    ]
    return "\n".join(lines + _sources_lines(labels)) + "\n"


# --- charts: the words of the stop-by-stop profiles (present/charts.py lays them out) ---

LE_AXIS = "Life expectancy at birth, years"
"""The profile's value axis."""

LE_SHORT = "Life expectancy, years"
"""The phone chart's heading over life expectancy (its subtitle says "at birth")."""

KM_AXIS = "km from the first stop"
"""The profile's distance axis."""

GAP_M = 1500.0
"""Consecutive stops further apart than this (metres) are drawn with a gap between them: no
step is drawn where there is no stop (a dotted line joins them)."""


def dots_key() -> str:
    """The legend line of the profile's stops (their colour stands on paper: dark is lower)."""
    return "life expectancy at the stop (the darker, the lower, as on the maps)"


def doubt_key(kinds: list[str]) -> str:
    """The legend line of hollow stops: which doubt, in words that need no map.

    Examples
    --------
    >>> doubt_key(["implausible"])
    'estimate in doubt (hollow): far from its neighbours or set apart by its publisher; no claim rests on it'
    """
    text = set(" ".join(kinds).lower().split())
    parts = []
    if "implausible" in text:
        parts.append("far from its neighbours or set apart by its publisher; no claim rests on it")
    if "imprecise" in text:
        parts.append("its interval is very wide")
    return "estimate in doubt (hollow): " + ("; ".join(parts) or "see its area's note")


def missing_key() -> str:
    """The legend line of stops without an estimate."""
    return "stop without an estimate"


def gap_key(km: float) -> str:
    """The legend line of a gap between stops."""
    return f"no stop for over {km:g} km: joined by a dotted line, no step drawn"


def reference_key(value: float, label: str) -> str:
    """The legend line of the reference (the maps' ▲)."""
    return f"{fmt(value)}: {label}" if label else fmt(value)


def chart_alt_text(
    names: list[str],
    le: list[float],
    dist: list[float],
    route: str,
    what: str,
    row: dict | None,
    highlight: tuple[int, int, str, bool, float] | None,
    credit: str = "",
    voice: Voice | None = None,
    context_name: str = "",
    context: list[float] | None = None,
) -> str:
    """One plain-text paragraph describing a profile chart, for alt text (written beside each chart).

    Examples
    --------
    >>> text = chart_alt_text(["A", "B"], [80.0, 75.0], [0.0, 900.0], "route 8", "life expectancy at birth", None, None)
    >>> text.split(". ")[0]
    'Chart of the life expectancy at birth at each of the 2 stops of route 8, from A to B (0.9 km)'
    """
    text = route_alt_text(names, le, dist, route, what, row, highlight, "", voice)
    first = text.split(". ", 1)
    rest = first[1] if len(first) > 1 else ""
    head = (
        f"Chart of the {what} at each of the {len(names)} stops of {route or 'a route'}, "
        f"from {names[0]} to {names[-1]} ({dist[-1] / 1000:.1f} km)."
    )
    rest = rest.replace("Along the route it ranges", "It ranges")
    out = [head, rest]
    if context_name and context is not None:
        vals = [v for v in context if known(v) and math.isfinite(v)]
        if vals:
            out.append(
                f"Beside it, {context_name}: from {fmt(context[0]) if known(context[0]) else 'n/a'} at the first "
                f"stop to {fmt(context[-1]) if known(context[-1]) else 'n/a'} at the last "
                f"(lowest {fmt(min(vals))}, highest {fmt(max(vals))})."
            )
    if credit:
        out.append(credit.rstrip(".") + ".")
    return " ".join(p for p in out if p)


# --- the network map: what colours it, and the words of its finder and panel ---

NETWORK_VALUES = {
    "lead_low": "Strength of each route's story: the least its supported change could be, years",
    "le_range": "Range of life expectancy along the route, years",
    "slope_per_km": "Trend of life expectancy along the route, years per km (either way)",
    "max_drop": "Largest fall between consecutive stops, years",
}
"""Columns of ``patterns.csv`` a network map can be coloured by, and their legend text; the
first, the ranking's own statistic, is the default."""

NETWORK_UI = {
    "find": "Find a route or a place",
    "example": "e.g. {example} or {place}",
    "go": "Show",
    "nothing": "No route or place called \u201c{text}\u201d",
    "place": "Routes through {place}",
    "routes": "{n} routes",
    "this_way": "This way",
    "other_way": "The other way",
    "chart": "Open the full chart",
    "map": "Open the route's map",
    "clear": "Show every route",
    "km": "km",
    "years": "years",
    "profile": "Life expectancy at each stop of {route}, {first} to {last}",
}
"""Every phrase the network map's script shows (it fills in the braces)."""


def network_story(row: dict) -> str:
    """A route's story in a few words for the network map (its label, or that nothing is supported)."""
    label = row.get("story_label")
    if known(label) and str(label):
        return f"Its story: {label}"
    return "No change along it that the data support"


def network_title(value: str) -> str:
    """The network map's title for the column that colours it."""
    if value == "lead_low":
        return "Where life expectancy changes most along each bus route"
    return NETWORK_VALUES[value].split(",")[0].replace("the route", "each route")


def network_notes(value: str, n_without: int) -> list[str]:
    """The network map's notes under its legend (plain text)."""
    notes = []
    if value == "lead_low":
        notes.append(
            f"Grey: the {n_without:,} routes with no change the data support. The darker and wider, the stronger "
            "the route's story (the top-ranked route is the darkest)."
        )
    notes.append(
        "One line per route. Hover over or tap a route, or find it above, for both directions and its profile."
    )
    return notes


# --- tables without errors: one phrase, said plainly, and no claim that cannot be tested -----------

NO_INTERVAL = "no interval could be computed (the source gives no margins of error)"
"""What every phrase of a run whose source has no margins of error says, in these words."""


def no_interval(start: bool = False) -> str:
    """:data:`NO_INTERVAL`, with a capital to start a sentence.

    Examples
    --------
    >>> no_interval(start=True)
    'No interval could be computed (the source gives no margins of error)'
    """
    return NO_INTERVAL[:1].upper() + NO_INTERVAL[1:] if start else NO_INTERVAL


def no_interval_sentence(row: dict, route: str) -> str:
    """A route's sentence without margins of error: its two ends' estimates, and no claim.

    Examples
    --------
    >>> no_interval_sentence({"le_first": 84.6, "le_last": 81.1, "le_change_from": "New Oxford Street",
    ...                       "le_change_to": "Canada Water"}, "route 1")
    'On route 1, life expectancy is 84.6 years at New Oxford Street and 81.1 at Canada Water; no interval could be computed (the source gives no margins of error).'
    """  # noqa: E501
    a = _clean(row.get("le_change_from") or row.get("first_stop"))
    b = _clean(row.get("le_change_to") or row.get("last_stop"))
    return (
        f"On {route}, life expectancy is {num(row['le_first'])} years at {a} and {num(row['le_last'])} at {b}; "
        f"{NO_INTERVAL}."
    )


def no_interval_takeaway(route: str) -> str:
    """A chart's or map's title without margins of error (it states no finding)."""
    return f"Life expectancy along {route}: {NO_INTERVAL}"


def no_interval_stretch(where: str, on: str) -> str:
    """A stretch of street's sentence without margins of error."""
    return f"{where[:1].upper()}{where[1:]}, on {on}: {NO_INTERVAL}, so no change is stated."


def no_interval_count(where: str) -> str:
    """The count of stretches of street, without margins of error: none is counted."""
    return f"{where}, {NO_INTERVAL}, so no stretch of street is counted as a change in life expectancy."


def no_interval_power() -> str:
    """The power sentence without margins of error."""
    return f"{no_interval(start=True)}, so no change can be tested, however large."


def no_interval_scope() -> str:
    """What the printed claims hold over, without margins of error: nothing is claimed."""
    return f"{no_interval(start=True)}: nothing below is tested, and no change, count or rank is claimed."


def no_interval_console() -> str:
    """The console's list of stories without margins of error."""
    return f"No story is told: {NO_INTERVAL}."


def no_interval_title(measured: str) -> str:
    """The console's first line (what was measured) without margins of error."""
    return f"{measured}; {NO_INTERVAL}"


def no_interval_methods(
    voice: Voice,
    labels: Labels,
    n_routes: int,
    n_stops: int,
    method: str,
    summary: object,
    n_doubtful: int,
) -> str:
    """The readers' note (``methods.md``) of a run whose source gives no margins of error."""
    where, what = _methods_where_what(voice, labels)
    how = _stop_takes(method, "area")
    lines = [
        f"# How these numbers were made: {where}",
        "",
        f"**What was measured.** {n_routes:,} routes and {n_stops:,} stops of {labels.feed or 'the feed'}. Each stop "
        f"takes {how}: life expectancy at birth ({what or 'as published'}), a small-area estimate published without "
        "a margin of error. Estimates describe the people who live in an area over a period, not the people on the "
        "bus, and a difference between places is not evidence of its cause.",
        "",
        f"**{no_interval(start=True)}.** Without margins of error no interval could be computed, so no difference "
        "between two stops, two places or two routes could be tested: no sentence says that life expectancy falls "
        "or rises, no stretch of street is counted and no route is ranked. The estimates are shown as published; "
        "a difference between them may be chance.",
        "",
        f"**Estimates in doubt.** {n_doubtful:,} of the areas served have an estimate far from its neighbours' or "
        "set apart by its publisher.",
        "",
    ]
    return "\n".join(lines + _sources_lines(labels)) + "\n"
