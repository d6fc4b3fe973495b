"""An area's register: which store it uses, and which ward a record falls in."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry.base import BaseGeometry

from assetmap import settings
from assetmap.io.export import table_bytes
from assetmap.record import FIELDS, ward_level
from assetmap.store import REGISTER_FILE, open_store
from assetmap.store.base import RegisterStore
from assetmap.taxonomy import Taxonomy


def is_demo_area(folder: str | Path) -> bool:
    """Return True where ``folder`` is the built-in demo area (``settings.demo_area_path``).

    Its folder is package data, read-only once installed: nothing is written inside it.
    """
    try:
        return Path(folder).resolve() == Path(settings.demo_area_path).resolve()
    except OSError:
        return False


def register_file(folder: str | Path) -> Path:
    """Return the SQLite file of an area's own register (the one used where no register is shared).

    ``<folder>/register.sqlite``, except for the built-in demo area: its folder may be
    read-only (an installed package), so its register is ``demo/register.sqlite`` in
    ``settings.cache_dir``.

    Parameters
    ----------
    folder : str or Path
        An area folder.

    Returns
    -------
    Path
        The file, which may not exist yet.
    """
    if is_demo_area(folder):
        return Path(settings.cache_dir) / "demo" / REGISTER_FILE
    return Path(folder) / REGISTER_FILE


def has_register(folder: str | Path) -> bool:
    """Return True where an area has a register to read: a shared one is set, or its own file exists.

    Readers ask this before :func:`open_area_register`, which would create an empty one.
    """
    return bool(settings.register_url) or register_file(folder).is_file()


def open_area_register(folder: str | Path, *, taxonomy: Taxonomy | None = None) -> RegisterStore:
    """Open the register an area uses: the shared one named by ``settings.register_url``, else its own.

    Every way into an area's register (the form, bulk uploads, officers' edits, imports
    from OpenStreetMap, Open Referral and 360Giving, the Data page, the command line)
    opens it here, so that with a shared register nothing lands where neither the map
    nor the Moderate page looks.

    Parameters
    ----------
    folder : str or Path
        An area folder (its ``register.sqlite``, see :func:`register_file`, is the register when none is shared).
    taxonomy : Taxonomy, optional
        Asset types and elements used to check records (default: the area's, see
        :func:`assetmap.area.manifest.area_taxonomy`).

    Returns
    -------
    RegisterStore
    """
    from assetmap.area.manifest import MANIFEST, area_taxonomy

    if taxonomy is None and (Path(folder) / MANIFEST).is_file():
        taxonomy = area_taxonomy(folder)  # the area's own types, where it carries them
    return open_store(settings.register_url or register_file(folder), taxonomy=taxonomy)


def area_codes_of(
    longitude: Sequence[float], latitude: Sequence[float], boundaries: gpd.GeoDataFrame
) -> list[str | None]:
    """Return the code of the ward (or neighbourhood) holding each WGS84 point; None outside every one.

    Parameters
    ----------
    longitude, latitude : sequence of float
        WGS84 degrees.
    boundaries : GeoDataFrame
        The area's ``code``/``name`` polygons (any CRS).
    """
    from assetmap.analysis.assign import assign_to_areas

    if not len(longitude):
        return []
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(longitude, latitude, crs=settings.storage_crs)).to_crs(
        boundaries.crs
    )
    codes = assign_to_areas(points, boundaries)["area_code"]
    return [None if pd.isna(c) else str(c) for c in codes]


def _area_wards(area_dir: str | Path) -> gpd.GeoDataFrame:
    from assetmap.area.manifest import layer_path, read_manifest
    from assetmap.io.boundaries import read_boundaries

    root = Path(area_dir)
    spec = read_manifest(root)["layers"]["boundaries"]
    options = {key: spec.get(key) for key in ("code_col", "name_col", "layer", "crs")}
    return read_boundaries(layer_path(root, spec, "boundaries"), **options)


def area_polygon(area_dir: str | Path) -> BaseGeometry:
    """Return the union of an area folder's boundaries in WGS84 (for online downloads)."""
    return _area_wards(area_dir).to_crs(settings.storage_crs).geometry.union_all()


