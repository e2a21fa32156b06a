"""Calibration: the run's own claims, recomputed on simulated estimates whose truth is known.

Every figure a run prints is a linear combination of area estimates, so a run's structure
(its stops, their areas and weights, the candidate claims and their critical values) can
be kept fixed while the estimates are drawn again and again around a chosen truth: every
claim's verdict is then recomputed by :func:`gradient.stats.claims.verdicts`, the same
function the run used. :func:`simulate` does this for many networks at once and measures
what ``docs/METHODS.md`` quotes:

- how often **any** printed claim is false (a change stated where the truth has none, or
  stated in the wrong direction), per network and per route;
- how often the **count of stretches** is false (some counted place changes by less than
  the count says);
- how often the **rank sets** miss the true place of the routes that matter most;

under errors as published, understated by a factor, correlated between neighbouring
areas, or heavier-tailed than normal. ``benchmarks/calibration.py`` runs it on London's
and Tampa's real structures; the tests run it small.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from .claims import Claims, verdicts
from .ranking import rank_sets


@dataclass
class Structure:
    """A run's structure, fixed while estimates are simulated.

    Attributes
    ----------
    areas : pandas.Index
        The areas whose estimates the run used.
    se : numpy.ndarray
        Their published standard errors.
    contrast : scipy.sparse.csr_matrix
        Candidates x areas: each candidate's estimate is ``contrast @ area_values``.
    claims : Claims
        The run's claims (candidates, critical values).
    route : numpy.ndarray
        Each candidate's route code (0..n_routes-1).
    n_routes : int
    """

    areas: pd.Index
    se: np.ndarray
    contrast: sparse.csr_matrix
    claims: Claims
    route: np.ndarray
    n_routes: int


def structure(stops: pd.DataFrame, weights: pd.DataFrame, claims: Claims) -> Structure:
    """The fixed structure of a run: which areas each candidate claim contrasts, with what weights.

    Parameters
    ----------
    stops : pandas.DataFrame
        The stops table the claims were built on (``stop_id`` by row).
    weights : pandas.DataFrame
        ``stop_id``, ``area_id``, ``weight``, ``le_se``.
    claims : Claims
    """
    w = weights.dropna(subset=["weight", "area_id"])
    area_codes, areas = pd.factorize(w["area_id"].astype(str))
    stop_index = pd.Index(pd.unique(w["stop_id"].astype(str)))
    W = sparse.csr_matrix(
        (w["weight"].to_numpy(float), (stop_index.get_indexer(w["stop_id"].astype(str)), area_codes)),
        shape=(len(stop_index), len(areas)),
    )
    rows = stop_index.get_indexer(stops["stop_id"].astype(str))
    cand = claims.candidates
    a = rows[cand["from_row"].to_numpy()]
    b = rows[cand["to_row"].to_numpy()]
    n = len(cand)
    pick = sparse.csr_matrix(
        (
            np.r_[np.ones(n), -np.ones(n)],
            (np.r_[np.arange(n), np.arange(n)], np.r_[np.maximum(a, 0), np.maximum(b, 0)]),
        ),
        shape=(n, len(stop_index)),
    )
    se = w.groupby(w["area_id"].astype(str))["le_se"].first().reindex(areas).to_numpy(float)
    codes, routes = pd.factorize(cand["route_id"])
    return Structure(pd.Index(areas), se, (pick @ W).tocsr(), claims, codes, len(routes))


@dataclass
class Errors:
    """How simulated estimates err around the truth.

    Attributes
    ----------
    scale : float
        True standard errors are the published ones times this (1.25: understated by a
        fifth).
    rho : float
        Correlation of the errors of areas that touch (needs ``neighbours``).
    df : float
        Student's t errors with this many degrees of freedom (same standard deviation);
        ``inf`` for normal ones.
    """

    scale: float = 1.0
    rho: float = 0.0
    df: float = float("inf")


def draw_errors(
    se: np.ndarray, reps: int, rng: np.random.Generator, errors: Errors, neighbours: sparse.spmatrix | None = None
) -> np.ndarray:
    """Simulated area errors, shape ``(n_areas, reps)``, with the given scale, correlation and tails.

    Correlated errors share noise over each area's closed neighbourhood:
    ``e = sqrt(1 - w) z + sqrt(w) u`` with ``u_a`` the scaled sum of shared normals over the
    area and its neighbours (variance 1), and ``w`` chosen so that touching areas' errors
    correlate at ``rho`` on average. Each area keeps its variance.
    """
    n = len(se)
    z = rng.standard_normal((n, reps))
    if np.isfinite(errors.df):
        chi = rng.chisquare(errors.df, size=(n, reps)) / errors.df
        z = z / np.sqrt(chi) * np.sqrt((errors.df - 2) / errors.df)
    if errors.rho > 0 and neighbours is not None:
        closed = (sparse.csr_matrix(neighbours, dtype=float) + sparse.identity(n, format="csr")).tocsr()
        closed.data[:] = 1.0
        deg = np.asarray(closed.sum(axis=1)).ravel()
        u = (closed @ rng.standard_normal((n, reps))) / np.sqrt(deg)[:, None]
        w = min(1.0, errors.rho / neighbour_correlation(neighbours))
        z = np.sqrt(1 - w) * z + np.sqrt(w) * u
    return se[:, None] * errors.scale * z


def neighbour_correlation(neighbours: sparse.spmatrix) -> float:
    """Mean correlation, over touching pairs, of the shared-neighbourhood noise of :func:`draw_errors`."""
    a = sparse.csr_matrix(neighbours, dtype=float)
    a.data[:] = 1.0
    closed = (a + sparse.identity(a.shape[0], format="csr")).tocsr()
    closed.data[:] = 1.0
    deg = np.asarray(closed.sum(axis=1)).ravel()
    common = (closed @ closed).multiply(a).tocoo()
    if common.nnz == 0:
        return 1.0
    return float(np.mean(common.data / np.sqrt(deg[common.row] * deg[common.col])))


def adjacency(frame, areas: pd.Index) -> sparse.csr_matrix:
    """Which of ``areas`` touch (a GeoDataFrame with ``area_id`` and ``geometry``), as a sparse matrix."""
    geo = frame.drop_duplicates("area_id").set_index(frame.drop_duplicates("area_id")["area_id"].astype(str))
    geo = geo.reindex(areas)
    have = geo.geometry.notna().to_numpy()
    idx = np.flatnonzero(have)
    g = geo.iloc[idx]
    left, right = g.sindex.query(g.geometry.to_numpy(), predicate="intersects")
    keep = left != right
    i, j = idx[left[keep]], idx[right[keep]]
    return sparse.csr_matrix((np.ones(len(i)), (i, j)), shape=(len(areas), len(areas)))


@dataclass
class Rates:
    """What a calibration measured, each a share of simulated networks (with its Monte Carlo error).

    Attributes
    ----------
    any_false : float
        Some printed claim anywhere in the network is false (a change stated where the truth
        has none, or in the wrong direction).
    any_false_se : float
    route_false : float
        Per route: its sentence states a false change (averaged over routes).
    route_false_se : float
    count_false : float
        The count of stretches is false (some counted place changes by less than counted), an
        upper bound (every supported eligible stretch is treated as counted).
    count_false_se : float
    significant_any : float
        Some table flag (the unwidened test) is false somewhere in the network.
    reps : int
    """

    any_false: float
    any_false_se: float
    route_false: float
    route_false_se: float
    count_false: float
    count_false_se: float
    significant_any: float
    reps: int


def _se(p: float, n: int) -> float:
    return float(np.sqrt(max(p * (1 - p), 1e-12) / n))


def simulate(
    st: Structure,
    truth: np.ndarray,
    reps: int,
    rng: np.random.Generator,
    errors: Errors | None = None,
    neighbours: sparse.spmatrix | None = None,
    count_years: float = 1.0,
    batch: int = 50,
) -> Rates:
    """Simulate ``reps`` networks of estimates around ``truth`` and measure how often claims are false.

    Parameters
    ----------
    st : Structure
    truth : ndarray
        Each area's true life expectancy (order of ``st.areas``).
    reps : int
    rng : numpy.random.Generator
    errors : Errors, optional
    neighbours : scipy.sparse matrix, optional
        Area adjacency (order of ``st.areas``), for correlated errors.
    count_years : float
        The change the count sentence counts places for.
    batch : int
        Networks simulated at a time.

    Returns
    -------
    Rates
    """
    errors = errors or Errors()
    claims = st.claims
    cand = claims.candidates
    c = claims.c.reindex(cand["route_id"]).to_numpy(float)
    true_fall = st.contrast @ truth
    eligible = cand["eligible"].to_numpy(bool)
    stretch = (cand["kind"] == "stretch").to_numpy()
    any_false, sig_any, count_false, route_false = [], [], [], []
    done = 0
    while done < reps:
        n = min(batch, reps - done)
        est = true_fall[:, None] + st.contrast @ draw_errors(st.se, n, rng, errors, neighbours)
        v = verdicts(cand, est, c, claims.c_network, claims.se_scale)
        # a stated claim is false where the truth is on the other side of 0 from the estimate, or 0
        wrong = np.sign(est) != np.sign(true_fall)[:, None]
        printed_false = v["supported"] & eligible[:, None] & wrong
        any_false.append(printed_false.any(axis=0))
        sig_any.append((v["significant"] & wrong).any(axis=0))
        counted = v["supported"] & eligible[:, None] & stretch[:, None] & (v["low_w"] >= count_years)
        count_false.append((counted & (np.abs(true_fall)[:, None] < count_years) | (counted & wrong)).any(axis=0))
        per_route = np.zeros((st.n_routes, n), dtype=bool)
        np.logical_or.at(per_route, st.route, printed_false)
        route_false.append(per_route.mean(axis=0))
        done += n
    a, s, k, r = (np.concatenate(x) for x in (any_false, sig_any, count_false, route_false))
    return Rates(
        float(a.mean()),
        _se(float(a.mean()), reps),
        float(r.mean()),
        float(r.std(ddof=1) / np.sqrt(reps)) if reps > 1 else 0.0,
        float(k.mean()),
        _se(float(k.mean()), reps),
        float(s.mean()),
        reps,
    )


def rank_coverage(
    st: Structure,
    truth: np.ndarray,
    reps: int,
    rng: np.random.Generator,
    top: int = 20,
    errors: Errors | None = None,
    neighbours: sparse.spmatrix | None = None,
    batch: int = 20,
) -> tuple[float, float]:
    """How often the rank sets hold the true places of the ``top`` routes whose truth is most extreme.

    The ranked quantity of a route is its largest true change over its eligible claims
    (:mod:`gradient.stats.ranking`); the routes that matter are the ``top`` with the largest
    one. A network counts as covered when every one of them lies in its set.

    Returns
    -------
    (float, float)
        The share of networks covered, and its Monte Carlo error.
    """
    errors = errors or Errors()
    claims = st.claims
    cand = claims.candidates
    eligible = cand["eligible"].to_numpy(bool)
    true_size = np.abs(st.contrast @ truth)
    theta = np.full(st.n_routes, -np.inf)
    usable = eligible & np.isfinite(cand["se"].to_numpy(float)) & (cand["se"].to_numpy(float) > 0)
    np.maximum.at(theta, st.route[usable], true_size[usable])
    ranked = np.isfinite(theta)
    order = np.flatnonzero(ranked)
    true_place = 1 + (theta[order][None, :] > theta[order][:, None]).sum(axis=1)
    focus = order[np.argsort(-theta[order], kind="stable")[:top]]
    pos = {r: i for i, r in enumerate(order)}
    covered = []
    done = 0
    c = claims.c.reindex(cand["route_id"]).to_numpy(float)
    while done < reps:
        n = min(batch, reps - done)
        est = (st.contrast @ truth)[:, None] + st.contrast @ draw_errors(st.se, n, rng, errors, neighbours)
        v = verdicts(cand, est, c, claims.c_network, claims.se_scale)
        for d in range(n):
            lw = np.full(st.n_routes, -np.inf)
            hw = np.full(st.n_routes, -np.inf)
            np.maximum.at(lw, st.route[eligible], np.nan_to_num(v["low_w"][eligible, d], nan=-np.inf))
            np.maximum.at(hw, st.route[eligible], np.nan_to_num(v["high_w"][eligible, d], nan=-np.inf))
            low, high = rank_sets(lw[order], hw[order])
            ok = all(low[pos[r]] <= true_place[pos[r]] <= high[pos[r]] for r in focus)
            covered.append(ok)
        done += n
    p = float(np.mean(covered))
    return p, _se(p, reps)


__all__ = [
    "Errors",
    "Rates",
    "Structure",
    "adjacency",
    "draw_errors",
    "neighbour_correlation",
    "rank_coverage",
    "simulate",
    "structure",
]
