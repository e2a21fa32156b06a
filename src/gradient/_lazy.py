"""Names a package offers, loaded from their modules on first use (as SPEC 1's ``lazy_loader``).

So ``import gradient.story.names`` does not load pandas through ``gradient.story``'s
``__init__``, and each ``__init__`` still names everything its package offers.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any


def attach(package: str, names: dict[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for a package whose names live in its modules.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    names : dict
        Each name the package offers, mapped to the module (relative to the package) that
        defines it.

    Returns
    -------
    tuple
        ``(__getattr__, __dir__)`` to assign in the package's ``__init__``.
    """

    def __getattr__(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f"{package}.{names[name]}"), name)
        setattr(import_module(package), name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(names)

    return __getattr__, __dir__
