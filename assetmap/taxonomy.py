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
    """A kind of community asset, the elements it serves and who it is for, by default."""

    key: str
    label: str
    elements: tuple[int, ...]
    synonyms: tuple[str, ...] = ()
    audiences: tuple[str, ...] = ("everyone",)


#: The groups of residents the IoD population denominators count (File 6 and File 7): every resident,
#: children 0-15, people aged 16-59 and people aged 60 and over.
RESIDENT_GROUPS: tuple[str, ...] = ("everyone", "children", "working_age", "older")


@dataclass(frozen=True)
class Audience:
    """Who an asset is for, one of a controlled list, and the residents it serves.

    ``serves`` names groups of :data:`RESIDENT_GROUPS`: an asset for families serves children and
    people of working age.
    """

    key: str
    label: str
    serves: tuple[str, ...]
    synonyms: tuple[str, ...] = ()


#: The audiences where a taxonomy file names none.
DEFAULT_AUDIENCES: tuple[Audience, ...] = (
    Audience("everyone", "Everyone", ("children", "working_age", "older"), ("all", "all ages", "anyone")),
    Audience("children", "Children and young people (0-15)", ("children",), ("children", "young people", "youth")),
    Audience("working_age", "Working age (16-59)", ("working_age",), ("adults", "working age")),
    Audience("older", "Older people (60+)", ("older",), ("older people", "elderly", "over 60s", "60+")),
    Audience("families", "Families", ("children", "working_age"), ("families", "parents")),
)


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", str(text).lower()).strip()


@dataclass(frozen=True)
class Taxonomy:
    """Pillars, elements and asset types, with lookups by any common spelling."""

    pillars: tuple[Pillar, ...]
    elements: tuple[Element, ...]
    asset_types: tuple[AssetType, ...]
    audiences: tuple[Audience, ...] = DEFAULT_AUDIENCES

    def __post_init__(self) -> None:
        names: dict[str, str] = {}
        for t in self.asset_types:
            for spelling in (t.key, t.label, *t.synonyms):
                names.setdefault(_norm(spelling), t.key)
        object.__setattr__(self, "_type_names", names)
        spelt: dict[str, str] = {}
        for a in self.audiences:
            for spelling in (a.key, a.label, *a.synonyms):
                spelt.setdefault(_norm(spelling), a.key)
        object.__setattr__(self, "_audience_names", spelt)

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

    def audience(self, key: str) -> Audience:
        """Return the audience with this key."""
        for a in self.audiences:
            if a.key == key:
                return a
        raise KeyError(key)

    def normalise_audiences(self, text: object) -> tuple[str, ...]:
        """Return the audience keys a list names ("Older people; families"), in the taxonomy's order.

        Parameters
        ----------
        text : object
            Audiences separated by ';' (or ','), each a key, label or synonym; a list or tuple of them.

        Raises
        ------
        ValueError
            Naming the first part that is no audience of the list.
        """
        parts = text if isinstance(text, list | tuple | set | frozenset) else re.split(r"[;,|]", str(text))
        names: dict[str, str] = self._audience_names  # type: ignore[attr-defined]
        found = set()
        for part in parts:
            if _norm(part) == "":
                continue
            key = names.get(_norm(part))
            if key is None:
                raise ValueError(f"'{str(part).strip()[:40]}' is not an audience of the list")
            found.add(key)
        return tuple(a.key for a in self.audiences if a.key in found)

    def audiences_in_text(self, text: object) -> tuple[str, ...]:
        """Return the audiences a free description of who a group is for names ("Older people (60+)").

        Each audience's key, label and synonyms are looked for as whole words; nothing is refused.
        """
        padded = f" {_norm(str(text))} "
        names: dict[str, str] = self._audience_names  # type: ignore[attr-defined]
        found = {key for spelling, key in names.items() if spelling and f" {spelling} " in padded}
        return tuple(a.key for a in self.audiences if a.key in found)

    def audiences_of(self, given: tuple[str, ...], type_key: str | None, words: object = None) -> str | None:
        """Return a record's audiences as stored ("children;families"), the defaults filled in.

        The audiences given win; else those its own description of who it is for names (``words``);
        else its type's. None where none of these says (a record of no known type).
        """
        if not given and words is not None and str(words).strip():
            given = self.audiences_in_text(words)
        if not given and type_key is not None:
            given = self.asset_type(type_key).audiences
        return ";".join(given) or None

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
            AssetType(
                t["key"],
                t["label"],
                tuple(int(i) for i in t["elements"]),
                tuple(t.get("synonyms", ())),
                tuple(t.get("audiences", ("everyone",))),
            )
            for t in data["asset_types"]
        )
        audiences = (
            tuple(
                Audience(a["key"], a["label"], tuple(a["serves"]), tuple(a.get("synonyms", ())))
                for a in data.get("audiences", ())
            )
            or DEFAULT_AUDIENCES
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise DataFormatError(
            f"{path.name}: missing or malformed taxonomy entry ({exc!r}). Each pillar needs key and name; "
            "each element id, pillar and name; each asset type key, label and elements; each audience key, "
            "label and serves."
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
    _check_audiences(path, types, audiences)
    return Taxonomy(pillars, elements, types, audiences)


def _check_audiences(path: Path, types: tuple[AssetType, ...], audiences: tuple[Audience, ...]) -> None:
    keys = {a.key for a in audiences}
    if "everyone" not in keys:
        raise DataFormatError(f"{path.name}: the audiences have no 'everyone'. Add it: every list starts from it.")
    for a in audiences:
        if unknown := set(a.serves) - set(RESIDENT_GROUPS):
            raise DataFormatError(
                f"{path.name}: audience '{a.key}' serves unknown residents {sorted(unknown)}. "
                f"Use: {', '.join(RESIDENT_GROUPS)}."
            )
    for t in types:
        if unknown := set(t.audiences) - keys:
            raise DataFormatError(f"{path.name}: asset type '{t.key}' names unknown audiences {sorted(unknown)}.")


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
