"""Adding records, and every change to one: edits, moderation and merging."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from assetmap._errors import Problem, ValidationError
from assetmap.record_checks import check_records, records_frame
from assetmap.store.common import (
    EDITABLE_FIELDS,
    ConflictError,
    TransitionError,
    Tx,
    as_list,
    elements_text,
    new_record_id,
    now_iso,
    records_from_input,
    to_bng,
)
from assetmap.store.core import StoreCore

#: Statuses from which each moderation action may start.
_ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    "approve": ("pending", "rejected"),
    "reject": ("pending", "approved"),
    "withdraw": ("pending", "approved", "rejected"),
}
_TO_STATUS = {"approve": "approved", "reject": "rejected", "withdraw": "withdrawn"}


class RecordWrites(StoreCore):
    """Adding and changing records, each change in one transaction with its audit row."""

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

    def _checked(self, records: list[dict[str, Any]], file: str | None) -> list[dict[str, Any]]:
        """Return the records checked and clean, or raise with every problem of the batch."""
        rows = []
        for n, record in enumerate(records):
            row = record.get("row")
            rows.append(
                int(row) if isinstance(row, int | float | np.integer) and row == row else (n + 2 if file else None)
            )
        clean, problems = check_records(records_frame(records), taxonomy=self.taxonomy, rows=rows, file=file)
        refused = set(clean.attrs["refused"])
        cleaned = [c for n, c in enumerate(clean.to_dict("records")) if n not in refused]
        given = [c["asset_id"] for c in cleaned if c["asset_id"]]
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
        return cleaned

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
        cleaned = self._checked(records, file)
        given = [c["asset_id"] for c in cleaned if c["asset_id"]]

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
                for clean in cleaned
            ]
            self._unique_references(tx, rows)
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
            records_from_input(records), actor=actor, key=idempotency_key, status=status, source=source, file=file
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
            after["elements"] = elements_text(clean["elements"])
            after["sensitive"] = bool(clean["sensitive"])
            if after["longitude"] != before["longitude"] or after["latitude"] != before["latitude"]:
                x, y = to_bng().transform(after["longitude"], after["latitude"])
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
        id_list = as_list(ids)
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
        """Publish pending (or previously rejected) records; all or none. Return them as changed.

        An officer approving a record has checked it is current: it is confirmed as of the
        approval day (``last_confirmed``), so the stale list counts from there.
        """
        day = date.today().isoformat()

        def change(row: dict[str, Any]) -> None:
            row["last_confirmed"] = day

        return self._transition(ids, "approve", actor=actor, reason=reason, change=change)

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
        drops = [i for i in as_list(drop_ids) if i != keep_id]
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
