"""Streets and place names for the base of a printed map, from OpenStreetMap or any line layer.

A print base needs what the walking graph does not keep: each street's line, its class (main road,
street, path) and its name, and the names of places. This reader gives those, clipped to a box:

- OpenStreetMap XML (``.osm``) or PBF (``.osm.pbf``), read with pyosmium: ways with a ``highway``
  tag (not areas), and nodes with a ``place`` tag and a name;
- OS Open Roads (the GeoPackage's ``road_link`` layer, or its shapefile) or any other line layer,
  read with pyogrio: the class from ``road_classification`` (or an OSM-style ``highway`` column), the
  name from ``name1``/``name_1``/``name``.

Files are told apart by content, never by name.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from assetmap import settings
from assetmap._errors import DataFormatError

#: Street class of each OSM ``highway`` value; anything else is a ``minor`` street.
HIGHWAY_CLASS: dict[str, str] = {
    **dict.fromkeys(("motorway", "trunk", "primary", "motorway_link", "trunk_link", "primary_link"), "major"),
    **dict.fromkeys(("secondary", "secondary_link"), "major"),
    **dict.fromkeys(("tertiary", "tertiary_link"), "medium"),
    **dict.fromkeys(("footway", "path", "cycleway", "pedestrian", "steps", "track", "bridleway", "corridor"), "path"),
}

#: Street class of each OS Open Roads ``road_classification``; anything else is a ``minor`` street.
ROAD_CLASS: dict[str, str] = {"motorway": "major", "a road": "major", "b road": "medium"}

#: Street classes, lightest first.
STREET_CLASSES: tuple[str, ...] = ("path", "minor", "medium", "major")

# OSM highway values that are no street on the ground (yet, or any more).
_NOT_A_STREET = frozenset(("proposed", "construction", "abandoned", "disused", "razed", "planned", "platform"))
# OSM place values worth naming on a ward map, most important first.
PLACE_RANK: dict[str, int] = {"town": 0, "village": 1, "suburb": 2, "quarter": 3, "hamlet": 4, "neighbourhood": 5}
_NAME_COLUMNS = ("name1", "name_1", "name", "road_name", "roadname", "street_name", "streetname")
_CLASS_COLUMNS = ("road_classification", "roadclassification", "class", "road_class")


@dataclass(frozen=True)
class StreetBase:
    """Streets and places read for a print base, in EPSG:27700.

    Attributes
    ----------
    lines : GeoDataFrame
        ``cls`` (one of :data:`STREET_CLASSES`), ``name`` (blank where none) and a LineString geometry.
    places : GeoDataFrame
        ``name``, ``rank`` (lower is more important) and a Point geometry.
    source : str
        ``osm`` (OpenStreetMap: credit its contributors) or ``lines`` (another line layer).
    """

    lines: gpd.GeoDataFrame
    places: gpd.GeoDataFrame
    source: str


def streets_format(path: str | Path) -> str:
    """Return ``osm`` (XML), ``pbf`` or ``vector`` by the file's content.

    Raises
    ------
    DataFormatError
        A missing or empty file.
    """
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        raise DataFormatError(f"{path}: missing or empty streets file. Check the path given with --streets.")
    with path.open("rb") as fh:
        head = fh.read(4096)
    if b"OSMHeader" in head[:64]:
        return "pbf"
    text = head.decode("utf-8", errors="ignore").lstrip("\ufeff \t\r\n")
    if text.startswith("<") and "<osm" in text[:2000]:
        return "osm"
    return "vector"


def read_streets(path: str | Path, bbox: tuple[float, float, float, float] | None = None) -> StreetBase:
    """Read the streets and place names of a file, clipped to ``bbox``.

    Parameters
    ----------
    path : str or Path
        OpenStreetMap ``.osm`` or ``.osm.pbf``, OS Open Roads (GeoPackage or shapefile) or any line layer.
    bbox : tuple, optional
        ``(minx, miny, maxx, maxy)`` in EPSG:27700; lines crossing it are kept whole.

    Returns
    -------
    StreetBase

    Raises
    ------
    DataFormatError
        A file of no supported kind, or one with no streets in the box.
    """
    path = Path(path)
    fmt = streets_format(path)
    base = _read_osm(path, bbox) if fmt in ("osm", "pbf") else _read_lines(path, bbox)
    if not len(base.lines):
        raise DataFormatError(
            f"{path.name}: no streets in it{' within the area' if bbox else ''}. Give a streets file that covers "
            "the area (an OpenStreetMap extract, OS Open Roads or a line layer of roads)."
        )
    return base


def _lonlat_box(bbox: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    from pyproj import Transformer

    to_ll = Transformer.from_crs(settings.analysis_crs, 4326, always_xy=True)
    xs = np.array([bbox[0], bbox[2], bbox[0], bbox[2]])
    ys = np.array([bbox[1], bbox[1], bbox[3], bbox[3]])
    lon, lat = to_ll.transform(xs, ys)
    return float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())


def _read_osm(path: Path, bbox: tuple[float, float, float, float] | None) -> StreetBase:
    """Read highway ways and named places of an OSM XML or PBF file with pyosmium."""
    import osmium
    from pyproj import Transformer

    ll = _lonlat_box(bbox) if bbox else (-180.0, -90.0, 180.0, 90.0)
    rows: list[tuple[str, str, np.ndarray]] = []
    places: list[tuple[str, int, float, float]] = []
    processor = (
        osmium.FileProcessor(str(path)).with_locations().with_filter(osmium.filter.KeyFilter("highway", "place"))
    )
    try:
        for obj in processor:
            if isinstance(obj, osmium.osm.Node):
                place = _place(obj, ll)
                if place is not None:
                    places.append(place)
            elif isinstance(obj, osmium.osm.Way):
                rows.extend(_way_runs(obj, ll))
    except RuntimeError as exc:  # libosmium's parse errors
        raise DataFormatError(
            f"{path.name}: cannot read it as OpenStreetMap data ({exc}). Download the extract again."
        ) from exc
    to_bng = Transformer.from_crs(4326, settings.analysis_crs, always_xy=True)
    lines = _lines_frame(rows, to_bng)
    if places:
        names, ranks, lon, lat = zip(*places, strict=True)
        x, y = to_bng.transform(np.array(lon), np.array(lat))
        place_frame = gpd.GeoDataFrame(
            {"name": list(names), "rank": list(ranks)}, geometry=shapely.points(x, y), crs=settings.analysis_crs
        )
    else:
        place_frame = _no_places()
    return StreetBase(lines, place_frame, "osm")


def _place(node: Any, ll: tuple[float, float, float, float]) -> tuple[str, int, float, float] | None:
    """Return a named place node inside the box as ``(name, rank, lon, lat)``; else None."""
    kind, name = node.tags.get("place"), node.tags.get("name")
    if kind not in PLACE_RANK or not name or not node.location.valid():
        return None
    lon, lat = node.location.lon, node.location.lat
    if ll[0] <= lon <= ll[2] and ll[1] <= lat <= ll[3]:
        return name, PLACE_RANK[kind], lon, lat
    return None


def _way_runs(way: Any, ll: tuple[float, float, float, float]) -> list[tuple[str, str, np.ndarray]]:
    """Return a street way crossing the box as ``(class, name, lon-lat coordinates)`` runs; none for other ways."""
    highway = way.tags.get("highway")
    if not highway or highway in _NOT_A_STREET or way.tags.get("area") == "yes":
        return []
    # An extract cuts ways at its edge: keep each run of nodes it has.
    coords = np.array([(n.lon, n.lat) if n.location.valid() else (np.nan, np.nan) for n in way.nodes])
    if not len(coords):
        return []
    x, y = coords[:, 0], coords[:, 1]
    if not ((x >= ll[0]) & (x <= ll[2]) & (y >= ll[1]) & (y <= ll[3])).any():
        return []
    cls = HIGHWAY_CLASS.get(highway, "minor")
    name = way.tags.get("name") or ""
    return [(cls, name, run) for run in _runs(coords)]


def _runs(coords: np.ndarray) -> list[np.ndarray]:
    """Split a way's coordinates at missing nodes into runs of two or more."""
    ok = np.isfinite(coords[:, 0])
    if ok.all():
        return [coords] if len(coords) > 1 else []
    edges = np.flatnonzero(np.diff(np.r_[0, ok.astype(int), 0]))
    return [coords[a:b] for a, b in zip(edges[::2], edges[1::2], strict=True) if b - a > 1]


