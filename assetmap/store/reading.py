"""Reading the register: records, counts, the audit log and likely duplicates."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from assetmap import settings
from assetmap.record import (
    FIELDS,
    PRIVATE_FIELDS,
    sensitive_mask,
)
from assetmap.store.common import (
    CHUNK,
    COLUMNS_SQL,
    RECORD_COLUMNS,
    RECORD_ID_PATTERN,
    RecordNotFoundError,
    Tx,
    elements_tuple,
    normalise_reference,
    records_from_input,
    to_bng,
)
from assetmap.store.core import StoreCore
from assetmap.store.duplicates import find_duplicates


class RecordReads(StoreCore):
    """Reading records, counts, the audit log, and likely duplicates of new records."""

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
            for k in (*PRIVATE_FIELDS, "merged_into", "version", "reference"):
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
        out["elements"] = [elements_tuple(v) for v in frame["elements"]]
        out["sensitive"] = frame["sensitive"].map(bool).astype(bool) if len(frame) else pd.Series(dtype=bool)
        out["longitude"] = frame["longitude"].astype(float)
        out["latitude"] = frame["latitude"].astype(float)
        out["last_confirmed"] = pd.to_datetime(frame["last_confirmed"], errors="coerce").dt.date
        out["last_confirmed"] = out["last_confirmed"].astype(object).where(out["last_confirmed"].notna(), None)
        out["pillars"] = [tuple(self.taxonomy.pillars_of(e)) if e else () for e in out["elements"]]
        geometry = gpd.points_from_xy(frame["x"].astype(float), frame["y"].astype(float), crs=settings.analysis_crs)
        return gpd.GeoDataFrame(out, geometry=geometry, crs=settings.analysis_crs)

    def references(self, ids: Sequence[str]) -> dict[str, str]:
        """Return the reference a submitter was given for each record (its id where it has none), by id."""

        def read(tx: Tx) -> dict[str, str]:
            return {i: r["reference"] or i for i, r in self._fetch(tx, list(ids)).items()}

        return self._run(read, write=False)

    def submission_status(self, reference: str, email: str) -> dict[str, Any] | None:
        """Return what a submitter may know of their entry, given its reference and their private email.

        Both must match one record (the email ignoring case and surrounding spaces); a
        reference or an email that does not is answered alike, with None, so that the
        answer does not tell which of the two was wrong. A record added before short
        references is found by its id.

        Parameters
        ----------
        reference : str
            As given on the confirmation (``AC3D-KM9X``; case, spaces and dashes forgiven).
        email : str
            The private contact email given with the entry.

        Returns
        -------
        dict or None
            ``reference``, ``name``, ``status``, ``submitted_at`` and ``changed_at``
            (UTC, ISO 8601), ``reason`` (the officer's reason where rejected, else None)
            and ``merged`` (True where it was merged into another entry); no other field.
        """
        ref = normalise_reference(reference)
        wanted = str(email or "").strip().lower()
        if not ref or not wanted:
            return None

        def read(tx: Tx) -> dict[str, Any] | None:
            column = "id" if RECORD_ID_PATTERN.match(ref) else "reference"
            rows = tx.execute(
                f"SELECT id, reference, name, status, created_at, updated_at, merged_into FROM records "
                f"WHERE {column} = ? AND LOWER(TRIM(contact_email)) = ?",
                (ref, wanted),
            )
            if len(rows) != 1:
                return None
            row = rows[0]
            reason = None
            if row["status"] == "rejected":
                said = tx.execute(
                    "SELECT reason FROM audit WHERE record_id = ? AND action = 'reject' ORDER BY id DESC LIMIT 1",
                    (row["id"],),
                )
                reason = said[0]["reason"] if said else None
            return {
                "reference": row["reference"] or row["id"],
                "name": row["name"],
                "status": row["status"],
                "submitted_at": row["created_at"],
                "changed_at": row["updated_at"],
                "reason": reason,
                "merged": bool(row["merged_into"]),
            }

        return self._run(read, write=False)

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
        frame = pd.DataFrame(records_from_input(records))
        for c in ("name", "longitude", "latitude", "postcode", "charity_number"):
            if c not in frame:
                frame[c] = None
        lon = pd.to_numeric(frame["longitude"], errors="coerce").to_numpy(float)
        lat = pd.to_numeric(frame["latitude"], errors="coerce").to_numpy(float)
        x, y = to_bng().transform(lon, lat)
        charity = sorted({str(v) for v in frame["charity_number"] if v})
        postcodes = sorted({str(v) for v in frame["postcode"] if v})

        def read(tx: Tx) -> list[dict[str, Any]]:
            found = {r["id"]: r for r in self._near(tx, np.asarray(x), np.asarray(y), distance_m)}
            for column, values in (("charity_number", charity), ("postcode", postcodes)):
                for start in range(0, len(values), CHUNK):
                    part = values[start : start + CHUNK]
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
