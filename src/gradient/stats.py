"""Statistics a researcher can cite.

Changes with standard errors, trends with honest intervals, the steepest stretch, a
network ranking, and a headline that refuses claims the intervals do not support.

Uncertainty model
-----------------
Every stop's value is a weighted mean of small-area estimates
(``le_stop = sum_k w_k le_k``, weights from :func:`gradient.assign.assign`). The
areas' estimation errors are taken as independent, so the difference between two
stops ``b - a`` has variance ``sum_k (w_bk - w_ak)^2 se_k^2``. Two stops in the same
area therefore differ by exactly 0 with standard error 0, and stops whose buffers
share areas get the smaller error their shared areas imply; nothing assumes two
stops are independent when they are not.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtr, stdtrit

from .errors import OptionError
from .options import CORRECTIONS, STRETCH_K, Z95


def pair_se(weights: pd.DataFrame, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Standard error of ``le[second] - le[first]`` for aligned arrays of stop ids.

    Parameters
    ----------
    weights : pandas.DataFrame
        The weights table of :func:`gradient.assign.assign` (``stop_id``,
        ``area_id``, ``weight``, ``le_se``).
    first, second : array-like of str
        Stop ids, one pair per position.

    Returns
    -------
    numpy.ndarray
        Years; NaN where either stop has no value or a contributing area has no
        standard error; exactly 0 where both stops take the same areas with the
        same weights.
    """
    n = len(first)
    w = weights[["stop_id", "area_id", "weight", "le_se"]]
    a = pd.DataFrame({"pair": np.arange(n), "stop_id": np.asarray(first, dtype=object)}).merge(w, on="stop_id")
    b = pd.DataFrame({"pair": np.arange(n), "stop_id": np.asarray(second, dtype=object)}).merge(w, on="stop_id")
    a["weight"] = -a["weight"]
    both = pd.concat([a, b], ignore_index=True)
    d = both.groupby(["pair", "area_id"], sort=False).agg(dw=("weight", "sum"), se=("le_se", "first"))
    d["dw"] = d["dw"].where(d["dw"].abs() > 1e-12, 0.0)
    v = d["dw"] ** 2 * d["se"] ** 2
    unknown = (v.isna() & (d["dw"] != 0)).groupby(level="pair").any()
    var = v.fillna(0.0).groupby(level="pair").sum()
    var[unknown] = np.nan
    present = np.zeros(n, dtype=bool)
    present[a["pair"].unique()] = True
    both_present = present & np.isin(np.arange(n), b["pair"].unique())
    out = np.sqrt(var.reindex(np.arange(n)).to_numpy(float))
    out[~both_present] = np.nan
    return out


def stop_tests(
    stops: pd.DataFrame,
    weights: pd.DataFrame,
    alpha: float = 0.05,
    correction: str = "none",
) -> pd.DataFrame:
    """Standard error, z-score and significance of every stop-to-stop change.

    Parameters
    ----------
    stops : pandas.DataFrame
        :func:`gradient.gradient.stop_table` rows (``pattern_id``, ``stop_id``,
        ``le_delta``), ordered by pattern and stop sequence.
    weights : pandas.DataFrame
        The weights table of :func:`gradient.assign.assign`.
    alpha : float, default 0.05
        Significance level of the two-sided z-test.
    correction : {'none', 'holm', 'fdr_bh'}
        Multiple-comparison correction across each pattern's tests: Holm's
        family-wise error rate, or Benjamini-Hochberg's false discovery rate (the
        decisions of statsmodels' ``multipletests``, see :func:`grouped_reject`).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``stops``: ``le_delta_se`` (years), ``le_delta_z``,
        ``le_delta_p`` (two-sided, unadjusted) and ``le_delta_significant``
        (boolean; NA where the change or its error is unknown, False where both
        stops take the same areas and the change is exactly 0).
    """
    if correction not in CORRECTIONS:
        raise OptionError(f"correction={correction!r} is not one of {', '.join(CORRECTIONS)}", param="correction")
    prev = stops.groupby("pattern_id", sort=False)["stop_id"].shift()
    has = stops["le_delta"].notna().to_numpy()
    se = np.full(len(stops), np.nan)
    se[has] = pair_se(weights, prev.to_numpy()[has], stops["stop_id"].to_numpy()[has])
    delta = stops["le_delta"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, delta / se, np.nan)
    p = 2 * ndtr(-np.abs(z))
    out = pd.DataFrame({"le_delta_se": se, "le_delta_z": z, "le_delta_p": p}, index=stops.index)
    sig = pd.Series(pd.NA, index=stops.index, dtype="boolean")
    sig[(se == 0) & has] = False
    tested = np.isfinite(p)
    if correction == "none":
        sig[tested] = p[tested] < alpha
    else:
        groups = stops["pattern_id"].to_numpy()[tested]
        sig[tested] = grouped_reject(p[tested], groups, alpha, correction)
    out["le_delta_significant"] = sig
    return out