def _lines_frame(rows: list[tuple[str, str, np.ndarray]], to_bng: object) -> gpd.GeoDataFrame:
    if not rows:
        return gpd.GeoDataFrame({"cls": [], "name": []}, geometry=[], crs=settings.analysis_crs)
    lengths = np.array([len(r[2]) for r in rows])
    allc = np.concatenate([r[2] for r in rows])
    x, y = to_bng.transform(allc[:, 0], allc[:, 1])  # type: ignore[attr-defined]
    geoms = shapely.linestrings(np.column_stack([x, y]), indices=np.repeat(np.arange(len(rows)), lengths))
    return gpd.GeoDataFrame(
        {"cls": [r[0] for r in rows], "name": [r[1] for r in rows]}, geometry=geoms, crs=settings.analysis_crs
    )


def _no_places() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"name": [], "rank": []}, geometry=[], crs=settings.analysis_crs)


def _pick_layer(path: Path) -> str | None:
    """Return the road layer of a multi-layer file (OS Open Roads' ``road_link``), else the first line layer."""
    import pyogrio

    try:
        layers = pyogrio.list_layers(path)
    except Exception as exc:  # GDAL cannot open it
        raise DataFormatError(
            f"{path.name}: not an OpenStreetMap extract (.osm, .osm.pbf) or a map layer of roads ({exc}). "
            "Give --streets an OSM extract, OS Open Roads or a GeoPackage of road lines."
        ) from exc
    names = [str(n) for n, _ in layers]
    for name in names:
        if name.lower().replace("_", "") == "roadlink":
            return name
    lines = [str(n) for n, g in layers if g and "LINE" in str(g).upper()]
    return lines[0] if lines else (names[0] if names else None)


