"""The outward tables, ``stops.csv``, ``patterns.csv`` and ``stretches.csv``: figures and words together.

Columns are in :mod:`gradient.schema`, meanings in ``docs/CONTRACT.md`` and
``docs/COLUMNS.md``. Figures come from :mod:`gradient.stats` (one uncertainty model, one
critical value for every claim a sentence may make), the order from
:mod:`gradient.stats.ranking`, and every word from :mod:`gradient.story.words`. Everything
is computed with grouped operations over all patterns at once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtri

from ..credits import Labels
from ..options import Options
from ..schema import (
    CONTEXT_PATTERNS_COLUMNS,
    CONTEXT_PATTERNS_EXTRA_COLUMNS,
    CONTEXT_STOPS_COLUMNS,
    PATTERNS_CSV_COLUMNS,
    PATTERNS_EXTRA_COLUMNS,
    STOPS_CSV_COLUMNS,
    STOPS_EXTRA_COLUMNS,
    STRETCHES_CSV_COLUMNS,
    STRETCHES_EXTRA_COLUMNS,
)
from ..stats import figures
from ..stats.claims import Claims
from ..stats.ranking import rank_range, rank_routes
from ..stats.stretches import Stretches, route_order
from ..stats.uncertainty import pair_se
from . import words
from .names import display_name

SPARSE_STOPS = 5
"""A pattern with fewer stops than this is ``sparse`` (an express): its sentence says so."""

SPARSE_SPACING_M = 1500.0
"""A pattern whose stops are this far apart on average (metres) is ``sparse``: an express."""


def point_weights(assignment: pd.DataFrame) -> pd.DataFrame:
    """A weights table for an assignment that gives each stop one area's value."""
    valued = assignment[assignment["le"].notna()]
    return pd.DataFrame(
        {
            "stop_id": valued["stop_id"],
            "area_id": valued["area_id"],
            "weight": 1.0,
            "area_le": valued["le"],
            "le_se": valued["le_se"],
        }
    ).reset_index(drop=True)


