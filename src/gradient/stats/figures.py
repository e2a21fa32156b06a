"""Statistics a researcher can cite, every one from the model of :mod:`gradient.stats.uncertainty`.

- :func:`stop_tests`: every stop-to-stop change with its exact standard error, z and p, and
  a flag corrected within its family (Holm by default; identical tests, the same areas on
  many routes, count once).
- :func:`pattern_stats`: per pattern, the end-to-end change, the steepest stretch and the
  biggest stop-to-stop fall, each with the interval of the run's one critical value
  (:mod:`gradient.stats.claims`: simultaneous over every claim a sentence may choose, for
  the route or, with ``family="network"``, for every route at once), and the trends of
  :mod:`gradient.stats.trends` (for the pattern on its own; never used in a sentence).

Every interval is ``1 - alpha`` (95% by default); the stop-to-stop correction runs within
each route, or over the whole network's distinct tests with ``family="network"``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtr

from ..errors import OptionError
from ..options import CORRECTIONS, Options
from .claims import Claims
from .trends import area_meta_regression, area_positions, exact_trend
from .uncertainty import pair_tests


def stop_tests(stops: pd.DataFrame, weights: pd.DataFrame, options: Options | None = None) -> pd.DataFrame:
    """Standard error, z-score and significance of every stop-to-stop change.

    Parameters
    ----------
    stops : pandas.DataFrame
        :func:`gradient.story.tables.stop_table` rows (``pattern_id``, ``stop_id``,
        ``le_delta``), ordered by pattern and stop sequence.
    weights : pandas.DataFrame
        The weights table of :func:`gradient.assign.catchments.assign`.
    options : Options, optional
        ``alpha``, ``correction`` (``holm``: family-wise error rate, valid under any
        dependence; ``fdr_by``: Benjamini-Yekutieli false discovery rate, valid under any
        dependence; ``fdr_bh``: Benjamini-Hochberg, *not* guaranteed here because
        neighbouring changes share an area and are negatively correlated; ``none``) and
        ``family`` (``route``: each route's tests; ``network``: every route's).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``stops``: ``le_delta_se`` (years), ``le_delta_z``, ``le_delta_p``
        (two-sided, unadjusted) and ``le_delta_significant`` (boolean; NA where the
        change or its error is unknown, False where both stops take the same areas and
        the change is exactly 0). Within a family, tests of the same areas with the same
        weights (the same area pair met again, or on another route) are one test.
    """
    options = options or Options()
    prev = stops.groupby("pattern_id", sort=False)["stop_id"].shift()
    has = stops["le_delta"].notna().to_numpy()
    se = np.full(len(stops), np.nan)
    first, second = prev.to_numpy(dtype=object)[has], stops["stop_id"].to_numpy(dtype=object)[has]
    se[has], pair_keys = pair_tests(weights, first, second)
    delta = stops["le_delta"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, delta / se, np.nan)
    p = 2 * ndtr(-np.abs(z))
    out = pd.DataFrame({"le_delta_se": se, "le_delta_z": z, "le_delta_p": p}, index=stops.index)
    sig = pd.Series(pd.NA, index=stops.index, dtype="boolean")
    sig[(se == 0) & has] = False
    tested = np.isfinite(p)
    if tested.any():
        keys = np.full(len(stops), b"", dtype=object)
        keys[has] = pair_keys
        fam = stops["route_id"].to_numpy(dtype=object) if options.family == "route" else np.zeros(len(stops))
        frame = pd.DataFrame({"fam": fam[tested], "key": keys[tested], "p": p[tested]})
        unique = frame.drop_duplicates(["fam", "key"])
        if options.correction == "none":
            reject = unique["p"].to_numpy() < options.alpha
        else:
            reject = grouped_reject(unique["p"].to_numpy(), unique["fam"].to_numpy(), options.alpha, options.correction)
        decided = pd.Series(reject, index=pd.MultiIndex.from_frame(unique[["fam", "key"]]))
        sig[tested] = decided.reindex(pd.MultiIndex.from_frame(frame[["fam", "key"]])).to_numpy(bool)
    out["le_delta_significant"] = sig
    return out


def grouped_reject(p: np.ndarray, groups: np.ndarray, alpha: float, method: str) -> np.ndarray:
    """Holm, Benjamini-Hochberg or Benjamini-Yekutieli rejections within each group, all groups at once.

    The decisions of statsmodels' ``multipletests(p, alpha, method)`` applied to each
    group (a test checks this), with one sort and grouped scans: ``multipletests`` runs
    a garbage collection on every call, which makes a loop over a city's thousand
    patterns take minutes.

    Parameters
    ----------
    p : ndarray
        p-values (finite).
    groups : ndarray
        Group label of each p-value (the family).
    alpha : float
        Family-wise error rate (``holm``) or false discovery rate (``fdr_bh``, ``fdr_by``).
    method : {'holm', 'fdr_bh', 'fdr_by'}

    Returns
    -------
    ndarray of bool
        Whether each hypothesis is rejected.
    """
    if method not in CORRECTIONS or method == "none":
        raise OptionError(f"correction={method!r} is not one of holm, fdr_by, fdr_bh", param="correction")
    frame = pd.DataFrame({"g": groups, "p": p}).sort_values(["g", "p"], kind="stable")
    g = frame.groupby("g", sort=False)
    rank = g.cumcount().to_numpy() + 1
    m = g["p"].transform("size").to_numpy()
    if method == "holm":  # step down: reject while p_(j) <= alpha / (m - j + 1)
        ok = pd.Series(frame["p"].to_numpy() <= alpha / (m - rank + 1), index=frame.index)
        reject = ok.groupby(frame["g"], sort=False).cummin().to_numpy()
    else:  # step up: reject ranks up to the largest k with p_(k) <= k alpha / (m c_m)
        c = np.ones(len(m))
        if method == "fdr_by":
            harmonic = np.cumsum(1.0 / np.arange(1, int(m.max(initial=1)) + 1))
            c = harmonic[m - 1]
        ok = frame["p"].to_numpy() <= rank * alpha / (m * c)
        kmax = pd.Series(np.where(ok, rank, 0), index=frame.index).groupby(frame["g"], sort=False).transform("max")
        reject = rank <= kmax.to_numpy()
    out = np.empty(len(p), dtype=bool)
    out[frame.index.to_numpy()] = reject
    return out


def _largest_fall(cand: pd.DataFrame, stops: pd.DataFrame, c: pd.Series, prefix: str, labels: pd.Index) -> pd.DataFrame:
    """The largest fall of each pattern among the stretches ``cand``, with its interval at half-width ``c se``."""
    # each pattern's first by largest fall, then earliest end, then fewest stops (a missing fall last)
    codes = pd.factorize(cand["pattern_id"])[0]
    est = cand["est"].to_numpy(float)
    order = np.lexsort((cand["hops"].to_numpy(), cand["to_row"].to_numpy(), -est, codes))
    ranked = codes[order]
    first = order[np.r_[True, ranked[1:] != ranked[:-1]]] if len(order) else order
    best = cand.iloc[first].set_index("pattern_id").reindex(labels)
    fall = best["est"]
    real = (fall > 0).to_numpy()
    names = stops["stop_name"].astype("string").to_numpy()
    seqs = stops["stop_sequence"].to_numpy()
    fr = best["from_row"].fillna(-1).astype(int).to_numpy()
    tr = best["to_row"].fillna(-1).astype(int).to_numpy()
    se = best["se"].to_numpy(float)
    crit = c.reindex(labels).to_numpy(float)
    low, high = fall.to_numpy() - crit * se, fall.to_numpy() + crit * se
    out = pd.DataFrame(index=labels)
    out[prefix] = fall.clip(lower=0)
    out[f"{prefix}_se"] = np.where(real, se, np.nan)
    out[f"{prefix}_from"] = pd.array(np.where(real, names[fr], None), dtype="string")
    out[f"{prefix}_to"] = pd.array(np.where(real, names[tr], None), dtype="string")
    out[f"{prefix}_from_seq"] = pd.array(np.where(real, seqs[fr], None), dtype="Int64")
    out[f"{prefix}_to_seq"] = pd.array(np.where(real, seqs[tr], None), dtype="Int64")
    out[f"{prefix}_ci_low"] = np.where(real, low, np.nan)
    out[f"{prefix}_ci_high"] = np.where(real, high, np.nan)
    out[f"{prefix}_significant"] = pd.array(
        np.where(real & np.isfinite(low), low > 0, np.where(real, pd.NA, False)), dtype="boolean"
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        out[f"{prefix}_robustness"] = np.where(real & (se > 0), fall.to_numpy() / (crit * se), np.nan)
    out[f"{prefix}_stops"] = pd.array(np.where(real, best["hops"].fillna(0), 0), dtype="Int64")
    return out


def pattern_stats(
    stops: pd.DataFrame, weights: pd.DataFrame, options: Options | None = None, claims: Claims | None = None
) -> pd.DataFrame:
    """Per-pattern figures: ends and change, steepest stretch, biggest stop-to-stop fall, trends.

    Every interval of a change uses the run's one critical value for the pattern's route
    (:mod:`gradient.stats.claims`): the interval a sentence prints is the table's.

    Parameters
    ----------
    stops : pandas.DataFrame
        :func:`gradient.story.tables.stop_table` rows (with ``minutes`` where the feed has
        times), ordered by pattern and stop sequence, index ``0..n-1``.
    weights : pandas.DataFrame
        The weights table of :func:`gradient.assign.catchments.assign`.
    options : Options, optional
        ``alpha``, ``family``, ``stretch_k``, ``draws``, ``se_scale``.
    claims : Claims, optional
        :func:`gradient.stats.claims.build` of the same stops (built here if not given;
        without ``route_id`` each pattern is its own route).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``pattern_id``; years unless said:

        - ``le_first``, ``le_last`` and their standard errors ``le_first_se``,
          ``le_last_se`` (of those very stops); ``le_change`` (last minus first), between
          ``le_change_from`` and ``le_change_to``, ``le_change_stops`` stops apart, its
          ``le_change_se``, interval ``le_change_ci_low``/``_high`` (half-width ``c se``),
          ``le_change_significant`` (the interval excludes 0) and ``le_change_robustness``
          (``|change| / (c se)``: how many times wider the errors could be before the
          change stops being told apart from 0);
        - ``steepest_fall`` (the largest fall from one stop to another at most
          ``stretch_k`` stops on; 0 if it never falls), ``_se``, ``_from``/``_to``
          (names), ``_from_seq``/``_to_seq`` (stop sequences), ``_stops`` (hops), the
          interval ``_ci_low``/``_ci_high``, ``_significant`` when its lower end is above
          0, and ``_robustness``;
        - ``max_drop`` and the same columns for the biggest fall between consecutive stops;
        - ``slope_per_km``, ``slope_ci_low``, ``slope_ci_high``, ``slope_se`` (years per
          km) and ``slope_per_10min``, ``slope_10min_ci_low``, ``slope_10min_ci_high``
          (years per 10 scheduled minutes), exact under the model for the pattern on its
          own (:func:`gradient.stats.trends.exact_trend`; never used in a sentence);
        - ``gen_slope_per_km``, ``gen_slope_ci_low``, ``gen_slope_ci_high``, ``gen_tau``
          (years) and ``n_areas_le`` (distinct areas with a value and a standard
          error): :func:`gradient.stats.trends.area_meta_regression`.
    """
    options = options or Options()
    s = stops.reset_index(drop=True)
    if "route_id" not in s:
        s = s.assign(route_id=s["pattern_id"])
    if claims is None:
        from .claims import build

        claims = build(s, weights, s.drop_duplicates("pattern_id")[["pattern_id", "route_id"]], options)
    labels = pd.Index(pd.unique(s["pattern_id"]))
    route_of = s.drop_duplicates("pattern_id").set_index("pattern_id")["route_id"]
    c = pd.Series(claims.c.reindex(route_of.reindex(labels)).to_numpy(float), index=labels)
    cand = claims.candidates
    out = _ends(s, cand[(cand["kind"] == "change") & ~cand["screened"]], c, labels)
    stretches = cand[cand["kind"] == "stretch"]
    out = out.join(_largest_fall(stretches, s, c, "steepest_fall", labels))
    drop = _largest_fall(stretches[stretches["hops"] == 1], s, c, "max_drop", labels)
    out = out.join(drop.drop(columns=["max_drop_stops"]))
    km = s["dist_m"].to_numpy(float) / 1000.0
    minutes = s["minutes"].to_numpy(float) / 10.0 if "minutes" in s else np.full(len(s), np.nan)
    trend_km = exact_trend(s, km, weights, options.z)
    trend_min = exact_trend(s, minutes, weights, options.z)
    out["slope_per_km"], out["slope_se"] = trend_km["slope"], trend_km["se"]
    out["slope_ci_low"], out["slope_ci_high"] = trend_km["ci_low"], trend_km["ci_high"]
    out["slope_per_10min"] = trend_min["slope"]
    out["slope_10min_ci_low"], out["slope_10min_ci_high"] = trend_min["ci_low"], trend_min["ci_high"]
    gen = area_meta_regression(area_positions(s, weights, km), labels, options.alpha)
    out["gen_slope_per_km"] = gen["slope"]
    out["gen_slope_ci_low"], out["gen_slope_ci_high"] = gen["ci_low"], gen["ci_high"]
    out["gen_tau"], out["n_areas_le"] = gen["tau"], gen["n_areas"]
    return out


def _ends(s: pd.DataFrame, ends: pd.DataFrame, c: pd.Series, labels: pd.Index) -> pd.DataFrame:
    """The first and last stops with a value, and the change between them with its interval."""
    e = ends.set_index("pattern_id").reindex(labels)
    has = e["from_row"].notna().to_numpy()
    fr = e["from_row"].fillna(0).astype(int).to_numpy()
    tr = e["to_row"].fillna(0).astype(int).to_numpy()
    valued = s[s["le"].notna()]
    g = valued.groupby("pattern_id", sort=False)
    first = valued.loc[g.head(1).index].set_index("pattern_id").reindex(labels)
    last = valued.loc[g.tail(1).index].set_index("pattern_id").reindex(labels)
    out = pd.DataFrame(index=labels)
    out["le_first"], out["le_last"] = first["le"], last["le"]
    out["le_first_se"], out["le_last_se"] = first["le_se"], last["le_se"]  # the very stops' own errors
    out["le_change"] = np.where(has, -e["est"].to_numpy(float), np.where(first["le"].notna(), 0.0, np.nan))
    out["le_change_se"] = np.where(has, e["se"].to_numpy(float), np.where(first["le"].notna(), 0.0, np.nan))
    names = s["stop_name"].astype("string").to_numpy()
    seqs = s["stop_sequence"].to_numpy()
    out["le_change_from"] = pd.array(np.where(has, names[fr], first["stop_name"].to_numpy(object)), dtype="string")
    out["le_change_to"] = pd.array(np.where(has, names[tr], last["stop_name"].to_numpy(object)), dtype="string")
    out["le_change_from_seq"] = pd.array(np.where(has, seqs[fr], first["stop_sequence"]), dtype="Int64")
    out["le_change_to_seq"] = pd.array(np.where(has, seqs[tr], last["stop_sequence"]), dtype="Int64")
    out["le_change_stops"] = (out["le_change_to_seq"] - out["le_change_from_seq"]).astype("Int64")
    set_change_interval(out, c.to_numpy(float))
    return out


def set_change_interval(out: pd.DataFrame, c: np.ndarray | float) -> None:
    """``le_change_ci_low``/``_high`` at half-width ``c`` standard errors, its flag and robustness."""
    out["le_change_ci_low"] = out["le_change"] - c * out["le_change_se"]
    out["le_change_ci_high"] = out["le_change"] + c * out["le_change_se"]
    sig = (out["le_change_ci_low"] > 0) | (out["le_change_ci_high"] < 0)
    out["le_change_significant"] = sig.astype("boolean").where(out["le_change_se"].notna())
    with np.errstate(invalid="ignore", divide="ignore"):
        rob = out["le_change"].abs() / (c * out["le_change_se"])
    out["le_change_robustness"] = rob.where(out["le_change_se"] > 0)


__all__ = ["grouped_reject", "pattern_stats", "set_change_interval", "stop_tests"]
