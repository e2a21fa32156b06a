"""The real data bundled in the project's ``data/raw/`` (see ``data/raw/README.md``)."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import GradientError

FILES = {
    "hart_gtfs": "tampa/hart_gtfs_2018.zip",
    "hillsborough_tracts": "tampa/hillsborough_tracts_2010.geojson",
    "usaleep": "usa/US_A.CSV",
    "msoa_boundaries": "england/msoa2011_bgc.topojson",
    "ons_msoa_le": "england/REQ3292_LifeExpectancy_2011MSOAs_England_2016_to_2020.xlsx",
    "tfl_sequences": "london/tfl_bus_sequences_2018-07.tsv",
    "tfl_route_lines": "london/tfl_bus_route_lines_2018-07.geojson",
    "westminster_drive": "london/osm/westminster_drive_2024-02.graphml",
    "city_of_london_drive": "london/osm/city_of_london_drive_2024-02.osm",
    "moorgate_walk": "london/osm/moorgate_walk.osm",
}
"""Bundled data sets by name, relative to the raw data folder."""


def data_dir() -> Path:
    """The raw data folder: ``$GRADIENT_DATA`` if set, else the checkout's ``data/raw``."""
    env = os.environ.get("GRADIENT_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "data" / "raw"


def get_path(name: str) -> Path:
    """Path of a bundled data set.

    Parameters
    ----------
    name : str
        One of ``FILES``.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    GradientError
        If the name is unknown (the message lists the known ones) or the file is
        not there (a checkout without ``data/raw``; set ``GRADIENT_DATA``).

    Examples
    --------
    >>> get_path("hart_gtfs").name
    'hart_gtfs_2018.zip'
    """
    if name not in FILES:
        raise GradientError(f"unknown data set {name!r}; choose one of {', '.join(sorted(FILES))}")
    path = data_dir() / FILES[name]
    if not path.exists():
        raise GradientError(
            f"bundled data set {name!r} not found at {path}; run from a checkout of gradient "
            "or set GRADIENT_DATA to its data/raw folder"
        )
    return path
