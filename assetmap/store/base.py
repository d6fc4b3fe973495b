"""The register store interface, and the logic both backends share.

A :class:`RegisterStore` holds asset records and their moderation state. Every
change runs in one transaction with its audit row (who, when, what, the record
before and after), so the log can never disagree with the register. Backends
supply connections, their SQL dialect, and how to find records near a point;
everything else lives here, once.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import random
import re
import secrets
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from typing import Any, ClassVar, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer

from assetmap import settings
from assetmap._errors import AssetMapError, Problem, ValidationError
from assetmap.record import (
    FIELDS,
    PERSONAL_FIELDS,
    PRIVATE_FIELDS,
    is_blank,
    sensitive_mask,
    validate_record,
)
from assetmap.store.duplicates import find_duplicates
from assetmap.taxonomy import Taxonomy, load_taxonomy

T = TypeVar("T")


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
    }
)

#: Fields :meth:`RegisterStore.edit` may change (every other column, in order); status changes go
#: through approve, reject and withdraw.
EDITABLE_FIELDS: tuple[str, ...] = tuple(c for c in RECORD_COLUMNS if c not in _STORE_COLUMNS)

#: Statuses from which each moderation action may start.
_ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    "approve": ("pending", "rejected"),
    "reject": ("pending", "approved"),
    "withdraw": ("pending", "approved", "rejected"),
}
_TO_STATUS = {"approve": "approved", "reject": "rejected", "withdraw": "withdrawn"}

# Rows written per statement in a bulk insert.
_CHUNK = 500

_local = threading.local()
COLUMNS_SQL = ", ".join(RECORD_COLUMNS)


def _to_bng() -> Transformer:
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


def _as_list(ids: str | Iterable[str]) -> list[str]:
    return [ids] if isinstance(ids, str) else list(dict.fromkeys(ids))


def _elements_text(elements: object) -> str | None:
    # ";1;6;" so that "element 6" is a LIKE '%;6;%' query in either database.
    if not elements:
        return None
    return ";" + ";".join(str(int(e)) for e in elements) + ";"  # type: ignore[union-attr]


def _elements_tuple(text: object) -> tuple[int, ...]:
    if not text or not isinstance(text, str):
        return ()
    return tuple(int(p) for p in text.strip(";").split(";") if p)


def _records_from_input(records: pd.DataFrame | Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
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


class RegisterStore(ABC):
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

    #: Backend name, for messages and benchmarks.
    backend: ClassVar[str] = ""
    #: Folder of this backend's migrations under ``assetmap/store/migrations``.
    migrations_folder: ClassVar[str] = ""
    #: What to add to a SELECT to lock the rows read until the transaction ends.
    _lock_rows: ClassVar[str] = ""

    def __init__(self, *, taxonomy: Taxonomy | None = None, retry_seconds: float = 30.0):
        self.taxonomy = taxonomy or load_taxonomy()
        self.retry_seconds = retry_seconds
        # One connection per thread and process (a connection must not cross a fork),
        # each remembered so close() can reach them all.
        self._local = threading.local()
        self._all: list[Any] = []
        self._lock = threading.Lock()

    def _thread_connection(self) -> Any | None:
        """Return this thread's connection, made in this process, or None."""
        conn = getattr(self._local, "conn", None)
        return conn if conn is not None and self._local.pid == os.getpid() else None

    def _keep(self, conn: Any) -> Any:
        """Make ``conn`` this thread's connection, and return it."""
        self._local.conn, self._local.pid = conn, os.getpid()
        with self._lock:
            self._all.append(conn)
        return conn

    def close(self) -> None:
        """Close every connection this store opened (in any thread)."""
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            with contextlib.suppress(Exception):  # closing a connection that is already gone
                conn.close()
        self._local = threading.local()

    # -- what a backend provides -----------------------------------------------------------

    @abstractmethod
    def _transaction(self, *, write: bool) -> contextlib.AbstractContextManager[Tx]:
        """Open a transaction (a write transaction takes the write lock at once)."""

    @abstractmethod
    def _is_transient(self, exc: BaseException) -> bool:
        """Whether an error means "busy, try again" (lock, serialisation failure, deadlock)."""

    @abstractmethod
    def _is_duplicate_key(self, exc: BaseException) -> bool:
        """Whether an error is a unique-key violation."""

    def _unavailable(self, exc: BaseException) -> StoreError | None:
        """Return the error to raise for a database that cannot be used, or None for any other error.

        Read-only, damaged or unreachable: a :class:`StoreError` naming the file or
        server and the fix.
        """
        return None

    @abstractmethod
    def _migration_lock(self, tx: Tx) -> None:
        """Serialise migrations between processes (inside the migration transaction)."""

    def _near(self, tx: Tx, x: np.ndarray, y: np.ndarray, distance_m: float) -> list[dict[str, Any]]:
        """Pending or approved records within ``distance_m`` of any point (x, y in EPSG:27700).

        This default uses the (x, y) index; PostGIS overrides it with a spatial index query.
        """
        out: dict[str, dict[str, Any]] = {}
        for px, py in zip(x, y, strict=True):
            if not (np.isfinite(px) and np.isfinite(py)):
                continue
            rows = tx.execute(
                f"SELECT {COLUMNS_SQL} FROM records WHERE status IN ('pending', 'approved') "
                "AND x BETWEEN ? AND ? AND y BETWEEN ? AND ?",
                (float(px - distance_m), float(px + distance_m), float(py - distance_m), float(py + distance_m)),
            )
            out.update((r["id"], r) for r in rows)
        return list(out.values())

    # -- plumbing --------------------------------------------------------------------------

    def _run(self, fn: Callable[[Tx], T], *, write: bool = True) -> T:
        """Run ``fn`` in a transaction, retrying with backoff while the database is busy."""
        deadline = time.monotonic() + self.retry_seconds
        delay = 0.005
        while True:
            try:
                with self._transaction(write=write) as tx:
                    return fn(tx)
            except Exception as exc:  # only transient errors are retried; the rest propagate unchanged
                if not self._is_transient(exc):
                    unavailable = None if self._is_duplicate_key(exc) else self._unavailable(exc)
                    if unavailable is not None:
                        raise unavailable from exc
                    raise
                if time.monotonic() + delay > deadline:
                    raise StoreBusyError(
                        f"the register database stayed busy for {self.retry_seconds:.0f} s. "
                        "Try again in a minute; if it persists, ask the administrator to check the database."
                    ) from exc
            time.sleep(delay * random.uniform(0.5, 1.5))  # jitter: waiting writers do not wake in step
            delay = min(delay * 2, 0.25)

    def migrate(self) -> list[int]:
        """Apply the backend's schema migrations not yet applied, in order; return their versions.

        Migrations are SQL files ``NNNN_name.sql``; each runs in one transaction with
        its row in ``schema_version``, so a migration is applied whole or not at all,
        and running this again (or from several processes at once) applies nothing twice.
        """
        folder = resources.files("assetmap.store") / "migrations" / self.migrations_folder
        scripts = sorted(
            (int(p.name.split("_", 1)[0]), p.name, p.read_text(encoding="utf-8"))
            for p in folder.iterdir()
            if p.name.endswith(".sql")
        )
        applied: list[int] = []
        for version, name, script in scripts:

            def apply(tx: Tx, version: int = version, name: str = name, script: str = script) -> bool:
                self._migration_lock(tx)
                tx.execute(
                    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                    "applied_at TEXT NOT NULL)"
                )
                if tx.execute("SELECT version FROM schema_version WHERE version = ?", (version,)):
                    return False
                for statement in self._split_script(script):
                    tx.execute(statement)
                tx.execute(
                    "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                    (version, name, now_iso()),
                )
                return True

            if self._run(apply):
                applied.append(version)
        return applied

    def schema_version(self) -> int:
        """Return the highest schema migration applied (0 for an empty database)."""
        rows = self._run(lambda tx: tx.execute("SELECT MAX(version) AS v FROM schema_version"), write=False)
        return int(rows[0]["v"] or 0)

    @staticmethod
    def _split_script(script: str) -> list[str]:
        return [script]

    def __enter__(self) -> RegisterStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- conversions -----------------------------------------------------------------------

    def _clean(self, record: Mapping[str, Any], *, row: int | None = None, file: str | None = None) -> dict[str, Any]:
        return validate_record(dict(record), taxonomy=self.taxonomy, row=row, file=file)

    def _row(
        self, clean: dict[str, Any], *, record_id: str, status: str, source: str, actor: str, now: str
    ) -> dict[str, Any]:
        x, y = _to_bng().transform(clean["longitude"], clean["latitude"])
        row = {c: clean.get(c) for c in RECORD_COLUMNS if c in clean}
        row.update(
            id=record_id,
            elements=_elements_text(clean["elements"]),
            x=float(x),
            y=float(y),
            status=status,
            source=source,
            sensitive=bool(clean["sensitive"]),
            created_at=now,
            updated_at=now,
            created_by=actor,
            updated_by=actor,
            merged_into=None,
            version=1,
        )
        return {c: row.get(c) for c in RECORD_COLUMNS}

    @staticmethod
    def _snapshot(row: Mapping[str, Any]) -> dict[str, Any]:
        """Return a record as it goes into the audit log: JSON-ready, with ``asset_id`` and elements as a list."""
        out = {("asset_id" if k == "id" else k): row[k] for k in RECORD_COLUMNS if k in row and k not in ("x", "y")}
        out["elements"] = list(_elements_tuple(row.get("elements")))
        out["sensitive"] = bool(row.get("sensitive"))
        return out

    @staticmethod
    def _as_record(row: Mapping[str, Any]) -> dict[str, Any]:
        """Return a database row as a record dict (the shape :func:`validate_record` takes)."""
        out = {k: row.get(k) for k in FIELDS if k != "asset_id"}
        out["asset_id"] = row["id"]
        out["elements"] = _elements_tuple(row.get("elements"))
        out["sensitive"] = bool(row.get("sensitive"))
        for k in ("area_code", "merged_into", "version", "x", "y"):
            out[k] = row.get(k)
        return out

    def _audit(
        self,
        tx: Tx,
        rows: Sequence[tuple[str | None, str, str | None, Mapping[str, Any] | None, Mapping[str, Any] | None]],
        *,
        actor: str,
        now: str,
        key: str | None = None,
    ) -> None:
        """Write audit rows: (record id, action, reason, before, after) each."""
        tx.executemany(
            "INSERT INTO audit (record_id, action, actor, at, reason, before, after, idempotency_key) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    rid,
                    action,
                    actor,
                    now,
                    reason,
                    None if before is None else json.dumps(self._snapshot(before), default=str),
                    None if after is None else json.dumps(self._snapshot(after), default=str),
                    key,
                )
                for rid, action, reason, before, after in rows
            ],
        )

    def _insert_rows(self, tx: Tx, rows: Sequence[dict[str, Any]]) -> None:
        """Insert record rows in chunks (one statement per row, sent together)."""
        sql = f"INSERT INTO records ({', '.join(RECORD_COLUMNS)}) VALUES ({', '.join('?' * len(RECORD_COLUMNS))})"
        for start in range(0, len(rows), _CHUNK):
            tx.executemany(sql, [[r[c] for c in RECORD_COLUMNS] for r in rows[start : start + _CHUNK]])

    def _fetch(self, tx: Tx, ids: Sequence[str], *, lock: bool = False) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), _CHUNK):
            part = ids[start : start + _CHUNK]
            sql = f"SELECT {COLUMNS_SQL} FROM records WHERE id IN ({', '.join('?' * len(part))})"
            found.update((r["id"], r) for r in tx.execute(sql + (self._lock_rows if lock else ""), part))
        return found

    def _require(self, tx: Tx, ids: Sequence[str], *, lock: bool = True) -> dict[str, dict[str, Any]]:
        found = self._fetch(tx, ids, lock=lock)
        missing = [i for i in ids if i not in found]
        if missing:
            raise RecordNotFoundError(
                f"no record with id {', '.join(missing[:5])} in the register. It may have been merged or the id "
                "mistyped; search the register for it."
            )
        return found

    def _update(self, tx: Tx, before: Mapping[str, Any], after: Mapping[str, Any]) -> None:
        changed = [c for c in RECORD_COLUMNS if c != "id" and after[c] != before[c]]
        sets = ", ".join(f"{c} = ?" for c in changed)
        tx.execute(f"UPDATE records SET {sets} WHERE id = ?", [*(after[c] for c in changed), before["id"]])

    # -- adding records --------------------------------------------------------------------

    def _claim_key(self, tx: Tx, key: str, actor: str, now: str) -> list[str] | None:
        """Take an idempotency key for this transaction; return the ids stored under it if it was taken before."""
        claimed = tx.execute(
            "INSERT INTO idempotency (key, actor, created_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING RETURNING key",
            (key, actor, now),
        )
        if claimed:
            return None
        rows = tx.execute("SELECT record_ids FROM idempotency WHERE key = ?", (key,))
        return json.loads(rows[0]["record_ids"] or "[]") if rows else None

    def _add(
        self,
        records: list[dict[str, Any]],
        *,
        actor: str,
        key: str | None,
        status: str,
        source: str,
        file: str | None,
    ) -> list[str]:
        if not actor or not str(actor).strip():
            raise ValueError("actor is required: say who makes the change (a user name, or 'public form').")
        if status not in ("pending", "approved"):
            raise ValueError(f"records are added as pending or approved, not {status!r}.")
        if key is not None and (not isinstance(key, str) or not key.strip() or len(key) > 200):
            raise ValueError("idempotency_key must be non-blank text of at most 200 characters.")
        problems: list[Problem] = []
        cleaned: list[tuple[dict[str, Any], dict[str, Any]]] = []
        for n, record in enumerate(records):
            row = record.get("row")
            row = int(row) if isinstance(row, int | float | np.integer) and row == row else (n + 2 if file else None)
            try:
                clean = self._clean(record, row=row, file=file)
            except ValidationError as exc:
                problems += exc.problems
                continue
            cleaned.append((record, clean))
        given = [c["asset_id"] for _, c in cleaned if c["asset_id"]]
        repeated = sorted({i for i in given if given.count(i) > 1})
        if repeated:
            problems.append(
                Problem(
                    f"asset ids {repeated[:10]} appear more than once.",
                    file=file,
                    field="asset_id",
                    fix="Give each record its own id.",
                )
            )
        if problems:
            total = len(records)
            bad = len({(p.row, p.file) for p in problems})
            summary = f"{bad} of {total} records need fixing; nothing was stored:" if total > 1 else None
            raise ValidationError(problems, summary=summary)

        def write(tx: Tx) -> list[str]:
            now = now_iso()
            if key is not None:
                earlier = self._claim_key(tx, key, actor, now)
                if earlier is not None:
                    return earlier
            if given:
                taken = sorted(self._fetch(tx, given))
                if taken:
                    raise ValidationError(
                        Problem(
                            f"asset ids {taken[:10]} are already in the register.",
                            file=file,
                            field="asset_id",
                            fix="Leave the id column blank for new records, or edit the existing records instead.",
                        )
                    )
            rows = [
                self._row(
                    clean,
                    record_id=clean["asset_id"] or new_record_id(),
                    status=status,
                    source=source,
                    actor=actor,
                    now=now,
                )
                for _, clean in cleaned
            ]
            self._insert_rows(tx, rows)
            action = "import" if status == "approved" else "submit"
            self._audit(tx, [(r["id"], action, None, None, r) for r in rows], actor=actor, now=now, key=key)
            ids = [r["id"] for r in rows]
            if key is not None:
                tx.execute("UPDATE idempotency SET record_ids = ? WHERE key = ?", (json.dumps(ids), key))
            return ids

        try:
            return self._run(write)
        except Exception as exc:  # a concurrent insert of the same given id loses at the unique key
            if self._is_duplicate_key(exc):
                raise ValidationError(
                    Problem(
                        "a record with one of these ids was added at the same moment.",
                        file=file,
                        field="asset_id",
                        fix="Leave the id blank for new records.",
                    )
                ) from exc
            raise

    def submit(
        self,
        record: Mapping[str, Any],
        *,
        actor: str,
        idempotency_key: str | None = None,
        source: str = "form",
    ) -> str:
        """Add one record as ``pending``; return its id.

        Parameters
        ----------
        record : mapping
            Field name to value (see :data:`assetmap.record.FIELDS`), with
            ``longitude``/``latitude`` (resolve a postcode first with
            :func:`assetmap.record.validate_record` and the area's postcodes);
            ``area_code`` may be given. ``status``, ``created_*`` and ``updated_*``
            are set by the store.
        actor : str
            Who submits it (a user name, or e.g. ``"public form"``).
        idempotency_key : str, optional
            A key unique to this submission (made when the form is shown): a repeat with
            the same key stores nothing and returns the first id.
        source : str
            Where the record came from (``form``, ``officer``...).

        Raises
        ------
        ValidationError
            Listing every problem with the record, by field.
        """
        return self._add([dict(record)], actor=actor, key=idempotency_key, status="pending", source=source, file=None)[
            0
        ]

    def bulk_add(
        self,
        records: pd.DataFrame | Sequence[Mapping[str, Any]],
        *,
        actor: str,
        idempotency_key: str | None = None,
        source: str = "bulk",
        status: str = "pending",
        file: str | None = None,
    ) -> list[str]:
        """Add many records, all or none; return their ids in order.

        Every record is checked before anything is written; one bad record stops the
        whole batch with a report of every problem (by row and field). The batch is
        one transaction: a crash part-way leaves the register unchanged.

        Parameters
        ----------
        records : DataFrame or sequence of mappings
            Records as from :func:`assetmap.io.bulk.parse_bulk`; a ``row`` column, where
            present, numbers the problems.
        actor : str
            Who adds them.
        idempotency_key : str, optional
            Key of this upload: a retry with the same key stores nothing and returns the first ids.
        source : str
            Source recorded on every record.
        status : {"pending", "approved"}
            ``approved`` is for officers importing a register they already trust.
        file : str, optional
            File name, named in problems.

        Raises
        ------
        ValidationError
            When any record is bad; nothing is stored.
        """
        return self._add(
            _records_from_input(records), actor=actor, key=idempotency_key, status=status, source=source, file=file
        )

    # -- changing records ------------------------------------------------------------------

    def edit(
        self,
        record_id: str,
        changes: Mapping[str, Any],
        *,
        actor: str,
        reason: str | None = None,
        expected_version: int | None = None,
    ) -> dict[str, Any]:
        """Change fields of one record; return the record as changed.

        Parameters
        ----------
        record_id : str
            The record.
        changes : mapping
            Field to new value, fields of :data:`EDITABLE_FIELDS` only.
        actor : str
            Who makes the change.
        reason : str, optional
            Why, for the audit log.
        expected_version : int, optional
            The ``version`` the editor saw; if the record has changed since, nothing is
            written and :class:`ConflictError` is raised.

        Raises
        ------
        ValidationError
            Unknown field or a bad value.
        RecordNotFoundError, ConflictError
        """
        unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
        if unknown:
            raise ValidationError(
                Problem(
                    f"{', '.join(unknown)} cannot be edited.",
                    field=unknown[0],
                    fix="Use approve, reject or withdraw to change the status.",
                )
            )

        def write(tx: Tx) -> dict[str, Any]:
            before = self._require(tx, [record_id])[record_id]
            if expected_version is not None and int(before["version"]) != int(expected_version):
                raise ConflictError(
                    f"record {record_id} was changed by {before['updated_by']} at {before['updated_at']} after you "
                    "opened it. Reload it and make your change again."
                )
            merged = {**self._as_record(before), **dict(changes)}
            clean = self._clean(merged)
            now = now_iso()
            after = dict(before)
            after.update({c: clean[c] for c in EDITABLE_FIELDS if c in clean})
            after["elements"] = _elements_text(clean["elements"])
            after["sensitive"] = bool(clean["sensitive"])
            if after["longitude"] != before["longitude"] or after["latitude"] != before["latitude"]:
                x, y = _to_bng().transform(after["longitude"], after["latitude"])
                after["x"], after["y"] = float(x), float(y)
            if all(
                after[c] == before[c] or (after[c] in (None, "") and before[c] in (None, "")) for c in EDITABLE_FIELDS
            ):
                return self._as_record(before)  # nothing changed: no write, no audit row
            after.update(updated_at=now, updated_by=actor, version=int(before["version"]) + 1)
            self._update(tx, before, after)
            self._audit(tx, [(record_id, "edit", reason, before, after)], actor=actor, now=now)
            return self._as_record(after)

        return self._run(write)

    def _transition(
        self,
        ids: str | Iterable[str],
        action: str,
        *,
        actor: str,
        reason: str | None,
        allowed_from: Sequence[str] | None = None,
        change: Callable[[dict[str, Any]], None] | None = None,
    ) -> list[dict[str, Any]]:
        id_list = _as_list(ids)
        if not id_list:
            return []

        def write(tx: Tx) -> list[dict[str, Any]]:
            found = self._require(tx, id_list)
            allowed = allowed_from or _ALLOWED_FROM.get(action)
            wrong = [i for i in id_list if allowed is not None and found[i]["status"] not in allowed]
            if wrong:
                states = ", ".join(f"{i} is {found[i]['status']}" for i in wrong[:5])
                raise TransitionError(
                    f"cannot {action} {states}; only {' or '.join(allowed or ())} records can be. Nothing was changed."
                )
            now = now_iso()
            out, audit = [], []
            for i in id_list:
                before = found[i]
                after = dict(before)
                if action in _TO_STATUS:
                    after["status"] = _TO_STATUS[action]
                if change is not None:
                    change(after)
                after.update(updated_at=now, updated_by=actor, version=int(before["version"]) + 1)
                self._update(tx, before, after)
                audit.append((i, action, reason, before, after))
                out.append(self._as_record(after))
            self._audit(tx, audit, actor=actor, now=now)
            return out

        return self._run(write)

    def approve(self, ids: str | Iterable[str], *, actor: str, reason: str | None = None) -> list[dict[str, Any]]:
        """Publish pending (or previously rejected) records; all or none. Return them as changed."""
        return self._transition(ids, "approve", actor=actor, reason=reason)

    def reject(self, ids: str | Iterable[str], *, actor: str, reason: str) -> list[dict[str, Any]]:
        """Turn down pending records (or unpublish approved ones), with a reason; all or none."""
        if not reason or not str(reason).strip():
            raise ValidationError(Problem("a reason is required.", field="reason", fix="Say why, for the submitter."))
        return self._transition(ids, "reject", actor=actor, reason=reason)

    def withdraw(self, ids: str | Iterable[str], *, actor: str, reason: str | None = None) -> list[dict[str, Any]]:
        """Retire records (closed, or withdrawn by the group); kept in the register for the record."""
        return self._transition(ids, "withdraw", actor=actor, reason=reason)

    def confirm(
        self, ids: str | Iterable[str], *, actor: str, on: date | None = None, reason: str | None = None
    ) -> list[dict[str, Any]]:
        """Mark records as confirmed current (``last_confirmed``, default today); all or none."""
        day = (on or date.today()).isoformat()

        def change(row: dict[str, Any]) -> None:
            row["last_confirmed"] = day

        return self._transition(
            ids, "confirm", actor=actor, reason=reason, allowed_from=("pending", "approved"), change=change
        )

    def merge(
        self, keep_id: str, drop_ids: str | Iterable[str], *, actor: str, reason: str | None = None
    ) -> dict[str, Any]:
        """Merge duplicates into one record; return the kept record.

        Blank fields of the kept record are filled from the dropped ones (in the order
        given); the dropped records become ``withdrawn`` with ``merged_into`` set, so
        their history stays in the audit log.
        """
        drops = [i for i in _as_list(drop_ids) if i != keep_id]
        if not drops:
            raise ValueError("give at least one record to merge into the kept one.")

        def write(tx: Tx) -> dict[str, Any]:
            found = self._require(tx, [keep_id, *drops])
            if found[keep_id]["status"] not in ("pending", "approved"):
                raise TransitionError(
                    f"cannot keep {keep_id}: it is {found[keep_id]['status']}. Keep a pending or approved record."
                )
            gone = [i for i in drops if found[i]["merged_into"]]
            if gone:
                raise TransitionError(f"{', '.join(gone)} was already merged into another record. Nothing was changed.")
            now = now_iso()
            before = found[keep_id]
            after = dict(before)
            for i in drops:
                for c in EDITABLE_FIELDS:
                    if after[c] in (None, "") and found[i][c] not in (None, ""):
                        after[c] = found[i][c]
            after.update(updated_at=now, updated_by=actor, version=int(before["version"]) + 1)
            self._update(tx, before, after)
            audit = [(keep_id, "merge", reason or f"merged {', '.join(drops)}", before, after)]
            for i in drops:
                dropped = dict(found[i])
                dropped.update(
                    status="withdrawn",
                    merged_into=keep_id,
                    updated_at=now,
                    updated_by=actor,
                    version=int(found[i]["version"]) + 1,
                )
                self._update(tx, found[i], dropped)
                audit.append((i, "merged", reason or f"merged into {keep_id}", found[i], dropped))
            self._audit(tx, audit, actor=actor, now=now)
            return self._as_record(after)

        return self._run(write)

    # -- reading ---------------------------------------------------------------------------

    def get(self, record_id: str, *, public: bool = False) -> dict[str, Any]:
        """Return one record as a dict (with ``version``, for :meth:`edit`).

        With ``public=True`` only an approved record is returned, without private fields.

        Raises
        ------
        RecordNotFoundError
        """
        row = self._run(lambda tx: self._fetch(tx, [record_id]), write=False).get(record_id)
        if row is None or (public and row["status"] != "approved"):
            raise RecordNotFoundError(f"no record with id {record_id} in the register.")
        record = self._as_record(row)
        if public:
            for k in (*PRIVATE_FIELDS, "merged_into", "version"):
                record.pop(k, None)
        return record

    def records(
        self,
        *,
        status: str | Sequence[str] | None = None,
        area_code: str | Sequence[str] | None = None,
        element: int | Sequence[int] | None = None,
        ids: Sequence[str] | None = None,
        public: bool = True,
    ) -> gpd.GeoDataFrame:
        """Return records as a GeoDataFrame in EPSG:27700.

        Parameters
        ----------
        status : str or list of str, optional
            Only these statuses (officer reads); public reads are ``approved`` only.
        area_code : str or list of str, optional
            Only records in these areas (wards).
        element : int or list of int, optional
            Only records serving any of these elements.
        ids : list of str, optional
            Only these records.
        public : bool
            True (the default, the safe choice): approved records only, without the
            private fields of :data:`assetmap.record.PRIVATE_FIELDS`. False: every
            matching record with every field, for officers.

        Returns
        -------
        GeoDataFrame
            The fields of :data:`assetmap.record.FIELDS` (``elements`` and ``pillars``
            as tuples, ``sensitive`` bool, ``last_confirmed`` a date), ``area_code``,
            and for officers ``merged_into`` and ``version``; point geometry.
        """
        statuses = [status] if isinstance(status, str) else list(status or [])
        if public:
            if statuses and set(statuses) != {"approved"}:
                raise ValueError("public reads return approved records only; pass public=False for other statuses.")
            statuses = ["approved"]
        where, params = [], []
        for column, values in (("status", statuses), ("area_code", area_code), ("id", ids)):
            if values is None or (not isinstance(values, str) and not len(values)):
                if column == "id" and ids is not None:
                    where.append("1 = 0")
                continue
            values = [values] if isinstance(values, str) else list(values)
            where.append(f"{column} IN ({', '.join('?' * len(values))})")
            params += values
        if element is not None:
            wanted = [element] if isinstance(element, int | np.integer) else list(element)
            where.append("(" + " OR ".join("elements LIKE ?" for _ in wanted) + ")")
            params += [f"%;{int(e)};%" for e in wanted]
        sql = (
            f"SELECT {COLUMNS_SQL} FROM records"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY created_at, id"
        )
        rows = self._run(lambda tx: tx.execute(sql, params), write=False)
        return self._frame(rows, public=public)

    def _frame(self, rows: list[dict[str, Any]], *, public: bool) -> gpd.GeoDataFrame:
        extra = ["area_code"] if public else ["area_code", "merged_into", "version"]
        columns = [c for c in FIELDS if not (public and c in PRIVATE_FIELDS)] + extra
        frame = pd.DataFrame(rows, columns=list(RECORD_COLUMNS))
        out = pd.DataFrame({"asset_id": frame["id"].astype(object)})
        for c in columns:
            if c != "asset_id":
                out[c] = frame[c].astype(object) if c in frame else None
        out["elements"] = [_elements_tuple(v) for v in frame["elements"]]
        out["sensitive"] = frame["sensitive"].map(bool).astype(bool) if len(frame) else pd.Series(dtype=bool)
        out["longitude"] = frame["longitude"].astype(float)
        out["latitude"] = frame["latitude"].astype(float)
        out["last_confirmed"] = pd.to_datetime(frame["last_confirmed"], errors="coerce").dt.date
        out["last_confirmed"] = out["last_confirmed"].astype(object).where(out["last_confirmed"].notna(), None)
        out["pillars"] = [tuple(self.taxonomy.pillars_of(e)) if e else () for e in out["elements"]]
        geometry = gpd.points_from_xy(frame["x"].astype(float), frame["y"].astype(float), crs=settings.analysis_crs)
        return gpd.GeoDataFrame(out, geometry=geometry, crs=settings.analysis_crs)

    def counts(self) -> dict[str, int]:
        """Return the number of records by status (every status present, zero where none)."""
        rows = self._run(
            lambda tx: tx.execute("SELECT status, COUNT(*) AS n FROM records GROUP BY status"), write=False
        )
        return {"pending": 0, "approved": 0, "rejected": 0, "withdrawn": 0} | {r["status"]: int(r["n"]) for r in rows}

    def last_change(self) -> int:
        """Return the number of the latest audit row (0 when empty): changes whenever the register does, for cache keys."""
        rows = self._run(lambda tx: tx.execute("SELECT MAX(id) AS n FROM audit"), write=False)
        return int(rows[0]["n"] or 0)

    def audit(self, record_id: str | None = None, *, limit: int | None = None) -> pd.DataFrame:
        """Return the audit log, oldest first (the latest ``limit`` rows where given).

        Returns
        -------
        DataFrame
            ``id``, ``record_id``, ``action`` (submit, import, edit, approve, reject,
            withdraw, confirm, merge, merged, subject access, erase), ``actor``, ``at`` (UTC, ISO 8601),
            ``reason``, ``before`` and ``after`` (dicts, or None), ``idempotency_key``.
        """
        sql = "SELECT * FROM audit" + (" WHERE record_id = ?" if record_id is not None else "") + " ORDER BY id DESC"
        params: list[Any] = [record_id] if record_id is not None else []
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        rows = self._run(lambda tx: tx.execute(sql, params), write=False)
        columns = ["id", "record_id", "action", "actor", "at", "reason", "before", "after", "idempotency_key"]
        frame = pd.DataFrame(rows[::-1], columns=columns)
        for c in ("before", "after"):
            frame[c] = [json.loads(v) if isinstance(v, str) else v for v in frame[c]]
        return frame

    def find_duplicates(
        self,
        records: pd.DataFrame | Sequence[Mapping[str, Any]] | None = None,
        *,
        distance_m: float = 50.0,
        public: bool = False,
    ) -> pd.DataFrame:
        """Flag likely duplicates of ``records`` within themselves and against the register.

        Parameters
        ----------
        records : DataFrame or sequence of mappings, optional
            A batch about to be added (from :func:`assetmap.io.bulk.parse_bulk`); by
            default the moderation queue (pending records), checked among themselves and
            against approved records.
        distance_m : float
            Distance within which same or similar names count as one place.
        public : bool, default False
            For a member of the public: compare ``records`` only with what the public
            map shows (approved records without a sensitive location), so the answer
            reveals nothing that is not already public. Officers leave it False.

        Returns
        -------
        DataFrame
            As :func:`assetmap.store.duplicates.find_duplicates`; register matches are
            pending or approved records (approved and not sensitive when ``public``).
        """
        if records is None:
            batch = self.records(status="pending", public=False)
            register = self.records(public=False)
            return find_duplicates(batch, register, distance_m=distance_m)
        frame = pd.DataFrame(_records_from_input(records))
        for c in ("name", "longitude", "latitude", "postcode", "charity_number"):
            if c not in frame:
                frame[c] = None
        lon = pd.to_numeric(frame["longitude"], errors="coerce").to_numpy(float)
        lat = pd.to_numeric(frame["latitude"], errors="coerce").to_numpy(float)
        x, y = _to_bng().transform(lon, lat)
        charity = sorted({str(v) for v in frame["charity_number"] if v})
        postcodes = sorted({str(v) for v in frame["postcode"] if v})

        def read(tx: Tx) -> list[dict[str, Any]]:
            found = {r["id"]: r for r in self._near(tx, np.asarray(x), np.asarray(y), distance_m)}
            for column, values in (("charity_number", charity), ("postcode", postcodes)):
                for start in range(0, len(values), _CHUNK):
                    part = values[start : start + _CHUNK]
                    sql = (
                        f"SELECT {COLUMNS_SQL} FROM records WHERE status IN ('pending', 'approved') "
                        f"AND {column} IN ({', '.join('?' * len(part))})"
                    )
                    found.update((r["id"], r) for r in tx.execute(sql, part))
            return list(found.values())

        register = self._frame(self._run(read, write=False), public=False)
        if public:
            shown = register["status"].eq("approved") & ~sensitive_mask(register)
            register = register[shown.to_numpy(dtype=bool)].drop(columns=list(PRIVATE_FIELDS), errors="ignore")
        register["x"], register["y"] = register.geometry.x, register.geometry.y
        return find_duplicates(frame, register, distance_m=distance_m)

    # -- personal data ---------------------------------------------------------------------

    def subject_access(self, email: str, *, actor: str, reason: str | None = None) -> dict[str, Any]:
        """Return everything the register holds about the person with this email; audited.

        A record is about the person where its private contact email or its public
        email is this one (ignoring case and surrounding spaces). The request itself
        is written to the audit log (action ``subject access``, one row per record
        found, or one row without a record when none is), without the email.

        Parameters
        ----------
        email : str
            The person's email address.
        actor : str
            Who asks (the officer, or the command line).
        reason : str, optional
            Why, for the audit log (a request's reference, say).

        Returns
        -------
        dict
            JSON-ready: ``email`` (as matched), ``produced_at`` (UTC), ``fields``
            (the personal fields), ``records`` (each whole, every field, as the
            audit log keeps records) and ``audit`` (every audit row about those
            records, oldest first, with ``before`` and ``after`` as dicts).

        Raises
        ------
        ValidationError
            When ``email`` is blank.
        """
        wanted = str(email or "").strip().lower()
        if not wanted:
            raise ValidationError(Problem("an email address is required.", field="email", fix="Give the email."))
        if not actor or not str(actor).strip():
            raise ValueError("actor is required: say who asks for the personal data.")

        def read(tx: Tx) -> dict[str, Any]:
            now = now_iso()
            rows = tx.execute(
                f"SELECT {COLUMNS_SQL} FROM records WHERE LOWER(TRIM(contact_email)) = ? "
                "OR LOWER(TRIM(email)) = ? ORDER BY created_at, id",
                (wanted, wanted),
            )
            ids = [r["id"] for r in rows]
            audit = self._audit_rows(tx, ids)
            note = "personal data export" + (f": {reason}" if reason else "")
            self._audit(
                tx,
                [(i, "subject access", note, None, None) for i in ids] or [(None, "subject access", note, None, None)],
                actor=actor,
                now=now,
            )
            return {
                "email": wanted,
                "produced_at": now,
                "fields": list(PERSONAL_FIELDS),
                "records": [self._snapshot(r) for r in rows],
                "audit": audit,
            }

        return self._run(read)

    def _audit_rows(self, tx: Tx, ids: Sequence[str], *, lock: bool = False) -> list[dict[str, Any]]:
        """Audit rows about these records, oldest first, ``before`` and ``after`` as dicts."""
        out: list[dict[str, Any]] = []
        for start in range(0, len(ids), _CHUNK):
            part = ids[start : start + _CHUNK]
            sql = f"SELECT * FROM audit WHERE record_id IN ({', '.join('?' * len(part))})"
            out += tx.execute(sql + (self._lock_rows if lock else ""), part)
        for row in out:
            for c in ("before", "after"):
                row[c] = json.loads(row[c]) if isinstance(row[c], str) else row[c]
        return sorted(out, key=lambda r: int(r["id"]))

    def _erase(
        self, tx: Tx, found: Mapping[str, dict[str, Any]], reasons: Mapping[str, str], *, actor: str, now: str
    ) -> dict[str, list[str]]:
        """Blank the personal fields of these records and scrub their values from the audit log.

        Return the fields erased per record (only records that held anything are changed).
        """
        history = self._audit_rows(tx, list(found), lock=True)
        values: dict[str, set[str]] = {i: set() for i in found}
        for row in history:
            for snap in (row["before"], row["after"]):
                if isinstance(snap, dict):
                    values[row["record_id"]].update(
                        str(snap[f]) for f in PERSONAL_FIELDS if not is_blank(snap.get(f)) and snap[f] != ERASED
                    )
        erased: dict[str, list[str]] = {}
        audit = []
        for i, before in found.items():
            fields = [f for f in PERSONAL_FIELDS if not is_blank(before[f])]
            values[i].update(str(before[f]) for f in fields)
            if not values[i]:
                continue
            after = dict(before)
            after.update({f: None for f in fields})
            after.update(updated_at=now, updated_by=actor, version=int(before["version"]) + 1)
            self._update(tx, before, after)
            # The erasure's own row names the fields erased but not their values.
            shown = dict(before) | {f: ERASED for f in fields}
            audit.append((i, "erase", _scrub_text(reasons[i], values[i]), shown, after))
            erased[i] = fields
        for row in history:
            scrubbed = {c: _scrub_snapshot(row[c]) if isinstance(row[c], dict) else row[c] for c in ("before", "after")}
            reason = _scrub_text(row["reason"], values[row["record_id"]])
            if scrubbed["before"] != row["before"] or scrubbed["after"] != row["after"] or reason != row["reason"]:
                tx.execute(
                    "UPDATE audit SET before = ?, after = ?, reason = ? WHERE id = ?",
                    (
                        *(None if scrubbed[c] is None else json.dumps(scrubbed[c], default=str) for c in scrubbed),
                        reason,
                        row["id"],
                    ),
                )
        self._audit(tx, audit, actor=actor, now=now)
        return erased

    def erase_personal(self, ids: str | Iterable[str], *, actor: str, reason: str) -> dict[str, list[str]]:
        """Erase the personal fields of records on request; all or none, audited.

        The fields of :data:`assetmap.record.PERSONAL_FIELDS` are blanked in each
        record, and every value they held is replaced by ``[erased]`` in the audit
        log's before and after copies of the record (and struck from the reasons
        given). An audit row (action ``erase``) records who erased which fields and
        why, without the values.

        Parameters
        ----------
        ids : str or list of str
            The records.
        actor : str
            Who erases them.
        reason : str
            Why (the request it answers), for the audit log.

        Returns
        -------
        dict
            Record id to the fields erased (only records that held personal details).

        Raises
        ------
        ValidationError
            When no reason is given.
        RecordNotFoundError
            When any id is not in the register (nothing is changed).
        """
        if not reason or not str(reason).strip():
            raise ValidationError(
                Problem("a reason is required.", field="reason", fix="Say which request the erasure answers.")
            )
        if not actor or not str(actor).strip():
            raise ValueError("actor is required: say who erases the personal data.")
        id_list = _as_list(ids)

        def write(tx: Tx) -> dict[str, list[str]]:
            found = self._require(tx, id_list)
            return self._erase(tx, found, dict.fromkeys(found, str(reason).strip()), actor=actor, now=now_iso())

        return self._run(write) if id_list else {}

    def erase_expired(
        self, retention_days: int | None = None, *, now: datetime | None = None, actor: str = "housekeeping"
    ) -> dict[str, list[str]]:
        """Erase the personal fields of rejected and withdrawn records kept past the retention period.

        A record qualifies when it is rejected or withdrawn and its last change is
        older than ``retention_days``. It is erased as by :meth:`erase_personal`.
        Running this again erases nothing more until a record changes.

        Parameters
        ----------
        retention_days : int, optional
            Days personal details are kept after the last change (default:
            ``settings.personal_data_retention_days``).
        now : datetime, optional
            The time now (default: the clock), in UTC where naive.
        actor : str
            Who erases, for the audit log.

        Returns
        -------
        dict
            Record id to the fields erased.

        Raises
        ------
        StoreError
            When the retention period is not a whole number of days, at least 1.
        """
        days = settings.personal_data_retention_days if retention_days is None else retention_days
        if isinstance(days, bool) or not isinstance(days, int | np.integer) or days < 1:
            raise StoreError(
                f"the personal data retention period must be a whole number of days, at least 1, not {days!r}. "
                "Set ASSETMAP_PERSONAL_DATA_RETENTION_DAYS (or settings.personal_data_retention_days), "
                "for example to 365."
            )
        when = now or datetime.now(UTC)
        when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
        cutoff = (when - timedelta(days=int(days))).isoformat(timespec="microseconds").replace("+00:00", "Z")
        held = " OR ".join(f"(r.{f} IS NOT NULL AND r.{f} <> '')" for f in PERSONAL_FIELDS)
        # Candidates: personal details in the record, or perhaps only in its history (an edit that
        # blanked them); not erased since their last change (an erasure sets updated_at to its time).
        sql = (
            f"SELECT r.id FROM records r WHERE r.status IN ('rejected', 'withdrawn') AND r.updated_at < ? "
            f"AND ({held} OR EXISTS (SELECT 1 FROM audit a WHERE a.record_id = r.id AND a.action = 'edit')) "
            "AND NOT EXISTS (SELECT 1 FROM audit a WHERE a.record_id = r.id AND a.action = 'erase' "
            "AND a.at >= r.updated_at) ORDER BY r.id"
        )

        def write(tx: Tx) -> dict[str, list[str]]:
            ids = [r["id"] for r in tx.execute(sql, (cutoff,))]
            erased: dict[str, list[str]] = {}
            stamp = now_iso()
            for start in range(0, len(ids), _CHUNK):
                found = self._fetch(tx, ids[start : start + _CHUNK], lock=True)
                reasons = {
                    i: f"personal details kept {int(days)} days after the record was {r['status']}: "
                    "erased at the end of the retention period"
                    for i, r in found.items()
                }
                erased |= self._erase(tx, found, reasons, actor=actor, now=stamp)
            return erased

        return self._run(write)

    # -- limits and officer sessions -------------------------------------------------------
    # Limits (failed sign-ins, public submissions) and sign-in sessions live here rather than
    # in a browser session, so that a reload, a new tab or another app instance sees them.

    def secret(self, name: str) -> bytes:
        """Return the store's random secret called ``name`` (32 bytes), made on first use and kept in it.

        Every app instance sharing the register shares its secrets, so what one signs
        another can check; nothing is hard-coded.

        Parameters
        ----------
        name : str
            What the secret is for (``"limits"`` keys limit hashes, ``"cookies"`` signs cookies).
        """

        def read(tx: Tx) -> list[dict[str, Any]]:
            return tx.execute("SELECT value FROM store_secrets WHERE name = ?", (name,))

        def make(tx: Tx) -> list[dict[str, Any]]:
            # ON CONFLICT: two processes making the secret at once keep the first one written.
            tx.execute(
                "INSERT INTO store_secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                (name, secrets.token_hex(32)),
            )
            return read(tx)

        cache: dict[str, bytes] = self.__dict__.setdefault("_secret_cache", {})
        if name not in cache:
            # Read first: a write transaction only the first time, not on every page run.
            rows = self._run(read, write=False) or self._run(make)
            cache[name] = bytes.fromhex(rows[0]["value"])
        return cache[name]

    def _key_hash(self, kind: str, key: str) -> str:
        # Keyed (HMAC), not a bare hash: the few billion IPv4 addresses could be tried one by one.
        return hmac.new(self.secret("limits"), f"{kind}\x00{key}".encode(), hashlib.sha256).hexdigest()

    def note_event(self, kind: str, keys: Iterable[str], *, keep_s: float, at: float | None = None) -> None:
        """Note that an event of ``kind`` happened for each of ``keys``; purge events past their expiry.

        Parameters
        ----------
        kind : str
            What happened (``"sign_in_failed"``, ``"submission"``...).
        keys : iterable of str
            Who it counts against (a user name, a client address, a browser id); stored hashed.
        keep_s : float
            Seconds the event is kept (the longest window it is counted in).
        at : float, optional
            When it happened (``time.time()`` seconds); default now.
        """
        now = time.time() if at is None else float(at)
        rows = [(kind, self._key_hash(kind, k), now, now + float(keep_s)) for k in dict.fromkeys(keys)]

        def write(tx: Tx) -> None:
            tx.execute("DELETE FROM limit_events WHERE expires_at <= ?", (now,))
            tx.executemany(
                "INSERT INTO limit_events (kind, key_hash, happened_at, expires_at) VALUES (?, ?, ?, ?)", rows
            )

        self._run(write)

    def recent_events(
        self, kind: str, keys: Iterable[str], *, window_s: float, now: float | None = None
    ) -> dict[str, list[float]]:
        """Return, for each key, when events of ``kind`` happened in the last ``window_s`` seconds, oldest first.

        Parameters
        ----------
        kind : str
            As given to :meth:`note_event`.
        keys : iterable of str
            The keys to look up (as given to :meth:`note_event`, not hashed).
        window_s : float
            How far back to look, in seconds.
        now : float, optional
            The time now (``time.time()`` seconds); default now.

        Returns
        -------
        dict of str to list of float
            Every key asked for, with its event times (``time.time()`` seconds); expired events are left out.
        """
        at = time.time() if now is None else float(now)
        hashed = {self._key_hash(kind, k): k for k in dict.fromkeys(keys)}
        out: dict[str, list[float]] = {k: [] for k in hashed.values()}
        if not hashed:
            return out
        rows = self._run(
            lambda tx: tx.execute(
                "SELECT key_hash, happened_at FROM limit_events WHERE kind = ? AND happened_at > ? "
                f"AND expires_at > ? AND key_hash IN ({', '.join('?' * len(hashed))}) ORDER BY happened_at",
                (kind, at - float(window_s), at, *hashed),
            ),
            write=False,
        )
        for row in rows:
            out[hashed[row["key_hash"]]].append(float(row["happened_at"]))
        return out

    def clear_events(self, kind: str, keys: Iterable[str], *, at: float | None = None) -> None:
        """Forget the events of ``kind`` for ``keys`` (a successful sign-in clears its user name's failures).

        With ``at``, only the events noted at that time (one attempt that turned out well).
        """
        hashed = [self._key_hash(kind, k) for k in dict.fromkeys(keys)]
        if not hashed:
            return
        sql = f"DELETE FROM limit_events WHERE kind = ? AND key_hash IN ({', '.join('?' * len(hashed))})"
        params: tuple[Any, ...] = (kind, *hashed)
        if at is not None:
            sql, params = sql + " AND happened_at = ?", (*params, float(at))
        self._run(lambda tx: tx.execute(sql, params))

    @staticmethod
    def _session_hash(session_id: str) -> str:
        # Session ids are 256 random bits: a plain hash cannot be reversed by trying ids.
        return hashlib.sha256(session_id.encode("utf-8", "replace")).hexdigest()

    def start_session(self, officer: str, *, lifetime_s: float, kind: str = "session") -> str:
        """Open a sign-in session (or a one-time ``kind="token"``) for ``officer``; return its id.

        Only a hash of the id is stored: the id itself goes to the officer's browser.
        Sessions and tokens past their expiry are purged.

        Parameters
        ----------
        officer : str
            The signed-in officer's user name.
        lifetime_s : float
            Seconds until the session ends by itself.
        kind : {"session", "token"}
            A session, or a short-lived token taken once with :meth:`take_token`.
        """
        session_id = secrets.token_urlsafe(32)
        now = time.time()

        def write(tx: Tx) -> None:
            tx.execute("DELETE FROM officer_sessions WHERE expires_at <= ?", (now,))
            tx.execute(
                "INSERT INTO officer_sessions (id, kind, officer, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                (self._session_hash(session_id), kind, str(officer), now, now + float(lifetime_s)),
            )

        self._run(write)
        return session_id

    def session_officer(self, session_id: str | None, *, kind: str = "session") -> str | None:
        """Return the officer of a session that is open (not ended, not expired), or None."""
        if not session_id or not isinstance(session_id, str):
            return None
        rows = self._run(
            lambda tx: tx.execute(
                "SELECT officer FROM officer_sessions WHERE id = ? AND kind = ? AND ended_at IS NULL AND expires_at > ?",
                (self._session_hash(session_id), kind, time.time()),
            ),
            write=False,
        )
        return str(rows[0]["officer"]) if rows else None

    def take_token(self, token: str | None) -> str | None:
        """Return the officer of a one-time token and end it, so that it works once; None if not open."""
        if not token or not isinstance(token, str):
            return None
        key = self._session_hash(token)

        def write(tx: Tx) -> str | None:
            now = time.time()
            rows = tx.execute(
                "SELECT officer FROM officer_sessions WHERE id = ? AND kind = 'token' AND ended_at IS NULL "
                f"AND expires_at > ?{self._lock_rows}",
                (key, now),
            )
            if not rows:
                return None
            tx.execute("UPDATE officer_sessions SET ended_at = ? WHERE id = ?", (now, key))
            return str(rows[0]["officer"])

        return self._run(write)

    def end_session(self, session_id: str | None) -> None:
        """Sign the session's officer out everywhere: every open session of theirs ends.

        A sign-in makes one session for the browser tab and one for its cookie, and an
        officer may have signed in from several browsers; signing out in any of them
        ends them all, so that no tab left open elsewhere stays signed in. An ended id,
        even if copied, signs no one in again (the rows stay until they expire).
        """
        if not session_id or not isinstance(session_id, str):
            return
        key = self._session_hash(session_id)

        def write(tx: Tx) -> None:
            rows = tx.execute("SELECT officer FROM officer_sessions WHERE id = ? AND kind = 'session'", (key,))
            now = time.time()
            tx.execute("UPDATE officer_sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL", (now, key))
            if rows:
                tx.execute(
                    "UPDATE officer_sessions SET ended_at = ? WHERE officer = ? AND kind = 'session' "
                    "AND ended_at IS NULL",
                    (now, rows[0]["officer"]),
                )

        self._run(write)


#: What an erased personal value reads as in the audit log.
ERASED: str = "[erased]"


def _scrub_snapshot(snapshot: Mapping[str, Any]) -> dict[str, Any]:
    """Return an audit copy of a record with its personal values replaced by :data:`ERASED`."""
    return {k: (ERASED if k in PERSONAL_FIELDS and not is_blank(v) else v) for k, v in snapshot.items()}


def _scrub_text(text: str | None, values: Iterable[str]) -> str | None:
    """Return ``text`` with every erased value in it (ignoring case) replaced by :data:`ERASED`."""
    if not text:
        return text
    # Longest first, so a name is struck whole before any shorter value inside it.
    for value in sorted((v.strip() for v in values if len(v.strip()) >= 3), key=len, reverse=True):
        text = re.sub(re.escape(value), ERASED, text, flags=re.IGNORECASE)
    return text
