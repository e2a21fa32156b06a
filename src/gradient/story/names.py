"""Names as readers see them: one cleaner for every stop, route and area name on a page.

Sources write names for their own systems, not for print. TfL's bus sequences write
every stop in capitals with interchange codes (``STRATFORD BUS STATION <>#[DLR]``) and
abbreviations cut to fit a field (``STN``, ``RD``, ``GRN``); HART writes ``@`` for
"at", doubles spaces and adds stop-side codes (``N/S``, ``F/S``) and stop numbers in
brackets. :func:`display_name` turns any of them into a name a sub-editor would keep:

- TfL's interchange codes are dropped from the name (:func:`interchanges` turns them
  into words for a popup; ``#`` counts only in names set wholly in capitals, as TfL's
  are, since elsewhere it is a number sign): ``<>`` London Underground, ``#`` National Rail, ``[DLR]``
  Docklands Light Railway, ``>T<`` and ``<T>`` London Trams, ``>R<`` and ``<R>`` river
  boats, ``>LOL<`` London Overground. These are every code the July 2018 file uses;
  any other ``<...>`` or ``>...<`` code is dropped too.
- A name written wholly in capitals is put in title case: known acronyms stay in
  capitals (:data:`ACRONYMS`: DLR, BBC, NHS, YMCA, ...), initials written apart are
  joined (``Y M C A`` -> ``YMCA``), ``of``, ``the``, ``and``, ``on``, ``in`` stay small
  inside a name (``Harrow-on-the-Hill``, ``Isle of Dogs``), ordinals read ``7th``,
  possessives ``St Mary's``, ``Mc`` names ``McDougal``; abbreviations that only a fixed
  field width explains are written out (:data:`ABBREVIATIONS`: ``STN`` -> Station,
  ``RD`` -> Road, ``GRN`` -> Green); ``ST`` stays ``St``, which reads as Street or Saint.
- A name already in mixed case keeps its own spelling and abbreviations (``7th Av``);
  only words in capitals that are not acronyms are put in title case (``HWY`` ->
  ``Hwy``) and ordinals are mended (``21St`` -> ``21st``).
- ``@`` becomes "at" (``7th Av @ 22nd St`` -> ``7th Av at 22nd St``): it reads aloud
  the way the sign means it, and unlike ``&`` or "and" it cannot be mistaken for the
  join in "between X and Y".
- Stop-side and timing-point codes (``N/S``, ``F/S``, ``WS``, ``TP``) and stop numbers
  in brackets (``(8)``, ``(15042)``) are dropped; ``EB``/``WB``/``NB``/``SB`` become
  "(eastbound)" and so on. Spaces around ``/`` are made even, runs of spaces collapsed,
  stray full stops (``PIER.``) dropped.

Pure functions of strings, with nothing heavy imported: ``stop_name`` in the CSVs stays
as the source wrote it; pages, charts and alt text show ``display_name(stop_name)``.
"""

from __future__ import annotations

import functools
import math
import re
from typing import Iterable

__all__ = ["ABBREVIATIONS", "ACRONYMS", "INTERCHANGES", "display_name", "display_names", "interchanges"]

INTERCHANGES = {
    "<>": "Underground",
    "#": "National Rail",
    "[DLR]": "DLR",
    ">T<": "Tram",
    "<T>": "Tram",
    ">LOL<": "Overground",
    ">R<": "River Bus",
    "<R>": "River Bus",
}
"""TfL's interchange codes in stop names and what each means (July 2018 file: all of them)."""

ACRONYMS = frozenset(
    """
    A&E BBC BP BRL CEME CU DLR FC HM HMP HMS HQ IKEA KCL LSE NHS PRU QE QEII RAF RNLI TA TGI UCL UEL UK USA
    YMCA YWCA ZSL
    US SR CR MLK USF HCC VA HSBC TPA UATC PDQ NE NW SE SW
    II III IV VI VII VIII IX XI XII
    """.split()
)
"""Words kept in capitals (London's and Tampa's, and roman numerals)."""

