"""Areas: small areas with life expectancy, their boundaries, names and other measures.

The data's second starting point, beside the sources:

- :func:`load_areas` (:mod:`gradient.areas.load`): a boundary file joined to a life expectancy
  table (USALEEP, ONS MSOA tables, or any table);
- :func:`add_names`, :func:`add_population`, :func:`add_context`
  (:mod:`gradient.areas.attributes`): a name readers know, a population, a second measure.

Private helpers: ``_letable`` (checks on a table), ``_boundaries`` and ``_crs`` (checks on
boundaries).
"""

from typing import TYPE_CHECKING

from .._lazy import attach

__getattr__, __dir__ = attach(
    __name__,
    {
        "Areas": "dataset",
        "as_areas": "dataset",
        "load_areas": "load",
        "read_boundaries": "load",
        "read_le_table": "load",
        "read_ons_msoa": "load",
        "read_usaleep": "load",
        "join_areas": "load",
        "add_names": "attributes",
        "add_population": "attributes",
        "add_context": "attributes",
    },
)

__all__ = [
    "Areas",
    "as_areas",
    "add_context",
    "add_names",
    "add_population",
    "join_areas",
    "load_areas",
    "read_boundaries",
    "read_le_table",
    "read_ons_msoa",
    "read_usaleep",
]

if TYPE_CHECKING:  # pragma: no cover
    from .attributes import add_context, add_names, add_population
    from .dataset import Areas, as_areas
    from .load import join_areas, load_areas, read_boundaries, read_le_table, read_ons_msoa, read_usaleep
