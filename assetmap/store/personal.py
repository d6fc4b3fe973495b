"""Personal data in the register: a person's data on request, and its erasure."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from assetmap import settings
from assetmap._errors import Problem, ValidationError
from assetmap.record import (
    PERSONAL_FIELDS,
    is_blank,
)
from assetmap.store.common import (
    CHUNK,
    COLUMNS_SQL,
    StoreError,
    Tx,
    as_list,
    now_iso,
)
from assetmap.store.core import StoreCore


class PersonalData(StoreCore):
    """A person's data on request, and erasing it on request or once the retention period ends."""

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
        for start in range(0, len(ids), CHUNK):
            part = ids[start : start + CHUNK]
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
        id_list = as_list(ids)

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
            for start in range(0, len(ids), CHUNK):
                found = self._fetch(tx, ids[start : start + CHUNK], lock=True)
                reasons = {
                    i: f"personal details kept {int(days)} days after the record was {r['status']}: "
                    "erased at the end of the retention period"
                    for i, r in found.items()
                }
                erased |= self._erase(tx, found, reasons, actor=actor, now=stamp)
            return erased

        return self._run(write)


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
