"""Small areas with life expectancy: boundary files joined to life expectancy tables.

:func:`load_areas` returns :class:`~gradient.areas.dataset.Areas`: a GeoDataFrame with
``AREA_COLUMNS`` (``area_id`` as a string, ``le`` and ``le_se`` in years, ``geometry`` in
EPSG:4326) beside what the numbers are (period, sex, credits, the table's level).
Every boundary is kept, so that a stop in an area without an estimate is assigned
to that area and gets a *missing* value, never 0 and never a neighbour's value.

Tables are read as states publish them (:mod:`gradient._tables`): in whatever
encoding they were saved, from whichever sheet of a workbook holds the header, with
suppression markers (:data:`SUPPRESSION_MARKERS`) read as missing and counted, and
every way an area loses its value said in a warning with counts.
"""

from __future__ import annotations

import logging
import re
import warnings
from dataclasses import replace as dc_replace
from pathlib import Path
from typing import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import _archive
from .._tables import SUPPRESSION_MARKERS, read_table  # noqa: F401  (SUPPRESSION_MARKERS: documented here)
from ..credits import known_credit
from ..errors import AreasError, GradientWarning
from ..options import Z95
from ..schema import AREA_COLUMNS, OPTIONAL_AREA_COLUMNS, WGS84
from ._boundaries import clean_geometries, settle_crs
from ._crs import crs_of
from ._letable import check_table, say_encoding, say_lost_values
from .dataset import Areas
from .reference import check_level

log = logging.getLogger(__name__)

ID_CANDIDATES = {
    "usaleep": ["GEOID10", "GEOID", "census_tract_GEOID", "GEOID20"],
    "ons-msoa": ["MSOA2011", "MSOA11CD", "msoa11cd", "MSOA21CD", "msoa21cd"],
    "csv": [],
}
"""Boundary id columns tried, in order, when the caller names none."""