def stop_table(
    patterns: pd.DataFrame,
    pattern_stops: pd.DataFrame,
    assignment: pd.DataFrame,
    weights: pd.DataFrame | None = None,
    options: Options | None = None,
    doubt: pd.Series | None = None,
    area_names: pd.Series | None = None,
    context: pd.Series | None = None,
) -> pd.DataFrame:
    """Join each pattern's stops to their life expectancy and test stop-to-stop changes.

    Parameters
    ----------
    patterns : pandas.DataFrame
        ``pattern_id``, ``route_id``, ``route_name``, ``direction_id`` per pattern.
    pattern_stops : pandas.DataFrame
        ``PATTERN_STOP_COLUMNS`` (and ``minutes`` where the feed has times).
    assignment : pandas.DataFrame
        ``stop_id``, ``area_id``, ``le``, ``le_se`` (and ``n_areas``, ``weighting``) per
        distinct stop, as from :func:`gradient.assign.catchments.assign`.
    weights : pandas.DataFrame, optional
        The weights table of :func:`gradient.assign.catchments.assign`; default: each stop
        takes its ``area_id`` alone (right for the point method).
    options : Options, optional
        ``alpha``, ``correction`` and ``family`` of the stop-to-stop tests
        (:func:`gradient.stats.figures.stop_tests`).
    doubt : pandas.Series, optional
        :func:`gradient.areas.doubt.doubtful_areas`, for ``area_doubt``.
    area_names : pandas.Series, optional
        Area id to a name readers know, for ``area_name``.
    context : pandas.Series, optional
        Stop id to its value of a second measure (:func:`gradient.assign.catchments.context_at_stops`).

    Returns
    -------
    pandas.DataFrame
        ``STOPS_CSV_COLUMNS``, ``context`` (with ``context``), then ``STOPS_EXTRA_COLUMNS``,
        ordered by ``pattern_id`` and ``stop_sequence``:

        - ``area_name``: the name of ``area_id`` readers know (empty where unknown);
        - ``area_doubt``: why the estimate of the stop's area deserves a warning
          (``imprecise``, ``implausible``), or empty;
        - ``dist_m`` metres and ``minutes`` (median scheduled minutes) from the first
          stop; ``le``, ``le_se``, ``le_delta`` years;
        - ``n_areas``: areas that contributed to ``le``; ``weighting``: how they were
          combined (``point``, ``nearest``, ``area``, ``population``, ``length``,
          ``length x population``);
        - ``le_delta_se``, ``le_delta_z``, ``le_delta_p``, ``le_delta_significant``:
          :func:`gradient.stats.figures.stop_tests`.
    """
    options = options or Options()
    meta = patterns[["pattern_id", "route_id", "route_name", "direction_id"]]
    out = pattern_stops.merge(meta, on="pattern_id", how="left", validate="many_to_one")
    cols = [c for c in ("stop_id", "area_id", "le", "le_se", "n_areas", "weighting") if c in assignment]
    out = out.merge(assignment[cols], on="stop_id", how="left", validate="many_to_one")
    out = out.sort_values(["pattern_id", "stop_sequence"], kind="stable").reset_index(drop=True)
    out["le_delta"] = out.groupby("pattern_id", sort=False)["le"].diff()
    if "minutes" not in out:
        out["minutes"] = np.nan
    if "n_areas" not in out:
        out["n_areas"] = out["le"].notna().astype(int)
    if "weighting" not in out:
        out["weighting"] = pd.NA
    weights = point_weights(assignment) if weights is None else weights
    out = out.join(figures.stop_tests(out, weights, options))
    flags = pd.Series(dtype=object) if doubt is None else doubt
    out["area_doubt"] = flags.reindex(out["area_id"]).fillna("").to_numpy()
    out.loc[out["le"].isna(), "area_doubt"] = ""
    names = area_names if area_names is not None else pd.Series(dtype="string")
    out["area_name"] = pd.array(names.reindex(out["area_id"]).to_numpy(), dtype="string")
    extra = []
    if context is not None:
        out["context"] = context.reindex(out["stop_id"]).to_numpy(float)
        out.loc[out["le"].isna(), "context"] = np.nan  # the same areas as le, or none
        extra = CONTEXT_STOPS_COLUMNS
    return out[STOPS_CSV_COLUMNS + extra + STOPS_EXTRA_COLUMNS]


