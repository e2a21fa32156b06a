"""What else is known about each small area: a name readers know, a population, a second measure.

:func:`add_names` (and :func:`add_msoa_names`, in English, Welsh or both), :func:`add_population` and
:func:`add_context` add a column to the areas
(:class:`~gradient.areas.dataset.Areas`, from :func:`gradient.areas.load.load_areas`) from a
table of one value per area, and its credit beside the others, with the same handling as
the life expectancy table's: the header found by name on any sheet or below a title block,
the encoding detected, ids kept as text (digits that lost their leading zeros padded back
to the areas' width), blanks and suppression markers read as missing (counted), a row
repeated identically kept once, conflicting rows refused naming both values, text in a
numeric column refused with an example, and a table that matches no area refused.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .. import _tables
from ..credits import Credit, known_credit
from ..errors import AreasError, GradientWarning
from .dataset import Areas, as_areas


def pad_like(ids: pd.Series, like: pd.Series) -> pd.Series:
    """All-digit ids shorter than the areas' (all-digit, one width) ids, zero-padded to that width.

    Examples
    --------
    >>> pad_like(pd.Series(["12057010205", "1057010100"]), pd.Series(["01057010100"])).tolist()
    ['12057010205', '01057010100']
    """
    known = like.dropna().astype(str)
    if known.empty or not known.str.fullmatch(r"\d+").all() or known.str.len().nunique() != 1:
        return ids
    width = int(known.str.len().iloc[0])
    digits = ids.str.fullmatch(r"\d+").fillna(False) & (ids.str.len() < width)
    return ids.where(~digits, ids.str.zfill(width))


def read_area_values(
    path: str | Path,
    id_col: str,
    value_col: str,
    *,
    numeric: bool = True,
    encoding: str | None = None,
    what: str = "table",
) -> pd.DataFrame:
    """One value per area id from a published table.

    Parameters
    ----------
    path : str or Path
        Delimited text or a workbook (:func:`gradient._tables.read_table`).
    id_col, value_col : str
        The columns of the area id and of the value.
    numeric : bool, default True
        Numbers (blanks and suppression markers missing, other text an error) or text.
    encoding : str, optional
        For text files; default detected.
    what : str
        What the table is, for messages (``"context table"``).

    Returns
    -------
    pandas.DataFrame
        ``area_id`` (string) and ``value`` (float or string), one row per id.

    Raises
    ------
    AreasError
        If the file is missing or unreadable, a column is missing, a value is not a
        number (``numeric``), or an id appears twice with different values.
    """
    path = Path(path)
    if not path.exists():
        raise AreasError(f"no such {what}", path)
    raw, _ = _tables.read_table(path, [id_col, value_col], id_col=id_col, value_col=value_col, encoding=encoding)
    missing = [c for c in (id_col, value_col) if c not in raw.columns]
    if missing:
        raise AreasError(
            f"no column(s) {', '.join(map(repr, missing))} (columns: {', '.join(map(str, raw.columns))})", path
        )
    ids = raw[id_col].astype("string").str.strip().replace("", pd.NA)
    if numeric:
        values, markers, _ = _tables.numbers(raw[value_col], value_col, path)
        if markers:
            warnings.warn(
                f"{path}: {sum(markers.values())} values in {value_col!r} are suppression markers; read as missing",
                GradientWarning,
                stacklevel=3,
            )
    else:
        values = (
            raw[value_col]
            .map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip() or None)
            .astype("string")
        )
    out = pd.DataFrame({"area_id": ids, "value": values}).dropna(subset=["area_id"])
    return _once(out, id_col, value_col, path)


def _once(out: pd.DataFrame, id_col: str, value_col: str, path: Path) -> pd.DataFrame:
    if _tables.all_distinct(out["area_id"]):
        return out.reset_index(drop=True)
    repeated = out["area_id"].duplicated(keep=False)
    if not repeated.any():
        return out.reset_index(drop=True)
    distinct = out[repeated].drop_duplicates()
    conflict = distinct["area_id"].duplicated(keep=False)
    if conflict.any():
        first = distinct.loc[conflict, "area_id"].iloc[0]
        a, b = (str(v) for v in distinct.loc[distinct["area_id"] == first, "value"].iloc[:2])
        raise AreasError(
            f"area id {first} appears more than once in {id_col!r} with different values ({a} and {b} "
            f"in {value_col!r}); which is meant cannot be told",
            path,
        )
    n = out.loc[repeated, "area_id"].nunique()
    warnings.warn(
        f"{path}: {n} area id(s) appear more than once in {id_col!r} with identical values; each is kept once",
        GradientWarning,
        stacklevel=4,
    )
    return out.drop_duplicates().reset_index(drop=True)


def join_values(areas, values: pd.DataFrame, column: str, path, what: str):
    """The areas with ``column`` from ``values`` (``area_id``, ``value``); unmatched areas warned, none refused."""
    v = values.assign(area_id=pad_like(values["area_id"], areas["area_id"])).set_index("area_id")["value"]
    matched = areas["area_id"].isin(v.index)
    if not matched.any():
        raise AreasError(
            f"no area id of the {what} matches the areas (areas look like "
            f"{sorted(areas['area_id'].dropna())[:2]}, the table like {sorted(v.index)[:2]}); check its "
            "id column",
            path,
        )
    out = areas.copy()
    out[column] = v.reindex(out["area_id"]).to_numpy()
    lost = int((~matched | out[column].isna()).sum())
    if lost:
        warnings.warn(
            f"{lost} of {len(out)} areas have no value in the {what} {path} and stay missing there",
            GradientWarning,
            stacklevel=3,
        )
    return out


def add_names(
    areas: Areas,
    table: str | Path,
    id_col: str,
    name_col: str,
    *,
    encoding: str | None = None,
    credit: Credit | None = None,
) -> Areas:
    """The areas with ``area_name``: a name readers know for each, instead of a code.

    For example the House of Commons Library's MSOA names; maps and sentences show them.

    Parameters
    ----------
    areas : Areas
        From :func:`gradient.areas.load.load_areas`.
    table : str or Path
        A table of names by area id.
    id_col, name_col : str
        Its id and name columns.
    encoding : str, optional
        For text files; default detected.
    credit : Credit, optional
        Where the names come from (default: the bundled data set's credit, or the file's
        name).

    Returns
    -------
    Areas
        ``areas`` with ``area_name`` (text; missing where the table has no name).
    """
    areas = as_areas(areas)
    values = read_area_values(table, id_col, name_col, numeric=False, encoding=encoding, what="names table")
    frame = join_values(areas.frame, values, "area_name", table, "names table")
    return areas.replace(frame=frame).with_credit(credit or known_credit(table, "area names"))


NAMES_LANGUAGES = ("en", "cy", "both")
"""Languages of England and Wales' MSOA names: English, Welsh (Cymraeg), or both."""

