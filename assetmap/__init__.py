"""assetmap: community asset mapping against deprivation, by ward and neighbourhood.

The public API, for notebooks and scripts::

    import assetmap
    from assetmap.datasets import get_path
    area = assetmap.load_area(get_path("eastbrook"))   # the built-in fictional demo area
    area.area_summary()                                 # deprivation and assets per ward

Names are imported on first use, so ``import assetmap`` stays quick and the
command line starts without loading the geospatial stack.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "AccessResult": "assetmap.analysis.access",
    "WalkGraph": "assetmap.analysis.walkgraph",
    "compute_access": "assetmap.analysis.access",
    "resident_points": "assetmap.analysis.residents",
    "walk_graph_from_networkx": "assetmap.analysis.walkgraph",
    "walk_graph_from_edges": "assetmap.analysis.walkgraph",
    "access_shares": "assetmap.analysis.shares",
    "gap_table": "assetmap.analysis.gaps",
    "method_note": "assetmap.analysis.note",
    "need_percentile": "assetmap.analysis.gaps",
    "what_if": "assetmap.analysis.scenario",
    "suggest_sites": "assetmap.analysis.scenario",
    "WhatIf": "assetmap.analysis.scenario",
    "GapAnalysis": "assetmap.area.coverage",
    "analyse_gaps": "assetmap.area.coverage",
    "AreaError": "assetmap._errors",
    "AssetMapError": "assetmap._errors",
    "AssetMapWarning": "assetmap._errors",
    "CRSError": "assetmap._errors",
    "DataFormatError": "assetmap._errors",
    "Problem": "assetmap._errors",
    "ValidationError": "assetmap._errors",
    "assign_to_areas": "assetmap.analysis.assign",
    "lookup_from_geometry": "assetmap.analysis.assign",
    "local_authority_summary": "assetmap.analysis.deprivation",
    "summarise_deprivation": "assetmap.analysis.deprivation",
    "flag_duplicates": "assetmap.io.assets",
    "read_assets": "assetmap.io.assets",
    "read_boundaries": "assetmap.io.boundaries",
    "read_small_areas": "assetmap.io.boundaries",
    "read_deprivation": "assetmap.io.deprivation",
    "read_population": "assetmap.io.deprivation",
    "write_table": "assetmap.io.export",
    "read_lookup": "assetmap.io.lookups",
    "read_network": "assetmap.io.network",
    "read_postcodes": "assetmap.io.postcodes",
    "print_ward": "assetmap.render.printmap",
    "print_pack": "assetmap.render.printmap",
    "load_taxonomy": "assetmap.taxonomy",
    "Area": "assetmap.area.load",
    "init_area": "assetmap.area.create",
    "LayerColumns": "assetmap.area.create",
    "LayerOptions": "assetmap.area.create",
    "load_area": "assetmap.area.load",
}

__all__ = [
    "AccessResult",
    "Area",
    "AreaError",
    "AssetMapError",
    "AssetMapWarning",
    "CRSError",
    "DataFormatError",
    "GapAnalysis",
    "LayerColumns",
    "LayerOptions",
    "Problem",
    "ValidationError",
    "WalkGraph",
    "WhatIf",
    "__version__",
    "access_shares",
    "analyse_gaps",
    "assign_to_areas",
    "compute_access",
    "flag_duplicates",
    "gap_table",
    "init_area",
    "load_area",
    "load_taxonomy",
    "local_authority_summary",
    "lookup_from_geometry",
    "method_note",
    "need_percentile",
    "print_pack",
    "print_ward",
    "read_assets",
    "read_boundaries",
    "read_deprivation",
    "read_lookup",
    "read_network",
    "read_population",
    "read_postcodes",
    "read_small_areas",
    "resident_points",
    "suggest_sites",
    "summarise_deprivation",
    "walk_graph_from_edges",
    "walk_graph_from_networkx",
    "what_if",
    "write_table",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'assetmap' has no attribute '{name}'")


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # pragma: no cover - for type checkers and editors only
    from assetmap._errors import (
        AreaError,
        AssetMapError,
        AssetMapWarning,
        CRSError,
        DataFormatError,
        Problem,
        ValidationError,
    )
    from assetmap.analysis.access import AccessResult, compute_access
    from assetmap.analysis.assign import assign_to_areas, lookup_from_geometry
    from assetmap.analysis.deprivation import local_authority_summary, summarise_deprivation
    from assetmap.analysis.gaps import gap_table, need_percentile
    from assetmap.analysis.note import method_note
    from assetmap.analysis.residents import resident_points
    from assetmap.analysis.scenario import WhatIf, suggest_sites, what_if
    from assetmap.analysis.shares import access_shares
    from assetmap.analysis.walkgraph import WalkGraph, walk_graph_from_edges, walk_graph_from_networkx
    from assetmap.area.coverage import GapAnalysis, analyse_gaps
    from assetmap.area.create import LayerColumns, LayerOptions, init_area
    from assetmap.area.load import Area, load_area
    from assetmap.io.assets import flag_duplicates, read_assets
    from assetmap.io.boundaries import read_boundaries, read_small_areas
    from assetmap.io.deprivation import read_deprivation, read_population
    from assetmap.io.export import write_table
    from assetmap.io.lookups import read_lookup
    from assetmap.io.network import read_network
    from assetmap.io.postcodes import read_postcodes
    from assetmap.render.printmap import print_pack, print_ward
    from assetmap.taxonomy import load_taxonomy