def pattern_table(
    patterns: pd.DataFrame,
    stops: pd.DataFrame,
    weights: pd.DataFrame,
    claims: Claims,
    options: Options | None = None,
    labels: Labels | None = None,
    area_context: pd.Series | None = None,
    voice: words.Voice | None = None,
) -> pd.DataFrame:
    """One row per pattern, ordered by rank: figures, its story and the words that tell it.

    Parameters
    ----------
    patterns : pandas.DataFrame
        ``PATTERN_COLUMNS`` per pattern.
    stops : pandas.DataFrame
        :func:`stop_table`, ordered by pattern and stop sequence (the rows the claims
        were built on).
    weights : pandas.DataFrame
        The weights table of :func:`gradient.assign.catchments.assign`.
    claims : Claims
        :func:`gradient.stats.claims.build` of ``stops``.
    options : Options, optional
        ``alpha``, ``family``.
    labels : Labels, optional
        The sources, for ``credit``.
    area_context : pandas.Series, optional
        Area id to its value of a second measure: with it (and ``context`` in ``stops``)
        the table has ``context_first``, ``context_last`` and ``context_le_corr``.
    voice : Voice, optional
        The run's words (:class:`gradient.story.words.Voice`).

    Returns
    -------
    pandas.DataFrame
        ``PATTERNS_CSV_COLUMNS``, the context columns, then ``PATTERNS_EXTRA_COLUMNS``,
        ordered by ``rank`` (unranked last). Years unless said:

        - ``n_stops``, ``n_stops_le``, ``n_areas_le``; ``first_stop``, ``last_stop`` (names
          as readers see them); ``length_m``; ``max_gap_m`` (longest gap between
          consecutive stops, metres) and ``sparse`` (fewer than five stops, or stops 1.5 km
          apart on average: an express, said so in its sentence);
        - ``le_first``, ``le_last``, ``le_min``, ``le_max``, ``le_range`` and the range's
          Bonferroni lower bound ``le_range_ci_low``, ``le_range_significant``, its stops;
        - the change, stretch, drop and trend columns of
          :func:`gradient.stats.figures.pattern_stats`;
        - ``rank``, ``rank_low``, ``rank_high``, ``route_story``, ``route_supported``:
          :func:`gradient.stats.ranking.rank_routes`; ``rank_range`` (descriptive);
        - the story: ``lead`` (``stretch``, ``change`` or ``none``), ``lead_fall`` (the
          lead's change read along the pattern, positive when it falls), ``lead_low`` and
          ``lead_high`` (its interval, of the size of the change), ``lead_robustness``,
          ``lead_from``/``_to`` (stops), ``lead_from_area``/``_to_area`` and their names,
          ``lead_hops``, ``lead_steps`` (crossings between areas inside it),
          ``story_from_seq``/``story_to_seq``; ``change_supported`` (the end-to-end change
          may be stated too); ``doubt_names`` (where nothing may lead: the areas whose
          doubtful estimates a supported claim would rest on); ``story_routes`` (every
          route whose story is the same place);
        - the words: ``headline``, ``story_label``, ``takeaway``, ``credit``
          (:mod:`gradient.story.words`).
    """
    options = options or Options()
    voice = voice or words.Voice(
        alpha=options.alpha, family=options.family, se_scale=options.se_scale, stretch_k=options.stretch_k
    )
    s = stops.reset_index(drop=True)
    g = s.groupby("pattern_id", sort=False)
    out = pd.DataFrame(
        {
            "n_stops_le": g["le"].count(),
            "length_m": g["dist_m"].max(),
            "le_min": g["le"].min(),
            "le_max": g["le"].max(),
            "max_gap_m": g["dist_m"].apply(lambda d: float(np.diff(d.to_numpy(float)).max()) if len(d) > 1 else 0.0),
        }
    )
    firsts = s.loc[g.head(1).index].set_index("pattern_id")["stop_name"]
    lasts = s.loc[g.tail(1).index].set_index("pattern_id")["stop_name"]
    out["first_stop"] = pd.array(display_name_series(firsts.reindex(out.index)), dtype="string")
    out["last_stop"] = pd.array(display_name_series(lasts.reindex(out.index)), dtype="string")
    out["le_range"] = out["le_max"] - out["le_min"]
    out = out.join(_range_test(s, weights, options.alpha, options.family == "network"))
    out = out.join(figures.pattern_stats(s, weights, options, claims))
    for col in ("steepest_fall_from", "steepest_fall_to", "max_drop_from", "max_drop_to"):
        out[col] = pd.array(display_name_series(out[col]), dtype="string")
    extra = []
    if "context" in s and area_context is not None:
        out = out.join(_context_columns(s, weights, area_context))
        extra = CONTEXT_PATTERNS_COLUMNS
    meta = patterns.drop(columns=[c for c in ("geometry", "rank") if c in patterns.columns])
    res = meta.merge(out, left_on="pattern_id", right_index=True, how="left")
    res = res.join(_story_columns(res, s, claims), on="pattern_id")
    spacing = res["length_m"] / (res["n_stops"] - 1).clip(lower=1)
    res["sparse"] = (res["n_stops"] < SPARSE_STOPS) | (spacing > SPARSE_SPACING_M)
    ranks = rank_routes(res[["pattern_id", "route_id"]], claims.stories)
    res = res.join(ranks.rename(columns={"supported": "route_supported"}), on="pattern_id")
    res["rank_range"] = rank_range(res)
    res["story_routes"] = _story_routes(res)
    _words(res, labels, voice)
    res = res.assign(_valued=res["n_stops_le"] > 0).sort_values(
        ["rank", "_valued", "route_story", "pattern_id"],
        ascending=[True, False, False, True],
        na_position="last",
        kind="stable",
    )
    tail = [c for c in CONTEXT_PATTERNS_EXTRA_COLUMNS if c in res]
    columns = PATTERNS_CSV_COLUMNS + extra + [c for c in PATTERNS_EXTRA_COLUMNS if c in res] + tail
    return res[columns].reset_index(drop=True)