def grouped_reject(p: np.ndarray, groups: np.ndarray, alpha: float, method: str) -> np.ndarray:
    """Holm or Benjamini-Hochberg rejections within each group, for all groups at once.

    The same decisions as statsmodels' ``multipletests(p, alpha, method)`` applied to
    each group (a test checks this), computed with one sort and grouped scans:
    ``multipletests`` itself runs a garbage collection on every call, which makes a
    loop over a city's thousand patterns take minutes.

    Parameters
    ----------
    p : ndarray
        p-values (finite).
    groups : ndarray
        Group label of each p-value (the pattern).
    alpha : float
        Family-wise error rate (``holm``) or false discovery rate (``fdr_bh``).
    method : {'holm', 'fdr_bh'}

    Returns
    -------
    ndarray of bool
        Whether each hypothesis is rejected.
    """
    frame = pd.DataFrame({"g": groups, "p": p}).sort_values(["g", "p"], kind="stable")
    g = frame.groupby("g", sort=False)
    rank = g.cumcount().to_numpy() + 1
    m = g["p"].transform("size").to_numpy()
    if method == "holm":  # step down: reject while p_(j) <= alpha / (m - j + 1)
        ok = pd.Series(frame["p"].to_numpy() <= alpha / (m - rank + 1), index=frame.index)
        reject = ok.groupby(frame["g"], sort=False).cummin().to_numpy()
    elif method == "fdr_bh":  # step up: reject ranks up to the largest k with p_(k) <= k alpha / m
        ok = frame["p"].to_numpy() <= rank * alpha / m
        kmax = pd.Series(np.where(ok, rank, 0), index=frame.index).groupby(frame["g"], sort=False).transform("max")
        reject = rank <= kmax.to_numpy()
    else:
        raise OptionError(f"correction={method!r} is not one of holm, fdr_bh", param="correction")
    out = np.empty(len(p), dtype=bool)
    out[frame.index.to_numpy()] = reject
    return out


def hac_lags(n: int) -> int:
    """Newey-West (1994) rule of thumb for the HAC lag length: floor(4 (n/100)^(2/9))."""
    return max(1, int(np.floor(4 * (n / 100) ** (2 / 9))))


def trend(x: np.ndarray, le: np.ndarray, se: np.ndarray | None = None) -> tuple[float, float, float, int]:
    """Trend of life expectancy on ``x`` with a 95% interval robust to correlated neighbours.

    Weighted least squares with weights ``1 / se**2`` where every stop used has a
    standard error (ordinary least squares otherwise), with heteroskedasticity and
    autocorrelation consistent (HAC, Newey-West, Bartlett kernel, :func:`hac_lags`
    lags, small-sample factor n / (n - 2)) standard errors, because neighbouring
    stops often share an area and their residuals are correlated; the interval
    uses Student's t with n - 2 degrees of freedom (statsmodels).

    Parameters
    ----------
    x : ndarray
        Distance (km) or riding time (tens of minutes) from the first stop.
    le, se : ndarray
        Life expectancy and its standard error (years); stops with NaN ``le`` or
        ``x`` are left out.

    Returns
    -------
    slope, ci_low, ci_high : float
        Years per unit of ``x`` and its 95% interval; the interval is NaN with
        fewer than 3 stops, everything is NaN with fewer than 2 or no spread in ``x``.
    n : int
        Stops used.
    """
    import statsmodels.api as sm

    ok = np.isfinite(x) & np.isfinite(le)
    xs, ys = x[ok], le[ok]
    n = int(ok.sum())
    if n < 2 or np.ptp(xs) == 0:
        return np.nan, np.nan, np.nan, n
    X = sm.add_constant(xs, has_constant="add")
    ses = None if se is None else se[ok]
    if ses is not None and np.all(np.isfinite(ses)) and np.all(ses > 0):
        model = sm.WLS(ys, X, weights=1.0 / ses**2)
    else:
        model = sm.OLS(ys, X)
    if n < 3:
        return float(model.fit().params[1]), np.nan, np.nan, n
    fit = model.fit(cov_type="HAC", cov_kwds={"maxlags": hac_lags(n), "use_correction": True}, use_t=True)
    low, high = fit.conf_int(alpha=0.05)[1]
    return float(fit.params[1]), float(low), float(high), n


