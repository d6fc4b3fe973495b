"""Bring records from an outside source into the register so that a re-import updates, never duplicates.

A record from OpenStreetMap or Open Referral carries its id at the source
(``source_id``). On import each record is matched, in turn, against

1. a register record of the same source and ``source_id``: its source-held fields
   are refreshed where they changed (an edit with an audit row) and left alone
   otherwise (nothing written);
2. a pending or approved record with the same or a similar name within
   ``distance_m``: counted as the same place and left as the register has it;
3. nothing: added, with the status the officer chose.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from assetmap.store.base import RegisterStore

#: Distance within which a record with a similar name counts as the same place, metres.
MATCH_DISTANCE_M: float = 50.0


@dataclass
class SyncResult:
    """What an import did to the register.

    Attributes
    ----------
    added : list of str
        Ids of records added.
    updated : list of str
        Ids of records whose source-held fields were refreshed.
    unchanged : list of str
        Ids of records found as they were (same source id, nothing changed).
    matched : list of tuple
        ``(source_id, record id)`` of incoming records taken as an existing record of
        a similar name nearby (left as the register has it).
    skipped : list of str
        One message per incoming item left out, saying why.
    notes : list of str
        Messages about items imported with an assumption (a default type for unknown terms).
    """

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    matched: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line: how many records were added, updated, unchanged, matched and skipped."""
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, {len(self.unchanged)} unchanged, "
            f"{len(self.matched)} matched to existing records, {len(self.skipped)} left out"
        )


def _same(a: Any, b: Any) -> bool:
    if a in (None, "") and b in (None, ""):
        return True
    if isinstance(a, float) or isinstance(b, float):
        try:
            return math.isclose(float(a), float(b), abs_tol=1e-6)
        except (TypeError, ValueError):
            return False
    return str(a) == str(b)


@dataclass(frozen=True)
class SyncSpec:
    """What an import is: where its records come from, which fields the source holds, how they go in.

    Parameters
    ----------
    source : str
        ``osm`` or ``oruk``.
    fields : sequence of str
        Fields the source holds: refreshed on a record of the same source id where the
        source gives a value that differs (a blank at the source never clears a field).
    status : {"pending", "approved"}
        Status of added records (the officer's choice).
    actor : str
        Who imports, for the audit log.
    """

    source: str
    fields: Sequence[str]
    status: str
    actor: str


def sync_records(
    store: RegisterStore,
    records: Sequence[dict[str, Any]],
    spec: SyncSpec,
    *,
    result: SyncResult | None = None,
    distance_m: float = MATCH_DISTANCE_M,
    area_codes: Callable[[Sequence[float], Sequence[float]], Sequence[str | None]] | None = None,
) -> SyncResult:
    """Add, refresh or match records from an outside source (see the module note).

    Parameters
    ----------
    store : RegisterStore
        The register.
    records : sequence of dict
        Valid records (each passes :func:`assetmap.record.validate_record`), each with a
        ``source_id`` unique in the batch.
    spec : SyncSpec
        The source, the fields it holds, and the status and actor of the import.
    result : SyncResult, optional
        Result to add to (its ``skipped`` messages are kept).
    distance_m : float
        Distance for a name match, metres.
    area_codes : callable, optional
        Ward (or neighbourhood) code of each (longitude, latitude), for added records
        that have none: a register shared by several areas shows each area the records
        placed in its wards.

    Returns
    -------
    SyncResult
    """
    result = result or SyncResult()
    if not records:
        return result
    known = _known(store, spec.source)
    fresh: list[dict[str, Any]] = []
    for record in records:
        existing = known.get(str(record["source_id"]))
        if existing is None:
            fresh.append(record)
        else:
            _refresh(store, record, existing, spec, result)
    if not fresh:
        return result
    new = _unmatched(store, fresh, distance_m, result)
    if new and area_codes is not None:
        codes = area_codes([r["longitude"] for r in new], [r["latitude"] for r in new])
        new = [r if r.get("area_code") else {**r, "area_code": c} for r, c in zip(new, codes, strict=True)]
    if new:
        frame = pd.DataFrame(new)
        result.added += store.bulk_add(
            frame.to_dict("records"), actor=spec.actor, source=spec.source, status=spec.status
        )
    return result


def _known(store: RegisterStore, source: str) -> dict[str, dict[str, Any]]:
    """Return the register's records from ``source``, by their source id (the first of each)."""
    register = store.records(public=False)
    known: dict[str, dict[str, Any]] = {}
    if len(register):
        ours = register[register["source"].eq(source) & register["source_id"].notna()]
        for row in ours.drop(columns=ours.geometry.name).to_dict("records"):
            known.setdefault(str(row["source_id"]), row)
    return known


def _refresh(
    store: RegisterStore, record: dict[str, Any], existing: dict[str, Any], spec: SyncSpec, result: SyncResult
) -> None:
    """Refresh the source-held fields of a record the register has, where the source changed them."""
    if existing["status"] not in ("pending", "approved"):
        # An officer rejected or withdrew it: an import does not bring it back.
        result.unchanged.append(existing["asset_id"])
        return
    changes = {
        f: record[f] for f in spec.fields if record.get(f) not in (None, "") and not _same(record[f], existing.get(f))
    }
    if not changes:
        result.unchanged.append(existing["asset_id"])
        return
    store.edit(
        existing["asset_id"],
        changes,
        actor=spec.actor,
        reason=f"re-import from {spec.source}: {', '.join(sorted(changes))} changed at the source",
    )
    result.updated.append(existing["asset_id"])


def _unmatched(
    store: RegisterStore, fresh: list[dict[str, Any]], distance_m: float, result: SyncResult
) -> list[dict[str, Any]]:
    """Return the new records that match no register record of a similar name nearby; note those that do."""
    dups = store.find_duplicates(fresh, distance_m=distance_m)
    if len(dups):
        dups = dups[dups["where"].eq("register") & dups["reason"].str.contains("name within", regex=False)]
    taken = dict(zip(dups["position"].astype(int), dups["duplicate_of"], strict=True)) if len(dups) else {}
    new = []
    for position, record in enumerate(fresh):
        if position in taken:
            result.matched.append((str(record["source_id"]), str(taken[position])))
        else:
            new.append(record)
    return new
