"""Limits and officer sign-in sessions, kept in the register so every app instance sees them."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable
from typing import Any

from assetmap.store.common import (
    Tx,
)
from assetmap.store.core import StoreCore


class LimitsAndSessions(StoreCore):
    """Limits (failed sign-ins, public submissions) and officer sessions."""

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