ABBREVIATIONS = {
    "AVE": "Avenue",
    "BLDG": "Building",
    "CH": "Church",
    "CIR": "Circus",
    "CNR": "Corner",
    "CR": "Crescent",
    "CRES": "Crescent",
    "CRT": "Court",
    "CT": "Court",
    "CTR": "Centre",
    "DEPT": "Department",
    "EST": "Estate",
    "GDNS": "Gardens",
    "GRD": "Ground",
    "GRN": "Green",
    "GT": "Great",
    "H'SMITH": "Hammersmith",
    "HOSP": "Hospital",
    "INTERN'L": "International",
    "JCT": "Junction",
    "LN": "Lane",
    "MILLEN'M": "Millennium",
    "NTH": "North",
    "PK": "Park",
    "PL": "Place",
    "RAOD": "Road",
    "RD": "Road",
    "SCH": "School",
    "SQ": "Square",
    "STH": "South",
    "STN": "Station",
    "STNS": "Stations",
    "TER": "Terrace",
    "TN": "Town",
    "TWR": "Tower",
    "WESTMR": "Westminster",
}
"""Abbreviations written out in names set wholly in capitals (TfL's): a field width made them, not style."""

SMALL = frozenset({"of", "the", "and", "on", "in", "at", "by", "for", "upon", "under", "with"})
"""Words that stay in lower case inside a name."""

BOUND = {"EB": "eastbound", "WB": "westbound", "NB": "northbound", "SB": "southbound"}
COMPASS = {"N": "North", "S": "South", "E": "East", "W": "West"}
SIDE_CODES = frozenset({"N/S", "S/S", "E/S", "W/S", "F/S", "NS", "SS", "ES", "WS", "FS", "TP", "TB"})
"""Trailing stop-side (near, far, north...) and timing-point codes, dropped."""

_CODE = re.compile(r"<[A-Z]*>|>[A-Z]+<|\[[A-Z]+\]|#(?!\d)")
_ORDINAL = re.compile(r"^(\d+)(st|nd|rd|th)$", re.IGNORECASE)
_CODE_BRACKET = re.compile(r"(?:^|(?<=\s))\((?:\s*[0-9A-Z]*\d[0-9A-Z]*\s*\)|\s*\d\w{0,2}$)")
"""A stop number in brackets after a space: ``(8)``, ``(15042)``, ``(4126RTS)``, a cut-off ``(2n``."""
_SLASH = re.compile(r"(?<=[^\W\d_]|[.')])\s*/\s*(?=[^\W\d_]|\()")
"""A slash between two words (not in ``</b>`` or ``24/7``), spaced evenly."""
_WORD = re.compile(r"[^\W\d_]", re.UNICODE)


def interchanges(text: object) -> list[str]:
    """The interchanges TfL's codes in a stop name announce, in words, in the order written.

    Examples
    --------
    >>> interchanges("STRATFORD BUS STATION <>#[DLR]")
    ['Underground', 'National Rail', 'DLR']
    >>> interchanges("7th Av @ 22nd St")
    []
    """
    if _missing(text):
        return []
    out: list[str] = []
    capitals = not any(c.islower() for c in str(text))
    for code in _CODE.findall(str(text)):
        if code == "#" and not capitals:
            continue  # "Stop #2": a number sign, not National Rail
        word = INTERCHANGES.get(code)
        if word and word not in out:
            out.append(word)
    return out


def display_name(text: object) -> str:
    """A stop, route or area name cleaned for print (see the module notes).

    Parameters
    ----------
    text : str or None
        The name as the source wrote it; None and NaN give ``""``.

    Returns
    -------
    str
        One line, codes dropped, in title case where the source wrote capitals. The
        function is idempotent: a cleaned name comes back unchanged.

    Examples
    --------
    >>> display_name("STRATFORD BUS STATION <>#[DLR]")
    'Stratford Bus Station'
    >>> display_name("TOTTENHAM CRT RD STN <>/GT RUSSELL ST")
    'Tottenham Court Road Station / Great Russell St'
    >>> display_name("ST MARY'S CHURCH / PUTNEY PIER >R<")
    "St Mary's Church / Putney Pier"
    >>> display_name("HARROW-ON-THE-HILL STATION")
    'Harrow-on-the-Hill Station'
    >>> display_name("7th Av @  22nd St")
    '7th Av at 22nd St'
    """
    return "" if _missing(text) else _display(str(text))


