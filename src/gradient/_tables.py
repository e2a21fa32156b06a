"""Tables as states publish them: their encodings, their workbooks, their suppression markers.

- :func:`decode` reads text in the encoding it was saved in: UTF-8 with or without a
  byte-order mark, UTF-16 and UTF-32 (with a byte-order mark, or UTF-16 without one,
  told by its zero bytes), else Windows-1252 (the usual encoding of UK government CSV
  downloads; Latin-1 where a byte is undefined in it), or an encoding the caller names.
- :func:`read_table` finds a table's header by its column names, in a delimited text
  file (below any title lines) or in a workbook (on whichever sheet has it, below any
  title block: cover and notes sheets are passed over), and stops at the notes below
  the data.
- :func:`numbers` reads a column of numbers where the documented
  :data:`SUPPRESSION_MARKERS` mean "no estimate".
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections import Counter
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from . import _archive
from .errors import AreasError, InputError

SUPPRESSION_MARKERS = (
    ":",
    "..",
    ".",
    "-",
    "\u2013",
    "\u2014",
    "*",
    "x",
    "[c]",
    "[x]",
    "[z]",
    "[w]",
    "[low]",
    "n/a",
    "na",
    "#n/a",
    "null",
    "nan",
)
"""Cell values read as "no estimate" (compared ignoring case and surrounding spaces).

