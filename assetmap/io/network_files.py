"""The street network readers behind :func:`assetmap.io.network.read_street_edges`: OpenStreetMap and line layers.

Both go straight from the file to :class:`~assetmap.io.network.StreetEdges`. OpenStreetMap (.osm XML or
.osm.pbf) is read by pyosmium, which finds each way's node locations in C++ and passes on only ways tagged
``highway``; a line layer (OS Open Roads' ``RoadLink``, or any GeoPackage or GeoJSON of lines) by pyogrio.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from assetmap import settings
from assetmap._errors import DataFormatError
from assetmap.io.network import StreetEdges, is_walkable, subset_edges

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: Mean earth radius osmnx measures great-circle lengths with, so lengths match the networks it built.
EARTH_RADIUS_M = 6_371_009

#: OS Open Roads' road function as the nearest OpenStreetMap ``highway`` value (how printed maps draw it).
ROAD_FUNCTION_HIGHWAY: dict[str, str] = {
    "motorway": "motorway",
    "a road": "primary",
    "b road": "secondary",
    "minor road": "tertiary",
    "local road": "residential",
    "local access road": "service",
    "restricted local access road": "service",
    "secondary access road": "service",
}

#: Line layers that are OS Open Roads' road links, by lower-case name.
ROAD_LINK_LAYERS = ("roadlink", "road_link")

_UNDEFINED = 2**31 - 1  # libosmium's coordinate for a node whose location is not in the file


def _great_circle(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    """Haversine distance in metres, as osmnx's ``great_circle``."""
    y1, y2 = np.deg2rad(lat1), np.deg2rad(lat2)
    h = np.sin((y2 - y1) / 2) ** 2 + np.cos(y1) * np.cos(y2) * np.sin(np.deg2rad(lon2 - lon1) / 2) ** 2
    return 2 * np.arcsin(np.sqrt(np.minimum(1, h))) * EARTH_RADIUS_M


