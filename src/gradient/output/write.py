"""Writing a run's results to a folder: the two tables, and maps and profiles of its top routes.

Everything is written to a staging folder first and moved into place only when all of
it has been written (:func:`gradient.output.folder.staged_dir`): an error or an interruption
leaves the folder as it was. The presentation stack (folium, matplotlib) is imported
only when some map or chart is asked for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import geopandas as gpd
import pandas as pd

from .._files import write_atomic, write_csv
from ..options import DEFAULT_TILES, Options, as_options
from ..pipeline import Result
from ..schema import (
    CONTEXT_PATTERNS_COLUMNS,
    CONTEXT_PATTERNS_EXTRA_COLUMNS,
    CONTEXT_STOPS_COLUMNS,
    PATTERNS_CSV_COLUMNS,
    PATTERNS_EXTRA_COLUMNS,
    PATTERNS_SHORT_COLUMNS,
    STOPS_CSV_COLUMNS,
    STOPS_EXTRA_COLUMNS,
    STOPS_SHORT_COLUMNS,
    STRETCHES_CSV_COLUMNS,
    STRETCHES_EXTRA_COLUMNS,
    file_stems,
)
from .folder import staged_dir


def top_stories(result: Result, n: int, supported_only: bool = True) -> pd.DataFrame:
    """The ``n`` top stories, in rank order: one row per place a route's story leads with.

    Routes whose story is the same place (a day route and its night variant, parallel
    routes) are one story, told by the best-ranked of them (``story_routes`` names them
    all). With ``supported_only``, only stories whose sentence states a supported change:
    a list never leads with a non-finding.
    """
    p = result.patterns
    keep = (p["n_stops_le"] > 0) & p["route_story"].astype(bool)
    if supported_only:
        keep &= p["lead"] != "none"
    rows = p[keep]
    place = rows["story_routes"].fillna(rows["route_id"].astype(str)).astype(str)
    place = place.where(rows["lead"] != "none", rows["route_id"].astype(str))
    return rows[~place.duplicated()].head(max(n, 0))


def methods_text(result: Result) -> str:
    """The readers' note on how the run's numbers were made (:func:`gradient.story.words.methods_note`)."""
    from ..story import words

    p, s = result.patterns, result.stops
    doubtful = s.loc[s["area_doubt"].astype(str) != "", "area_id"].nunique() if "area_doubt" in s else 0
    supported = int((p["route_story"] & (p["lead"] != "none")).sum()) if "lead" in p else 0
    return words.methods_note(
        words.voice_of(result.options, result.labels),
        result.labels,
        int(p["route_id"].nunique()),
        int(s["stop_id"].nunique()),
        result.options.method,
        result.summary,
        int(doubtful),
        supported,
    )


def mapped_patterns(result: Result, maps: int, also: Sequence[str] = ()) -> list[str]:
    """The pattern ids that get a map and a profile: the ``maps`` top stories, then ``also``.

    Supported stories first; where there are fewer than ``maps``, the best-ranked others
    follow (their maps say that no change can be told apart).
    """
    top = list(top_stories(result, maps)["pattern_id"])
    if len(top) < maps:
        rest = top_stories(result, maps, supported_only=False)["pattern_id"]
        top += [pid for pid in rest if pid not in top][: maps - len(top)]
    return list(dict.fromkeys(top + [result.pattern(pid)["pattern_id"] for pid in also]))


def write_outputs(
    result: Result,
    out_dir: str | Path,
    options: Options | None = None,
    *,
    tiles: str | None = DEFAULT_TILES,
    areas: gpd.GeoDataFrame | None = None,
    also: Sequence[str] = (),
    progress: bool = False,
) -> dict[str, list[Path]]:
    """Write ``stops.csv``, ``patterns.csv``, and maps and profiles of the top-ranked patterns.

    Parameters
    ----------
    result : Result
        From :func:`gradient.run`.
    out_dir : str or Path
        The folder; created if needed (and removed again if anything fails before
        the outputs are in place). Its earlier contents are left as they were if
        anything fails.
    options : Options or dict, optional
        ``maps`` (how many top patterns get a map and a profile); default the
        result's own options.
    tiles : str or None
        Basemap (:func:`gradient.present.maps.route_map`).
    areas : geopandas.GeoDataFrame, optional
        Drawn underneath each route map; also the table behind ``scale_reference='table'``.
    also : sequence of str
        Pattern ids mapped besides the top ones.
    progress : bool, default False
        A progress bar (tqdm) over the maps.

    Returns
    -------
    dict
        ``{"tables": [...], "maps": [...], "profiles": [...], "print": [...]}`` paths written, in ``out_dir``.

    Notes
    -----
    The CSVs hold the contract's columns in order, then the additional columns
    documented in ``docs/COLUMNS.md``. For each mapped pattern:
    ``maps/<name>.html`` (a self-contained page), ``maps/<name>.iframe.html``
    (a responsive ``<iframe>`` snippet pointing at ``options.embed_base_url`` when set),
    ``maps/<name>.alt.txt`` (alt text), ``profiles/<name>.png`` and ``.svg`` and
    ``profiles/<name>.portrait.png`` (for phones) with ``profiles/<name>.alt.txt``,
    ``print/<name>.png``, ``.svg`` and ``.pdf`` (a static map 86 mm wide, no tiles),
    ``print/<name>.page.pdf`` (the same on an A4 page) and ``print/<name>.alt.txt``,
    where ``<name>`` is the pattern id, or
    for an id too long or not file-name safe a cut of it and a short hash
    (:func:`gradient.schema.file_stems`: every pattern its own files); plus
    ``maps/network.html`` (with its ``.iframe.html`` and ``.alt.txt``) with every route
    when any map is written. All maps and profiles share one colour scale, centred on
    ``options.scale_reference``.

    A rerun into the same folder replaces the previous run's outputs whole: the
    files it wrote (listed in ``.gradient-outputs``) that this run does not write are
    removed; files gradient did not write are left alone
    (:func:`gradient.output.folder.staged_dir`).
    """
    options = result.options if options is None else as_options(options)
    out = Path(out_dir)
    with staged_dir(out) as stage:
        staged = _write_all(result, stage, options, tiles=tiles, areas=areas, also=also, progress=progress)
    return {kind: [out / p.relative_to(stage) for p in paths] for kind, paths in staged.items()}


def _write_all(result: Result, out: Path, options: Options, *, tiles, areas, also, progress) -> dict[str, list[Path]]:
    written: dict[str, list[Path]] = {"tables": [], "maps": [], "profiles": [], "print": []}
    areas = areas if areas is not None else result.areas
    stops_extra = STOPS_EXTRA_COLUMNS if options.wide else STOPS_SHORT_COLUMNS
    patterns_extra = PATTERNS_EXTRA_COLUMNS if options.wide else PATTERNS_SHORT_COLUMNS
    stop_cols = STOPS_CSV_COLUMNS + [c for c in CONTEXT_STOPS_COLUMNS + stops_extra if c in result.stops]
    pattern_cols = PATTERNS_CSV_COLUMNS + [
        c for c in CONTEXT_PATTERNS_COLUMNS + patterns_extra + CONTEXT_PATTERNS_EXTRA_COLUMNS if c in result.patterns
    ]
    written["tables"].append(write_csv(result.stops[stop_cols], out / "stops.csv"))
    written["tables"].append(write_csv(result.patterns[pattern_cols], out / "patterns.csv"))
    if result.stretches is not None:
        stretch_cols = STRETCHES_CSV_COLUMNS + [c for c in STRETCHES_EXTRA_COLUMNS if c in result.stretches]
        written["tables"].append(write_csv(result.stretches[stretch_cols], out / "stretches.csv"))
    if result.summary is not None:
        written["tables"].append(write_atomic(out / "methods.md", methods_text(result)))
    chosen = mapped_patterns(result, options.maps, also)
    if not chosen and options.maps == 0:
        return written
    from tqdm.auto import tqdm

    from .._extras import require

    require("maps", "drawing maps and charts (--maps 0 draws none)")
    from ..present import charts, colours, embed, maps, netmap, printmap

    scale = colours.reference_scale(result.stops, options.scale_reference, areas)
    url = options.embed_base_url
    stems = file_stems(chosen)
    for pid in tqdm(chosen, desc="maps and profiles", unit="route", disable=not progress, leave=False):
        name = stems[pid]
        m = maps.route_map(result, pid, tiles=tiles, areas=areas, scale=scale)
        written["maps"] += embed.save_embed(m, out / "maps" / f"{name}.html", base_url=url)
        fig = charts.profile(result, pid, scale=scale, pyplot=False)
        for suffix in (".png", ".svg"):
            written["profiles"].append(charts.save_figure(fig, out / "profiles" / f"{name}{suffix}"))
        phone = charts.profile(result, pid, scale=scale, pyplot=False, portrait=True)
        written["profiles"].append(charts.save_figure(phone, out / "profiles" / f"{name}.portrait.png"))
        written["profiles"].append(
            write_atomic(out / "profiles" / f"{name}.alt.txt", getattr(fig, "alt_text", "") + "\n")
        )
        column = printmap.print_map(result, pid, size="column", scale=scale, areas=areas)
        for suffix in (".png", ".svg", ".pdf"):
            written["print"].append(printmap.save_print_map(column, out / "print" / f"{name}{suffix}"))
        page = printmap.print_map(result, pid, size="page", scale=scale, areas=areas)
        written["print"].append(printmap.save_print_map(page, out / "print" / f"{name}.page.pdf"))
        written["print"].append(write_atomic(out / "print" / f"{name}.alt.txt", getattr(column, "alt_text", "") + "\n"))
    if options.maps > 0:
        written["maps"] += embed.save_embed(
            netmap.network_map(result, tiles=tiles, stems=stems), out / "maps" / "network.html", base_url=url
        )
    return written
