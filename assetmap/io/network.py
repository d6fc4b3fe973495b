"""Street networks for walking distances: OpenStreetMap XML or GraphML.

osmnx is imported only when a network is read: it is slow to import and most
views of an area do not need the graph.
"""

from __future__ import annotations

import re
from pathlib import Path

import networkx as nx

from assetmap import settings
from assetmap._errors import DataFormatError
from assetmap.io._guard import check_xml_stream


def network_format(path: str | Path) -> str:
    """Return ``osm`` or ``graphml`` by the file's content.

    Raises
    ------
    DataFormatError
        When it is neither.
    """
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        raise DataFormatError(f"{path}: missing or empty street network file.")
    with path.open("rb") as fh:
        check_xml_stream(fh, path.name)  # no DOCTYPE or entities for osmnx's XML parsers to expand
        fh.seek(0)
        head = fh.read(2048).decode("utf-8", errors="ignore")
    if "<osm" in head:
        return "osm"
    if "<graphml" in head:
        return "graphml"
    raise DataFormatError(
        f"{path.name}: not an OpenStreetMap XML (.osm) or GraphML street network. Export the walk network "
        "from OpenStreetMap as .osm, or save an osmnx graph with osmnx.save_graphml."
    )


#: ``highway`` values that are not walkable streets (as osmnx's "walk" network leaves out, but keeping
#: cycleways: in Britain most are shared with people on foot).
NOT_WALKABLE = re.compile(
    r"^(abandoned|bus_guideway|construction|corridor|elevator|escalator|motorway|motorway_link|no|planned|"
    r"platform|proposed|raceway|razed|disused|dismantled)$"
)


def _walkable(data: dict) -> bool:
    """Return True for an edge people can walk along: a street or path, not an area, not ``foot=no``.

    Private ways (estate roads, driveways) are kept: the people who live along them walk them.
    """
    highway = data.get("highway")
    if highway is None:
        return False
    values = highway if isinstance(highway, list) else [highway]
    if all(NOT_WALKABLE.match(str(v)) for v in values):
        return False
    return str(data.get("area", "no")) != "yes" and str(data.get("foot", "")) != "no"


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


def read_network(path: str | Path) -> nx.MultiDiGraph:
    """Read a street network, keep what people can walk on, and project it to EPSG:27700.

    Parameters
    ----------
    path : str or Path
        OSM XML (ways tagged ``highway`` become streets, except motorways, ways under construction,
        areas and ``foot=no``) or GraphML saved by osmnx (filtered alike where its edges
        carry ``highway`` tags).

    Returns
    -------
    networkx.MultiDiGraph
        osmnx graph with ``x``/``y`` in metres and edge ``length`` in metres.
    """
    import osmnx as ox

    path = Path(path)
    fmt = network_format(path)
    tags = list(ox.settings.useful_tags_way)
    try:
        # "foot=no" rules a way out; osmnx keeps only the tags it is told to.
        ox.settings.useful_tags_way = [*tags, "foot"] if "foot" not in tags else tags
        if fmt == "osm":
            graph = ox.graph_from_xml(path, bidirectional=True, simplify=False, retain_all=True)
        else:
            graph = ox.load_graphml(path)
    except Exception as exc:  # osmnx and its parsers raise many types for a broken file
        raise DataFormatError(f"{path.name}: cannot read the street network ({exc}).") from exc
    finally:
        ox.settings.useful_tags_way = tags
    if fmt == "osm" or any("highway" in d for _, _, d in graph.edges(data=True)):
        graph = walkable_streets(graph)
    if graph.number_of_nodes() == 0:
        raise DataFormatError(
            f"{path.name}: the street network has no walkable streets (no ways tagged highway). "
            "Export the streets of the area from OpenStreetMap, not only buildings or land use."
        )
    return ox.project_graph(graph, to_crs=settings.analysis_crs)
