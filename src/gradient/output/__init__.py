"""Output: the run's folder, and what is written into it.

- :func:`write_outputs` (:mod:`gradient.output.write`): the tables, and the maps and charts
  of the top stories (drawn by :mod:`gradient.present`, imported only when asked for);
- :func:`staged_dir` (:mod:`gradient.output.folder`): the one owner of an output folder.
"""

from typing import TYPE_CHECKING

from .._lazy import attach

__getattr__, __dir__ = attach(
    __name__,
    {
        "write_outputs": "write",
        "top_stories": "write",
        "mapped_patterns": "write",
        "staged_dir": "folder",
        "previous_outputs": "folder",
    },
)

__all__ = ["mapped_patterns", "previous_outputs", "staged_dir", "top_stories", "write_outputs"]

if TYPE_CHECKING:  # pragma: no cover
    from .folder import previous_outputs, staged_dir
    from .write import mapped_patterns, top_stories, write_outputs
