"""Small areas with life expectancy: boundary files joined to life expectancy tables.

The result of every loader is an ``areas`` GeoDataFrame with ``AREA_COLUMNS``:
``area_id`` (string), ``le`` (years), ``le_se`` (years), ``geometry`` (EPSG:4326).
Every boundary is kept, so that a stop in an area without an estimate is assigned
to that area and gets a *missing* value, never 0 and never a neighbour's value.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .errors import AreasError, GradientWarning
from .schema import AREA_COLUMNS, LE_PLAUSIBLE, OPTIONAL_AREA_COLUMNS, WGS84

log = logging.getLogger(__name__)

ID_CANDIDATES = {
    "usaleep": ["GEOID10", "GEOID", "census_tract_GEOID", "GEOID20"],
    "ons-msoa": ["MSOA2011", "MSOA11CD", "msoa11cd", "MSOA21CD", "msoa21cd"],
    "csv": [],
}
"""Boundary id columns tried, in order, when the caller names none."""

_WGS84_BY_SPEC = {".geojson", ".json", ".topojson"}
"""Formats whose specification fixes WGS84 longitude/latitude when no CRS is declared."""


def read_boundaries(
    path: str | Path,
    id_col: str | None = None,
    crs: str | None = None,
    candidates: Sequence[str] = (),
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
        CRS of a file that declares none. GeoJSON and TopoJSON are WGS84
        longitude/latitude by their specifications and need none; for other formats
        an undeclared CRS is an error unless this is given.
    candidates : sequence of str
        Id column names to try when ``id_col`` is not given.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``area_id`` (string) and ``geometry`` (EPSG:4326). Invalid polygons
        are repaired with :func:`shapely.make_valid` and counted in a warning;
        empty geometries are dropped with a warning.

    Raises
    ------
    AreasError
        If the file cannot be read, the id column is missing, or the CRS is unknown
        or does not fit the coordinates.
    """
    path = Path(path)
    if not path.exists():
        raise AreasError("no such boundary file", path)
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types; all mean "cannot read"
        raise AreasError(f"cannot read as a boundary file ({exc})", path) from exc
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
        raise AreasError(
            f"no column {id_col!r} (columns: {', '.join(map(str, gdf.columns.drop('geometry')))})", path
        )
    if gdf.crs is None:
        if crs is not None:
            gdf = gdf.set_crs(crs)
        elif path.suffix.lower() in _WGS84_BY_SPEC:
            gdf = gdf.set_crs(WGS84)
        else:
            raise AreasError("declares no CRS; give it with --areas-crs (e.g. EPSG:27700)", path)
    if gdf.crs.is_projected:
        x0, y0, x1, y1 = gdf.total_bounds
        if -180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90:
            raise AreasError(
                f"coordinates look like longitude/latitude degrees, but the CRS is {gdf.crs.to_string()} "
                "(metres); fix the file's CRS or give the right one with --areas-crs",
                path,
            )
    gdf = gdf.to_crs(WGS84)
    minx, miny, maxx, maxy = gdf.total_bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise AreasError(
            "coordinates do not fit the CRS (they are out of longitude/latitude range after "
            "conversion); check --areas-crs",
            path,
        )
    geom = gdf.geometry.array
    empty = shapely.is_empty(geom) | shapely.is_missing(geom)
    if empty.any():
        warnings.warn(f"{path}: dropped {int(empty.sum())} empty geometries", GradientWarning, stacklevel=2)
    invalid = ~shapely.is_valid(geom) & ~empty
    if invalid.any():
        warnings.warn(
            f"{path}: repaired {int(invalid.sum())} of {len(geom)} polygons that were invalid (make_valid)",
            GradientWarning,
            stacklevel=2,
        )
        geom = np.where(invalid, shapely.make_valid(geom), geom)
    out = gpd.GeoDataFrame(
        {"area_id": gdf[id_col].astype("string").str.strip().to_numpy()}, geometry=list(geom), crs=WGS84
    )
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
) -> pd.DataFrame:
    """Read any CSV or Excel table of life expectancy by area.

    Parameters
    ----------
    path : str or Path
        ``.csv`` or other delimited text (comma, tab, semicolon or bar, judged from
        the header line) or ``.xlsx``/``.xls`` (first sheet).
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

    Returns
    -------
    pandas.DataFrame
        Columns ``area_id`` (string), ``le`` and ``le_se`` (float years; ``le_se``
        NaN when the table has no errors), plus ``population`` when ``pop_col`` is
        given. Rows with a blank (suppressed) value are kept with ``le`` NaN.

    Raises
    ------
    AreasError
        If a column is missing, ids are duplicated, or a value is not a number or
        outside ``LE_PLAUSIBLE`` years.
    """
    path = Path(path)
    if not path.exists():
        raise AreasError("no such life expectancy table", path)
    try:
        if path.suffix.lower() in {".xlsx", ".xls", ".xlsm"}:
            raw = pd.read_excel(path, dtype={id_col: str}, engine="calamine")
        else:
            raw = pd.read_csv(path, dtype={id_col: str}, sep=_delimiter(path), encoding="utf-8-sig")
    except Exception as exc:
        raise AreasError(f"cannot read the table ({exc})", path) from exc
    return _check_table(raw, id_col, le_col, se_col, ci_cols, pop_col, path)


