"""Is a table's level that of the official series? A check against a reference for its period.

Small-area life expectancy from an unofficial or unconfirmed source can be off by years as a
whole (the 2016-2020 MSOA table once bundled here averages 2.3 years above the official
series). :func:`check_level` compares the mean of a table's areas with the mean of the same
kind of areas in an official release for the nearest period, and says how far apart they
are; the gap goes into a warning and into the table's credit.

References are known for England's 2011 MSOAs (codes ``E02...``): the unweighted mean over
MSOAs of ONS's own 2009-2013 release and of OHID's Local Health 2015-2019 values
(``data/raw/README.md``). Persons, where a release gives only males and females, are taken
as the mean of the two (close to, not exactly, the persons figure).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

TOLERANCE = 1.0
"""Years between a table's mean and its reference beyond which the level is in doubt.

National life expectancy in England moved by a few tenths of a year between the reference
periods; a gap over a year is not a change over time."""


@dataclass(frozen=True)
class Reference:
    """The mean life expectancy of one kind of area in an official release.

    Attributes
    ----------
    pattern : str
        A regular expression the area codes match (England's MSOAs: ``E02`` and six digits).
    unit : str
        What the areas are called.
    first, last : int
        The release's period.
    means : dict
        Unweighted mean over the areas, years, by sex.
    source : str
        The release, as a reader should see it.
    """

    pattern: str
    unit: str
    first: int
    last: int
    means: dict[str, float]
    source: str

    @property
    def period(self) -> str:
        """``"2015-2019"``."""
        return f"{self.first}-{self.last}"


REFERENCES = (
    Reference(
        r"E02\d{6}",
        "MSOAs",
        2009,
        2013,
        {"male": 79.20, "female": 83.41, "persons": 81.31},
        "ONS, life expectancy by MSOA, 2009 to 2013",
    ),
    Reference(
        r"E02\d{6}",
        "MSOAs",
        2015,
        2019,
        {"male": 79.65, "female": 83.51, "persons": 81.58},
        "OHID Local Health, life expectancy by MSOA, 2015 to 2019",
    ),
)
"""Official reference levels (unweighted means over areas), measured from the bundled releases."""


@dataclass(frozen=True)
class LevelCheck:
    """How far a table's level is from its reference.

    Attributes
    ----------
    mean : float
        The table's unweighted mean over the areas the reference knows, years.
    reference : Reference
    sex : str
    gap : float
        ``mean`` minus the reference's mean, years.
    """

    mean: float
    reference: Reference
    sex: str
    gap: float

    @property
    def in_doubt(self) -> bool:
        """Whether the gap exceeds :data:`TOLERANCE`."""
        return abs(self.gap) > TOLERANCE

    def note(self) -> str:
        """One sentence for a warning and a credit line."""
        side = "above" if self.gap > 0 else "below"
        ref = self.reference
        return (
            f"Its {ref.unit} average {self.mean:.1f} years ({self.sex}), {abs(self.gap):.1f} years {side} the "
            f"official series for {ref.period} ({ref.source}: {ref.means[self.sex]:.1f})."
        )


def period_years(period: str) -> tuple[int, int] | None:
    """The first and last year of a period written ``"2016-2020"`` or ``"2016 to 2020"``, or None."""
    years = [int(y) for y in re.findall(r"(?<!\d)(19\d\d|20\d\d)(?!\d)", period or "")]
    return (min(years), max(years)) if years else None


def check_level(table: pd.DataFrame, period: str, sex: str) -> LevelCheck | None:
    """Compare a table's level with the official reference nearest its period.

    Parameters
    ----------
    table : pandas.DataFrame
        ``area_id`` and ``le`` (years).
    period : str
        The table's period, e.g. ``"2016-2020"``.
    sex : str
        ``persons``, ``male`` or ``female``.

    Returns
    -------
    LevelCheck or None
        None where no reference knows these areas, sex and period (within five years).

    Examples
    --------
    >>> t = pd.DataFrame({"area_id": [f"E02{i:06d}" for i in range(40)], "le": 84.0})
    >>> round(check_level(t, "2016-2020", "persons").gap, 2)
    2.42
    """
    years = period_years(period)
    if years is None or not sex:
        return None
    mid = sum(years) / 2
    best: tuple[float, Reference] | None = None
    ids = table["area_id"].astype("string")
    for ref in REFERENCES:
        if sex not in ref.means:
            continue
        distance = abs((ref.first + ref.last) / 2 - mid)
        if distance <= 5 and (best is None or distance < best[0]):
            best = (distance, ref)
    if best is None:
        return None
    ref = best[1]
    known = ids.str.fullmatch(ref.pattern).fillna(False).to_numpy(bool) & np.isfinite(table["le"].to_numpy(float))
    if known.sum() < 30:  # too few of the reference's areas to speak of a level
        return None
    mean = float(table["le"].to_numpy(float)[known].mean())
    gap = mean - ref.means[sex]
    return LevelCheck(mean, ref, sex, gap) if math.isfinite(gap) else None


__all__ = ["REFERENCES", "TOLERANCE", "LevelCheck", "Reference", "check_level", "period_years"]
