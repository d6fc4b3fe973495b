"""One area's layers, loaded from an area folder, all in EPSG:27700.

An area folder holds an ``area.toml`` manifest naming its layer files; see
:func:`init_area` to create one and :func:`load_area` to read one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd


@dataclass
class Area:
    """One area's layers, ready for analysis.

    Attributes
    ----------
    name : str
        Display name of the area (a borough, a city...).
    boundaries : GeoDataFrame
        Wards or neighbourhoods: ``code``, ``name``, ``geometry`` (EPSG:27700).
    small_areas : GeoDataFrame
        LSOAs: ``code``, ``name``, ``geometry`` (EPSG:27700); ``attrs['lsoa_vintage']`` is 2011 or 2021.
    deprivation : DataFrame
        One row per LSOA in the canonical deprivation columns (``lsoa_code``,
        ``imd_score``, ``imd_rank``, ``imd_decile``, domain columns, ``population``).
    lookup : DataFrame
        LSOA to area: ``lsoa_code``, ``area_code``, ``weight`` (share of the LSOA's
        population in the area; 1 for a best-fit lookup).
    assets : GeoDataFrame
        The asset register: record fields (see :mod:`assetmap.model`), ``pillars``,
        ``area_code``, ``area_name`` and point ``geometry`` (EPSG:27700).
    postcodes : DataFrame or None
        Postcode lookup: ``postcode``, ``longitude``, ``latitude``, ``lsoa_code``, ``terminated``.
    network_path : Path or None
        Street network file (OSM XML or GraphML), loaded on demand by :meth:`network`.
    path : Path or None
        The area folder.
    code : str or None
        GSS code of the authority, where there is one.
    fictional : bool
        True for the demo area: every view says so.
    vintages : dict
        Layer name to a short description of its edition ("IoD2025", "Wards May 2024").
    notes : list of str
        What was repaired or assumed while loading, for display.
    """

    name: str
    boundaries: gpd.GeoDataFrame
    small_areas: gpd.GeoDataFrame
    deprivation: pd.DataFrame
    lookup: pd.DataFrame
    assets: gpd.GeoDataFrame
    postcodes: pd.DataFrame | None = None
    network_path: Path | None = None
    path: Path | None = None
    code: str | None = None
    fictional: bool = False
    vintages: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)
