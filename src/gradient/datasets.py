"""The real data bundled with `gradient` (provenance and licences: ``data/raw/README.md``).

The files live in the project's ``data/raw/`` (31 MB, with their provenance in its README):
a checkout has them, the wheel does not (it carries the code only). ``$GRADIENT_DATA``
points at a folder with the same layout, e.g. a copy of ``data/raw`` beside an installed
package; :func:`gradient.fetch` downloads official sources by name.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import DataSetError

FILES = {
    "hart_gtfs": "tampa/hart_gtfs_2018.zip",
    "hillsborough_tracts": "tampa/hillsborough_tracts_2010.geojson",
    "usaleep": "usa/US_A.CSV",
    "us_tract_population": "usa/cenpop2010_tract.csv",
    "msoa_boundaries": "england/msoa2011_bgc.topojson",
    "ons_msoa_le_2009_2013": "england/ons_le_hle_msoa_england_2009_2013.xls",
    "ohid_msoa_le_2015_2019": "england/ohid_local_health_msoa_le_2015_2019.csv",
    "ons_msoa_le": "england/REQ3292_LifeExpectancy_2011MSOAs_England_2016_to_2020.xlsx",
    "msoa_names": "england/MSOA-Names-1.10.csv",
    "imd2019_msoa": "england/imd2019_msoa11_england.csv",
    "tfl_sequences": "london/tfl_bus_sequences_2018-07.tsv",
    "tfl_route_lines": "london/tfl_bus_route_lines_2018-07.geojson",
    "westminster_drive": "london/osm/westminster_drive_2024-02.graphml",
    "city_of_london_drive": "london/osm/city_of_london_drive_2024-02.osm",
    "moorgate_walk": "london/osm/moorgate_walk.osm",
}
"""Bundled data sets by name, relative to the data folder."""

_CHECKOUT = Path(__file__).resolve().parents[2] / "data" / "raw"


def data_dir() -> Path:
    """The folder holding the bundled data.

    Returns
    -------
    pathlib.Path
        ``$GRADIENT_DATA`` if set, else the checkout's ``data/raw``.
    """
    env = os.environ.get("GRADIENT_DATA")
    return Path(env) if env else _CHECKOUT


def names() -> list[str]:
    """The names of the bundled data sets, sorted."""
    return sorted(FILES)


def get_path(name: str) -> Path:
    """Path of a bundled data set.

    Parameters
    ----------
    name : str
        One of :func:`names` (the keys of ``FILES``).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    DataSetError
        If the name is unknown (the message lists the known ones) or the file is
        not there (``$GRADIENT_DATA`` pointing at a folder without it).

    Examples
    --------
    >>> get_path("hart_gtfs").name
    'hart_gtfs_2018.zip'
    """
    if name not in FILES:
        raise DataSetError(f"unknown data set {name!r}; choose one of {', '.join(names())}")
    path = data_dir() / FILES[name]
    if not path.exists():
        raise DataSetError(
            f"bundled data set {name!r} not found at {path}: the bundled data comes with a checkout of gradient "
            "(its data/raw), not with the wheel; set GRADIENT_DATA to a copy of data/raw"
        )
    return path
