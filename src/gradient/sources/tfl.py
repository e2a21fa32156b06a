"""Transport for London's bus-sequences file to stop patterns.

TfL publishes every bus route as an ordered list of stops per *run* (one run per
direction, plus rarer extra runs). Each run becomes one stop pattern, and
:func:`read_tfl_sequences` returns exactly the two tables
:func:`gradient.sources.gtfs.stop_patterns` returns, so assignment, gradients, maps and the
command line are shared. Distances are measured along TfL's route lines where one
fits the stops, and along straight lines between stops otherwise.
"""

from __future__ import annotations

import io
import logging
import warnings
from collections import Counter
from pathlib import Path
from typing import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from .. import _archive
from .._tables import decode
from ..errors import FeedError, GradientWarning, OptionError
from ..schema import PATTERN_COLUMNS, PATTERN_STOP_COLUMNS, WGS84, pattern_ids
from ._geometry import monotone_along
from ._measure import along_lines, to_wgs84
from ._routes import match_routes

log = logging.getLogger(__name__)

BNG = "EPSG:27700"
"""British National Grid, the CRS of the file's eastings and northings (metres)."""

REQUIRED_COLUMNS = [
    "Route",
    "Run",
    "Sequence",
    "Stop_Code_LBSL",
    "Stop_Name",
    "Location_Easting",
    "Location_Northing",
    "Virtual_Bus_Stop",
]
"""Columns of the bus-sequences file that are read (others, e.g. ``Naptan_Atco``, are ignored)."""

MAX_MEDIAN_OFFSET_M = 100.0
"""A route line whose median stop-to-line distance exceeds this (metres) is not used."""

FAR_OFFSET_M = 250.0
MAX_FAR_SHARE = 0.1
"""A route line that more than ``MAX_FAR_SHARE`` of the stops are over ``FAR_OFFSET_M`` (metres)
away from is not used either: it misses part of the run, and distances there would be wrong."""

_EOF = "\x1a"  # DOS end-of-file character: TfL's file ends with it


