"""The street base of a printed map: where it comes from, the streets drawn by class, and their names.

The base is, in order: a streets file given for the print (``--streets``), the area's own street
network, a streets file kept in the area (``[layers.streets]`` in ``area.toml``); online tiles are
drawn where asked for. With none of these the map says so in its legend, never implying streets it
does not show.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from matplotlib.patches import PathPatch
from matplotlib.path import Path as MplPath

from assetmap import settings
from assetmap.io.streets import HIGHWAY_CLASS, STREET_CLASSES, StreetBase, read_streets, streets_format
from assetmap.render.printmap.labels import Occupied, rotated_extent
from assetmap.render.printmap.text import FONT_FAMILY, PT_PER_MM, Measure

if TYPE_CHECKING:
    import networkx as nx

    from assetmap.area.load import Area

#: Line width (points, on A4) and colour of each street class, heaviest last so it is drawn on top.
STREET_STYLES: dict[str, tuple[float, str]] = {
    "path": (0.35, "#8c8c8c"),
    "minor": (0.6, "#6f6f6f"),
    "medium": (1.1, "#4f4f4f"),
    "major": (1.9, "#333333"),
}

#: Words of the legend for each street class.
STREET_WORDS: dict[str, str] = {"major": "Main road", "medium": "Secondary road", "minor": "Street", "path": "Path"}

# Metres round the area's outline within which streets are read: the view of an edge ward reaches past it.
_READ_BUFFER_M = 2000.0


@dataclass
class Streets:
    """A print job's street base.

    Attributes
    ----------
    segments : dict
        Street class to an array of segments, shape (n, 2, 2), EPSG:27700.
    named : list
        ``(name, class, coordinates)`` of each named street line.
    places : list
        ``(name, rank, x, y)`` of each named place.
    source : str or None
        What the base is, for the legend ("OpenStreetMap"...); None where there is none.
    credit : str or None
        Licence credit the footer must carry for it.
    """

    segments: dict[str, np.ndarray]
    named: list[tuple[str, str, np.ndarray]] = field(default_factory=list)
    places: list[tuple[str, int, float, float]] = field(default_factory=list)
    source: str | None = None
    credit: str | None = None

    _tree: Any = field(default=None, repr=False)
    _lines: Any = field(default=None, repr=False)

    @property
    def empty(self) -> bool:
        """True where there are no streets to draw."""
        return not any(len(v) for v in self.segments.values())

    def named_in(self, box: tuple[float, float, float, float]) -> list[tuple[str, str, Any]]:
        """Return ``(name, class, line)`` of the named streets crossing ``box``, found through a spatial index.

        A ward's map looks only at its own streets, however many the area has.
        """
        if not self.named:
            return []
        if self._tree is None:
            self._lines = np.array([shapely.linestrings(c) for _, _, c in self.named], dtype=object)
            self._tree = shapely.STRtree(self._lines)
        hits = np.sort(self._tree.query(shapely.box(*box)))
        return [(self.named[i][0], self.named[i][1], self._lines[i]) for i in hits]


def _no_segments() -> dict[str, np.ndarray]:
    return {k: np.empty((0, 2, 2)) for k in STREET_CLASSES}


def street_segments(graph: nx.MultiDiGraph | None) -> dict[str, np.ndarray]:
    """Return the streets of a projected osmnx graph as line segments per street class.

    Parameters
    ----------
    graph : networkx.MultiDiGraph or None
        Nodes with ``x``/``y`` in EPSG:27700; edges with ``highway`` and optionally ``geometry``.
        A street stored both ways is drawn once.

    Returns
    -------
    dict
        Class (keys of :data:`STREET_STYLES`) to an array of segments, shape (n, 2, 2); empty without a graph.
    """
    return _graph_streets(graph).segments


def _graph_streets(graph: nx.MultiDiGraph | None) -> Streets:
    out: dict[str, list[np.ndarray]] = {k: [] for k in STREET_CLASSES}
    if graph is None:
        return Streets(_no_segments())
    named: list[tuple[str, str, np.ndarray]] = []
    xs = {n: (d["x"], d["y"]) for n, d in graph.nodes(data=True)}
    seen: set[tuple[Any, Any, Any]] = set()
    for u, v, data in graph.edges(data=True):
        geom = data.get("geometry")
        key = (min(u, v), max(u, v), None if geom is None else geom.wkb)
        if key in seen:
            continue
        seen.add(key)
        highway = data.get("highway")
        highway = highway[0] if isinstance(highway, list) else highway
        cls = HIGHWAY_CLASS.get(str(highway), "minor")
        coords = np.asarray(geom.coords)[:, :2] if geom is not None else np.array([xs[u], xs[v]], dtype=float)
        out[cls].append(np.stack([coords[:-1], coords[1:]], axis=1))
        name = data.get("name")
        name = name[0] if isinstance(name, list) else name
        if isinstance(name, str) and name.strip():
            named.append((name.strip(), cls, coords))
    segments = {k: (np.concatenate(v) if v else np.empty((0, 2, 2))) for k, v in out.items()}
    return Streets(segments, named)


def _file_streets(base: StreetBase) -> Streets:
    segments: dict[str, np.ndarray] = {}
    lines = base.lines
    coords, index = shapely.get_coordinates(lines.geometry.to_numpy(), return_index=True)
    cls = lines["cls"].to_numpy()[index]
    same = index[1:] == index[:-1]
    pairs = np.stack([coords[:-1], coords[1:]], axis=1)[same]
    pair_cls = cls[:-1][same]
    for k in STREET_CLASSES:
        segments[k] = pairs[pair_cls == k]
    named = [
        (str(n).strip(), str(c), np.asarray(g.coords))
        for n, c, g in zip(lines["name"], lines["cls"], lines.geometry, strict=True)
        if str(n).strip()
    ]
    places = [
        (str(n), int(r), p.x, p.y)
        for n, r, p in zip(base.places["name"], base.places["rank"], base.places.geometry, strict=True)
    ]
    credit = settings.attribution_osm if base.source == "osm" else None
    return Streets(segments, named, places, "OpenStreetMap" if base.source == "osm" else "streets file", credit)


def _kept_streets_file(area: Area) -> Path | None:
    """Return the streets file kept in the area folder (``[layers.streets]``), if any."""
    if area.path is None:
        return None
    from assetmap.area.manifest import layer_path, read_manifest

    try:
        spec = read_manifest(area.path).get("layers", {}).get("streets")
    except Exception:  # an area loaded from a manifest it no longer has: no kept file
        return None
    return layer_path(area.path, spec, "streets") if spec else None


def street_base(area: Area, streets: str | Path | None = None) -> Streets:
    """Return the street base of a print of ``area``: a file given, else the area's network, else a kept file.

    Parameters
    ----------
    area : Area
        The area printed.
    streets : str or Path, optional
        OpenStreetMap ``.osm``/``.osm.pbf``, OS Open Roads or any line layer of roads.

    Raises
    ------
    DataFormatError
        A streets file that cannot be read, or has no streets within the area.
    """
    bbox = tuple(shapely.bounds(shapely.box(*area.boundaries.total_bounds).buffer(_READ_BUFFER_M)))
    if streets is not None:
        path = Path(streets)
        return area.memo(("print_streets", str(path.resolve())), lambda: _file_streets(read_streets(path, bbox)))
    if area.network_path is not None:
        net = area.network_path
        if streets_format(net) in ("osm", "pbf"):
            base = area.memo(("print_streets", str(net)), lambda: _file_streets(read_streets(net, bbox)))
        else:
            base = area.memo("print_streets", lambda: _graph_streets(area.network()))
        base.source = "fictional streets" if area.fictional else (base.source or "the area's street network")
        if area.fictional:
            base.credit = None
        return base
    kept = _kept_streets_file(area)
    if kept is not None:
        return area.memo(("print_streets", str(kept)), lambda: _file_streets(read_streets(kept, bbox)))
    return Streets(_no_segments())


def segments_in(segments: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """Return the segments that cross ``box``."""
    if not len(segments):
        return segments
    x, y = segments[:, :, 0], segments[:, :, 1]
    keep = (x.max(1) >= box[0]) & (x.min(1) <= box[2]) & (y.max(1) >= box[1]) & (y.min(1) <= box[3])
    return segments[keep]


def draw_streets(ax: Any, streets: Streets, box: tuple[float, float, float, float], fs: float) -> list[str]:
    """Draw the streets in view, each class as one path over a pale casing; return the classes drawn."""
    drawn = []
    for cls in STREET_CLASSES:
        width, colour = STREET_STYLES[cls]
        segs = segments_in(streets.segments[cls], box)
        if not len(segs):
            continue
        drawn.append(cls)
        # One path per street class: a collection of thousands of segments is written one by one.
        codes = np.tile(np.array([MplPath.MOVETO, MplPath.LINETO], dtype=MplPath.code_type), len(segs))
        path = MplPath(segs.reshape(-1, 2), codes)
        # A white casing keeps the streets readable over the darkest deciles.
        for lw, colour_, alpha, z in ((width + 1.0, "white", 0.8, 2.9), (width, colour, 0.95, 3.0)):
            ax.add_patch(
                PathPatch(
                    path,
                    fill=False,
                    linewidth=lw * fs,
                    edgecolor=colour_,
                    alpha=alpha,
                    zorder=z,
                    capstyle="round",
                    joinstyle="round",
                )
            )
    return drawn


@dataclass(frozen=True)
class MapFrame:
    """Where the map is on the page: its view (metres) and its frame (mm), to go from one to the other."""

    view: tuple[float, float, float, float]
    rect: tuple[float, float, float, float]

    @property
    def mm_per_m(self) -> float:
        """Millimetres of paper per metre of ground."""
        return self.rect[2] / (self.view[2] - self.view[0])

    def to_mm(self, xy: np.ndarray) -> np.ndarray:
        """Return ground positions (n, 2) as page positions in mm."""
        k = self.mm_per_m
        return np.column_stack(
            [self.rect[0] + (xy[:, 0] - self.view[0]) * k, self.rect[1] + (xy[:, 1] - self.view[1]) * k]
        )

    def to_ground(self, x: float, y: float) -> tuple[float, float]:
        """Return a page position in mm as a ground position."""
        k = self.mm_per_m
        return self.view[0] + (x - self.rect[0]) / k, self.view[1] + (y - self.rect[1]) / k


_CLASS_RANK = {"major": 0, "medium": 1, "minor": 2, "path": 3}


def _best_run(coords: np.ndarray) -> tuple[float, float, float, float]:
    """Return the middle (x, y), angle (degrees, upright) and length of a line's longest straight stretch."""
    simple = np.asarray(shapely.simplify(shapely.linestrings(coords), 5.0).coords)
    d = np.diff(simple, axis=0)
    lengths = np.hypot(d[:, 0], d[:, 1])
    k = int(np.argmax(lengths))
    angle = math.degrees(math.atan2(d[k, 1], d[k, 0]))
    if angle > 90:
        angle -= 180
    elif angle < -90:
        angle += 180
    mid = (simple[k] + simple[k + 1]) / 2
    return float(mid[0]), float(mid[1]), angle, float(lengths[k])


