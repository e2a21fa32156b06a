"""Claims: one critical value for every claim a sentence may choose, stories that lead only on what
holds, rank sets that hold their printed place, stretches listed once, and a small seeded
calibration whose truth is known (the full one is benchmarks/calibration.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import ndtri

from gradient import Options
from gradient.options import Z95
from gradient.stats import calibration, claims
from gradient.stats.ranking import rank_routes, rank_sets
from gradient.stats.stretches import stretches


def network(routes: dict[str, list[tuple[str, float, float]]], doubt: dict[str, str] | None = None):
    """Stops, weights and patterns of routes given as lists of (area, estimate, se), one stop per entry.

    Each route runs one way (direction 0); a stop takes its area alone (the point method).
    """
    doubt = doubt or {}
    rows, weights, patterns = [], [], []
    for r, stops in routes.items():
        pid = f"{r}-0"
        patterns.append({"pattern_id": pid, "route_id": r, "route_name": r, "direction_id": 0})
        for k, (area, le, se) in enumerate(stops):
            sid = f"{r}s{k}"
            rows.append(
                {
                    "pattern_id": pid,
                    "route_id": r,
                    "route_name": r,
                    "stop_sequence": k + 1,
                    "stop_id": sid,
                    "stop_name": f"{area} stop",
                    "dist_m": 400.0 * k,
                    "le": le,
                    "le_se": se,
                    "area_id": area,
                    "area_name": f"{area} town",
                    "area_doubt": doubt.get(area, ""),
                }
            )
            weights.append({"stop_id": sid, "area_id": area, "weight": 1.0, "area_le": le, "le_se": se})
    return pd.DataFrame(rows), pd.DataFrame(weights), pd.DataFrame(patterns)


def test_one_contrast_gets_the_normal_quantile_exactly():
    stops, w, patterns = network({"R": [("a", 80.0, 1.0), ("b", 76.0, 1.0)]})
    got = claims.build(stops, w, patterns, Options(draws=500))
    assert got.c_network == pytest.approx(Z95)
    assert got.critical.n_overall == 1 and got.critical.mc_error == 0


def test_critical_values_lie_between_one_contrast_and_bonferroni():
    rng = np.random.default_rng(0)
    route = [(f"a{i}", 80 + rng.normal(), 1.0) for i in range(12)]
    stops, w, patterns = network({"R": route})
    got = claims.build(stops, w, patterns, Options(draws=10000))
    m = got.critical.n_overall
    assert Z95 < got.c_network <= ndtri(1 - 0.05 / (2 * m)) + 1e-9
    assert got.critical.method == "simulated" and got.critical.mc_error < 0.01


def test_a_level_the_draws_cannot_resolve_uses_bonferroni():
    stops, w, patterns = network({"R": [(f"a{i}", 80.0 + i, 1.0) for i in range(6)]})
    got = claims.build(stops, w, patterns, Options(alpha=1e-5, draws=2000))
    m = got.critical.n_overall
    assert got.critical.method == "bonferroni"
    assert got.c_network == pytest.approx(ndtri(1 - 1e-5 / (2 * m)))
    # never narrower than one contrast's own interval at that level
    assert got.c_network > ndtri(1 - 1e-5 / 2)


def test_candidates_are_every_stretch_and_the_ends_screened_of_doubt():
    route = [("a", 90.0, 1.0), ("b", 85.0, 1.0), ("c", 80.0, 1.0), ("d", 70.0, 1.0)]
    stops, w, patterns = network({"R": route}, doubt={"d": "implausible"})
    cand = claims.candidates(stops, w, stretch_k=2)
    stretch = cand[cand["kind"] == "stretch"]
    assert sorted(zip(stretch["from_row"], stretch["to_row"])) == [(0, 1), (0, 2), (1, 2), (1, 3), (2, 3)]
    change = cand[cand["kind"] == "change"]
    # the plain end-to-end change (a to d) and the one screened of the doubtful d (a to c)
    assert sorted(zip(change["from_row"], change["to_row"], change["screened"])) == [(0, 2, True), (0, 3, False)]
    assert not cand.loc[cand["to_row"] == 3, "eligible"].any() and cand.loc[cand["to_row"] == 2, "eligible"].all()
    assert cand.loc[(cand["from_row"] == 0) & (cand["to_row"] == 1), "est"].item() == 5.0


def story_of(routes, doubt=None, **options):
    stops, w, patterns = network(routes, doubt)
    got = claims.build(stops, w, patterns, Options(draws=1000, **options))
    return got, rank_routes(patterns, got.stories)


def test_a_claim_resting_on_a_doubtful_estimate_never_leads():
    # route D's only change is into an implausible area; route E's smaller one is clean
    got, ranks = story_of(
        {"D": [("a", 88.0, 0.5), ("z", 70.0, 0.5)], "E": [("b", 84.0, 0.5), ("c", 78.0, 0.5)]},
        doubt={"z": "implausible"},
    )
    st = got.stories
    assert st.loc["D", "lead"] == -1 and st.loc["D", "doubtful"] >= 0
    assert st.loc["E", "lead"] >= 0
    assert ranks.loc["E-0", "rank"] == 1
    assert pd.isna(ranks.loc["D-0", "rank"])  # no claim free of doubt: unranked, listed last


def test_a_noisy_area_cannot_buy_the_top_place():
    # R1 crosses a 14-year difference measured with an error of 6 years; R2 a 6-year one measured well
    got, ranks = story_of(
        {"R1": [("a", 80.0, 0.5), ("n", 94.0, 6.0)], "R2": [("b", 82.0, 0.3), ("c", 76.0, 0.3)]}, family="route"
    )
    assert ranks.loc["R2-0", "rank"] == 1
    assert ranks.loc["R1-0", "rank"] == 2


def test_the_story_holds_over_both_directions_and_leads_with_the_largest_lower_bound():
    stops, w, patterns = network({"R": [("a", 86.0, 1.0), ("b", 85.0, 1.0), ("c", 74.0, 1.0)]})
    back, wb, pb = network({"R": [("c", 74.0, 1.0), ("b", 85.0, 1.0), ("a", 86.0, 1.0)]})
    back["pattern_id"] = "R-1"
    back["stop_id"] = back["stop_id"] + "x"
    wb["stop_id"] = wb["stop_id"] + "x"
    pb = pb.assign(pattern_id="R-1", direction_id=1)
    s = pd.concat([stops, back], ignore_index=True)
    got = claims.build(s, pd.concat([w, wb]), pd.concat([patterns, pb]), Options(draws=1000, family="route"))
    lead = got.candidates.loc[got.stories.loc["R", "lead"]]
    assert lead["est"] > 0  # told as a fall, in the direction it falls
    assert abs(lead["est"]) == 12.0  # a to c (12 years over two stops) beats b to c (11 years over one)


@pytest.mark.parametrize("seed", range(5))
def test_the_printed_place_lies_in_its_rank_set(seed):
    rng = np.random.default_rng(seed)
    routes = {
        f"R{r}": [(f"a{a}", 80 + rng.normal(0, 4), rng.uniform(0.3, 2.0)) for a in rng.choice(60, 6, replace=False)]
        for r in range(25)
    }
    got, ranks = story_of(routes)
    st = ranks.drop_duplicates("rank_low").dropna()
    assert (ranks["rank_low"] <= ranks["rank"]).all() and (ranks["rank"] <= ranks["rank_high"]).all()
    assert len(st)


def test_rank_sets_from_intervals():
    low, high = rank_sets(np.array([5.0, 1.0, 0.0, -3.0]), np.array([9.0, 4.0, 2.0, -1.0]))
    assert low.tolist() == [1, 2, 2, 4] and high.tolist() == [1, 3, 3, 4]


def test_a_place_is_listed_once_with_every_route_that_runs_it():
    # routes A and B run the same fall from area p to area q; C runs it the other way
    p, q = ("p", 90.0, 0.3), ("q", 78.0, 0.3)
    stops, w, patterns = network({"A": [p, q], "B": [("x", 85.0, 0.3), p, q], "C": [q, p]})
    got = claims.build(stops, w, patterns, Options(draws=1000))
    found = stretches(stops, got, patterns.set_index("route_id")["route_name"])
    t = found.table
    place = t[(t["from_area"] == "p") & (t["to_area"] == "q")]
    assert len(place) == 1 and place["routes"].item() == "A; B; C" and place["n_routes"].item() == 3
    assert place["le_fall"].item() == 12.0
    # x to q (7 years) shares the p-q step with the stronger p-q place: not listed again
    assert not ((t["from_area"] == "x") & (t["to_area"] == "q")).any()
    # and p down to x, read backwards along B, is a place of its own
    assert found.counts[1.0] == (2, 3)


# --- calibration, small and seeded: the truth is known ------------------------------------

N_ROUTES, N_AREAS = 30, 12


def synthetic(rng: np.random.Generator, truth_step: float = 0.0):
    """``N_ROUTES`` routes of 24 stops, each over its own 12 areas, areas recurring along the route."""
    seq = np.repeat(np.arange(N_AREAS), 2)
    se_area = np.linspace(0.5, 2.5, N_AREAS)
    routes, truth = {}, {}
    for r in range(N_ROUTES):
        t = 80 + truth_step * (np.arange(N_AREAS) >= N_AREAS // 2)
        for k in range(N_AREAS):
            truth[f"r{r}a{k}"] = t[k]
        routes[f"R{r}"] = [(f"r{r}a{k}", t[k], se_area[k]) for k in seq]
    return routes, truth


@pytest.fixture(scope="module")
def null_structure():
    routes, truth = synthetic(np.random.default_rng(1))
    stops, w, patterns = network(routes)
    built = claims.build(stops, w, patterns, Options(draws=2000))
    st = calibration.structure(stops, w, built)
    return st, np.array([truth[a] for a in st.areas]), (stops, w, patterns)


def bound(p: float, n: int) -> float:
    return p + 3 * np.sqrt(p * (1 - p) / n)


@pytest.mark.parametrize("scale", [1.0, 1.25])
def test_no_printed_claim_is_false_anywhere_in_the_network_beyond_its_level(null_structure, scale):
    st, truth, _ = null_structure
    rates = calibration.simulate(st, truth, 400, np.random.default_rng(2), calibration.Errors(scale=scale))
    assert rates.any_false <= bound(0.05, 400)
    assert rates.count_false <= bound(0.05, 400)
    if scale == 1.0:  # the published errors exact: the widened sentences are conservative
        assert rates.any_false < 0.02


def test_each_routes_sentence_keeps_its_level(null_structure):
    _, _, (stops, w, patterns) = null_structure
    built = claims.build(stops, w, patterns, Options(draws=2000, family="route", se_scale=1.0))
    st = calibration.structure(stops, w, built)
    truth = np.full(len(st.areas), 80.0)
    rates = calibration.simulate(st, truth, 200, np.random.default_rng(3))
    assert rates.route_false <= 0.05 + 3 * rates.route_false_se


def test_rank_sets_cover_the_true_places_of_the_most_extreme_routes():
    routes, truth = synthetic(np.random.default_rng(4))
    rng = np.random.default_rng(5)
    for r in routes:  # a fixed truth with real differences between routes
        step = rng.uniform(0, 10)
        routes[r] = [(a, truth[a] + (step if int(a.split("a")[1]) >= 6 else 0), se) for a, _, se in routes[r]]
    stops, w, patterns = network(routes)
    built = claims.build(stops, w, patterns, Options(draws=2000))
    st = calibration.structure(stops, w, built)
    values = stops.drop_duplicates("area_id").set_index("area_id")["le"].reindex(st.areas).to_numpy()
    covered, se = calibration.rank_coverage(st, values, 100, np.random.default_rng(6), top=10)
    assert covered >= 0.95 - 3 * max(se, 0.02)


def test_correlated_errors_correlate_neighbours_as_asked():
    from scipy import sparse

    n = 200
    a = sparse.diags([np.ones(n - 1), np.ones(n - 1)], [-1, 1], format="csr")  # a chain
    e = calibration.draw_errors(np.ones(n), 4000, np.random.default_rng(7), calibration.Errors(rho=0.4), a)
    r = np.mean([np.corrcoef(e[i], e[i + 1])[0, 1] for i in range(0, n - 1, 7)])
    assert r == pytest.approx(0.4, abs=0.03)
    assert e.std() == pytest.approx(1.0, abs=0.02)


def test_on_a_tie_the_story_cites_the_same_stops_as_the_steepest_fall():
    # two stops in area a, then the fall: a->c over two hops ties a->c over one; the sentence
    # cites the shorter one, the stretch steepest_fall names
    route = [("a", 90.0, 0.5), ("a", 90.0, 0.5), ("c", 70.0, 0.5), ("d", 70.0, 0.5)]
    stops, w, patterns = network({"R": route})
    got = claims.build(stops, w, patterns, Options(draws=2000))
    lead = got.candidates.loc[got.stories.loc["R", "lead"]]
    assert (lead["kind"], lead["from_row"], lead["to_row"]) == ("stretch", 1, 2)
