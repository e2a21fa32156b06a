"""What the intervals support: every claim a sentence may make, one level for all, each route's story.

A sentence about a route may choose among its **candidate claims**:

- every *stretch*: the change from one stop with a value to another at most ``stretch_k``
  stop-to-stop hops further on, on any pattern of the route, read in whichever direction
  it falls;
- every *end-to-end change* of a pattern (last stop with a value minus the first), and the
  same between the first and last stops whose area is not in doubt, where those differ.

Each is a contrast of area estimates with an exact standard error under the model
(:mod:`gradient.stats.uncertainty`). **One critical value** ``c`` covers all of them at
once: the ``1 - alpha`` quantile of ``max |z|`` over every candidate of the route
(``family="route"``) or of every route in the run (``family="network"``, the default),
two-sided, so that a claim of a rise and a claim of a fall, in either direction of travel,
from a stretch or from the ends, chosen however the sentence likes, is false with
probability at most ``alpha`` for the route (or anywhere in the network).

Every candidate gets its interval ``|est| +- c se``, whether it excludes 0
(``significant``), its **robustness** ``|est| / (c se)``, the factor by which every
published standard error could be too small before the claim stops holding, and whether a
sentence may state it: only when the robustness is at least ``se_scale`` (1.25 by
default), i.e. the claim holds with every error widened by a quarter (``supported``).

A route's **story** leads with its strongest supported claim (largest lower bound) among
those whose two ends lie in areas whose estimates are not in doubt: a claim that rests on
a doubtful estimate never leads. :func:`build` does all this for a run; :func:`verdicts`
recomputes the verdicts for other values on the same structure (the calibration's
simulations).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..options import Options
from .uncertainty import Critical, Family, Model, critical_values, pair_se

NETWORK = "network"
"""The group label of ``family="network"``: every route at once."""


@dataclass
class Claims:
    """Every candidate claim of a run, the critical values that cover them, and each route's story.

    Attributes
    ----------
    candidates : pandas.DataFrame
        One row per candidate claim (see :func:`candidates`), with its verdict columns
        (see :func:`verdicts`).
    c : pandas.Series
        By route id: the critical value its claims use (the route's own with
        ``family="route"``, the network's with ``family="network"``).
    c_network : float
        The critical value over every candidate of every route at once (rank sets and
        stretches of street always use it).
    critical : Critical
        The simulation behind them (distinct contrasts, Monte Carlo error, method).
    family : str
    alpha : float
    se_scale : float
    stories : pandas.DataFrame
        By route id (see :func:`stories`).
    """

    candidates: pd.DataFrame
    c: pd.Series
    c_network: float
    critical: Critical
    family: str
    alpha: float
    se_scale: float
    stories: pd.DataFrame


def candidates(stops: pd.DataFrame, weights: pd.DataFrame, stretch_k: int) -> pd.DataFrame:
    """Every claim a sentence may make about the patterns of ``stops``.

    Parameters
    ----------
    stops : pandas.DataFrame
        ``pattern_id``, ``route_id``, ``stop_id``, ``le``, ``area_id`` and ``area_doubt``
        rows, ordered by pattern and stop sequence, index ``0..n-1``.
    weights : pandas.DataFrame
        The weights table of :func:`gradient.assign.catchments.assign`.
    stretch_k : int
        Longest stretch, in stop-to-stop hops.

    Returns
    -------
    pandas.DataFrame
        One row per candidate: ``pattern_id``, ``route_id``, ``kind`` (``stretch`` or
        ``change``), ``from_row`` and ``to_row`` (positions in ``stops``, ``from_row``
        first along the pattern), ``hops``, ``est`` (``le`` at ``from_row`` minus ``le`` at
        ``to_row``: a fall is positive, years), ``se`` (exact, years), ``screened`` (an
        end-to-end change between the first and last stops not in a doubtful area, listed
        because it differs from the plain one) and ``eligible`` (neither end's area is in
        doubt, so the claim may lead).
    """
    pid = stops["pattern_id"].to_numpy()
    pattern = pd.factorize(pid)[0]  # whole numbers to compare, not strings
    le = stops["le"].to_numpy(float)
    valued = np.isfinite(le)
    doubt = stops["area_doubt"].fillna("").astype(str).to_numpy() if "area_doubt" in stops else np.full(len(stops), "")
    clear = doubt == ""
    frames = []
    for hops in range(1, stretch_k + 1):
        a = np.arange(len(stops) - hops)
        b = a + hops
        ok = (pattern[a] == pattern[b]) & valued[a] & valued[b]
        frames.append(
            pd.DataFrame({"from_row": a[ok], "to_row": b[ok], "hops": hops, "kind": "stretch", "screened": False})
        )
    rows = pd.DataFrame({"pattern_id": pid, "row": np.arange(len(stops))})
    ends = []
    for keep in (valued, valued & clear):
        g = rows[keep].groupby("pattern_id", sort=False)["row"]
        e = pd.DataFrame({"from_row": g.min(), "to_row": g.max()})
        ends.append(e[e["from_row"] < e["to_row"]])
    plain, screened = ends
    # a screened change identical to its pattern's plain one is the same claim: listed once
    # (every other candidate is one of a kind: a stretch by its first stop and hops, a change by its pattern)
    screened = screened[(screened != plain.reindex(screened.index)).any(axis=1)]
    for flag, e in ((False, plain), (True, screened)):
        frames.append(e.assign(hops=e["to_row"] - e["from_row"], kind="change", screened=flag))
    cand = pd.concat(frames, ignore_index=True)
    fr, tr = cand["from_row"].to_numpy(), cand["to_row"].to_numpy()
    # ids taken as text arrays (one take each), not as millions of Python strings read again
    cand.insert(0, "pattern_id", pd.array(pid, dtype="str").take(fr))
    cand.insert(1, "route_id", pd.array(stops["route_id"], dtype="str").take(fr))
    cand["est"] = le[fr] - le[tr]
    ids = stops["stop_id"].to_numpy(dtype=object)
    cand["se"] = pair_se(weights, ids[fr], ids[tr]) if len(cand) else np.empty(0)
    cand["eligible"] = clear[fr] & clear[tr]
    return cand


def verdicts(
    cand: pd.DataFrame, est: np.ndarray, c: np.ndarray, c_network: float, se_scale: float
) -> dict[str, np.ndarray]:
    """What the intervals say of every candidate, for estimates ``est`` (one column per draw, or one).

    Parameters
    ----------
    cand : pandas.DataFrame
        :func:`candidates` (its ``se``).
    est : ndarray
        The candidates' estimates (falls, years), shape ``(n,)`` or ``(n, draws)``.
    c : ndarray
        Each candidate's critical value (its route's or the network's).
    c_network : float
        The network's critical value.
    se_scale : float
        A sentence states a claim only if it holds with every error times this.

    Returns
    -------
    dict of ndarray
        ``low`` (the bound nearest 0 of ``|est| +- c se``, years), ``significant``
        (``|est| > c se``), ``robustness`` (``|est| / (c se)``; 0 where ``se`` is 0 or
        unknown), ``supported`` (``robustness >= se_scale``), and ``low_w``, ``high_w``
        (``|est| -+ se_scale c_network se``: the widened network interval of the rank sets).
    """
    se = cand["se"].to_numpy(float)
    if est.ndim == 2:
        se, c = se[:, None], np.asarray(c)[:, None]
    size = np.abs(est)
    usable = np.isfinite(se) & (se > 0) & np.isfinite(size)
    with np.errstate(invalid="ignore", divide="ignore"):
        robustness = np.where(usable, size / (c * se), 0.0)
    half_w = se_scale * c_network * se
    return {
        "low": np.where(usable, size - c * se, np.nan),
        "significant": usable & (size > c * se),
        "robustness": robustness,
        "supported": usable & (robustness >= se_scale),
        "low_w": np.where(usable, size - half_w, np.nan),
        "high_w": np.where(usable, size + half_w, np.nan),
    }


def stories(cand: pd.DataFrame, patterns: pd.DataFrame) -> pd.DataFrame:
    """Each route's story: the claim it leads with, the pattern that tells it, its place's evidence.

    Parameters
    ----------
    cand : pandas.DataFrame
        :func:`candidates` with the columns of :func:`verdicts`.
    patterns : pandas.DataFrame
        ``pattern_id``, ``route_id``, ``direction_id`` (every pattern of the run).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``route_id``:

        - ``lead``: the row of ``cand`` the story leads with (the eligible supported
          claim with the largest ``low`` that the contract lets a sentence state, see
          ``may_lead``; a fall before a rise, a stretch before a change, the first
          direction first, then the earliest end and fewest stops, on ties), or -1 when none;
        - ``story_pattern``: the pattern that tells the story (the lead's; without a lead,
          the pattern of the eligible claim nearest to being supported, else the route's
          first);
        - ``strength``: the lead's ``low`` (years), or without a lead the largest ``low``
          of an eligible claim (negative), -inf without one;
        - ``doubtful``: the row of the strongest supported claim that rests on a doubtful
          estimate, where the route has no lead (-1 otherwise);
        - ``low_w``, ``high_w``: the largest widened network bounds over the route's
          eligible claims (-inf without one): the interval of its rank-set quantity.
    """
    order = patterns.reset_index(drop=True)
    if "direction_id" not in order:
        order = order.assign(direction_id=0)
    routes = pd.Index(pd.unique(order["route_id"]))
    pattern_rank = pd.Series(np.arange(len(order)), index=order["pattern_id"])
    c = cand.assign(
        row=np.arange(len(cand)),
        rise=cand["est"] < 0,
        change=cand["kind"] == "change",
        order=pattern_rank.reindex(cand["pattern_id"]).to_numpy(),
    )
    out = pd.DataFrame(index=routes)
    # on ties, the same stretch the pattern's steepest_fall names: earliest end, fewest stops
    key = ["route_id", "low", "rise", "change", "order", "to_row", "hops"]
    asc = [True, False, True, True, True, True, True]
    leads = c["eligible"] & c["supported"] & (c["may_lead"] if "may_lead" in c else True)
    lead = c[leads].sort_values(key, ascending=asc, kind="stable")
    lead = lead.drop_duplicates("route_id").set_index("route_id")
    out["lead"] = lead["row"].reindex(routes).fillna(-1).astype(int)
    best = c[c["eligible"] & np.isfinite(c["low"])].sort_values(key, ascending=asc, kind="stable")
    best = best.drop_duplicates("route_id").set_index("route_id")
    first = order.drop_duplicates("route_id").set_index("route_id")["pattern_id"]
    story = lead["pattern_id"].reindex(routes)
    story = story.fillna(best["pattern_id"].reindex(routes)).fillna(first.reindex(routes))
    out["story_pattern"] = story.astype(object)
    strength = lead["low"].reindex(routes).fillna(best["low"].reindex(routes)).fillna(-np.inf)
    out["strength"] = strength.astype(float)
    doubtful = c[~c["eligible"] & c["supported"]].sort_values(key, ascending=asc, kind="stable")
    doubtful = doubtful.drop_duplicates("route_id").set_index("route_id")["row"].reindex(routes).fillna(-1).astype(int)
    out["doubtful"] = np.where(out["lead"] >= 0, -1, doubtful)
    elig = c[c["eligible"]].groupby("route_id")
    out["low_w"] = elig["low_w"].max().reindex(routes).fillna(-np.inf)
    out["high_w"] = elig["high_w"].max().reindex(routes).fillna(-np.inf)
    return out


def build(
    stops: pd.DataFrame, weights: pd.DataFrame, patterns: pd.DataFrame, options: Options, model: Model | None = None
) -> Claims:
    """Every candidate claim of a run, its critical value and verdict, and each route's story.

    Parameters
    ----------
    stops : pandas.DataFrame
        As for :func:`candidates`.
    weights : pandas.DataFrame
        The weights table of :func:`gradient.assign.catchments.assign`.
    patterns : pandas.DataFrame
        ``pattern_id`` and ``route_id`` of every pattern.
    options : Options
        ``alpha``, ``family``, ``stretch_k``, ``draws`` and ``se_scale``.
    model : Model, optional
        The uncertainty model of ``weights`` (made if not given).

    Returns
    -------
    Claims
    """
    model = model or Model(weights)
    cand = candidates(stops, weights, options.stretch_k)
    ids = stops["stop_id"].to_numpy(dtype=object)
    by_route = options.family == "route"
    group = cand["route_id"].to_numpy(dtype=object) if by_route else np.full(len(cand), NETWORK, dtype=object)
    fam = Family(cand["se"].to_numpy(float), group, ids[cand["from_row"]], ids[cand["to_row"]])
    crit = critical_values(model, fam, options.alpha, options.draws)
    routes = pd.Index(pd.unique(patterns["route_id"]))
    if by_route:
        c = crit.per_group.reindex(routes)
    else:
        c = pd.Series(crit.overall, index=routes)
    c_cand = c.reindex(cand["route_id"]).to_numpy(float)
    cand = cand.join(pd.DataFrame(verdicts(cand, cand["est"].to_numpy(float), c_cand, crit.overall, options.se_scale)))
    cand["may_lead"] = _contract_allows(cand)
    return Claims(
        candidates=cand,
        c=c,
        c_network=crit.overall,
        critical=crit,
        family=options.family,
        alpha=options.alpha,
        se_scale=options.se_scale,
        stories=stories(cand, patterns),
    )


def _contract_allows(cand: pd.DataFrame) -> np.ndarray:
    """Whether the outward contract lets a sentence state each candidate (``docs/CONTRACT.md``).

    A sentence may state a change only where its pattern's ``steepest_fall_significant`` (a
    stretch: a fall, in the pattern's direction of travel, of a pattern whose largest fall is
    told apart from 0) or ``le_change_significant`` (a change: of a pattern whose plain
    end-to-end change is told apart from 0) supports it.
    """
    stretch = cand["kind"] == "stretch"
    falls = cand[stretch & (cand["est"] > 0)]
    steepest = falls.sort_values(["pattern_id", "est", "to_row", "hops"], ascending=[True, False, True, True])
    steepest_sig = steepest.drop_duplicates("pattern_id").set_index("pattern_id")["significant"]
    plain = cand[(cand["kind"] == "change") & ~cand["screened"]].set_index("pattern_id")["significant"]
    ok_stretch = stretch & (cand["est"] > 0) & steepest_sig.reindex(cand["pattern_id"]).fillna(False).to_numpy(bool)
    ok_change = ~stretch & plain.reindex(cand["pattern_id"]).fillna(False).to_numpy(bool)
    return (ok_stretch | ok_change).to_numpy(bool)


def power_step(claims: Claims, power: float = 0.8) -> tuple[float, float]:
    """The smallest step between two neighbouring areas the run detects with probability ``power``.

    A step is a one-hop change between stops in different areas; at the run's typical
    (median) standard error of such a step ``se``, a true change ``d`` is stated with
    probability about ``Phi(d / se - se_scale c)``, so ``d = (se_scale c + z_power) se``,
    with ``c`` the network's critical value (``family="network"``) or the median route's.

    Returns
    -------
    (float, float)
        The detectable step and the typical standard error, years (NaN without steps).
    """
    from scipy.special import ndtri

    cand = claims.candidates
    steps = cand[(cand["hops"] == 1) & (cand["kind"] == "stretch") & (cand["se"] > 0)]
    if steps.empty:
        return float("nan"), float("nan")
    se = float(steps["se"].median())
    c = claims.c_network if claims.family == NETWORK else float(claims.c.median())
    return float((claims.se_scale * c + ndtri(power)) * se), se


__all__ = ["NETWORK", "Claims", "build", "candidates", "power_step", "stories", "verdicts"]