def grouped_trend(groups: np.ndarray, x: np.ndarray, le: np.ndarray, se: np.ndarray) -> pd.DataFrame:
    """:func:`trend` for every group at once, with grouped sums instead of a fit per group.

    The same estimator as :func:`trend` (weighted least squares where every used stop
    of a group has a standard error, ordinary otherwise; Newey-West HAC errors with
    :func:`hac_lags` lags and the n / (n - 2) factor; Student's t interval), written
    out in closed form for a straight line so that a city's thousands of patterns
    need no Python loop of regressions; a test checks it against statsmodels.

    Parameters
    ----------
    groups : ndarray
        Group label (pattern) of each row; rows of a group contiguous and in stop order.
    x, le, se : ndarray
        As for :func:`trend`.

    Returns
    -------
    pandas.DataFrame
        Indexed by group, in order of first appearance: ``slope``, ``ci_low``,
        ``ci_high`` and ``n`` (rows used).
    """
    ok = np.isfinite(x) & np.isfinite(le)
    codes, labels = pd.factorize(groups)
    g, xs, ys, ses = codes[ok], x[ok], le[ok], se[ok]
    k = len(labels)
    n = np.bincount(g, minlength=k).astype(float)
    # weights 1/se^2 only where every used stop of the group has a positive standard error
    se_ok = np.isfinite(ses) & (ses > 0)
    all_se = np.bincount(g, weights=se_ok, minlength=k) == n
    w = np.where(all_se[g], 1.0 / np.where(se_ok, ses, 1.0) ** 2, 1.0)

    def gsum(v: np.ndarray) -> np.ndarray:
        return np.bincount(g, weights=v, minlength=k)

    sw, swx, swy = gsum(w), gsum(w * xs), gsum(w * ys)
    with np.errstate(invalid="ignore", divide="ignore"):
        xm, ym = swx / sw, swy / sw
        dx = xs - xm[g]
        sxx = gsum(w * dx**2)
        slope = gsum(w * dx * (ys - ym[g])) / sxx
        intercept = ym - slope * xm
        u = ys - intercept[g] - slope[g] * xs
        s0, s1 = w * u, w * u * xs  # the score rows w u (1, x)
        S = np.stack([gsum(s0 * s0), gsum(s0 * s1), gsum(s1 * s1)])
        lags = np.maximum(1, np.floor(4 * (n / 100) ** (2 / 9))).astype(int)
        for lag in range(1, int(lags.max(initial=1)) + 1):
            gl = g[lag:]
            use = (gl == g[:-lag]) & (lag <= lags[gl])  # pairs within one group, within its lags
            kern = 1 - lag / (lags[gl] + 1)
            a0, a1, b0, b1 = s0[lag:], s1[lag:], s0[:-lag], s1[:-lag]

            def lagged(v: np.ndarray, gl=gl, use=use, kern=kern) -> np.ndarray:  # where: other groups may be NaN
                return np.bincount(gl, weights=np.where(use, kern * v, 0.0), minlength=k)

            S[0] += 2 * lagged(a0 * b0)
            S[1] += lagged(a0 * b1 + a1 * b0)
            S[2] += 2 * lagged(a1 * b1)
        det = sw * gsum(w * xs**2) - swx**2
        # second row of the inverse of [[sw, swx], [swx, swxx]]: (-swx, sw) / det
        r0, r1 = -swx / det, sw / det
        var = (r0 * r0 * S[0] + 2 * r0 * r1 * S[1] + r1 * r1 * S[2]) * n / (n - 2)
        half = stdtrit(n - 2, 0.975) * np.sqrt(np.maximum(var, 0))
    usable = (n >= 2) & (sxx > 0)
    slope = np.where(usable, slope, np.nan)
    half = np.where(usable & (n >= 3), half, np.nan)
    out = pd.DataFrame({"slope": slope, "ci_low": slope - half, "ci_high": slope + half, "n": n.astype(int)},
                       index=pd.Index(labels))
    missing = pd.Index(pd.unique(groups)).difference(out.index)
    return pd.concat([out, pd.DataFrame({"n": 0}, index=missing)]) if len(missing) else out


