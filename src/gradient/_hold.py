"""A hook for tests of signals and crashes: a run can be made to wait at a known point.

With the environment variable :data:`HOLD_ENV` naming a folder, a run that reaches a point
``name`` (:func:`hold`) listed in :data:`HOLD_AT_ENV` (by default ``commit``) creates the file
``<folder>/<name>`` and waits until ``<folder>/<name>.go`` exists (or two minutes pass). A
test can then send a signal at exactly that point instead of sleeping and hoping. Without the
variable, :func:`hold` does nothing. This module imports nothing heavy: the command's entry
point uses it before anything else is loaded.
"""

from __future__ import annotations

import os
import time

HOLD_ENV = "GRADIENT_TEST_HOLD"
"""The environment variable naming the folder where a run says where it is and waits."""

HOLD_AT_ENV = "GRADIENT_TEST_HOLD_AT"
"""The environment variable listing the points to wait at, separated by commas (default ``commit``)."""

HOLD_SECONDS = 120.0
"""The longest a run waits at a point (a test that forgot to release it does not hang)."""


def hold(point: str) -> None:
    """Say that the run reached ``point`` and wait to be released, when :data:`HOLD_ENV` is set.

    Parameters
    ----------
    point : str
        The name of the point: ``"start"`` (the command's first line), ``"run"`` (every
        input checked, before the heavy imports) or ``"commit"`` (every output written
        to the staging folder, before they are put in place).
    """
    folder = os.environ.get(HOLD_ENV)
    if not folder or point not in os.environ.get(HOLD_AT_ENV, "commit").split(","):
        return
    try:
        with open(os.path.join(folder, point), "w", encoding="utf-8") as fh:
            fh.write(f"{os.getpid()}\n")
    except OSError:
        return
    go = os.path.join(folder, f"{point}.go")
    deadline = time.monotonic() + HOLD_SECONDS
    while not os.path.exists(go) and time.monotonic() < deadline:
        time.sleep(0.01)  # a signal arriving here runs its handler at once
