"""Which areas' estimates a reader should be warned about, and the table's spread between areas.

- :func:`between_area_variance`: DerSimonian and Laird's ``tau^2`` of a table of estimates;
- :func:`shrink`: every area's empirical-Bayes posterior (the estimate pulled towards the
  table's mean in proportion to its error);
- :func:`doubtful_areas`: ``imprecise`` (less than half of what an estimate says is signal:
  its standard error exceeds ``tau``) and ``implausible`` (far from its neighbours, beyond
  what its own and their precision allow).
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

    Returns
    -------
    tau2 : float
        Years squared (0 when the estimates vary no more than their errors).
    mu : float
        The mean weighted by ``1 / (se^2 + tau^2)``, years.
    """
    ok = np.isfinite(le) & np.isfinite(se) & (se > 0)
    le, se = le[ok], se[ok]
    if len(le) < 3:
        return np.nan, float(np.mean(le)) if len(le) else np.nan
    v = 1.0 / se**2
    mu0 = np.sum(v * le) / np.sum(v)
    q = np.sum(v * (le - mu0) ** 2)
    tau2 = max(0.0, (q - (len(le) - 1)) / (np.sum(v) - np.sum(v**2) / np.sum(v)))
    w = 1.0 / (se**2 + tau2)
    return float(tau2), float(np.sum(w * le) / np.sum(w))


def shrink(areas: pd.DataFrame) -> pd.DataFrame:
    """Empirical-Bayes posterior of every area's true life expectancy.

    Parameters
    ----------
    areas : pandas.DataFrame
        ``area_id``, ``le``, ``le_se`` (every area of the table, as from
        :func:`gradient.areas.load.load_areas`).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``area_id`` (areas with a value): ``le`` and ``le_se`` as given,
        ``le_eb`` (posterior mean, years), ``le_eb_sd`` (posterior standard deviation) and
        ``reliability`` (``tau^2 / (tau^2 + se^2)``, the share of the estimate kept).
        Areas without a standard error keep their estimate (reliability 1, sd NaN).
        ``attrs`` holds ``tau`` and ``mu`` (years).
    """
    a = areas.loc[areas["le"].notna(), ["area_id", "le", "le_se"]].drop_duplicates("area_id").set_index("area_id")
    le, se = a["le"].to_numpy(float), a["le_se"].to_numpy(float)
    tau2, mu = between_area_variance(le, se)
    if not np.isfinite(tau2):
        rel = np.ones(len(a))
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            rel = np.where(np.isfinite(se), tau2 / (tau2 + se**2), 1.0)
    out = a.copy()
    out["le_eb"] = mu + rel * (le - mu) if np.isfinite(mu) else le
    out["le_eb_sd"] = np.sqrt(rel * se**2)
    out["reliability"] = rel
    out.attrs.update(tau=float(np.sqrt(tau2)) if np.isfinite(tau2) else np.nan, mu=mu)
    return out


def doubtful_areas(areas, eb: pd.DataFrame, used: pd.Index | None = None) -> pd.Series:
    """Which estimates to warn readers about, and why.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        The areas, with geometry (neighbours are areas that touch).
    eb : pandas.DataFrame
        :func:`shrink` of the same table.
    used : pandas.Index, optional
        Only these area ids are judged (e.g. the areas a run's stops use).

    Returns
    -------
    pandas.Series
        Indexed by area id (those judged): ``""``, ``"imprecise"``, ``"implausible"`` or
        ``"imprecise, implausible"``.

        - ``imprecise``: reliability below :data:`RELIABILITY_MIN` (its standard error is
          larger than the spread ``tau`` of true values between areas);
        - ``implausible``: ``|le - m| / sqrt(se^2 + var(m) + tau_local^2)`` above
          :data:`NEIGHBOUR_Z`, where ``m`` is the mean estimate of its neighbours, ``var(m)``
          its sampling variance and ``tau_local^2`` the table's typical true variation
          between neighbours (a robust moment estimate).
    """
    judged = eb.index if used is None else eb.index.intersection(used)
    out = pd.Series("", index=judged, dtype=object)
    imprecise = eb.loc[judged, "reliability"] < RELIABILITY_MIN
    out[imprecise] = "imprecise"
    z = neighbour_z(areas, eb, judged)
    far = z.abs() > NEIGHBOUR_Z
    far = far.reindex(judged, fill_value=False)
    out[far] = np.where(out[far] == "", "implausible", out[far] + ", implausible")
    return out


def neighbour_z(areas, eb: pd.DataFrame, judged: pd.Index) -> pd.Series:
    """How far each judged area's estimate is from its neighbours', in standard deviations."""
    geo = areas.loc[areas["area_id"].isin(eb.index), ["area_id", "geometry"]].drop_duplicates("area_id")
    geo = geo.reset_index(drop=True)
    pos = pd.Index(geo["area_id"])
    todo = np.flatnonzero(pos.isin(judged))
    if len(todo) == 0:
        return pd.Series(dtype=float)
    left, right = geo.sindex.query(geo.geometry.to_numpy()[todo], predicate="intersects")
    pairs = pd.DataFrame({"a": pos[todo[left]], "n": pos[right]})
    pairs = pairs[pairs["a"] != pairs["n"]]
    le, se = eb["le"], eb["le_se"]
    pairs["le_n"], pairs["se2_n"] = le.reindex(pairs["n"]).to_numpy(), se.reindex(pairs["n"]).to_numpy() ** 2
    g = pairs.groupby("a")
    k = g.size()
    m = g["le_n"].mean()
    var_m = g["se2_n"].sum() / k**2
    d = le.reindex(m.index) - m
    noise = se.reindex(m.index) ** 2 + var_m
    mad = np.median(np.abs(d - np.median(d))) * 1.4826
    tau_local2 = max(0.0, mad**2 - float(np.median(noise)))
    return d / np.sqrt(noise + tau_local2)
