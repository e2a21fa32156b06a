"""Which areas' estimates a reader should be warned about, and no claim may lead on.

- :func:`between_area_variance`: how much true life expectancy varies between the table's
  areas, ``tau^2`` (DerSimonian and Laird's estimator, from statsmodels);
- :func:`doubtful_areas`: ``imprecise`` (less than half of what an estimate says is signal:
  its standard error exceeds ``tau``) and ``implausible`` (the publisher set it apart as
  implausible, or it lies further from its neighbours than its own and their precision
  allow).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

RELIABILITY_MIN = 0.5
"""An estimate whose reliability ``tau^2 / (tau^2 + se^2)`` is below this is ``imprecise``."""

NEIGHBOUR_Z = 3.5
"""An estimate more than this many standard deviations from its neighbours' mean is ``implausible``."""


def between_area_variance(le: np.ndarray, se: np.ndarray) -> tuple[float, float]:
    """DerSimonian-Laird ``tau^2`` of a table of estimates, and its random-effects mean.

    statsmodels' :func:`~statsmodels.stats.meta_analysis.combine_effects` with
    ``method_re="dl"``, over the estimates with a positive standard error.

    Returns
    -------
    tau2 : float
        Years squared (0 when the estimates vary no more than their errors; NaN with fewer
        than three estimates).
    mu : float
        The mean weighted by ``1 / (se^2 + tau^2)``, years.
    """
    ok = np.isfinite(le) & np.isfinite(se) & (se > 0)
    le, se = le[ok], se[ok]
    if len(le) < 3:
        return np.nan, float(np.mean(le)) if len(le) else np.nan
    from statsmodels.stats.meta_analysis import combine_effects

    with np.errstate(divide="ignore", invalid="ignore"):
        res = combine_effects(le, se**2, method_re="dl")
    tau2 = max(0.0, float(res.tau2))  # the moment estimate, truncated at 0 as DerSimonian and Laird's is
    return tau2, float(res.mean_effect_re if tau2 > 0 else res.mean_effect_fe)


def doubtful_areas(areas, used: pd.Index | None = None) -> pd.Series:
    """Which estimates to warn readers about, and why.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        The areas (``area_id``, ``le``, ``le_se``, ``geometry``; ``le_doubt`` where the
        publisher flagged estimates), every area of the table: neighbours are areas that
        touch, and ``tau`` is the spread of the whole table.
    used : pandas.Index, optional
        Only these area ids are judged (e.g. the areas a run's stops use).

    Returns
    -------
    pandas.Series
        Indexed by area id (those judged, with a value): ``""``, ``"imprecise"``,
        ``"implausible"`` or ``"imprecise, implausible"``.

        - ``imprecise``: reliability ``tau^2 / (tau^2 + se^2)`` below
          :data:`RELIABILITY_MIN` (its standard error is larger than the spread ``tau``
          of true values between areas);
        - ``implausible``: the publisher set it apart as implausible (``le_doubt``), or
          ``|le - m| / sqrt(se^2 + var(m) + tau_local^2)`` is above :data:`NEIGHBOUR_Z`,
          where ``m`` is the mean estimate of its neighbours, ``var(m)`` its sampling
          variance and ``tau_local^2`` the table's typical true variation between
          neighbours (a robust moment estimate).
    """
    a = areas.loc[areas["le"].notna()].drop_duplicates("area_id").set_index("area_id")
    judged = a.index if used is None else a.index.intersection(used)
    le, se = a["le"].to_numpy(float), a["le_se"].to_numpy(float)
    tau2, _ = between_area_variance(le, se)
    out = pd.Series("", index=judged, dtype=object)
    if np.isfinite(tau2):
        s = a.loc[judged, "le_se"]
        imprecise = (tau2 / (tau2 + s**2) < RELIABILITY_MIN).fillna(False)
        out[imprecise.to_numpy(bool)] = "imprecise"
    far = neighbour_z(areas, judged).abs() > NEIGHBOUR_Z
    far = far.reindex(judged, fill_value=False).astype(bool)
    if "le_doubt" in a:
        far |= a.loc[judged, "le_doubt"].fillna("").astype(str).str.contains("implausible").to_numpy()
    out[far.to_numpy()] = np.where(out[far.to_numpy()] == "", "implausible", out[far.to_numpy()] + ", implausible")
    return out


def neighbour_z(areas, judged: pd.Index) -> pd.Series:
    """How far each judged area's estimate is from its neighbours', in standard deviations."""
    known = areas.loc[areas["le"].notna(), ["area_id", "le", "le_se", "geometry"]].drop_duplicates("area_id")
    geo = known.reset_index(drop=True)
    pos = pd.Index(geo["area_id"])
    todo = np.flatnonzero(pos.isin(judged))
    if len(todo) == 0:
        return pd.Series(dtype=float)
    left, right = geo.sindex.query(geo.geometry.to_numpy()[todo], predicate="intersects")
    pairs = pd.DataFrame({"a": pos[todo[left]], "n": pos[right]})
    pairs = pairs[pairs["a"] != pairs["n"]]
    le, se = geo.set_index("area_id")["le"], geo.set_index("area_id")["le_se"]
    pairs["le_n"], pairs["se2_n"] = le.reindex(pairs["n"]).to_numpy(), se.reindex(pairs["n"]).to_numpy() ** 2
    if pairs.empty:  # no area touches another: nothing to compare with
        return pd.Series(dtype=float)
    g = pairs.groupby("a")
    k = g.size()
    m = g["le_n"].mean()
    var_m = g["se2_n"].sum() / k**2
    d = le.reindex(m.index) - m
    noise = se.reindex(m.index).fillna(0.0) ** 2 + var_m.fillna(0.0)
    mad = np.median(np.abs(d - np.median(d))) * 1.4826
    tau_local2 = max(0.0, mad**2 - float(np.median(noise)))
    return d / np.sqrt(noise + tau_local2)


__all__ = ["NEIGHBOUR_Z", "RELIABILITY_MIN", "between_area_variance", "doubtful_areas", "neighbour_z"]