def display_name_series(values: pd.Series) -> pd.Series:
    """Names as readers see them (:func:`gradient.story.names.display_name`), missing kept missing."""
    from .names import display_names

    clean = display_names(values)
    none = np.full(len(values), None, dtype=object)
    return pd.Series(np.where(values.isna().to_numpy(), none, np.asarray(clean, dtype=object)), index=values.index)


def _story_columns(res: pd.DataFrame, s: pd.DataFrame, claims: Claims) -> pd.DataFrame:
    """Each pattern's lead (its strongest supported claim free of doubtful estimates) and what a sentence needs."""
    cand = claims.candidates.assign(row=np.arange(len(claims.candidates)))
    key = ["pattern_id", "low", "rise", "change", "from_row"]
    c = cand.assign(rise=cand["est"] < 0, change=cand["kind"] == "change")
    asc = [True, False, True, True, True]
    lead = c[c["eligible"] & c["supported"] & c["may_lead"]].sort_values(key, ascending=asc, kind="stable")
    lead = lead.drop_duplicates("pattern_id").set_index("pattern_id")
    # a route's story pattern leads with the route's lead, whatever its own best claim
    st = claims.stories
    story = st.loc[st["lead"] >= 0]
    forced = cand.loc[story["lead"].to_numpy()].set_index("pattern_id")
    lead = pd.concat([lead.drop(index=forced.index, errors="ignore"), forced.assign(row=story["lead"].to_numpy())])
    pats = pd.Index(res["pattern_id"])
    lead = lead.reindex(pats)
    has = lead["row"].notna().to_numpy()
    fr = lead["from_row"].fillna(0).astype(int).to_numpy()
    tr = lead["to_row"].fillna(0).astype(int).to_numpy()
    names = s["stop_name"].astype("string").to_numpy(dtype=object)
    area = s["area_id"].astype("string").to_numpy(dtype=object)
    area_name = (
        s["area_name"].astype("string").to_numpy(dtype=object) if "area_name" in s else np.full(len(s), None, object)
    )
    seq = s["stop_sequence"].to_numpy()
    steps = _crossings(s)
    out = pd.DataFrame(index=pats)
    out["lead"] = np.where(has, lead["kind"].fillna("none").to_numpy(object), "none")
    out["lead_fall"] = np.where(has, lead["est"].to_numpy(float), np.nan)
    size = np.abs(lead["est"].to_numpy(float))
    half = size - lead["low"].to_numpy(float)
    out["lead_low"] = np.where(has, size - half, np.nan)
    out["lead_high"] = np.where(has, size + half, np.nan)
    out["lead_robustness"] = np.where(has, lead["robustness"].to_numpy(float), np.nan)

    def pick(values: np.ndarray, rows: np.ndarray, dtype: str) -> pd.api.extensions.ExtensionArray:
        return pd.array(np.where(has, values[rows], None), dtype=dtype)

    out["lead_from"] = pick(names, fr, "string")
    out["lead_to"] = pick(names, tr, "string")
    out["lead_from_area"] = pick(area, fr, "string")
    out["lead_to_area"] = pick(area, tr, "string")
    out["lead_from_area_name"] = pick(area_name, fr, "string")
    out["lead_to_area_name"] = pick(area_name, tr, "string")
    out["lead_hops"] = pd.array(np.where(has, tr - fr, None), dtype="Int64")
    out["lead_steps"] = pd.array(np.where(has, steps[tr] - steps[fr], None), dtype="Int64")
    out["story_from_seq"] = pick(seq, fr, "Int64")
    out["story_to_seq"] = pick(seq, tr, "Int64")
    changes = (
        c[(c["kind"] == "change") & c["eligible"]]
        .sort_values(["pattern_id", "screened"], kind="stable")
        .drop_duplicates("pattern_id")
        .set_index("pattern_id")
    )
    changes = changes[changes["supported"] & changes["may_lead"]]
    out["change_supported"] = pd.Series(True, index=changes.index).reindex(pats).fillna(False).to_numpy(bool)
    out["doubt_names"] = _doubt_names(c, s, pats, has)
    # the neighbourhoods of the route's ends and of the end-to-end change's stops, for titles and sentences
    at = pd.Series(area_name, index=pd.MultiIndex.from_arrays([s["pattern_id"].to_numpy(), seq]))
    at = at[~at.index.duplicated()]
    every = s.groupby("pattern_id", sort=False)["stop_sequence"]
    ends = res.set_index("pattern_id")[["le_change_from_seq", "le_change_to_seq"]].reindex(pats)
    for col, seqs in (
        ("first_area_name", every.first().reindex(pats)),
        ("last_area_name", every.last().reindex(pats)),
        ("le_change_from_area_name", ends["le_change_from_seq"]),
        ("le_change_to_area_name", ends["le_change_to_seq"]),
    ):
        keys = pd.MultiIndex.from_arrays([pats, seqs.to_numpy()])
        out[col] = pd.array(at.reindex(keys).to_numpy(), dtype="string")
    return out