``:`` (Eurostat, ONS: not available), ``..`` and ``.`` (not available), ``-`` and
the en and em dashes (nil or not available), ``*`` (suppressed, e.g. CDC), ``x``
(ONS: suppressed); the GSS shorthand ``[c]`` (confidential), ``[x]`` (not
available), ``[z]`` (not applicable), ``[w]`` (no data) and ``[low]`` (rounds to
zero: no usable estimate of life expectancy); and ``n/a``, ``NA``, ``#N/A``, ``null``,
``NaN``. Blank cells are missing too, counted apart."""

WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}
"""Files read as workbooks (with python-calamine); anything else is delimited text."""

DELIMITERS = (",", "\t", ";", "|")
"""Delimiters a text table may use (judged from its header line)."""

HEADER_SEARCH_ROWS = 50
"""How many rows from the top of a file or sheet are searched for the header."""

_MARKERS = frozenset(SUPPRESSION_MARKERS)


def decode(
    data: bytes,
    encoding: str | None,
    path: Path | None,
    *,
    param: str | None = "le_encoding",
    error: type[InputError] = AreasError,
) -> tuple[str, str]:
    """The text of a file's bytes, and the encoding it was read as.

    Parameters
    ----------
    data : bytes
        The file.
    encoding : str or None
        The encoding to use; None to detect it (see the module's notes).
    path : Path or None
        Named in errors.
    param : str or None
        The caller's parameter that names the encoding, for messages (None: the
        caller has none).
    error : type
        The error type to raise.

    Returns
    -------
    text : str
        Without a byte-order mark.
    encoding : str
        ``utf-8``, ``utf-8-sig``, ``utf-16``, ``utf-16-le``, ``utf-16-be``,
        ``utf-32``, ``cp1252`` or ``latin-1`` when detected; else as given.

    Raises
    ------
    InputError
        Of type ``error``: if ``encoding`` is unknown or the bytes are not text in it.
    """
    if encoding is not None:
        try:
            name = codecs.lookup(encoding).name
        except LookupError as exc:
            raise error(
                f"{param}={encoding!r} is not an encoding Python knows (e.g. utf-8, cp1252, latin-1, utf-16)",
                path,
                param=param,
            ) from exc
        use = "utf-8-sig" if name == "utf-8" else name
        try:
            return data.decode(use).lstrip("\ufeff"), encoding
        except UnicodeDecodeError as exc:
            raise error(
                f"is not {encoding} text ({exc.reason} at byte {exc.start}); check {param}={encoding!r}",
                path,
                param=param,
            ) from exc
    for bom, name in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(name).lstrip("\ufeff"), name
            except UnicodeDecodeError as exc:
                fix = f"give its encoding with {param}=" if param else "re-save it as UTF-8"
                raise error(
                    f"starts with a {name} byte-order mark but is not {name} text ({exc.reason} at byte "
                    f"{exc.start}); {fix}",
                    path,
                    param=param,
                ) from exc
    wide = _utf16_without_bom(data)
    for name in ([wide] if wide else []) + ["utf-8", "cp1252", "latin-1"]:
        try:
            return data.decode(name), name
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes any bytes")  # pragma: no cover


def _utf16_without_bom(data: bytes) -> str | None:
    """``utf-16-le`` or ``-be`` for text whose every other byte is mostly zero, else None."""
    head = data[:4096]
    if len(head) < 4 or len(head) % 2:
        return None
    even, odd = head[0::2], head[1::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


def read_table(
    path: Path,
    wanted: Sequence[str],
    *,
    id_col: str | None = None,
    value_col: str | None = None,
    encoding: str | None = None,
) -> tuple[pd.DataFrame, dict]:
    """A published table with its header found by name, as it was written.

    Parameters
    ----------
    path : Path
        A workbook (:data:`WORKBOOK_SUFFIXES`) or delimited text.
    wanted : sequence of str
        Column names the header row must hold (compared after trimming spaces).
        Where no row within :data:`HEADER_SEARCH_ROWS` holds them all, the first row
        (of the first sheet) is the header, so that the caller can say which
        columns are missing.
    id_col : str, optional
        Its values are kept as text exactly (whole numbers from a workbook without
        a trailing ``.0``).
    value_col : str, optional
        Rows below the first empty row are notes, and dropped, if none of them has
        a value in this column.
    encoding : str, optional
        For text (``le_encoding=``); default detected (:func:`decode`).

    Returns
    -------
    table : pandas.DataFrame
        Text columns for text files (nothing read as missing but blank cells);
        workbook cells as calamine gives them (numbers as floats).
    info : dict
        ``encoding`` (text) or ``sheet`` (workbooks), ``header_row`` (0-based) and
        ``notes`` (rows dropped below the table).

    Raises
    ------
    AreasError
        If the file cannot be read, is not text in ``encoding``, or more than one
        sheet holds the header.
    """
    if path.suffix.lower() in WORKBOOK_SUFFIXES:
        rows, info = _workbook_rows(path, wanted)
    else:
        fast = _text_frame(path, wanted, encoding, id_col, value_col)
        if fast is not None:
            return fast
        rows, info = _text_rows(path, wanted, encoding)
    header = [str(c).strip() if c is not None else "" for c in rows[0]] if rows else []
    body = _trim([r + [""] * (len(header) - len(r)) for r in rows[1:]], header, value_col, info)
    frame = pd.DataFrame([r[: len(header)] for r in body], columns=header, dtype=object)
    if id_col in frame:
        frame[id_col] = frame[id_col].map(_as_text).astype("string")
    return frame, info


def _as_text(value) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _cells(line: str, delimiter: str) -> list[str]:
    """The cells of one line (none where csv cannot split it, e.g. a field over its size limit)."""
    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        return []


def _is_header(row: Sequence, wanted: Sequence[str]) -> bool:
    cells = {str(c).strip().lstrip("\ufeff") for c in row if c is not None}
    return all(w in cells for w in wanted)


def _workbook_rows(path: Path, wanted: Sequence[str]) -> tuple[list[list], dict]:
    from ._extras import require

    require("spreadsheets", f"reading the workbook {path.name}")
    from python_calamine import CalamineWorkbook

    if zipfile.is_zipfile(path):  # .xlsx, .ods: calamine unpacks them itself, beyond our reach
        _archive.scan(path, AreasError, _archive.MAX_WORKBOOK_BYTES, what="the workbook")
    try:
        book = CalamineWorkbook.from_path(str(path))
        sheets = {name: book.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in book.sheet_names}
    except Exception as exc:  # calamine raises its own types for damaged or foreign files
        raise AreasError(f"cannot read the workbook ({exc})", path) from exc
    found = [
        (name, i)
        for name, rows in sheets.items()
        for i in [next((i for i, r in enumerate(rows[:HEADER_SEARCH_ROWS]) if _is_header(r, wanted)), None)]
        if i is not None
    ]
    if len(found) > 1:
        raise AreasError(
            f"{len(found)} sheets hold a table with the columns {', '.join(map(repr, wanted))} "
            f"({', '.join(repr(n) for n, _ in found)}); which one is meant cannot be told: save it alone",
            path,
        )
    if not sheets:
        raise AreasError("the workbook has no sheets", path)
    name, row = found[0] if found else (next(iter(sheets)), 0)
    return [list(r) for r in sheets[name][row:]], {"sheet": name, "header_row": row, "notes": 0}


def _text_frame(
    path: Path, wanted: Sequence[str], encoding: str | None, id_col: str | None, value_col: str | None
) -> tuple[pd.DataFrame, dict] | None:
    """The common case, parsed by pandas at C speed: a text table whose rows all fit its header.

    The same answer as :func:`_text_rows` and :func:`_trim` (header found by name, notes
    below the first empty row dropped, every cell text); None where a row does not fit, so
    that the line-by-line reading can say what is wrong.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AreasError(f"cannot read the table ({exc.strerror or exc})", path) from exc
    text, used = decode(data, encoding, path)
    head = text[:200_000].splitlines()[:HEADER_SEARCH_ROWS]
    row, sep = 0, max(DELIMITERS, key=(head[0] if head else "").count)
    for i, line in enumerate(head):
        delim = max(DELIMITERS, key=line.count)
        if _is_header(_cells(line, delim), wanted):
            row, sep = i, delim
            break
    frame = _arrow_frame(text, sep, row)
    if frame is None:
        try:
            frame = pd.read_csv(
                io.StringIO(text),
                sep=sep,
                skiprows=row,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                skip_blank_lines=False,
                engine="c",
            )
        except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError):
            return None
    frame.columns = [str(c).strip() for c in frame.columns]
    if any(c == "" or c.startswith("Unnamed: ") for c in frame.columns) or frame.columns.duplicated().any():
        return None  # blank or repeated header cells: the careful reading names them as written
    info = {"encoding": used, "header_row": row, "notes": 0}
    empty = np.ones(len(frame), dtype=bool)
    for name in frame.columns:
        empty &= (frame[name].str.strip() == "").to_numpy(bool)
    if empty.any() and value_col in frame.columns:
        cut = int(np.argmax(empty))
        below = frame.iloc[cut:][~empty[cut:]]
        if (below[value_col].str.strip() == "").all():
            info["notes"] = len(below)
            frame, empty = frame.iloc[:cut], empty[:cut]
    frame = frame[~empty].reset_index(drop=True)
    if id_col in frame:
        frame[id_col] = frame[id_col].astype("string")
    return frame, info


