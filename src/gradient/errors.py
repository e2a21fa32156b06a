"""Exception and warning types of `gradient`: every one the library raises on purpose.

Every problem the library detects in its inputs raises a subclass of
:class:`GradientError`; those about a file or a value the caller gave are also
:class:`ValueError`. Messages name the library's parameter (``area_id=``); the
command line translates parameter names to its flags in one table
(:data:`gradient.cli.FLAGS`). Problems a user can live with are
:class:`GradientWarning` warnings whose message carries counts.
"""

from __future__ import annotations

import warnings
from os import PathLike


class GradientError(Exception):
    """Base class of every error `gradient` raises on purpose."""


class InputError(GradientError, ValueError):
    """An input file, table or option is unusable.

    Parameters
    ----------
    message : str
        What is wrong and how to fix it.
    path : str or path-like, optional
        The file the problem was found in; the message starts with it.
    param : str, optional
        The library parameter the problem is about (e.g. ``"radius_m"``), so that
        the command line can name its flag instead.
    """

    def __init__(self, message: str, path: str | PathLike[str] | None = None, param: str | None = None) -> None:
        from ._text import clean

        self.path = None if path is None else str(path)
        self.message = clean(message)  # values it echoes from a file reach a terminal as text only
        self.param = param
        super().__init__(f"{self.path}: {message}" if self.path else message)


class OptionError(InputError):
    """An option is outside its range or not one of its choices."""


class FeedError(InputError):
    """A transit feed (GTFS or TfL) cannot be read or is inconsistent."""


class AreasError(InputError):
    """A boundary file or a table of values by area cannot be read or joined."""


class OutputError(InputError):
    """The output folder cannot be written as asked.

    A file or a link where a folder should be, an input inside it, a folder that cannot be
    written.
    """


class NetworkError(InputError):
    """A street network file cannot be read, or has no streets of the type asked for."""


class FetchError(InputError):
    """An official source cannot be fetched: unknown, offline, moved, or its cached copy changed."""


class DataSetError(GradientError, LookupError):
    """A bundled data set is unknown or not installed."""


class MissingExtraError(GradientError, ImportError):
    """A step needs an optional dependency that is not installed (the message names the extra to install)."""


class PresentationError(GradientError, ValueError):
    """A map, chart or embed cannot be made or saved as asked."""


class ChartError(PresentationError):
    """A chart cannot be saved as asked."""


class EmbedError(PresentationError):
    """A map needs an outside asset that cannot be inlined, or lacks its title or alt text."""


class NetworkMapError(PresentationError):
    """The network map cannot be drawn from the tables given."""


class NotStreamed(Exception):
    """``stop_times.txt`` is left to the whole-table reader, which names the problem (never escapes the library).

    Raised by the streamed reader (:mod:`gradient.sources._stream`) on anything unusual: a
    trip that repeats a ``stop_sequence``, a blank or negative one, an id the other tables
    do not define. Such feeds are refused anyway, with the messages
    :func:`gradient.sources.gtfs.read_feed` words.
    """


class GradientWarning(UserWarning):
    """A problem the run survives; affected rows stay in the output as missing.

    It prints as one line, ``gradient: warning: ...``, in a notebook as on the command line:
    never with the library's file and source line (see :func:`format_warning`).
    """


def format_warning(message, category, filename, lineno, line=None) -> str:
    """:func:`warnings.formatwarning` for gradient's own warnings: one line, no file, no source line.

    Other warnings are formatted as Python formats them. Installed once, when ``gradient``
    is imported (the only thing importing it changes).
    """
    if isinstance(category, type) and issubclass(category, GradientWarning):
        return f"gradient: warning: {message}\n"
    return _python_format(message, category, filename, lineno, line)


_python_format = warnings.formatwarning


class Interrupted(BaseException):
    """The run was stopped by a signal (SIGTERM, SIGINT) before it finished.

    Like :class:`KeyboardInterrupt` it derives from :class:`BaseException`, so that no
    ``except Exception`` takes it for a failure of its own, and it unwinds every
    ``finally``: staging folders are removed and nothing is left half-written. The
    command line turns it into one line and the conventional exit status
    (``128 + signum``: 143 for SIGTERM, 130 for SIGINT).

    Parameters
    ----------
    signum : int
        The signal.
    """

    def __init__(self, signum: int) -> None:
        import signal

        self.signum = int(signum)
        self.name = signal.Signals(self.signum).name
        super().__init__(f"stopped by {self.name}")