def read_boundaries(
    path: str | Path,
    id_col: str | None = None,
    crs: str | None = None,
    candidates: Sequence[str] = (),
    name_col: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a boundary file GeoPandas can read, with its id column and a known CRS.

    Parameters
    ----------
    path : str or Path
        GeoJSON, TopoJSON, GeoPackage, shapefile, MapInfo or any file GDAL reads.
    id_col : str, optional
        The column holding each area's id. Default: the first of ``candidates``
        present in the file.
    crs : str, optional
        CRS of a file that declares none (anything pyproj reads, e.g.
        ``"EPSG:27700"``). GeoJSON and TopoJSON are WGS84 longitude/latitude by their
        specifications and need none; for other formats an undeclared CRS is an
        error unless this is given. A file that declares another CRS is an error.
    candidates : sequence of str
        Id column names to try when ``id_col`` is not given.
    name_col : str, optional
        A column of names readers know, kept as ``area_name``.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``area_id`` (string) and ``geometry`` (EPSG:4326), and ``area_name``
        with ``name_col``. Invalid polygons
        are repaired with :func:`shapely.make_valid` and counted in a warning;
        empty geometries are dropped with a warning.

    Raises
    ------
    AreasError
        If the file cannot be read, holds no geometries or features that are not
        polygons, the id column is missing, or the CRS is unknown, differs from the
        one the file declares, or does not fit the coordinates.
    """
    path = Path(path)
    given = crs_of(crs, "crs")
    if not path.exists():
        raise AreasError("no such boundary file", path)
    _archive.check_packed(path, AreasError)
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types; all mean "cannot read"
        raise AreasError(f"cannot read as a boundary file ({exc})", path) from exc
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.isna().all():
        raise AreasError(
            "not a boundary file: it holds no geometries (columns: "
            f"{', '.join(str(c) for c in gdf.columns if c != 'geometry')}); give polygons, e.g. GeoJSON or "
            "GeoPackage",
            path,
        )
    if gdf.empty:
        raise AreasError("the boundary file holds no features", path)
    if id_col is None:
        id_col = next((c for c in candidates if c in gdf.columns), None)
        if id_col is None:
            raise AreasError(
                "cannot tell which column holds the area ids; name it with --area-id "
                f"(columns: {', '.join(map(str, gdf.columns.drop('geometry')))})",
                path,
            )
    if id_col not in gdf.columns:
        raise AreasError(f"no column {id_col!r} (columns: {', '.join(map(str, gdf.columns.drop('geometry')))})", path)
    if name_col is not None and name_col not in gdf.columns:
        raise AreasError(
            f"no column {name_col!r} for the area names (columns: {', '.join(map(str, gdf.columns.drop('geometry')))})",
            path,
            param="area_name",
        )
    gdf = settle_crs(gdf, given, crs, path)
    geom, empty, invalid = clean_geometries(gdf, path)
    columns = {"area_id": gdf[id_col].astype("string").str.strip().to_numpy()}
    if name_col is not None:
        columns["area_name"] = gdf[name_col].astype("string").str.strip().to_numpy()
    out = gpd.GeoDataFrame(columns, geometry=list(geom), crs=WGS84)
    return out[~empty].reset_index(drop=True)


def read_le_table(
    path: str | Path,
    id_col: str,
    le_col: str,
    se_col: str | None = None,
    ci_cols: tuple[str, str] | None = None,
    pop_col: str | None = None,
    le_encoding: str | None = None,
) -> pd.DataFrame:
    """Read any CSV or Excel table of life expectancy by area, as published.

    Parameters
    ----------
    path : str or Path
        Delimited text (comma, tab, semicolon or bar, judged from the header line)
        or a workbook (``.xlsx``, ``.xls``, ``.ods``...). The header is found by its
        column names: below title lines, and in a workbook on whichever sheet holds
        it (cover and notes sheets are passed over); notes below the table are left
        out (:func:`gradient._tables.read_table`).
    id_col, le_col : str
        Columns of the area id and life expectancy at birth (years).
    se_col : str, optional
        Column of the standard error (years).
    ci_cols : (str, str), optional
        Columns of the lower and upper 95% limits; the standard error is then
        ``(upper - lower) / (2 * 1.959964)``, which assumes a symmetric normal
        interval.
    pop_col : str, optional
        Column of the population (or person-years) behind each estimate, used to
        weight buffer catchments by population density.
    le_encoding : str, optional
        The text file's encoding (e.g. ``"cp1252"``); default detected: UTF-8 with
        or without a byte-order mark, UTF-16 or UTF-32, else Windows-1252 (with a
        warning). Workbooks record their own.

    Returns
    -------
    pandas.DataFrame
        Columns ``area_id`` (string), ``le`` and ``le_se`` (float years; ``le_se``
        NaN when the table has no errors), plus ``population`` when ``pop_col`` is
        given; one row per area. Rows with a blank value or a suppression marker
        (:data:`SUPPRESSION_MARKERS`) are kept with ``le`` NaN.

    Raises
    ------
    AreasError
        If the file cannot be read or decoded, a column is missing, an id appears
        twice with different values, a value is not a number (nor blank, nor a
        marker), no life expectancy is a number, or one is outside
        ``LE_PLAUSIBLE`` years (:func:`gradient.areas._letable.check_table`).

    Warns
    -----
    GradientWarning
        With counts: suppression markers read as missing, ids repeated with
        identical values (kept once), text that is not UTF-8 (the encoding used).
    """
    path = Path(path)
    if not path.exists():
        raise AreasError("no such life expectancy table", path)
    wanted = [id_col, le_col] + [c for c in (se_col, pop_col) if c] + (list(ci_cols) if ci_cols else [])
    raw, info = read_table(path, wanted, id_col=id_col, value_col=le_col, encoding=le_encoding)
    say_encoding(info, le_encoding, path)
    return check_table(raw, id_col, le_col, se_col, ci_cols, pop_col, path)


def read_usaleep(path: str | Path, le_encoding: str | None = None) -> pd.DataFrame:
    """Read a USALEEP table (``US_A.CSV`` or a per-state ``XX_A.CSV``).

    Tract codes that lost their leading zeros (a spreadsheet round trip) are padded
    back to 11 digits.

    Parameters
    ----------
    path : str or Path
        The table (read as :func:`read_le_table` reads one).
    le_encoding : str, optional
        Its encoding (default detected).

    Returns
    -------
    pandas.DataFrame
        Columns ``area_id`` (11-digit 2010 tract GEOID), ``le`` (``e(0)``, years) and
        ``le_se`` (``se(e(0))``, years).
    """
    table = read_le_table(path, "Tract ID", "e(0)", se_col="se(e(0))", le_encoding=le_encoding)
    table["area_id"] = _pad_tract(table["area_id"])
    return table


ONS_SEXES = {"persons": "Persons", "male": "Males", "female": "Females"}
"""``--sex`` choices and the ``Sex`` values of the ONS release."""

ONS_COLUMNS = {
    "id": "Code",
    "sex": "Sex",
    "le": "Life Expectancy at birth (in years)",
    "low": "Lower 95% confidence interval",
    "high": "Upper 95% confidence interval",
    "population": "Population",
    "period": "Period",
}
"""Columns of the 2016-2020 MSOA life expectancy layout (REQ3292) as published."""

ONS_2009_2013_SHEETS = {"male": "MSOA_males", "female": "MSOA_females"}
"""Sheets of ONS's 2009-2013 MSOA reference table, by sex (it gives no persons figures)."""

ONS_IMPLAUSIBLE_SHEET = "Implausible LE"
"""The sheet where ONS set apart the estimates it judged implausible (its name ends in a space)."""


def read_ons_msoa(path: str | Path, sex: str = "persons", le_encoding: str | None = None) -> pd.DataFrame:
    """Read an ONS MSOA life expectancy table for one sex, in either published layout.

    - **ONS's 2009-2013 reference table** (``.xls``, official, Crown copyright 2015):
      sheets ``MSOA_males`` and ``MSOA_females`` below a title block, and a sheet of the
      estimates ONS judged implausible. Males and females only. The implausible ones are
      kept, with ``le_doubt`` ``implausible``: the publisher's own doubt becomes the
      tool's, and no claim may lead on them.
    - **The 2016-2020 layout** (REQ3292, ``.xlsx`` or CSV): one row per MSOA and sex
      (``Males``, ``Females``, ``Persons``) with the population (person-years) behind each
      estimate; suppressed estimates are blank or a marker such as ``[c]`` (see
      :data:`SUPPRESSION_MARKERS`).

    The standard error is derived from the 95% limits as ``(upper - lower) / (2 *
    1.959964)``: ONS computes these limits from a normal approximation (Chiang's method),
    so the interval is symmetric and this recovers the standard error it was built from.

    Parameters
    ----------
    path : str or Path
        The workbook or a CSV export with the 2016-2020 layout's columns.
    sex : {'persons', 'male', 'female'}, default 'persons'
    le_encoding : str, optional
        A CSV export's encoding (default detected).

    Returns
    -------
    pandas.DataFrame
        ``area_id`` (MSOA code, e.g. ``E02000001``), ``le`` and ``le_se`` (years; NaN
        where suppressed), ``population`` (person-years, 2016-2020 layout), ``le_doubt``
        (``implausible`` where the publisher said so, else empty), ``period`` (e.g.
        ``"2009-2013"``) and ``suppressed``.

    Raises
    ------
    AreasError
        If ``sex`` is unknown or the layout has no figures for it, a column is missing, or
        the file has no row for the sex (and as :func:`read_le_table`).
    """
    if sex not in ONS_SEXES:
        raise AreasError(f"unknown sex {sex!r}; choose one of {', '.join(ONS_SEXES)}", path, param="sex")
    path = Path(path)
    if not path.exists():
        raise AreasError("no such life expectancy table", path)
    if path.suffix.lower() in (".xls", ".xlsx", ".xlsm", ".ods"):
        sheets = _sheet_names(path)
        if set(ONS_2009_2013_SHEETS.values()) <= {s.strip() for s in sheets}:
            return _read_ons_2009_2013(path, sex, sheets)
    raw, info = read_table(
        path, list(ONS_COLUMNS.values()), id_col=ONS_COLUMNS["id"], value_col=ONS_COLUMNS["le"], encoding=le_encoding
    )
    say_encoding(info, le_encoding, path)
    missing = [c for c in ONS_COLUMNS.values() if c not in raw.columns]
    if missing:
        raise AreasError(
            f"not an ONS MSOA life expectancy table: no column(s) {', '.join(map(repr, missing))} (the 2016-2020 "
            f"layout), nor the sheets {', '.join(ONS_2009_2013_SHEETS.values())} (the 2009-2013 reference table)",
            path,
        )
    rows = raw[raw[ONS_COLUMNS["sex"]].astype("string").str.strip() == ONS_SEXES[sex]]
    if rows.empty:
        raise AreasError(f"no rows for Sex {ONS_SEXES[sex]!r}", path)
    table = check_table(
        rows,
        ONS_COLUMNS["id"],
        ONS_COLUMNS["le"],
        None,
        (ONS_COLUMNS["low"], ONS_COLUMNS["high"]),
        ONS_COLUMNS["population"],
        path,
    )
    periods = rows[ONS_COLUMNS["period"]].dropna().astype(str).unique()
    table["le_doubt"] = ""
    table["period"] = "; ".join(p.replace(" to ", "-") for p in periods)
    return table


def _sheet_names(path: Path) -> list[str]:
    from .._extras import require

    require("spreadsheets", f"reading the workbook {path.name}")
    from python_calamine import CalamineWorkbook

    try:
        return list(CalamineWorkbook.from_path(str(path)).sheet_names)
    except Exception as exc:  # calamine raises its own types for damaged or foreign files
        raise AreasError(f"cannot read the workbook ({exc})", path) from exc


def _ons_sheet(path: Path, name: str, sheets: list[str], first: str, le_header: str) -> tuple[list[str], list[list]]:
    """A sheet's header (trimmed) and its data rows (those whose first cell is an English MSOA code)."""
    from python_calamine import CalamineWorkbook

    sheet = next(s for s in sheets if s.strip() == name)
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()
    at = next((i for i, r in enumerate(rows[:40]) if r and str(r[0]).strip() == first), None)
    if at is None or le_header not in [str(c).strip() for c in rows[at]]:
        raise AreasError(f"sheet {sheet!r} has no header row with {first!r} and {le_header!r}", path)
    header = [str(c).strip() for c in rows[at]]
    data = [r for r in rows[at + 1 :] if r and isinstance(r[0], str) and re.fullmatch(r"E02\d{6}", r[0].strip())]
    return header, data


def _read_ons_2009_2013(path: Path, sex: str, sheets: list[str]) -> pd.DataFrame:
    """ONS's 2009-2013 MSOA reference table (see :func:`read_ons_msoa`)."""
    if sex not in ONS_2009_2013_SHEETS:
        raise AreasError(
            "ONS's 2009-2013 MSOA table gives males and females separately, not persons: choose sex='male' or "
            "sex='female'",
            path,
            param="sex",
        )
    header, data = _ons_sheet(path, ONS_2009_2013_SHEETS[sex], sheets, "MSOA Codes", "LE (Years)")
    i = header.index("LE (Years)")  # HLE comes first, with limits of the same names: take LE's, after it
    if not (header[i + 1].startswith("Lower") and header[i + 2].startswith("Upper")):
        raise AreasError("the LE (Years) column is not followed by its lower and upper 95% limits", path)
    raw = pd.DataFrame(
        {
            "id": [str(r[0]).strip() for r in data],
            "le": [r[i] for r in data],
            "low": [r[i + 1] for r in data],
            "high": [r[i + 2] for r in data],
        },
        dtype=object,
    )
    table = check_table(raw, "id", "le", None, ("low", "high"), None, path)
    table["le_doubt"] = ""
    if any(s.strip() == ONS_IMPLAUSIBLE_SHEET for s in sheets):
        head, rows = _ons_sheet(path, ONS_IMPLAUSIBLE_SHEET, sheets, "MSOA Codes", "LE (Years)")
        j, k = head.index("LE (Years)"), head.index("Sex")
        keep = [r for r in rows if str(r[k]).strip().lower() == sex]
        if keep:
            le = np.array([r[j] for r in keep], float)
            se = (np.array([r[j + 2] for r in keep], float) - np.array([r[j + 1] for r in keep], float)) / (2 * Z95)
            flagged = pd.DataFrame(
                {
                    "area_id": [str(r[0]).strip() for r in keep],
                    "le": le,
                    "le_se": se,
                    "suppressed": False,
                    "le_doubt": "implausible",
                }
            )
            table = pd.concat([table[~table["area_id"].isin(flagged["area_id"])], flagged], ignore_index=True)
    table["period"] = "2009-2013"
    return table


def _pad_tract(ids: pd.Series) -> pd.Series:
    """Pad all-digit tract codes to 11 digits."""
    digits = ids.str.fullmatch(r"\d{1,11}").fillna(False)
    return ids.where(~digits, ids.str.zfill(11))


def join_areas(
    boundaries: gpd.GeoDataFrame,
    table: pd.DataFrame,
    boundaries_path: str | Path | None = None,
    table_path: str | Path | None = None,
) -> gpd.GeoDataFrame:
    """Join a life expectancy table to boundaries by ``area_id``.

    Every boundary is kept; those without a row in the table get ``le`` NaN. Ids
    found on one side only are reported as a :class:`GradientWarning` with counts
    and examples.

    Returns
    -------
    geopandas.GeoDataFrame
        ``AREA_COLUMNS``: ``area_id``, ``le`` (years), ``le_se`` (years), ``geometry``,
        plus ``population`` and ``le_doubt`` where the table has them.

    Raises
    ------
    AreasError
        If boundary ids are duplicated or no id matches.
    """
    dup = boundaries["area_id"][boundaries["area_id"].duplicated()]
    if len(dup):
        raise AreasError(
            f"{dup.nunique()} area id(s) appear on more than one feature (e.g. {', '.join(dup.unique()[:3])})",
            boundaries_path,
        )
    # Sets of the few boundary ids, never of the (often national) table's: its ids stay in arrays.
    left = set(boundaries["area_id"].dropna())
    right = pd.Index(table["area_id"].dropna().unique())
    both = left & set(right[right.isin(list(left))])
    if not both:
        raise AreasError(
            f"no area id matches the boundaries (boundary ids look like {sorted(left)[:2]}, "
            f"table ids like {list(np.sort(right.to_numpy(dtype=object))[:2])}); check the id columns",
            table_path,
        )
    only_b = sorted(left - both)
    if only_b:
        warnings.warn(
            f"{len(only_b)} of {len(left)} areas in {boundaries_path or 'the boundaries'} have no row in "
            f"{table_path or 'the table'} and stay missing (e.g. {', '.join(only_b[:3])})",
            GradientWarning,
            stacklevel=2,
        )
    if log.isEnabledFor(logging.INFO) and len(right) > len(both):
        only_t = np.sort(right[~right.isin(list(both))].to_numpy(dtype=object))
        log.info("%d table rows have no boundary (e.g. %s)", len(only_t), ", ".join(only_t[:3]))
    out = boundaries.merge(table, on="area_id", how="left")
    suppressed = table.loc[table["suppressed"], "area_id"] if "suppressed" in table else pd.Series(dtype="string")
    say_lost_values(out, both, list(suppressed), boundaries_path, table_path)
    extra = [c for c in OPTIONAL_AREA_COLUMNS if c in out.columns]
    result = gpd.GeoDataFrame(out[AREA_COLUMNS + extra], geometry="geometry", crs=WGS84)
    if "le_doubt" in result:
        result["le_doubt"] = result["le_doubt"].fillna("").astype(str)
    return result


LAYOUTS = {"usaleep": ("USALEEP", "census tracts"), "ons-msoa": ("ONS", "MSOAs"), "csv": ("", "areas")}
"""Short source name and what an area is called, by ``le_format``."""


def load_areas(
    boundaries: str | Path,
    table: str | Path,
    le_format: str = "csv",
    area_id: str | None = None,
    areas_crs: str | None = None,
    le_id: str | None = None,
    le_col: str | None = None,
    le_se_col: str | None = None,
    le_ci_cols: tuple[str, str] | None = None,
    sex: str = "persons",
    le_encoding: str | None = None,
    area_name: str | None = None,
    le_pop_col: str | None = None,
    bundled: bool = True,
    le_source: str = "",
    le_period: str = "",
    names_lang: str = "en",
) -> Areas:
    """Read boundaries and a life expectancy table in one of the known formats and join them.

    Parameters
    ----------
    boundaries, table : str or Path
        The boundary file and the life expectancy table.
    le_format : {'usaleep', 'ons-msoa', 'csv'}
        ``usaleep``: CDC/NCHS USALEEP ``*_A.CSV``; ``ons-msoa``: an ONS MSOA table in
        either published layout (see :func:`read_ons_msoa`); ``csv``: any table, with the
        columns named by ``le_id``, ``le_col`` and ``le_se_col`` or ``le_ci_cols``.
    area_id : str, optional
        Id column of the boundary file (default: a known name, see ``ID_CANDIDATES``).
    areas_crs : str, optional
        CRS of a boundary file that declares none.
    le_id, le_col, le_se_col, le_ci_cols : str, optional
        For ``csv``: the id, life expectancy, standard error or 95% limit columns.
    sex : {'persons', 'male', 'female'}, default 'persons'
        For ``ons-msoa`` (the 2009-2013 table has males and females only).
    le_encoding : str, optional
        The encoding of a text ``table`` (default detected, see
        :func:`read_le_table`).
    area_name : str, optional
        A column of the boundary file holding names readers know (``area_name``).
    le_pop_col : str, optional
        For ``csv``: a column of the population behind each estimate (``population``),
        so that catchments weight areas by where people live.
    bundled : bool, default True
        Add what the bundled data knows of these areas: England's MSOA names (House of
        Commons Library) for ``ons-msoa``, and the 2010 census population of every US
        tract for ``usaleep`` (USALEEP has no population column); see
        :mod:`gradient.areas.attributes`.
    le_source, le_period : str, optional
        The life expectancy source's name and period, for a ``csv`` table (the known
        formats name their own).
    names_lang : {'en', 'cy', 'both'}, default 'en'
        The language of the bundled MSOA names of England and Wales (``ons-msoa``): English,
        Welsh where an MSOA has a Welsh name (Wales's), or both
        (:func:`gradient.areas.attributes.add_msoa_names`).

    Returns
    -------
    Areas
        The areas (``frame``: ``AREA_COLUMNS``, see :func:`join_areas`, with
        ``population`` and ``area_name`` where known) and what they are: period, sex,
        unit, the credits of the table and the boundaries, and the whole table's median.

    Warns
    -----
    GradientWarning
        Where the table's level is more than a year from the official series for its
        period (:func:`gradient.areas.reference.check_level`); the gap is also in its
        credit.
    """
    crs_of(areas_crs, "areas_crs")
    from .attributes import NAMES_LANGUAGES

    if names_lang not in NAMES_LANGUAGES:
        raise AreasError(f"names_lang={names_lang!r} is not one of {', '.join(NAMES_LANGUAGES)}", param="names_lang")
    layout = le_format
    if le_format == "usaleep":
        le = read_usaleep(table, le_encoding)
        period, sex_used = "2010-2015", "persons"
    elif le_format == "ons-msoa":
        le = read_ons_msoa(table, sex, le_encoding)
        period, sex_used = str(le["period"].iloc[0]), sex
        layout = "ons-msoa-2009-2013" if period == "2009-2013" else "ons-msoa-req3292"
        le = le.drop(columns="period")
    elif le_format == "csv":
        if not (le_id and le_col):
            raise AreasError("--le-format csv needs --le-id and --le-col", table)
        le = read_le_table(
            table, le_id, le_col, se_col=le_se_col, ci_cols=le_ci_cols, pop_col=le_pop_col, le_encoding=le_encoding
        )
        period, sex_used = le_period, ""
    else:
        raise AreasError(f"unknown life expectancy format {le_format!r}; choose one of usaleep, ons-msoa, csv", table)
    try:
        bounds = read_boundaries(boundaries, area_id, areas_crs, ID_CANDIDATES.get(le_format, []), area_name)
    except AreasError as exc:  # speak of load_areas' parameter, not read_boundaries'
        if exc.param != "crs":
            raise
        raise AreasError(exc.message.replace("crs=", "areas_crs="), exc.path, param="areas_crs") from exc
    if le_format == "usaleep":
        bounds["area_id"] = _pad_tract(bounds["area_id"])
    joined = join_areas(bounds, le, boundaries, table)
    short, unit = LAYOUTS[le_format]
    le_credit = known_credit(table, "life expectancy", layout)
    level = check_level(le, period or le_period, sex_used or "persons")
    if level is not None and level.in_doubt:
        warnings.warn(f"{table}: {level.note()}", GradientWarning, stacklevel=2)
        le_credit = dc_replace(le_credit, note=level.note())
    if le_format == "csv" and le_source:
        le_credit = dc_replace(le_credit, source=le_source)
    known = joined["le"].dropna()
    areas = Areas(
        frame=joined,
        period=period or le_period,
        sex=sex_used,
        unit=unit,
        le_source=le_source or short or Path(table).name,
        credits=(le_credit, known_credit(boundaries, "boundaries")),
        reference=float(known.median()),
        reference_label=f"median of the {len(known):,} {unit} in the table",
    )
    return _with_bundled(areas, le_format, names_lang) if bundled else areas


def _with_bundled(areas: Areas, le_format: str, names_lang: str = "en") -> Areas:
    """Bundled names (England's MSOAs) or populations (US tracts) for the formats they fit."""
    from .. import datasets
    from . import attributes

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GradientWarning)  # areas of other countries, or new codes
        try:
            if le_format == "ons-msoa" and "area_name" not in areas.frame:
                return attributes.add_msoa_names(areas, datasets.get_path("msoa_names"), names_lang)
            if le_format == "usaleep" and "population" not in areas.frame:
                return attributes.add_population(areas, datasets.get_path("us_tract_population"))
        except (AreasError, datasets.DataSetError):  # codes the bundled table does not know
            log.info("the bundled names or populations do not match these areas")
    return areas
