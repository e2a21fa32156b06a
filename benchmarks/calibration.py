"""Calibration: whether every flag keeps its error rate, and every interval its coverage.

Run from the project root:

    .venv/bin/python benchmarks/calibration.py               # London and Tampa, full table
    .venv/bin/python benchmarks/calibration.py --reps 10     # a quick look

On the real structures (London: TfL's 1,453 route patterns on England's MSOAs; Tampa:
HART's 85 patterns on Hillsborough's tracts; real stops, real sequences of areas, real
published standard errors), it replaces the areas' estimates by simulated ones whose
truth is known and reruns the library's own statistics (``tables.stop_table`` and
``tables.pattern_table``, the very code of a run) each time:

- **no gradient**: every area's true life expectancy is the same; estimates are that plus
  a normal error with the area's published standard error. Every flag that states a
  change is then a false claim: its rate is printed beside what it should be.
- **a realistic truth**: the true values are the areas' empirical-Bayes posterior means
  (real gradients, smoothed of noise); the coverage of every interval (the true value of
  what it estimates lies inside it) is printed.
- **the generalisable gradient**: each pattern's areas get true values from a known
  line plus area-to-area variation (``tau`` = 2 years), so the meta-regression's interval
  can be checked against the line's true slope.
- **the ranking**: how far the top 20 routes' ranking statistic overstates their true
  range, for the naive ``le_range`` and for ``eb_range``, and how often a route's true
  place lies inside its rank interval.

Rates are means over replications; their Monte Carlo errors are the standard deviation
of the per-replication rates over the square root of the number of replications (patterns
that share areas are not independent, so the patterns are not counted as draws).
"""

from __future__ import annotations

import argparse
import platform
import time
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gradient import Options, datasets, load_areas, pipeline
from gradient.areas import doubt
from gradient.assign.catchments import assign
from gradient.stats.trends import area_meta_regression, area_positions
from gradient.story import tables


@dataclass
class City:
    name: str
    patterns: pd.DataFrame
    pattern_stops: pd.DataFrame
    assignment: pd.DataFrame
    weights: pd.DataFrame
    areas: pd.DataFrame


def city(name: str) -> City:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name == "london":
            areas = load_areas(datasets.get_path("msoa_boundaries"), datasets.get_path("ons_msoa_le"), "ons-msoa")
            patterns, ps, _ = pipeline.read_source(
                datasets.get_path("tfl_sequences"), route_lines=datasets.get_path("tfl_route_lines"), kind="tfl"
            )
        else:
            areas = load_areas(datasets.get_path("hillsborough_tracts"), datasets.get_path("usaleep"), "usaleep")
            patterns, ps, _ = pipeline.read_source(datasets.get_path("hart_gtfs"), kind="gtfs")
        assignment, weights = assign(ps, areas, return_weights=True)
    return City(name, patterns, ps, assignment, weights, areas)


