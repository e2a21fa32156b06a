"""Checking a table of life expectancy by area, once its columns are found.

:func:`check_table` turns a raw table (as :func:`gradient._tables.read_table` read it)
into ``area_id``, ``le``, ``le_se`` (and ``population``), and says what it did:

- blanks and suppression markers (:data:`gradient._tables.SUPPRESSION_MARKERS`) are
  missing, never 0, and counted in a warning;
- a row repeated with the same values is kept once (warned, with the count); an id
  repeated with different values is refused, naming both;
- a table with no number at all in its life expectancy column is refused: there would
  be nothing to measure;
- values outside ``LE_PLAUSIBLE`` and negative standard errors are refused.

- standard errors that are 0, infinite or negative, and 95% limits that do not hold their
  estimate, are refused: no life table is exact, and such limits are not its interval.

A ``suppressed`` column says which rows' values were suppression markers, so that
:func:`gradient.areas.load.join_areas` can say why areas lost their value.
"""

from __future__ import annotations

import logging
import warnings
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .. import _tables
from ..errors import AreasError, GradientWarning
from ..options import Z95
from ..schema import LE_PLAUSIBLE

log = logging.getLogger(__name__)


def check_table(
    raw: pd.DataFrame,
    id_col: str,
    le_col: str,
    se_col: str | None,
    ci_cols: tuple[str, str] | None,
    pop_col: str | None,
    path: Path,
) -> pd.DataFrame:
    """Validate a raw table and return ``area_id``, ``le``, ``le_se`` (and ``population``).

    Parameters
    ----------
    raw : pandas.DataFrame
        The table as read.
    id_col, le_col : str
        Columns of the area id and life expectancy at birth (years).
    se_col : str or None
        Column of the standard error (years).
    ci_cols : (str, str) or None
        Columns of the lower and upper 95% limits (the standard error is their
        distance over ``2 * 1.959964``).
    pop_col : str or None
        Column of the population behind each estimate.
    path : Path
        Named in messages.

    Returns
    -------
    pandas.DataFrame
        ``area_id`` (string), ``le`` and ``le_se`` (float years, NaN where blank or
        suppressed), ``population`` when ``pop_col`` is given, and ``suppressed`` (True
        where the value was a suppression marker); one row per id.

    Raises
    ------
    AreasError
        If a column is missing, an id has conflicting rows, a value is not a number
        (nor blank, nor a marker), no life expectancy is a number, a value is
        implausible, a standard error is 0, infinite or negative, or 95% limits do not
        hold their estimate.
    """
    wanted = [id_col, le_col] + [c for c in (se_col, pop_col) if c] + (list(ci_cols) if ci_cols else [])
    missing = [c for c in wanted if c not in raw.columns]
    if missing:
        raise AreasError(
            f"no column(s) {', '.join(map(repr, missing))} (columns: {', '.join(map(str, raw.columns))})", path
        )
    ids = raw[id_col].astype("string").str.strip().replace("", pd.NA)
    suppressed: dict[str, Counter] = {}
    blanks: dict[str, int] = {}

    def parse(col: str) -> pd.Series:
        values, markers, n_blank = _tables.numbers(raw[col], col, path)
        if markers:
            suppressed[col] = markers
        blanks[col] = n_blank
        return values

    le = parse(le_col)
    if se_col:
        se = parse(se_col)
    elif ci_cols:
        low, high = (parse(c) for c in ci_cols)
        _limits_hold(ids, le, low, high, ci_cols, path)
        se = (high - low) / (2 * Z95)
    else:
        se = pd.Series(np.nan, index=raw.index)
    out = pd.DataFrame({"area_id": ids, "le": le.astype(float), "le_se": se.astype(float)})
    if pop_col:
        out["population"] = parse(pop_col)
    if out["le"].notna().sum() == 0:
        n_marked = sum(suppressed.get(le_col, Counter()).values())
        raise AreasError(
            f"no value in {le_col!r} is a number ({len(out)} rows: {blanks[le_col]} blank, {n_marked} suppression "
            "markers); there is nothing to measure",
            path,
        )
    le_marked = np.asarray(_tables.is_marker(raw[le_col]), dtype=bool)
    out = _one_row_per_id(out, id_col, le_col, path)
    bad = out["le"].notna() & ((out["le"] < LE_PLAUSIBLE[0]) | (out["le"] > LE_PLAUSIBLE[1]))
    if bad.any():
        raise AreasError(
            f"{int(bad.sum())} value(s) in {le_col!r} are implausible for life expectancy at birth "
            f"(outside {LE_PLAUSIBLE[0]:g}-{LE_PLAUSIBLE[1]:g} years, e.g. {out['le'][bad].iloc[0]:g} for "
            f"{out['area_id'][bad].iloc[0]})",
            path,
        )
    _errors_usable(out, se_col or " and ".join(map(repr, ci_cols or ())), path)
    if suppressed:
        cols = sorted(suppressed, key=lambda c: c != le_col)  # the life expectancy column first
        shown = ", ".join(f"{m!r} {n}" for m, n in suppressed[cols[0]].most_common(4))
        also = "".join(f"; and {sum(suppressed[c].values())} in {c!r}" for c in cols[1:])
        warnings.warn(
            f"{path}: {sum(suppressed[cols[0]].values())} of {len(raw)} values in {cols[0]!r} are suppression "
            f"markers ({shown}){also}; read as missing",
            GradientWarning,
            stacklevel=4,
        )
    out = out.reset_index(drop=True)
    marked = set(ids[le_marked].dropna())
    out["suppressed"] = out["area_id"].isin(marked).to_numpy(bool) & out["le"].isna().to_numpy(bool)
    return out


