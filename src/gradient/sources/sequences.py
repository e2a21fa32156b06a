"""Stop sequences to stop patterns: any table of stops in order along patterns, in CSV or Parquet.

Sources that are not GTFS often publish one row per stop per pattern: TfL's bus sequences,
operators' pattern APIs, national stop-sequence extracts. :func:`read_sequences` reads any such
table into the two tables every later stage takes (the same as
:func:`gradient.sources.gtfs.stop_patterns` returns). Rows whose stop id is empty are *shape
points*: in order with the stops, they trace the pattern's line, along which ``dist_m`` is
measured (unless a route-lines file gives the lines).

TfL's bus sequences are one configuration of this reader: :mod:`gradient.sources.tfl` finds
their columns in whichever published layout a file has and hands them over as a :class:`Layout`.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from .._tables import decode
from ..errors import FeedError, GradientWarning, OptionError
from ..schema import PATTERN_COLUMNS, PATTERN_STOP_COLUMNS, WGS84, metric_crs, pattern_ids
from ._directions import infer_directions
from ._geometry import straight_along
from ._lines import fallback_warning, line_fit, read_lines
from ._measure import along_lines, to_wgs84
from ._routes import match_routes

log = logging.getLogger(__name__)

SEQUENCE_COLUMNS = {
    "route_col": "route_id",
    "pattern_col": "pattern_id",
    "order_col": "stop_sequence",
    "stop_col": "stop_id",
    "stop_name_col": "stop_name",
    "lat_col": "stop_lat",
    "lon_col": "stop_lon",
}
"""The columns :func:`read_sequences` reads, by parameter, and their default names."""

DELIMITERS = ("\t", ",", ";", "|")
"""Delimiters a text table may use; the one that splits its header into the wanted columns is used."""

PARQUET_MAGIC = b"PAR1"
"""The first bytes of a Parquet file: such a file is read as Parquet whatever its name."""

_EOF = "\x1a"  # DOS end-of-file character: TfL's files end with it
_DELIMITER_NAMES = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "bar"}


@dataclass(frozen=True)
class Layout:
    """How a stop-sequence table names its columns, and what its rows mean.

    Attributes
    ----------
    route : str or None
        The route column; None: each pattern is its own route.
    pattern, order, stop, name : str
        The columns of the pattern, of the order of points along it (numbers), of the stop
        id (empty: a shape point) and of the stop name.
    x, y : str
        The columns of the coordinates, in ``crs`` (longitude and latitude in WGS84).
    crs : str
        The CRS of ``x`` and ``y``.
    virtual : str, optional
        A column whose rows marked 1 are not stops (TfL's timing points) and are dropped;
        0 marks a stop. With it, an empty stop id is an error, not a shape point.
    runs : bool
        Patterns are numbered runs (whole numbers from 1, as TfL's ``Run``):
        ``direction_id`` is the run less 1, and the pattern id ``<route>-<direction>-1``.
        Otherwise directions are inferred and each pattern keeps its own id.
    word : str
        What a pattern is called in messages (``run`` for TfL).
    """

    route: str | None
    pattern: str
    order: str
    stop: str
    name: str
    x: str
    y: str
    crs: str = WGS84
    virtual: str | None = None
    runs: bool = False
    word: str = "pattern"

    @property
    def columns(self) -> list[str]:
        """The columns read, in the table's terms."""
        cols = [self.route, self.pattern, self.order, self.stop, self.name, self.x, self.y, self.virtual]
        return list(dict.fromkeys(c for c in cols if c is not None))


def read_sequences(
    path: str | Path,
    lines: str | Path | None = None,
    *,
    route_col: str = "route_id",
    pattern_col: str = "pattern_id",
    order_col: str = "stop_sequence",
    stop_col: str = "stop_id",
    stop_name_col: str = "stop_name",
    lat_col: str = "stop_lat",
    lon_col: str = "stop_lon",
    measure_crs: str | None = None,
    routes: Sequence[str] | None = None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Read a table of stops in order along patterns into stop patterns.

    Parameters
    ----------
    path : str or Path
        A CSV (comma, tab, semicolon or bar, told from the header; UTF-8 with or
        without a byte-order mark, UTF-16, else Windows-1252) or a Parquet file (told
        from its first bytes), one row per point per pattern. Other columns are ignored.
    lines : str or Path, optional
        Route lines (any vector file with a CRS, e.g. GeoJSON): LineStrings or
        MultiLineStrings with a property naming their pattern (``pattern_col`` or
        ``pattern_id``) or their route (``route_col``, ``route_id`` or ``line``; each
        pattern then takes the route's line that fits its stops best). With them, shape
        points are not used.
    route_col : str, default 'route_id'
        The route. Where the table has no column of the default name, each pattern is
        its own route.
    pattern_col : str, default 'pattern_id'
        The pattern (a direction, a variant: one ordered list of stops).
    order_col : str, default 'stop_sequence'
        The order of the points along the pattern (numbers; need not start at 1).
    stop_col : str, default 'stop_id'
        The stop id (text, leading zeros kept); empty for a shape point.
    stop_name_col : str, default 'stop_name'
    lat_col, lon_col : str, default 'stop_lat', 'stop_lon'
        WGS84 degrees.
    measure_crs : str, optional
        Metric CRS to measure in; default the local UTM zone.
    routes : sequence of str, optional
        Only these routes (default all), chosen before anything is measured.

    Returns
    -------
    patterns : geopandas.GeoDataFrame
        One row per pattern with two or more stops, EPSG:4326, ordered by
        ``pattern_id``; columns ``PATTERN_COLUMNS`` plus ``rank`` and ``geometry``, as
        from :func:`gradient.sources.gtfs.stop_patterns`:

        - ``pattern_id``: the table's pattern, where each belongs to one route; else
          ``<route>-<pattern>`` for every pattern;
        - ``route_id``, ``route_name``: the route (the pattern without a route column);
        - ``direction_id``: 0 or 1, inferred as for a GTFS feed without directions
          (:func:`gradient.sources._directions.infer_directions`): 0 is the way of the
          route's longest pattern;
        - ``n_trips``: missing (the table has no trips);
        - ``n_stops``: stops (not shape points);
        - ``geometry_source``: ``shape`` (traced by shape points), ``route_line`` (from
          ``lines``) or ``straight_line``;
        - ``rank``: 1 for each route and direction's longest pattern, then 2, 3, ...;
        - ``geometry``: the line distances were measured on, first to last stop.
    pattern_stops : pandas.DataFrame
        One row per stop per pattern, ordered by ``pattern_id`` and ``stop_sequence``;
        columns ``PATTERN_STOP_COLUMNS`` plus ``minutes`` (NaN: the table has no times)
        and ``offset_m`` (metres from the stop to the line it was measured on):

        - ``stop_sequence``: 1..n in the order of ``order_col`` (numeric);
        - ``stop_id``, ``stop_name``: as written (a blank name is missing);
        - ``lon``, ``lat``: WGS84 degrees;
        - ``dist_m``: metres along the pattern's line from its first stop, never
          decreasing: along the line the stops and shape points trace, in order, where
          the pattern has shape points (exactly, so loops never go backwards); along
          ``lines`` where given; else along straight lines between stops.

    Raises
    ------
    FeedError
        If the file cannot be read, a column is missing (the message names the
        parameter that names it), or a row is malformed: an empty route or pattern, an
        order that is not a number or repeats within a pattern, coordinates that are not
        WGS84 degrees. Also if no pattern has two stops.
    InputError
        If a name in ``routes`` matches no route.
    OptionError
        If ``measure_crs`` is not a projected (metric) CRS.

    Warns
    -----
    GradientWarning
        With the count of patterns measured along straight lines (no shape points, or no
        line that fits).

    Examples
    --------
    >>> import gradient
    >>> patterns, stops = gradient.read_sequences("stop_sequences.parquet")  # doctest: +SKIP
    >>> patterns, stops = gradient.read_sequences("naptan.csv", stop_col="ATCOCode", lat_col="Latitude",
    ...                                           lon_col="Longitude")  # doctest: +SKIP
    """
    path = Path(path)
    given = {
        "route_col": route_col,
        "pattern_col": pattern_col,
        "order_col": order_col,
        "stop_col": stop_col,
        "stop_name_col": stop_name_col,
        "lat_col": lat_col,
        "lon_col": lon_col,
    }
    hint = "give a table of stops in order along patterns (CSV or Parquet)"
    optional = {"route_col"} if route_col == SEQUENCE_COLUMNS["route_col"] else set()
    table = read_any(path, [c for p, c in given.items() if p not in optional], hint, given)
    layout = Layout(
        route=route_col if route_col in table.columns else None,
        pattern=pattern_col,
        order=order_col,
        stop=stop_col,
        name=stop_name_col,
        x=lon_col,
        y=lat_col,
    )
    keys = [pattern_col, "pattern_id"] + ([route_col] if layout.route else []) + ["route_id", "line"]
    return stop_patterns_of(
        table,
        layout,
        path,
        lines=lines,
        line_keys=keys,
        lines_hint="give lines with a pattern_id or route_id property (e.g. GeoJSON)",
        measure_crs=measure_crs,
        routes=routes,
    )


# --- reading a table ------------------------------------------------------------------------------


def read_text(path: Path, hint: str) -> str:
    """A text file's text (encoding detected, byte-order mark dropped) up to a DOS end-of-file character.

    Raises
    ------
    FeedError
        If the file is missing, or data follows the end-of-file character.
    """
    if not path.exists():
        raise FeedError(f"no such file; {hint}", path)
    if not path.is_file():
        raise FeedError(f"not a file; {hint}", path)
    text, encoding = decode(path.read_bytes(), None, path, param=None, error=FeedError)
    if encoding not in ("utf-8", "utf-8-sig"):
        log.info("%s is not UTF-8; read it as %s", path, encoding)
    text, _, rest = text.partition(_EOF)
    if rest.strip(" \t\r\n,;|" + _EOF):
        line = text.count("\n") + 1
        raise FeedError(
            f"data follows the end-of-file character (\\x1a) on line {line}; the file is corrupt, download it again",
            path,
        )
    return text


def header_of(text: str, wanted: Sequence[str], key: Callable[[str], str]) -> tuple[str | None, list[str], dict]:
    """The delimiter that splits a table's header into the ``wanted`` columns, told from the header.

    Parameters
    ----------
    text : str
        The table.
    wanted : sequence of str
        Column names the header must hold, compared after ``key``.
    key : callable
        How names are compared (e.g. ignoring case).

    Returns
    -------
    delimiter : str or None
        One of :data:`DELIMITERS`; None where none splits the header into every wanted
        column.
    header : list of str
        The header's names as split by ``delimiter`` (or by the delimiter that found
        the most wanted columns).
    names : dict
        Each wanted name found -> the header's own spelling.
    """
    first = next((line for line in text.splitlines() if line.strip()), "")
    best: tuple[int, int, str, list[str], dict] | None = None
    for delim in DELIMITERS:
        cells = [c.strip() for c in next(csv.reader([first], delimiter=delim), [])]
        found = {w: c for w in wanted for c in cells if key(c) == key(w)}
        score = (len(found), first.count(delim))
        if best is None or score > best[:2]:
            best = (*score, delim, cells, found)
    assert best is not None
    _, _, delim, cells, found = best
    return (delim if len(found) == len(set(wanted)) else None), cells, found


def parse(text: str, delimiter: str, path: Path, hint: str) -> pd.DataFrame:
    """Every cell of a delimited table as text, nothing read as missing."""
    try:
        df = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False, na_filter=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        name = _DELIMITER_NAMES[delimiter]
        raise FeedError(
            f"cannot read as a {name}-separated table ({' '.join(str(exc).split())}); {hint}", path
        ) from exc
    df.columns = [str(c).strip() for c in df.columns]
    return df


def read_any(path: Path, wanted: list[str], hint: str, params: dict[str, str]) -> pd.DataFrame:
    """A CSV or Parquet table as text cells, with every ``wanted`` column (the rest kept as they are).

    ``params`` maps the caller's parameters to the column names they gave, so that a
    missing column's message names the parameter to change.
    """
    if path.is_file():
        with open(path, "rb") as fh:
            if fh.read(4) == PARQUET_MAGIC:
                return _parquet(path, wanted, hint, params)
    text = read_text(path, hint)
    if not text.strip():
        raise FeedError(f"is empty; {hint}", path)
    delimiter, header, _ = header_of(text, wanted, str.strip)
    if delimiter is None:
        _missing(path, [w for w in wanted if w not in header], header, params)
    assert delimiter is not None
    return parse(text, delimiter, path, hint)


def _parquet(path: Path, wanted: list[str], hint: str, params: dict[str, str]) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise FeedError(f"cannot read as Parquet ({' '.join(str(exc).split())}); {hint}", path) from exc
    missing = [w for w in wanted if w not in table.column_names]
    if missing:
        _missing(path, missing, table.column_names, params)
    df = table.to_pandas()
    for col in dict.fromkeys(wanted):  # text as a CSV would give it: numbers written exactly, nulls empty
        df[col] = df[col].astype("string").fillna("").astype(object)
    return df


def _missing(path: Path, missing: list[str], header: Sequence[str], params: dict[str, str]) -> None:
    by_column = {c: p for p, c in params.items()}
    fix = ", ".join(f"{by_column[m]}={m!r}" for m in missing if m in by_column)
    raise FeedError(
        f"the stop-sequence table has no column(s) {', '.join(map(repr, missing))} ({fix}: name the table's own "
        f"column); its columns are {', '.join(str(c) for c in header)}",
        path,
    )


# --- rows to patterns -------------------------------------------------------------------------------


def stop_patterns_of(
    table: pd.DataFrame,
    layout: Layout,
    path: Path,
    *,
    lines: str | Path | None = None,
    line_keys: Sequence[str] = ("line",),
    lines_hint: str = "",
    measure_crs: str | None = None,
    default_crs: str | None = None,
    routes: Sequence[str] | None = None,
    logger: logging.Logger | None = None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Stop patterns from a table with the columns of ``layout`` (see :func:`read_sequences`).

    Parameters
    ----------
    table : pandas.DataFrame
        Text cells with every column of ``layout``.
    layout : Layout
    path : Path
        The table's file, named in messages.
    lines : str or Path, optional
        A route-lines file; without one a layout with shape points measures along them,
        and one without (``layout.virtual``) along straight lines.
    line_keys : sequence of str
        Properties of ``lines`` to key them by: a pattern's (``layout.pattern`` or
        ``pattern_id``) or a route's (any other).
    lines_hint : str
        What to give instead of a bad ``lines``, for messages.
    measure_crs : str, optional
        Metric CRS to measure in; default ``default_crs``, else the local UTM zone.
    routes : sequence of str, optional
        Only these routes.
    logger : logging.Logger, optional
        Where to log what was dropped and which lines were used (default this module's).
    """
    out_log = logger or log
    metric = _metric(measure_crs, default_crs)
    rows = _checked(_clean(table, layout), layout, path, out_log)
    route_col = layout.route or layout.pattern
    keep = match_routes(pd.DataFrame({"route_id": rows[route_col].unique()}), routes, path)
    if keep is not None:
        rows = rows[rows[route_col].isin(set(rows[route_col].unique()[keep]))].reset_index(drop=True)
    stop_rows = rows[rows["is_stop"]].reset_index(drop=True) if not rows["is_stop"].all() else rows

    route = stop_rows[route_col].to_numpy()
    pkey = stop_rows["pkey"].to_numpy()
    starts = np.flatnonzero(np.r_[True, (route[1:] != route[:-1]) | (pkey[1:] != pkey[:-1])])
    lengths = np.diff(np.r_[starts, len(stop_rows)])

    east = stop_rows["east"].to_numpy(float)
    north = stop_rows["north"].to_numpy(float)
    if CRS.from_user_input(layout.crs) == CRS.from_user_input(WGS84):
        lon, lat = east, north
    else:
        lon, lat = Transformer.from_crs(layout.crs, WGS84, always_xy=True).transform(east, north)
    pats = _pattern_table(stop_rows, layout, starts, lengths, np.asarray(lon, float), np.asarray(lat, float))
    ps = pd.DataFrame(
        {
            "pattern_id": pd.Series(np.repeat(pats["pattern_id"].to_numpy(dtype=str), lengths), dtype=str),
            "stop_sequence": (np.arange(len(stop_rows)) - np.repeat(starts, lengths) + 1).astype(np.int64),
            "stop_id": pd.array(stop_rows[layout.stop].to_numpy(), dtype="string"),
            "stop_name": pd.Series(stop_rows[layout.name].to_numpy(), dtype=str),
            "lon": np.asarray(lon, dtype=float),
            "lat": np.asarray(lat, dtype=float),
        }
    )
    if metric is None:
        metric = metric_crs(ps["lon"], ps["lat"])
    to_metric = _transform(layout.crs, metric)
    xy = to_metric(east, north)
    bounds = np.c_[starts, starts + lengths]

    n = len(pats)
    if lines is not None or layout.virtual is not None:
        key, found = "", {}  # type: tuple[str, dict]
        if lines is not None:
            key, found, ignored = read_lines(Path(lines), metric, line_keys, lines_hint)
            if ignored:
                out_log.info("%s: ignored %d features that are not lines", Path(lines).name, ignored)
        per_pattern = key in (layout.pattern, "pattern_id")
        names = stop_rows[layout.pattern if per_pattern else route_col].to_numpy(dtype=str)[starts]
        groups = pats["direction_id"].to_numpy() + 1 if layout.runs else np.full(n, "")
        dist, offset, geoms, sources, used, n_none, n_bad = line_fit(
            np.char.upper(np.char.strip(names.astype(str))), groups, bounds, xy, found
        )
        if used:
            of = "run-{} patterns" if layout.runs else "patterns{}"
            out_log.info(
                "route lines used: %s",
                "; ".join(
                    f"{label or 'unlabelled'} {how} for {k} {of.format(g)}"
                    for (label, g, how), k in sorted(used.items())
                ),
            )
        message = fallback_warning(n_none, n_bad, n, lines is not None) if n_none or n_bad else ""
    else:
        dist, offset, geoms, sources = _traced(rows, stop_rows, route_col, bounds, xy, to_metric)
        straight = sources.count("straight_line")
        message = (
            f"{straight} of {n} patterns have no shape points (rows with an empty {layout.stop}) and no route-lines "
            "file was given; their distances and lines are straight lines between stops"
            if straight
            else ""
        )

    ps["dist_m"] = dist
    ps["minutes"] = np.nan
    ps["offset_m"] = offset
    pats["geometry_source"] = pd.Series(sources, dtype=str)
    out = gpd.GeoDataFrame(pats[PATTERN_COLUMNS + ["rank"]], geometry=to_wgs84(geoms, metric), crs=WGS84)
    if message:
        warnings.warn(message, GradientWarning, stacklevel=3)
    out = out.sort_values("pattern_id", kind="stable").reset_index(drop=True)
    ps = ps.sort_values(["pattern_id", "stop_sequence"], kind="stable").reset_index(drop=True)
    return out, ps[PATTERN_STOP_COLUMNS + ["minutes", "offset_m"]]


def _metric(crs: str | None, default: str | None) -> CRS | None:
    """The CRS to measure in: ``crs`` if it is projected, else ``default`` (None: the local UTM zone)."""
    if crs is None:
        return None if default is None else CRS.from_user_input(default)
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


def _transform(source: str, metric: CRS) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """Coordinates in ``source`` to an ``(n, 2)`` array in ``metric`` (unchanged where they are the same CRS)."""
    if metric == CRS.from_user_input(source):
        return lambda x, y: np.column_stack([x, y])
    tr = Transformer.from_crs(source, metric, always_xy=True)
    return lambda x, y: np.column_stack(tr.transform(x, y))


def _clean(df: pd.DataFrame, layout: Layout) -> pd.DataFrame:
    """The layout's columns as stripped text; rows blank in every one of them removed."""
    df = df[layout.columns].fillna("").astype(str)
    for col in (layout.route, layout.stop, layout.virtual, None if layout.runs else layout.pattern):
        if col is not None:  # numbers are parsed with spaces
            df[col] = df[col].str.strip()
    key = layout.route or layout.pattern
    maybe = np.flatnonzero(df[key] == "")  # few rows: check them whole
    blank = maybe[(df.iloc[maybe].apply(lambda c: c.str.strip()) == "").all(axis=1).to_numpy()]
    return df.drop(index=blank).reset_index(drop=True)


def _where(layout: Layout, row: pd.Series, with_pattern: bool = True) -> str:
    """``route R, run N`` (or ``pattern P`` without routes) of a row, for messages."""
    parts = [f"route {row[layout.route]}"] if layout.route else []
    if with_pattern or not layout.route:
        parts.append(f"{layout.word} {row[layout.pattern]}")
    return ", ".join(parts)


def _first(df: pd.DataFrame, bad, layout: Layout, with_pattern: bool = True) -> str:
    return _where(layout, df[np.asarray(bad)].iloc[0], with_pattern)


def _refuse_coordinates(df: pd.DataFrame, bad: pd.Series, lay: Layout, expected: str, path: Path) -> None:
    """Refuse the table at its first row whose coordinates are not ``expected``, naming the row and values."""
    if bad.any():
        row = df[bad].iloc[0]
        raise FeedError(
            f"{_first(df, bad, lay)}, {lay.order} {row[lay.order]}: {lay.x}/{lay.y} "
            f"{row[lay.x]!r}/{row[lay.y]!r} are not {expected}",
            path,
        )


def _checked(df: pd.DataFrame, layout: Layout, path: Path, out_log: logging.Logger) -> pd.DataFrame:
    """Every row checked; rows that are not stops (virtual) dropped; sorted; patterns of under two stops dropped.

    Adds ``pkey`` (the pattern, as a number for runs), ``seq``, ``east``, ``north`` and
    ``is_stop`` (False for a shape point).
    """
    lay = layout
    for col in (lay.route, None if lay.runs else lay.pattern):
        if col is not None and (df[col] == "").any():
            row = int(np.flatnonzero(df[col] == "")[0]) + 1
            raise FeedError(f"data row {row} has no {col}; every row needs one", path)
    if lay.runs:
        run = pd.to_numeric(df[lay.pattern], errors="coerce")
        bad = ~(np.isfinite(run) & (run >= 1) & (run == np.round(run)))
        if bad.any():
            raise FeedError(
                f"{_first(df, bad, lay, with_pattern=False)}: {lay.pattern} {df.loc[bad, lay.pattern].iloc[0]!r} "
                "is not a whole number 1 or more",
                path,
            )
        pkey = run.astype(np.int64)
    else:
        pkey = df[lay.pattern]
    seq = pd.to_numeric(df[lay.order], errors="coerce")
    bad = ~np.isfinite(seq)
    if bad.any():
        raise FeedError(f"{_first(df, bad, lay)}: {lay.order} {df.loc[bad, lay.order].iloc[0]!r} is not a number", path)
    df = df.assign(pkey=pkey, seq=seq)
    route_col = lay.route or lay.pattern
    dup = df.duplicated([route_col, "pkey", "seq"], keep=False)
    if dup.any():
        raise FeedError(
            f"{_first(df, dup, lay)}: {lay.order} {df.loc[dup, lay.order].iloc[0]} appears more than once; "
            f"each stop of a {lay.word} needs its own",
            path,
        )
    if lay.virtual is not None:
        flag = df[lay.virtual]
        bad = ~flag.isin(["0", "1"])
        if bad.any():
            raise FeedError(f"{_first(df, bad, lay)}: {lay.virtual} {flag[bad].iloc[0]!r} is neither 0 nor 1", path)
        virtual = flag == "1"
        real = df[~virtual].copy()
    else:
        virtual = pd.Series(False, index=df.index)
        real = df.copy()
    real["east"] = pd.to_numeric(real[lay.x], errors="coerce")
    real["north"] = pd.to_numeric(real[lay.y], errors="coerce")
    _refuse_coordinates(real, ~(np.isfinite(real["east"]) & np.isfinite(real["north"])), lay, "numbers", path)
    if CRS.from_user_input(lay.crs) == CRS.from_user_input(WGS84):
        inside = (real["east"].abs() <= 180) & (real["north"].abs() <= 90)
        _refuse_coordinates(real, ~inside, lay, "WGS84 longitude/latitude in degrees", path)
    if lay.virtual is not None:
        bad = real[lay.stop] == ""
        if bad.any():
            row = real[bad].iloc[0]
            raise FeedError(f"{_first(real, bad, lay)}, {lay.order} {row[lay.order]}: {lay.stop} is blank", path)
    real["is_stop"] = real[lay.stop] != ""
    real[lay.name] = real[lay.name].mask(real[lay.name].str.strip() == "")
    real = real.sort_values([route_col, "pkey", "seq"], kind="stable")
    size = real.groupby([route_col, "pkey"], sort=False)["is_stop"].transform("sum")
    short = real.loc[size < 2, [route_col, "pkey"]].drop_duplicates()
    real = real[size >= 2].reset_index(drop=True)
    lost = sorted(set(df[route_col]) - set(real[route_col]))
    lost_text = f" ({', '.join(lost)})" if lost else ""
    if lay.virtual is not None:
        out_log.info(
            "%s: dropped %d virtual stops (timing points) of %d rows, %d runs with fewer than two real stops, "
            "and %d routes left with no run%s",
            path.name,
            int(virtual.sum()),
            len(df),
            len(short),
            len(lost),
            lost_text,
        )
    else:
        out_log.info(
            "%s: %d of %d rows are shape points; dropped %d patterns with fewer than two stops, and %d routes "
            "left with none%s",
            path.name,
            int((~real["is_stop"]).sum()),
            len(df),
            len(short),
            len(lost),
            lost_text,
        )
    if real.empty:
        what = "real (non-virtual) stops" if lay.virtual is not None else "stops"
        raise FeedError(f"no {lay.word} has two or more {what}", path)
    return real


def _pattern_table(
    rows: pd.DataFrame, layout: Layout, starts: np.ndarray, lengths: np.ndarray, lon: np.ndarray, lat: np.ndarray
) -> pd.DataFrame:
    """The patterns table: ``route_id``, ``direction_id``, ``rank``, ``route_name``, ``pattern_id``, ``n_trips``."""
    route = rows[layout.route or layout.pattern].to_numpy()
    pkey = rows["pkey"].to_numpy()
    pats = pd.DataFrame({"route_id": pd.Series(route[starts], dtype=str)})
    if layout.runs:
        pats["direction_id"] = (pkey[starts] - 1).astype(np.int64)
        pats["rank"] = np.ones(len(starts), dtype=np.int64)
        pats["route_name"] = pats["route_id"].astype("string")
        pats["pattern_id"] = pattern_ids(pats).astype("string")
    else:
        trips = pd.DataFrame(
            {
                "route_id": pats["route_id"],
                "direction_id": pd.array([pd.NA] * len(starts), dtype="Int64"),
                "key": np.arange(len(starts)),
                "trip_n": np.arange(len(starts)),
                "n_stops": lengths,
            }
        )
        direction, _ = infer_directions(trips, lambda k: np.arange(starts[k], starts[k] + lengths[k]), lon, lat)
        pats["direction_id"] = direction.to_numpy(dtype=np.int64)
        order = pats.assign(_n=-lengths, _i=np.arange(len(starts))).sort_values(
            ["route_id", "direction_id", "_n", "_i"], kind="stable"
        )
        pats["rank"] = (order.groupby(["route_id", "direction_id"]).cumcount() + 1).reindex(pats.index).astype(np.int64)
        pats["route_name"] = pats["route_id"].astype("string")
        own = pd.Series(pkey[starts], dtype=str)
        shared = own.groupby(own).transform("size") > 1  # the same pattern under two routes
        pats["pattern_id"] = (own if not shared.any() else pats["route_id"] + "-" + own).astype("string")
    pats["n_trips"] = pd.array([pd.NA] * len(pats), dtype="Int64")
    pats["n_stops"] = lengths.astype(np.int64)
    return pats


def _traced(
    rows: pd.DataFrame,
    stop_rows: pd.DataFrame,
    route_col: str,
    bounds: np.ndarray,
    xy: np.ndarray,
    to_metric: Callable[[np.ndarray, np.ndarray], np.ndarray],
):
    """Distances along the line each pattern's stops and shape points trace in order (straight without shape points).

    Every point is a vertex of the traced line, so a stop's distance is the line's length up
    to it: exact, and never backwards on a loop.
    """
    route = rows[route_col].to_numpy()
    pkey = rows["pkey"].to_numpy()
    starts = np.flatnonzero(np.r_[True, (route[1:] != route[:-1]) | (pkey[1:] != pkey[:-1])])
    ends = np.r_[starts[1:], len(rows)]
    all_xy = to_metric(rows["east"].to_numpy(float), rows["north"].to_numpy(float))
    is_stop = rows["is_stop"].to_numpy(bool)
    traced: list[tuple[np.ndarray, np.ndarray] | None] = []
    for a, b in zip(starts, ends):
        stops = is_stop[a:b]
        if stops.all():
            traced.append(None)
            continue
        pts = all_xy[a:b]
        cum = straight_along(pts)
        keep = np.r_[True, np.any(np.diff(pts, axis=0) != 0, axis=1)]  # repeated points add nothing
        traced.append((cum[stops], pts[keep]))
    assert len(traced) == len(bounds)

    def fit(i: int, pts: np.ndarray):
        found = traced[i]
        if found is None:
            return None
        along, line = found
        return along, np.zeros(len(along)), line

    return along_lines(xy, bounds, fit, "shape")


_NAME_KEY = re.compile(r"[\s_\-]+")


def loose(name: str) -> str:
    """A column name compared ignoring case, spaces, underscores and hyphens (``Stop Code LBSL``)."""
    return _NAME_KEY.sub("", str(name)).lower()