def read_tfl_sequences(
    path: str | Path,
    route_lines: str | Path | None = None,
    measure_crs: str | None = None,
    routes: Sequence[str] | None = None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Read TfL's bus-sequences file into stop patterns, one per route run.

    Parameters
    ----------
    path : str or Path
        TfL's "bus-sequences" file: tab-separated (although TfL calls it CSV), one
        row per stop per route run, with at least ``REQUIRED_COLUMNS``; eastings and
        northings in British National Grid (EPSG:27700).
    route_lines : str or Path, optional
        Route lines, e.g. TfL's (GeoJSON, EPSG:4326): LineString or MultiLineString
        features with a ``line`` property naming the route (matched to ``Route``
        ignoring case) and optionally ``direction``. Without it, every pattern is
        measured along straight lines between its stops.
    measure_crs : str, optional
        Metric CRS to measure in; default EPSG:27700, the file's own.
    routes : sequence of str, optional
        Only these routes (``Route``, e.g. ``"25"``); default all. They are chosen
        before anything is measured, so warnings count only their patterns.

    Returns
    -------
    patterns : geopandas.GeoDataFrame
        One row per pattern, EPSG:4326, ordered by ``pattern_id``; columns
        ``PATTERN_COLUMNS`` plus ``rank`` and ``geometry``, as from
        :func:`gradient.sources.gtfs.stop_patterns`:

        - ``pattern_id``: ``<route>-<direction_id>-1``, file-name safe
          (:func:`gradient.schema.safe_name`);
        - ``route_id``, ``route_name``: ``Route``;
        - ``direction_id``: ``Run`` − 1 (see Notes);
        - ``n_trips``: missing (TfL's file has no trips);
        - ``n_stops``: real stops on the run;
        - ``geometry_source``: ``route_line`` or ``straight_line``;
        - ``rank``: 1 (each run is its own pattern);
        - ``geometry``: the line distances were measured on, first to last stop.
    pattern_stops : pandas.DataFrame
        One row per stop per pattern, ordered by ``pattern_id`` and
        ``stop_sequence``; columns ``PATTERN_STOP_COLUMNS`` plus ``minutes`` (NaN:
        the file has no times) and ``offset_m`` (metres from the stop to the line,
        0 on straight lines):

        - ``stop_sequence``: 1..n in the order of ``Sequence`` (numeric);
        - ``stop_id``: ``Stop_Code_LBSL`` as a string;
        - ``stop_name``: ``Stop_Name`` unchanged (``<>``, ``#`` and all), missing
          where blank;
        - ``lon``, ``lat``: WGS84, converted from the eastings and northings;
        - ``dist_m``: metres along the line from the first stop, never decreasing.

    Raises
    ------
    FeedError
        If ``path`` or ``route_lines`` is not a readable file, a required column
        is missing, or a row is malformed: a blank ``Route`` or ``Stop_Code_LBSL``,
        a ``Run`` that is not a whole number ≥ 1, a ``Sequence`` that is not a number
        or repeats within a run (the message names the route and run), a
        ``Virtual_Bus_Stop`` other than 0 or 1, coordinates that are not numbers, or
        data after the end-of-file character. Also if no run has two real stops.
    OptionError
        If ``measure_crs`` is not a projected (metric) CRS.

    Warns
    -----
    GradientWarning
        With the counts of patterns measured along straight lines: those whose
        route has no line (all of them without ``route_lines``), and those whose
        best line fits badly (see Notes).

    Notes
    -----
    - **Stops.** ``stop_id`` is ``Stop_Code_LBSL``, TfL's own stop code, never blank
      in July 2018 (``Naptan_Atco`` is blank 125 times), one code per stop pole and
      side of the road, with one name and position each. Rows with
      ``Virtual_Bus_Stop`` = 1 are timing points, not stops: they are dropped and
      counted in the log, as are runs left with fewer than two stops and routes left
      with none (the 17 river-bus routes, ``RB*`` and ``RT*``, are all virtual).
    - **Runs.** Runs 1 and 2 are a route's two directions: ``direction_id`` 0 and 1.
      Other runs are rarer workings (in July 2018, 19 runs numbered 3 and 4 with two
      or more real stops, on 11 routes, e.g. into a hospital's or a school's grounds)
      that share no stop code with runs 1 and 2, so filing them under direction 0 or
      1 would be a guess: each keeps ``direction_id`` = ``Run`` − 1 (2, 3, ...) and is
      its own rank-1 pattern. Keep ``direction_id <= 1`` for the main service only.
    - **Route lines.** A line's ``direction`` label does not say which run it
      follows: in July 2018 every line is labelled ``inbound``, and it runs the way
      of run 2 on 654 routes and of run 1 on 2 (routes 5 and U2). So each pattern
      takes, of its route's lines, the one nearest its stops (mean distance), in the
      orientation along which its stops advance (both are matched where that is
      unclear), and measures along it with
      :func:`gradient.geometry.monotone_along`. A reversed line stands in for the
      opposite direction; one-way streets put it some tens of metres off in places
      (``offset_m`` shows where). MultiLineStrings are merged where their parts
      touch; otherwise each part, and all parts joined in file order, are
      candidates. A line is not used, and the pattern falls back to straight lines
      (counted in the warning), if the stops' median offset exceeds
      ``MAX_MEDIAN_OFFSET_M`` or more than ``MAX_FAR_SHARE`` of them lie over
      ``FAR_OFFSET_M`` from it (the line misses part of the run). Which line fitted
      which run is logged.
    - **Coordinates** are converted to WGS84 with pyproj (a few metres' accuracy
      without the OSTN15 grid, plenty for joining stops to areas); distances are
      measured on the file's own eastings and northings.

    Examples
    --------
    >>> from gradient import datasets, sources
    >>> patterns, stops = sources.read_tfl_sequences(datasets.get_path("tfl_sequences"),
    ...                                              datasets.get_path("tfl_route_lines"))  # doctest: +SKIP
    >>> patterns.loc[patterns.pattern_id == "25-0-1", "geometry_source"].item()  # doctest: +SKIP
    'route_line'
    """
    path = Path(path)
    metric = _metric(measure_crs)
    table = _read_table(path)
    lines = _read_route_lines(Path(route_lines), metric) if route_lines is not None else {}
    real = _real_stops(table, path)
    keep = match_routes(pd.DataFrame({"route_id": real["Route"].unique()}), routes, path)
    if keep is not None:
        real = real[real["Route"].isin(set(real["Route"].unique()[keep]))].reset_index(drop=True)

    route = real["Route"].to_numpy()
    run = real["run"].to_numpy()
    starts = np.flatnonzero(np.r_[True, (route[1:] != route[:-1]) | (run[1:] != run[:-1])])
    lengths = np.diff(np.r_[starts, len(real)])
    pats = pd.DataFrame(
        {
            "route_id": pd.Series(route[starts], dtype=str),
            "direction_id": (run[starts] - 1).astype(np.int64),
            "rank": np.ones(len(starts), dtype=np.int64),
        }
    )
    pats["route_name"] = pats["route_id"].astype("string")
    pats["pattern_id"] = pattern_ids(pats).astype("string")
    pats["n_trips"] = pd.array([pd.NA] * len(pats), dtype="Int64")
    pats["n_stops"] = lengths.astype(np.int64)

    east = real["east"].to_numpy(float)
    north = real["north"].to_numpy(float)
    lon, lat = Transformer.from_crs(BNG, WGS84, always_xy=True).transform(east, north)
    ps = pd.DataFrame(
        {
            "pattern_id": pd.Series(np.repeat(pats["pattern_id"].to_numpy(dtype=str), lengths), dtype=str),
            "stop_sequence": (np.arange(len(real)) - np.repeat(starts, lengths) + 1).astype(np.int64),
            "stop_id": pd.array(real["Stop_Code_LBSL"].to_numpy(), dtype="string"),
            "stop_name": pd.Series(real["Stop_Name"].to_numpy(), dtype=str),
            "lon": np.asarray(lon, dtype=float),
            "lat": np.asarray(lat, dtype=float),
        }
    )
    if metric == CRS.from_user_input(BNG):
        xy = np.column_stack([east, north])
    else:
        xy = np.column_stack(Transformer.from_crs(BNG, metric, always_xy=True).transform(east, north))

    bounds = np.c_[starts, starts + lengths]
    dist, offset, geoms, sources, n_none, n_bad = _measure(pats, bounds, xy, lines)
    ps["dist_m"] = dist
    ps["minutes"] = np.nan
    ps["offset_m"] = offset
    pats["geometry_source"] = pd.Series(sources, dtype=str)
    out = gpd.GeoDataFrame(pats[PATTERN_COLUMNS + ["rank"]], geometry=to_wgs84(geoms, metric), crs=WGS84)

    if n_none or n_bad:
        given = "" if route_lines is not None else " (no route-lines file given)"
        warnings.warn(
            f"{n_none} of {len(out)} patterns have no route line{given} and {n_bad} more fit theirs "
            f"badly (median stop offset over {MAX_MEDIAN_OFFSET_M:.0f} m, or over "
            f"{MAX_FAR_SHARE:.0%} of stops more than {FAR_OFFSET_M:.0f} m away); their distances and "
            "lines are straight lines between stops",
            GradientWarning,
            stacklevel=2,
        )
    out = out.sort_values("pattern_id", kind="stable").reset_index(drop=True)
    ps = ps.sort_values(["pattern_id", "stop_sequence"], kind="stable").reset_index(drop=True)
    return out, ps[PATTERN_STOP_COLUMNS + ["minutes", "offset_m"]]


def _metric(crs: str | None) -> CRS:
    """The CRS to measure in: ``crs`` if it is projected, else British National Grid."""
    if crs is None:
        return CRS.from_user_input(BNG)
    try:
        metric = CRS.from_user_input(crs)
    except (CRSError, TypeError) as exc:
        raise OptionError(
            f"measure_crs={crs!r} is not a CRS pyproj knows ({exc}); give e.g. EPSG:27700", param="measure_crs"
        ) from exc
    if not metric.is_projected:
        raise OptionError(
            f"measure_crs={crs!r} is not a projected CRS in metres; give e.g. EPSG:27700 or a UTM zone",
            param="measure_crs",
        )
    return metric


def _read_table(path: Path) -> pd.DataFrame:
    """The file's ``REQUIRED_COLUMNS`` as strings; the DOS end-of-file and blank rows removed."""
    hint = "give TfL's bus-sequences file (tab-separated)"
    if not path.exists():
        raise FeedError(f"no such file; {hint}", path)
    if not path.is_file():
        raise FeedError(f"not a file; {hint}", path)
    text, encoding = decode(path.read_bytes(), None, path, param=None, error=FeedError)
    if encoding not in ("utf-8", "utf-8-sig"):
        log.info("%s is not UTF-8; read it as %s", path, encoding)
    text, _, rest = text.partition(_EOF)
    if rest.strip(" \t\r\n" + _EOF):
        line = text.count("\n") + 1
        raise FeedError(
            f"data follows the end-of-file character (\\x1a) on line {line}; the file is corrupt, download it again",
            path,
        )
    try:
        df = pd.read_csv(io.StringIO(text), sep="\t", dtype=str, keep_default_na=False, na_filter=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise FeedError(f"cannot read as a tab-separated file ({exc}); {hint}", path) from exc
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise FeedError(
            f"lacks the column(s) {', '.join(missing)}; TfL's bus-sequences file is tab-separated "
            f"with columns {', '.join(REQUIRED_COLUMNS)} (and others)",
            path,
        )
    df = df[REQUIRED_COLUMNS].fillna("").astype(str)
    for col in ("Route", "Stop_Code_LBSL", "Virtual_Bus_Stop"):  # numbers are parsed with spaces
        df[col] = df[col].str.strip()
    maybe = np.flatnonzero(df["Route"] == "")  # few rows: check them whole
    blank = maybe[(df.iloc[maybe].apply(lambda c: c.str.strip()) == "").all(axis=1).to_numpy()]
    return df.drop(index=blank).reset_index(drop=True)


def _first(df: pd.DataFrame, bad: pd.Series | np.ndarray, with_run: bool = True) -> str:
    """``route R, run N`` of the first bad row, for error messages."""
    row = df[np.asarray(bad)].iloc[0]
    return f"route {row['Route']}, run {row['Run']}" if with_run else f"route {row['Route']}"


def _real_stops(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Check every row, drop virtual stops and runs with fewer than two stops, sort."""
    if (df["Route"] == "").any():
        row = int(np.flatnonzero(df["Route"] == "")[0]) + 1
        raise FeedError(f"data row {row} has no Route; every row needs one", path)
    run = pd.to_numeric(df["Run"], errors="coerce")
    bad = ~(np.isfinite(run) & (run >= 1) & (run == np.round(run)))
    if bad.any():
        raise FeedError(
            f"{_first(df, bad, with_run=False)}: Run {df.loc[bad, 'Run'].iloc[0]!r} is not a whole number 1 or more",
            path,
        )
    seq = pd.to_numeric(df["Sequence"], errors="coerce")
    bad = ~np.isfinite(seq)
    if bad.any():
        raise FeedError(f"{_first(df, bad)}: Sequence {df.loc[bad, 'Sequence'].iloc[0]!r} is not a number", path)
    df = df.assign(run=run.astype(np.int64), seq=seq)
    dup = df.duplicated(["Route", "run", "seq"], keep=False)
    if dup.any():
        raise FeedError(
            f"{_first(df, dup)}: Sequence {df.loc[dup, 'Sequence'].iloc[0]} appears more than once; "
            "each stop of a run needs its own",
            path,
        )
    flag = df["Virtual_Bus_Stop"]
    bad = ~flag.isin(["0", "1"])
    if bad.any():
        raise FeedError(f"{_first(df, bad)}: Virtual_Bus_Stop {flag[bad].iloc[0]!r} is neither 0 nor 1", path)
    virtual = flag == "1"
    real = df[~virtual].copy()
    real["east"] = pd.to_numeric(real["Location_Easting"], errors="coerce")
    real["north"] = pd.to_numeric(real["Location_Northing"], errors="coerce")
    bad = ~(np.isfinite(real["east"]) & np.isfinite(real["north"]))
    if bad.any():
        row = real[bad].iloc[0]
        raise FeedError(
            f"{_first(real, bad)}, Sequence {row['Sequence']}: Location_Easting/Location_Northing "
            f"{row['Location_Easting']!r}/{row['Location_Northing']!r} are not numbers",
            path,
        )
    bad = real["Stop_Code_LBSL"] == ""
    if bad.any():
        row = real[bad].iloc[0]
        raise FeedError(f"{_first(real, bad)}, Sequence {row['Sequence']}: Stop_Code_LBSL is blank", path)
    real["Stop_Name"] = real["Stop_Name"].mask(real["Stop_Name"].str.strip() == "")
    real = real.sort_values(["Route", "run", "seq"], kind="stable")
    size = real.groupby(["Route", "run"], sort=False)["seq"].transform("size")
    short = real.loc[size < 2, ["Route", "run"]].drop_duplicates()
    real = real[size >= 2].reset_index(drop=True)
    lost = sorted(set(df["Route"]) - set(real["Route"]))
    log.info(
        "%s: dropped %d virtual stops (timing points) of %d rows, %d runs with fewer than two real stops, "
        "and %d routes left with no run%s",
        path.name,
        int(virtual.sum()),
        len(df),
        len(short),
        len(lost),
        f" ({', '.join(lost)})" if lost else "",
    )
    if real.empty:
        raise FeedError("no run has two or more real (non-virtual) stops", path)
    return real


def _read_route_lines(path: Path, crs: CRS) -> dict[str, list[tuple[str, np.ndarray]]]:
    """Each route's distinct lines as ``(direction label, vertices in crs)``, keyed by upper-case route."""
    hint = "give route lines with a 'line' property, e.g. TfL's route-lines GeoJSON"
    if not path.is_file():
        raise FeedError(f"{'not a file' if path.exists() else 'no such file'}; {hint}", path)
    _archive.check_packed(path, FeedError)
    try:
        gdf = gpd.read_file(path)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError) as exc:
        raise FeedError(f"cannot read as a vector file ({exc}); {hint}", path) from exc
    if "line" not in gdf.columns:
        raise FeedError(f"has no 'line' property (found: {', '.join(map(str, gdf.columns))}); {hint}", path)
    if gdf.crs is None:
        raise FeedError("declares no CRS; give it one (GeoJSON is always EPSG:4326)", path)
    kind = gdf.geom_type
    usable = kind.isin(["LineString", "MultiLineString"]) & ~gdf.geometry.is_empty
    if not usable.any():
        raise FeedError(f"has no LineString or MultiLineString features; {hint}", path)
    if (~usable).any():
        log.info("%s: ignored %d features that are not lines", path.name, int((~usable).sum()))
    gdf = gdf[usable].to_crs(crs)
    direction = gdf["direction"].astype(str) if "direction" in gdf.columns else pd.Series("", index=gdf.index)
    lines: dict[str, list[tuple[str, np.ndarray]]] = {}
    seen = set()
    for key, label, geom in zip(gdf["line"].astype(str).str.strip().str.upper(), direction, gdf.geometry):
        for coords in _candidates(geom):
            sig = (key, coords.tobytes())
            if len(coords) >= 2 and sig not in seen:  # TfL repeats some lines verbatim
                seen.add(sig)
                lines.setdefault(key, []).append((label, coords))
    return lines


def _candidates(geom) -> list[np.ndarray]:
    """Vertex arrays to try for one feature: merged where parts touch, else each part and all joined."""
    if geom.geom_type == "LineString":
        return [shapely.get_coordinates(geom)]
    merged = shapely.line_merge(geom)
    if merged.geom_type == "LineString":
        return [shapely.get_coordinates(merged)]
    parts = [shapely.get_coordinates(p) for p in shapely.get_parts(merged)]
    return parts + [shapely.get_coordinates(geom)]  # the parts joined in file order


def _best_fit(pts: np.ndarray, candidates: list[tuple[str, np.ndarray]]):
    """Match ordered stops to the route line and orientation that fit them best.

    Each stop's nearest point on each candidate line (shapely, vectorised) picks
    the line with the smallest mean stop distance and, from the way the stops'
    nearest points advance along it, its orientation; where they advance neither
    way clearly (a loop) both orientations are matched and the one with the
    smaller mean offset kept; distances come from
    :func:`~gradient.geometry.monotone_along`. Returns
    ``(along, offset, vertices, label, reversed)``.
    """
    points = shapely.points(pts)
    screened = []
    for label, line in candidates:
        geom = shapely.LineString(line)
        near = shapely.distance(geom, points)
        screened.append((float(near.mean()), label, line, geom, near))
    _, label, line, geom, near = min(screened, key=lambda s: s[0])
    pos = shapely.line_locate_point(geom, points)
    steps = np.sign(np.diff(pos[near <= MAX_MEDIAN_OFFSET_M]))
    vote = steps.sum() / max(np.abs(steps).sum(), 1.0)
    orientations = [False] if vote > 0.5 else [True] if vote < -0.5 else [False, True]
    best = None
    for reverse in orientations:
        oriented = line[::-1] if reverse else line
        along, off = monotone_along(pts, oriented)  # skips its search when the stops come in order
        if best is None or off.mean() < best[1].mean():
            best = (along, off, oriented, label, reverse)
    return best


def _fits(offset: np.ndarray) -> bool:
    """Whether stops with these offsets (metres) fit their line well enough to measure along it."""
    return bool(np.median(offset) <= MAX_MEDIAN_OFFSET_M and (offset > FAR_OFFSET_M).mean() <= MAX_FAR_SHARE)


def _measure(pats: pd.DataFrame, bounds: np.ndarray, xy: np.ndarray, lines: dict):
    """Distances, offsets and a metric geometry per pattern; counts of straight-line fallbacks."""
    used: Counter = Counter()
    keys = pats["route_id"].str.upper().to_numpy()
    runs = pats["direction_id"].to_numpy() + 1
    misses = {"none": 0, "bad": 0}

    def fit(i: int, pts: np.ndarray):
        best = _best_fit(pts, lines[keys[i]]) if keys[i] in lines else None
        if best is None or not _fits(best[1]):
            misses["none" if best is None else "bad"] += 1
            return None
        along, off, line, label, reverse = best
        used[(label, int(runs[i]), "reversed" if reverse else "as drawn")] += 1
        return along, off, line

    dist, offset, geoms, sources = along_lines(xy, bounds, fit, "route_line")
    if used:
        log.info(
            "route lines used: %s",
            "; ".join(
                f"{label or 'unlabelled'} {how} for {n} run-{run} patterns"
                for (label, run, how), n in sorted(used.items())
            ),
        )
    return dist, offset, geoms, sources, misses["none"], misses["bad"]