def _check_table(
    raw: pd.DataFrame,
    id_col: str,
    le_col: str,
    se_col: str | None,
    ci_cols: tuple[str, str] | None,
    pop_col: str | None,
    path: Path,
) -> pd.DataFrame:
    """Validate a raw table and return ``area_id``, ``le``, ``le_se`` (and ``population``)."""
    wanted = [id_col, le_col] + [c for c in (se_col, pop_col) if c] + (list(ci_cols) if ci_cols else [])
    missing = [c for c in wanted if c not in raw.columns]
    if missing:
        raise AreasError(
            f"no column(s) {', '.join(map(repr, missing))} (columns: {', '.join(map(str, raw.columns))})", path
        )
    ids = raw[id_col].astype("string").str.strip()
    dup = ids[ids.duplicated() & ids.notna()]
    if len(dup):
        raise AreasError(
            f"{dup.nunique()} area id(s) appear more than once in {id_col!r} (e.g. {', '.join(dup.unique()[:3])})",
            path,
        )
    le = _numbers(raw[le_col], le_col, path)
    bad = le.notna() & ((le < LE_PLAUSIBLE[0]) | (le > LE_PLAUSIBLE[1]))
    if bad.any():
        raise AreasError(
            f"{int(bad.sum())} value(s) in {le_col!r} are implausible for life expectancy at birth "
            f"(outside {LE_PLAUSIBLE[0]:g}-{LE_PLAUSIBLE[1]:g} years, e.g. {le[bad].iloc[0]:g} for "
            f"{ids[bad].iloc[0]})",
            path,
        )
    if se_col:
        se = _numbers(raw[se_col], se_col, path)
    elif ci_cols:
        low, high = (_numbers(raw[c], c, path) for c in ci_cols)
        se = (high - low) / (2 * 1.959963984540054)
    else:
        se = pd.Series(np.nan, index=raw.index)
    if (se < 0).any():
        raise AreasError("negative standard errors (are the interval columns swapped?)", path)
    out = pd.DataFrame({"area_id": ids, "le": le.astype(float), "le_se": se.astype(float)})
    if pop_col:
        out["population"] = _numbers(raw[pop_col], pop_col, path)
    return out


def _delimiter(path: Path) -> str:
    """The delimiter of a delimited text file, judged from its header line."""
    with open(path, encoding="utf-8-sig", errors="replace") as fh:
        header = fh.readline()
    return max([",", "\t", ";", "|"], key=header.count)


def _numbers(col: pd.Series, name: str, path: Path) -> pd.Series:
    """Column as floats; blanks become NaN, any other text is an error."""
    text = col.astype("string").str.strip()
    nums = pd.to_numeric(text.replace("", pd.NA), errors="coerce")
    bad = nums.isna() & text.notna() & (text != "")
    if bad.any():
        raise AreasError(
            f"{int(bad.sum())} value(s) in {name!r} are not numbers (e.g. {text[bad].iloc[0]!r})", path
        )
    return nums.astype(float)


def read_usaleep(path: str | Path) -> pd.DataFrame:
    """Read a USALEEP table (``US_A.CSV`` or a per-state ``XX_A.CSV``).

    Tract codes that lost their leading zeros (a spreadsheet round trip) are padded
    back to 11 digits.

    Returns
    -------
    pandas.DataFrame
        Columns ``area_id`` (11-digit 2010 tract GEOID), ``le`` (``e(0)``, years) and
        ``le_se`` (``se(e(0))``, years).
    """
    table = read_le_table(path, "Tract ID", "e(0)", se_col="se(e(0))")
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


