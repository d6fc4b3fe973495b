"""What every part of the register store shares: its errors, its table's columns, and a transaction."""

from __future__ import annotations

import re
import secrets
import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import pandas as pd
from pyproj import Transformer

from assetmap import settings
from assetmap._errors import AssetMapError


class StoreError(AssetMapError):
    """The register store cannot do what was asked (it names why and what to do)."""


class RecordNotFoundError(StoreError, KeyError):
    """No record has the id given."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "record not found"


class TransitionError(StoreError, ValueError):
    """A record is not in a state that allows the change (approving a withdrawn record...)."""


class ConflictError(StoreError):
    """Someone else changed the record since it was read; read it again and redo the change."""


class StoreBusyError(StoreError):
    """The database stayed busy for longer than the store is willing to wait."""


#: Columns of the ``records`` table, in order.
RECORD_COLUMNS: tuple[str, ...] = (
    "id",
    "name",
    "type",
    "elements",
    "description",
    "organisation",
    "charity_number",
    "address",
    "postcode",
    "longitude",
    "latitude",
    "x",
    "y",
    "website",
    "email",
    "phone",
    "contact_name",
    "contact_email",
    "opening_times",
    "accessibility",
    "audience",
    "audience_groups",
    "capacity",
    "capacity_unit",
    "source",
    "status",
    "sensitive",
    "last_confirmed",
    "created_at",
    "updated_at",
    "created_by",
    "updated_by",
    "area_code",
    "merged_into",
    "version",
    "source_id",
    "reference",
)

#: Columns the store keeps itself: identity, grid position, provenance, moderation and history.
_STORE_COLUMNS: frozenset[str] = frozenset(
    {
        "id",
        "x",
        "y",
        "source",
        "status",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "merged_into",
        "version",
        "source_id",
        "reference",
    }
)

#: Fields :meth:`RegisterStore.edit` may change (every other column, in order); status changes go
#: through approve, reject and withdraw.
EDITABLE_FIELDS: tuple[str, ...] = tuple(c for c in RECORD_COLUMNS if c not in _STORE_COLUMNS)


# Rows written per statement in a bulk insert.
CHUNK = 500

_local = threading.local()
COLUMNS_SQL = ", ".join(RECORD_COLUMNS)


def to_bng() -> Transformer:
    """Return this thread's transformer from WGS84 to the British National Grid."""
    # One transformer per thread: a pyproj Transformer is not safe to share between threads.
    transformer = getattr(_local, "to_bng", None)
    if transformer is None:
        transformer = Transformer.from_crs(settings.storage_crs, settings.analysis_crs, always_xy=True)
        _local.to_bng = transformer
    return transformer


def now_iso() -> str:
    """Return the time now in UTC as ISO 8601 text with microseconds (sorts as it reads)."""
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def new_record_id() -> str:
    """Return a new record id: ``R`` and 16 hexadecimal digits, random, never reused."""
    return "R" + uuid.uuid4().hex[:16].upper()


#: Characters of a submission reference: capitals and digits that cannot be misread for one another
#: (no 0/O, 1/I/L, U/V, 5/S, 2/Z, 8/B), read aloud or copied by hand.
REFERENCE_ALPHABET: str = "ACDEFGHJKMNPQRTWXY34679"

#: How a submission reference is written: two groups of four, e.g. ``AC3D-KM9X``.
REFERENCE_PATTERN: re.Pattern[str] = re.compile(rf"^[{REFERENCE_ALPHABET}]{{4}}-[{REFERENCE_ALPHABET}]{{4}}$")

#: A record id (``R`` and 16 hexadecimal digits): the reference of records added before short references.
RECORD_ID_PATTERN: re.Pattern[str] = re.compile(r"^R[0-9A-F]{16}$")


def new_reference() -> str:
    """Return a new random submission reference, e.g. ``AC3D-KM9X`` (23 ** 8: about 78 billion of them)."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"{chars[:4]}-{chars[4:]}"


def normalise_reference(text: object) -> str:
    """Return a reference as typed in the form the register keeps it, or ``""`` when it cannot be one.

    Case, spaces and dashes are forgiven (``ac3d km9x`` is ``AC3D-KM9X``); an old
    reference (a record id, ``R`` and 16 hexadecimal digits) is kept as it is.
    """
    raw = re.sub(r"[\s\-\u2010-\u2015]+", "", str(text or "")).upper()
    if RECORD_ID_PATTERN.match(raw):
        return raw
    if len(raw) == 8:
        shaped = f"{raw[:4]}-{raw[4:]}"
        if REFERENCE_PATTERN.match(shaped):
            return shaped
    return ""


def as_list(ids: str | Iterable[str]) -> list[str]:
    """Return one id or many as a list, each once, in order."""
    return [ids] if isinstance(ids, str) else list(dict.fromkeys(ids))


def elements_text(elements: object) -> str | None:
    """Return element numbers as the text the records table keeps (``;1;6;``), or None."""
    # ";1;6;" so that "element 6" is a LIKE '%;6;%' query in either database.
    if not elements:
        return None
    return ";" + ";".join(str(int(e)) for e in elements) + ";"  # type: ignore[attr-defined]  # any iterable


def elements_tuple(text: object) -> tuple[int, ...]:
    """Return the element numbers of the records table's text (``;1;6;``) as a tuple."""
    if not text or not isinstance(text, str):
        return ()
    return tuple(int(p) for p in text.strip(";").split(";") if p)


def records_from_input(records: pd.DataFrame | Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Return a frame or a sequence of mappings as a list of record dicts, blanks as None."""
    if isinstance(records, pd.DataFrame):
        frame = (
            pd.DataFrame(records.drop(columns=records.geometry.name))
            if isinstance(records, gpd.GeoDataFrame)
            else records
        )
        frame = frame.astype(object).where(frame.notna(), None)
        return frame.to_dict("records")
    return [dict(r) for r in records]


class Tx:
    """One open transaction: run SQL written with ``?`` placeholders, get rows as dicts.

    Parameters
    ----------
    cursor : DB-API cursor
        Cursor of the backend's connection, inside a transaction.
    placeholder : str
        The driver's placeholder (``?`` or ``%s``); SQL here never holds a literal ``?`` or ``%``.
    """

    def __init__(self, cursor: Any, placeholder: str = "?"):
        self._cursor = cursor
        self._placeholder = placeholder

    def _sql(self, sql: str) -> str:
        return sql if self._placeholder == "?" else sql.replace("?", self._placeholder)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Run one statement; return its rows (none for a statement that returns none)."""
        if params:
            self._cursor.execute(self._sql(sql), tuple(params))
        else:  # no parameters: a migration script may hold several statements
            self._cursor.execute(self._sql(sql))
        if self._cursor.description is None:
            return []
        names = [d[0] for d in self._cursor.description]
        return [dict(zip(names, row, strict=True)) for row in self._cursor.fetchall()]

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for each parameter row."""
        if rows:
            self._cursor.executemany(self._sql(sql), [tuple(r) for r in rows])
