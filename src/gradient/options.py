"""Every option of a run in one frozen object, and the defaults and constants behind them.

:class:`Options` is what :func:`gradient.run`, :func:`gradient.write_outputs`,
:func:`gradient.batch.run_batch` and the command line all take: the command line builds
its flags from the fields' metadata (flag, help, choices) and their defaults, so
nothing is written twice. An :class:`Options` checks itself when made: a value out of
range raises :class:`~gradient.errors.OptionError` naming the parameter.

This module imports nothing heavy: the command line reads it before anything loads.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import MISSING, dataclass, field, fields, replace
from os import PathLike
from typing import Any

from .errors import OptionError

# --- constants -------------------------------------------------------------------------

Z95 = 1.959963984540054
"""The 0.975 quantile of the standard normal: half-width of a 95% interval in standard errors."""

RADIUS_M = 200.0
"""Default buffer radius (metres), as in the London tube map that averaged wards within 200 m."""

WALK_M = 400.0
"""Default walk (metres along the streets) of the ``network`` method: about five minutes."""

NEAREST_M = 250.0
"""A stop outside every area takes the nearest one within this distance (metres)."""

SNAP_M = 100.0
"""A stop within this distance (metres) of a street is taken to lie on the network."""

STRETCH_K = 5
"""Default longest stretch (stop-to-stop hops) searched for the steepest fall."""

ALPHA = 0.05
"""Default significance level: intervals are ``1 - alpha`` (95%)."""

DRAWS = 20_000
"""Default number of simulated draws of the area errors for simultaneous intervals (the Monte
Carlo error of a critical value is then under 1%: ``docs/METHODS.md``)."""

SE_SCALE = 1.25
"""A sentence states a change only if it holds with every published standard error this many
times wider (published errors count deaths only, not the error of the population estimates,
migration or communal establishments: ``docs/METHODS.md``)."""

SEED = 20261201
"""Seed of every simulation: the same inputs always give the same numbers."""

METHODS = ("point", "buffer", "network")
"""How a stop takes its areas (:func:`gradient.assign.catchments.assign`)."""

CORRECTIONS = ("holm", "fdr_by", "fdr_bh", "none")
"""Multiple-comparison corrections of the stop-to-stop tests (``docs/METHODS.md``)."""

FAMILIES = ("network", "route")
"""Over what a simultaneous interval or a correction holds: every route of the run at once, or
each route (both directions, every pattern) on its own. ``"pattern"``, the old name of
``"route"``, is still accepted."""

LE_PLAUSIBLE = (40.0, 110.0)
"""Life expectancy at birth outside this range (years) is refused as implausible: in a table
(:data:`gradient.schema.LE_PLAUSIBLE`) and as the centre of the colour scale."""

LIMITS = {
    "radius_m": (1.0, 5_000.0),
    "walk_m": (1.0, 10_000.0),
    "stretch_k": (1, 50),
    "draws": (200, 1_000_000),
    "maps": (0, 1_000),
    "se_scale": (1.0, 10.0),
    "alpha": (1e-6, 0.5),
    "scale_reference": LE_PLAUSIBLE,
}
"""The range each option accepts: a value outside it is refused with its range."""

DEFAULT_TILES = "Esri.WorldGrayCanvas"
"""Default basemap of the maps: light grey, no API key; folium adds its attribution."""

ENGINES = ("pyarrow", "gtfs-kit")
"""GTFS readers (:func:`gradient.sources.gtfs.read_feed`)."""

SCALE_REFERENCES = ("areas", "table")
"""Named references of the maps' colour scale (:func:`gradient.present.colours.reference_scale`);
a number is the third kind."""


def _opt(
    default: Any,
    flag: str,
    help: str,
    *,
    metavar: str | None = None,
    choices: tuple | None = None,
    commands: tuple[str, ...] = ("run", "batch"),
    **extra: Any,
) -> Any:
    """A dataclass field carrying what the command line needs to offer it."""
    meta = {"flag": flag, "help": help, "metavar": metavar, "choices": choices, "commands": commands, **extra}
    if isinstance(default, (list, dict, set)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Options:
    """The options of a run: how stops take their areas, what is tested, what is drawn.

    Parameters
    ----------
    method : {'point', 'buffer', 'network'}, default 'point'
        How a stop takes life expectancy (:func:`gradient.assign.catchments.assign`): the area it
        stands in, the areas within ``radius_m``, or the areas along the streets within
        ``walk_m`` of walking (needs ``network``).
    radius_m : float, default 200
        Buffer radius, metres (``buffer``, and the fallback of ``network``).
    network : path, sequence of paths, networkx.MultiDiGraph or StreetArrays, optional
        A street network (osmnx GraphML, OSM XML or OSM PBF files, a loaded graph,
        :func:`gradient.assign.streets.load_network`, or its arrays,
        :func:`gradient.assign.networkfiles.read_streets`): walking catchments for
        ``method='network'`` and street-following lines for patterns without route
        geometry.
    walk_m : float, default 400
        Walk along the streets for ``method='network'``, metres.
    network_cache : path, optional
        Folder where street network files, once read, are kept as arrays (keyed by each
        file's SHA-256), so the next run on the same network starts in seconds
        (:func:`gradient.assign.networkfiles.read_streets`); default ``$GRADIENT_NETWORK_CACHE``
        or the user's cache folder (never the run's output folder).
    alpha : float, default 0.05
        Significance level; every interval is ``1 - alpha``.
    correction : {'holm', 'fdr_by', 'fdr_bh', 'none'}, default 'holm'
        Multiple-comparison correction of the stop-to-stop tests within each family:
        Holm (family-wise error, any dependence), Benjamini-Yekutieli (false discovery
        rate, any dependence), Benjamini-Hochberg (not guaranteed here: neighbouring
        changes share an area and are negatively correlated) or none.
    family : {'network', 'route'}, default 'network'
        Over what every interval, flag and sentence holds: every route of the run at once
        (any ranked list, map or sentence chosen from the network keeps its level), or each
        route on its own, both directions together (for a route chosen beforehand).
    se_scale : float, default 1.25
        A sentence states a change only where the claim holds with every published
        standard error this many times wider; the tables keep the unwidened test.
    stretch_k : int, default 5
        Longest stretch, in stop-to-stop hops, searched for the steepest fall.
    draws : int, default 20000
        Simulated draws of the area errors behind simultaneous intervals.
    routes : tuple of str, optional
        Route names (``route_short_name`` or ``route_long_name``) or ids to keep.
    all_patterns : bool, default False
        Every distinct stop pattern, not only each route and direction's main one.
    engine : {'pyarrow', 'gtfs-kit'}, default 'pyarrow'
        GTFS reader (:func:`gradient.sources.gtfs.read_feed`).
    cluster : str, optional
        Read a GTFS feed's ``stop_times.txt`` on a dask.distributed cluster: ``"local"``
        (two worker processes on this machine) or a running scheduler's address
        (``tcp://host:8786``); each block of the file is parsed and collapsed on a worker
        and merged here, so the outputs are those of a run without it
        (:func:`gradient.sources.gtfs.read_patterns`). Needs the ``batch`` extra.
    wide : bool, default False
        :func:`gradient.write_outputs` writes every column of ``stops.csv`` and
        ``patterns.csv`` (``docs/COLUMNS.md``), not only the contract's and a short set.
    maps : int, default 5
        Maps and profiles for the top-ranked routes (:func:`gradient.write_outputs`).
    scale_reference : {'areas', 'table'} or float, default 'areas'
        The value the maps' and charts' colour scale is centred on and the legend names
        (:func:`gradient.present.colours.reference_scale`): the median of the areas the
        run's stops serve, the median of the whole life expectancy table (so maps made
        by several runs against one table share one scale), or a number of years the
        publisher sets.
    embed_base_url : str, optional
        The address the maps will be published under, e.g.
        ``"https://example.org/graphics/buses"``: each ``.iframe.html`` snippet then
        points at ``<embed_base_url>/<file>`` instead of the bare file name. http(s) only.

    Examples
    --------
    >>> Options(method="buffer").radius_m
    200.0
    >>> Options(alpha=5)
    Traceback (most recent call last):
    ...
    gradient.errors.OptionError: alpha=5 must be a number from 1e-06 to 0.5, e.g. 0.05 for 95% intervals
    """

    method: str = _opt("point", "--method", "how stops take their areas", choices=METHODS)
    radius_m: float = _opt(RADIUS_M, "--radius-m", "buffer radius, metres", metavar="M")
    network: Any = _opt(
        None,
        "--network",
        "street network(s), osmnx GraphML, OSM XML or OSM PBF: walking catchments "
        "for --method network, street-following lines where a pattern has no geometry",
        metavar="FILE",
        nargs="+",
        path=True,
    )
    walk_m: float = _opt(WALK_M, "--walk-m", "walk along the streets for --method network, metres", metavar="W")
    network_cache: Any = _opt(
        None,
        "--network-cache",
        "folder where --network files are kept as arrays once read, so the next run starts in seconds "
        "(default $GRADIENT_NETWORK_CACHE or the user's cache folder)",
        metavar="DIR",
    )
    alpha: float = _opt(ALPHA, "--alpha", "significance level; intervals are 1 - alpha", metavar="A")
    correction: str = _opt("holm", "--correction", "correction of the stop-to-stop tests", choices=CORRECTIONS)
    family: str = _opt(
        "network",
        "--family",
        "over what every interval and sentence holds: every route run at once, or each route on its own",
        choices=FAMILIES,
    )
    se_scale: float = _opt(
        SE_SCALE,
        "--se-scale",
        "a sentence states a change only if it holds with every standard error this many times wider",
        metavar="S",
    )
    stretch_k: int = _opt(
        STRETCH_K, "--stretch-k", "longest stretch (stops) searched for the steepest fall", metavar="K"
    )
    draws: int = _opt(DRAWS, "--draws", "simulated draws behind simultaneous intervals", metavar="N")
    routes: tuple[str, ...] | None = _opt(
        None, "--route", "route names or ids (default all)", metavar="NAME", nargs="+"
    )
    all_patterns: bool = _opt(
        False, "--all-patterns", "every distinct pattern, not only the main ones", action="store_true"
    )
    engine: str = _opt("pyarrow", "--engine", "GTFS reader", choices=ENGINES)
    cluster: str | None = _opt(
        None,
        "--cluster",
        "read a large GTFS feed's stop times on a dask cluster: 'local' or a scheduler's address "
        "(tcp://host:8786); the outputs are those of a run without it",
        metavar="ADDRESS",
        commands=("run",),
    )
    wide: bool = _opt(
        False, "--wide", "write every column of stops.csv and patterns.csv, not only the short set", action="store_true"
    )
    maps: int = _opt(5, "--maps", "maps and profiles for the N top-ranked routes", metavar="N", batch_default=0)
    scale_reference: Any = _opt(
        "areas",
        "--scale-reference",
        "centre of the maps' colour scale: 'areas' (median "
        "of the areas served), 'table' (median of the whole table) or a number of years",
        metavar="REF",
    )
    embed_base_url: str | None = _opt(
        None,
        "--embed-base-url",
        "address the maps will be published under; the iframe snippets point there",
        metavar="URL",
    )

    def __post_init__(self) -> None:
        if self.family == "pattern":  # the old name of a route's own family
            object.__setattr__(self, "family", "route")
        self._choose("method", METHODS)
        self._choose("correction", CORRECTIONS)
        self._choose("family", FAMILIES)
        self._choose("engine", ENGINES)
        self._number("radius_m", "metres, e.g. 200")
        self._number("walk_m", "metres, e.g. 400")
        self._number("alpha", "e.g. 0.05 for 95% intervals")
        self._number("se_scale", "e.g. 1.25 (1 for the published errors as they are)")
        self._whole("stretch_k", "e.g. 5")
        self._whole("draws", "e.g. 20000")
        self._whole("maps", "e.g. 5 (0 for none)")
        for name in ("all_patterns", "wide"):
            if not _is_bool(getattr(self, name)):
                raise OptionError(f"{name}={getattr(self, name)!r} must be True or False", param=name)
            object.__setattr__(self, name, bool(getattr(self, name)))
        self._scale_reference()
        self._embed_base_url()
        self._routes()
        if self.cluster is not None and (not isinstance(self.cluster, str) or not self.cluster.strip()):
            raise OptionError(
                f"cluster={self.cluster!r} must be 'local' or a dask scheduler's address, e.g. tcp://host:8786",
                param="cluster",
            )
        if isinstance(self.network, (str, PathLike)):
            object.__setattr__(self, "network", (self.network,))
        elif isinstance(self.network, list):
            object.__setattr__(self, "network", tuple(self.network))
        if self.method == "network" and self.network is None:
            raise OptionError(
                "method='network' needs a street network: give network=FILE (GraphML or OSM XML)", param="network"
            )

    def _routes(self) -> None:
        routes = self.routes
        if routes is None:
            return
        if isinstance(routes, (str, numbers.Integral)) and not _is_bool(routes):
            routes = (routes,)
        try:
            items = tuple(routes)
        except TypeError:
            items = None
        if items is None or not all(isinstance(r, (str, numbers.Integral)) and not _is_bool(r) for r in items):
            raise OptionError(
                f"routes={self.routes!r} must be a route name or id, or a list of them, e.g. ['25', 'N38']",
                param="routes",
            )
        object.__setattr__(self, "routes", tuple(str(r) for r in items) or None)

    def _scale_reference(self) -> None:
        value = self.scale_reference
        if isinstance(value, str) and value not in SCALE_REFERENCES:
            try:
                value = float(value)
            except ValueError:
                value = None
        low, high = LIMITS["scale_reference"]
        if value is None or not (isinstance(value, str) or (_is_number(value) and low <= float(value) <= high)):
            raise OptionError(
                f"scale_reference={self.scale_reference!r} is not one of {', '.join(SCALE_REFERENCES)} "
                f"or a number of years from {low:g} to {high:g}, e.g. 80",
                param="scale_reference",
            )
        object.__setattr__(self, "scale_reference", value if isinstance(value, str) else float(value))

    def _embed_base_url(self) -> None:
        if self.embed_base_url is not None:
            object.__setattr__(self, "embed_base_url", check_base_url(self.embed_base_url))

    def _choose(self, name: str, choices: tuple[str, ...]) -> None:
        value = getattr(self, name)
        if value not in choices:
            raise OptionError(f"{name}={value!r} is not one of {', '.join(choices)}", param=name)

    def _number(self, name: str, hint: str) -> None:
        value = getattr(self, name)
        low, high = LIMITS[name]
        if not _is_number(value) or not low <= float(value) <= high:
            raise OptionError(f"{name}={value!r} must be a number from {low:g} to {high:g}, {hint}", param=name)
        object.__setattr__(self, name, float(value))

    def _whole(self, name: str, hint: str) -> None:
        value = getattr(self, name)
        low, high = LIMITS[name]
        whole = _is_number(value) and float(value).is_integer()
        if not whole or not low <= value <= high:
            raise OptionError(f"{name}={value!r} must be a whole number from {low:,} to {high:,}, {hint}", param=name)
        object.__setattr__(self, name, int(value))

    def replace(self, **changes: Any) -> Options:
        """A copy with some options changed (checked like a new one).

        Options may also be named as the command line names them (:data:`ALIASES`:
        ``route="25"`` for ``routes``).
        """
        changes = {ALIASES.get(k, k): v for k, v in changes.items()}
        unknown = sorted(set(changes) - {f.name for f in fields(self)})
        if unknown:
            raise OptionError(
                f"unknown option(s) {', '.join(unknown)}; options are {', '.join(option_names())}", param=unknown[0]
            )
        return replace(self, **changes)

    @property
    def z(self) -> float:
        """Half-width of a ``1 - alpha`` interval in standard errors (normal)."""
        if self.alpha == ALPHA:
            return Z95
        from scipy.special import ndtri

        return float(ndtri(1 - self.alpha / 2))

    @property
    def level(self) -> str:
        """The interval level as people write it, e.g. ``"95%"``."""
        return f"{100 * (1 - self.alpha):g}%"


ALIASES = {"route": "routes"}
"""Option names as the command line spells them (``--route``), for the library's keywords too."""


