"""Optional dependencies: what each extra brings, and one exact message when one is missing.

``pip install gradient`` installs the core, enough for ``gradient run --maps 0``; the rest
comes in extras (``pyproject.toml``): ``maps``, ``networks``, ``batch``, ``spreadsheets``,
``gtfs-kit`` and ``notebooks`` (``all`` for everything). A step that needs an extra calls
:func:`require` first, so a missing one is a one-line message naming the command that
installs it, never an ImportError traceback.
"""

from __future__ import annotations

from importlib.util import find_spec

from .errors import MissingExtraError

EXTRAS = {
    "maps": ("matplotlib", "folium", "branca", "xstatic.pkg.leaflet"),
    "networks": ("osmnx", "networkx", "osmium", "platformdirs"),
    "batch": ("dask", "distributed"),
    "spreadsheets": ("python_calamine",),
    "gtfs-kit": ("gtfs_kit",),
}
"""The modules each extra brings, by the extra's name in ``pyproject.toml``."""


def require(extra: str, what: str) -> None:
    """Make sure the modules of ``extra`` are installed, before ``what`` needs them.

    Raises
    ------
    MissingExtraError
        Naming ``what``, the missing module and ``pip install 'gradient[extra]'``.

    Examples
    --------
    >>> require("maps", "drawing maps")
    """
    missing = [m for m in EXTRAS[extra] if not _installed(m)]
    if missing:
        raise MissingExtraError(
            f"{what} needs {', '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} not installed: "
            f"pip install 'gradient[{extra}]'"
        )


def _installed(module: str) -> bool:
    try:
        return find_spec(module) is not None
    except (ImportError, ValueError):
        return False