def _crossings(s: pd.DataFrame) -> np.ndarray:
    """For each stop row, how many crossings between areas its pattern has made up to it."""
    pid = s["pattern_id"].to_numpy()
    area = s["area_id"].fillna("").astype(str).to_numpy(dtype=object)
    same = np.r_[False, pid[1:] == pid[:-1]]
    prev = np.concatenate([np.array([""], dtype=object), area[:-1]])
    cross = same & (area != "") & (prev != "") & (area != prev)
    cum = np.cumsum(cross)
    start = np.maximum.accumulate(np.where(~same, np.arange(len(s)), 0))
    return cum - cum[start]


def _doubt_names(c: pd.DataFrame, s: pd.DataFrame, pats: pd.Index, has: np.ndarray) -> pd.array:
    """Where a pattern has no lead: the doubtful areas its strongest supported claim would rest on."""
    doubt = s["area_doubt"].fillna("").astype(str).to_numpy()
    label = (
        s["area_name"].astype("string").fillna(s["area_id"].astype("string")).to_numpy(dtype=object)
        if "area_name" in s
        else s["area_id"].astype("string").to_numpy(dtype=object)
    )
    bad = c[~c["eligible"] & c["supported"]].sort_values(["pattern_id", "low"], ascending=[True, False])
    bad = bad.drop_duplicates("pattern_id").set_index("pattern_id").reindex(pats)
    out: list[str | None] = []
    for i, (f, t) in enumerate(zip(bad["from_row"], bad["to_row"])):
        if has[i] or pd.isna(f):
            out.append(None)
            continue
        rows = [int(r) for r in (f, t) if doubt[int(r)]]
        out.append(" and ".join(dict.fromkeys(display_name(label[r]) for r in rows)) or None)
    return pd.array(out, dtype="string")


def _story_routes(res: pd.DataFrame) -> pd.Series:
    """For each story row, every route whose story is the same place (``; `` between); empty elsewhere.

    The same place is the same two ends' areas, in either direction of travel.
    """
    story = res[res["route_story"] & (res["lead"] != "none")]
    a, b = story["lead_from_area"].astype(str), story["lead_to_area"].astype(str)
    key = np.where(a < b, a + "|" + b, b + "|" + a)  # the same two ends, read either way, are one place
    groups = story.groupby(key)["route_name"].agg(lambda r: "; ".join(sorted(set(map(str, r)), key=route_order)))
    out = pd.Series(pd.NA, index=res.index, dtype="string")
    out.loc[story.index] = groups.reindex(key).to_numpy()
    return out


def _context_columns(s: pd.DataFrame, weights: pd.DataFrame, area_context: pd.Series) -> pd.DataFrame:
    """First and last values of the second measure, and its correlation with le over each pattern's areas."""
    valued = s[s["context"].notna()]
    g = valued.groupby("pattern_id", sort=False)["context"]
    areas = s[["pattern_id", "stop_id"]].merge(weights[["stop_id", "area_id", "area_le"]], on="stop_id")
    areas = areas.drop_duplicates(["pattern_id", "area_id"])
    areas["c"] = area_context.reindex(areas["area_id"]).to_numpy(float)
    areas = areas.dropna(subset=["c", "area_le"])

    def corr(frame: pd.DataFrame) -> float:
        if len(frame) < 3 or frame["c"].std() == 0 or frame["area_le"].std() == 0:
            return np.nan
        return float(np.corrcoef(frame["c"], frame["area_le"])[0, 1])

    return pd.DataFrame(
        {
            "context_first": g.first(),
            "context_last": g.last(),
            "context_le_corr": areas.groupby("pattern_id").apply(corr, include_groups=False),
            "context_n_areas": areas.groupby("pattern_id").size(),
        }
    )


