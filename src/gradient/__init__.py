"""gradient: how life expectancy changes stop by stop along public transport routes.

The front door::

    import gradient

    tracts = gradient.load_areas(gradient.datasets.get_path("hillsborough_tracts"),
                                 gradient.datasets.get_path("usaleep"), "usaleep")
    result = gradient.run(gradient.datasets.get_path("hart_gtfs"), tracts, gradient.Options(method="buffer"))
    gradient.write_outputs(result, "data/processed/hart")

- :func:`run` (a GTFS feed or TfL's bus sequences against life expectancy areas, every
  option in :class:`Options`) returns a :class:`Result` of tables;
- :func:`load_areas` reads boundaries and a life expectancy table;
- :func:`read_feed`, :func:`stop_patterns`, :func:`read_tfl_sequences`, :func:`read_sequences`
  are the sources (a GTFS feed, TfL's bus sequences, any table of stops in order);
- :func:`sensitivity` reruns the patterns under several catchment methods;
- :func:`write_outputs` writes the tables, maps and charts; :mod:`gradient.present` draws;
- :mod:`gradient.datasets` finds the bundled real data, and :func:`fetch` downloads official
  sources by name into a cache (GTFS feeds, US tracts, USALEEP, England and Wales' MSOAs, ONS
  life expectancy, OpenStreetMap walking networks); every error type is here too.

Importing ``gradient`` is cheap and changes one thing only, how gradient's own warnings
print (one line, ``gradient: warning: ...``, with no file or source line;
:func:`gradient.errors.format_warning`): the names above load their modules on first use,
and nothing loads matplotlib, folium or statsmodels until something is drawn.
"""

from __future__ import annotations

import warnings
from importlib import import_module
from typing import TYPE_CHECKING

from .errors import (
    AreasError,
    ChartError,
    DataSetError,
    EmbedError,
    FeedError,
    FetchError,
    GradientError,
    GradientWarning,
    InputError,
    MissingExtraError,
    NetworkError,
    NetworkMapError,
    OptionError,
    OutputError,
    PresentationError,
    format_warning,
)
from .options import Options

warnings.formatwarning = format_warning  # gradient's warnings as one line; every other warning as before

__version__ = "0.2.0"

_LAZY = {
    "run": "pipeline",
    "run_patterns": "pipeline",
    "read_source": "pipeline",
    "Result": "pipeline",
    "Labels": "credits",
    "Credit": "credits",
    "Areas": "areas",
    "load_areas": "areas",
    "read_feed": "sources",
    "stop_patterns": "sources",
    "Feed": "sources",
    "read_tfl_sequences": "sources",
    "read_sequences": "sources",
    "sensitivity": "_sensitivity",
    "sensitivity_summary": "_sensitivity",
    "write_outputs": "output",
    "load_network": "assign",
    "fetch": "fetching",
}
"""Front-door names and the module each comes from (imported on first use)."""

_MODULES = {
    "credits",
    "sources",
    "areas",
    "assign",
    "stats",
    "story",
    "present",
    "pipeline",
    "output",
    "batch",
    "cli",
    "datasets",
    "fetching",
    "schema",
    "options",
    "errors",
}

__all__ = [
    "__version__",
    "Areas",
    "AreasError",
    "Credit",
    "ChartError",
    "DataSetError",
    "datasets",
    "EmbedError",
    "Feed",
    "FeedError",
    "fetch",
    "FetchError",
    "GradientError",
    "GradientWarning",
    "InputError",
    "MissingExtraError",
    "Labels",
    "load_areas",
    "load_network",
    "NetworkError",
    "NetworkMapError",
    "OptionError",
    "Options",
    "OutputError",
    "PresentationError",
    "read_feed",
    "read_sequences",
    "read_source",
    "read_tfl_sequences",
    "Result",
    "run",
    "run_patterns",
    "sensitivity",
    "sensitivity_summary",
    "stop_patterns",
    "write_outputs",
]

if TYPE_CHECKING:  # pragma: no cover
    from . import datasets
    from ._sensitivity import sensitivity, sensitivity_summary
    from .areas import Areas
    from .areas.load import load_areas
    from .assign.streets import load_network
    from .credits import Credit, Labels
    from .fetching import fetch
    from .output import write_outputs
    from .pipeline import Result, read_source, run, run_patterns
    from .sources.gtfs import Feed, read_feed, stop_patterns
    from .sources.sequences import read_sequences
    from .sources.tfl import read_tfl_sequences


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
    elif name in _MODULES:
        value = import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'gradient' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | _MODULES)