def _limits_hold(ids: pd.Series, le: pd.Series, low: pd.Series, high: pd.Series, cols, path: Path) -> None:
    """Refuse 95% limits that do not hold their own estimate (swapped or shifted columns)."""
    outside = (le < low - 1e-6) | (le > high + 1e-6)
    if outside.fillna(False).any():
        i = outside.fillna(False).to_numpy(bool).argmax()
        raise AreasError(
            f"{int(outside.sum())} row(s) have 95% limits that do not hold their estimate (e.g. {ids.iloc[i]}: "
            f"{le.iloc[i]:g} outside {low.iloc[i]:g} to {high.iloc[i]:g} in {cols[0]!r} and {cols[1]!r}); are the "
            "columns the right ones, in the order lower, upper?",
            path,
        )


def _errors_usable(out: pd.DataFrame, what: str, path: Path) -> None:
    """Refuse standard errors that are negative, 0 or infinite (where the estimate is known)."""
    se = out["le_se"].where(out["le"].notna())
    for bad, why in (
        (se < 0, "negative (are the interval columns swapped?)"),
        (
            se == 0,
            "0, which says the estimate is exact; no life table is (leave the error columns out if the table has none)",
        ),
        (np.isinf(se), "infinite"),
    ):
        if bad.any():
            i = bad.to_numpy(bool).argmax()
            raise AreasError(
                f"{int(bad.sum())} standard error(s) from {what} are {why} (e.g. {out['area_id'].iloc[i]})", path
            )


def _one_row_per_id(out: pd.DataFrame, id_col: str, le_col: str, path: Path) -> pd.DataFrame:
    """Keep an id repeated with identical values once (warned); refuse one with different values."""
    if _tables.all_distinct(out["area_id"]):
        return out
    repeated = out["area_id"].duplicated(keep=False) & out["area_id"].notna()
    if not repeated.any():
        return out
    rows = out[repeated]
    distinct = rows.drop_duplicates()  # NaN equals NaN here
    conflict = distinct["area_id"].duplicated(keep=False)
    if conflict.any():
        first = distinct.loc[conflict, "area_id"].iloc[0]
        pair = distinct[distinct["area_id"] == first].iloc[:2]
        col = next((c for c in pair.columns[1:] if not _same(pair[c].iloc[0], pair[c].iloc[1])), "le")
        shown = {"le": le_col}.get(col, col)
        a, b = (f"{v:g}" if pd.notna(v) else "blank" for v in pair[col])
        raise AreasError(
            f"{distinct.loc[conflict, 'area_id'].nunique()} area id(s) appear more than once in {id_col!r} with "
            f"different values (e.g. {first}: {a} and {b} in {shown!r}); which is meant cannot be told",
            path,
        )
    n_ids = rows["area_id"].nunique()
    warnings.warn(
        f"{path}: {n_ids} area id(s) appear more than once in {id_col!r} with identical values, {len(rows) - n_ids} "
        f"extra row(s) in all (e.g. {', '.join(rows['area_id'].drop_duplicates().iloc[:3])}); each is kept once",
        GradientWarning,
        stacklevel=5,
    )
    return out.drop_duplicates(subset=list(out.columns))


def _same(a, b) -> bool:
    return (pd.isna(a) and pd.isna(b)) or a == b


def say_encoding(info: dict, given: str | None, path: Path) -> None:
    """Warn when a text table was read in a guessed encoding other than UTF-8."""
    used = info.get("encoding")
    if given is None and used in ("cp1252", "latin-1"):
        warnings.warn(
            f"{path}: is not UTF-8; read as {'Windows-1252' if used == 'cp1252' else 'Latin-1'}. If names look "
            "wrong, give its encoding with le_encoding=",
            GradientWarning,
            stacklevel=4,
        )
    log.info("%s: read %s", path, ", ".join(f"{k} {v!r}" for k, v in info.items()))


def say_lost_values(out: pd.DataFrame, matched: set, suppressed: Sequence[str], boundaries_path, table_path) -> None:
    """Warn with counts about areas whose row in the table has no value; refuse when none has one."""
    has_row = out["area_id"].isin(matched)
    lost = out.loc[has_row & out["le"].isna(), "area_id"]
    if len(lost) == int(has_row.sum()):
        raise AreasError(
            f"none of the {int(has_row.sum())} areas of {boundaries_path or 'the boundaries'} found in the table "
            "has a value (all are blank or suppressed); there is nothing to measure",
            table_path,
        )
    if len(lost):
        n_marked = int(lost.isin(set(suppressed)).sum())
        why = ", ".join(
            f"{n} {what}" for n, what in ((n_marked, "suppressed by a marker"), (len(lost) - n_marked, "blank")) if n
        )
        warnings.warn(
            f"{len(lost)} of {len(out)} areas in {boundaries_path or 'the boundaries'} have a row in "
            f"{table_path or 'the table'} but no value ({why}) and stay missing (e.g. {', '.join(sorted(lost)[:3])})",
            GradientWarning,
            stacklevel=4,
        )
