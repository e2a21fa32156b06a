"""Presentation: maps, the network map, profile charts, colour scales and embeds.

Nothing here is imported by the rest of the library except when something is drawn,
so ``import gradient`` and a run without maps never load folium or matplotlib.

- :func:`route_map` and :func:`network_map` (folium, self-contained pages),
- :func:`profile` (matplotlib), :func:`save_figure`,
- :func:`save_embed` and :func:`save_html`, :func:`reference_scale`, :func:`areas_scale` and :class:`Scale`;
- names shown to readers come from :func:`gradient.story.names.display_name`, the highlighted stretch
  and titles from :mod:`gradient.present.story`.
"""

from .charts import profile, profile_chart, save_figure
from .colours import Scale, areas_scale, reference_scale
from .embed import save_embed, save_html
from .maps import draw_route_map, route_map
from .netmap import draw_network_map, network_map

__all__ = [
    "Scale",
    "areas_scale",
    "draw_network_map",
    "draw_route_map",
    "network_map",
    "profile",
    "profile_chart",
    "reference_scale",
    "route_map",
    "save_embed",
    "save_figure",
    "save_html",
]
