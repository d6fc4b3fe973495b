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

from pathlib import Path

from assetmap import settings
from assetmap.store.base import (
    EDITABLE_FIELDS,
    ConflictError,
    RecordNotFoundError,
    RegisterStore,
    StoreBusyError,
    StoreError,
    TransitionError,
)
from assetmap.store.duplicates import find_duplicates
from assetmap.taxonomy import Taxonomy

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
    "open_store",
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