def as_options(options: Any, param: str = "options") -> Options:
    """``options`` as :class:`Options`: itself, the defaults for None, or a mapping of option names.

    Every front door (:func:`gradient.run`, :func:`gradient.read_source`,
    :func:`gradient.write_outputs`, :func:`gradient.batch.run_batch`) takes its options
    through here, so a dict is checked exactly like ``Options(**d)``.

    Raises
    ------
    OptionError
        If it is something else, or names an option there is not, or a value out of range.

    Examples
    --------
    >>> as_options({"method": "buffer", "radius_m": 300}).radius_m
    300.0
    >>> as_options(["buffer"])
    Traceback (most recent call last):
    ...
    gradient.errors.OptionError: options= must be gradient.Options(...) or a dict of options, e.g. {'maps': 0}; got list
    """
    from collections.abc import Mapping

    if options is None:
        return Options()
    if isinstance(options, Options):
        return options
    if isinstance(options, Mapping):
        bad = [k for k in options if not isinstance(k, str)]
        if bad:
            raise OptionError(
                f"{param}= names options by text; {bad[0]!r} is not (options are {', '.join(option_names())})",
                param=param,
            )
        return Options().replace(**options)
    got = type(options).__name__
    raise OptionError(
        f"{param}= must be gradient.Options(...) or a dict of options, e.g. {{'maps': 0}}; got {got}", param=param
    )


