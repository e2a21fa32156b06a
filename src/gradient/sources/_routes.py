"""Which routes a caller asked for: by short name, long name or id, as a rider or a feed names them.

Every source filters its routes with :func:`match_routes` *before* measuring, so the
work, the warnings and their counts concern only the routes asked for.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import InputError

NAME_COLUMNS = ("route_short_name", "route_long_name", "route_name", "route_id")
"""Columns a route may be asked for by, where the table has them."""


def match_routes(table: pd.DataFrame, routes: Sequence[str] | None, path=None) -> np.ndarray | None:
    """Which rows of a table of routes the caller asked for.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per route (or per pattern), with ``route_id`` and any of
        ``NAME_COLUMNS``.
    routes : sequence of str or None
        Names or ids, matched exactly (after trimming spaces) against every column
        of ``NAME_COLUMNS`` the table has. None or empty: every route.
    path : str or Path, optional
        The source, named in the error.

    Returns
    -------
    numpy.ndarray of bool or None
        Per row, whether it was asked for; None when ``routes`` asks for all.

    Raises
    ------
    InputError
        If a name matches no route (``routes=``; the message lists some that exist).
    """
    if not routes:
        return None
    wanted = {str(r).strip() for r in routes}
    columns = [c for c in NAME_COLUMNS if c in table]
    text = {c: table[c].astype("string").str.strip() for c in columns}
    known = set().union(*(set(t.dropna()) for t in text.values()))
    unknown = sorted(wanted - known)
    if unknown:
        label = text.get("route_short_name", text.get("route_name", text["route_id"]))
        some = ", ".join(sorted(set(label.fillna(text["route_id"]).astype(str)))[:10])
        raise InputError(f"no route named {', '.join(unknown)} (routes include {some})", path, param="routes")
    keep = np.zeros(len(table), dtype=bool)
    for t in text.values():
        keep |= np.asarray(t.isin(wanted).fillna(False), dtype=bool)
    return keep
