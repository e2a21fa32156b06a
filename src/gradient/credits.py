"""Where every number comes from: each source credited as its licence requires, and the run's labels.

A :class:`Credit` names one source a run used (life expectancy, boundaries, area names, a
population, a second measure, the stops, the streets), with its licence and the notice
that licence asks for ("Contains OS data © Crown copyright and database right", "Powered
by TfL Open Data"), and any caveat a reader must see with it. :func:`known_credit` knows
the bundled data sets and the official releases whose layout the readers recognise; any
other file is credited by its name (give your own with ``Credit(...)``).

:class:`Labels` is what a run's titles, legends, sentences and credit lines need to know
about the numbers: the period, the sex, what an area is called, the second measure's name,
the feed's name and date, every credit and an optional byline. It is passed along
explicitly, never carried in ``DataFrame.attrs``.

This module imports nothing heavy.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

OGL = "Open Government Licence v3.0"
"""The licence of most UK official statistics and boundaries."""

OS_NOTICE = "Contains OS data © Crown copyright and database right"
"""The notice Ordnance Survey data (boundaries, TfL's coordinates) requires."""


@dataclass(frozen=True)
class Credit:
    """One source a run used, as its licence requires it to be credited.

    Attributes
    ----------
    role : str
        What it gave the run: ``life expectancy``, ``boundaries``, ``area names``,
        ``population``, ``second measure``, ``stops`` or ``streets``.
    source : str
        Who published what, e.g. ``"Office for National Statistics, life expectancy at
        birth by MSOA, England, 2009 to 2013"``.
    licence : str
        E.g. ``"Open Government Licence v3.0"`` (empty where none is stated).
    notice : str
        The notice the licence asks for, e.g. ``"Crown copyright 2015"``.
    note : str
        A caveat a reader must see with the source (e.g. how far its level is from the
        official series).
    short : str
        The source's name in a credit line under a chart or map (default ``source``); the
        notice and licence always follow it.
    """

    role: str
    source: str
    licence: str = ""
    notice: str = ""
    note: str = ""
    short: str = ""

    def short_text(self) -> str:
        """The credit as it stands in a chart's or map's credit line: name, notice and licence, no more."""
        extra = "; ".join(p for p in (self.notice, self.licence) if p)
        return (self.short or self.source) + (f" ({extra})" if extra else "")

    def text(self) -> str:
        """The credit as one line, e.g. ``Life expectancy: ONS ... (Crown copyright 2015; OGL v3.0).``."""
        extra = "; ".join(p for p in (self.notice, self.licence) if p)
        line = f"{self.role[:1].upper()}{self.role[1:]}: {self.source}" + (f" ({extra})" if extra else "")
        return line + "." + (f" {self.note}" if self.note else "")


OSM = Credit(
    "streets", "© OpenStreetMap contributors", "Open Database Licence (ODbL)", short="© OpenStreetMap contributors"
)
"""The credit of every OpenStreetMap street network (the ODbL asks for this attribution)."""

KNOWN: dict[str, Credit] = {
    "ons_msoa_le_2009_2013": Credit(
        "life expectancy",
        "Office for National Statistics, life expectancy at birth by MSOA, England, 2009 to 2013",
        OGL,
        "Crown copyright 2015",
        short="ONS life expectancy by MSOA, 2009-2013",
    ),
    "ons_msoa_le": Credit(
        "life expectancy",
        "life expectancy at birth by MSOA, England and Wales, 2016 to 2020, attributed to an ONS data request "
        "(REQ3292); its provenance could not be confirmed",
        OGL + " (assumed)",
        short="MSOA life expectancy, 2016-2020 (data request REQ3292, provenance unconfirmed)",
    ),
    "ohid_msoa_le_2015_2019": Credit(
        "life expectancy",
        "Office for Health Improvement and Disparities, Local Health, life expectancy at birth by MSOA, "
        "England, 2015 to 2019",
        OGL,
        "Crown copyright",
        short="OHID Local Health life expectancy by MSOA, 2015-2019",
    ),
    "usaleep": Credit(
        "life expectancy",
        "CDC National Center for Health Statistics, U.S. Small-area Life Expectancy Estimates Project "
        "(USALEEP), 2010 to 2015",
        "public domain",
        short="CDC/NCHS USALEEP, 2010-2015",
    ),
    "msoa_boundaries": Credit(
        "boundaries",
        "Office for National Statistics, MSOA 2011 boundaries (generalised)",
        OGL,
        OS_NOTICE,
        short="ONS MSOA boundaries",
    ),
    "hillsborough_tracts": Credit(
        "boundaries", "US Census Bureau, TIGER/Line 2010 census tracts", "public domain", short="US Census TIGER/Line"
    ),
    "msoa_names": Credit(
        "area names",
        "House of Commons Library, MSOA Names 1.10",
        "Open Parliament Licence v3.0",
        "contains Parliamentary information",
        short="House of Commons Library MSOA Names",
    ),
    "us_tract_population": Credit(
        "population", "US Census Bureau, 2010 census population by tract", "public domain", short="US Census 2010"
    ),
    "imd2019_msoa": Credit(
        "second measure",
        "Ministry of Housing, Communities and Local Government, English Indices of Deprivation 2019, "
        "aggregated to MSOAs by the humaniverse/IMD project",
        OGL,
        "Crown copyright 2019",
        short="MHCLG English Indices of Deprivation 2019",
    ),
    "tfl_sequences": Credit(
        "stops",
        "Transport for London, bus sequences, July 2018",
        "Powered by TfL Open Data",
        OS_NOTICE + "s 2018",
        short="TfL bus sequences and route lines, July 2018",
    ),
    "tfl_route_lines": Credit(
        "route lines",
        "Transport for London, bus route lines, July 2018",
        "Powered by TfL Open Data",
        OS_NOTICE + "s 2018",
        short="TfL bus sequences and route lines, July 2018",
    ),
    "hart_gtfs": Credit(
        "stops",
        "Hillsborough Area Regional Transit Authority (HART), GTFS feed, service 25 February to 20 October 2018",
        "published for public use",
        short="HART GTFS, 2018",
    ),
    "westminster_drive": OSM,
    "city_of_london_drive": OSM,
    "moorgate_walk": OSM,
}
"""Credits of the bundled data sets (:mod:`gradient.datasets`), by data set name."""

LAYOUT_CREDITS: dict[str, Credit] = {
    "usaleep": KNOWN["usaleep"],
    "ons-msoa-2009-2013": KNOWN["ons_msoa_le_2009_2013"],
    "ons-msoa-req3292": KNOWN["ons_msoa_le"],
}
"""Credits of the official releases the readers recognise by their layout, wherever the file lives."""


def known_credit(path: str | Path | None, role: str, layout: str = "") -> Credit:
    """The credit of a source file: a bundled data set's, a recognised release's, or its file name.

    Parameters
    ----------
    path : str or Path or None
        The file the run read.
    role : str
        What it gave the run (see :class:`Credit`).
    layout : str, optional
        A layout the reader recognised (a key of :data:`LAYOUT_CREDITS`).

    Returns
    -------
    Credit

    Examples
    --------
    >>> known_credit("data/raw/usa/US_A.CSV", "life expectancy").source.startswith("CDC")
    True
    >>> known_credit("my_table.csv", "life expectancy").source
    'my_table.csv'
    """
    from .datasets import FILES

    if path is not None:
        name = Path(path).name
        for key, rel in FILES.items():
            if Path(rel).name == name and key in KNOWN:
                return replace(KNOWN[key], role=role)
    if layout in LAYOUT_CREDITS:
        return replace(LAYOUT_CREDITS[layout], role=role)
    return Credit(role, Path(path).name if path is not None else "unknown source")


@dataclass
class Labels:
    """What the numbers of a run are, for titles, legends, sentences and credit lines.

    Attributes
    ----------
    le_source : str
        A short name of the life expectancy source for titles, e.g. ``"ONS"``.
    period : str
        Years the estimates cover, e.g. ``"2009-2013"``.
    sex : str
        ``"persons"``, ``"male"`` or ``"female"`` (empty when the table does not say).
    feed : str
        The transit source as readers know it, e.g. ``"TfL bus sequences, July 2018"``.
    context : str
        The second measure's name with its units and direction.
    unit : str
        What an area is called, plural, e.g. ``"MSOAs"`` or ``"census tracts"``.
    place : str
        Where the network is, for sentences ("In London, ..."); empty when unknown.
    credits : tuple of Credit
        Every source the run used.
    byline : str
        An optional byline for maps and charts.
    intervals : bool
        Whether the life expectancy source gives margins of error (standard errors or
        limits). Without them no interval can be computed, nothing is tested, and every
        phrase says so (:func:`gradient.story.words.no_interval`).
    """

    le_source: str = ""
    period: str = ""
    sex: str = "persons"
    feed: str = ""
    context: str = ""
    unit: str = "areas"
    place: str = ""
    credits: tuple[Credit, ...] = field(default_factory=tuple)
    byline: str = ""
    intervals: bool = True

    @property
    def source_line(self) -> str:
        """One line naming the sources and period, for maps and charts."""
        le = " ".join(p for p in (self.le_source, self.period) if p)
        return "Sources: " + "; ".join(p for p in (le, self.feed) if p)

    def with_credit(self, credit: Credit) -> Labels:
        """A copy with one more credit (a source of the same role and text is not repeated)."""
        if credit in self.credits:
            return self
        return replace(self, credits=self.credits + (credit,))


__all__ = ["KNOWN", "LAYOUT_CREDITS", "OGL", "OS_NOTICE", "Credit", "Labels", "known_credit"]
