"""Checks on a boundary file once read: its CRS and its geometries (see :func:`gradient.areas.load.read_boundaries`)."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from ..errors import AreasError, GradientWarning
from ..schema import WGS84

WGS84_BY_SPEC = {".geojson", ".json", ".topojson"}
"""Formats whose specification fixes WGS84 longitude/latitude when no CRS is declared."""

POLYGON_TYPES = (3, 6)
"""Shapely type ids of the geometries a boundary may be: Polygon and MultiPolygon."""


def settle_crs(gdf: gpd.GeoDataFrame, given: CRS | None, crs: str | None, path: Path) -> gpd.GeoDataFrame:
    """The boundaries in EPSG:4326, from the CRS they declare, the one given, or their format's.

    Raises
    ------
    AreasError
        If the file declares a CRS other than the one given, declares none where its
        format fixes none and none is given, or its coordinates do not fit the CRS.
    """
    if gdf.crs is not None and given is not None and not gdf.crs.equals(given):
        raise AreasError(
            f"declares the CRS {gdf.crs.to_string()}, but crs={crs!r} was given; give none (the file's is used) "
            "or fix the file",
            path,
            param="crs",
        )
    if gdf.crs is None:
        if given is not None:
            gdf = gdf.set_crs(given)
        elif path.suffix.lower() in WGS84_BY_SPEC:
            gdf = gdf.set_crs(WGS84)
        else:
            raise AreasError("declares no CRS; give it with --areas-crs (e.g. EPSG:27700)", path)
    if gdf.crs.is_projected:
        x0, y0, x1, y1 = gdf.total_bounds
        if -180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90:
            raise AreasError(
                f"coordinates look like longitude/latitude degrees, but the CRS is {gdf.crs.to_string()} "
                "(metres); fix the file's CRS or give the right one with --areas-crs",
                path,
            )
    gdf = gdf.to_crs(WGS84)
    minx, miny, maxx, maxy = gdf.total_bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise AreasError(
            "coordinates do not fit the CRS (they are out of longitude/latitude range after "
            "conversion); check --areas-crs",
            path,
        )
    return gdf


def clean_geometries(gdf: gpd.GeoDataFrame, path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The geometries with invalid polygons repaired (warned), and which are empty and which were repaired.

    Raises
    ------
    AreasError
        If a feature that is not empty is not a Polygon or MultiPolygon (points,
        lines, collections), with the count of each type.
    """
    geom = np.asarray(gdf.geometry.array)
    empty = shapely.is_empty(geom) | shapely.is_missing(geom)
    if empty.any():
        warnings.warn(f"{path}: dropped {int(empty.sum())} empty geometries", GradientWarning, stacklevel=2)
    geom = np.where(empty, geom, _areas_only(geom))  # a collection holding areas (and stray lines) is an area
    kinds = pd.Series(shapely.get_type_id(geom))[~empty]
    other = ~kinds.isin(list(POLYGON_TYPES))  # Polygon, MultiPolygon
    if other.any():
        counts = pd.Series(np.asarray(gdf.geom_type)[~empty][other.to_numpy()]).value_counts()
        raise AreasError(
            f"{int(other.sum())} of {len(kinds)} features are not polygons "
            f"({', '.join(f'{n} {kind}' for kind, n in counts.items())}); boundaries must be areas "
            "(Polygon or MultiPolygon)",
            path,
        )
    invalid = ~shapely.is_valid(geom) & ~empty
    if invalid.any():
        warnings.warn(
            f"{path}: repaired {int(invalid.sum())} of {len(geom)} polygons that were invalid (make_valid)",
            GradientWarning,
            stacklevel=2,
        )
        geom[invalid] = _areas_only(shapely.make_valid(geom[invalid]))
    return geom, empty, invalid


def _areas_only(geom: np.ndarray) -> np.ndarray:
    """Geometry collections (as ``make_valid`` or a file may give) reduced to their polygons.

    A collection without any polygon is left as it is, so that it is refused by name.
    """
    out = np.asarray(geom, dtype=object).copy()
    collection = shapely.get_type_id(out) == 7
    for i in np.flatnonzero(collection):
        parts = shapely.get_parts(out[i])
        polys = [p for p in parts if shapely.get_type_id(p) in (3, 6)]
        if polys:
            out[i] = shapely.union_all(polys)
    return out
