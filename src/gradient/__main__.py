"""The ``gradient`` command and ``python -m gradient``: signals and the console made safe from the first line.

Before anything heavy is imported, :func:`main`

- stops the process on SIGINT, SIGTERM or SIGHUP with one line and the conventional exit
  status (130, 143, 129): nothing has been written yet, so there is nothing to clean; once
  the run starts, :func:`gradient.cli.main` puts handlers in place that unwind it (staging
  removed);
- gives a closed standard stream (``>&-``) the null device, so that no file the run opens
  takes its place and nothing printed fails;

then runs :func:`gradient.cli.console`.
"""

import os
import signal
import sys

from ._hold import hold

STOPPING = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
"""The signals that stop a run, quietly, with ``128 + signum``."""


def _stop_now(signum: int, frame: object) -> None:
    """Nothing is written yet: say so on one line and leave at once."""
    try:
        os.write(2, f"gradient: stopped by {signal.Signals(signum).name}; nothing was left half-written\n".encode())
    except OSError:
        pass
    os._exit(128 + signum)


def _standard_streams() -> None:
    """Give a closed stdin, stdout or stderr the null device (file descriptor and Python stream)."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)  # the lowest free descriptor: ``fd`` itself
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115  (lives as long as the process)
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115


def main() -> int:
    """Run the command line with signals and standard streams made safe first; returns the exit status."""
    for signum in STOPPING:
        signal.signal(signum, _stop_now)
    _standard_streams()
    hold("start")
    from .cli import console

    return console()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