def read_ons_msoa(path: str | Path, sex: str = "persons") -> pd.DataFrame:
    """Read the ONS MSOA life expectancy release (REQ3292 layout) for one sex.

    The release has one row per MSOA and sex (``Males``, ``Females``,
    ``Persons``) with life expectancy at birth, its lower and upper 95% limits and
    the population (person-years) behind it; suppressed estimates are blank.

    The standard error is derived from the 95% limits as
    ``(upper - lower) / (2 * 1.959964)``. ONS computes these limits from a
    normal approximation (Chiang's method), so the interval is symmetric and this
    recovers the standard error it was built from.

    Parameters
    ----------
    path : str or Path
        The ``.xlsx`` file (sheet ``Data``, header on the first row) or a CSV
        export with the same columns.
    sex : {'persons', 'male', 'female'}, default 'persons'

    Returns
    -------
    pandas.DataFrame
        ``area_id`` (MSOA code, e.g. ``E02000001``), ``le`` and ``le_se`` (years;
        NaN where suppressed), ``population`` (person-years). ``attrs["period"]``
        holds the period, e.g. ``"2016-2020"``.

    Raises
    ------
    AreasError
        If ``sex`` is unknown, a column is missing, or the file has no row for the sex.
    """
    if sex not in ONS_SEXES:
        raise AreasError(f"unknown sex {sex!r}; choose one of {', '.join(ONS_SEXES)}", path)
    path = Path(path)
    if not path.exists():
        raise AreasError("no such life expectancy table", path)
    try:
        if path.suffix.lower() in {".xlsx", ".xls", ".xlsm", ".ods"}:
            raw = pd.read_excel(path, sheet_name=0, dtype={ONS_COLUMNS["id"]: str}, engine="calamine")
        else:
            raw = pd.read_csv(path, dtype={ONS_COLUMNS["id"]: str}, encoding="utf-8-sig")
    except Exception as exc:
        raise AreasError(f"cannot read the table ({exc})", path) from exc
    missing = [c for c in ONS_COLUMNS.values() if c not in raw.columns]
    if missing:
        raise AreasError(
            f"not an ONS MSOA life expectancy table: no column(s) {', '.join(map(repr, missing))}", path
        )
    rows = raw[raw[ONS_COLUMNS["sex"]].astype(str).str.strip() == ONS_SEXES[sex]]
    if rows.empty:
        raise AreasError(f"no rows for Sex {ONS_SEXES[sex]!r}", path)
    table = _check_table(
        rows, ONS_COLUMNS["id"], ONS_COLUMNS["le"], None,
        (ONS_COLUMNS["low"], ONS_COLUMNS["high"]), ONS_COLUMNS["population"], path,
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
    left = set(boundaries["area_id"].dropna())
    right = set(table["area_id"].dropna())
    both = left & right
    if not both:
        raise AreasError(
            f"no area id matches the boundaries (boundary ids look like {sorted(left)[:2]}, "
            f"table ids like {sorted(right)[:2]}); check the id columns",
            table_path,
        )
    only_b, only_t = sorted(left - right), sorted(right - left)
    if only_b:
        warnings.warn(
            f"{len(only_b)} of {len(left)} areas in {boundaries_path or 'the boundaries'} have no row in "
            f"{table_path or 'the table'} and stay missing (e.g. {', '.join(only_b[:3])})",
            GradientWarning,
            stacklevel=2,
        )
    if only_t and len(only_t) < len(right):
        log.info("%d table rows have no boundary (e.g. %s)", len(only_t), ", ".join(only_t[:3]))
    out = boundaries.merge(table, on="area_id", how="left")
    extra = [c for c in OPTIONAL_AREA_COLUMNS if c in out.columns]
    result = gpd.GeoDataFrame(out[AREA_COLUMNS + extra], geometry="geometry", crs=WGS84)
    result.attrs.update(table.attrs)
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
    sex : {'persons', 'male', 'female'}, default 'persons'
        For ``ons-msoa``.

    Returns
    -------
    geopandas.GeoDataFrame
        ``AREA_COLUMNS`` (see :func:`join_areas`); ``attrs`` holds ``source``,
        ``period`` and ``sex`` for titles and legends.
    """
    if le_format == "usaleep":
        le = read_usaleep(table)
        le.attrs.update(source="CDC/NCHS USALEEP", period="2010-2015", sex="persons")
    elif le_format == "ons-msoa":
        le = read_ons_msoa(table, sex)
        le.attrs.update(source="ONS MSOA life expectancy (REQ3292)", sex=sex)
    elif le_format == "csv":
        if not (le_id and le_col):
            raise AreasError("--le-format csv needs --le-id and --le-col", table)
        le = read_le_table(table, le_id, le_col, se_col=le_se_col, ci_cols=le_ci_cols)
        le.attrs.update(source=Path(table).name, period="", sex="")
    else:
        raise AreasError(
            f"unknown life expectancy format {le_format!r}; choose one of usaleep, ons-msoa, csv", table
        )
    bounds = read_boundaries(boundaries, area_id, areas_crs, ID_CANDIDATES.get(le_format, []))
    if le_format == "usaleep":
        bounds["area_id"] = _pad_tract(bounds["area_id"])
    return join_areas(bounds, le, boundaries, table)