def _read_lines(path: Path, bbox: tuple[float, float, float, float] | None) -> StreetBase:
    """Read a line layer of roads (OS Open Roads or any other) with pyogrio."""
    import pyogrio

    layer = _pick_layer(path)
    try:
        info = pyogrio.read_info(path, layer=layer)
        crs = info.get("crs")
        box = bbox
        if bbox is not None and crs and "27700" not in str(crs):
            box = tuple(gpd.GeoSeries([shapely.box(*bbox)], crs=settings.analysis_crs).to_crs(crs).total_bounds)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            gdf = pyogrio.read_dataframe(path, layer=layer, bbox=box)
    except Exception as exc:  # GDAL's error types all mean "unreadable"
        raise DataFormatError(
            f"{path.name}: cannot read it as a layer of road lines ({exc}). Export it again as a GeoPackage."
        ) from exc
    if gdf.crs is None:
        raise DataFormatError(f"{path.name}: the layer has no coordinate system. Export it again with one set.")
    gdf = gdf[gdf.geometry.notna()].to_crs(settings.analysis_crs).explode(index_parts=False)
    gdf = gdf[gdf.geom_type.eq("LineString").to_numpy()]
    cols = {c.lower(): c for c in gdf.columns}
    name_col = next((cols[c] for c in _NAME_COLUMNS if c in cols), None)
    names = gdf[name_col].fillna("").astype(str) if name_col else pd.Series("", index=gdf.index)
    if "highway" in cols:
        cls = gdf[cols["highway"]].astype(str).map(lambda v: HIGHWAY_CLASS.get(v, "minor"))
    else:
        class_col = next((cols[c] for c in _CLASS_COLUMNS if c in cols), None)
        raw = gdf[class_col].fillna("").astype(str).str.lower() if class_col else pd.Series("", index=gdf.index)
        cls = raw.map(lambda v: ROAD_CLASS.get(v, "minor"))
    lines = gpd.GeoDataFrame(
        {"cls": cls.to_numpy(), "name": names.to_numpy()}, geometry=gdf.geometry.to_numpy(), crs=settings.analysis_crs
    )
    return StreetBase(lines.reset_index(drop=True), _no_places(), "lines")
