"""The shared register: PostgreSQL with PostGIS, for several editors or app instances.

Records carry a ``geometry(Point, 27700)`` column with a GiST index, kept in step
with their coordinates by a trigger. Writes run at READ COMMITTED with the rows
they change locked (``SELECT ... FOR UPDATE``); serialisation failures and
deadlocks are retried with backoff, like a busy SQLite file.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np

from assetmap.store.base import COLUMNS_SQL, RegisterStore, StoreError, Tx
from assetmap.taxonomy import Taxonomy


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - psycopg is a dependency
        raise StoreError("the PostgreSQL register needs psycopg: pip install 'psycopg[binary]>=3.1'.") from exc
    return psycopg


def _redact(url: str) -> str:
    """Return the URL with any password hidden, for messages."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


class PostGISStore(RegisterStore):
    """Register store in a PostgreSQL database with the PostGIS extension.

    Parameters
    ----------
    url : str
        ``postgresql://user:password@host:port/database`` (any libpq connection string).
    taxonomy : Taxonomy, optional
        Asset types and elements used to check records.
    retry_seconds : float
        How long a write keeps retrying after serialisation failures or deadlocks.
    connect_timeout : int
        Seconds to wait for the server when connecting.
    """

    backend: ClassVar[str] = "postgis"
    migrations_folder: ClassVar[str] = "postgis"
    _lock_rows: ClassVar[str] = " FOR UPDATE"

    def __init__(
        self,
        url: str,
        *,
        taxonomy: Taxonomy | None = None,
        retry_seconds: float = 30.0,
        connect_timeout: int = 10,
    ):
        super().__init__(taxonomy=taxonomy, retry_seconds=retry_seconds)
        self._psycopg = _psycopg()
        self.url = url
        self.connect_timeout = connect_timeout
        self.migrate()

    def __repr__(self) -> str:
        return f"PostGISStore({_redact(self.url)!r})"

    def _connection(self) -> Any:
        # A broken connection is replaced before use.
        conn = self._thread_connection()
        if conn is not None and not conn.closed and not conn.broken:
            return conn
        try:
            conn = self._psycopg.connect(self.url, autocommit=True, connect_timeout=self.connect_timeout)
        except self._psycopg.OperationalError as exc:
            detail = " ".join(str(exc).split())  # one line: the server's message spans several
            raise StoreError(
                f"cannot connect to the register database at {_redact(self.url)} ({detail}). "
                "Check that the server is running and the address in the settings."
            ) from exc
        return self._keep(conn)

    @contextlib.contextmanager
    def _transaction(self, *, write: bool) -> Iterator[Tx]:
        conn = self._connection()
        with conn.transaction(), conn.cursor() as cursor:
            yield Tx(cursor, "%s")

    def _is_transient(self, exc: BaseException) -> bool:
        errors = self._psycopg.errors
        return isinstance(exc, errors.SerializationFailure | errors.DeadlockDetected | errors.LockNotAvailable)

    def _is_duplicate_key(self, exc: BaseException) -> bool:
        return isinstance(exc, self._psycopg.errors.UniqueViolation)

    def _unavailable(self, exc: BaseException) -> StoreError | None:
        # A server that went away, shut down or refuses to write (read-only standby, full disk).
        errors = self._psycopg.errors
        gone = isinstance(exc, self._psycopg.OperationalError | self._psycopg.InterfaceError)
        if not gone and not isinstance(exc, errors.ReadOnlySqlTransaction | errors.DiskFull):
            return None
        detail = " ".join(str(exc).split())
        return StoreError(
            f"the register database at {_redact(self.url)} cannot be used just now ({detail}). "
            "Check that the server is running and accepts writes."
        )

    def _migration_lock(self, tx: Tx) -> None:
        """Hold a transaction-level advisory lock, so that two processes never migrate at once."""
        tx.execute("SELECT pg_advisory_xact_lock(hashtext('assetmap register migrations'))")

    def _near(self, tx: Tx, x: np.ndarray, y: np.ndarray, distance_m: float) -> list[dict[str, Any]]:
        """Pending or approved records within ``distance_m`` of any point, through the GiST index."""
        ok = np.isfinite(x) & np.isfinite(y)
        if not ok.any():
            return []
        columns = ", ".join(f"r.{c}" for c in COLUMNS_SQL.split(", "))
        return tx.execute(
            f"SELECT DISTINCT ON (r.id) {columns} FROM unnest(?::float8[], ?::float8[]) AS p(px, py) "
            "JOIN records r ON ST_DWithin(r.geom, ST_SetSRID(ST_MakePoint(p.px, p.py), 27700), ?) "
            "WHERE r.status IN ('pending', 'approved')",
            (x[ok].tolist(), y[ok].tolist(), float(distance_m)),
        )
