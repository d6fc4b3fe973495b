"""The store's machinery: connections, transactions with retries, migrations and record rows.

Backends (SQLite, PostGIS) supply connections, their SQL dialect and how to find
records near a point; the parts of :class:`~assetmap.store.base.RegisterStore`
build on what is here.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from typing import Any, ClassVar, Self, TypeVar

import numpy as np

from assetmap.record import (
    FIELDS,
    validate_record,
)
from assetmap.store.common import (
    CHUNK,
    COLUMNS_SQL,
    RECORD_COLUMNS,
    RecordNotFoundError,
    StoreBusyError,
    StoreError,
    Tx,
    elements_text,
    elements_tuple,
    new_reference,
    now_iso,
    to_bng,
)
from assetmap.taxonomy import Taxonomy, load_taxonomy

T = TypeVar("T")


class StoreCore(ABC):
    """The register store's machinery, under every part of :class:`~assetmap.store.base.RegisterStore`.

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

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- conversions -----------------------------------------------------------------------

    def _clean(self, record: Mapping[str, Any], *, row: int | None = None, file: str | None = None) -> dict[str, Any]:
        return validate_record(dict(record), taxonomy=self.taxonomy, row=row, file=file)

    def _row(
        self, clean: dict[str, Any], *, record_id: str, status: str, source: str, actor: str, now: str
    ) -> dict[str, Any]:
        x, y = to_bng().transform(clean["longitude"], clean["latitude"])
        row = {c: clean.get(c) for c in RECORD_COLUMNS if c in clean}
        row.update(
            id=record_id,
            elements=elements_text(clean["elements"]),
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
            reference=new_reference(),
        )
        return {c: row.get(c) for c in RECORD_COLUMNS}

    @staticmethod
    def _snapshot(row: Mapping[str, Any]) -> dict[str, Any]:
        """Return a record as it goes into the audit log: JSON-ready, with ``asset_id`` and elements as a list."""
        out = {("asset_id" if k == "id" else k): row[k] for k in RECORD_COLUMNS if k in row and k not in ("x", "y")}
        out["elements"] = list(elements_tuple(row.get("elements")))
        out["sensitive"] = bool(row.get("sensitive"))
        return out

    @staticmethod
    def _as_record(row: Mapping[str, Any]) -> dict[str, Any]:
        """Return a database row as a record dict (the shape :func:`validate_record` takes)."""
        out = {k: row.get(k) for k in FIELDS if k != "asset_id"}
        out["asset_id"] = row["id"]
        out["elements"] = elements_tuple(row.get("elements"))
        out["sensitive"] = bool(row.get("sensitive"))
        for k in ("area_code", "merged_into", "version", "x", "y", "reference"):
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
        for start in range(0, len(rows), CHUNK):
            tx.executemany(sql, [[r[c] for c in RECORD_COLUMNS] for r in rows[start : start + CHUNK]])

    def _unique_references(self, tx: Tx, rows: Sequence[dict[str, Any]]) -> None:
        """Give a new reference to any row whose reference another record (or row) already has."""
        # 78 billion references: a clash is rare, but a unique index refusing a whole upload for it is not an answer.
        while True:
            refs = [r["reference"] for r in rows]
            taken: set[str] = set()
            for start in range(0, len(refs), CHUNK):
                part = refs[start : start + CHUNK]
                sql = f"SELECT reference FROM records WHERE reference IN ({', '.join('?' * len(part))})"
                taken.update(r["reference"] for r in tx.execute(sql, part))
            seen: set[str] = set()
            clashes = 0
            for row in rows:
                if row["reference"] in taken or row["reference"] in seen:
                    row["reference"] = new_reference()
                    clashes += 1
                seen.add(row["reference"])
            if not clashes:
                return

    def _fetch(self, tx: Tx, ids: Sequence[str], *, lock: bool = False) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), CHUNK):
            part = ids[start : start + CHUNK]
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
