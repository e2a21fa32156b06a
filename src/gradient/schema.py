"""The data contract: column names, dtypes and CRS rules shared by every module.

Tables that pass between modules
--------------------------------
``patterns`` (from a source, one row per stop pattern)
    ``PATTERN_COLUMNS``: pattern_id, route_id, route_name, direction_id, n_trips,
    n_stops, geometry_source, plus a ``geometry`` column (LineString, EPSG:4326)
    holding the route geometry the distances were measured on.
``pattern_stops`` (from a source, one row per stop per pattern)
    ``PATTERN_STOP_COLUMNS``: pattern_id, stop_sequence (1..n), stop_id, stop_name,
    lon, lat (WGS84), dist_m (metres from the pattern's first stop, never decreasing).
``areas`` (from :mod:`gradient.areas.load`)
    ``AREA_COLUMNS``: area_id (string), le (years), le_se (years), geometry
    (EPSG:4326). Missing life expectancy is NaN, never 0.

Outward files (``stops.csv`` and ``patterns.csv``) have exactly the columns of
``STOPS_CSV_COLUMNS`` and ``PATTERNS_CSV_COLUMNS``, in that order; ``docs/CONTRACT.md``
gives their meanings.

CRS rules
---------
Geometry is stored and exchanged in WGS84 (``WGS84``). Distances and areas are
measured only in a metric CRS: a local UTM zone (:func:`metric_crs`) unless the
caller gives one. A layer without a CRS is an error, never a silent guess.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
from pyproj import CRS

from .options import LE_PLAUSIBLE as _LE_PLAUSIBLE

WGS84 = "EPSG:4326"

PATTERN_COLUMNS = [
    "pattern_id",
    "route_id",
    "route_name",
    "direction_id",
    "n_trips",
    "n_stops",
    "geometry_source",
]
"""Columns of the ``patterns`` table a source returns (plus ``geometry``)."""

GEOMETRY_SOURCES = ("shape", "route_line", "street_network", "straight_line")
"""How a pattern's geometry was made, in ``patterns.geometry_source``."""

PATTERN_STOP_COLUMNS = [
    "pattern_id",
    "stop_sequence",
    "stop_id",
    "stop_name",
    "lon",
    "lat",
    "dist_m",
]
"""Columns of the ``pattern_stops`` table a source returns."""

AREA_COLUMNS = ["area_id", "le", "le_se", "geometry"]
"""Columns of the ``areas`` GeoDataFrame."""

OPTIONAL_AREA_COLUMNS = ["population", "area_name", "context", "le_doubt"]
"""Columns an ``areas`` GeoDataFrame has when its source gives them: the population or
person-years behind each estimate (used to weight catchments by density), a name readers
know, a second measure, and the publisher's own doubt about an estimate (``implausible``)."""

ASSIGNMENT_COLUMNS = ["stop_id", "area_id", "le", "le_se"]
"""Columns of the stop to life expectancy assignment."""

STOPS_CSV_COLUMNS = [
    "pattern_id",
    "route_id",
    "route_name",
    "direction_id",
    "stop_sequence",
    "stop_id",
    "stop_name",
    "lon",
    "lat",
    "dist_m",
    "area_id",
    "le",
    "le_se",
    "le_delta",
]
"""Columns of ``stops.csv``, in order (the outward contract)."""

PATTERNS_CSV_COLUMNS = [
    "pattern_id",
    "route_id",
    "route_name",
    "direction_id",
    "n_trips",
    "n_stops",
    "n_stops_le",
    "first_stop",
    "last_stop",
    "length_m",
    "le_first",
    "le_last",
    "le_min",
    "le_max",
    "le_range",
    "max_drop",
    "max_drop_from",
    "max_drop_to",
    "slope_per_km",
    "slope_ci_low",
    "slope_ci_high",
    "rank",
    "le_change",
    "le_change_ci_low",
    "le_change_ci_high",
    "le_change_significant",
    "steepest_fall",
    "steepest_fall_from",
    "steepest_fall_to",
    "steepest_fall_ci_low",
    "steepest_fall_ci_high",
    "steepest_fall_significant",
    "headline",
]
"""Columns of ``patterns.csv``, in order (the outward contract)."""

CONTEXT_STOPS_COLUMNS = ["context"]
"""With a second measure (``--context``), ``stops.csv`` has these right after the contract's."""

CONTEXT_PATTERNS_COLUMNS = ["context_first", "context_last", "context_le_corr"]
"""With a second measure (``--context``), ``patterns.csv`` has these right after the contract's."""

