"""Stats: the one uncertainty model, every figure and interval from it, and the ranking.

- :mod:`gradient.stats.uncertainty`: the model (exact standard errors of linear
  combinations, and simultaneous critical values by seeded simulation);
- :mod:`gradient.stats.figures`: stop-to-stop tests and every pattern's figures;
- :mod:`gradient.stats.trends`: slopes along a pattern;
- :mod:`gradient.stats.claims`: every claim a sentence may make, its one critical value and verdict;
- :mod:`gradient.stats.ranking`: the order of routes and the rank sets;
- :mod:`gradient.stats.stretches`: stretches of street, each listed once, and their count;
- :mod:`gradient.stats.calibration`: the run's verdicts on simulated estimates (the calibration).
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
        "critical_values": "uncertainty",
        "stop_tests": "figures",
        "pattern_stats": "figures",
        "grouped_reject": "figures",
        "Claims": "claims",
        "build": "claims",
        "power_step": "claims",
        "rank_routes": "ranking",
        "rank_sets": "ranking",
        "Stretches": "stretches",
        "stretches": "stretches",
    },
)

__all__ = [
    "Claims",
    "Family",
    "Model",
    "Stretches",
    "build",
    "combination_se",
    "critical_values",
    "grouped_reject",
    "pair_se",
    "pattern_stats",
    "power_step",
    "rank_routes",
    "rank_sets",
    "simultaneous_quantiles",
    "stop_tests",
    "stretches",
]

if TYPE_CHECKING:  # pragma: no cover
    from .claims import Claims, build, power_step
    from .figures import grouped_reject, pattern_stats, stop_tests
    from .ranking import rank_routes, rank_sets
    from .stretches import Stretches, stretches
    from .uncertainty import Family, Model, combination_se, critical_values, pair_se, simultaneous_quantiles
