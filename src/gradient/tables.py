"""Life expectancy stop by stop along each pattern, and one summary row per pattern.

Builds the two outward tables, ``stops.csv`` and ``patterns.csv`` (columns in
:mod:`gradient.schema`, meanings in ``docs/CONTRACT.md`` and ``docs/COLUMNS.md``),
with grouped pandas operations over all patterns at once; the statistics come from
:mod:`gradient.stats`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import stats
from .options import Options
from .schema import PATTERNS_CSV_COLUMNS, PATTERNS_EXTRA_COLUMNS, STOPS_CSV_COLUMNS, STOPS_EXTRA_COLUMNS


def point_weights(assignment: pd.DataFrame) -> pd.DataFrame:
    """A weights table for an assignment that gives each stop one area's value."""
    valued = assignment[assignment["le"].notna()]
    return pd.DataFrame(
        {"stop_id": valued["stop_id"], "area_id": valued["area_id"], "weight": 1.0, "le_se": valued["le_se"]}
    ).reset_index(drop=True)


def stop_table(
    patterns: pd.DataFrame,
    pattern_stops: pd.DataFrame,
    assignment: pd.DataFrame,
    weights: pd.DataFrame | None = None,
    options: Options | None = None,
) -> pd.DataFrame:
    """Join each pattern's stops to their life expectancy and test stop-to-stop changes.

    Parameters
    ----------
    patterns : pandas.DataFrame
        ``pattern_id``, ``route_id``, ``route_name``, ``direction_id`` per pattern.
    pattern_stops : pandas.DataFrame
        ``PATTERN_STOP_COLUMNS`` (one row per stop per pattern).
    assignment : pandas.DataFrame
        ``stop_id``, ``area_id``, ``le``, ``le_se`` (and ``n_areas``) per distinct
        stop, as from :func:`gradient.assign.assign`.
    weights : pandas.DataFrame, optional
        The weights table of :func:`gradient.assign.assign`; default: each stop
        takes its ``area_id`` alone (right for the point method).
    options : Options, optional
        ``alpha`` and ``correction`` of the stop-to-stop tests
        (:func:`gradient.stats.stop_tests`).

    Returns
    -------
    pandas.DataFrame
        ``STOPS_CSV_COLUMNS`` then ``STOPS_EXTRA_COLUMNS``, ordered by
        ``pattern_id`` and ``stop_sequence``:

        - ``dist_m`` metres and ``minutes`` (median scheduled minutes) from the
          first stop; ``le``, ``le_se``, ``le_delta`` years;
        - ``le_delta`` is ``le`` minus the previous stop's ``le``: NaN for the first
          stop and wherever either value is missing;
        - ``n_areas``: areas that contributed to ``le``;
        - ``le_delta_se``, ``le_delta_z``, ``le_delta_p``,
          ``le_delta_significant``: see :func:`gradient.stats.stop_tests`;
        - ``le_lowess``: LOWESS-smoothed ``le`` along the pattern (years).
    """
    meta = patterns[["pattern_id", "route_id", "route_name", "direction_id"]]
    out = pattern_stops.merge(meta, on="pattern_id", how="left", validate="many_to_one")
    values = assignment[[c for c in ("stop_id", "area_id", "le", "le_se", "n_areas") if c in assignment]]
    out = out.merge(values, on="stop_id", how="left", validate="many_to_one")
    out = out.sort_values(["pattern_id", "stop_sequence"], kind="stable").reset_index(drop=True)
    out["le_delta"] = out.groupby("pattern_id", sort=False)["le"].diff()
    if "minutes" not in out:
        out["minutes"] = np.nan
    if "n_areas" not in out:
        out["n_areas"] = out["le"].notna().astype(int)
    weights = point_weights(assignment) if weights is None else weights
    options = options or Options()
    out = out.join(stats.stop_tests(out, weights, alpha=options.alpha, correction=options.correction))
    dist, le, smooth = out["dist_m"].to_numpy(float), out["le"].to_numpy(float), np.full(len(out), np.nan)
    for idx in out.groupby("pattern_id", sort=False).indices.values():
        smooth[idx] = stats.lowess_profile(dist[idx], le[idx])
    out["le_lowess"] = smooth
    return out[STOPS_CSV_COLUMNS + STOPS_EXTRA_COLUMNS]


def pattern_table(
    patterns: pd.DataFrame,
    stops: pd.DataFrame,
    weights: pd.DataFrame | None = None,
    options: Options | None = None,
    labels=None,
) -> pd.DataFrame:
    """One summary row per pattern, ranked by life expectancy range.

    Parameters
    ----------
    patterns : pandas.DataFrame
        ``PATTERN_COLUMNS`` per pattern.
    stops : pandas.DataFrame
        As returned by :func:`stop_table`.
    weights : pandas.DataFrame, optional
        As for :func:`stop_table`.
    options : Options, optional
        ``stretch_k`` (longest stretch searched for the steepest fall) and the
        tests' level.
    labels : gradient.pipeline.Labels, optional
        Sex, period and source named in ``headline``.

    Returns
    -------
    pandas.DataFrame
        ``PATTERNS_CSV_COLUMNS`` then ``PATTERNS_EXTRA_COLUMNS``, ordered by
        ``le_range`` descending (missing last, ties by ``pattern_id``):

        - ``n_stops``, ``n_stops_le``: stops, and stops with a value;
        - ``first_stop``, ``last_stop``: stop names; ``length_m``: metres;
        - ``le_first``, ``le_last``: first and last known values (years);
        - ``le_min``, ``le_max``, ``le_range``: years;
        - ``max_drop``: largest fall between consecutive stops (years, positive; 0
          if it never falls; NaN if no change is known), ``max_drop_from`` and
          ``max_drop_to`` the two stops' names (empty when ``max_drop`` is not > 0);
        - ``slope_per_km``, ``slope_ci_low``, ``slope_ci_high``: trend of ``le`` on
          distance, years per km, 95% interval (:func:`gradient.stats.trend`);
        - the columns of :func:`gradient.stats.pattern_stats` and the ranks of
          :func:`gradient.stats.rank_network`.
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

    weights = weights if weights is not None else point_weights(
        s.drop_duplicates("stop_id")[["stop_id", "area_id", "le", "le_se"]]
    )
    options = options or Options()
    out = out.join(stats.pattern_stats(s, weights, k=options.stretch_k))
    meta = patterns.drop(columns=[c for c in ("geometry",) if c in patterns.columns])
    res = meta.merge(out, left_on="pattern_id", right_index=True, how="left")
    res = stats.rank_network(res)
    from .headline import headline

    sex, period, source = (labels.sex, labels.period, labels.le_source) if labels is not None else ("", "", "")
    res["headline"] = [headline(row, sex, period, source) for _, row in res.iterrows()]
    res = res.sort_values(["le_range", "pattern_id"], ascending=[False, True], na_position="last", kind="stable")
    return res[PATTERNS_CSV_COLUMNS + [c for c in PATTERNS_EXTRA_COLUMNS if c in res]].reset_index(drop=True)
