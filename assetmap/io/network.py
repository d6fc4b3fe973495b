"""Street networks for walking distances: OpenStreetMap XML or GraphML.

osmnx is imported only when a network is read: it is slow to import and most
views of an area do not need the graph.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx

from assetmap import settings
from assetmap._errors import DataFormatError


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
        head = fh.read(2048).decode("utf-8", errors="ignore")
    if "<osm" in head:
        return "osm"
    if "<graphml" in head:
        return "graphml"
    raise DataFormatError(
        f"{path.name}: not an OpenStreetMap XML (.osm) or GraphML street network. Export the walk network "
        "from OpenStreetMap as .osm, or save an osmnx graph with osmnx.save_graphml."
    )


def read_network(path: str | Path) -> nx.MultiDiGraph:
    """Read a street network and project it to EPSG:27700.

    Parameters
    ----------
    path : str or Path
        OSM XML (every way tagged ``highway`` becomes a street) or GraphML saved by osmnx.

    Returns
    -------
    networkx.MultiDiGraph
        osmnx graph with ``x``/``y`` in metres and edge ``length`` in metres.
    """
    import osmnx as ox

    path = Path(path)
    fmt = network_format(path)
    try:
        if fmt == "osm":
            graph = ox.graph_from_xml(path, bidirectional=True, simplify=False, retain_all=True)
        else:
            graph = ox.load_graphml(path)
    except Exception as exc:  # osmnx and its parsers raise many types for a broken file
        raise DataFormatError(f"{path.name}: cannot read the street network ({exc}).") from exc
    if graph.number_of_nodes() == 0:
        raise DataFormatError(f"{path.name}: the street network has no streets (no ways tagged highway).")
    return ox.project_graph(graph, to_crs=settings.analysis_crs)
