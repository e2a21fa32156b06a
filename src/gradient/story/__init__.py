"""Story: what may be said about the figures, in the words and names readers know.

- :mod:`gradient.story.names`: every stop, route and area name as readers see it;
- :mod:`gradient.story.words`: every phrase a reader sees (sentences, titles, labels, the
  count of stretches, power, credits);
- :mod:`gradient.story.tables`: the outward tables, figures and words together.
"""

from typing import TYPE_CHECKING

from .._lazy import attach

__getattr__, __dir__ = attach(
    __name__,
    {
        "display_name": "names",
        "Voice": "words",
        "headline": "words",
        "count_sentence": "words",
        "credit_text": "words",
        "stop_table": "tables",
        "pattern_table": "tables",
        "stretch_table": "tables",
    },
)

__all__ = [
    "Voice",
    "count_sentence",
    "credit_text",
    "display_name",
    "headline",
    "pattern_table",
    "stop_table",
    "stretch_table",
]

if TYPE_CHECKING:  # pragma: no cover
    from .names import display_name
    from .tables import pattern_table, stop_table, stretch_table
    from .words import Voice, count_sentence, credit_text, headline
