"""The asset register store: one interface, SQLite (embedded default) or PostgreSQL/PostGIS.

Open a store with :func:`open_store`::

    store = open_store("data/myborough")                  # <area>/register.sqlite
    store = open_store("postgresql://user@host/register")  # shared database

then ``submit``/``bulk_add`` records (pending), moderate them (``approve``,
``reject``, ``withdraw``, ``edit``, ``merge``, ``confirm``), read them
(``records``, ``get``, ``audit``) and ``export`` them. See
:class:`~assetmap.store.base.RegisterStore`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd

from assetmap import settings
from assetmap.model import FIELDS
from assetmap.store.base import (
    EDITABLE_FIELDS,
    ConflictError,
    RecordNotFoundError,
    RegisterStore,
    StoreBusyError,
    StoreError,
    TransitionError,
)
from assetmap.store.bulk import parse_bulk
from assetmap.store.duplicates import find_duplicates
from assetmap.taxonomy import Taxonomy

_NOT_TEXT = ("elements", "longitude", "latitude", "sensitive", "last_confirmed")

#: File name of the embedded register inside an area folder.
REGISTER_FILE = "register.sqlite"

__all__ = [
    "EDITABLE_FIELDS",
    "REGISTER_FILE",
    "ConflictError",
    "RecordNotFoundError",
    "RegisterStore",
    "StoreBusyError",
    "StoreError",
    "TransitionError",
    "find_duplicates",
    "has_register",
    "open_area_register",
    "open_store",
    "parse_bulk",
    "register_assets",
]


def open_store(target: str | Path | None = None, *, taxonomy: Taxonomy | None = None) -> RegisterStore:
    """Open (creating and migrating as needed) the register store at ``target``.

    Parameters
    ----------
    target : str or Path, optional
        ``postgresql://...`` (or ``postgres://...``) for PostgreSQL with PostGIS;
        ``sqlite:///path/to/file.sqlite`` or a file path for SQLite; an area folder
        for ``<folder>/register.sqlite``. Default: ``settings.register_url``.
    taxonomy : Taxonomy, optional
        Asset types and elements used to check records.

    Returns
    -------
    RegisterStore
        Close it with ``close()`` or use it in a ``with`` block.

    Raises
    ------
    StoreError
        When the database cannot be opened or reached.
    """
    if target is None:
        target = settings.register_url
        if not target:
            raise StoreError(
                "no register store configured: set ASSETMAP_REGISTER_URL (or settings.register_url) to a "
                "postgresql:// URL or a SQLite file, or pass an area folder."
            )
    text = str(target)
    if text.startswith(("postgresql://", "postgres://")):
        from assetmap.store.postgis import PostGISStore

        return PostGISStore(text, taxonomy=taxonomy)
    from assetmap.store.sqlite import SQLiteStore

    if text.startswith("sqlite:///"):
        # sqlite:///relative/file or sqlite:////absolute/file, as SQLAlchemy writes them.
        return SQLiteStore(Path(text.removeprefix("sqlite:///") or REGISTER_FILE), taxonomy=taxonomy)
    if "://" in text:
        raise StoreError(f"{text.split('://')[0]}:// is not a register store. Use postgresql:// or sqlite:///.")
    path = Path(text)
    if path.is_dir():
        path = path / REGISTER_FILE
    return SQLiteStore(path, taxonomy=taxonomy)


def has_register(folder: str | Path) -> bool:
    """Return True where an area has a register to read: a shared one is set, or its folder holds one.

    Readers ask this before :func:`open_area_register`, which would create an empty one.
    """
    return bool(settings.register_url) or (Path(folder) / REGISTER_FILE).is_file()


def open_area_register(folder: str | Path, *, taxonomy: Taxonomy | None = None) -> RegisterStore:
    """Open the register an area uses: the shared one named by ``settings.register_url``, else its own.

    Every way into an area's register (the form, bulk uploads, officers' edits, imports
    from OpenStreetMap, Open Referral and 360Giving, the Data page, the command line)
    opens it here, so that with a shared register nothing lands where neither the map
    nor the Moderate page looks.

    Parameters
    ----------
    folder : str or Path
        An area folder (its ``register.sqlite`` is the register when none is shared).
    taxonomy : Taxonomy, optional
        Asset types and elements used to check records.

    Returns
    -------
    RegisterStore
    """
    return open_store(settings.register_url or folder, taxonomy=taxonomy)


def register_assets(
    folder: str | Path, *, taxonomy: Taxonomy | None = None, area_codes: Iterable[str] | None = None
) -> gpd.GeoDataFrame | None:
    """Approved records of an area folder's embedded register, shaped like a register file's layer.

    Parameters
    ----------
    folder : str or Path
        An area folder.
    taxonomy : Taxonomy, optional
        Asset types and elements.
    area_codes : iterable of str, optional
        Codes of the area's wards. Where ``settings.register_url`` names a register
        shared by several areas, only its records placed in these wards are read.

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
    if shared and area_codes is not None:
        frame = frame[frame["area_code"].isin(list(area_codes))]
    frame = frame.drop(columns=["area_code"])
    # Text as pandas strings, as a register file gives them, so the two combine cleanly.
    for column in frame.columns:
        if column in FIELDS and column not in _NOT_TEXT:
            frame[column] = frame[column].astype("string")
    frame["location_method"] = "lonlat"
    frame["row"] = None
    frame["file"] = REGISTER_FILE
    return frame