CONTEXT_PATTERNS_EXTRA_COLUMNS = ["context_n_areas", "context_note"]
"""With a second measure, ``patterns.csv`` also ends with these (``docs/COLUMNS.md``)."""

STOPS_EXTRA_COLUMNS = [
    "area_name",
    "area_doubt",
    "minutes",
    "n_areas",
    "weighting",
    "le_delta_se",
    "le_delta_z",
    "le_delta_p",
    "le_delta_significant",
]
"""Columns ``stops.csv`` carries after the contract's (``docs/COLUMNS.md``)."""

STOPS_SHORT_COLUMNS = ["area_name", "area_doubt"]
"""The extra columns of the default (short) ``stops.csv``; ``--wide`` writes them all."""

PATTERNS_SHORT_COLUMNS = [
    "route_story",
    "rank_low",
    "rank_high",
    "lead",
    "story_label",
    "lead_robustness",
    "le_change_robustness",
    "steepest_fall_robustness",
    "sparse",
    "credit",
]
"""The extra columns of the default (short) ``patterns.csv``, right after the contract's:
which row tells the route's story, how sure its place is, what it leads with and how robust
that is, and the credit. ``--wide`` writes every column of :data:`PATTERNS_EXTRA_COLUMNS`."""

PATTERNS_EXTRA_COLUMNS = PATTERNS_SHORT_COLUMNS + [
    "takeaway",
    "geometry_source",
    "n_areas_le",
    "max_gap_m",
    "le_first_se",
    "le_last_se",
    "le_change_se",
    "le_change_from",
    "le_change_to",
    "le_change_from_seq",
    "le_change_to_seq",
    "le_change_stops",
    "change_supported",
    "le_range_ci_low",
    "le_range_significant",
    "le_range_from",
    "le_range_to",
    "le_range_from_seq",
    "le_range_to_seq",
    "le_range_falls",
    "steepest_fall_se",
    "steepest_fall_from_seq",
    "steepest_fall_to_seq",
    "steepest_fall_stops",
    "max_drop_se",
    "max_drop_from_seq",
    "max_drop_to_seq",
    "max_drop_ci_low",
    "max_drop_ci_high",
    "max_drop_significant",
    "max_drop_robustness",
    "slope_se",
    "slope_per_10min",
    "slope_10min_ci_low",
    "slope_10min_ci_high",
    "gen_slope_per_km",
    "gen_slope_ci_low",
    "gen_slope_ci_high",
    "gen_tau",
    "rank_range",
    "route_supported",
    "story_routes",
    "lead_fall",
    "lead_low",
    "lead_high",
    "lead_from",
    "lead_to",
    "lead_from_area",
    "lead_to_area",
    "lead_from_area_name",
    "lead_to_area_name",
    "lead_hops",
    "lead_steps",
    "story_from_seq",
    "story_to_seq",
    "doubt_names",
    "first_area_name",
    "last_area_name",
    "le_change_from_area_name",
    "le_change_to_area_name",
]
"""Columns ``patterns.csv`` carries after the contract's with ``--wide`` (``docs/COLUMNS.md``)."""

STRETCHES_CSV_COLUMNS = [
    "stretch_id",
    "from_stop",
    "to_stop",
    "from_area",
    "to_area",
    "from_area_name",
    "to_area_name",
    "n_stops",
    "length_m",
    "le_from",
    "le_to",
    "le_fall",
    "le_fall_ci_low",
    "le_fall_ci_high",
    "le_fall_significant",
    "routes",
    "n_routes",
    "area_doubt",
    "sentence",
]
"""Columns of ``stretches.csv``, in order (the outward contract)."""

STRETCHES_EXTRA_COLUMNS = ["le_fall_robustness", "supported", "pattern_id", "from_seq", "to_seq"]
"""Columns ``stretches.csv`` carries after the contract's (``docs/COLUMNS.md``)."""

LE_PLAUSIBLE = _LE_PLAUSIBLE
"""Life expectancy at birth outside this range (years) is refused as implausible
(:data:`gradient.options.LE_PLAUSIBLE`, where the command line reads it before anything heavy)."""

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(text: str, max_len: int = 60) -> str:
    """Return ``text`` as a harmless file-name fragment.

    Anything but ASCII letters, digits, ``.``, ``_`` and ``-`` becomes ``_``; leading
    dots are dropped so ``..`` can never climb out of a folder.

    Examples
    --------
    >>> safe_name("../../x")
    'x'
    >>> safe_name("N1 Night/Express")
    'N1_Night_Express'
    """
    cleaned = _UNSAFE.sub("_", str(text)).strip("._")
    return cleaned[:max_len] or "_"


