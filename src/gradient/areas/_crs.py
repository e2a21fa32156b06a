"""The CRS a caller names, checked without loading the geometry stack (the command line checks it first)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import AreasError

if TYPE_CHECKING:
    from pyproj import CRS


def crs_of(crs: str | None, param: str) -> CRS | None:
    """The CRS the caller named, or None; an unknown one is an error naming the parameter."""
    if crs is None:
        return None
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        return CRS.from_user_input(crs)
    except (CRSError, TypeError, ValueError) as exc:
        raise AreasError(
            f"{param}={crs!r} is not a CRS pyproj knows ({exc}); give e.g. EPSG:27700 or EPSG:4326", param=param
        ) from exc