def with_values(c: City, le: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The city's assignment, weights and areas with each area's estimate replaced by ``le``."""
    weights = c.weights.assign(area_le=le.reindex(c.weights["area_id"]).to_numpy())
    stop_le = (weights["weight"] * weights["area_le"]).groupby(weights["stop_id"]).sum()
    assignment = c.assignment.assign(le=stop_le.reindex(c.assignment["stop_id"]).to_numpy())
    assignment.loc[c.assignment["le"].isna(), "le"] = np.nan
    areas = c.areas.assign(le=le.reindex(c.areas["area_id"]).to_numpy())
    areas.loc[c.areas["le"].isna(), "le"] = np.nan
    return assignment, weights, areas


def run_once(c: City, le: pd.Series, options: Options):
    assignment, weights, areas = with_values(c, le)
    eb = doubt.shrink(areas)
    stops = tables.stop_table(c.patterns, c.pattern_stops, assignment, weights, options, eb=eb)
    patterns = tables.pattern_table(c.patterns, stops, weights, options, eb=eb)
    return stops, patterns, weights


def true_at(weights: pd.DataFrame, truth: pd.Series) -> pd.Series:
    """Each stop's true value: its weights applied to the areas' true values."""
    return (weights["weight"] * truth.reindex(weights["area_id"]).to_numpy()).groupby(weights["stop_id"]).sum()


def excludes0(low, high) -> pd.Series:
    return (low > 0) | (high < 0)


def no_gradient(c: City, reps: int, options: Options, rng: np.random.Generator) -> pd.DataFrame:
    """Per replication, the share of patterns with each claim, when nothing changes anywhere."""
    known = c.areas.dropna(subset=["le"]).drop_duplicates("area_id").set_index("area_id")
    rows = []
    for _ in range(reps):
        le = 80.0 + known["le_se"] * rng.standard_normal(len(known))
        stops, p, _ = run_once(c, le, options)
        valued = p["n_stops_le"] >= 2
        p = p[valued]
        per_pattern_flags = stops["le_delta_significant"].fillna(False).astype(bool).groupby(stops["pattern_id"]).any()
        rows.append(
            {
                "steepest stretch flagged": p["steepest_fall_significant"].fillna(False).mean(),
                "biggest stop-to-stop fall flagged": p["max_drop_significant"].fillna(False).mean(),
                "end-to-end change flagged": p["le_change_significant"].fillna(False).mean(),
                "slope interval excludes 0": excludes0(p["slope_ci_low"], p["slope_ci_high"]).mean(),
                "slope per 10 min excludes 0": excludes0(p["slope_10min_ci_low"], p["slope_10min_ci_high"])[
                    p["slope_10min_ci_low"].notna()
                ].mean()
                if p["slope_10min_ci_low"].notna().any()
                else np.nan,
                "generalisable slope excludes 0": excludes0(p["gen_slope_ci_low"], p["gen_slope_ci_high"])[
                    p["gen_slope_ci_low"].notna()
                ].mean(),
                "range told apart": p["le_range_significant"].fillna(False).mean(),
                "headline states a change": (p["lead"] != "none").mean(),
                "any stop-to-stop flag (Holm)": per_pattern_flags.reindex(p["pattern_id"]).fillna(False).mean(),
                "top-20 routes' eb_range (true range 0)": p[p["route_story"]].nsmallest(20, "rank")["eb_range"].mean(),
                "network: any stretch flagged": float(p["steepest_fall_significant"].fillna(False).any()),
                "network: any change flagged": float(p["le_change_significant"].fillna(False).any()),
                "network: any slope excludes 0": float(excludes0(p["slope_ci_low"], p["slope_ci_high"]).any()),
                "network: any stop-to-stop flag": float(per_pattern_flags.any()),
            }
        )
    return pd.DataFrame(rows)


def coverage(c: City, reps: int, options: Options, rng: np.random.Generator) -> pd.DataFrame:
    """Per replication, the share of intervals that hold the true value, under a realistic truth."""
    truth = doubt.shrink(c.areas)["le_eb"]
    known = c.areas.dropna(subset=["le"]).drop_duplicates("area_id").set_index("area_id")
    truth = truth.reindex(known.index)
    rows = []
    for _ in range(reps):
        le = truth + known["le_se"] * rng.standard_normal(len(known))
        stops, p, weights = run_once(c, le, options)
        t = true_at(weights, truth)
        st = stops.assign(true=t.reindex(stops["stop_id"]).to_numpy())
        at = st.set_index(["pattern_id", "stop_sequence"])["true"]

        def true_diff(a_col: str, b_col: str, p=p, at=at) -> pd.Series:
            ok = p[a_col].notna() & p[b_col].notna()
            a = at.reindex(pd.MultiIndex.from_arrays([p.loc[ok, "pattern_id"], p.loc[ok, a_col].astype(int)]))
            b = at.reindex(pd.MultiIndex.from_arrays([p.loc[ok, "pattern_id"], p.loc[ok, b_col].astype(int)]))
            return pd.Series(a.to_numpy() - b.to_numpy(), index=p.index[ok])

        change = -true_diff("le_change_from_seq", "le_change_to_seq")
        fall = true_diff("steepest_fall_from_seq", "steepest_fall_to_seq")
        drop = true_diff("max_drop_from_seq", "max_drop_to_seq")
        slope_true = _true_slope(st, weights, truth)
        p_ = p.set_index("pattern_id")

        def covered(est_low, est_high, true, tol=1e-9) -> float:  # tol: an exact 0 is 0, not 1e-14
            ok = true.notna() & est_low.reindex(true.index).notna()
            t, lo, hi = true[ok], est_low[ok.index[ok]], est_high[ok.index[ok]]
            return float(((lo - tol <= t) & (t <= hi + tol)).mean())

        ch = pd.Series(change.to_numpy(), index=p.loc[change.index, "pattern_id"])
        fa = pd.Series(fall.to_numpy(), index=p.loc[fall.index, "pattern_id"])
        dr = pd.Series(drop.to_numpy(), index=p.loc[drop.index, "pattern_id"])
        rows.append(
            {
                "end-to-end change": covered(p_["le_change_ci_low"], p_["le_change_ci_high"], ch),
                "steepest stretch (simultaneous)": covered(p_["steepest_fall_ci_low"], p_["steepest_fall_ci_high"], fa),
                "biggest stop-to-stop fall (simultaneous)": covered(p_["max_drop_ci_low"], p_["max_drop_ci_high"], dr),
                "slope per km": covered(p_["slope_ci_low"], p_["slope_ci_high"], slope_true),
                "naive top-20 le_range over true range": _overstatement(p, at, "le_range"),
                "top-20 eb_range over true range": _overstatement(p, at, "eb_range"),
                "rank interval holds the true rank": _rank_coverage(p, at),
            }
        )
    return pd.DataFrame(rows)


def _true_slope(st: pd.DataFrame, weights: pd.DataFrame, truth: pd.Series) -> pd.Series:
    """The estimand of ``slope_per_km``: the same weighted least squares applied to the true values."""
    from gradient.stats.trends import slope_coefficients

    ok = st["le"].notna() & st["dist_m"].notna()
    sub = st[ok]
    codes, labels = pd.factorize(sub["pattern_id"])
    coef, _ = slope_coefficients(codes, sub["dist_m"].to_numpy(float) / 1000, sub["le_se"].to_numpy(float))
    good = np.isfinite(coef)
    return pd.Series(
        np.bincount(codes[good], weights=coef[good] * sub["true"].to_numpy()[good], minlength=len(labels)), index=labels
    )


def _true_ranges(p: pd.DataFrame, at: pd.Series) -> pd.Series:
    g = at.dropna().groupby(level=0)
    return (g.max() - g.min()).reindex(p["pattern_id"]).set_axis(p.index)


def _overstatement(p: pd.DataFrame, at: pd.Series, col: str) -> float:
    stories = p[p["route_story"]]
    true = _true_ranges(p, at)
    top = stories.nlargest(20, col)
    return float((top[col] - true.reindex(top.index)).mean())


def _rank_coverage(p: pd.DataFrame, at: pd.Series) -> float:
    true = _true_ranges(p, at)
    route_true = true.groupby(p["route_id"]).max()
    true_rank = route_true.rank(ascending=False, method="min")
    s = p[p["route_story"] & p["rank"].notna()]
    r = true_rank.reindex(s["route_id"]).to_numpy()
    return float(((s["rank_low"].to_numpy(float) <= r) & (r <= s["rank_high"].to_numpy(float))).mean())


def generalisable(c: City, reps: int, rng: np.random.Generator, slope: float = -0.5, tau: float = 2.0) -> pd.DataFrame:
    """Coverage of the generalisable gradient's interval when each pattern's areas follow a known line."""
    _, p, weights = run_once(
        c, c.areas.dropna(subset=["le"]).drop_duplicates("area_id").set_index("area_id")["le"], Options()
    )
    stops = tables.stop_table(c.patterns, c.pattern_stops, c.assignment, c.weights, Options(draws=200))
    along = area_positions(stops, c.weights, stops["dist_m"].to_numpy(float) / 1000)
    labels = pd.Index(pd.unique(stops["pattern_id"]))
    rows = []
    for _ in range(reps):
        truth = 80 + slope * along["x"] + tau * rng.standard_normal(len(along))
        est = along.assign(le=truth + along["le_se"] * rng.standard_normal(len(along)))
        fit = area_meta_regression(est, labels).dropna(subset=["ci_low"])
        inside = (fit["ci_low"] <= slope) & (slope <= fit["ci_high"])
        rows.append(
            {"generalisable slope (known line)": float(inside.mean()), "patterns with 6 or more areas": len(fit)}
        )
    return pd.DataFrame(rows)


def summarise(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"mean": frame.mean(), "mc_error": frame.std(ddof=1) / np.sqrt(len(frame))})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=40, help="replications per city and scenario (default 40)")
    parser.add_argument("--cities", nargs="+", default=["tampa", "london"], choices=["tampa", "london"])
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, python {platform.python_version()}; {args.reps} replications")
    rng = np.random.default_rng(args.seed)
    pd.set_option("display.width", 140)
    for name in args.cities:
        start = time.perf_counter()
        c = city(name)
        print(f"\n== {name}: {len(c.patterns)} patterns, {c.weights['area_id'].nunique()} areas used ==")
        for label, options in (("pattern family", Options()), ("network family", Options(family="network"))):
            print(
                f"-- no gradient, {label} (should be: stretch and stop-to-stop falls about 2.5%, two-sided flags 5%) --"
            )
            print(summarise(no_gradient(c, args.reps, options, rng)).round(4).to_string())
        print("-- realistic truth (empirical-Bayes means): coverage, should be at least 0.95 --")
        print(summarise(coverage(c, args.reps, Options(), rng)).round(4).to_string())
        print("-- generalisable gradient, known line, tau = 2 --")
        print(summarise(generalisable(c, args.reps * 5, rng)).round(4).to_string())
        print(f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
