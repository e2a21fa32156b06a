"""Two independent inputs read side by side, as if one after the other (``gradient run``).

``gradient run`` reads a feed and loads the areas; neither needs the other, and each
takes a few tenths of a second on one core, imports included. :func:`side_by_side`
reads the first in a forked child while this process loads the second, and gives both
exactly as ``first(), second()`` would: the same values, the first's warnings before
the second's, and the first's error before anything of the second's. The child is only
an accelerator: its value is used when it succeeded; whatever else happens (bad input,
a platform without ``fork``, a process that already runs threads, a child that died
or was killed, a value that does not survive pickling) the first is run again in this
process, so that every error and warning is that of running it here.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import warnings
from collections.abc import Callable
from typing import TypeVar

A = TypeVar("A")
B = TypeVar("B")


def can_fork() -> bool:
    """Whether a child may be forked safely and will run beside this process.

    Only on Linux, with a second processor allowed to this process, and while this
    process has a single thread (before numpy starts its BLAS threads; never from a
    notebook or a test runner with threads of its own).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        return len(os.sched_getaffinity(0)) > 1 and len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


def side_by_side(first: Callable[[], A], second: Callable[[], B]) -> tuple[A, B]:
    """``(first(), second())``, with ``first`` in a forked child when :func:`can_fork`.

    Parameters
    ----------
    first : callable
        Reads only (the child writes nothing) and returns a picklable value.
    second : callable
        Run in this process.

    Returns
    -------
    tuple
        The two values.

    Raises
    ------
    Exception
        The first's error if it fails, else the second's, as when run in turn.
    """
    if not can_fork():
        return first(), second()
    child = _Child(first)
    try:
        error = None
        with warnings.catch_warnings(record=True) as caught:  # shown after the first's
            try:
                b = second()
            except Exception as exc:  # reported only if the first succeeds
                error = exc
        a = child.result()
        _show(_records(caught))
        if error is not None:
            raise error
        return a, b
    finally:
        child.close()


class _Child:
    """``load()`` running in a forked child; :meth:`result` gives its value (or runs it here)."""

    def __init__(self, load: Callable[[], A]) -> None:
        self._load = load
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            os.close(read_fd)
            _child(load, write_fd)
        os.close(write_fd)
        self._pid: int | None = pid
        self._read_fd: int | None = read_fd

    def result(self) -> A:
        """The value, with the warnings it gave shown now; run here instead if the child did not give it."""
        payload = self._receive()
        if payload is None:
            return self._load()
        value, caught = payload
        _show(caught)
        return value

    def close(self) -> None:
        """Stop the child if it still runs (the run failed or was interrupted first)."""
        if self._pid is not None:
            try:
                os.kill(self._pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._reap()

    def _receive(self) -> tuple[A, list] | None:
        try:
            with os.fdopen(self._read_fd, "rb") as fh:
                self._read_fd = None
                data = fh.read()
        except BaseException:  # interrupted while waiting: the child goes too
            self.close()
            raise
        self._reap()
        try:
            return pickle.loads(data) if data else None
        except Exception:  # a value this process cannot rebuild: run it here
            return None

    def _reap(self) -> None:
        if self._read_fd is not None:
            os.close(self._read_fd)
            self._read_fd = None
        if self._pid is not None:
            try:
                os.waitpid(self._pid, 0)
            except ChildProcessError:
                pass
            self._pid = None


def _records(caught: list[warnings.WarningMessage]) -> list[tuple]:
    """Caught warnings as (message, category, filename, lineno): what showing them needs, and picklable."""
    return [(w.message, w.category, w.filename, w.lineno) for w in caught]


def _show(records: list[tuple]) -> None:
    """Show caught warnings now, as they would have been shown when given (the filters have passed them)."""
    for message, category, filename, lineno in records:
        warnings.showwarning(message, category, filename, lineno)


def _child(load: Callable[[], object], write_fd: int) -> None:
    """Run ``load`` and send its value and warnings (nothing on any failure); exit without cleaning up."""
    status = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # stopped with the run, quietly
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        with warnings.catch_warnings(record=True) as caught:  # the filters stay the parent's
            value = load()
        data = pickle.dumps((value, _records(caught)), protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(write_fd, "wb") as fh:
            fh.write(data)
        status = 0
    except BaseException:  # the parent runs it itself and reports whatever is wrong
        pass
    finally:
        os._exit(status)
