"""Sources: a transit feed's stops in order along its stop patterns, measured in metres.

The first stage of the data's path. Each reader turns one kind of published feed into the
two tables every later stage takes (:data:`gradient.schema.PATTERN_COLUMNS` and
:data:`gradient.schema.PATTERN_STOP_COLUMNS`):

- :func:`read_feed` and :func:`stop_patterns` (:mod:`gradient.sources.gtfs`): a GTFS zip or folder;
- :func:`read_sequences` (:mod:`gradient.sources.sequences`): any table of stops in order along
  patterns (CSV or Parquet), with shape points or route lines;
- :func:`read_tfl_sequences` (:mod:`gradient.sources.tfl`): TfL's bus sequences, in every
  published layout (one configuration of :func:`read_sequences`' core).

Private helpers: ``_gtfs_tables`` and ``_gtfs_read`` (reading), ``_feedcheck`` (checks),
``_trips``, ``_directions``, ``_times`` (trips to patterns), ``_measure`` and ``_geometry``
(distances along a line), ``_lines`` (route lines matched by fit), ``_routes`` (which routes a
caller asked for).
"""

from typing import TYPE_CHECKING

from .._lazy import attach

__getattr__, __dir__ = attach(
    __name__,
    {
        "Feed": "gtfs",
        "read_feed": "gtfs",
        "stop_patterns": "gtfs",
        "read_tfl_sequences": "tfl",
        "read_sequences": "sequences",
    },
)

__all__ = ["Feed", "read_feed", "read_sequences", "read_tfl_sequences", "stop_patterns"]

if TYPE_CHECKING:  # pragma: no cover
    from .gtfs import Feed, read_feed, stop_patterns
    from .sequences import read_sequences
    from .tfl import read_tfl_sequences
