"""Likely duplicate records, within a batch and against the register.

Two records are flagged when they have the same or a similar name and stand
within a short distance of each other, share a charity or company number, or
share a postcode. A flag is a prompt for the person reviewing, never a refusal:
two groups may well meet in one hall.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

import numpy as np
import pandas as pd
from pyproj import Transformer
from scipy.spatial import cKDTree

from assetmap import settings

#: Columns of the table :func:`find_duplicates` returns.
DUPLICATE_COLUMNS: tuple[str, ...] = (
    "position",
    "row",
    "asset_id",
    "name",
    "where",
    "duplicate_of",
    "other_position",
    "other_row",
    "other_name",
    "reason",
)

# Words that say nothing about which group it is.
_FILLER = re.compile(r"\b(the|a|an|of|and|ltd|limited|cic|cio|inc|charity|group|club|uk)\b")


def name_key(name: object) -> str:
    """Return a name reduced for comparison: lower case, no punctuation or filler words.

    Parameters
    ----------
    name : object
        A record's name.
    """
    text = re.sub(r"['\u2019]", "", str(name or "").lower()).replace("&", " and ")  # St Mary's = St Marys
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return re.sub(r"\s+", " ", _FILLER.sub(" ", text)).strip()


def names_similar(a: str, b: str, threshold: float = 0.85) -> bool:
    """Whether two reduced names (:func:`name_key`) are the same or nearly so."""
    if not a or not b:
        return False
    return a == b or SequenceMatcher(None, a, b, autojunk=False).ratio() >= threshold


def _xy(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """British National Grid coordinates of each record (NaN where it has no location)."""
    if "x" in frame and "y" in frame:
        return frame["x"].to_numpy(float), frame["y"].to_numpy(float)
    if "longitude" in frame and "latitude" in frame:
        lon = pd.to_numeric(frame["longitude"], errors="coerce").to_numpy(float)
        lat = pd.to_numeric(frame["latitude"], errors="coerce").to_numpy(float)
        to_bng = Transformer.from_crs(settings.storage_crs, settings.analysis_crs, always_xy=True)
        x, y = to_bng.transform(lon, lat)
        bad = ~(np.isfinite(lon) & np.isfinite(lat))
        return np.where(bad, np.nan, x), np.where(bad, np.nan, y)
    n = len(frame)
    return np.full(n, np.nan), np.full(n, np.nan)


def _column(frame: pd.DataFrame, name: str) -> list[object]:
    if name not in frame:
        return [None] * len(frame)
    return [None if v is None or (isinstance(v, float) and v != v) or v is pd.NA else v for v in frame[name]]


def _clean_key(value: object) -> str | None:
    text = re.sub(r"[^A-Za-z0-9]+", "", str(value)).upper() if value is not None else ""
    return text or None


def find_duplicates(
    records: pd.DataFrame,
    register: pd.DataFrame | None = None,
    *,
    distance_m: float = 50.0,
    name_similarity: float = 0.85,
) -> pd.DataFrame:
    """Flag likely duplicates among ``records`` and between them and ``register``.

    Parameters
    ----------
    records : DataFrame
        Records to check (a bulk upload, or the moderation queue): ``name`` and
        ``longitude``/``latitude`` (or ``x``/``y`` in EPSG:27700); ``postcode``,
        ``charity_number``, ``asset_id`` and ``row`` where present.
    register : DataFrame, optional
        Records already held, in the same shape; a record is never flagged against
        itself (same ``asset_id``).
    distance_m : float
        Distance within which two records of the same or a similar name count as one place.
    name_similarity : float
        Least similarity ratio (0 to 1) of two reduced names for them to count as similar.

    Returns
    -------
    DataFrame
        One row per pair, columns :data:`DUPLICATE_COLUMNS`: ``position`` (0-based
        position in ``records``), ``row`` and ``asset_id`` of the flagged record,
        ``where`` (``"batch"`` or ``"register"``), ``duplicate_of`` (the register
        record's id; for a batch pair the earlier record's id, if any),
        ``other_position`` and ``other_row`` (batch pairs), ``other_name``, and
        ``reason`` (one or more of "same name within 50 m", "similar name within
        50 m", "same charity number", "same postcode", joined by "; ").
    """
    side = _Side.of(records)
    rule = _NearRule(distance_m, name_similarity)
    found: _Found = {}
    _within_batch(side, rule, found)
    reg = _Side.of(register) if register is not None and len(register) else None
    if reg is not None:
        _near_register(side, reg, rule, found)
        _shared_with_register(side, reg, found)
    out = [_pair_row(side, reg, kind, i, other, reasons) for (kind, i, other), reasons in _in_order(found)]
    return pd.DataFrame(out, columns=list(DUPLICATE_COLUMNS))


#: Pairs found: (``"batch"`` or ``"register"``, position in the batch, the other's position) to reasons.
_Found = dict[tuple[str, int, int], list[str]]


@dataclass(frozen=True)
class _Side:
    """The columns of one side of the comparison (the batch, or the register), as lists."""

    keys: list[str]
    names: list[object]
    ids: list[object]
    rows: list[object]
    charity: list[str | None]
    postcode: list[str | None]
    x: np.ndarray
    y: np.ndarray

    @classmethod
    def of(cls, frame: pd.DataFrame) -> _Side:
        frame = frame.reset_index(drop=True)
        names = _column(frame, "name")
        x, y = _xy(frame)
        return cls(
            keys=[name_key(v) for v in names],
            names=names,
            ids=_column(frame, "asset_id"),
            rows=_column(frame, "row"),
            charity=[_clean_key(v) for v in _column(frame, "charity_number")],
            postcode=[_clean_key(v) for v in _column(frame, "postcode")],
            x=x,
            y=y,
        )

    @property
    def located(self) -> np.ndarray:
        return np.flatnonzero(np.isfinite(self.x) & np.isfinite(self.y))


@dataclass(frozen=True)
class _NearRule:
    distance_m: float
    similarity: float

    def reason(self, a: str, b: str) -> str | None:
        """Why two records near each other are one place, by their reduced names; None if they are not."""
        if a and a == b:
            return f"same name within {self.distance_m:.0f} m"
        if names_similar(a, b, self.similarity):
            return f"similar name within {self.distance_m:.0f} m"
        return None


def _add(found: _Found, kind: str, i: int, other: int, reason: str) -> None:
    reasons = found.setdefault((kind, i, other), [])
    if reason not in reasons:
        reasons.append(reason)


def _within_batch(side: _Side, rule: _NearRule, found: _Found) -> None:
    """Pairs within the batch: the later record of each pair is flagged against the earlier."""
    located = side.located
    if len(located) > 1:
        tree = cKDTree(np.column_stack([side.x[located], side.y[located]]))
        for a, b in sorted(tree.query_pairs(rule.distance_m)):
            i, j = sorted((int(located[a]), int(located[b])))
            reason = rule.reason(side.keys[i], side.keys[j])
            if reason:
                _add(found, "batch", j, i, reason)
    for values, reason in ((side.charity, "same charity number"), (side.postcode, "same postcode")):
        first: dict[str, int] = {}
        for j, value in enumerate(values):
            if value is None:
                continue
            if value in first:
                _add(found, "batch", j, first[value], reason)
            else:
                first[value] = j


def _near_register(side: _Side, reg: _Side, rule: _NearRule, found: _Found) -> None:
    """Pairs of a batch record and a register record near it, of the same or a similar name."""
    located, reg_located = side.located, reg.located
    if not (len(reg_located) and len(located)):
        return
    tree = cKDTree(np.column_stack([reg.x[reg_located], reg.y[reg_located]]))
    hits = tree.query_ball_point(np.column_stack([side.x[located], side.y[located]]), rule.distance_m)
    for i, near in zip(located, hits, strict=True):
        for k in near:
            r = int(reg_located[k])
            if side.ids[i] is not None and reg.ids[r] == side.ids[i]:
                continue  # the record itself, already in the register
            reason = rule.reason(side.keys[i], reg.keys[r])
            if reason:
                _add(found, "register", int(i), r, reason)


def _shared_with_register(side: _Side, reg: _Side, found: _Found) -> None:
    """Pairs of a batch record and a register record with the same charity number or postcode."""
    for values, reg_values, reason in (
        (side.charity, reg.charity, "same charity number"),
        (side.postcode, reg.postcode, "same postcode"),
    ):
        index: dict[str, list[int]] = {}
        for r, key in enumerate(reg_values):
            if key is not None:
                index.setdefault(key, []).append(r)
        for i, value in enumerate(values):
            for r in index.get(value, []) if value is not None else []:
                if side.ids[i] is None or reg.ids[r] != side.ids[i]:
                    _add(found, "register", i, r, reason)


def _in_order(found: _Found) -> list[tuple[tuple[str, int, int], list[str]]]:
    return sorted(found.items(), key=lambda kv: (kv[0][1], kv[0][0], str(kv[0][2])))


def _pair_row(side: _Side, reg: _Side | None, kind: str, i: int, other: int, reasons: list[str]) -> dict[str, object]:
    """One row of the table :func:`find_duplicates` returns."""
    row: dict[str, object] = {"position": i, "row": side.rows[i], "asset_id": side.ids[i], "name": side.names[i]}
    if kind == "batch":
        row |= {
            "where": "batch",
            "duplicate_of": side.ids[other],
            "other_position": other,
            "other_row": side.rows[other],
            "other_name": side.names[other],
        }
    else:
        assert reg is not None  # register pairs exist only with a register
        row |= {
            "where": "register",
            "duplicate_of": reg.ids[other],
            "other_position": None,
            "other_row": None,
            "other_name": reg.names[other],
        }
    return row | {"reason": "; ".join(reasons)}


def dedupe_batch(records: list[dict[str, Any]], distance_m: float = 50.0) -> tuple[list[dict[str, Any]], list[str]]:
    """Keep one of several features of one place (two outlines of one mosque): same type, similar name, close.

    Returns
    -------
    records : list of dict
        The records kept, in order.
    notes : list of str
        One line per feature folded into an earlier one.
    """
    from pyproj import Transformer

    to_bng = Transformer.from_crs(settings.storage_crs, settings.analysis_crs, always_xy=True)
    kept: list[tuple[dict[str, Any], str, float, float]] = []
    notes: list[str] = []
    for record in records:
        x, y = to_bng.transform(record["longitude"], record["latitude"])
        key = name_key(record["name"])
        twin = next(
            (
                r
                for r, k, kx, ky in kept
                if r["type"] == record["type"]
                and names_similar(k, key)
                and (kx - x) ** 2 + (ky - y) ** 2 <= distance_m**2
            ),
            None,
        )
        if twin is not None:
            notes.append(f"{record['source_id']}: taken as the same place as {twin['source_id']} ({twin['name']}).")
            continue
        kept.append((record, key, x, y))
    return [r for r, _, _, _ in kept], notes
