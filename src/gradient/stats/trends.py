"""Trends of life expectancy along a pattern: the slope of these areas, and a generalisable one.

``slope_per_km`` is a weighted least-squares fit of the stops' values on distance (weights
``1 / le_se^2`` where every stop used has a standard error, equal weights otherwise). It
is a fixed linear combination of the stops' values, ``sum_s c_s le_s``, so under the
uncertainty model (:mod:`gradient.stats.uncertainty`) its standard error is exact: the interval
covers *the slope of the true values of these particular areas at these stops* at its
stated level, however the stops share areas (:func:`exact_trend`).

The **generalisable gradient** (:func:`area_meta_regression`) asks what the route says
about areas like these: an area-level random-effects meta-regression of the pattern's
distinct areas' estimates on their position along it, with the between-area variance
``tau^2`` estimated by DerSimonian and Laird's method of moments and a Knapp-Hartung
interval (Student's t with ``m - 2`` degrees of freedom, its scale never below 1, the
"modified" Knapp-Hartung rule); empty below :data:`MIN_AREAS` distinct areas.

Both are computed for every pattern at once with grouped sums (no Python loop over
patterns); tests check them against statsmodels' WLS.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import stdtrit

from .uncertainty import combination_se

MIN_AREAS = 6
"""Fewest distinct areas for the generalisable gradient (and for ranking by slope)."""


def _gsum(codes: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(codes, weights=values, minlength=n)


def slope_coefficients(groups: np.ndarray, x: np.ndarray, se: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The coefficients ``c`` with ``slope = sum c * le`` of a grouped weighted least-squares line.

    Parameters
    ----------
    groups : ndarray of int
        Group code (0..G-1) of each used row.
    x : ndarray
        Position (km, or tens of minutes) of each row.
    se : ndarray
        Standard error of each row's value; weights ``1 / se^2`` where every row of the
        group has a finite positive one, else equal weights.

    Returns
    -------
    coef : ndarray
        Per row; NaN where its group has fewer than two rows or no spread in ``x``.
    n : ndarray
        Rows per group.
    """
    g = int(groups.max(initial=-1)) + 1
    n = np.bincount(groups, minlength=g).astype(float)
    se_ok = np.isfinite(se) & (se > 0)
    all_se = np.bincount(groups, weights=se_ok, minlength=g) == n
    w = np.where(all_se[groups], 1.0 / np.where(se_ok, se, 1.0) ** 2, 1.0)
    sw = _gsum(groups, w, g)
    with np.errstate(invalid="ignore", divide="ignore"):
        xm = _gsum(groups, w * x, g) / sw
        dx = x - xm[groups]
        sxx = _gsum(groups, w * dx**2, g)
        coef = w * dx / sxx[groups]
    usable = (n >= 2) & (sxx > 1e-12)
    return np.where(usable[groups], coef, np.nan), n


def exact_trend(stops: pd.DataFrame, x: np.ndarray, weights: pd.DataFrame, z: float) -> pd.DataFrame:
    """Every pattern's weighted least-squares slope with its exact standard error.

    Parameters
    ----------
    stops : pandas.DataFrame
        ``pattern_id``, ``stop_id``, ``le``, ``le_se`` rows, patterns contiguous.
    x : ndarray
        Position of each row (km from the first stop, or tens of scheduled minutes).
    weights : pandas.DataFrame
        The weights table of :func:`gradient.assign.catchments.assign`.
    z : float
        Half-width of the interval in standard errors (e.g. 1.96).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``pattern_id`` (every pattern of ``stops``): ``slope`` (years per unit
        of ``x``), ``se``, ``ci_low``, ``ci_high`` and ``n`` (rows used).
    """
    pid = stops["pattern_id"].to_numpy()
    labels = pd.Index(pd.unique(pid))
    le = stops["le"].to_numpy(float)
    ok = np.isfinite(le) & np.isfinite(x)
    codes = labels.get_indexer(pid[ok])
    coef, n = slope_coefficients(codes, x[ok], stops["le_se"].to_numpy(float)[ok])
    g = len(labels)
    n = np.bincount(codes, minlength=g)
    usable = np.isfinite(coef)
    slope = np.full(g, np.nan)
    has = np.bincount(codes[usable], minlength=g) > 0
    slope[has] = _gsum(codes[usable], coef[usable] * le[ok][usable], g)[has]
    terms = pd.DataFrame(
        {"combo": codes[usable], "stop_id": stops["stop_id"].to_numpy()[ok][usable], "coef": coef[usable]}
    )
    se = combination_se(weights, terms).reindex(np.arange(g)).to_numpy(float) if len(terms) else np.full(g, np.nan)
    slope = np.where(se == 0, 0.0, slope)  # the areas' coefficients cancel: exactly no trend, not 1e-14
    out = pd.DataFrame(
        {"slope": slope, "se": se, "ci_low": slope - z * se, "ci_high": slope + z * se, "n": n}, index=labels
    )
    return out