def _arrow_frame(text: str, sep: str, skip: int) -> pd.DataFrame | None:
    """Every cell as text, parsed by pyarrow (several times faster than pandas' C parser).

    None where pyarrow cannot parse the table as a rectangle (for example blank
    lines or ragged rows), so that pandas' parser, which keeps blank lines, reads it.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    data = text.encode("utf-8")
    try:
        first = pacsv.open_csv(
            pa.BufferReader(data),  # the header, from the first block only
            read_options=pacsv.ReadOptions(skip_rows=skip, block_size=1 << 16),
            parse_options=pacsv.ParseOptions(delimiter=sep),
        )
        names = first.schema.names
    except (pa.ArrowInvalid, ValueError):
        return None
    if len(set(names)) != len(names):
        return None
    options = pacsv.ConvertOptions(
        column_types={n: pa.string() for n in names},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
        null_values=[],
    )
    try:
        table = pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(skip_rows=skip),
            parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=True, ignore_empty_lines=False),
            convert_options=options,
        )
    except (pa.ArrowInvalid, ValueError):
        return None
    return table.to_pandas()


def _text_rows(path: Path, wanted: Sequence[str], encoding: str | None) -> tuple[list[list], dict]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AreasError(f"cannot read the table ({exc.strerror or exc})", path) from exc
    text, used = decode(data, encoding, path)
    lines = text.splitlines()
    row, sep = 0, max(DELIMITERS, key=(lines[0] if lines else "").count)
    for i, line in enumerate(lines[:HEADER_SEARCH_ROWS]):
        delim = max(DELIMITERS, key=line.count)
        if _is_header(_cells(line, delim), wanted):
            row, sep = i, delim
            break
    body = "\n".join(lines[row:])
    try:
        rows = list(csv.reader(io.StringIO(body), delimiter=sep))
    except csv.Error as exc:
        raise AreasError(f"cannot read the table ({exc})", path) from exc
    return rows, {"encoding": used, "header_row": row, "notes": 0}


def _trim(rows: list[list], header: list[str], value_col: str | None, info: dict) -> list[list]:
    """Rows of the table: empty rows dropped, and notes below the first empty row."""
    empty = [all(str(c).strip() == "" for c in r if c is not None) for r in rows]
    if True in empty and value_col in header:
        cut = empty.index(True)
        k = header.index(value_col)
        below = [r for r, e in zip(rows[cut:], empty[cut:]) if not e]
        if all(str(r[k] if r[k] is not None else "").strip() == "" for r in below):
            info["notes"] = len(below)
            rows, empty = rows[:cut], empty[:cut]
    return [r for r, e in zip(rows, empty) if not e]


def numbers(col: pd.Series, name: str, path: Path | None) -> tuple[pd.Series, Counter, int]:
    """A column as floats: blanks and :data:`SUPPRESSION_MARKERS` missing, other text an error.

    Parameters
    ----------
    col : pandas.Series
        Text or workbook cells.
    name : str
        The column's name, for messages.
    path : Path or None
        Named in errors.

    Returns
    -------
    values : pandas.Series
        Floats, NaN where blank or suppressed.
    markers : collections.Counter
        How many times each marker (as written) was read as missing.
    blank : int
        How many cells were blank.

    Raises
    ------
    AreasError
        If a value is neither a number, a blank nor a marker (with the count and an
        example).
    """
    text = col.astype("string").str.strip()
    blank = (text.isna() | (text == "")).to_numpy(bool)
    nums = _as_floats(text.mask(blank))
    failed = nums.isna().to_numpy(bool)
    marker = ~blank & failed & is_marker(text)
    bad = ~blank & ~marker & failed
    if bad.any():
        raise AreasError(
            f"{int(bad.sum())} value(s) in {name!r} are not numbers (e.g. {text[bad].iloc[0]!r}); only blanks "
            "and suppression markers such as ':', 'x', '..', '[c]' read as missing",
            path,
        )
    values = pd.Series(nums.to_numpy(dtype=float, na_value=np.nan), index=col.index)
    return values, Counter(text[marker]), int(blank.sum())


def _as_floats(text: pd.Series) -> pd.Series:
    """Text to floats, NaN where blank or not a number."""
    fast = finite_floats(text)
    if fast is not None:
        return pd.Series(fast, index=text.index)
    return pd.to_numeric(text, errors="coerce")


def all_distinct(ids: pd.Series) -> bool:
    """Whether the present values of a column are all different (pyarrow's hash count: fast on national tables)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    values = pa.array(ids.dropna().astype("string"), type=pa.string(), from_pandas=True)
    return pc.count_distinct(values).as_py() == len(values)


def finite_floats(text: pd.Series) -> np.ndarray | None:
    """Text cells (trimmed; missing where blank) as floats by pyarrow's cast, NaN where missing.

    None unless every present cell is a finite number, so that the caller's slower
    reading can say what is wrong (or read markers).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        values = pc.cast(pa.array(text, from_pandas=True, type=pa.string()), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
    if pc.any(pc.is_nan(values)).as_py() or pc.any(pc.is_inf(values)).as_py():
        return None
    return values.to_numpy(zero_copy_only=False)


def is_marker(col: pd.Series) -> np.ndarray:
    """Where a column holds one of the :data:`SUPPRESSION_MARKERS`."""
    text = col.astype("string").str.strip().str.lower()
    return np.asarray(text.isin(_MARKERS).fillna(False), dtype=bool)
