"""Writing output files safely: atomically, and with text that cannot act as a formula.

Nothing half-written: every file is written to a temporary file beside it and then
renamed, so a reader (or a crash) never leaves a partial file that looks complete. The
run's folder as a whole belongs to :mod:`gradient.output.folder`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

from ._text import xml_safe

XML_SUFFIXES = (".svg", ".html", ".xml")
"""Files whose text is freed of the characters XML 1.0 forbids as they are written (:func:`gradient._text.xml_safe`)."""

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""A spreadsheet reads a cell starting with one of these as a formula."""


def write_atomic(path: str | Path, data: str | bytes) -> Path:
    """Write a file all at once: to a temporary file beside it, then rename.

    A reader never sees a half-written file, and an error leaves the old file (or
    none) in place.

    Raises
    ------
    OSError
        If it cannot be written (e.g. ``No space left on device``); its ``filename`` is
        always ``path``, never the temporary file's or none.
    """
    path = Path(path)
    if path.suffix.lower() in XML_SUFFIXES:  # the last guard: an SVG or a page is always well-formed text
        data = xml_safe(data) if isinstance(data, str) else xml_safe(data.decode("utf-8")).encode("utf-8")
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        if isinstance(data, bytes):
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
        else:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise type(exc)(exc.errno, exc.strerror or str(exc), str(path)) from exc
    except BaseException:
        if tmp is not None:
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
    if isinstance(col.dtype, pd.CategoricalDtype):
        return _is_text(pd.Series(col.cat.categories))
    return pd.api.types.is_string_dtype(col) or pd.api.types.is_object_dtype(col.dtype)
