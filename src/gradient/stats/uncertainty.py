"""The one uncertainty model behind every interval, flag and sentence (``docs/METHODS.md``).

Model
-----
Each small area's published estimate is its true value plus an independent normal error
with the published standard error: ``le_hat_a = le_a + e_a``, ``e_a ~ N(0, se_a^2)``.
Every stop's value is a *fixed* weighted mean of area estimates, ``le_s = sum_a w_sa
le_hat_a`` (the assignment weights, :func:`gradient.assign.catchments.assign`). So every figure that
is a linear combination of stop values, ``sum_s c_s le_s`` (a change between two stops, an
end-to-end change, a weighted least-squares slope), is a linear combination of area errors
with the exact standard error ``sqrt(sum_a (sum_s c_s w_sa)^2 se_a^2)``
(:func:`combination_se`). Two stops in one area differ by exactly 0 with error 0; stops
that share areas are never treated as independent.

A figure chosen as the *largest* of many (the steepest stretch, the biggest stop-to-stop
fall) gets an interval that is simultaneous over every candidate it was chosen from: its
half-width is the ``1 - alpha`` quantile of ``max |z|`` over the candidates under the model,
found by seeded parametric simulation of the area errors (:func:`simultaneous_quantiles`).
Each area's draws come from a generator seeded by the area's id, so a pattern gets the same
numbers whichever other patterns are in the run.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import pandas as pd
from scipy import sparse

from .. import _arrays
from ..options import DRAWS, SEED

CHUNK = 250
"""Draws simulated at a time (memory: ``CHUNK`` x stops floats)."""


def positions(index: pd.Index, values, as_text: bool = False) -> np.ndarray:
    """``index.get_indexer(values)`` (each value's position in ``index``, -1 where absent), values hashed once each.

    Each distinct value is looked up once (``as_text``: as its ``str``), so millions of
    values that repeat a few hundred thousand ids (a nation's candidate claims name its stops
    again and again) cost one pass of ``pandas.factorize`` and a small lookup, where looking
    every value up costs two to four times as much.
    """
    codes, uniques = pd.factorize(np.asarray(values, dtype=object) if as_text else values, use_na_sentinel=False)
    keys = pd.Index(uniques).astype(str) if as_text else pd.Index(uniques)
    return np.asarray(index.get_indexer(keys))[codes]


def combination_se(weights: pd.DataFrame, terms: pd.DataFrame) -> pd.Series:
    """Standard errors of linear combinations of stop values, exactly, under the model.

    Parameters
    ----------
    weights : pandas.DataFrame
        The weights table of :func:`gradient.assign.catchments.assign`: ``stop_id``, ``area_id``,
        ``weight``, ``le_se`` (the area's standard error, years).
    terms : pandas.DataFrame
        ``combo`` (an integer label of the combination), ``stop_id`` and ``coef``: the
        combination ``combo`` is ``sum coef * le[stop_id]`` over its rows.

    Returns
    -------
    pandas.Series
        Indexed by ``combo`` (every label in ``terms``): the standard error, years (or
        years per unit of whatever the coefficients divide by). NaN where a stop has no
        value or an area with a non-zero coefficient has no standard error; exactly 0
        where the area coefficients cancel.
    """
    c = _Cells.of(_Rows.of(weights), terms)
    return pd.Series(c.se(), index=pd.Index(c.combos, name="combo"))


@dataclass
class _Rows:
    """The weights table arranged for expanding combinations of stops into areas (once per table).

    ``stops``: the stop ids; ``no_value``: by stop, whether it has a weight row without an
    area; ``area``, ``weight`` (of each weight row with an area, grouped by stop: rows
    ``start[s]`` to ``start[s] + per_stop[s]`` are stop ``s``'s); ``area_se``: by area code.
    """

    stops: pd.Index
    no_value: np.ndarray
    area: np.ndarray
    weight: np.ndarray
    start: np.ndarray
    per_stop: np.ndarray
    area_se: np.ndarray
    n_areas: int

    @classmethod
    def of(cls, weights: pd.DataFrame) -> _Rows:
        stops = pd.Index(pd.unique(weights["stop_id"]))
        stop_of = stops.get_indexer(weights["stop_id"])
        known = weights["area_id"].notna().to_numpy(bool)
        # A stop with any weight row but no area (or no row at all) has no value.
        no_value = np.bincount(stop_of[~known], minlength=len(stops)) > 0
        area_of, areas = pd.factorize(weights["area_id"][known])
        area_se = pd.Series(weights["le_se"][known].to_numpy(float)).groupby(area_of).first().to_numpy(float)
        stop_k = stop_of[known]
        order = np.argsort(stop_k, kind="stable")
        per_stop = np.bincount(stop_k, minlength=len(stops))
        start = np.r_[0, np.cumsum(per_stop)[:-1]]
        weight = weights["weight"].to_numpy(float)[np.flatnonzero(known)]
        return cls(stops, no_value, area_of[order], weight[order], start, per_stop, area_se, max(len(areas), 1))


@dataclass
class _Cells:
    """Linear combinations of stop values as combinations of area values: one cell per (combination, area).

    ``combo`` (position in ``combos``), ``area`` (a code of the area, ``area_se`` by code) and
    ``dw`` (the combination's coefficient of that area: exactly 0 where terms cancel), sorted
    by combination, then area code; ``missing``: by combination, whether a stop has no value.
    """

    combos: np.ndarray
    missing: np.ndarray
    combo: np.ndarray
    area: np.ndarray
    dw: np.ndarray
    area_se: np.ndarray

    @classmethod
    def of(cls, rows: _Rows, terms: pd.DataFrame) -> _Cells:
        combos = pd.unique(terms["combo"])
        combo_of = pd.Index(combos).get_indexer(terms["combo"])
        term_stop = positions(rows.stops, terms["stop_id"])
        found = term_stop >= 0
        safe = np.where(found, term_stop, 0)
        missing_term = ~found | rows.no_value[safe]
        missing = np.bincount(combo_of[missing_term], minlength=len(combos)) > 0
        # Each term expanded into its stop's weight rows: (combination, area, coef * weight).
        n = np.where(found, rows.per_stop[safe], 0)
        term = np.repeat(np.arange(len(terms)), n)
        k = rows.start[safe[term]] + _arrays.within(n)
        dw = terms["coef"].to_numpy(float)[term] * rows.weight[k]
        key = combo_of[term].astype(np.int64) * rows.n_areas + rows.area[k]
        cell, inverse = np.unique(key, return_inverse=True)
        cell_dw = np.bincount(inverse, weights=np.nan_to_num(dw, nan=0.0), minlength=len(cell))
        cell_dw[np.abs(cell_dw) <= 1e-12] = 0.0  # coefficients that cancel: exactly no error
        return cls(combos, missing, cell // rows.n_areas, cell % rows.n_areas, cell_dw, rows.area_se)

    def se(self) -> np.ndarray:
        """Each combination's standard error, in the order of ``combos`` (see :func:`combination_se`)."""
        v = self.dw**2 * self.area_se[self.area] ** 2
        var = np.bincount(self.combo, weights=np.where(np.isnan(v), 0.0, v), minlength=len(self.combos))
        unknown = np.bincount(self.combo[np.isnan(v) & (self.dw != 0)], minlength=len(self.combos)) > 0
        out = np.sqrt(var)
        out[unknown | self.missing] = np.nan
        return out

    def keys(self) -> np.ndarray:
        """One key per combination, equal for combinations of the same areas with the same coefficients up to sign.

        Coefficients are compared rounded to 1e-9; the sign is that which makes the
        coefficient of the lowest area code positive (a change and its reverse are one
        test). Bytes, ``b""`` for a combination of no area.
        """
        nz = np.flatnonzero(self.dw != 0)
        combo, area, dw = self.combo[nz], self.area[nz], np.round(self.dw[nz], 9)
        first = np.flatnonzero(np.r_[True, combo[1:] != combo[:-1]]) if len(nz) else np.empty(0, np.int64)
        lengths = np.diff(np.append(first, len(nz)))
        dw = dw * np.repeat(np.sign(dw[first]), lengths)
        cells = np.empty(len(nz), dtype=[("area", np.int64), ("dw", np.float64)])
        cells["area"], cells["dw"] = area, dw + 0.0  # + 0.0: no -0.0
        keys = np.full(len(self.combos), b"", dtype=object)
        keys[combo[first]] = [cells[a : a + m].tobytes() for a, m in zip(first, lengths)]
        return keys


def pair_se(weights: pd.DataFrame, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Standard error of ``le[second] - le[first]`` for aligned arrays of stop ids.

    Parameters
    ----------
    weights : pandas.DataFrame
        As for :func:`combination_se`.
    first, second : array-like of str
        Stop ids, one pair per position.

    Returns
    -------
    numpy.ndarray
        Years; NaN where either stop has no value or a contributing area has no
        standard error; exactly 0 where both stops take the same areas with the
        same weights.
    """
    if not len(first):
        return np.empty(0)
    return np.concatenate([cells.se() for cells in _pair_cells(weights, first, second)])


def pair_tests(weights: pd.DataFrame, first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`pair_se`, and a key per pair equal for pairs whose changes are one test.

    Two changes are one test where their stops' areas differ by the same weights, up to
    sign (a change and its reverse, or the same pair of areas met on another route).

    Returns
    -------
    se : numpy.ndarray
        As :func:`pair_se`.
    keys : numpy.ndarray
        Bytes objects (``b""`` where the stops take the same areas with the same weights).
    """
    if not len(first):
        return np.empty(0), np.empty(0, dtype=object)
    se, keys = [], []
    for cells in _pair_cells(weights, first, second):
        se.append(cells.se())
        keys.append(cells.keys())
    return np.concatenate(se), np.concatenate(keys)


PAIR_BLOCK = 2**16
"""Pairs expanded into areas at a time (:func:`pair_se`, :func:`pair_tests`), so that memory stays
a block's whatever the number of pairs: a nation's 1.9 million candidate claims (``bench_scale.py
--cities 8``) expanded at once took the process to 1.23 GB, in blocks 0.66 GB, in the same time
(0.91 s, 0.82 s). Each pair's numbers depend on it alone: the same bits either way."""


def _pair_cells(weights: pd.DataFrame, first: np.ndarray, second: np.ndarray) -> Iterator[_Cells]:
    """The cells of :data:`PAIR_BLOCK` pairs at a time, the weights arranged once (a block let go before the next)."""
    rows = _Rows.of(weights)
    for a in range(0, len(first), PAIR_BLOCK):
        yield _Cells.of(rows, _pair_terms(first[a : a + PAIR_BLOCK], second[a : a + PAIR_BLOCK]))


def _pair_terms(first: np.ndarray, second: np.ndarray) -> pd.DataFrame:
    """The terms of ``le[second] - le[first]``, pair ``i`` being combination ``i``."""
    n = len(first)
    combo = np.arange(n)
    return pd.DataFrame(
        {
            "combo": np.r_[combo, combo],
            "stop_id": np.r_[np.asarray(first, dtype=object), np.asarray(second, dtype=object)],
            "coef": np.r_[-np.ones(n), np.ones(n)],
        }
    )


def _area_seed(area_id: str, seed: int) -> int:
    digest = hashlib.blake2b(f"{seed}:{area_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


class Model:
    """The stops' values as fixed weighted means of independent normal area errors.

    Parameters
    ----------
    weights : pandas.DataFrame
        The weights table of :func:`gradient.assign.catchments.assign`.
    seed : int
        Seed of the simulations (each area's draws come from ``seed`` and its id).
    """

    def __init__(self, weights: pd.DataFrame, seed: int = SEED) -> None:
        w = weights.dropna(subset=["weight"])
        stop_ids = w["stop_id"].astype(str).to_numpy(dtype=object)
        area_ids = w["area_id"].astype(str).to_numpy(dtype=object)
        stop_codes, stops = pd.factorize(pd.Series(stop_ids))
        area_codes, areas = pd.factorize(pd.Series(area_ids))
        self.stop_index, self.area_index = pd.Index(stops), pd.Index(areas)
        # stops that take the same areas with the same weights have the same error: one row each
        # (an order-free 128-bit hash of each stop's (area, weight) pairs, checked exactly below)
        wq = np.round(w["weight"].to_numpy(float) * 1e9).astype(np.int64).astype(np.uint64)
        sig = np.zeros((len(stops), 2), dtype=np.uint64)
        with np.errstate(over="ignore"):
            for k, salt in enumerate((0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F)):
                pair = _arrays.mix(area_codes.astype(np.uint64) * np.uint64(salt) ^ _arrays.mix(wq + np.uint64(k)))
                np.add.at(sig[:, k], stop_codes, pair)
        _, row_of_stop = np.unique(sig, axis=0, return_inverse=True)
        row_of_stop = np.asarray(row_of_stop).ravel()
        per_stop = sparse.csr_matrix(
            (w["weight"].to_numpy(float), (stop_codes, area_codes)), shape=(len(stops), len(areas))
        )
        n_rows = int(row_of_stop.max(initial=-1)) + 1
        counts = np.bincount(row_of_stop, minlength=n_rows).astype(float)
        pick = sparse.csr_matrix(
            (1.0 / counts[row_of_stop], (row_of_stop, np.arange(len(stops)))), shape=(n_rows, len(stops))
        )
        W = (pick @ per_stop).tocsr()
        if abs(W[row_of_stop] - per_stop).sum() > 1e-9 * max(len(stops), 1):  # a hash collision: no collapsing
            row_of_stop, W = np.arange(len(stops)), per_stop
        self._row_of_stop, self.W = row_of_stop, W
        se = w.groupby(w["area_id"].astype(str), sort=False)["le_se"].first()
        self.se = se.reindex(self.area_index).to_numpy(float)
        self.seed = seed

    @property
    def n_rows(self) -> int:
        """Distinct combinations of areas and weights (rows of the simulated errors)."""
        return self.W.shape[0]

    def stops(self, stop_ids) -> np.ndarray:
        """Rows of the simulated errors for these stop ids (-1 for stops without a value)."""
        pos = positions(self.stop_index, stop_ids, as_text=True)
        return np.where(pos >= 0, self._row_of_stop[np.maximum(pos, 0)], -1)

    def stop_errors(self, draws: int = DRAWS):
        """Simulated errors, ``CHUNK`` draws at a time: arrays of shape (:attr:`n_rows`, draws in chunk).

        Row ``r`` is the error of every stop whose :meth:`stops` is ``r``.

        Areas without a standard error give NaN errors to the stops that use them.
        """
        gens = [np.random.Generator(np.random.PCG64(_area_seed(a, self.seed))) for a in self.area_index]
        z = np.empty((len(gens), CHUNK))  # each area's draws written in place, chunk after chunk
        done = 0
        while done < draws:
            n = min(CHUNK, draws - done)
            part = z[:, :n]
            for g, row in zip(gens, part):
                g.standard_normal(out=row)
            part *= self.se[:, None]
            yield np.asarray(self.W @ part).astype(np.float32)
            done += n


@dataclass
class Family:
    """A family of contrasts over which intervals must hold at once, in groups (patterns).

    A contrast is ``le[second] - le[first]`` (or, with ``coef``, any linear combination of
    stop values, given as rows of a sparse matrix over :attr:`Model.n_rows`) with standard
    error ``se``; ``group`` is the pattern it belongs to.
    """

    se: np.ndarray
    group: np.ndarray
    first: np.ndarray | None = None
    second: np.ndarray | None = None
    coef: sparse.spmatrix | None = None


def _prepare(model: Model, fam: Family):
    """The contrast matrix of a family, its rows sorted by group, identical contrasts once."""
    se = np.asarray(fam.se, dtype=float)
    ok = np.isfinite(se) & (se > 0)
    codes, groups = pd.factorize(pd.Series(fam.group))
    if fam.coef is None:
        a, b = model.stops(fam.first), model.stops(fam.second)
        ok &= (a >= 0) & (b >= 0)
        key = pd.DataFrame({"g": codes, "lo": np.minimum(a, b), "hi": np.maximum(a, b)})
        ok &= ~key.duplicated().to_numpy()
        idx = np.flatnonzero(ok)
        idx = idx[np.argsort(codes[idx], kind="stable")]
        n = len(idx)
        rows = np.r_[np.arange(n), np.arange(n)]
        K = sparse.csr_matrix((np.r_[-np.ones(n), np.ones(n)], (rows, np.r_[a[idx], b[idx]])), shape=(n, model.n_rows))
    else:
        idx = np.flatnonzero(ok)
        idx = idx[np.argsort(codes[idx], kind="stable")]
        K = sparse.csr_matrix(fam.coef)[idx]
    gcodes = codes[idx]
    starts = np.flatnonzero(np.r_[True, gcodes[1:] != gcodes[:-1]]) if len(idx) else np.empty(0, int)
    return K.astype(np.float32), (1.0 / se[idx]).astype(np.float32), gcodes, starts, groups


KEEP_BYTES = 2**26
"""Memory for the simulated ``|z|`` of every contrast at once, and for each group's maxima kept beyond
those a quantile needs (see :func:`group_quantiles`)."""


def _group_maxima(model: Model, prepared: list, draws: int) -> Iterator[list[np.ndarray | None]]:
    """Simulated ``max |z|`` of each group, a few draws at a time: per family, groups x draws (None without a group).

    As many draws at a time as the ``|z|`` of every contrast fit in :data:`KEEP_BYTES` (a
    route family repeats a stretch once per route that runs it: London's 724 routes make
    251,913 contrasts, 1 MB a draw). A usable contrast never touches an area without a
    standard error, so every ``|z|`` is finite.
    """
    rows = max([p[0].shape[0] for p in prepared if len(p[3])], default=0)
    if not rows:
        return
    step = max(1, KEEP_BYTES // (4 * rows))
    for errors in model.stop_errors(draws):
        for at in range(0, errors.shape[1], step):
            out: list[np.ndarray | None] = []
            for K, inv_se, _, starts, _ in prepared:
                if not len(starts):
                    out.append(None)
                    continue
                z = np.asarray(K @ errors[:, at : at + step])
                np.abs(z, out=z)
                z *= inv_se[:, None]
                # one group (the network family) is a plain maximum, four times quicker than reduceat's
                out.append(z.max(axis=0, keepdims=True) if len(starts) == 1 else np.maximum.reduceat(z, starts, axis=0))
            yield out


def simultaneous_quantiles(
    model: Model, families: list[Family], levels: tuple[float, ...], draws: int = DRAWS
) -> list[tuple[pd.DataFrame, np.ndarray]]:
    """Quantiles of ``max |z|`` over each group of each family, and over each family at once.

    Each contrast's ``z`` is its simulated error over its standard error; contrasts with a
    standard error that is not finite and positive are left out, and identical contrasts
    within a group count once. Every family is evaluated on the same simulated draws, and
    every draw of every group is kept (for one level of one family, :func:`group_quantiles`
    gives the same numbers keeping only what the quantile reads).

    Parameters
    ----------
    model : Model
    families : list of Family
    levels : tuple of float
        Quantile levels, e.g. ``(0.95,)``.
    draws : int
        Simulated draws.

    Returns
    -------
    list of (per_group, overall)
        Per family: ``per_group``, indexed by group with one column per level, the
        quantile of the group's ``max |z|`` (NaN for a group without a usable contrast);
        ``overall``, per level, the quantile of ``max |z|`` over every contrast of the family.
    """
    prepared = [_prepare(model, fam) for fam in families]
    maxima: list[list[np.ndarray]] = [[] for _ in families]
    for chunk in _group_maxima(model, prepared, draws):
        for top, out in zip(chunk, maxima):
            if top is not None:
                out.append(top)
    results = []
    for (_, _, gcodes, starts, groups), m in zip(prepared, maxima):
        per_group = pd.DataFrame(np.nan, index=pd.Index(groups), columns=list(levels))
        if not m:
            results.append((per_group, np.full(len(levels), np.nan)))
            continue
        top = np.concatenate(m, axis=1).astype(float)  # groups with a contrast x draws
        per_group.iloc[gcodes[starts], :] = np.quantile(top, levels, axis=1).T
        results.append((per_group, np.atleast_1d(np.quantile(top.max(axis=0), levels))))
    return results


def group_quantiles(model: Model, fam: Family, level: float, draws: int = DRAWS) -> tuple[np.ndarray, np.ndarray]:
    """The ``level`` quantile of each group's simulated ``max |z|``, and every draw's maximum over all groups.

    The numbers of :func:`simultaneous_quantiles` (numpy's default, linear, quantile over
    every draw), in memory that grows with what the quantile reads: of a group's ``draws``
    maxima, its ``level`` quantile reads only the two order statistics either side of
    ``level * (draws - 1)``, both among its largest ``draws - floor(level * (draws - 1))``
    (1,001 of 20,000 at 95%). Each group keeps those, and a buffer of later draws cut back to
    them whenever it fills, where every draw of every group (80 kB a group, a national
    network's routes several GB) would be kept otherwise.

    Returns
    -------
    per_group : numpy.ndarray
        By group, in the order of ``pandas.factorize(fam.group)``; NaN for a group without
        a usable contrast.
    overall : numpy.ndarray
        Per draw, the largest ``|z|`` of any contrast (float32); NaN without one.
    """
    prepared = _prepare(model, fam)
    _, _, gcodes, starts, groups = prepared
    per_group = np.full(len(groups), np.nan)
    overall = np.full(draws, np.nan, dtype=np.float32)
    n = len(starts)
    if not n:
        return per_group, overall
    keep = min(draws, draws - int(np.floor(level * (draws - 1))))  # the largest draws the quantile reads
    width = min(draws, max(keep + CHUNK, KEEP_BYTES // (4 * n)))  # kept plus room for more, per group
    kept = np.empty((n, width), dtype=np.float32)
    filled = done = 0
    for (top,) in _group_maxima(model, [prepared], draws):
        assert top is not None
        c = top.shape[1]
        overall[done : done + c] = top.max(axis=0)
        done += c
        if filled + c > width:  # cut back to the largest `keep` of each group
            kept[:, :keep] = np.partition(kept[:, :filled], filled - keep, axis=1)[:, filled - keep :]
            filled = keep
        kept[:, filled : filled + c] = top
        filled += c
    # numpy's quantile over every draw: the draws not kept (all below the ones read) as -inf
    rows = max(1, KEEP_BYTES // (8 * draws))
    for a in range(0, n, rows):
        block = np.full((min(rows, n - a), draws), -np.inf)
        block[:, draws - filled :] = kept[a : a + rows, :filled]
        per_group[gcodes[starts[a : a + rows]]] = np.quantile(block, level, axis=1)
    return per_group, overall


BONFERRONI_DRAWS = 20
"""A simulated quantile needs ``alpha * draws`` of at least this many exceedances; with fewer
(a tiny ``alpha`` or few ``draws``) every critical value is Bonferroni's bound, which holds."""


@dataclass(frozen=True)
class Critical:
    """Critical values of ``max |z|`` at one level: per group, and over every group at once.

    Each is the simulated ``1 - alpha`` quantile, clamped between the normal quantile of one
    contrast (which ``max |z|`` can never undercut) and Bonferroni's bound over the distinct
    contrasts (which it can never exceed): so a family of one contrast gets the exact normal
    quantile, and Monte Carlo error can only move a value inside bounds that hold.

    Attributes
    ----------
    per_group : pandas.Series
        By group; NaN for a group without a usable contrast.
    overall : float
        Over every contrast of every group at once.
    n_per_group : pandas.Series
        Distinct contrasts per group.
    n_overall : int
        Distinct contrasts over all groups.
    method : str
        ``"simulated"`` or ``"bonferroni"`` (too few draws for the level).
    mc_error : float
        Relative Monte Carlo standard error of :attr:`overall` (0 where exact or a bound).
    """

    per_group: pd.Series
    overall: float
    n_per_group: pd.Series
    n_overall: int
    method: str
    mc_error: float


def _bounds(n: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    from scipy.special import ndtri

    low = float(ndtri(1 - alpha / 2))
    with np.errstate(divide="ignore"):
        high = ndtri(1 - alpha / (2 * np.maximum(n, 1)))
    return np.full(len(n), low), np.asarray(high, dtype=float)


def critical_values(model: Model, fam: Family, alpha: float, draws: int = DRAWS) -> Critical:
    """Critical values of a family of contrasts at level ``1 - alpha``, per group and overall.

    Parameters
    ----------
    model : Model
    fam : Family
        Contrasts (``first``/``second`` stop ids) with their standard errors, in groups.
    alpha : float
    draws : int

    Returns
    -------
    Critical
    """
    groups = pd.Series(fam.group)
    codes, labels = pd.factorize(groups)
    a, b = model.stops(fam.first), model.stops(fam.second)
    se = np.asarray(fam.se, dtype=float)
    ok = np.isfinite(se) & (se > 0) & (a >= 0) & (b >= 0)
    pairs = pd.DataFrame({"g": codes, "lo": np.minimum(a, b), "hi": np.maximum(a, b)})[ok]
    n_group = pairs.drop_duplicates().groupby("g").size().reindex(range(len(labels)), fill_value=0).to_numpy()
    n_all = int(len(pairs[["lo", "hi"]].drop_duplicates()))
    low, high = _bounds(n_group, alpha)
    low_all, high_all = _bounds(np.array([n_all]), alpha)
    if n_all == 0:
        nan = pd.Series(np.nan, index=pd.Index(labels))
        return Critical(nan, float("nan"), pd.Series(n_group, index=pd.Index(labels)), 0, "simulated", 0.0)
    if alpha * draws < BONFERRONI_DRAWS:
        per = np.where(n_group > 0, high, np.nan)
        return Critical(
            pd.Series(per, index=pd.Index(labels)),
            float(high_all[0]),
            pd.Series(n_group, index=pd.Index(labels)),
            n_all,
            "bonferroni",
            0.0,
        )
    per, overall_draws = group_quantiles(model, fam, 1 - alpha, draws)
    per = np.where(n_group > 0, np.clip(per, low, high), np.nan)
    per = np.where(n_group == 1, low, per)  # one contrast: the normal quantile, exactly
    sim = float(np.quantile(overall_draws, 1 - alpha))
    overall = float(np.clip(sim, low_all[0], high_all[0])) if n_all > 1 else float(low_all[0])
    exact = n_all == 1 or overall != sim
    return Critical(
        pd.Series(per, index=pd.Index(labels)),
        overall,
        pd.Series(n_group, index=pd.Index(labels)),
        n_all,
        "simulated",
        0.0 if exact else quantile_mc_error(np.asarray(overall_draws, float), 1 - alpha),
    )


def quantile_mc_error(sample: np.ndarray, p: float) -> float:
    """Relative Monte Carlo standard error of a sample's ``p`` quantile, from its order statistics.

    The quantile's standard error is about half the distance between the order statistics
    one binomial standard deviation either side of ``p`` (Maritz and Jarrett's idea).
    """
    n = len(sample)
    if n < 10:
        return float("nan")
    x = np.sort(sample)
    d = np.sqrt(p * (1 - p) / n)
    lo = x[max(int(np.floor(n * (p - d))), 0)]
    hi = x[min(int(np.ceil(n * (p + d))), n - 1)]
    q = np.quantile(x, p)
    return float((hi - lo) / 2 / q) if q else float("nan")
