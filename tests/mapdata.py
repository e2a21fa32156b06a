"""Data for the map and browser tests: the real HART run, and a city-scale network from it.

:func:`hart` runs the bundled HART feed against the USALEEP tracts once per test
session. London has about 700 bus route patterns; HART has 85. :func:`replicate`
copies HART's patterns (real geometry and real figures) onto a grid of shifted copies
until there are ``n`` of them, so size and browser tests see a network of London's order.
"""

from __future__ import annotations

import functools
import warnings

import geopandas as gpd
import pandas as pd
import shapely

from gradient import areas, datasets, pipeline

HART_LABELS = pipeline.Labels("CDC/NCHS USALEEP", "2010-2015", "persons", "HART GTFS 2018")


@functools.cache
def hart() -> tuple[pipeline.Result, gpd.GeoDataFrame]:
    """The HART run (every main pattern) and the tracts it used, computed once."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tracts = areas.load_areas(datasets.get_path("hillsborough_tracts"), datasets.get_path("usaleep"), "usaleep")
        result = pipeline.run(datasets.get_path("hart_gtfs"), tracts, labels=HART_LABELS)
    return result, tracts


def replicate(
    patterns: pd.DataFrame, geometry: gpd.GeoDataFrame, n: int = 700, step_deg: float = 0.35
) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """``n`` patterns: HART's, then copies shifted by ``step_deg`` on a grid, ids made unique.

    Returns
    -------
    patterns, geometry
        Like ``Result.patterns`` and ``Result.geometry``, with ``n`` rows each.
    """
    geo = geometry.set_index("pattern_id").geometry
    rows, geoms = [], []
    copy = 0
    while len(rows) < n:
        dx, dy = step_deg * (copy % 3), step_deg * (copy // 3)
        for _, row in patterns.iterrows():
            if len(rows) == n:
                break
            row = row.copy()
            row["pattern_id"] = f"{row['pattern_id']}~{copy}"
            row["route_name"] = f"{row['route_name']}{'' if copy == 0 else chr(ord('a') + copy - 1)}"
            rows.append(row)
            geoms.append(shapely.affinity.translate(geo[row["pattern_id"].split("~")[0]], dx, dy))
        copy += 1
    table = pd.DataFrame(rows).reset_index(drop=True)
    gdf = gpd.GeoDataFrame({"pattern_id": table["pattern_id"]}, geometry=geoms, crs=geometry.crs)
    return table, gdf
