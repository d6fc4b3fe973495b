"""Community places and walk networks from OpenStreetMap, through osmnx.

Offline, from an OSM XML file (:func:`features_from_xml`; street networks are read by :mod:`assetmap.io.network`);
online, from the area's polygon (:func:`features_from_polygon`,
:func:`walk_network_from_polygon`). Which tags become which asset types, and which
features are never assets (private places, homes, residential land), is data in
``assetmap/osm_tags.toml``.

Imported records carry source ``osm`` and ``source_id`` ``node/123`` or ``way/456``;
:func:`import_osm` matches them against the register so that importing the same
extract again changes nothing. Data from OpenStreetMap is © OpenStreetMap
contributors under the ODbL: an area with OSM records or an OSM street network
shows that attribution (:attr:`assetmap.area.load.Area.attribution`).

osmnx is imported only inside the functions that need it: it is slow to import.
"""

from __future__ import annotations

import tomllib
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from assetmap import settings
from assetmap._errors import AssetMapError, DataFormatError, ValidationError
from assetmap.io._guard import check_xml_stream
from assetmap.record import validate_record
from assetmap.taxonomy import Taxonomy, load_taxonomy

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx
    from shapely.geometry.base import BaseGeometry


#: The shipped tag mapping.
TAGS_FILE: Path = Path(__file__).resolve().parent.parent / "osm_tags.toml"

#: File name of the walk network saved in an area's ``streets`` folder.
NETWORK_FILE: str = "walk_network.graphml"

#: Record fields that follow OpenStreetMap on a re-import (the rest stay as officers set them).
OSM_FIELDS: tuple[str, ...] = (
    "name",
    "address",
    "postcode",
    "website",
    "email",
    "phone",
    "opening_times",
    "longitude",
    "latitude",
)

# Record field to the OSM tags that give it, first found wins.
_TAG_FIELDS: dict[str, tuple[str, ...]] = {
    "website": ("website", "contact:website", "url"),
    "email": ("email", "contact:email"),
    "phone": ("phone", "contact:phone"),
    "opening_times": ("opening_hours",),
    "description": ("description",),
    "postcode": ("addr:postcode",),
}

# Optional fields dropped, one at a time, when OSM's value is not usable in the register.
_OPTIONAL = ("postcode", "website", "email", "phone", "opening_times", "description", "address", "capacity")

# OpenStreetMap's ``social_facility:for`` values (who a facility is for) as audiences of the list.
_AUDIENCE_TAGS: dict[str, str] = {
    "senior": "older",
    "child": "children",
    "juvenile": "children",
    "youth": "children",
    "family": "families",
}


def _audience_of(row: dict[str, Any]) -> str | None:
    """Return the audiences a feature's ``social_facility:for`` names (``senior;family``), or None."""
    named = (_AUDIENCE_TAGS.get(v.strip()) for v in (_text(row, "social_facility:for") or "").split(";"))
    return ";".join(dict.fromkeys(a for a in named if a)) or None


class OSMError(AssetMapError):
    """OpenStreetMap data could not be read or fetched (the message says why and what to do)."""


@dataclass(frozen=True)
class TagRule:
    """One rule of the tag mapping: tags a feature must carry, and the asset type it becomes."""

    tags: tuple[tuple[str, str], ...]
    type: str

    def matches(self, row: dict[str, Any]) -> bool:
        """Whether a feature's tags satisfy the rule (``"*"`` matches any value)."""
        for key, value in self.tags:
            have = row.get(key)
            if have is None or (isinstance(have, float) and have != have):
                return False
            if value != "*" and str(have).strip() != value:
                return False
        return True


@dataclass(frozen=True)
class TagMap:
    """The mapping from OpenStreetMap tags to asset types, and the exclusions."""

    rules: tuple[TagRule, ...]
    exclude: dict[str, tuple[str, ...]]
    path: Path | None = None

    def query_tags(self) -> dict[str, bool | str | list[str]]:
        """Return the tags to ask osmnx for: each rule's first key with its values (``True`` for any)."""
        out: dict[str, bool | str | list[str]] = {}
        for rule in self.rules:
            key, value = rule.tags[0]
            if value == "*" or out.get(key) is True:
                out[key] = True
            else:
                values = out.setdefault(key, [])
                if value not in values:  # type: ignore[operator]
                    values.append(value)  # type: ignore[union-attr]
        return out

    def excluded(self, row: dict[str, Any]) -> str | None:
        """Return the tag that rules a feature out (``access=private``), or None."""
        for key, values in self.exclude.items():
            have = row.get(key)
            if isinstance(have, str) and have.strip() in values:
                return f"{key}={have.strip()}"
        return None

    def type_of(self, row: dict[str, Any]) -> str | None:
        """Return the asset type of the first rule a feature matches, or None."""
        for rule in self.rules:
            if rule.matches(row):
                return rule.type
        return None