MSOA_NAME_COLUMNS = {"id": "msoa11cd", "en": "msoa11hclnm", "cy": "msoa11hclnmw"}
"""The House of Commons Library MSOA Names table's columns: code, English name, Welsh name (Wales only)."""


def add_msoa_names(areas: Areas, table: str | Path, lang: str = "en") -> Areas:
    """The areas with England and Wales' MSOA names readers know, in English, Welsh or both.

    Parameters
    ----------
    areas : Areas
        MSOAs (``E02…`` England, ``W02…`` Wales).
    table : str or Path
        The House of Commons Library's MSOA Names (:data:`MSOA_NAME_COLUMNS`; bundled as
        ``msoa_names``).
    lang : {'en', 'cy', 'both'}, default 'en'
        ``en``: the English names; ``cy``: the Welsh name of every Welsh MSOA and the
        English name of every English one (English MSOAs have none in Welsh); ``both``:
        ``Welsh / English`` where the two differ (``Rasa a Chendl / Rassau & Beaufort``),
        else the one name.

    Returns
    -------
    Areas
        ``areas`` with ``area_name``.

    Raises
    ------
    AreasError
        If ``lang`` is not one of :data:`NAMES_LANGUAGES` (``names_lang=``), or as
        :func:`add_names`.
    """
    if lang not in NAMES_LANGUAGES:
        raise AreasError(f"names_lang={lang!r} is not one of {', '.join(NAMES_LANGUAGES)}", param="names_lang")
    english = add_names(areas, table, MSOA_NAME_COLUMNS["id"], MSOA_NAME_COLUMNS["en"])
    if lang == "en":
        return english
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GradientWarning)  # English MSOAs have no Welsh name: said below
        welsh = add_names(areas, table, MSOA_NAME_COLUMNS["id"], MSOA_NAME_COLUMNS["cy"]).frame["area_name"]
    en = english.frame["area_name"]
    if lang == "cy":
        name = welsh.fillna(en)
    else:
        name = (welsh + " / " + en).where(welsh.notna() & (welsh != en), en)
    return english.replace(frame=english.frame.assign(area_name=name.astype("string")))