def check_base_url(url: Any, param: str = "embed_base_url") -> str:
    """An http(s) address to publish maps under, without its trailing slash.

    Raises
    ------
    OptionError
        If it is not a string with an http or https scheme and a host, or holds
        spaces, quotes, angle brackets or backticks.

    Examples
    --------
    >>> check_base_url("https://example.org/graphics/buses/")
    'https://example.org/graphics/buses'
    """
    from urllib.parse import urlsplit

    parts = urlsplit(url) if isinstance(url, str) else None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.netloc
        or any(c.isspace() or c in "\"'<>`" for c in url)
    ):
        raise OptionError(
            f"{param}={url!r} must be an http:// or https:// address, e.g. https://example.org/graphics/buses",
            param=param,
        )
    return url.rstrip("/")


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool) or type(value).__name__ == "bool_"


def _is_number(value: Any) -> bool:
    """A finite int or float, numpy's included (never a bool)."""
    return isinstance(value, numbers.Real) and not _is_bool(value) and math.isfinite(float(value))


def option_names() -> list[str]:
    """The names of every option, in order."""
    return [f.name for f in fields(Options)]


def option_fields() -> list:
    """The dataclass fields of :class:`Options` (with the command line's metadata)."""
    return list(fields(Options))


def default(name: str) -> Any:
    """The default of one option."""
    f = next(f for f in fields(Options) if f.name == name)
    return f.default if f.default is not MISSING else f.default_factory()  # type: ignore[misc]
