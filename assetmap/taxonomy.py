"""The framework's 11 elements and 4 pillars, and the asset types that serve them.

The data lives in ``taxonomy.toml`` beside this module so that an authority can
edit it; :func:`load_taxonomy` reads it (or another file of the same shape).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from assetmap._errors import DataFormatError

_DEFAULT_PATH = Path(__file__).with_name("taxonomy.toml")


@dataclass(frozen=True)
class Pillar:
    """One of the framework's four groups of elements."""

    key: str
    name: str
    description: str


@dataclass(frozen=True)
class Element:
    """One of the framework's 11 elements."""

    id: int
    pillar: str
    name: str
    description: str
    #: A few words for narrow places (chart axes, matrix headers); the name where none is given.
    short_name: str = ""

    @property
    def short(self) -> str:
        """Return the number and the short name, for narrow places: "6 VCSE and volunteering"."""
        return f"{self.id} {self.short_name or self.name}"


@dataclass(frozen=True)
class AssetType:
    """A kind of community asset and the elements it serves by default."""

    key: str
    label: str
    elements: tuple[int, ...]
    synonyms: tuple[str, ...] = ()


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", str(text).lower()).strip()


@dataclass(frozen=True)
class Taxonomy:
    """Pillars, elements and asset types, with lookups by any common spelling."""

    pillars: tuple[Pillar, ...]
    elements: tuple[Element, ...]
    asset_types: tuple[AssetType, ...]

    def __post_init__(self) -> None:
        names: dict[str, str] = {}
        for t in self.asset_types:
            for spelling in (t.key, t.label, *t.synonyms):
                names.setdefault(_norm(spelling), t.key)
        object.__setattr__(self, "_type_names", names)

    @property
    def type_keys(self) -> list[str]:
        """Asset type keys in file order."""
        return [t.key for t in self.asset_types]

    def asset_type(self, key: str) -> AssetType:
        """Return the asset type with this key."""
        for t in self.asset_types:
            if t.key == key:
                return t
        raise KeyError(key)

    def element(self, element_id: int) -> Element:
        """Return the element with this number (1-11)."""
        for e in self.elements:
            if e.id == int(element_id):
                return e
        raise KeyError(element_id)

    def pillar(self, key: str) -> Pillar:
        """Return the pillar with this key or name (case-insensitive)."""
        for p in self.pillars:
            if _norm(key) in (p.key, _norm(p.name)):
                return p
        raise KeyError(key)

    def normalise_type(self, text: str) -> str | None:
        """Return the type key for a label, key or synonym, or None if unknown.

        Parameters
        ----------
        text : str
            A type as a register writes it ("Food Bank", "food_bank", "foodbank").
        """
        if text is None:
            return None
        key = _norm(text)
        names: dict[str, str] = self._type_names  # type: ignore[attr-defined]
        if key in names:
            return names[key]
        # Registers often qualify a type ("Local authority run library", "Partnership run
        # library"): take a known spelling that appears as whole words, preferring one that
        # ends the value (the noun the rest qualifies), then the longest, if one type has it.
        padded = f" {key} "
        hits = sorted(
            ((padded.endswith(f" {n} "), len(n), t) for n, t in names.items() if len(n) > 3 and f" {n} " in padded),
            reverse=True,
        )
        if hits and len({t for end, length, t in hits if (end, length) == hits[0][:2]}) == 1:
            return hits[0][2]
        return None

    def pillar_of(self, element_id: int) -> str:
        """Return the pillar key of an element."""
        return self.element(element_id).pillar

    def elements_of_pillar(self, key: str) -> list[int]:
        """Return the element numbers in a pillar."""
        pillar = self.pillar(key).key
        return [e.id for e in self.elements if e.pillar == pillar]

    def pillars_of(self, element_ids: list[int] | tuple[int, ...]) -> list[str]:
        """Return the pillar keys of several elements, in framework order, once each."""
        wanted = {self.pillar_of(i) for i in element_ids}
        return [p.key for p in self.pillars if p.key in wanted]


def _parse(path: Path) -> Taxonomy:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DataFormatError(f"{path.name}: cannot read the taxonomy ({exc}). Check the TOML syntax.") from exc
    try:
        pillars = tuple(Pillar(p["key"], p["name"], p.get("description", "")) for p in data["pillars"])
        elements = tuple(
            Element(int(e["id"]), e["pillar"], e["name"], e.get("description", ""), e.get("short_name", ""))
            for e in data["elements"]
        )
        types = tuple(
            AssetType(t["key"], t["label"], tuple(int(i) for i in t["elements"]), tuple(t.get("synonyms", ())))
            for t in data["asset_types"]
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise DataFormatError(
            f"{path.name}: missing or malformed taxonomy entry ({exc!r}). Each pillar needs key and name; "
            "each element id, pillar and name; each asset type key, label and elements."
        ) from exc
    pillar_keys = {p.key for p in pillars}
    element_ids = {e.id for e in elements}
    for e in elements:
        if e.pillar not in pillar_keys:
            raise DataFormatError(f"{path.name}: element {e.id} names unknown pillar '{e.pillar}'.")
    for t in types:
        unknown = set(t.elements) - element_ids
        if unknown:
            raise DataFormatError(f"{path.name}: asset type '{t.key}' names unknown elements {sorted(unknown)}.")
    return Taxonomy(pillars, elements, types)


@lru_cache(maxsize=8)
def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Read a taxonomy file (default: the one shipped with assetmap).

    Parameters
    ----------
    path : str or Path, optional
        A TOML file with ``pillars``, ``elements`` and ``asset_types`` tables.

    Returns
    -------
    Taxonomy
    """
    return _parse(Path(path) if path else _DEFAULT_PATH)
