"""The embedded register: one SQLite file, in WAL mode, safe for many writers.

Readers never wait for writers (WAL). Writers queue: each write transaction
starts with ``BEGIN IMMEDIATE`` (taking the write lock at once, so a transaction
never fails half-way for want of it), SQLite waits up to ``busy_timeout`` for the
lock, and the store retries with backoff beyond that, so "database is locked"
never reaches a user.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from assetmap.store.base import RegisterStore, StoreError, Tx
from assetmap.taxonomy import Taxonomy

#: Milliseconds SQLite itself waits for the write lock before the store's own retries begin.
BUSY_TIMEOUT_MS = 5_000


class SQLiteStore(RegisterStore):
    """Register store in one SQLite file.

    Parameters
    ----------
    path : str or Path
        The database file (created, with its folder, if absent).
    taxonomy : Taxonomy, optional
        Asset types and elements used to check records.
    retry_seconds : float
        How long a write keeps retrying while the database is busy.
    synchronous : {"FULL", "NORMAL"}
        SQLite's ``synchronous`` setting: FULL (the default) also survives a power cut;
        NORMAL is faster and survives a crash of the program, not of the machine.
    """

    backend: ClassVar[str] = "sqlite"
    migrations_folder: ClassVar[str] = "sqlite"

    def __init__(
        self,
        path: str | Path,
        *,
        taxonomy: Taxonomy | None = None,
        retry_seconds: float = 30.0,
        synchronous: str = "FULL",
    ):
        super().__init__(taxonomy=taxonomy, retry_seconds=retry_seconds)
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError("synchronous must be FULL or NORMAL.")
        self.path = Path(path)
        self.synchronous = synchronous
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{self.path.parent}: cannot create the register's folder ({exc}).") from exc
        # Writers in this process queue here, in turn, rather than polling SQLite's lock
        # (its busy handler sleeps up to 100 ms between tries); other processes still
        # meet at the file lock and busy_timeout.
        self._write_lock = threading.Lock()
        self.migrate()

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"

    @property
    def url(self) -> str:
        """The store's address, for :func:`assetmap.store.open_store`."""
        return f"sqlite:///{self.path.resolve()}"

    def _connection(self) -> sqlite3.Connection:
        conn = self._thread_connection()
        if conn is not None:
            return conn
        try:
            conn = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot open the register database ({exc}).") from exc
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        for _ in range(50):  # switching to WAL needs a moment alone with the file
            try:
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                break
            except sqlite3.OperationalError as exc:
                if not self._is_transient(exc):
                    raise
            except sqlite3.DatabaseError as exc:  # a damaged file, or one that is not a database at all
                conn.close()
                raise StoreError(
                    f"{self.path}: the register cannot be read ({exc}). Restore it from a backup, or move the "
                    "file aside to start an empty register."
                ) from exc
        else:  # pragma: no cover - only on a file locked for seconds on end
            mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StoreError(
                f"{self.path}: the database cannot use write-ahead logging (journal mode {mode}); "
                "keep the register on a local disk, not a network share."
            )
        conn.execute(f"PRAGMA synchronous = {self.synchronous}")
        conn.execute("PRAGMA foreign_keys = ON")
        return self._keep(conn)

    @contextlib.contextmanager
    def _transaction(self, *, write: bool) -> Iterator[Tx]:
        with self._write_lock if write else contextlib.nullcontext(), self._open_transaction(write=write) as tx:
            yield tx

    @contextlib.contextmanager
    def _open_transaction(self, *, write: bool) -> Iterator[Tx]:
        conn = self._connection()
        cursor = conn.cursor()
        cursor.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield Tx(cursor)
            conn.commit()
        except BaseException:
            # Also after a failed COMMIT, so the connection never stays inside a transaction.
            with contextlib.suppress(sqlite3.Error):
                conn.rollback()
            raise
        finally:
            cursor.close()

    def _is_transient(self, exc: BaseException) -> bool:
        if not isinstance(exc, sqlite3.OperationalError):
            return False
        text = str(exc).lower()
        return "locked" in text or "busy" in text

    def _is_duplicate_key(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.IntegrityError) and "unique" in str(exc).lower()

    def _unavailable(self, exc: BaseException) -> StoreError | None:
        if isinstance(exc, sqlite3.IntegrityError) or not isinstance(exc, sqlite3.DatabaseError):
            return None
        text = str(exc).lower()
        if "readonly" in text or "read-only" in text:
            return StoreError(
                f"{self.path}: the register is read-only ({exc}). Let the app's user write the file and its "
                "folder, or move the register to a folder it can write."
            )
        return StoreError(
            f"{self.path}: the register cannot be used ({exc}). Check the disk, restore the file from a "
            "backup, or move it aside to start an empty register."
        )

    def _migration_lock(self, tx: Tx) -> None:
        """Nothing to do: a write transaction already holds the database's only write lock."""

    @staticmethod
    def _split_script(script: str) -> list[str]:
        # sqlite3 runs one statement per call; complete_statement knows where each ends.
        statements, current = [], ""
        for line in script.splitlines(keepends=True):
            if not current and (not line.strip() or line.lstrip().startswith("--")):
                continue
            current += line
            if sqlite3.complete_statement(current):
                statements.append(current.strip())
                current = ""
        if current.strip():
            statements.append(current.strip())
        return statements

    def integrity_check(self) -> str:
        """Run SQLite's integrity check; return ``"ok"`` for a sound file."""
        rows = self._run(lambda tx: tx.execute("PRAGMA integrity_check"), write=False)
        return str(next(iter(rows[0].values())))
