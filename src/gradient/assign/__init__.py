"""Assign: which small areas' estimates each stop takes, and with what weights.

- :func:`assign` (:mod:`gradient.assign.catchments`): by the area a stop stands in
  (``point``), the areas within a radius (``buffer``) or along the streets within a walk
  (``network``); :func:`context_at_stops`, a second measure taken with the same weights;
- :func:`load_network` and :func:`street_geometry` (:mod:`gradient.assign.streets`):
  OpenStreetMap street networks for walking catchments and for routing patterns that have
  no line; :func:`read_streets` (:mod:`gradient.assign.networkfiles`), a network's files read
  once into arrays (:mod:`gradient.assign.netarrays`) and cached; walks searched where walkers can go in
  :mod:`gradient.assign.walks`.
"""

from typing import TYPE_CHECKING

from .._lazy import attach

__getattr__, __dir__ = attach(
    __name__,
    {
        "assign": "catchments",
        "assign_point": "catchments",
        "assign_buffer": "catchments",
        "assign_network": "catchments",
        "context_at_stops": "catchments",
        "load_network": "streets",
        "download_network": "streets",
        "street_geometry": "streets",
        "read_streets": "networkfiles",
    },
)

__all__ = [
    "assign",
    "assign_buffer",
    "assign_network",
    "assign_point",
    "context_at_stops",
    "download_network",
    "load_network",
    "read_streets",
    "street_geometry",
]

if TYPE_CHECKING:  # pragma: no cover
    from .catchments import assign, assign_buffer, assign_network, assign_point, context_at_stops
    from .networkfiles import read_streets
    from .streets import download_network, load_network, street_geometry
