"""Print-ready PDF maps of a ward, or of every ward as one pack, drawn with matplotlib in EPSG:27700.

Each ward gets a map page and one or more pages of facts and an asset index:

- the map: the ward outlined, its neighbours faint and labelled, the LSOAs inside shaded by
  national IMD decile (decile 1 darkest) or by the gap index of one element or pillar, the
  area's street network as an offline base (major roads heavier), approved assets numbered
  with a symbol and colour per pillar, a legend, a scale bar, a north arrow, an inset locator
  of the ward in the authority, and an optional QR code linking to the ward in the app;
- the facts box (residents, IMD score and national percentile, residents in deciles 1-2,
  access by pillar beside the whole area) and the numbered index of assets (name, type,
  elements, address, public contact, last confirmed), which flows over as many pages as it
  needs;
- every page has a footer with the data's attribution and, for the demo area, says the data
  are fictional.

The output is vector PDF (only the QR code is a tiny image). Only approved records are
printed, private contact fields never, and an asset at a sensitive location is listed by name
without its address and never drawn as a point (:func:`assetmap.analysis.profile.ward_assets`).

Rendering uses :class:`matplotlib.figure.Figure` and the PDF backend directly, never pyplot's
global state, so pages can be made in several threads at once (as inside the app). Work that
every ward of a pack shares (street segments, polygon paths, shading, the gap table, fonts) is
done once by :func:`prepare_print`.

The work is split by concern: :mod:`~assetmap.render.printmap.text` (the font, wrapping,
writing), :mod:`~assetmap.render.printmap.layout` (page geometry), :mod:`~assetmap.render.printmap.base`
(the street base and its names), :mod:`~assetmap.render.printmap.labels` (labels that never overlap),
:mod:`~assetmap.render.printmap.layers` (what a print job shares),
:mod:`~assetmap.render.printmap.content` (one ward's facts and index rows),
:mod:`~assetmap.render.printmap.mappage` (the map page), :mod:`~assetmap.render.printmap.pages`
(the other pages) and :mod:`~assetmap.render.printmap.pack` (the print jobs). The names
below are the public ones.
"""

from __future__ import annotations

from assetmap.io.streets import HIGHWAY_CLASS
from assetmap.render.printmap.base import STREET_STYLES, Streets, street_base, street_segments
from assetmap.render.printmap.layers import COLOUR_BY, PrintLayers, prepare_print
from assetmap.render.printmap.layout import INDEX_COLUMNS, LAYOUTS, ORIENTATIONS, PAPER_MM, PageLayout, page_layout
from assetmap.render.printmap.pack import (
    ProgressCallback,
    print_pack,
    print_pack_zip,
    print_ward,
    ward_file_name,
    ward_preview_png,
    write_pack,
)
from assetmap.render.printmap.text import FONT_FAMILY, MAX_CELL_LINES, PLACEHOLDER, clean_text

__all__ = [
    "COLOUR_BY",
    "FONT_FAMILY",
    "HIGHWAY_CLASS",
    "INDEX_COLUMNS",
    "LAYOUTS",
    "MAX_CELL_LINES",
    "ORIENTATIONS",
    "PAPER_MM",
    "PLACEHOLDER",
    "STREET_STYLES",
    "PageLayout",
    "PrintLayers",
    "ProgressCallback",
    "Streets",
    "clean_text",
    "page_layout",
    "prepare_print",
    "print_pack",
    "print_pack_zip",
    "print_ward",
    "street_base",
    "street_segments",
    "ward_file_name",
    "ward_preview_png",
    "write_pack",
]
