"""Life expectancy stop by stop along each pattern, and one summary row per pattern.

Builds the two outward tables, ``stops.csv`` and ``patterns.csv`` (columns in
:mod:`gradient.schema`, meanings in ``docs/CONTRACT.md``). Grouped pandas
operations over all patterns at once; only the trend fit is per pattern.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.api as sm

from .schema import PATTERNS_CSV_COLUMNS, STOPS_CSV_COLUMNS


def stop_table(
    patterns: pd.DataFrame, pattern_stops: pd.DataFrame, assignment: pd.DataFrame
) -> pd.DataFrame:
    """Join each pattern's stops to their life expectancy and take stop-to-stop changes.

    Parameters
    ----------
    patterns : pandas.DataFrame
        ``pattern_id``, ``route_id``, ``route_name``, ``direction_id`` per pattern.
    pattern_stops : pandas.DataFrame
        ``PATTERN_STOP_COLUMNS`` (one row per stop per pattern).
    assignment : pandas.DataFrame
        ``stop_id``, ``area_id``, ``le``, ``le_se`` per distinct stop, as from
        :func:`gradient.assign.assign` (``n_areas`` is carried when present).

    Returns
    -------
    pandas.DataFrame
        ``STOPS_CSV_COLUMNS`` (``dist_m`` metres; ``le``, ``le_se``, ``le_delta``
        years), plus any extra columns of ``pattern_stops`` (e.g. ``minutes``)
        and ``n_areas`` (areas that contributed to ``le``), ordered by
        ``pattern_id`` and ``stop_sequence``. ``le_delta`` is ``le``
        minus the previous stop's ``le``: NaN for the first stop and wherever either
        value is missing.
    """
    meta = patterns[["pattern_id", "route_id", "route_name", "direction_id"]]
    out = pattern_stops.merge(meta, on="pattern_id", how="left", validate="many_to_one")
    values = assignment[[c for c in ("stop_id", "area_id", "le", "le_se", "n_areas") if c in assignment]]
    out = out.merge(values, on="stop_id", how="left", validate="many_to_one")
    out = out.sort_values(["pattern_id", "stop_sequence"], kind="stable").reset_index(drop=True)
    out["le_delta"] = out.groupby("pattern_id", sort=False)["le"].diff()
    extra = [c for c in list(pattern_stops.columns) + ["n_areas"] if c in out and c not in STOPS_CSV_COLUMNS]
    return out[STOPS_CSV_COLUMNS + extra]


def trend(x_km: np.ndarray, le: np.ndarray) -> tuple[float, float, float, int]:
    """Ordinary least squares trend of life expectancy on distance (statsmodels).

    Parameters
    ----------
    x_km : ndarray
        Kilometres along the pattern.
    le : ndarray
        Life expectancy (years); NaN values are left out.

    Returns
    -------
    slope, ci_low, ci_high : float
        Years per km and its 95% t interval; the interval is NaN with fewer than 3
        stops, and everything is NaN with fewer than 2 or no spread in distance.
    n : int
        Stops used (those with a value).
    """
    ok = np.isfinite(x_km) & np.isfinite(le)
    x, y = x_km[ok], le[ok]
    n = int(ok.sum())
    if n < 2 or np.ptp(x) == 0:
        return np.nan, np.nan, np.nan, n
    fit = sm.OLS(y, sm.add_constant(x, has_constant="add")).fit()
    slope = float(fit.params[1])
    if n < 3:
        return slope, np.nan, np.nan, n
    low, high = fit.conf_int(alpha=0.05)[1]
    return slope, float(low), float(high), n


def pattern_table(patterns: pd.DataFrame, stops: pd.DataFrame) -> pd.DataFrame:
    """One summary row per pattern, ranked by life expectancy range.

    Parameters
    ----------
    patterns : pandas.DataFrame
        ``PATTERN_COLUMNS`` per pattern.
    stops : pandas.DataFrame
        As returned by :func:`stop_table`.

    Returns
    -------
    pandas.DataFrame
        ``PATTERNS_CSV_COLUMNS``, ordered by ``le_range`` descending (missing last,
        ties by ``pattern_id``):

        - ``n_stops``, ``n_stops_le``: stops, and stops with a value;
        - ``first_stop``, ``last_stop``: stop names; ``length_m``: metres;
        - ``le_first``, ``le_last``: first and last known values (years);
        - ``le_min``, ``le_max``, ``le_range``: years;
        - ``max_drop``: largest fall between consecutive stops (years, positive; 0
          if it never falls; NaN if no change is known), ``max_drop_from`` and
          ``max_drop_to`` the two stops' names (empty when ``max_drop`` is not > 0);
        - ``slope_per_km``, ``slope_ci_low``, ``slope_ci_high``: OLS trend of ``le``
          on distance, years per km, 95% interval (see :func:`trend`).
    """
    s = stops.sort_values(["pattern_id", "stop_sequence"], kind="stable")
    g = s.groupby("pattern_id", sort=True)
    out = pd.DataFrame(
        {
            "n_stops_le": g["le"].count(),
            "first_stop": g["stop_name"].nth(0).set_axis(g.size().index),
            "last_stop": g["stop_name"].nth(-1).set_axis(g.size().index),
            "length_m": g["dist_m"].max(),
            "le_first": g["le"].first(),
            "le_last": g["le"].last(),
            "le_min": g["le"].min(),
            "le_max": g["le"].max(),
        }
    )
    out["le_range"] = out["le_max"] - out["le_min"]

    fall = -s["le_delta"]
    prev_name = g["stop_name"].shift()
    has = fall.notna()
    worst = fall[has].groupby(s.loc[has, "pattern_id"]).idxmax()
    drop = fall.loc[worst.to_numpy()].set_axis(worst.index)
    out["max_drop"] = drop.clip(lower=0).reindex(out.index)
    real = drop[drop > 0]
    out["max_drop_from"] = prev_name.loc[worst[real.index].to_numpy()].set_axis(real.index).reindex(out.index)
    out["max_drop_to"] = s["stop_name"].loc[worst[real.index].to_numpy()].set_axis(real.index).reindex(out.index)

    fits = {
        pid: trend(grp["dist_m"].to_numpy(float) / 1000.0, grp["le"].to_numpy(float))[:3]
        for pid, grp in g[["dist_m", "le"]]
    }
    fit = pd.DataFrame.from_dict(fits, orient="index", columns=["slope_per_km", "slope_ci_low", "slope_ci_high"])
    out = out.join(fit)

    meta = patterns.drop(columns=[c for c in ("geometry",) if c in patterns.columns])
    res = meta.merge(out, left_on="pattern_id", right_index=True, how="left")
    res = res.sort_values(["le_range", "pattern_id"], ascending=[False, True], na_position="last", kind="stable")
    return res[PATTERNS_CSV_COLUMNS].reset_index(drop=True)
