"""Street networks for walking distances: OpenStreetMap, OS Open Roads or another line layer, and GraphML.

A file is recognised by its content, whatever its name. :func:`read_street_edges` goes straight from the file to
the arrays a walk graph is built from (nodes in EPSG:27700, streets as pairs of node positions with their lengths):
OpenStreetMap through pyosmium, line layers through pyogrio, neither building a graph of every way. osmnx is
imported only for GraphML (and for downloads, in :mod:`assetmap.io.osm`): it is slow to import and slow on large
files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np

from assetmap import settings
from assetmap._errors import DataFormatError, Problem, ValidationError
from assetmap.io._guard import check_xml_stream

#: The street network formats, by what :func:`network_format` returns.
FORMATS: dict[str, str] = {
    "osm": "OpenStreetMap XML (.osm)",
    "pbf": "OpenStreetMap PBF (.osm.pbf)",
    "lines": "line layer (OS Open Roads or another GeoPackage or GeoJSON of street lines)",
    "graphml": "GraphML saved by osmnx",
}

#: What each accepted format is, for messages.
ACCEPTED = (
    "an OpenStreetMap .osm or .osm.pbf file, OS Open Roads (GeoPackage) or another GeoPackage or GeoJSON of "
    "street lines, or GraphML saved by osmnx"
)


def network_format(path: str | Path) -> str:
    """Return ``osm``, ``pbf``, ``lines`` or ``graphml`` by the file's content (see :data:`FORMATS`).

    Raises
    ------
    DataFormatError
        When it is none of them.
    """
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        raise DataFormatError(f"{path}: missing or empty street network file.")
    with path.open("rb") as fh:
        head = fh.read(2048)
    # A PBF file opens with a 4-byte length and a BlobHeader naming its first block "OSMHeader".
    if b"OSMHeader" in head[:32]:
        return "pbf"
    if head.startswith(b"SQLite format 3\x00"):  # a GeoPackage
        return "lines"
    text = head.decode("utf-8", errors="ignore").lstrip("\ufeff \t\r\n")
    if text.startswith("{") and '"type"' in text:
        return "lines"  # GeoJSON
    with path.open("rb") as fh:
        check_xml_stream(fh, path.name)  # no DOCTYPE or entities for an XML parser to expand
    if "<osm" in text:
        return "osm"
    if "<graphml" in text:
        return "graphml"
    raise DataFormatError(
        f"{path.name}: not a street network. Give {ACCEPTED}: for instance a county extract (.osm.pbf) from "
        "Geofabrik, or OS Open Roads from the OS Data Hub."
    )


#: ``highway`` values that are not walkable streets (as osmnx's "walk" network leaves out, but keeping
#: cycleways: in Britain most are shared with people on foot).
NOT_WALKABLE = re.compile(
    r"^(abandoned|bus_guideway|construction|corridor|elevator|escalator|motorway|motorway_link|no|planned|"
    r"platform|proposed|raceway|razed|disused|dismantled)$"
)


def is_walkable(highway: object, area: object = None, foot: object = None) -> bool:
    """Return True for a way people can walk along: tagged ``highway`` (not as unwalkable), not an area, not ``foot=no``.

    Private ways (estate roads, driveways) are kept: the people who live along them walk them.
    """
    if highway is None:
        return False
    values = highway if isinstance(highway, list) else [highway]
    if all(NOT_WALKABLE.match(str(v)) for v in values):
        return False
    return str(area if area is not None else "no") != "yes" and str(foot if foot is not None else "") != "no"


def _walkable(data: dict) -> bool:
    return is_walkable(data.get("highway"), data.get("area"), data.get("foot"))


def walkable_streets(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """Return the part of an OSM graph people can walk on: edges of ways tagged ``highway``, minus the unwalkable.

    osmnx builds an edge from every way in an OSM XML file, buildings and land-use outlines included;
    walks along those would cut through blocks and strand residents on building outlines.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        As osmnx reads it.

    Returns
    -------
    networkx.MultiDiGraph
        A new graph with the walkable edges and the nodes they join.
    """
    keep = [(u, v, k) for u, v, k, data in graph.edges(keys=True, data=True) if _walkable(data)]
    return graph.edge_subgraph(keep).copy()


@dataclass(frozen=True, eq=False)
class StreetEdges:
    """The walkable streets of a file, as arrays: what a walk graph is built from.

    Attributes
    ----------
    x, y : ndarray of float
        Node coordinates in EPSG:27700.
    node_ids : ndarray
        Each node's id in the file (OSM node ids; positions for line layers).
    u, v : ndarray of int
        Each street's end nodes, as positions in ``x``/``y`` (one entry per segment between two nodes).
    length : ndarray of float
        Each street's length in metres.
    highway : ndarray of object
        Each street's ``highway`` value (OS Open Roads' road function given the nearest OSM value).
    way_ids : ndarray
        Each street's way (OSM way id; row of the line layer).
    """

    x: np.ndarray
    y: np.ndarray
    node_ids: np.ndarray
    u: np.ndarray
    v: np.ndarray
    length: np.ndarray
    highway: np.ndarray
    way_ids: np.ndarray

    def clipped(self, bounds: tuple[float, float, float, float] | None) -> StreetEdges:
        """Return the streets with at least one end inside ``bounds`` (minx, miny, maxx, maxy), and their nodes."""
        if bounds is None:
            return self
        minx, miny, maxx, maxy = bounds
        inside = (self.x >= minx) & (self.x <= maxx) & (self.y >= miny) & (self.y <= maxy)
        keep = inside[self.u] | inside[self.v]
        return subset_edges(self, keep)


def subset_edges(edges: StreetEdges, keep: np.ndarray) -> StreetEdges:
    """Return the streets ``keep`` selects, with only the nodes they join, renumbered."""
    u, v = edges.u[keep], edges.v[keep]
    used, inverse = np.unique(np.concatenate([u, v]), return_inverse=True)
    return StreetEdges(
        x=edges.x[used],
        y=edges.y[used],
        node_ids=edges.node_ids[used],
        u=inverse[: len(u)],
        v=inverse[len(u) :],
        length=edges.length[keep],
        highway=edges.highway[keep],
        way_ids=edges.way_ids[keep],
    )


def _no_streets(path: Path) -> DataFormatError:
    return DataFormatError(
        f"{path.name}: the street network has no walkable streets (no ways tagged highway). "
        "Export the streets of the area from OpenStreetMap, not only buildings or land use."
    )


def read_street_edges(path: str | Path, *, clip: tuple[float, float, float, float] | None = None) -> StreetEdges:
    """Read the walkable streets of a street network file straight into arrays.

    Parameters
    ----------
    path : str or Path
        OpenStreetMap XML or PBF (ways tagged ``highway`` become streets, except motorways, ways under
        construction, areas and ``foot=no``); OS Open Roads (every ``RoadLink`` except motorways) or another
        line layer (every line, less those a ``highway`` column rules out as above); GraphML saved by osmnx.
    clip : tuple of float, optional
        ``(minx, miny, maxx, maxy)`` in EPSG:27700: only streets with an end inside are kept (the area and
        a buffer around it, when the file is of a whole county or region).

    Returns
    -------
    StreetEdges

    Raises
    ------
    DataFormatError
        A file that is not a street network, cannot be read, or has no walkable streets.
    ValidationError
        A network with no street within ``clip``: of another place.
    """
    from assetmap.io.network_files import line_edges, osm_edges

    path = Path(path)
    fmt = network_format(path)
    try:
        if fmt in ("osm", "pbf"):
            edges = osm_edges(path)
        elif fmt == "lines":
            edges = line_edges(path, clip)
        else:
            edges = graph_edges(read_network(path))
    except DataFormatError:
        raise
    except (RuntimeError, ValueError, OSError, KeyError) as exc:  # the readers' own errors for a broken file
        raise DataFormatError(f"{path.name}: cannot read the street network ({exc}).") from exc
    if len(edges.u) == 0 and (fmt != "lines" or clip is None):
        raise _no_streets(path)
    edges = edges.clipped(clip)
    if len(edges.u) == 0:
        raise ValidationError(
            Problem(
                "the street network does not overlap the area's boundaries.",
                file=path.name,
                fix="Use a network extract of the same place (check it is not of another town or in another CRS).",
            )
        )
    return edges


def graph_edges(graph: nx.MultiDiGraph) -> StreetEdges:
    """Return the streets of a networkx graph in EPSG:27700 as :class:`StreetEdges` (one entry per direction)."""
    nodes = list(graph.nodes)
    position = {node: i for i, node in enumerate(nodes)}
    data = list(graph.edges(data=True))
    x = np.fromiter((graph.nodes[n]["x"] for n in nodes), "float64", len(nodes))
    y = np.fromiter((graph.nodes[n]["y"] for n in nodes), "float64", len(nodes))
    u = np.fromiter((position[a] for a, _, _ in data), np.int64, len(data))
    v = np.fromiter((position[b] for _, b, _ in data), np.int64, len(data))
    length = np.array([d.get("length", np.nan) for _, _, d in data], dtype="float64")
    missing = np.isnan(length)
    length[missing] = np.hypot(x[u[missing]] - x[v[missing]], y[u[missing]] - y[v[missing]])
    highway = np.array([d.get("highway") for _, _, d in data] + [None], dtype=object)[:-1]
    way_ids = np.array([d.get("osmid") for _, _, d in data] + [None], dtype=object)[:-1]
    ids = np.array([*nodes, None], dtype=object)[:-1]
    return StreetEdges(x, y, ids, u, v, length, highway, way_ids)


def edges_graph(edges: StreetEdges) -> nx.MultiDiGraph:
    """Return the streets as an osmnx-style graph in EPSG:27700: both directions of each street, as osmnx reads."""
    graph = nx.MultiDiGraph(crs=settings.analysis_crs)
    ids = edges.node_ids.tolist()
    graph.add_nodes_from((n, {"x": x, "y": y}) for n, x, y in zip(ids, edges.x.tolist(), edges.y.tolist(), strict=True))
    rows = zip(edges.u.tolist(), edges.v.tolist(), edges.length.tolist(), edges.highway, edges.way_ids, strict=True)
    for a, b, metres, highway, way in rows:
        attrs = {"osmid": way, "highway": highway, "length": metres}
        graph.add_edge(ids[a], ids[b], **attrs)
        graph.add_edge(ids[b], ids[a], **attrs)
    return graph


def read_network(path: str | Path, *, clip: tuple[float, float, float, float] | None = None) -> nx.MultiDiGraph:
    """Read a street network, keep what people can walk on, in EPSG:27700, as a networkx graph.

    For the walk graph itself use :func:`read_street_edges`, which builds no networkx graph.

    Parameters
    ----------
    path : str or Path
        Any file :func:`read_street_edges` reads; GraphML saved by osmnx is filtered alike where its edges
        carry ``highway`` tags.
    clip : tuple of float, optional
        As for :func:`read_street_edges`.

    Returns
    -------
    networkx.MultiDiGraph
        osmnx-style graph with ``x``/``y`` in metres and edge ``length`` in metres.
    """
    path = Path(path)
    if network_format(path) != "graphml":
        return edges_graph(read_street_edges(path, clip=clip))
    import osmnx as ox

    tags = list(ox.settings.useful_tags_way)
    try:
        # "foot=no" rules a way out; osmnx keeps only the tags it is told to.
        ox.settings.useful_tags_way = [*tags, "foot"] if "foot" not in tags else tags
        graph = ox.load_graphml(path)
    except Exception as exc:  # osmnx and its parsers raise many types for a broken file
        raise DataFormatError(f"{path.name}: cannot read the street network ({exc}).") from exc
    finally:
        ox.settings.useful_tags_way = tags
    if any("highway" in d for _, _, d in graph.edges(data=True)):
        graph = walkable_streets(graph)
    if graph.number_of_nodes() == 0:
        raise _no_streets(path)
    graph = ox.project_graph(graph, to_crs=settings.analysis_crs)
    if clip is not None:
        minx, miny, maxx, maxy = clip
        inside = {n for n, d in graph.nodes(data=True) if minx <= d["x"] <= maxx and miny <= d["y"] <= maxy}
        graph = graph.edge_subgraph([(a, b, k) for a, b, k in graph.edges(keys=True) if a in inside or b in inside])
        graph = graph.copy()
    return graph
