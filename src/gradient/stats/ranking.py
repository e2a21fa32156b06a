"""Ranking a network's routes so that a noisy small area cannot buy a place at the top.

The widest range of estimates along a route is set by its single most extreme area, and
the most extreme small-area estimates are the noisiest. So the rank uses **empirical-Bayes
shrinkage** (:func:`gradient.areas.doubt.shrink`): each area's estimate is pulled towards the table's own mean
in proportion to its uncertainty (normal-normal model, between-area variance ``tau^2``
estimated from the table by DerSimonian and Laird's method of moments), and a pattern's
ranking statistic ``eb_range`` is the range of those shrunk values along it. A precise
estimate barely moves; one whose standard error is as large as the real spread between
areas moves halfway to the mean.

Routes are ranked once each (:func:`rank_routes`): a route's statistic is the largest
``eb_range`` of its patterns (its two directions are the same street read both ways), and
the pattern that has it is the route's *story* (``route_story``), the one mapped and
printed. ``rank_low`` and ``rank_high`` are a 95% interval for the route's place, from
draws of the areas' posterior distributions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..options import DRAWS, SEED
from .uncertainty import Model


def stop_values(weights: pd.DataFrame, eb: pd.DataFrame) -> pd.Series:
    """Each stop's shrunk value: its areas' posterior means with the assignment weights."""
    w = weights[["stop_id", "area_id", "weight"]].copy()
    w["v"] = eb["le_eb"].reindex(w["area_id"]).to_numpy() * w["weight"].to_numpy()
    return w.groupby("stop_id", sort=False)["v"].sum(min_count=1)


def rank_routes(
    patterns: pd.DataFrame,
    stops: pd.DataFrame,
    weights: pd.DataFrame,
    eb: pd.DataFrame,
    draws: int = DRAWS,
    level: float = 0.95,
    seed: int = SEED + 1,
    strength: pd.Series | None = None,
) -> pd.DataFrame:
    """Every pattern's ``eb_range``, and its route's rank with a rank interval.

    Parameters
    ----------
    patterns : pandas.DataFrame
        ``pattern_id``, ``route_id``, ``direction_id``.
    stops : pandas.DataFrame
        ``pattern_id``, ``stop_id``, ``le`` rows, patterns contiguous.
    weights : pandas.DataFrame
        The weights table of :func:`gradient.assign.catchments.assign`.
    eb : pandas.DataFrame
        :func:`shrink`.
    draws : int
        Posterior draws behind the rank interval.
    level : float, default 0.95
        Level of the rank interval.
    strength : pandas.Series, optional
        By pattern id, how strongly its printed claim is supported (years): between two
        patterns of a route with the same ``eb_range`` (to 0.01 year), the stronger is the
        route's story.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``pattern_id``: ``eb_range`` (years), ``rank`` (the route's place,
        1 = widest shrunk range; shared by the route's patterns; NA without values),
        ``rank_low``, ``rank_high`` (the interval of that place) and ``route_story``
        (True for the one pattern per route that the top lists, maps and printed
        sentences use).
    """
    values = stop_values(weights, eb)
    s = stops[["pattern_id", "stop_id"]].assign(v=values.reindex(stops["stop_id"]).to_numpy())
    s = s[np.isfinite(s["v"].to_numpy(float))]
    g = s.groupby("pattern_id", sort=False)["v"]
    eb_range = (g.max() - g.min()).reindex(patterns["pattern_id"])
    meta = patterns[["pattern_id", "route_id", "direction_id"]].set_index("pattern_id")
    meta["eb_range"] = eb_range
    meta["_tie"] = eb_range.round(2)
    meta["_strength"] = 0.0 if strength is None else strength.reindex(meta.index).fillna(0.0)
    order = meta.reset_index().sort_values(
        ["route_id", "_tie", "_strength", "direction_id", "pattern_id"],
        ascending=[True, False, False, True, True],
        na_position="last",
        kind="stable",
    )
    story = order.drop_duplicates("route_id")
    meta["route_story"] = meta.index.isin(story["pattern_id"]) & meta["eb_range"].notna()
    route_stat = story.set_index("route_id")["eb_range"].dropna()
    route_rank = route_stat.rank(ascending=False, method="min").astype(int)
    low, high = _rank_interval(meta, s, weights, eb, route_stat.index, draws, level, seed)
    out = pd.DataFrame(index=meta.index)
    out["eb_range"] = meta["eb_range"]
    for name, series in (("rank", route_rank), ("rank_low", low), ("rank_high", high)):
        out[name] = pd.array(series.reindex(meta["route_id"]).to_numpy(), dtype="Int64")
    out["route_story"] = meta["route_story"].to_numpy()
    return out


def _rank_interval(meta, s, weights, eb, routes: pd.Index, draws, level, seed) -> tuple[pd.Series, pd.Series]:
    """Quantiles of each route's rank over draws of the areas' posterior distributions."""
    empty = pd.Series(dtype=float)
    if len(routes) < 2 or not eb["le_eb_sd"].notna().any():
        return empty, empty
    post = weights[["stop_id", "area_id", "weight"]].assign(le_se=eb["le_eb_sd"].reindex(weights["area_id"]).to_numpy())
    model = Model(post, seed=seed)
    rows = model.stops(s["stop_id"].to_numpy())
    keep = rows >= 0
    rows, pid = rows[keep], s["pattern_id"].to_numpy()[keep]
    mean = s["v"].to_numpy(float)[keep]
    codes, pats = pd.factorize(pid)
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    route_of = pd.Index(routes).get_indexer(meta["route_id"].reindex(pats).to_numpy())
    ok = route_of >= 0
    by_route = np.flatnonzero(ok)[np.argsort(route_of[ok], kind="stable")]
    route_starts = np.flatnonzero(np.r_[True, np.diff(route_of[by_route]) != 0])
    ranks = []
    for errors in model.stop_errors(draws):
        v = mean[:, None] + np.nan_to_num(errors[rows])
        rng = np.maximum.reduceat(v, starts, axis=0) - np.minimum.reduceat(v, starts, axis=0)
        per_route = np.maximum.reduceat(rng[by_route], route_starts, axis=0)  # routes in ``routes`` order
        ranks.append((-per_route).argsort(axis=0).argsort(axis=0) + 1)
    r = np.concatenate(ranks, axis=1)
    tail = (1 - level) / 2
    low = np.quantile(r, tail, axis=1, method="lower")
    high = np.quantile(r, 1 - tail, axis=1, method="higher")
    return pd.Series(low, index=routes), pd.Series(high, index=routes)


def rank_evidence(patterns: pd.DataFrame, min_areas: int) -> pd.DataFrame:
    """Ranks by the evidence for a fall and for a trend, and the descriptive rank by range.

    Returns
    -------
    pandas.DataFrame
        ``rank_range`` (1 = widest ``le_range``, descriptive), ``rank_fall`` (by the
        simultaneous lower bound of ``steepest_fall``, only where it is above 0) and
        ``rank_slope`` (by the bound of the slope's interval nearest 0, only where the
        interval excludes 0 and the pattern has at least ``min_areas`` distinct areas);
        ties share the better rank; patterns without evidence have none.
    """
    out = pd.DataFrame(index=patterns.index)
    out["rank_range"] = patterns["le_range"].rank(ascending=False, method="min").astype("Int64")
    fall = patterns["steepest_fall_ci_low"].where(patterns["steepest_fall_ci_low"] > 0)
    out["rank_fall"] = fall.rank(ascending=False, method="min").astype("Int64")
    lo, hi = patterns["slope_ci_low"], patterns["slope_ci_high"]
    bound = pd.Series(np.where(lo > 0, lo, np.where(hi < 0, -hi, np.nan)), index=patterns.index)
    bound = bound.where(patterns["n_areas_le"] >= min_areas)
    out["rank_slope"] = bound.rank(ascending=False, method="min").astype("Int64")
    return out
