"""The order of a network's routes: the strongest supported claim first, with places that hold.

**The rank** (:func:`rank_routes`) follows the story a route's sentence leads with
(:func:`gradient.stats.claims.stories`): routes whose sentence states a supported change
come first, ordered by the lower bound of that claim's interval (the bound nearest 0, so
a noisy area, whose interval is wide, cannot buy a place at the top), then every other
route, ordered by how near its best claim comes to being supported. Routes are ranked once
each; both directions share the rank and one of them tells the story (``route_story``).

**Rank sets** (``rank_low``, ``rank_high``) cover the true place of each route jointly for
every route at once, for a fixed truth, in the way of Mogstad, Romano, Shaikh and Wilhelm
("Inference for Ranks", *Review of Economic Studies*, 2024) from simultaneous intervals: the
ranked quantity is a route's largest true change over its eligible claims, ``theta``; the
network's critical value, widened by ``se_scale``, gives an interval ``[L, U]`` for every
route's ``theta`` that holds for all routes at once with probability at least
``1 - alpha``; then route ``j`` is certainly below every route whose ``L`` exceeds its
``U``, and above every route whose ``U`` is below its ``L``::

    rank_low  = 1 + #{k: L_k > U_j}
    rank_high = n - #{k: U_k < L_j}

Because the printed order's statistic lies inside ``[L, U]`` for every route, the printed
place always lies inside its own set. ``rank_range`` keeps the descriptive order by
``le_range``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def rank_routes(patterns: pd.DataFrame, stories: pd.DataFrame) -> pd.DataFrame:
    """Every pattern's route's place, its rank set, and which pattern tells the route's story.

    Parameters
    ----------
    patterns : pandas.DataFrame
        ``pattern_id`` and ``route_id`` of every pattern.
    stories : pandas.DataFrame
        :func:`gradient.stats.claims.stories` (by route id: ``lead``, ``strength``,
        ``story_pattern``, ``low_w``, ``high_w``).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``pattern_id``: ``rank`` (the route's place, 1 = the strongest supported
        claim; shared by the route's patterns; NA for a route without any claim free of
        doubtful estimates), ``rank_low`` and ``rank_high`` (its rank set), ``supported``
        (the route's sentence states a change) and ``route_story`` (True for the one
        pattern per route that the top lists, maps and printed sentences use).
    """
    st = stories.copy()
    st["supported"] = st["lead"] >= 0
    ranked = st[np.isfinite(st["strength"].to_numpy(float))]
    key = pd.DataFrame({"tier": ranked["supported"].astype(int), "strength": ranked["strength"]})
    order = key.sort_values(["tier", "strength"], ascending=[False, False], kind="stable")
    rank = _rank_by(order)  # equal keys share the better place
    low, high = rank_sets(ranked["low_w"].to_numpy(float), ranked["high_w"].to_numpy(float))
    sets = pd.DataFrame({"rank_low": low, "rank_high": high}, index=ranked.index)
    meta = patterns[["pattern_id", "route_id"]].set_index("pattern_id")
    out = pd.DataFrame(index=meta.index)
    for name, series in (("rank", rank), ("rank_low", sets["rank_low"]), ("rank_high", sets["rank_high"])):
        out[name] = pd.array(series.reindex(meta["route_id"]).to_numpy(), dtype="Int64")
    out["supported"] = st["supported"].reindex(meta["route_id"]).fillna(False).to_numpy(bool)
    out["route_story"] = st["story_pattern"].reindex(meta["route_id"]).to_numpy(object) == meta.index.to_numpy()
    return out


def _rank_by(order: pd.DataFrame) -> pd.Series:
    """Places 1..n in ``order``'s row order, equal ``(tier, strength)`` sharing the better place."""
    if order.empty:
        return pd.Series(dtype="Int64")
    tier, strength = order["tier"].to_numpy(), order["strength"].to_numpy(float)
    new = np.r_[True, (tier[1:] != tier[:-1]) | (strength[1:] != strength[:-1])]
    pos = np.arange(1, len(order) + 1)
    place = np.maximum.accumulate(np.where(new, pos, 0))
    return pd.Series(place, index=order.index)


def rank_sets(low: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rank sets from intervals ``[low, high]`` that hold for every unit at once.

    Parameters
    ----------
    low, high : ndarray
        Each unit's interval for the ranked quantity (larger is ranked higher).

    Returns
    -------
    (ndarray, ndarray)
        ``1 + #{k: low_k > high_j}`` and ``n - #{k: high_k < low_j}`` for every ``j``.

    Examples
    --------
    >>> rank_sets(np.array([5.0, 1.0, 0.0]), np.array([9.0, 4.0, 2.0]))
    (array([1, 2, 2]), array([1, 3, 3]))
    """
    n = len(low)
    if n == 0:
        return np.empty(0, int), np.empty(0, int)
    lo_sorted, hi_sorted = np.sort(low), np.sort(high)
    above = n - np.searchsorted(lo_sorted, high, side="right")  # k with low_k > high_j
    below = np.searchsorted(hi_sorted, low, side="left")  # k with high_k < low_j
    return (1 + above).astype(int), (n - below).astype(int)


def rank_range(patterns: pd.DataFrame) -> pd.Series:
    """The descriptive place by ``le_range`` (1 = widest; ties share the better place)."""
    return patterns["le_range"].rank(ascending=False, method="min").astype("Int64")


__all__ = ["rank_range", "rank_routes", "rank_sets"]