def label_streets(ax: Any, streets: Streets, frame: MapFrame, occupied: Occupied, size: float, measure: Measure) -> int:
    """Name the streets in view along their longest straight stretch, where a name fits and is free; return how many."""
    view = shapely.box(*frame.view).buffer(-0.03 * (frame.view[2] - frame.view[0]))
    by_name: dict[str, tuple[int, float, np.ndarray]] = {}
    for name, cls, whole in streets.named_in(frame.view):
        line = shapely.intersection(whole, view)
        if line.is_empty:
            continue
        for part in shapely.get_parts(line):
            if part.geom_type != "LineString":
                continue
            rank, length = _CLASS_RANK.get(cls, 3), part.length
            best = by_name.get(name)
            if best is None or (rank, -length) < (best[0], -best[1]):
                by_name[name] = (rank, length, np.asarray(part.coords))
    n = 0
    pad = 0.6
    for name, (_, _, coords) in sorted(by_name.items(), key=lambda kv: (kv[1][0], -kv[1][1])):
        x, y, angle, run = _best_run(coords)
        w = measure.width(name, size) / PT_PER_MM + 2 * pad
        h = size * 1.2 / PT_PER_MM + 2 * pad
        if w > run * frame.mm_per_m:
            continue
        (cx, cy) = frame.to_mm(np.array([[x, y]]))[0]
        extent = rotated_extent(cx, cy, w, h, angle)
        if not occupied.free(extent):
            continue
        occupied.add(extent)
        ax.text(
            x,
            y,
            name,
            rotation=angle,
            rotation_mode="anchor",
            ha="center",
            va="center",
            fontsize=size,
            fontstyle="italic",
            fontfamily=FONT_FAMILY,
            color="#303030",
            zorder=5.5,
            parse_math=False,
            bbox={"boxstyle": "round,pad=0.12", "facecolor": "white", "edgecolor": "none", "alpha": 0.75},
        )
        n += 1
    return n


def label_places(ax: Any, streets: Streets, frame: MapFrame, occupied: Occupied, size: float, measure: Measure) -> int:
    """Name the places in view (suburbs, villages) in capitals where free; return how many."""
    n = 0
    pad = 0.8
    for name, _, x, y in sorted(streets.places, key=lambda p: p[1]):
        v = frame.view
        if not (v[0] <= x <= v[2] and v[1] <= y <= v[3]):
            continue
        text = name.upper()
        w = measure.width(text, size, bold=True) / PT_PER_MM + 2 * pad
        h = size * 1.2 / PT_PER_MM + 2 * pad
        cx, cy = frame.to_mm(np.array([[x, y]]))[0]
        box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
        r = frame.rect
        if box[0] < r[0] or box[2] > r[0] + r[2] or box[1] < r[1] or box[3] > r[1] + r[3] or not occupied.free(box):
            continue
        occupied.add(box)
        ax.text(
            x,
            y,
            text,
            ha="center",
            va="center",
            fontsize=size,
            fontweight="bold",
            fontfamily=FONT_FAMILY,
            color="#505050",
            zorder=5.4,
            parse_math=False,
            bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.6},
        )
        n += 1
    return n