def area_positions(stops: pd.DataFrame, weights: pd.DataFrame, x: np.ndarray) -> pd.DataFrame:
    """Each pattern's distinct areas, where they lie along it, and their estimates.

    An area's position is the mean position of the pattern's stops that use it, weighted
    by the weight each gives it.

    Returns
    -------
    pandas.DataFrame
        ``pattern_id``, ``area_id``, ``x``, ``le`` and ``le_se`` (the area's estimate and
        standard error, years), one row per pattern and area with a value.
    """
    rows = pd.DataFrame({"pattern_id": stops["pattern_id"].to_numpy(), "stop_id": stops["stop_id"].to_numpy(), "x": x})
    rows = rows[np.isfinite(x) & stops["le"].notna().to_numpy()]
    w = weights[["stop_id", "area_id", "weight", "area_le", "le_se"]]
    long = rows.merge(w, on="stop_id")
    long["wx"] = long["weight"] * long["x"]
    g = long.groupby(["pattern_id", "area_id"], sort=False)
    out = g.agg(wx=("wx", "sum"), w=("weight", "sum"), le=("area_le", "first"), le_se=("le_se", "first"))
    out["x"] = out["wx"] / out["w"]
    return out.reset_index()[["pattern_id", "area_id", "x", "le", "le_se"]]


def area_meta_regression(areas_along: pd.DataFrame, labels: pd.Index, alpha: float = 0.05) -> pd.DataFrame:
    """Random-effects meta-regression of each pattern's areas on their position along it.

    ``le_a = b0 + b1 x_a + u_a + e_a`` with ``u_a ~ N(0, tau^2)`` (true differences between
    areas beyond the line) and ``e_a ~ N(0, se_a^2)`` (estimation error). ``tau^2`` is
    DerSimonian and Laird's moment estimate for meta-regression,
    ``max(0, (Q - (m - 2)) / (sum v - tr((X'VX)^-1 X'V^2X)))`` with ``v = 1/se^2`` and ``Q``
    the weighted residual sum of squares; ``b1`` is then the weighted least-squares slope
    with weights ``1 / (se^2 + tau^2)``, and its variance the Knapp-Hartung one with its
    scale factor kept at 1 or more.

    Parameters
    ----------
    areas_along : pandas.DataFrame
        :func:`area_positions`.
    labels : pandas.Index
        Every pattern id (rows of the result).
    alpha : float, default 0.05
        The interval is ``1 - alpha``.

    Returns
    -------
    pandas.DataFrame
        Indexed by pattern id: ``slope``, ``ci_low``, ``ci_high`` (years per unit of
        ``x``), ``tau`` (years) and ``n_areas`` (distinct areas with a standard error);
        everything but ``n_areas`` NaN below :data:`MIN_AREAS` areas.
    """
    a = areas_along[np.isfinite(areas_along["le_se"]) & (areas_along["le_se"] > 0) & areas_along["le"].notna()]
    codes = labels.get_indexer(a["pattern_id"])
    G = len(labels)
    m = np.bincount(codes, minlength=G).astype(float)
    x, y, se2 = a["x"].to_numpy(float), a["le"].to_numpy(float), a["le_se"].to_numpy(float) ** 2

    def wls(w: np.ndarray):
        sw, swx, swy = _gsum(codes, w, G), _gsum(codes, w * x, G), _gsum(codes, w * y, G)
        swxx = _gsum(codes, w * x * x, G)
        with np.errstate(invalid="ignore", divide="ignore"):
            xm, ym = swx / sw, swy / sw
            sxx = swxx - sw * xm**2
            b1 = (_gsum(codes, w * x * y, G) - sw * xm * ym) / sxx
            b0 = ym - b1 * xm
            resid = y - b0[codes] - b1[codes] * x
        return b1, resid, sw, swx, swxx, sxx

    v = 1.0 / se2
    _, r, sv, svx, svxx, sxx_v = wls(v)
    q = _gsum(codes, v * r**2, G)
    sv2, sv2x, sv2xx = _gsum(codes, v * v, G), _gsum(codes, v * v * x, G), _gsum(codes, v * v * x * x, G)
    with np.errstate(invalid="ignore", divide="ignore"):
        det = sv * svxx - svx**2
        # tr((X'VX)^-1 X'V^2 X) for X = [1, x]
        tr = (svxx * sv2 - 2 * svx * sv2x + sv * sv2xx) / det
        tau2 = np.maximum(0.0, (q - (m - 2)) / (sv - tr))
    w = 1.0 / (se2 + tau2[codes])
    b1, r, sw, swx, swxx, sxx = wls(w)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = _gsum(codes, w * r**2, G) / (m - 2)
        var = np.maximum(scale, 1.0) / sxx
        half = stdtrit(np.maximum(m - 2, 1), 1 - alpha / 2) * np.sqrt(var)
    enough = (m >= MIN_AREAS) & (sxx > 1e-12)
    nan = np.full(G, np.nan)
    return pd.DataFrame(
        {
            "slope": np.where(enough, b1, nan),
            "ci_low": np.where(enough, b1 - half, nan),
            "ci_high": np.where(enough, b1 + half, nan),
            "tau": np.where(enough, np.sqrt(tau2), nan),
            "n_areas": m.astype(int),
        },
        index=labels,
    )
