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

from .._files import write_csv
from ..options import DEFAULT_TILES, Options
from ..pipeline import Result
from ..schema import (
    CONTEXT_PATTERNS_COLUMNS,
    CONTEXT_PATTERNS_EXTRA_COLUMNS,
    CONTEXT_STOPS_COLUMNS,
    PATTERNS_CSV_COLUMNS,
    PATTERNS_EXTRA_COLUMNS,
    STOPS_CSV_COLUMNS,
    STOPS_EXTRA_COLUMNS,
    file_stems,
)
from .folder import staged_dir


def top_stories(result: Result, n: int) -> pd.DataFrame:
    """The ``n`` top-ranked routes, one pattern each (its ``route_story``), in rank order."""
    p = result.patterns
    keep = p["n_stops_le"] > 0
    if "route_story" in p:
        keep &= p["route_story"].astype(bool)
    return p[keep].head(max(n, 0))


def mapped_patterns(result: Result, maps: int, also: Sequence[str] = ()) -> list[str]:
    """The pattern ids that get a map and a profile: the ``maps`` top-ranked routes' stories, then ``also``."""
    top = list(top_stories(result, maps)["pattern_id"])
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
    options : Options, optional
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
        ``{"tables": [...], "maps": [...], "profiles": [...]}`` paths written, in ``out_dir``.

    Notes
    -----
    The CSVs hold the contract's columns in order, then the additional columns
    documented in ``docs/COLUMNS.md``. For each mapped pattern:
    ``maps/<name>.html`` (a self-contained page), ``maps/<name>.iframe.html``
    (a responsive ``<iframe>`` snippet pointing at ``options.embed_base_url`` when set),
    ``maps/<name>.alt.txt`` (alt text), ``profiles/<name>.png`` and ``.svg`` and
    ``profiles/<name>.portrait.png`` (for phones), where ``<name>`` is the pattern id, or
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
    options = options or result.options
    out = Path(out_dir)
    with staged_dir(out) as stage:
        staged = _write_all(result, stage, options, tiles=tiles, areas=areas, also=also, progress=progress)
    return {kind: [out / p.relative_to(stage) for p in paths] for kind, paths in staged.items()}


def _write_all(result: Result, out: Path, options: Options, *, tiles, areas, also, progress) -> dict[str, list[Path]]:
    written: dict[str, list[Path]] = {"tables": [], "maps": [], "profiles": []}
    stop_cols = STOPS_CSV_COLUMNS + [c for c in CONTEXT_STOPS_COLUMNS + STOPS_EXTRA_COLUMNS if c in result.stops]
    pattern_cols = PATTERNS_CSV_COLUMNS + [
        c
        for c in CONTEXT_PATTERNS_COLUMNS + PATTERNS_EXTRA_COLUMNS + CONTEXT_PATTERNS_EXTRA_COLUMNS
        if c in result.patterns
    ]
    written["tables"].append(write_csv(result.stops[stop_cols], out / "stops.csv"))
    written["tables"].append(write_csv(result.patterns[pattern_cols], out / "patterns.csv"))
    chosen = mapped_patterns(result, options.maps, also)
    if not chosen and options.maps == 0:
        return written
    from tqdm.auto import tqdm

    from ..present import charts, colours, embed, maps, netmap

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
    if options.maps > 0:
        written["maps"] += embed.save_embed(
            netmap.network_map(result, tiles=tiles), out / "maps" / "network.html", base_url=url
        )
    return written