def ward_finder(area_dir: str | Path) -> Callable[[Sequence[float], Sequence[float]], list[str | None]]:
    """Return a function giving the code of the area folder's ward holding each (longitude, latitude).

    Records imported into a register shared by several areas carry it, so that each
    area's map and pages find the records in its own wards.
    """
    from assetmap.area.register import area_codes_of

    wards = _area_wards(area_dir)
    return lambda longitude, latitude: area_codes_of(longitude, latitude, wards)


_NOT_TEXT = ("elements", "longitude", "latitude", "sensitive", "last_confirmed")


def register_assets(
    folder: str | Path,
    *,
    taxonomy: Taxonomy | None = None,
    boundaries: gpd.GeoDataFrame | None = None,
    buffer_m: float | None = None,
) -> gpd.GeoDataFrame | None:
    """Approved records of an area folder's embedded register, shaped like a register file's layer.

    Parameters
    ----------
    folder : str or Path
        An area folder.
    taxonomy : Taxonomy, optional
        Asset types and elements.
    boundaries : GeoDataFrame, optional
        The area's wards (EPSG:27700). Where ``settings.register_url`` names a register
        shared by several areas, only its records in these wards or within ``buffer_m``
        of them are read (:func:`assetmap.analysis.assign.place_points`, the rule for
        every asset layer): those in the buffer count for the area's walking access.
    buffer_m : float, optional
        Metres of the border band (default ``settings.asset_buffer_m``).

    Returns
    -------
    GeoDataFrame or None
        Approved records without private fields, with ``file`` (the register's file
        name), ``row`` (None) and ``location_method`` (``lonlat``) as
        :func:`assetmap.io.assets.read_assets` gives; None where there is no
        register (none is created).
    """
    shared = settings.register_url
    if not has_register(folder):
        return None
    with open_area_register(folder, taxonomy=taxonomy) as store:
        frame = store.records(public=True)
    if shared and boundaries is not None:
        from assetmap.analysis.assign import OUTSIDE, check_buffer_m, place_points

        if buffer_m is None:
            buffer_m = check_buffer_m(settings.asset_buffer_m, field="ASSETMAP_ASSET_BUFFER_M")
        # Other areas' records: not this area's, so left out without a note.
        frame = frame[place_points(frame, boundaries.to_crs(frame.crs), buffer_m)["extent"].ne(OUTSIDE).to_numpy()]
    frame = frame.drop(columns=["area_code"])
    # Text as pandas strings, as a register file gives them, so the two combine cleanly.
    for column in frame.columns:
        if column in FIELDS and column not in _NOT_TEXT:
            frame[column] = frame[column].astype("string")
    frame["location_method"] = "lonlat"
    frame["row"] = None
    frame["file"] = REGISTER_FILE
    return frame


def export_register(
    store: RegisterStore,
    fmt: str = "csv",
    *,
    officer: bool = False,
    status: str | Sequence[str] | None = None,
    area_code: str | Sequence[str] | None = None,
    element: int | Sequence[int] | None = None,
) -> bytes:
    """Return the register as a file's bytes (CSV, XLSX, GeoJSON or GeoPackage).

    Spreadsheet cells that would run as formulae (``=``, ``+``, ``-``, ``@``, tab,
    CR) start with a quote (:func:`assetmap.io.export.neutralise_formulae`).

    Parameters
    ----------
    store : RegisterStore
        The register.
    fmt : {"csv", "xlsx", "geojson", "gpkg"}
        The format.
    officer : bool
        False (the default): approved records without private fields, as anyone may
        see, a sensitive record at ward level only (its ``area_code``; no address,
        postcode, coordinates or geometry). True: every record (or those the filters
        select) with every field.
    status, area_code, element
        Filters, as :meth:`assetmap.store.base.RegisterStore.records` takes them.
    """
    frame = store.records(public=not officer, status=status, area_code=area_code, element=element)
    if not officer:
        frame = ward_level(frame)
    return table_bytes(frame, fmt, layer="register")