_RESERVED = re.compile(r"^(?:con|prn|aux|nul|com[0-9]|lpt[0-9])(?:\..*)?$", re.IGNORECASE)
"""Names Windows reserves for devices, with any extension (``nul.x`` is ``NUL`` too)."""


def safe_file_name(text: str, max_len: int = 60) -> str:
    """Return ``text`` as a file or folder name every common file system takes as a plain name.

    :func:`safe_name` (ASCII letters, digits, ``.``, ``_`` and ``-`` only: no path
    separator, no control character, no leading or trailing dot or space), and never
    a name Windows reserves for a device (``CON``, ``PRN``, ``AUX``, ``NUL``,
    ``COM0``-``COM9``, ``LPT0``-``LPT9``, with any extension): those get a leading ``_``.

    Examples
    --------
    >>> [safe_file_name(t) for t in ["nul.x", "Con", "lpt1.tar.gz", "console", "8-0-1"]]
    ['_nul.x', '_Con', '_lpt1.tar.gz', 'console', '8-0-1']
    """
    name = safe_name(text, max_len)
    return f"_{name}"[:max_len] if _RESERVED.match(name) else name


def file_stems(ids: Sequence[str], max_len: int = 60) -> dict[str, str]:
    """A file-name stem for each id, unique (also ignoring case) and at most ``max_len`` characters.

    An id that is already a safe file name (:func:`safe_file_name`: never a name Windows
    reserves, such as ``nul.x``) of at most ``max_len`` characters is its own stem; any
    other (cut, or with characters replaced) gets ``-`` and the first 8 hex digits of
    its SHA-1, so that two ids never share a file, on any file system.

    Examples
    --------
    >>> file_stems(["8-0-1", "N1 Night/Express-0-1"])
    {'8-0-1': '8-0-1', 'N1 Night/Express-0-1': 'N1_Night_Express-0-1-7385d632'}
    """

    def hashed(text: str) -> str:
        return f"{safe_file_name(text, max_len - 9)}-{hashlib.sha1(text.encode('utf-8')).hexdigest()[:8]}"

    stems = {i: (str(i) if safe_file_name(i, max_len) == str(i) else hashed(str(i))) for i in dict.fromkeys(ids)}
    folded = pd.Series(list(stems.values())).str.lower()
    for i, clash in zip(list(stems), folded.duplicated(keep=False)):
        if clash:
            stems[i] = hashed(str(i))
    return stems


def pattern_ids(patterns: pd.DataFrame) -> pd.Series:
    """Readable, file-name-safe, unique pattern ids: ``<route>-<direction>-<rank>``.

    Every source names its patterns with this, from ``route_id``, ``direction_id``
    (``x`` where missing) and ``rank`` (1 for a route and direction's main pattern).
    Two route ids that sanitise alike are told apart by a suffix.
    """
    direction = patterns["direction_id"].astype("string").fillna("x")
    base = patterns["route_id"].map(safe_name) + "-" + direction + "-" + patterns["rank"].astype(str)
    clash = base.duplicated(keep=False)
    if clash.any():  # two route ids that sanitise alike: disambiguate by position
        base[clash] = base[clash] + "-r" + patterns.loc[clash, "route_id"].factorize()[0].astype(str)
    return base.astype("string")


def metric_crs(lon: np.ndarray | pd.Series, lat: np.ndarray | pd.Series) -> CRS:
    """Return the WGS84 UTM zone CRS that covers the median of these points.

    Parameters
    ----------
    lon, lat : array-like
        WGS84 degrees.

    Returns
    -------
    pyproj.CRS
        A metric CRS (EPSG:326zz north of the equator, 327zz south) for measuring
        lengths and areas. The zone is the standard 6-degree one (the Norway and
        Svalbard exceptions are not applied: lengths there are still metric).

    Notes
    -----
    pyproj's ``query_utm_crs_info`` (behind geopandas' ``estimate_utm_crs``) gives the same
    zone for a point, except on a zone's edge and in those exceptions, but costs about
    45 ms a call, against these three lines; the zone is chosen once per table.

    Examples
    --------
    >>> metric_crs([-82.46], [27.95]).to_epsg()  # Tampa
    32617
    >>> metric_crs([-0.12], [51.5]).to_epsg()  # London
    32630
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        raise ValueError("metric_crs: no finite coordinates to choose a UTM zone from")
    x, y = float(np.median(lon[ok])), float(np.median(lat[ok]))
    zone = min(int((x + 180) // 6) + 1, 60)
    return CRS.from_epsg((32600 if y >= 0 else 32700) + zone)
