"""The two outward tables, ``stops.csv`` and ``patterns.csv``, one row per stop and per pattern.

Columns are in :mod:`gradient.schema`, meanings in ``docs/CONTRACT.md`` and
``docs/COLUMNS.md``. Figures come from :mod:`gradient.stats.figures` (the uncertainty model), the
order from :mod:`gradient.stats.ranking`, and every word from :mod:`gradient.stats.claims` and
:mod:`gradient.story.headline`. Everything is computed with grouped operations over all patterns
at once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtri

from ..areas import doubt
from ..options import Options
from ..schema import (
    CONTEXT_PATTERNS_COLUMNS,
    CONTEXT_PATTERNS_EXTRA_COLUMNS,
    CONTEXT_STOPS_COLUMNS,
    PATTERNS_CSV_COLUMNS,
    PATTERNS_EXTRA_COLUMNS,
    STOPS_CSV_COLUMNS,
    STOPS_EXTRA_COLUMNS,
)
from ..stats import claims, ranking
from ..stats import figures as stats
from ..stats.trends import MIN_AREAS
from ..stats.uncertainty import pair_se
from . import headline


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


def areas_of(weights: pd.DataFrame) -> pd.DataFrame:
    """The areas a weights table uses, with their estimates (for runs given no areas table)."""
    return weights.drop_duplicates("area_id")[["area_id", "area_le", "le_se"]].rename(columns={"area_le": "le"})


def stop_table(
    patterns: pd.DataFrame,
    pattern_stops: pd.DataFrame,
    assignment: pd.DataFrame,
    weights: pd.DataFrame | None = None,
    options: Options | None = None,
    eb: pd.DataFrame | None = None,
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
        ``PATTERN_STOP_COLUMNS`` (one row per stop per pattern).
    assignment : pandas.DataFrame
        ``stop_id``, ``area_id``, ``le``, ``le_se`` (and ``n_areas``, ``weighting``) per
        distinct stop, as from :func:`gradient.assign.catchments.assign`.
    weights : pandas.DataFrame, optional
        The weights table of :func:`gradient.assign.catchments.assign`; default: each stop takes
        its ``area_id`` alone (right for the point method).
    options : Options, optional
        ``alpha``, ``correction`` and ``family`` of the stop-to-stop tests
        (:func:`gradient.stats.figures.stop_tests`).
    eb : pandas.DataFrame, optional
        :func:`gradient.areas.doubt.shrink` of the areas, for ``le_eb``.
    doubt : pandas.Series, optional
        :func:`gradient.areas.doubt.doubtful_areas`, for ``area_doubt``.
    area_names : pandas.Series, optional
        Area id to a name readers know, for ``area_name``.
    context : pandas.Series, optional
        Stop id to its value of a second measure (:func:`gradient.assign.catchments.context_at_stops`),
        for ``context``.

    Returns
    -------
    pandas.DataFrame
        ``STOPS_CSV_COLUMNS``, ``context`` (with ``context``), then ``STOPS_EXTRA_COLUMNS``,
        ordered by ``pattern_id`` and ``stop_sequence``:

        - ``area_name``: the name of ``area_id`` readers know (empty where unknown);
        - ``dist_m`` metres and ``minutes`` (median scheduled minutes) from the first
          stop; ``le``, ``le_se``, ``le_delta`` years (``le_delta``: ``le`` minus the
          previous stop's, NaN for the first stop and wherever either is missing);
        - ``n_areas``: areas that contributed to ``le``; ``weighting``: how they were
          combined (``point``, ``nearest``, ``area``, ``population``, ``length``,
          ``length x population``);
        - ``le_delta_se``, ``le_delta_z``, ``le_delta_p``, ``le_delta_significant``:
          :func:`gradient.stats.figures.stop_tests`;
        - ``le_eb``: the stop's value with each area's estimate shrunk towards the
          table's mean (years, :func:`gradient.areas.doubt.shrink`);
        - ``area_doubt``: why the estimate of the stop's area (``area_id``) deserves a
          warning, or empty (:func:`gradient.areas.doubt.doubtful_areas`).
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
    out = out.join(stats.stop_tests(out, weights, options))
    if eb is None:
        eb = doubt.shrink(areas_of(weights))
    out["le_eb"] = ranking.stop_values(weights, eb).reindex(out["stop_id"]).to_numpy()
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
    weights: pd.DataFrame | None = None,
    options: Options | None = None,
    labels=None,
    eb: pd.DataFrame | None = None,
    area_names: pd.Series | None = None,
    area_context: pd.Series | None = None,
) -> pd.DataFrame:
    """One summary row per pattern, ordered by rank.

    Parameters
    ----------
    patterns : pandas.DataFrame
        ``PATTERN_COLUMNS`` per pattern.
    stops : pandas.DataFrame
        As returned by :func:`stop_table`.
    weights : pandas.DataFrame, optional
        As for :func:`stop_table`.
    options : Options, optional
        ``alpha``, ``family``, ``stretch_k``, ``draws``.
    labels : gradient.pipeline.Labels, optional
        Sex, period, sources named in ``credit``.
    eb : pandas.DataFrame, optional
        :func:`gradient.areas.doubt.shrink` of the areas (default: of the areas the stops use).
    area_names : pandas.Series, optional
        Area id to a name readers know, for the doubts a sentence names.
    area_context : pandas.Series, optional
        Area id to its value of a second measure: with it (and ``context`` in ``stops``)
        the table has ``context_first``, ``context_last`` and ``context_le_corr``.

    Returns
    -------
    pandas.DataFrame
        ``PATTERNS_CSV_COLUMNS`` then ``PATTERNS_EXTRA_COLUMNS``, ordered by ``rank``
        (then ``eb_range`` descending; unranked last). Years unless said:

        - ``n_stops``, ``n_stops_le`` (stops, and stops with a value), ``n_areas_le``
          (distinct areas with a value); ``first_stop``, ``last_stop``; ``length_m``;
        - ``le_first``, ``le_last``, ``le_min``, ``le_max``, ``le_range``, and
          ``le_range_ci_low``/``le_range_significant``: a lower bound of the range
          simultaneous over every pair of stops (Bonferroni), and whether it is above 0;
          ``le_range_from``/``_to`` and ``_from_seq``/``_to_seq``: its two stops in route order;
        - the change, stretch, drop and trend columns of
          :func:`gradient.stats.figures.pattern_stats`;
        - ``eb_range``, ``rank``, ``rank_low``, ``rank_high``, ``route_story``:
          :func:`gradient.stats.ranking.rank_routes`; ``rank_range``, ``rank_fall``,
          ``rank_slope``: :func:`gradient.stats.ranking.rank_evidence`;
        - with a second measure, ``context_first`` and ``context_last`` (its first and last
          values along the pattern) and ``context_le_corr`` (Pearson's correlation of the
          measure with life expectancy over the pattern's distinct areas, 3 or more);
        - ``lead``, ``story_from_seq``, ``story_to_seq``: :func:`gradient.stats.claims.decide`;
          ``headline``, ``story_label``, ``takeaway``, ``credit``: :mod:`gradient.story.headline`.
    """
    options = options or Options()
    s = stops.sort_values(["pattern_id", "stop_sequence"], kind="stable").reset_index(drop=True)
    weights = (
        weights
        if weights is not None
        else point_weights(s.drop_duplicates("stop_id")[["stop_id", "area_id", "le", "le_se"]])
    )
    eb = eb if eb is not None else doubt.shrink(areas_of(weights))
    g = s.groupby("pattern_id", sort=False)
    out = pd.DataFrame(
        {
            "n_stops_le": g["le"].count(),
            "length_m": g["dist_m"].max(),
            "le_min": g["le"].min(),
            "le_max": g["le"].max(),
        }
    )
    out["first_stop"] = s.loc[g.head(1).index].set_index("pattern_id")["stop_name"].astype("string")
    out["last_stop"] = s.loc[g.tail(1).index].set_index("pattern_id")["stop_name"].astype("string")
    out["le_range"] = out["le_max"] - out["le_min"]
    out = out.join(_range_test(s, weights, options.alpha, options.family == "network"))
    out = out.join(stats.pattern_stats(s, weights, options))
    extra = []
    if "context" in s and area_context is not None:
        out = out.join(_context_columns(s, weights, area_context))
        extra = CONTEXT_PATTERNS_COLUMNS
    # a source's own ``rank`` (of a pattern within its route and direction) is in the pattern id
    meta = patterns.drop(columns=[c for c in ("geometry", "rank") if c in patterns.columns])
    res = meta.merge(out, left_on="pattern_id", right_index=True, how="left")
    res = res.join(claims.decide(res.to_dict("records"), res.index))
    res = res.join(
        ranking.rank_routes(
            res,
            s,
            weights,
            eb,
            draws=max(options.draws // 4, 200),
            level=1 - options.alpha,
            strength=res.set_index("pattern_id")["lead_strength"],
        ),
        on="pattern_id",
    )
    res = res.join(ranking.rank_evidence(res, MIN_AREAS))
    _words(res, s, labels, options, area_names)
    res = res.sort_values(
        ["rank", "eb_range", "pattern_id"], ascending=[True, False, True], na_position="last", kind="stable"
    )
    tail = [c for c in CONTEXT_PATTERNS_EXTRA_COLUMNS if c in res]
    columns = PATTERNS_CSV_COLUMNS + extra + [c for c in PATTERNS_EXTRA_COLUMNS if c in res] + tail
    return res[columns].reset_index(drop=True)


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
            "le_range_from": a["stop_name"].astype("string"),
            "le_range_to": b["stop_name"].astype("string"),
            "le_range_from_seq": a["stop_sequence"].astype("Int64"),
            "le_range_to_seq": b["stop_sequence"].astype("Int64"),
            "le_range_falls": first_is_hi,
        }
    )


def _stories(res: pd.DataFrame, s: pd.DataFrame, area_names: pd.Series | None) -> list[headline.Story]:
    """Length, minutes, spread and doubts of each pattern's cited stretch (all patterns at once)."""
    span = res[["pattern_id", "story_from_seq", "story_to_seq"]].dropna()
    rows = s[
        ["pattern_id", "stop_sequence", "stop_name", "dist_m", "minutes", "le", "le_delta", "area_id", "area_doubt"]
    ].merge(span, on="pattern_id")
    rows = rows[(rows["stop_sequence"] >= rows["story_from_seq"]) & (rows["stop_sequence"] <= rows["story_to_seq"])]
    g = rows.groupby("pattern_id", sort=False)
    first, last = rows.loc[g.head(1).index].set_index("pattern_id"), rows.loc[g.tail(1).index].set_index("pattern_id")
    inner = rows[rows["stop_sequence"] > rows["story_from_seq"]]
    biggest = (-inner["le_delta"]).groupby(inner["pattern_id"]).max()
    total = first["le"] - last["le"]
    share = (biggest.reindex(total.index) / total).where(total > 0).fillna(1.0)
    metres = last["dist_m"] - first["dist_m"]
    minutes = last["minutes"] - first["minutes"]
    doubts: dict[str, list[str]] = {}
    for end in (first, last):
        flagged = end[end["area_doubt"].astype(str) != ""]
        for pid, stop in flagged.iterrows():
            name = area_names.get(stop["area_id"]) if area_names is not None else None
            where = name if isinstance(name, str) and name else f"the area at {headline._clean(stop['stop_name'])}"
            what = " and ".join(
                "imprecise" if d == "imprecise" else "far from its neighbours'"
                for d in str(stop["area_doubt"]).split(", ")
            )
            doubts.setdefault(pid, []).append(f"the estimate for {where} is {what}")
    stories = []
    for pid in res["pattern_id"]:
        if pid not in metres.index:
            stories.append(headline.Story())
            continue
        stories.append(
            headline.Story(
                metres=float(metres[pid]),
                minutes=float(minutes[pid]),
                largest_hop_share=float(share[pid]),
                doubts=tuple(dict.fromkeys(doubts.get(pid, ()))),
            )
        )
    return stories


def _words(res: pd.DataFrame, s: pd.DataFrame, labels, options: Options, area_names) -> None:
    """The sentence, the map and chart labels and the credit line of every pattern."""
    stories = _stories(res, s, area_names)
    records = res.to_dict("records")
    leads = [claims.lead(row) for row in records]
    res["headline"] = [headline.headline(row, st, options.level, c) for row, st, c in zip(records, stories, leads)]
    res["story_label"] = pd.array(
        [headline.story_label(row, st, c) for row, st, c in zip(records, stories, leads)], dtype="string"
    )
    res["takeaway"] = pd.array([headline.takeaway(row, c) for row, c in zip(records, leads)], dtype="string")
    sex, period, source, feed = (
        (labels.sex, labels.period, labels.le_source, labels.feed) if labels is not None else ("", "", "", "")
    )
    res["credit"] = headline.credit(sex, period, source, feed)
    if "context_le_corr" in res:
        name = labels.context if labels is not None and labels.context else "the second measure"
        res["context_note"] = pd.array([headline.context_note(row, name) for row in records], dtype="string")
