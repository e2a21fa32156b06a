"""Story: what may be said about the figures, in the words and names readers know.

- :mod:`gradient.story.names`: every stop, route and area name as readers see it;
- :mod:`gradient.story.headline`: the printable sentence, labels, titles and credit line;
- :mod:`gradient.story.tables`: the two outward tables, figures and words together.
"""

from typing import TYPE_CHECKING

from .._lazy import attach

__getattr__, __dir__ = attach(
    __name__,
    {
        "display_name": "names",
        "credit": "headline",
        "stop_table": "tables",
        "pattern_table": "tables",
    },
)

__all__ = ["credit", "display_name", "pattern_table", "stop_table"]

if TYPE_CHECKING:  # pragma: no cover
    from .headline import credit
    from .names import display_name
    from .tables import pattern_table, stop_table