def _stretch(stops: pd.DataFrame, k: int) -> pd.DataFrame:
    """For each stop, the largest fall into it from any of the k stops before it."""
    g = stops.groupby("pattern_id", sort=False)["le"]
    le = stops["le"].to_numpy(float)
    best = np.full(len(stops), np.nan)
    hops = np.zeros(len(stops), dtype=int)
    for s in range(1, k + 1):  # k shifted copies, each vectorised over every pattern
        fall = g.shift(s).to_numpy(float) - le
        better = np.isfinite(fall) & ~(fall <= best)  # NaN best counts as worse
        best = np.where(better, fall, best)
        hops = np.where(better, s, hops)
    return pd.DataFrame({"fall": best, "hops": hops}, index=stops.index)


def pattern_stats(stops: pd.DataFrame, weights: pd.DataFrame, k: int = STRETCH_K) -> pd.DataFrame:
    """Per-pattern statistics beyond the contract's columns.

    Parameters
    ----------
    stops : pandas.DataFrame
        :func:`gradient.gradient.stop_table` rows (with ``minutes`` where the feed
        has times), ordered by pattern and stop sequence.
    weights : pandas.DataFrame
        The weights table of :func:`gradient.assign.assign`.
    k : int, default 5
        Longest stretch, in stop-to-stop hops, searched for the steepest fall.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``pattern_id``:

        - ``le_first_se``, ``le_last_se``: standard errors of ``le_first`` and
          ``le_last`` (years);
        - ``le_change``: last minus first known value (years), between the stops
          ``le_change_from`` and ``le_change_to``, ``le_change_stops`` stops apart;
          ``le_change_se``, ``le_change_ci_low``, ``le_change_ci_high`` (95%) and
          ``le_change_significant`` (the interval excludes 0);
        - ``steepest_fall``: the largest fall from one stop to another at most
          ``k`` stops further on (years, positive; 0 if it never falls),
          ``steepest_fall_se``, ``steepest_fall_from``, ``steepest_fall_to``
          (stop names) and ``steepest_fall_stops`` (hops);
        - ``slope_per_km``, ``slope_ci_low``, ``slope_ci_high``: :func:`trend` on
          kilometres (years per km);
        - ``slope_per_10min``, ``slope_10min_ci_low``, ``slope_10min_ci_high``:
          :func:`trend` on scheduled riding time (years per 10 minutes; NaN where
          the source has no times).
    """
    s = stops
    valued = s[s["le"].notna()]
    g = valued.groupby("pattern_id", sort=False)
    ends = pd.DataFrame({"a": g["stop_id"].first(), "b": g["stop_id"].last()})
    change = g["le"].last() - g["le"].first()
    change_se = pd.Series(pair_se(weights, ends["a"].to_numpy(), ends["b"].to_numpy()), index=ends.index)
    out = pd.DataFrame({"le_first_se": g["le_se"].first().where(g["le_se"].count() > 0),
                        "le_last_se": g["le_se"].last().where(g["le_se"].count() > 0),
                        "le_change": change, "le_change_se": change_se})
    out["le_change_from"] = g["stop_name"].first().astype("string")
    out["le_change_to"] = g["stop_name"].last().astype("string")
    out["le_change_stops"] = (g["stop_sequence"].last() - g["stop_sequence"].first()).astype("Int64")
    out["le_change_ci_low"] = out["le_change"] - Z95 * out["le_change_se"]
    out["le_change_ci_high"] = out["le_change"] + Z95 * out["le_change_se"]
    sig = (out["le_change_ci_low"] > 0) | (out["le_change_ci_high"] < 0)
    out["le_change_significant"] = sig.astype("boolean").where(out["le_change_se"].notna())

    st = _stretch(s, k)
    has = st["fall"].notna()
    worst = st.loc[has, "fall"].groupby(s.loc[has, "pattern_id"], sort=False).idxmax()
    rows = worst.to_numpy()
    pos = s.index.get_indexer(rows)
    from_pos = pos - st.loc[rows, "hops"].to_numpy()
    fall = pd.Series(st.loc[rows, "fall"].to_numpy(), index=worst.index)
    out["steepest_fall"] = fall.clip(lower=0)
    real = (fall > 0).to_numpy()
    se = pair_se(weights, s["stop_id"].to_numpy()[from_pos], s["stop_id"].to_numpy()[pos])
    out["steepest_fall_se"] = pd.Series(np.where(real, se, np.nan), index=worst.index)
    names = s["stop_name"].astype("string").to_numpy()
    out["steepest_fall_from"] = pd.Series(np.where(real, names[from_pos], None), index=worst.index, dtype="string")
    out["steepest_fall_to"] = pd.Series(np.where(real, names[pos], None), index=worst.index, dtype="string")
    out["steepest_fall_stops"] = pd.Series(np.where(real, st.loc[rows, "hops"], 0), index=worst.index).astype("Int64")

    pid = s["pattern_id"].to_numpy()
    le, se = s["le"].to_numpy(float), s["le_se"].to_numpy(float)
    km = grouped_trend(pid, s["dist_m"].to_numpy(float) / 1000.0, le, se)
    minutes = s["minutes"].to_numpy(float) if "minutes" in s.columns else np.full(len(s), np.nan)
    tm = grouped_trend(pid, minutes / 10.0, le, se)
    fit = pd.concat(
        [km.set_axis(["slope_per_km", "slope_ci_low", "slope_ci_high", "n"], axis=1).drop(columns="n"),
         tm.set_axis(["slope_per_10min", "slope_10min_ci_low", "slope_10min_ci_high", "n"], axis=1)
         .drop(columns="n")],
        axis=1,
    )
    return fit.join(out)


