"""Transport for London's bus-sequences file to stop patterns.

TfL publishes every bus route as an ordered list of stops per *run* (one run per
direction, plus rarer extra runs). Each run becomes one stop pattern, and
:func:`read_tfl_sequences` returns exactly the two tables
:func:`gradient.sources.gtfs.stop_patterns` returns, so assignment, gradients, maps and the
command line are shared. Distances are measured along TfL's route lines where one
fits the stops, and along straight lines between stops otherwise.

The file is one configuration (:data:`LAYOUT`) of the stop-sequence reader,
:mod:`gradient.sources.sequences`. Its layout is told from its header, never guessed from its
name: tab-separated (as the bundled July 2018 copy, although TfL calls it CSV) or
comma-separated (as it is served in other years), with or without a UTF-8 byte-order mark,
its columns in any order and spelt in any case, with spaces or underscores
(``Stop_Code_LBSL``, ``Stop Code LBSL``); columns other than :data:`REQUIRED_COLUMNS` are
ignored, so older and newer column sets read alike. Anything else is refused with what was
expected.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import geopandas as gpd
import pandas as pd

from .._tables import decode
from ..errors import FeedError
from ._lines import FAR_OFFSET_M, MAX_FAR_SHARE, MAX_MEDIAN_OFFSET_M  # noqa: F401  (documented here)
from .sequences import Layout, header_of, loose, parse, read_text, stop_patterns_of

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

PUBLISHED_COLUMNS = [
    "Route",
    "Run",
    "Sequence",
    "Stop_Code_LBSL",
    "Bus_Stop_Code",
    "Naptan_Atco",
    "Stop_Name",
    "Location_Easting",
    "Location_Northing",
    "Heading",
    "Virtual_Bus_Stop",
]
"""The columns of the bus-sequences file as TfL has published it (July 2018, the bundled copy)."""

LAYOUT = Layout(
    route="Route",
    pattern="Run",
    order="Sequence",
    stop="Stop_Code_LBSL",
    name="Stop_Name",
    x="Location_Easting",
    y="Location_Northing",
    crs=BNG,
    virtual="Virtual_Bus_Stop",
    runs=True,
    word="run",
)
"""TfL's bus sequences as a configuration of the stop-sequence reader (:mod:`gradient.sources.sequences`)."""

HINT = "give TfL's bus-sequences file"
EXPECTED = (
    "TfL's bus-sequences file is tab- or comma-separated (with or without a byte-order mark) with the columns "
    f"{', '.join(REQUIRED_COLUMNS)} (in any order, case or spacing) and others"
)


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
        TfL's "bus-sequences" file in any published layout: tab- or comma-separated,
        with or without a byte-order mark (told from its header, see :func:`layout_of`),
        one row per stop per route run, with at least ``REQUIRED_COLUMNS``; eastings and
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
        If ``path`` or ``route_lines`` is not a readable file, its header is not that of
        any layout of the file (the message says what is expected), or a row is
        malformed: a blank ``Route`` or ``Stop_Code_LBSL``,
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
      :func:`gradient.sources._geometry.monotone_along`. A reversed line stands in for the
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
    _check_crs(measure_crs)
    table = read_table(path)
    return stop_patterns_of(
        table,
        LAYOUT,
        path,
        lines=route_lines,
        line_keys=("line",),
        lines_hint="give route lines with a 'line' property, e.g. TfL's route-lines GeoJSON",
        measure_crs=measure_crs,
        default_crs=BNG,
        routes=routes,
        logger=log,
    )


def _check_crs(crs: str | None) -> None:
    """Refuse a measuring CRS that is not metric before the file is read."""
    from .sequences import _metric

    _metric(crs, BNG)


def layout_of(text: str) -> tuple[str | None, list[str], dict[str, str]]:
    """Which published layout a bus-sequences file has, told from its header (first line).

    Parameters
    ----------
    text : str
        The file's text (byte-order mark already dropped).

    Returns
    -------
    delimiter : str or None
        A tab or a comma (or another of :data:`gradient.sources.sequences.DELIMITERS`)
        where that delimiter splits the header into every one of ``REQUIRED_COLUMNS``
        (compared ignoring case, spaces, underscores and hyphens); None otherwise.
    header : list of str
        The header's names as split.
    names : dict
        Each of ``REQUIRED_COLUMNS`` found -> the file's spelling of it.
    """
    return header_of(text, REQUIRED_COLUMNS, loose)


def is_tfl_sequences(path: str | Path) -> bool:
    """Whether a file's header is that of TfL's bus sequences, in any published layout."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    text, _ = decode(head, None, path, param=None, error=FeedError)
    return layout_of(text.partition("\n")[0])[0] is not None


def read_table(path: Path) -> pd.DataFrame:
    """The file's ``REQUIRED_COLUMNS`` as text under their canonical names, in whichever layout it has."""
    text = read_text(path, HINT)
    if not text.strip():
        raise FeedError(f"is empty; {HINT}", path)
    delimiter, header, names = layout_of(text)
    if delimiter is None:
        missing = [c for c in REQUIRED_COLUMNS if c not in names]
        raise FeedError(
            f"lacks the column(s) {', '.join(missing)} (its header reads {', '.join(header[:12])}); {EXPECTED}",
            path,
        )
    df = parse(text, delimiter, path, HINT)
    if delimiter != "\t" or any(names[c] != c for c in REQUIRED_COLUMNS):
        log.info("%s: %s-separated, columns %s", path.name, "comma" if delimiter == "," else repr(delimiter), names)
    return df.rename(columns={v: k for k, v in names.items()})
