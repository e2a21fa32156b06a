"""Stretches of street: each place where life expectancy changes over a few stops, once.

A **step** is a route crossing from one area to the next between two consecutive stops. A
**stretch** is a run of at most ``stretch_k`` stop-to-stop hops, read in the direction in
which life expectancy falls; its change is the difference between the estimates at its two
ends. Two stretches are **the same place** when they join the same two areas (the areas of
their end stops), whichever routes, directions or stops they were read from: a place is
listed once, with every route that runs it either way, and told by its strongest reading.

Places overlap when they share a step; the table keeps a set of places that do not, chosen
greedily by strength of evidence (the lower bound of the change), so that the 10-year fall
over four stops from A to C is one stretch, not three (A to B, B to C, A to C).

Every place's interval uses the network's critical value (:mod:`gradient.stats.claims`):
all hold at once with probability at least ``1 - alpha``. So the count of places whose
widened lower bound is at least ``X`` years is a **familywise** claim: with probability at
least ``1 - alpha`` every counted place really changes by ``X`` years or more, for every
``X`` at once, even with every published error ``se_scale`` times too small.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .claims import Claims, verdicts

COUNT_YEARS = (1.0, 5.0)
"""The changes (years) the count sentence counts places for: "at least 1 year", "at least 5"."""


@dataclass
class Stretches:
    """The places of a network where life expectancy changes within a few stops.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per place (see :func:`stretches`).
    counts : dict
        By change ``X`` (years, :data:`COUNT_YEARS`): ``(places, routes)``, how many
        places change by at least ``X`` years with every error widened by ``se_scale``
        (none resting on a doubtful estimate), and how many routes serve them.
    stretch_k : int
    c_network : float
    se_scale : float
    """

    table: pd.DataFrame
    counts: dict[float, tuple[int, int]] = field(default_factory=dict)
    stretch_k: int = 5
    c_network: float = float("nan")
    se_scale: float = 1.25


def _places(a: np.ndarray, b: np.ndarray, n_areas: int) -> np.ndarray:
    """One number per place between areas coded ``a`` and ``b`` (codes below ``n_areas``), the same either way."""
    return np.minimum(a, b).astype(np.int64) * max(n_areas, 1) + np.maximum(a, b)


def _steps(pattern_id: np.ndarray, area: np.ndarray, n_areas: int) -> np.ndarray:
    """An id per stop row of the step that ends there (the two areas either side), -1 where none.

    ``area``: each row's area code (-1 without one), codes below ``n_areas``.
    """
    prev = np.r_[-1, area[:-1]]
    real = np.r_[False, pattern_id[1:] == pattern_id[:-1]] & (area >= 0) & (prev >= 0) & (area != prev)
    out = np.full(len(area), -1, dtype=np.int64)
    out[real] = pd.factorize(_places(area, prev, n_areas)[real])[0]
    return out


def _stable_id(a: str, b: str) -> str:
    return "st-" + hashlib.blake2b(f"{a}>{b}".encode(), digest_size=5).hexdigest()


def stretches(stops: pd.DataFrame, claims: Claims, route_names: pd.Series) -> Stretches:
    """Every place of the network where life expectancy changes over at most ``stretch_k`` stops.

    Parameters
    ----------
    stops : pandas.DataFrame
        The stops table the claims were built on (rows aligned with the candidates'
        ``from_row`` and ``to_row``): ``pattern_id``, ``stop_name``, ``stop_sequence``,
        ``dist_m``, ``le``, ``area_id``, ``area_doubt`` and ``area_name`` (if known).
    claims : Claims
        :func:`gradient.stats.claims.build`.
    route_names : pandas.Series
        Route id to the name readers use.

    Returns
    -------
    Stretches
        ``table`` has one row per place, ordered by strength of evidence (places a
        sentence may state first, by the lower bound of their change, largest first):

        - ``stretch_id`` (stable: from the two areas), ``from_stop``, ``to_stop`` (stop
          names as the source wrote them, in the direction of the fall), ``from_area``,
          ``to_area``, ``from_area_name``, ``to_area_name``;
        - ``n_stops`` (hops) and ``length_m`` (metres along the route between the two
          stops, of the reading that tells it);
        - ``le_from``, ``le_to``, ``le_fall`` (years, ``le_fall`` >= 0), ``le_fall_ci_low``,
          ``le_fall_ci_high`` (simultaneous over every stretch of the network),
          ``le_fall_significant`` (the lower end is above 0), ``le_fall_robustness`` (how
          many times wider the errors could be before it stops being told apart from 0);
        - ``routes`` (names of every route that runs it either way, ``; `` between) and
          ``n_routes``; ``area_doubt`` (doubt about either end's estimate); ``supported``
          (a sentence may state it: it holds with the errors widened by ``se_scale`` and
          rests on no doubtful estimate); ``pattern_id``, ``from_seq``, ``to_seq`` (the
          reading that tells it).
    """
    cand = claims.candidates
    w = cand[(cand["kind"] == "stretch") & (cand["se"] > 0) & (cand["est"] != 0)].copy()
    area_code, areas = pd.factorize(stops["area_id"])  # -1: no area
    steps = _steps(stops["pattern_id"].to_numpy(), area_code, len(areas))
    rise = w["est"].to_numpy(float) < 0
    fr, tr = w["from_row"].to_numpy(), w["to_row"].to_numpy()
    w["a_row"], w["b_row"] = np.where(rise, tr, fr), np.where(rise, fr, tr)  # a: the higher end
    fa, ta = area_code[w["a_row"].to_numpy()], area_code[w["b_row"].to_numpy()]
    w["from_code"], w["to_code"] = fa, ta
    w["pair"] = _places(fa, ta, len(areas))
    w = w[(fa >= 0) & (ta >= 0) & (fa != ta)]
    c_net = np.full(len(w), claims.c_network)
    v = verdicts(w, w["est"].to_numpy(float), c_net, claims.c_network, claims.se_scale)
    w = w.assign(fall=np.abs(w["est"].to_numpy(float)), **{k: v[k] for k in ("low", "significant", "robustness")})
    w["supported"] = v["supported"] & w["eligible"].to_numpy(bool)
    w["low_w"] = v["low_w"]
    w["route"] = route_names.reindex(w["route_id"]).fillna(w["route_id"]).astype(str).to_numpy()
    best = w.sort_values(["supported", "eligible", "low"], ascending=[False, False, False], kind="stable")
    best = best.drop_duplicates(["from_code", "to_code"]).reset_index(drop=True)
    chosen = _disjoint(best, steps)
    t = best.loc[chosen].reset_index(drop=True)
    area_ids = np.asarray(areas.astype(str), dtype=object)
    t["from_area"], t["to_area"] = area_ids[t["from_code"].to_numpy()], area_ids[t["to_code"].to_numpy()]
    on = w.loc[w["pair"].isin(t["pair"]), ["pair", "route"]].drop_duplicates()  # the places listed, no others
    served = on.groupby("pair")["route"].agg(lambda r: "; ".join(sorted(r, key=route_order)))
    out = _table(t, stops, served)
    counts = {}
    for x in COUNT_YEARS:
        counted = t[t["supported"].to_numpy(bool) & (t["low_w"].to_numpy(float) >= x)]
        routes = {r for names in served.reindex(counted["pair"]).fillna("") for r in names.split("; ") if r}
        counts[x] = (len(counted), len(routes))
    return Stretches(
        out, counts, int(claims.candidates["hops"].max()) if len(cand) else 0, claims.c_network, claims.se_scale
    )


def route_order(name: str) -> tuple:
    """Route names in a reader's order: numbers by value, then the rest (25 before 123 before N25)."""
    digits = "".join(ch for ch in name if ch.isdigit())
    return (0, int(digits), name) if name.isdigit() else (1, int(digits) if digits else 0, name)


def _disjoint(best: pd.DataFrame, steps: np.ndarray) -> list[int]:
    """Rows of ``best`` (strongest first) that share no step with a stronger one kept before them."""
    lo = np.minimum(best["from_row"].to_numpy(), best["to_row"].to_numpy())
    hi = np.maximum(best["from_row"].to_numpy(), best["to_row"].to_numpy())
    used: set[int] = set()
    kept = []
    for i, (a, b) in enumerate(zip(lo, hi)):
        own = {int(s) for s in steps[a + 1 : b + 1] if s >= 0}
        if own and not (own & used):
            kept.append(i)
            used |= own
    return kept


def _table(t: pd.DataFrame, stops: pd.DataFrame, served: pd.Series) -> pd.DataFrame:
    a, b = t["a_row"].to_numpy(), t["b_row"].to_numpy()
    names = stops["stop_name"].astype("string").to_numpy(dtype=object)
    area_names = (
        stops["area_name"].astype("string").to_numpy(dtype=object)
        if "area_name" in stops
        else np.full(len(stops), None, dtype=object)
    )
    doubt = stops["area_doubt"].fillna("").astype(str).to_numpy() if "area_doubt" in stops else np.full(len(stops), "")
    le = stops["le"].to_numpy(float)
    dist = stops["dist_m"].to_numpy(float)
    seq = stops["stop_sequence"].to_numpy()
    fall, se, c = (
        t["fall"].to_numpy(float),
        t["se"].to_numpy(float),
        t["fall"].to_numpy(float) - t["low"].to_numpy(float),
    )
    both = [", ".join(dict.fromkeys(d for d in (doubt[i], doubt[j]) if d).keys()) for i, j in zip(a, b)]
    out = pd.DataFrame(
        {
            "stretch_id": [_stable_id(x, y) for x, y in zip(t["from_area"], t["to_area"])],
            "from_stop": pd.array(names[a], dtype="string"),
            "to_stop": pd.array(names[b], dtype="string"),
            "from_area": pd.array(t["from_area"].to_numpy(dtype=object), dtype="string"),
            "to_area": pd.array(t["to_area"].to_numpy(dtype=object), dtype="string"),
            "from_area_name": pd.array(area_names[a], dtype="string"),
            "to_area_name": pd.array(area_names[b], dtype="string"),
            "n_stops": t["hops"].astype(int).to_numpy(),
            "length_m": np.abs(dist[b] - dist[a]),
            "le_from": le[a],
            "le_to": le[b],
            "le_fall": fall,
            "le_fall_ci_low": fall - c,
            "le_fall_ci_high": fall + c,
            "le_fall_significant": t["significant"].to_numpy(bool),
            "routes": pd.array(served.reindex(t["pair"]).to_numpy(dtype=object), dtype="string"),
            "n_routes": [len(r.split("; ")) for r in served.reindex(t["pair"]).fillna("")],
            "area_doubt": both,
            "le_fall_robustness": t["robustness"].to_numpy(float),
            "supported": t["supported"].to_numpy(bool),
            "pattern_id": t["pattern_id"].to_numpy(dtype=object),
            "from_seq": seq[a],
            "to_seq": seq[b],
            "le_fall_se": se,
            "low_w": t["low_w"].to_numpy(float),
        }
    )
    order = out.assign(_s=out["supported"].astype(int), _low=out["le_fall_ci_low"])
    order = order.sort_values(["_s", "_low", "stretch_id"], ascending=[False, False, True], kind="stable")
    return order.drop(columns=["_s", "_low"]).reset_index(drop=True)


__all__ = ["COUNT_YEARS", "Stretches", "route_order", "stretches"]