def lowess_profile(dist_m: np.ndarray, le: np.ndarray, frac: float = 0.3) -> np.ndarray:
    """LOWESS-smoothed life expectancy at each stop, for charts (NaN where ``le`` is).

    Parameters
    ----------
    dist_m, le : ndarray
        One pattern's distances (m) and values (years).
    frac : float, default 0.3
        Share of the stops each local fit uses.
    """
    from statsmodels.nonparametric.smoothers_lowess import lowess

    out = np.full(len(le), np.nan)
    ok = np.isfinite(le) & np.isfinite(dist_m)
    if ok.sum() >= 3 and np.ptp(le[ok]) > 0:
        with np.errstate(invalid="ignore", divide="ignore"):  # repeated distances at a terminus
            out[ok] = lowess(le[ok], dist_m[ok], frac=frac, it=0, return_sorted=False)
    elif ok.any():
        out[ok] = le[ok]  # a constant profile is its own smooth
    return out


def rank_network(patterns: pd.DataFrame) -> pd.DataFrame:
    """Rank every pattern by range, by steepest stretch and by slope.

    Parameters
    ----------
    patterns : pandas.DataFrame
        :func:`gradient.gradient.pattern_table`.

    Returns
    -------
    pandas.DataFrame
        ``patterns`` with ``rank_range`` (1 = widest ``le_range``), ``rank_fall``
        (1 = largest ``steepest_fall``) and ``rank_slope`` (1 = largest absolute
        ``slope_per_km``); ties share the better rank, patterns without a value
        have none.
    """
    out = patterns.copy()
    for col, source in (("rank_range", out["le_range"]), ("rank_fall", out["steepest_fall"]),
                        ("rank_slope", out["slope_per_km"].abs())):
        out[col] = source.rank(ascending=False, method="min").astype("Int64")
    return out