def _to_grid(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from pyproj import Transformer

    transformer = Transformer.from_crs("EPSG:4326", settings.analysis_crs, always_xy=True)
    x, y = transformer.transform(lon, lat)
    return np.asarray(x, "float64"), np.asarray(y, "float64")


def osm_edges(path: Path) -> StreetEdges:
    """Read the walkable ways of an OpenStreetMap XML or PBF file; each pair of consecutive nodes is a street."""
    import osmium

    points: list[tuple[int, int, int]] = []  # (node id, x, y) of every node of every walkable way, in order
    counts: list[int] = []
    way_ids: list[int] = []
    highways: list[str] = []
    processor = (
        osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    for way in processor:
        tags = way.tags
        highway = tags.get("highway")
        if highway is None or not is_walkable(highway, tags.get("area"), tags.get("foot")):
            continue
        assert isinstance(way, osmium.osm.Way)  # the entity filter passes only ways
        before = len(points)
        points.extend([(n.ref, n.x, n.y) for n in way.nodes])
        counts.append(len(points) - before)
        way_ids.append(way.id)
        highways.append(highway)
    table = np.array(points, dtype=np.int64).reshape(-1, 3)
    way_of = np.repeat(np.arange(len(counts)), counts)
    valid = table[:, 1] != _UNDEFINED  # a way running out of the extract: its missing nodes are left out
    a = np.flatnonzero((way_of[1:] == way_of[:-1]) & valid[1:] & valid[:-1])
    b = a + 1
    ids, first, inverse = np.unique(table[:, 0], return_index=True, return_inverse=True)
    lon, lat = table[first, 1] / 1e7, table[first, 2] / 1e7
    x, y = _to_grid(lon, lat)
    length = _great_circle(table[a, 1] / 1e7, table[a, 2] / 1e7, table[b, 1] / 1e7, table[b, 2] / 1e7)
    edges = StreetEdges(
        x=x,
        y=y,
        node_ids=ids,
        u=inverse[a],
        v=inverse[b],
        length=length,
        highway=np.asarray(highways, dtype=object)[way_of[a]] if len(a) else np.zeros(0, object),
        way_ids=np.asarray(way_ids, dtype=np.int64)[way_of[a]] if len(a) else np.zeros(0, np.int64),
    )
    # Nodes of no street (ways of one node, or only their missing neighbours) go; then the clip.
    return subset_edges(edges, np.ones(len(a), bool))


def _line_layer(path: Path) -> str:
    """Return the name of the file's street layer: OS Open Roads' ``RoadLink``, or its only line layer."""
    import pyogrio

    layers = [(str(name), str(kind or "")) for name, kind in pyogrio.list_layers(path)]
    for name, _ in layers:
        if name.lower() in ROAD_LINK_LAYERS:
            return name
    lines = [name for name, kind in layers if "linestring" in kind.lower()]
    if len(lines) == 1:
        return lines[0]
    if not lines:
        raise DataFormatError(
            f"{path.name}: has no layer of lines (its layers: {', '.join(n for n, _ in layers) or 'none'}). "
            "Give a street network: OS Open Roads (its RoadLink layer) or a layer of street lines."
        )
    raise DataFormatError(
        f"{path.name}: has several layers of lines ({', '.join(lines)}). Keep only the streets' layer in the file, "
        "or use OS Open Roads, whose RoadLink layer is found by name."
    )


#: Columns a line layer's streets are judged by, as their names are normalised (lower case, no underscores):
#: OS Open Roads' GeoPackage (road_classification, road_function, start_node), its shapefiles (class, function,
#: startNode), or OpenStreetMap's tags.
CLASS_FIELDS = ("roadclassification", "class")
FUNCTION_FIELDS = ("roadfunction", "function")
TAG_FIELDS = ("highway", "area", "foot")


def _field_names(fields: object) -> dict[str, str]:
    """Return the layer's columns by normalised name (lower case, no underscores)."""
    return {str(f).lower().replace("_", ""): str(f) for f in fields}  # type: ignore[attr-defined]


def _walkable_rows(frame: pd.DataFrame, columns: dict[str, str]) -> np.ndarray:
    """Return which rows are walkable: every road link except motorways; lines a ``highway`` column rules out go."""
    keep = np.ones(len(frame), bool)
    for field in (*CLASS_FIELDS, *FUNCTION_FIELDS):
        if field in columns:
            keep &= frame[columns[field]].astype(str).str.strip().str.lower().ne("motorway").to_numpy()
    if "highway" in columns:
        tags = [frame[columns[k]].tolist() if k in columns else [None] * len(frame) for k in TAG_FIELDS]
        keep &= np.fromiter((is_walkable(*t) for t in zip(*tags, strict=True)), bool, len(frame))
    return keep


def _row_highway(frame: pd.DataFrame, columns: dict[str, str]) -> np.ndarray:
    """Each row's ``highway`` value: its own column, or OS Open Roads' road function as the nearest OSM value."""
    if "highway" in columns:
        return frame[columns["highway"]].astype(object).to_numpy()
    for field in FUNCTION_FIELDS:
        if field in columns:
            text = frame[columns[field]].astype(str).str.strip().str.lower()
            return text.map(ROAD_FUNCTION_HIGHWAY).astype(object).to_numpy()
    return np.full(len(frame), None, dtype=object)


def _vertex_edges(
    coords: np.ndarray, part_of: np.ndarray, part_row: np.ndarray, highway: np.ndarray, *, ends_only: bool
) -> StreetEdges:
    """Streets between consecutive vertices of each line; vertices at the same centimetre are one node.

    With ``ends_only`` only the lines' end vertices join other lines (OS Open Roads' topology).
    """
    grid = np.round(coords * 100).astype(np.int64)
    grid -= grid.min(axis=0) if len(grid) else 0
    key = grid[:, 0] * (int(grid[:, 1].max(initial=0)) + 1) + grid[:, 1]
    if ends_only and len(key):
        end = np.r_[True, part_of[1:] != part_of[:-1]] | np.r_[part_of[1:] != part_of[:-1], True]
        key = np.where(end, key, key.max() + 1 + np.arange(len(key)))
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    a = np.flatnonzero(part_of[1:] == part_of[:-1])
    b = a + 1
    return StreetEdges(
        x=coords[first, 0],
        y=coords[first, 1],
        node_ids=np.arange(len(first)),
        u=inverse[a],
        v=inverse[b],
        length=np.hypot(coords[b, 0] - coords[a, 0], coords[b, 1] - coords[a, 1]),
        highway=highway[part_row[part_of[a]]],
        way_ids=part_row[part_of[a]],
    )


def line_edges(path: Path, clip: tuple[float, float, float, float] | None = None) -> StreetEdges:
    """Read a line layer: each pair of consecutive vertices is a street; lines meet where their vertices coincide.

    OS Open Roads' links meet only at their ends (its road nodes): a link's inner vertices join no other link,
    so a bridge over another road does not become a junction. Other line layers meet at any shared vertex.
    Coordinates are matched to the centimetre. ``clip`` (EPSG:27700) spares reading lines far outside it.
    """
    import pyogrio
    import shapely
    from pyproj import CRS

    layer = _line_layer(path)
    info = pyogrio.read_info(path, layer=layer)
    columns = _field_names(info["fields"])
    wanted = [columns[k] for k in (*CLASS_FIELDS, *FUNCTION_FIELDS, *TAG_FIELDS) if k in columns]
    if not info.get("crs"):
        raise DataFormatError(
            f"{path.name}: the line layer {layer} has no coordinate reference system. Save it with one "
            f"(OS Open Roads is in {settings.analysis_crs})."
        )
    same_crs = CRS.from_user_input(info["crs"]) == CRS.from_user_input(settings.analysis_crs)
    frame = pyogrio.read_dataframe(
        path, layer=layer, columns=wanted, force_2d=True, bbox=clip if same_crs else None, on_invalid="ignore"
    )
    if not same_crs:
        frame = frame.to_crs(settings.analysis_crs)
    rows = np.flatnonzero(_walkable_rows(frame, columns) & frame.geometry.notna().to_numpy())
    parts, index = shapely.get_parts(frame.geometry.to_numpy()[rows], return_index=True)
    lines = shapely.get_type_id(parts) == 1  # LineString parts; any points or polygons are not streets
    coords, part_of = shapely.get_coordinates(parts[lines], return_index=True)
    edges = _vertex_edges(
        coords, part_of, rows[index[lines]], _row_highway(frame, columns), ends_only="startnode" in columns
    )
    return edges