def _range_test(s: pd.DataFrame, weights: pd.DataFrame, alpha: float, network: bool) -> pd.DataFrame:
    """The two stops of each pattern's range, and a Bonferroni lower bound of the difference.

    The bound is simultaneous over every pair of the pattern's distinct values (over every
    pair of every pattern with ``network``), so it holds for the pair that the range picks.
    """
    valued = s.loc[s["le"].notna(), ["pattern_id", "stop_id", "stop_name", "stop_sequence", "le"]]
    g = valued.groupby("pattern_id", sort=False)
    hi = valued.loc[g["le"].idxmax()].set_index("pattern_id")
    lo = valued.loc[g["le"].idxmin()].set_index("pattern_id")
    se = pd.Series(
        pair_se(weights, lo["stop_id"].to_numpy(dtype=object), hi["stop_id"].to_numpy(dtype=object)), index=hi.index
    )
    distinct = g["le"].nunique()
    pairs = (distinct * (distinct - 1) / 2).clip(lower=1)
    if network:
        pairs[:] = max(float(pairs.sum()), 1.0)
    crit = pd.Series(ndtri(1 - alpha / (2 * pairs.to_numpy(float))), index=pairs.index)
    low = hi["le"] - lo["le"] - crit * se
    sig = (low > 0).astype("boolean").where(se.notna() & (distinct > 1))
    first_is_hi = hi["stop_sequence"] < lo["stop_sequence"]
    a = hi.where(first_is_hi, lo)
    b = lo.where(first_is_hi, hi)
    return pd.DataFrame(
        {
            "le_range_ci_low": low.where(distinct > 1),
            "le_range_significant": sig,
            "le_range_from": pd.array(display_name_series(a["stop_name"]), dtype="string"),
            "le_range_to": pd.array(display_name_series(b["stop_name"]), dtype="string"),
            "le_range_from_seq": a["stop_sequence"].astype("Int64"),
            "le_range_to_seq": b["stop_sequence"].astype("Int64"),
            "le_range_falls": first_is_hi,
        }
    )


def _words(res: pd.DataFrame, labels: Labels | None, voice: words.Voice) -> None:
    """The sentence, the map and chart labels and the credit line of every pattern."""
    records = res.to_dict("records")
    res["headline"] = [words.headline(row, voice) for row in records]
    res["story_label"] = pd.array([words.story_label(row) for row in records], dtype="string")
    res["takeaway"] = pd.array([words.takeaway(row, voice) for row in records], dtype="string")
    res["credit"] = words.credit_text(labels) if labels is not None else ""
    if "context_le_corr" in res:
        name = labels.context if labels is not None and labels.context else "the second measure"
        res["context_note"] = pd.array([words.context_note(row, name) for row in records], dtype="string")


def stretch_table(stretches: Stretches, voice: words.Voice) -> pd.DataFrame:
    """``stretches.csv``: every place once, with its sentence (:func:`gradient.story.words.stretch_sentence`).

    Returns
    -------
    pandas.DataFrame
        ``STRETCHES_CSV_COLUMNS`` then ``STRETCHES_EXTRA_COLUMNS`` (``docs/CONTRACT.md``,
        ``docs/COLUMNS.md``); stop names as readers see them.
    """
    t = stretches.table.copy()
    for col in ("from_stop", "to_stop"):
        t[col] = pd.array(display_name_series(t[col]), dtype="string")
    t["sentence"] = [words.stretch_sentence(row, voice) for row in t.to_dict("records")]
    return t[STRETCHES_CSV_COLUMNS + STRETCHES_EXTRA_COLUMNS]


__all__ = ["pattern_table", "point_weights", "stop_table", "stretch_table"]
