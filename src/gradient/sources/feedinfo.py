"""What a GTFS feed says about itself: its publisher and the dates of its service, for credits.

A credit names the feed a reader could find again: "HART, GTFS feed, service 25 February to
30 June 2018". :func:`feed_period` reads the dates from ``feed_info.txt`` (the publisher's
own ``feed_start_date`` and ``feed_end_date``) or, without it, from the calendar (the first
``start_date`` and the last ``end_date`` of ``calendar.txt``, and ``calendar_dates.txt``'s
dates). Only these small tables are read, through the same archive limits as the feed.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from ..errors import FeedError
from ._gtfs_tables import members, read_text_table

TABLES = ("feed_info", "calendar", "calendar_dates")


def _dates(values: pd.Series) -> list[dt.date]:
    out = []
    for v in values.dropna().astype(str):
        try:
            out.append(dt.datetime.strptime(v.strip(), "%Y%m%d").date())
        except ValueError:
            continue  # a malformed date says nothing; the feed's checks report it
    return out


def _day(d: dt.date, year: bool = True) -> str:
    return f"{d.day} {d.strftime('%B')}" + (f" {d.year}" if year else "")


def period_words(start: dt.date, end: dt.date) -> str:
    """``service 25 February to 30 June 2018`` (the year once when both dates share it).

    Examples
    --------
    >>> period_words(dt.date(2018, 2, 25), dt.date(2018, 6, 30))
    'service 25 February to 30 June 2018'
    >>> period_words(dt.date(2023, 12, 3), dt.date(2024, 3, 1))
    'service 3 December 2023 to 1 March 2024'
    """
    if start == end:
        return f"service on {_day(start)}"
    return f"service {_day(start, start.year != end.year)} to {_day(end)}"


def feed_period(path: str | Path) -> str:
    """The dates of a GTFS feed's service in words, or ``""`` when the feed gives none.

    Parameters
    ----------
    path : str or Path
        A GTFS zip or folder.

    Returns
    -------
    str
        :func:`period_words` of ``feed_info.txt``'s dates, else of the calendar's first and
        last dates; ``""`` if neither has a readable date.
    """
    tables: dict[str, pd.DataFrame] = {}
    try:
        for name, opener in members(Path(path)):
            if name in TABLES:
                with opener() as fh:
                    tables[name] = read_text_table(fh)
    except (OSError, FeedError, ValueError, UnicodeDecodeError):
        return ""  # the feed's own reading reports what is wrong with it
    info = tables.get("feed_info")
    if info is not None and {"feed_start_date", "feed_end_date"} <= set(info.columns):
        start, end = _dates(info["feed_start_date"]), _dates(info["feed_end_date"])
        if start and end:
            return period_words(min(start), max(end))
    days: list[dt.date] = []
    if "calendar" in tables:
        cal = tables["calendar"]
        days += _dates(cal["start_date"]) if "start_date" in cal else []
        days += _dates(cal["end_date"]) if "end_date" in cal else []
    if "calendar_dates" in tables and "date" in tables["calendar_dates"]:
        days += _dates(tables["calendar_dates"]["date"])
    return period_words(min(days), max(days)) if days else ""
