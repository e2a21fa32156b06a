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
import numpy as np
import pandas as pd

from ..credits import Credit, Labels
from ..errors import AreasError
from ..schema import LE_PLAUSIBLE, WGS84


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
    """``areas`` as :class:`Areas`, its frame checked at the front door: itself, or a bare GeoDataFrame.

    A frame without ``le_se`` is a table without errors: ``le_se`` is added, empty. A frame
    in another CRS is put in EPSG:4326.

    Raises
    ------
    AreasError
        If it is neither; lacks ``area_id``, ``le`` or ``geometry``; has no CRS, or
        coordinates that do not fit its CRS (degrees labelled as metres, metres as
        degrees); holds life expectancies that are not numbers or lie outside
        ``LE_PLAUSIBLE`` years, or standard errors that are negative, 0 or infinite.
    """
    if isinstance(areas, Areas):
        frame = areas.frame
    elif isinstance(areas, gpd.GeoDataFrame):
        frame = areas
    else:
        raise AreasError(
            f"{param}= must be gradient.load_areas(...)'s result (or a GeoDataFrame with area_id, le, le_se, "
            f"geometry); got {type(areas).__name__}",
            param=param,
        )
    checked = _checked(frame, param)
    if isinstance(areas, Areas):
        return areas if checked is frame else replace(areas, frame=checked)
    return Areas(frame=checked)


def _checked(frame: Any, param: str) -> gpd.GeoDataFrame:
    """The frame of some areas, checked and in EPSG:4326 (itself when nothing needs changing)."""
    if not isinstance(frame, gpd.GeoDataFrame):
        raise AreasError(f"{param}.frame must be a GeoDataFrame; got {type(frame).__name__}", param=param)
    missing = [c for c in ("area_id", "le", "geometry") if c not in frame.columns]
    if missing:
        raise AreasError(
            f"{param}= lacks the column(s) {', '.join(missing)}; give gradient.load_areas(...)'s result, or a "
            "GeoDataFrame with area_id, le, geometry and (where the source has them) le_se",
            param=param,
        )
    if "le_se" not in frame.columns:  # a table without errors: every test says "untested"
        frame = frame.assign(le_se=float("nan"))
    for col in ("le", "le_se"):
        if not pd.api.types.is_numeric_dtype(frame[col]) or pd.api.types.is_bool_dtype(frame[col]):
            raise AreasError(f"{param}= column {col} must hold numbers (years); it is {frame[col].dtype}", param=param)
    le, se = frame["le"].astype(float), frame["le_se"].astype(float).where(frame["le"].notna())
    low, high = LE_PLAUSIBLE
    for bad, why in (
        (le.notna() & ((le < low) | (le > high)), f"life expectancy value(s) outside {low:g}-{high:g} years"),
        (se < 0, "negative standard error(s)"),
        (se == 0, "standard error(s) of 0 (no life table is exact)"),
        (np.isinf(se), "infinite standard error(s)"),
    ):
        if bad.any():
            i = int(np.asarray(bad, dtype=bool).argmax())
            raise AreasError(
                f"{param}= holds {int(bad.sum())} {why} (e.g. {le.iloc[i]:g} +/- {frame['le_se'].iloc[i]:g} for "
                f"{frame['area_id'].iloc[i]})",
                param=param,
            )
    if frame.crs is None:
        raise AreasError(
            f"{param}= has no CRS; set the one its coordinates are in (GeoDataFrame.set_crs), or read the "
            "boundaries with gradient.load_areas",
            param=param,
        )
    if frame.empty:
        return frame
    if frame.crs.is_projected:
        x0, y0, x1, y1 = frame.total_bounds
        if -180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90:
            raise AreasError(
                f"{param}= coordinates look like longitude/latitude degrees, but its CRS is "
                f"{frame.crs.to_string()} (metres); set the right CRS (GeoDataFrame.set_crs(..., allow_override=True))",
                param=param,
            )
    if frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(WGS84)
    x0, y0, x1, y1 = frame.total_bounds
    if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
        raise AreasError(
            f"{param}= coordinates do not fit its CRS: they are out of longitude/latitude range "
            f"(x {x0:.6g} to {x1:.6g}, y {y0:.6g} to {y1:.6g}); metres labelled as degrees? Set the right CRS",
            param=param,
        )
    return frame


__all__ = ["Areas", "as_areas"]
