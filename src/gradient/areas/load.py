"""Small areas with life expectancy: boundary files joined to life expectancy tables.

The result of every loader is an ``areas`` GeoDataFrame with ``AREA_COLUMNS``:
``area_id`` (string), ``le`` (years), ``le_se`` (years), ``geometry`` (EPSG:4326).
Every boundary is kept, so that a stop in an area without an estimate is assigned
to that area and gets a *missing* value, never 0 and never a neighbour's value.

Tables are read as states publish them (:mod:`gradient._tables`): in whatever
encoding they were saved, from whichever sheet of a workbook holds the header, with
suppression markers (:data:`SUPPRESSION_MARKERS`) read as missing and counted, and
every way an area loses its value said in a warning with counts.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from .._tables import SUPPRESSION_MARKERS, read_table  # noqa: F401  (SUPPRESSION_MARKERS: documented here)
from ..errors import AreasError, GradientWarning
from ..schema import AREA_COLUMNS, OPTIONAL_AREA_COLUMNS, WGS84
from ._boundaries import clean_geometries, settle_crs
from ._crs import crs_of
from ._letable import check_table, say_encoding, say_lost_values

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
    out = out[~empty].reset_index(drop=True)
    out.attrs["n_repaired"] = int(invalid.sum())
    return out


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
"""Columns of the ONS MSOA life expectancy release (REQ3292) as published."""


def read_ons_msoa(path: str | Path, sex: str = "persons", le_encoding: str | None = None) -> pd.DataFrame:
    """Read the ONS MSOA life expectancy release (REQ3292 layout) for one sex.

    The release has one row per MSOA and sex (``Males``, ``Females``,
    ``Persons``) with life expectancy at birth, its lower and upper 95% limits and
    the population (person-years) behind it; suppressed estimates are blank (or,
    in ONS's current layout, a marker such as ``[c]``: see
    :data:`SUPPRESSION_MARKERS`).

    The standard error is derived from the 95% limits as
    ``(upper - lower) / (2 * 1.959964)``. ONS computes these limits from a
    normal approximation (Chiang's method), so the interval is symmetric and this
    recovers the standard error it was built from.

    Parameters
    ----------
    path : str or Path
        The workbook (``.xlsx``: the sheet whose header holds ``ONS_COLUMNS``,
        wherever it is, so cover and notes sheets and a title block above the
        header are passed over) or a CSV export with the same columns.
    sex : {'persons', 'male', 'female'}, default 'persons'
    le_encoding : str, optional
        A CSV export's encoding (default detected).

    Returns
    -------
    pandas.DataFrame
        ``area_id`` (MSOA code, e.g. ``E02000001``), ``le`` and ``le_se`` (years;
        NaN where suppressed), ``population`` (person-years). ``attrs["period"]``
        holds the period, e.g. ``"2016-2020"``.

    Raises
    ------
    AreasError
        If ``sex`` is unknown, a column is missing, or the file has no row for the sex
        (and as :func:`read_le_table`).
    """
    if sex not in ONS_SEXES:
        raise AreasError(f"unknown sex {sex!r}; choose one of {', '.join(ONS_SEXES)}", path, param="sex")
    path = Path(path)
    if not path.exists():
        raise AreasError("no such life expectancy table", path)
    raw, info = read_table(
        path, list(ONS_COLUMNS.values()), id_col=ONS_COLUMNS["id"], value_col=ONS_COLUMNS["le"], encoding=le_encoding
    )
    say_encoding(info, le_encoding, path)
    missing = [c for c in ONS_COLUMNS.values() if c not in raw.columns]
    if missing:
        raise AreasError(f"not an ONS MSOA life expectancy table: no column(s) {', '.join(map(repr, missing))}", path)
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
    table.attrs["period"] = "; ".join(p.replace(" to ", "-") for p in periods)
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
        plus ``population`` where the table has it. ``attrs`` carries the table's
        (e.g. ``period``).

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
    say_lost_values(out, both, table.attrs.get("suppressed_ids", ()), boundaries_path, table_path)
    extra = [c for c in OPTIONAL_AREA_COLUMNS if c in out.columns]
    result = gpd.GeoDataFrame(out[AREA_COLUMNS + extra], geometry="geometry", crs=WGS84)
    result.attrs.update({k: v for k, v in table.attrs.items() if k != "suppressed_ids"})
    return result


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
) -> gpd.GeoDataFrame:
    """Read boundaries and a life expectancy table in one of the known formats and join them.

    Parameters
    ----------
    boundaries, table : str or Path
        The boundary file and the life expectancy table.
    le_format : {'usaleep', 'ons-msoa', 'csv'}
        ``usaleep``: CDC/NCHS USALEEP ``*_A.CSV``; ``ons-msoa``: the ONS MSOA
        release (REQ3292 layout, see :func:`read_ons_msoa`); ``csv``: any table,
        with the columns named by ``le_id``, ``le_col`` and ``le_se_col`` or
        ``le_ci_cols``.
    area_id : str, optional
        Id column of the boundary file (default: a known name, see ``ID_CANDIDATES``).
    areas_crs : str, optional
        CRS of a boundary file that declares none.
    le_id, le_col, le_se_col, le_ci_cols : str, optional
        For ``csv``: the id, life expectancy, standard error or 95% limit columns.
    sex : {'persons', 'male', 'female'}, default 'persons'
        For ``ons-msoa``.
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

    Returns
    -------
    geopandas.GeoDataFrame
        ``AREA_COLUMNS`` (see :func:`join_areas`), with ``population`` and ``area_name``
        where known; ``attrs`` holds ``source``, ``period`` and ``sex`` for titles and
        legends, and where the names and populations came from.
    """
    crs_of(areas_crs, "areas_crs")
    if le_format == "usaleep":
        le = read_usaleep(table, le_encoding)
        le.attrs.update(source="CDC/NCHS USALEEP", period="2010-2015", sex="persons")
    elif le_format == "ons-msoa":
        le = read_ons_msoa(table, sex, le_encoding)
        le.attrs.update(source="ONS MSOA life expectancy (REQ3292)", sex=sex)
    elif le_format == "csv":
        if not (le_id and le_col):
            raise AreasError("--le-format csv needs --le-id and --le-col", table)
        le = read_le_table(
            table, le_id, le_col, se_col=le_se_col, ci_cols=le_ci_cols, pop_col=le_pop_col, le_encoding=le_encoding
        )
        le.attrs.update(source=Path(table).name, period="", sex="")
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
    known = joined["le"].dropna()
    unit = {"ons-msoa": "MSOAs", "usaleep": "tracts"}.get(le_format, "areas")
    joined.attrs.update(
        national_median=float(known.median()), national_median_label=f"median of the {len(known):,} {unit} in the table"
    )
    return _with_bundled(joined, le_format) if bundled else joined


def _with_bundled(areas: gpd.GeoDataFrame, le_format: str) -> gpd.GeoDataFrame:
    """Bundled names (England's MSOAs) or populations (US tracts) for the formats they fit."""
    from .. import datasets
    from . import attributes

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GradientWarning)  # areas of other countries, or new codes
        try:
            if le_format == "ons-msoa" and "area_name" not in areas:
                return attributes.add_names(
                    areas,
                    datasets.get_path("msoa_names"),
                    "msoa11cd",
                    "msoa11hclnm",
                    source="House of Commons Library MSOA Names 1.10",
                )
            if le_format == "usaleep" and "population" not in areas:
                return attributes.add_population(
                    areas, datasets.get_path("us_tract_population"), source="US Census Bureau, 2010 census, by tract"
                )
        except (AreasError, datasets.DataSetError):  # codes the bundled table does not know
            log.info("the bundled names or populations do not match these areas")
    return areas
