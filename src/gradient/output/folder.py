"""The run's output folder: staged, committed whole, and never reaching outside itself.

:func:`staged_dir` is the one owner of an output folder: every file a run writes goes to a
hidden staging folder inside it, and only when all of them are written are they put in
place of the previous run's (listed in :data:`MANIFEST`).
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from .._files import write_atomic

MANIFEST = ".gradient-outputs"
"""The file in an output folder that lists, one per line, the files the last run wrote there.

A rerun removes what it lists and the new run does not write again, so that nothing
stale is left beside new tables; files gradient did not write are never touched."""


@contextmanager
def staged_dir(out_dir: str | Path) -> Iterator[Path]:
    """Write a set of files into a hidden staging folder, then put them in ``out_dir`` in place of the last run's.

    If anything fails (or the run is interrupted) before the block ends, the staging
    folder is removed and ``out_dir`` is left as it was: never a new ``stops.csv``
    beside an old ``patterns.csv``, never a partial file; and folders made for the
    run (``out_dir`` and any parents it lacked) are removed again. When the block
    ends, each file is moved into place (an atomic rename within one file system),
    the files the previous run listed in :data:`MANIFEST` that this one did not write
    are removed, and the manifest is rewritten; SIGINT and SIGTERM wait until that is
    done.

    Yields
    ------
    pathlib.Path
        The staging folder; write the files there with the layout they should have
        in ``out_dir``.
    """
    out = Path(out_dir)
    created = [p for p in [out, *out.parents] if not p.exists()][::-1]  # outermost first
    out.mkdir(parents=True, exist_ok=True)
    done = False
    try:
        stage = Path(tempfile.mkdtemp(dir=out, prefix=".gradient-staging-"))
        try:
            yield stage
            with _signals_held():
                _commit(stage, out)
            done = True
        finally:
            shutil.rmtree(stage, ignore_errors=True)
    finally:
        if not done:
            for folder in reversed(created):
                try:
                    folder.rmdir()  # only if empty: never what someone else put there
                except OSError:
                    break


def _commit(stage: Path, out: Path) -> None:
    """Move the staged files into ``out``, remove the last run's others, and list the new ones."""
    new = sorted(p.relative_to(stage).as_posix() for p in stage.rglob("*") if p.is_file())
    for rel in new:
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(stage / rel, target)
    for rel in sorted(set(previous_outputs(out)) - set(new)):
        stale = out / rel
        stale.unlink(missing_ok=True)
        for folder in stale.parents:
            if folder == out or not folder.is_relative_to(out):
                break
            try:
                folder.rmdir()
            except OSError:
                break
    write_atomic(out / MANIFEST, "".join(f"{rel}\n" for rel in new))


def previous_outputs(out: str | Path) -> list[str]:
    """The files the last run wrote into ``out`` (relative paths from its :data:`MANIFEST`; none without one).

    Lines that are absolute or climb out of the folder are ignored.
    """
    path = Path(out) / MANIFEST
    if not path.is_file():
        return []
    rels = [line.strip() for line in path.read_text(encoding="utf-8", errors="replace").splitlines()]
    return [r for r in rels if r and not PurePosixPath(r).is_absolute() and ".." not in PurePosixPath(r).parts]


@contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM wait (are blocked) for the block's few renames, where the platform allows."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    before = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)