@functools.lru_cache(maxsize=2**16)
def _display(s: str) -> str:
    """:func:`display_name` of a name (a feed names its stops again and again: each is cleaned once)."""
    s = re.sub(r"\s+", " ", s).strip()
    capitals = not any(c.islower() for c in s)
    s = _CODE.sub(lambda m: " " if m.group(0) != "#" or capitals else m.group(0), s)
    s = re.sub(r"\s*@\s*", " at ", s)
    s = _CODE_BRACKET.sub(" ", s)
    s = re.sub(r"\(\s+", "(", re.sub(r"\s+\)", ")", s))
    words = s.split()
    bound = ""
    while words and (words[-1].upper() in SIDE_CODES or words[-1].upper() in BOUND):
        code = words.pop().upper()
        bound = bound or BOUND.get(code, "")
    s = _SLASH.sub(" / ", " ".join(words))
    if capitals:
        s = _title(s)
    else:
        s = " ".join(_mend_word(w) for w in s.split())
    s = re.sub(r"\s+", " ", s).strip(" /-&")
    if bound and s:
        s += f" ({bound})"
    return s


def display_names(values: Iterable[object]):
    """:func:`display_name` of many names at once (each distinct name cleaned once).

    Parameters
    ----------
    values : pandas.Series or iterable of str

    Returns
    -------
    pandas.Series or list of str
        A Series with the same index for a Series; a list otherwise.
    """
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a dependency
        pd = None
    if pd is not None and isinstance(values, pd.Series):
        unique = {v: display_name(v) for v in values.dropna().unique()}
        return values.map(lambda v: unique.get(v, "") if not _missing(v) else "").astype(object)
    return [display_name(v) for v in values]


def _missing(text: object) -> bool:
    if text is None:
        return True
    if isinstance(text, float) and math.isnan(text):
        return True
    return type(text).__name__ in ("NAType", "NaTType")


def _title(s: str) -> str:
    """Title case for a name written wholly in capitals."""
    s = re.sub(r"\bKING'S X\b", "KING'S CROSS", s)
    s = re.sub(r"\bA ?& ?E\b", "A&E", s)
    # initials written apart ("Y M C A", "H M PRISON") are one acronym
    s = re.sub(r"\b(?:[A-Z] ){1,}[A-Z]\b", lambda m: m.group(0).replace(" ", ""), s)
    words = s.split(" ")
    out: list[str] = []
    start = True
    for k, word in enumerate(words):
        if word in ("/", "-", "&"):
            out.append(word)
            start = word != "&"
            continue
        last = k + 1 == len(words) or words[k + 1] == "/"
        if word == "GT" and last:
            out.append("Gate")  # Endymion Gate; Great Russell St
        elif start and word in COMPASS and not last:
            out.append(COMPASS[word])  # W Brompton
        else:
            out.append(_title_word(word, start))
        start = word.endswith("(")
    return " ".join(out)


def _title_word(word: str, start: bool) -> str:
    bare = word.rstrip(".")
    if bare.rstrip(")") != bare:
        return _title_word(bare.rstrip(")"), start) + ")" * (len(bare) - len(bare.rstrip(")")))
    if bare.startswith("("):
        return "(" + _title_word(bare[1:], True)
    if bare in ABBREVIATIONS:
        return ABBREVIATIONS[bare]
    if bare in ACRONYMS:
        return bare
    if "-" in bare:  # the first and last parts keep a capital: By-Pass, Harrow-on-the-Hill
        parts = bare.split("-")
        return "-".join(_title_part(p, k in (0, len(parts) - 1)) for k, p in enumerate(parts))
    return _title_part(bare, start)


def _title_part(part: str, start: bool) -> str:
    if not part:
        return part
    if part in ACRONYMS:
        return part
    if _ORDINAL.match(part):
        return part.lower()
    if any(c.isdigit() for c in part) or len(part) == 1:
        return part
    if not start and part.lower() in SMALL:
        return part.lower()
    if part.startswith("'") and part.endswith("'") and len(part) == 3:
        return part  # 'B' Block
    if part.startswith("MC") and len(part) > 3:
        return "Mc" + part[2:].capitalize()
    if part.startswith("O'") and len(part) > 2:
        return "O'" + part[2:].capitalize()
    return part[0].upper() + part[1:].lower()


def _mend_word(word: str) -> str:
    """One word of a mixed-case name: capitals that are not acronyms to title case, ordinals mended."""
    m = _ORDINAL.match(word)
    if m:
        return m.group(1) + m.group(2).lower()
    if word == "Us":
        return "US"
    letters = "".join(_WORD.findall(word))
    if len(letters) >= 2 and letters.isupper() and not any(c.isdigit() for c in word):
        core = word.strip("().,")
        if core in ACRONYMS or "." in core or "/" in core:
            return word
        i = word.index(core) if core else 0
        return word[:i] + core[0] + core[1:].lower() + word[i + len(core) :]
    return word
