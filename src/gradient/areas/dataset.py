"""Small areas with life expectancy, and what is known of where the numbers come from.

:class:`Areas` is what :func:`gradient.load_areas` returns and every later stage takes: the
areas themselves (:attr:`Areas.frame`, a GeoDataFrame with ``AREA_COLUMNS``) beside the
period, sex, unit and credits of the numbers, passed along explicitly (never in
``DataFrame.attrs``, which pandas calls experimental and which a merge drops).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import geopandas as gpd

from ..credits import Credit, Labels
from ..errors import InputError


@dataclass
class Areas:
    """Small areas with life expectancy, and what the numbers are.

    Attributes
    ----------
    frame : geopandas.GeoDataFrame
        ``area_id`` (string), ``le`` and ``le_se`` (years; NaN where unknown, never 0),
        ``geometry`` (EPSG:4326), and where known ``population``, ``area_name``,
        ``context`` (a second measure) and ``le_doubt`` (the publisher's own doubt about
        an estimate, e.g. ``implausible``).
    period : str
        Years the estimates cover, e.g. ``"2009-2013"``.
    sex : str
        ``"persons"``, ``"male"`` or ``"female"``; empty when the table does not say.
    unit : str
        What an area is called, plural (``"MSOAs"``, ``"census tracts"``, ``"areas"``).
    le_source : str
        A short name of the life expectancy source for titles, e.g. ``"ONS"``.
    credits : tuple of Credit
        The sources of the areas: life expectancy, boundaries, names, population, a
        second measure.
    context_name : str
        The second measure's name with its units and direction.
    reference : float
        The whole table's median life expectancy (years), a fixed centre for colour
        scales shared by several runs; NaN when unknown.
    reference_label : str
        How to name :attr:`reference` in a legend, e.g. ``"median of the 6,790 MSOAs in
        the table"``.
    """

    frame: gpd.GeoDataFrame
    period: str = ""
    sex: str = ""
    unit: str = "areas"
    le_source: str = ""
    credits: tuple[Credit, ...] = field(default_factory=tuple)
    context_name: str = ""
    reference: float = math.nan
    reference_label: str = ""

    def __len__(self) -> int:
        return len(self.frame)

    def replace(self, **changes: Any) -> Areas:
        """A copy with some fields changed (e.g. a new ``frame``)."""
        return replace(self, **changes)

    def with_credit(self, credit: Credit) -> Areas:
        """A copy with one more credit, replacing an earlier one of the same role."""
        kept = tuple(c for c in self.credits if c.role != credit.role)
        return replace(self, credits=kept + (credit,))

    def labels(self, feed: str = "", feed_credits: tuple[Credit, ...] = (), place: str = "") -> Labels:
        """The :class:`~gradient.credits.Labels` of a run of a feed against these areas."""
        credits = tuple(feed_credits) + tuple(self.credits)
        return Labels(
            le_source=self.le_source,
            period=self.period,
            sex=self.sex,
            feed=feed,
            context=self.context_name if "context" in self.frame else "",
            unit=self.unit,
            place=place,
            credits=credits,
            intervals=bool(self.frame["le_se"].notna().any()),
        )


def as_areas(areas: Any, param: str = "areas") -> Areas:
    """``areas`` as :class:`Areas`: itself, or a bare GeoDataFrame with nothing known of its source.

    A GeoDataFrame without ``le_se`` is a table without errors: ``le_se`` is added, empty.

    Raises
    ------
    InputError
        If it is neither, or lacks ``area_id``, ``le`` or ``geometry``.
    """
    if isinstance(areas, Areas):
        return areas
    if isinstance(areas, gpd.GeoDataFrame):
        missing = [c for c in ("area_id", "le", "geometry") if c not in areas.columns]
        if missing:
            raise InputError(
                f"{param}= lacks the column(s) {', '.join(missing)}; give gradient.load_areas(...)'s result, or a "
                "GeoDataFrame with area_id, le, geometry and (where the source has them) le_se",
                param=param,
            )
        if "le_se" not in areas.columns:  # a table without errors: every test says "untested"
            areas = areas.assign(le_se=float("nan"))
        return Areas(frame=areas)
    raise InputError(
        f"{param}= must be gradient.load_areas(...)'s result (or a GeoDataFrame with area_id, le, le_se, geometry); "
        f"got {type(areas).__name__}",
        param=param,
    )


__all__ = ["Areas", "as_areas"]
