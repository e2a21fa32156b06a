"""Writing output files safely: atomically, and with text that cannot act as a formula.

Nothing half-written: every file is written to a temporary file beside it and then
renamed, so a reader (or a crash) never leaves a partial file that looks complete; a
set of files is staged and put in place of the previous run's whole
(:func:`staged_dir`).
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""A spreadsheet reads a cell starting with one of these as a formula."""


def write_atomic(path: str | Path, data: str | bytes) -> Path:
    """Write a file all at once: to a temporary file beside it, then rename.

    A reader never sees a half-written file, and an error leaves the old file (or
    none) in place.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, mode, **({} if mode == "wb" else {"encoding": "utf-8", "newline": ""})) as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula with ``'``.

    Only text columns are touched; numbers (negative ones included) stay numbers.
    """
    out = frame.copy()
    for col in out.columns:
        if _is_text(out[col]):
            text = out[col].astype("string")
            risky = text.str.startswith(FORMULA_START).fillna(False)
            if risky.any():
                out[col] = text.where(~risky, "'" + text)
    return out


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a table as UTF-8 CSV, atomically, formulas neutralised, floats to 10 significant digits.

    Missing values are empty cells; two runs on the same data give identical bytes.
    """
    text = neutralise_formulas(frame).to_csv(index=False, float_format="%.10g", lineterminator="\n")
    return write_atomic(path, text)


def _is_text(col: pd.Series) -> bool:
    """Whether a column is text, whose cells formulas are looked for in (numbers never are)."""
    return pd.api.types.is_string_dtype(col) or pd.api.types.is_object_dtype(col.dtype)


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
