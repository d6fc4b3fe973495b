"""Interactive web map of an area: shaded wards or neighbourhoods and the assets in them.

The map is for the screen only (printing is :mod:`assetmap.render.printmap`).
Geometry is reprojected to WGS84, lightly simplified and rounded to about a
metre, which keeps the page small without changing what anyone can see.

Folium writes popups, tooltips and layer names into the page as raw HTML, so
every string that came from a user or a file passes through :func:`safe_text`
first. Only approved records are drawn, private fields never reach the page,
and records with a sensitive location are counted in their area but never
drawn as points.

The work is split by concern: :mod:`~assetmap.render.webmap.safe` (:func:`safe_text`, the
one escaping function), :mod:`~assetmap.render.webmap.screen` (geometry and scripts for the
browser), :mod:`~assetmap.render.webmap.points` (assets, popups, symbols),
:mod:`~assetmap.render.webmap.layers` (measures, the area and catchment layers),
:mod:`~assetmap.render.webmap.legend`, :mod:`~assetmap.render.webmap.place` (one record's
place, to correct on the Moderate page) and :mod:`~assetmap.render.webmap.shell` (the base
map, :func:`map_layers` and :func:`area_map`); :mod:`~assetmap.render.webmap.sites` draws the
Plan page's candidate and suggested sites and reach. The names below are the public ones.
"""

from __future__ import annotations

from assetmap.render.webmap.layers import (
    AREA_CLASS,
    CATCHMENT_CLASS,
    CATCHMENT_COLOUR,
    MEASURES,
    Measure,
    classify_measure,
)
from assetmap.render.webmap.legend import legend_html
from assetmap.render.webmap.place import POSTCODE_CLASS, at_postcode, metres_between, place_map
from assetmap.render.webmap.points import (
    ASSET_CLASS,
    POPUP_CSS,
    POPUP_ROWS,
    filter_by_pillars,
    map_notes,
    pillar_symbol,
    pillar_symbol_img,
    points_to_draw,
    popup_fields,
    popup_html,
)
from assetmap.render.webmap.safe import safe_text
from assetmap.render.webmap.screen import CLUSTER_CSS, CLUSTER_JS, COORD_DECIMALS, MAP_CSS, MAP_JS, WebLib
from assetmap.render.webmap.shell import (
    CLUSTER_ABOVE,
    DEFAULT_TILES,
    MapDisplay,
    MapLayers,
    area_map,
    base_map,
    map_layers,
    map_table,
)

__all__ = [
    "AREA_CLASS",
    "ASSET_CLASS",
    "CATCHMENT_CLASS",
    "CATCHMENT_COLOUR",
    "CLUSTER_ABOVE",
    "CLUSTER_CSS",
    "CLUSTER_JS",
    "COORD_DECIMALS",
    "DEFAULT_TILES",
    "MAP_CSS",
    "MAP_JS",
    "MEASURES",
    "POPUP_CSS",
    "POPUP_ROWS",
    "POSTCODE_CLASS",
    "MapDisplay",
    "MapLayers",
    "Measure",
    "WebLib",
    "area_map",
    "at_postcode",
    "base_map",
    "classify_measure",
    "filter_by_pillars",
    "legend_html",
    "map_layers",
    "map_notes",
    "map_table",
    "metres_between",
    "pillar_symbol",
    "pillar_symbol_img",
    "place_map",
    "points_to_draw",
    "popup_fields",
    "popup_html",
    "safe_text",
]
