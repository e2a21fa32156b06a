"""Exception and warning types of `gradient`.

Every problem the library detects in its inputs raises a subclass of
:class:`GradientError`. Problems a user can live with are
:class:`GradientWarning` warnings whose message carries counts.
"""

from __future__ import annotations

from os import PathLike


class GradientError(Exception):
    """Base class of every error `gradient` raises on purpose."""


class InputError(GradientError, ValueError):
    """An input file or table is unusable.

    Parameters
    ----------
    message : str
        What is wrong and how to fix it.
    path : str or path-like, optional
        The file the problem was found in; the command line names it.
    """

    def __init__(self, message: str, path: str | PathLike[str] | None = None) -> None:
        self.path = None if path is None else str(path)
        self.message = message
        super().__init__(f"{self.path}: {message}" if self.path else message)


class FeedError(InputError):
    """A transit feed (GTFS or TfL) cannot be read or is inconsistent."""


class AreasError(InputError):
    """A boundary file or life expectancy table cannot be read or joined."""


class GradientWarning(UserWarning):
    """A problem the run survives; affected rows stay in the output as missing."""


class NetworkError(InputError):
    """A street network file cannot be read, or has no streets of the type asked for."""