def load_tag_map(path: str | Path | None = None, *, taxonomy: Taxonomy | None = None) -> TagMap:
    """Read a tag mapping (default: the shipped ``osm_tags.toml``), checking every type it names.

    Parameters
    ----------
    path : str or Path, optional
        A TOML file with ``[[rules]]`` (``tags``, ``type``) and ``[exclude]``.
    taxonomy : Taxonomy, optional
        Asset types the rules must name (default: the shipped taxonomy).

    Raises
    ------
    DataFormatError
        Bad TOML, a rule without tags, or a type the taxonomy does not have.
    """
    path = Path(path) if path is not None else TAGS_FILE
    tax = taxonomy or load_taxonomy()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DataFormatError(f"{path.name}: cannot read the OSM tag mapping ({exc}). Fix the TOML syntax.") from exc
    rules = []
    for n, rule in enumerate(data.get("rules", []), start=1):
        tags = rule.get("tags") or {}
        if not isinstance(tags, dict) or not tags:
            raise DataFormatError(f'{path.name}: rule {n} has no tags. Give tags = {{ amenity = "library" }}.')
        type_key = tax.normalise_type(str(rule.get("type", "")))
        if type_key is None:
            raise DataFormatError(
                f"{path.name}: rule {n} names type '{rule.get('type')}', which is not in the taxonomy. "
                f"Use one of: {', '.join(tax.type_keys)}."
            )
        rules.append(TagRule(tuple((str(k), str(v)) for k, v in tags.items()), type_key))
    if not rules:
        raise DataFormatError(f"{path.name}: no [[rules]]. Add at least one tag-to-type rule.")
    exclude = {
        str(k): tuple(str(v) for v in (vs if isinstance(vs, list) else [vs]))
        for k, vs in data.get("exclude", {}).items()
    }
    return TagMap(tuple(rules), exclude, path)


# -- features ------------------------------------------------------------------------------


def features_from_xml(path: str | Path, tag_map: TagMap | None = None) -> gpd.GeoDataFrame:
    """Read the features of an OSM XML file that the tag mapping asks for.

    Parameters
    ----------
    path : str or Path
        An OpenStreetMap XML file (``.osm``), as exported from openstreetmap.org or Overpass.
    tag_map : TagMap, optional
        Default: the shipped mapping.

    Returns
    -------
    GeoDataFrame
        osmnx's features (EPSG:4326), indexed by (``element``, ``id``), a column per tag;
        empty where none match.
    """
    import osmnx as ox

    path = Path(path)
    tag_map = tag_map or load_tag_map()
    if not path.is_file() or path.stat().st_size == 0:
        raise DataFormatError(f"{path}: missing or empty OpenStreetMap file.")
    with path.open("rb") as fh:
        check_xml_stream(fh, path.name)  # no DOCTYPE or entities for osmnx's XML parser to expand
        fh.seek(0)
        if b"<osm" not in fh.read(2048):
            raise DataFormatError(
                f"{path.name}: not an OpenStreetMap XML file. Export the area from openstreetmap.org (Export, .osm)."
            )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # osmnx warns about clipped ways at the edge
            return ox.features_from_xml(path, tags=tag_map.query_tags())
    except ox._errors.InsufficientResponseError:
        return _no_features()
    except Exception as exc:  # osmnx and its XML parser raise many types for a broken file
        raise DataFormatError(f"{path.name}: cannot read the OpenStreetMap file ({exc}).") from exc


def features_from_polygon(polygon: BaseGeometry, tag_map: TagMap | None = None) -> gpd.GeoDataFrame:
    """Download the features inside a polygon (WGS84) that the tag mapping asks for (online).

    Raises
    ------
    OSMError
        When OpenStreetMap's servers cannot be reached: the message says to use an OSM XML file.
    """
    import osmnx as ox

    tag_map = tag_map or load_tag_map()
    try:
        return ox.features_from_polygon(polygon, tags=tag_map.query_tags())
    except ox._errors.InsufficientResponseError:
        return _no_features()
    except Exception as exc:  # requests' connection errors and Overpass refusals alike
        raise OSMError(
            f"cannot download from OpenStreetMap ({exc}). This machine may be offline: export the area as an "
            "OSM XML file on a machine that is online and import that file (--xml)."
        ) from exc


def _no_features() -> gpd.GeoDataFrame:
    index = pd.MultiIndex.from_arrays([[], []], names=["element", "id"])
    return gpd.GeoDataFrame({"geometry": gpd.GeoSeries([], crs=settings.storage_crs)}, index=index)


