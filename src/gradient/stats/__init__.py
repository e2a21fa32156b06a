"""Stats: the one uncertainty model, every figure and interval from it, and the ranking.

- :mod:`gradient.stats.uncertainty`: the model (exact standard errors of linear
  combinations, and simultaneous critical values by seeded simulation);
- :mod:`gradient.stats.figures`: stop-to-stop tests and every pattern's figures;
- :mod:`gradient.stats.trends`: slopes along a pattern;
- :mod:`gradient.stats.claims`: what the intervals support (the one decision function);
- :mod:`gradient.stats.ranking`: the order of routes.
"""

from typing import TYPE_CHECKING

from .._lazy import attach

__getattr__, __dir__ = attach(
    __name__,
    {
        "Model": "uncertainty",
        "Family": "uncertainty",
        "combination_se": "uncertainty",
        "pair_se": "uncertainty",
        "simultaneous_quantiles": "uncertainty",
        "stop_tests": "figures",
        "pattern_stats": "figures",
        "grouped_reject": "figures",
        "windows": "figures",
        "Claim": "claims",
        "decide": "claims",
        "lead": "claims",
    },
)

__all__ = [
    "Claim",
    "Family",
    "Model",
    "combination_se",
    "decide",
    "grouped_reject",
    "lead",
    "pair_se",
    "pattern_stats",
    "simultaneous_quantiles",
    "stop_tests",
    "windows",
]

if TYPE_CHECKING:  # pragma: no cover
    from .claims import Claim, decide, lead
    from .figures import grouped_reject, pattern_stats, stop_tests, windows
    from .uncertainty import Family, Model, combination_se, pair_se, simultaneous_quantiles