CENSUS_TRACT_COLUMNS = ("STATEFP", "COUNTYFP", "TRACTCE", "POPULATION")
"""The US Census Bureau's centres-of-population files: the tract GEOID is the first three joined."""


def add_population(
    areas: Areas,
    table: str | Path,
    id_col: str | None = None,
    pop_col: str | None = None,
    *,
    encoding: str | None = None,
    credit: Credit | None = None,
) -> Areas:
    """The areas with ``population``, so that catchments weight areas by where people live.

    Parameters
    ----------
    areas : Areas
        From :func:`gradient.areas.load.load_areas`.
    table : str or Path
        A table of population by area id; the US Census Bureau's tract centres of
        population (:data:`CENSUS_TRACT_COLUMNS`) are recognised without ``id_col`` and
        ``pop_col``.
    id_col, pop_col : str, optional
        Its id and population columns.
    encoding : str, optional
        For text files.
    credit : Credit, optional
        Where the populations come from (default: the bundled data set's, or the file's name).

    Returns
    -------
    Areas
        ``areas`` with ``population`` (people; missing where the table has none).
    """
    areas = as_areas(areas)
    path = Path(table)
    if id_col is None or pop_col is None:
        if not path.exists():
            raise AreasError("no such population table", path)
        head = pd.read_csv(path, nrows=0, dtype=str, encoding="utf-8-sig")
        if not set(CENSUS_TRACT_COLUMNS) <= set(head.columns):
            raise AreasError(
                "name the population table's id and population columns (population_id=, "
                f"population_col=); its columns are {', '.join(head.columns)}",
                path,
                param="population_col",
            )
        try:  # pyarrow's parser, several times faster on these national files; pandas' for anything it refuses
            raw = pd.read_csv(path, dtype=str, engine="pyarrow")
        except (ValueError, pd.errors.ParserError, UnicodeDecodeError):
            raw = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
        values = pd.DataFrame(
            {
                "area_id": (raw["STATEFP"] + raw["COUNTYFP"] + raw["TRACTCE"]).astype("string"),
                "value": _tables.numbers(raw["POPULATION"], "POPULATION", path)[0],
            }
        )
        values = _once(values, "GEOID", "POPULATION", path)
    else:
        values = read_area_values(table, id_col, pop_col, encoding=encoding, what="population table")
    if (values["value"] < 0).any():
        raise AreasError(f"negative populations (e.g. {values.loc[values['value'] < 0, 'area_id'].iloc[0]})", path)
    frame = join_values(areas.frame, values, "population", table, "population table")
    return areas.replace(frame=frame).with_credit(credit or known_credit(table, "population"))


def add_context(
    areas: Areas,
    table: str | Path,
    id_col: str,
    value_col: str,
    name: str = "",
    *,
    encoding: str | None = None,
    credit: Credit | None = None,
) -> Areas:
    """The areas with ``context``: a second measure beside life expectancy (e.g. deprivation).

    Parameters
    ----------
    areas : Areas
        From :func:`gradient.areas.load.load_areas`.
    table : str or Path
        A table of one number per area (England's IMD 2019 score by MSOA, income, child
        poverty, a US tract table...).
    id_col, value_col : str
        Its id and value columns.
    name : str
        What the measure is, with its units and direction, for legends and sentences
        (e.g. ``"IMD 2019 score (higher = more deprived)"``); default ``value_col``.
    encoding : str, optional
        For text files.
    credit : Credit, optional
        Where the measure comes from (default: the bundled data set's, or the file's name).

    Returns
    -------
    Areas
        ``areas`` with ``context`` (float; missing where the table has none, never 0) and
        ``context_name`` set to ``name``.

    Raises
    ------
    AreasError
        As :func:`read_area_values`, or if no id matches the areas.
    """
    areas = as_areas(areas)
    values = read_area_values(table, id_col, value_col, encoding=encoding, what="context table")
    frame = join_values(areas.frame, values, "context", table, "context table")
    out = areas.replace(frame=frame, context_name=name or value_col)
    return out.with_credit(credit or known_credit(table, "second measure"))
