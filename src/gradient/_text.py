"""The one sanitiser of text from outside: names from feeds and tables, and what the console prints.

A stop, route or area name reaches a terminal, a sentence, an SVG or an HTML page. :func:`clean`
takes out of it what could act instead of show there:

- terminal escape sequences (ANSI CSI and OSC, and any other ``ESC`` sequence), which could
  rewrite a screen, and every other C0 and C1 control character (tab and line breaks become
  spaces), which also make an SVG invalid XML;
- the bidirectional overrides, embeddings, isolates and marks (U+202A-U+202E,
  U+2066-U+2069, U+200E, U+200F, U+061C), which could reverse the rest of a sentence;
- anything else XML 1.0 does not allow (lone surrogates, U+FFFE, U+FFFF), and the byte-order
  mark and line and paragraph separators (U+FEFF, U+2028, U+2029).

Everything else, accents and every script included, is kept as it was. Names are cleaned where
they enter a run (:func:`gradient.pipeline.run_patterns`), every line the command line prints is
cleaned again on its way out, and every text file written is freed of characters XML forbids
(:func:`xml_safe`). Ids are kept exactly as written in the tables. This module imports nothing heavy: the command
line cleans its first line with it.
"""

from __future__ import annotations

import re
from dataclasses import fields, is_dataclass, replace
from typing import TYPE_CHECKING, Any, Iterable

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves, clearing the screen
    r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC: titles, hyperlinks
    r"|(?:\x1b[PX^_]|[\x90\x98\x9e\x9f])[^\x1b\x9c]*(?:\x1b\\|\x9c)?"  # DCS, SOS, PM, APC strings
    r"|\x1b[ -/]*[0-~]?"  # any other escape
)
_SPACES = "\t\n\r\x0b\x0c\x85\u2028\u2029"
_DROP = (
    [c for c in range(0x00, 0x20) if chr(c) not in _SPACES]
    + [0x7F]
    + [c for c in range(0x80, 0xA0) if chr(c) not in _SPACES]
    + [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0xFEFF, 0xFFFE, 0xFFFF]
)
_TABLE = {**{c: None for c in _DROP}, **{ord(c): " " for c in _SPACES}}
_UNSAFE = re.compile(
    "[" + re.escape("".join(chr(c) for c in _DROP) + _SPACES) + "\ud800-\udfff]|\x1b|\x9b|\x9d"  # noqa: RUF001
)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

NAME_COLUMNS = ("route_name", "route_short_name", "route_long_name", "stop_name", "area_name", "agency_name")
"""Columns of names that reach sentences, maps and charts: cleaned where a run takes its tables."""


def clean(text: Any) -> Any:
    r"""Text with nothing in it that could act instead of show (see the module's notes); else as given.

    Examples
    --------
    >>> clean("Main St\x1b[2J\x1b]0;owned\x07 & 5th")
    'Main St & 5th'
    >>> clean("Route \u202eTSAE")
    'Route TSAE'
    >>> clean("Caf\u00e9\tdu Parc")
    'Café du Parc'
    >>> clean(None) is None
    True
    """
    if not isinstance(text, str) or not _UNSAFE.search(text):
        return text
    text = _ESCAPES.sub("", text).translate(_TABLE)
    return re.sub("[\ud800-\udfff]", "", text)


def needs_cleaning(text: Any) -> bool:
    """Whether :func:`clean` would change ``text``."""
    return isinstance(text, str) and _UNSAFE.search(text) is not None


def clean_series(values: pd.Series) -> pd.Series:
    """A column with every text value cleaned (each distinct value once); others as they were."""
    import pandas as pd

    if not (pd.api.types.is_string_dtype(values) or pd.api.types.is_object_dtype(values.dtype)):
        if isinstance(values.dtype, pd.CategoricalDtype):
            return values.cat.rename_categories([clean(c) for c in values.cat.categories])
        return values
    distinct = pd.unique(values.dropna())
    changed = {v: clean(v) for v in distinct if needs_cleaning(v)}
    return values.replace(changed) if changed else values


def clean_columns(frame: pd.DataFrame, columns: Iterable[str] = NAME_COLUMNS) -> pd.DataFrame:
    """``frame`` with the text of ``columns`` (those it has) cleaned; the same object when nothing changes."""
    out = frame
    for col in columns:
        if col in frame.columns:
            cleaned = clean_series(frame[col])
            if cleaned is not frame[col]:
                if out is frame:
                    out = frame.copy()
                out[col] = cleaned
    return out


def clean_fields(value: Any) -> Any:
    """A dataclass (a ``Labels``, a ``Credit``) with every text field cleaned, tuples of them included."""
    if isinstance(value, tuple):
        return tuple(clean_fields(v) for v in value)
    if not is_dataclass(value) or isinstance(value, type):
        return clean(value)
    changes = {}
    for f in fields(value):
        old = getattr(value, f.name)
        new = clean_fields(old) if isinstance(old, (str, tuple)) or is_dataclass(old) else old
        if new is not old and new != old:
            changes[f.name] = new
    return replace(value, **changes) if changes else value


def xml_safe(text: str) -> str:
    r"""``text`` without the characters XML 1.0 forbids (C0 controls but tab and line breaks, surrogates, U+FFFE/F).

    Examples
    --------
    >>> xml_safe("<text>A\x00B\x1bC</text>")
    '<text>ABC</text>'
    """
    return _NOT_XML.sub("", text)
