"""Calibration: how often what a run prints is false, on London's and Tampa's real structures.

Run from the project root:

    .venv/bin/python benchmarks/calibration.py                 # London and Tampa, 1,000 networks each
    .venv/bin/python benchmarks/calibration.py --reps 100      # a quick look

Each city is run once on its real data (London: TfL's 1,453 route patterns on England's MSOAs,
ONS 2009-2013, men; Tampa: HART's 85 patterns on Hillsborough's tracts, USALEEP). Its structure
(stops, their areas, every candidate claim, the critical values) is then kept fixed while the
areas' estimates are drawn again around a **truth that is not the model's prior**, and every
claim's verdict is recomputed by the library's own ``gradient.stats.claims.verdicts``
(``gradient.stats.calibration``):

- truths: **no gradient** (every area 80 years); the **published values** themselves; a
  **smoothed truth** (each area the mean of its own and its neighbours' published values);
- errors: as published; **understated** (the true errors 25% larger than published);
  **correlated** between touching areas (0.39 on average, the referee's figure); **heavier
  tails** (Student's t with 5 degrees of freedom, the same standard deviation).

It prints, each with its Monte Carlo error:

- how often some printed sentence anywhere in the network is false (a change stated where the
  truth has none, or in the wrong direction), with ``family="network"`` (the default);
- with ``family="route"``, how often a route's sentence is false, per route;
- how often the count of stretches of street is false (some counted place changes by less
  than the count says);
- how often the table's unwidened flags are false somewhere;
- how often the rank sets miss the true place of any of the 20 routes whose truth is most
  extreme (all 20 at once);
- the critical values, their Monte Carlo error at the default draws, and what the run can
  detect with 80% power.
"""

from __future__ import annotations

import argparse
import platform
import time
import warnings

import numpy as np
import pandas as pd

from gradient import Options, datasets, load_areas, pipeline
from gradient.stats import calibration
from gradient.stats.calibration import Errors

ERRORS = {
    "as published": Errors(),
    "25% larger than published": Errors(scale=1.25),
    "correlated 0.39 between neighbours": Errors(rho=0.39),
    "Student's t, 5 df": Errors(df=5),
}


def run_city(name: str, family: str, draws: int):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name == "london":
            areas = load_areas(
                datasets.get_path("msoa_boundaries"), datasets.get_path("ons_msoa_le_2009_2013"), "ons-msoa", sex="male"
            )
            result = pipeline.run(
                datasets.get_path("tfl_sequences"),
                areas,
                route_lines=datasets.get_path("tfl_route_lines"),
                kind="tfl",
                family=family,
                draws=draws,
            )
        else:
            areas = load_areas(datasets.get_path("hillsborough_tracts"), datasets.get_path("usaleep"), "usaleep")
            result = pipeline.run(datasets.get_path("hart_gtfs"), areas, family=family, draws=draws)
    return result, areas


def rebuild(result) -> calibration.Structure:
    """The run's claims and structure (the claims of ``pipeline.run`` rebuilt from its tables)."""
    from gradient.stats import claims as claims_
    from gradient.stats.uncertainty import Model

    stops = result.stops.reset_index(drop=True)
    built = claims_.build(stops, result.weights, result.patterns, result.options, Model(result.weights))
    return calibration.structure(stops, result.weights, built)


def truths(st: calibration.Structure, areas) -> dict[str, np.ndarray]:
    frame = areas.frame.drop_duplicates("area_id").set_index(areas.frame.drop_duplicates("area_id")["area_id"])
    published = frame["le"].reindex(st.areas).to_numpy(float)
    adj = calibration.adjacency(areas.frame, st.areas)
    deg = np.asarray(adj.sum(axis=1)).ravel()
    filled = np.where(np.isfinite(published), published, np.nanmean(published))
    smooth = (filled + adj @ filled) / (1 + deg)
    return {"no gradient": np.full(len(st.areas), 80.0), "published values": filled, "smoothed": smooth}, adj


def markdown(frame: pd.DataFrame) -> str:
    """A table as Markdown (no extra dependency)."""
    head = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def pct(p: float, se: float) -> str:
    return f"{100 * p:.1f}% ± {100 * se:.1f}"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=1000, help="simulated networks per row (default 1000)")
    parser.add_argument("--rank-reps", type=int, default=400, help="networks for the rank sets (default 400)")
    parser.add_argument("--cities", nargs="+", default=["london", "tampa"])
    parser.add_argument("--seed", type=int, default=20261204)
    args = parser.parse_args(argv)
    draws = Options().draws
    print(
        f"# calibration, {time.strftime('%Y-%m-%d')}, {platform.machine()}, {args.reps} networks a row, "
        f"{draws} draws for every critical value"
    )
    for name in args.cities:
        start = time.perf_counter()
        rng = np.random.default_rng(args.seed)
        net, areas = run_city(name, "network", draws)
        route, _ = run_city(name, "route", draws)
        st_net, st_route = rebuild(net), rebuild(route)
        cand = st_net.claims.candidates
        print(
            f"\n## {name}: {net.patterns['pattern_id'].nunique()} patterns on {st_net.n_routes} routes, "
            f"{len(st_net.areas)} areas, {len(cand):,} candidate claims ({st_net.claims.critical.n_overall:,} distinct)"
        )
        crit = st_net.claims.critical
        route_c = st_route.claims.c.dropna()
        print(
            f"critical value, network: {crit.overall:.3f} (Monte Carlo error {100 * crit.mc_error:.2f}%); "
            f"per route: median {route_c.median():.3f}, from {route_c.min():.3f} to {route_c.max():.3f}"
        )
        print(f"power: {net.summary.power_sentence}")
        print(f"power, a route on its own: {route.summary.power_sentence}")
        truth, adj = truths(st_net, areas)
        rows = []
        for truth_name, values in truth.items():
            for err_name, err in ERRORS.items():
                r = calibration.simulate(st_net, values, args.reps, rng, err, adj)
                rr = calibration.simulate(st_route, values, max(args.reps // 4, 50), rng, err, adj)
                rows.append(
                    {
                        "truth": truth_name,
                        "errors": err_name,
                        "a false sentence anywhere (network)": pct(r.any_false, r.any_false_se),
                        "a route's sentence false (route)": pct(rr.route_false, rr.route_false_se),
                        "the count of stretches false": pct(r.count_false, r.count_false_se),
                        "a false table flag anywhere": pct(
                            r.significant_any, np.sqrt(max(r.significant_any * (1 - r.significant_any), 1e-12) / r.reps)
                        ),
                    }
                )
        print()
        print(markdown(pd.DataFrame(rows)))
        print()
        cover = []
        for truth_name in ("published values", "smoothed"):
            for err_name in ("as published", "25% larger than published"):
                p, se = calibration.rank_coverage(
                    st_net, truth[truth_name], args.rank_reps, rng, top=20, errors=ERRORS[err_name], neighbours=adj
                )
                cover.append({"truth": truth_name, "errors": err_name, "rank sets hold all 20": pct(p, se)})
        print(markdown(pd.DataFrame(cover)))
        print(f"\n({name}: {time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
