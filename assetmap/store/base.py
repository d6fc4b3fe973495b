"""The register store interface: :class:`RegisterStore`, put together from its parts.

A :class:`RegisterStore` holds asset records and their moderation state. Every
change runs in one transaction with its audit row (who, when, what, the record
before and after), so the log can never disagree with the register. Backends
supply connections, their SQL dialect, and how to find records near a point;
everything else lives in the parts here, once: the machinery (``core``), adding and
changing records (``writing``), reading them (``reading``), personal data
(``personal``), and limits and sessions (``sessions``).
"""

from __future__ import annotations

from assetmap.store.common import (
    COLUMNS_SQL,
    EDITABLE_FIELDS,
    RECORD_COLUMNS,
    ConflictError,
    RecordNotFoundError,
    StoreBusyError,
    StoreError,
    TransitionError,
    Tx,
    new_record_id,
    now_iso,
)
from assetmap.store.core import StoreCore
from assetmap.store.personal import ERASED, PersonalData
from assetmap.store.reading import RecordReads
from assetmap.store.sessions import LimitsAndSessions
from assetmap.store.writing import RecordWrites

# Callers import these from here, where they have always been.
__all__ = [
    "COLUMNS_SQL",
    "EDITABLE_FIELDS",
    "ERASED",
    "RECORD_COLUMNS",
    "ConflictError",
    "RecordNotFoundError",
    "RegisterStore",
    "StoreBusyError",
    "StoreError",
    "TransitionError",
    "Tx",
    "new_record_id",
    "now_iso",
]


class RegisterStore(RecordWrites, RecordReads, PersonalData, LimitsAndSessions, StoreCore):
    """The asset register: records, their moderation state and the audit log.

    Create one with :func:`assetmap.store.open_store`. A store object is safe to
    share between threads (each thread gets its own connection) and several
    processes may open the same database.

    Records go in as ``pending`` (:meth:`submit`, :meth:`bulk_add`), are moderated
    (:meth:`approve`, :meth:`reject`, :meth:`withdraw`, :meth:`edit`,
    :meth:`merge`, :meth:`confirm`) and come out as GeoDataFrames
    (:meth:`records`) or files (:meth:`export`). Public reads
    (``public=True``) return approved records only, without private fields.

    Parameters
    ----------
    taxonomy : Taxonomy, optional
        Asset types and elements used to check records (default: the shipped taxonomy).
    retry_seconds : float
        How long a write keeps retrying while the database is busy before giving up
        with :class:`StoreBusyError`.
    """
