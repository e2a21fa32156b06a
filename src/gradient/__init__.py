"""gradient: how life expectancy changes stop by stop along public transport routes.

The library reads a transit source into stop patterns (:mod:`gradient.gtfs`), small
areas with life expectancy (:mod:`gradient.areas`), assigns each stop a value
(:mod:`gradient.assign`), summarises each pattern (:mod:`gradient.gradient`) and
draws maps and charts (:mod:`gradient.maps`, :mod:`gradient.charts`).
:mod:`gradient.pipeline` joins them in one call.
"""

from .errors import AreasError, FeedError, GradientError, GradientWarning, InputError, NetworkError

__version__ = "0.1.0"

__all__ = ["AreasError", "FeedError", "GradientError", "GradientWarning", "InputError", "NetworkError", "__version__"]
