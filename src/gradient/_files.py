"""Writing output files safely: atomically, and with text that cannot act as a formula.

Nothing half-written: every file is written to a temporary file beside it and then
renamed, so a reader (or a crash) never leaves a partial file that looks complete.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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
        if pd.api.types.is_string_dtype(out[col]) or out[col].dtype == object:
            text = out[col].astype("string")
            risky = text.str.startswith(FORMULA_START).fillna(False)
            if risky.any():
                out[col] = text.where(~risky, "'" + text)
    return out


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a table as UTF-8 CSV, atomically, formulas neutralised, floats to 10 digits.

    Missing values are empty cells. Two runs on the same data give identical bytes.
    """
    text = neutralise_formulas(frame).to_csv(index=False, float_format="%.10g", lineterminator="\n")
    return write_atomic(path, text)


@contextmanager
def staged_dir(out_dir: str | Path) -> Iterator[Path]:
    """Write a set of files into a hidden staging folder, then move them into ``out_dir``.

    If anything fails (or the run is interrupted) before the block ends, the staging
    folder is removed and ``out_dir`` is left as it was: never a new ``stops.csv``
    beside an old ``patterns.csv``, never a partial file. Each move is an atomic
    rename within one file system.

    Yields
    ------
    pathlib.Path
        The staging folder; write the files there with the layout they should have
        in ``out_dir``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(dir=out, prefix=".gradient-staging-"))
    try:
        yield stage
        for path in sorted(p for p in stage.rglob("*") if p.is_file()):
            target = out / path.relative_to(stage)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