def _text(row: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = row.get(key)
        if isinstance(value, str) and value.strip():
            return " ".join(value.split())
    return None


def assets_from_features(
    features: gpd.GeoDataFrame, tag_map: TagMap | None = None, *, taxonomy: Taxonomy | None = None
) -> tuple[list[dict[str, Any]], list[str]]:
    """Turn OSM features into asset records, one per feature the mapping accepts.

    A polygon (a library building, an allotment site) is placed at its representative
    point, worked out in EPSG:27700. Features the mapping excludes, matches no rule
    for, or that have no name are left out; values the register cannot take (a
    malformed postcode or website) are dropped from the record, not the record.

    Parameters
    ----------
    features : GeoDataFrame
        As :func:`features_from_xml` returns.
    tag_map : TagMap, optional
        Default: the shipped mapping.
    taxonomy : Taxonomy, optional
        Default: the shipped taxonomy.

    Returns
    -------
    records : list of dict
        Valid records with ``source`` ``osm`` and ``source_id`` (``node/123``), sorted by source id.
    notes : list of str
        One line per feature left out, saying why.
    """
    tag_map = tag_map or load_tag_map(taxonomy=taxonomy)
    tax = taxonomy or load_taxonomy()
    if features is None or not len(features):
        return [], []
    points = features.geometry.to_crs(settings.analysis_crs).representative_point()
    lonlat = points.to_crs(settings.storage_crs)
    records: list[dict[str, Any]] = []
    notes: list[str] = []
    plain = pd.DataFrame(features.drop(columns=features.geometry.name))
    for (element, osm_id), row, point in zip(plain.index, plain.to_dict("records"), lonlat, strict=True):
        source_id = f"{element}/{osm_id}"
        ruled_out = tag_map.excluded(row)
        if ruled_out:
            notes.append(f"{source_id}: left out ({ruled_out}).")
            continue
        type_key = tag_map.type_of(row)
        if type_key is None:
            continue  # asked for by its first tag, but no rule's other tags match (a private garden)
        name = _text(row, "name", "official_name", "operator")
        if name is None:
            notes.append(f"{source_id}: left out (no name).")
            continue
        street = " ".join(p for p in (_text(row, "addr:housenumber"), _text(row, "addr:street")) if p)
        address = ", ".join(p for p in (_text(row, "addr:housename"), street, _text(row, "addr:city")) if p)
        record: dict[str, Any] = {
            "name": name,
            "type": type_key,
            "address": address or None,
            "longitude": round(float(point.x), 7),
            "latitude": round(float(point.y), 7),
            "source": "osm",
            "source_id": source_id,
        }
        for fieldname, keys in _TAG_FIELDS.items():
            record[fieldname] = _text(row, *keys)
        if _text(row, "wheelchair"):
            record["accessibility"] = f"Wheelchair access: {_text(row, 'wheelchair')}"
        record.update(audience_groups=_audience_of(row), capacity=_text(row, "capacity"), capacity_unit="places")
        clean = _validate(record, tax)
        if clean is None:
            notes.append(f"{source_id} ({name}): left out (not usable as a register record).")
            continue
        records.append(clean)
    records.sort(key=lambda r: r["source_id"])
    return records, notes


def _validate(record: dict[str, Any], tax: Taxonomy) -> dict[str, Any] | None:
    """Return the record as the register keeps it, dropping optional values it cannot take."""
    for _ in range(len(_OPTIONAL) + 1):
        try:
            clean = validate_record(record, taxonomy=tax)
        except ValidationError as exc:
            bad = [p.field for p in exc.problems if p.field in _OPTIONAL and record.get(p.field) is not None]
            if not bad:
                return None
            for fieldname in bad:
                record[fieldname] = None
            continue
        keep = (
            "name",
            "type",
            *_OPTIONAL,
            "longitude",
            "latitude",
            "accessibility",
            "audience_groups",
            "capacity_unit",
        )
        out = {k: clean[k] for k in keep}
        out.update(source="osm", source_id=record["source_id"])
        return out
    return None  # pragma: no cover - every pass drops at least one field


# -- the area's polygon, and its manifest -------------------------------------------------------


# -- walk networks -------------------------------------------------------------------------------


def walk_network_from_polygon(polygon: BaseGeometry) -> nx.MultiDiGraph:
    """Download the walk network inside a polygon (WGS84) from OpenStreetMap (online).

    Raises
    ------
    OSMError
        When OpenStreetMap cannot be reached: the message says to use an OSM XML file.
    """
    import osmnx as ox

    from assetmap.io.network import walkable_streets

    try:
        graph = ox.graph_from_polygon(polygon, network_type="walk", simplify=False, retain_all=True)
    except Exception as exc:  # requests' connection errors and Overpass refusals alike
        raise OSMError(
            f"cannot download the street network from OpenStreetMap ({exc}). This machine may be offline: "
            "export the area as an OSM XML file on a machine that is online and use --xml."
        ) from exc
    return walkable_streets(graph)
