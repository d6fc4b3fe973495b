"""Build the fictional demo area, Eastbrook, deterministically.

Run ``python tools/make_demo.py [--out DIR]`` from a checkout to write the demo
area folder (default: the package's ``assetmap/datasets/eastbrook``, which the
wheel ships), or call :func:`build_demo`. The generator itself is not shipped.

Everything in the folder is invented: the borough, its wards and LSOAs, the
deprivation figures, the streets, the postcodes and the asset register. The
codes sit in unused GSS ranges (``E09999901``, ``E05999901``..., ``E01999001``...)
and the postcode area ``EB`` does not exist, so nothing can be mistaken for a
real record. The borough is placed in British National Grid in inner London only
so that distances, projections and densities behave like real data.

The same seed gives the same bytes on every run: every random draw comes from a
named :class:`numpy.random.Generator` stream, coordinates go through one fixed
transformation, and every file is written here with explicit number formatting
rather than by a GIS driver whose output changes between versions.
"""

from __future__ import annotations

import argparse
import csv
import io
import itertools
import json
import math
import sys
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer
from scipy.spatial import cKDTree
from scipy.special import ndtr
from shapely.geometry import LineString, MultiPoint, Point, Polygon

# The package of this checkout, not an installed copy: the default output is its datasets folder.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assetmap import settings
from assetmap.taxonomy import Taxonomy, load_taxonomy

__all__ = ["AREA_NAME", "LAD_CODE", "LAD_NAME", "N_LSOA_ENGLAND", "REFERENCE_DATE", "SEED", "build_demo", "main"]

#: Seed of every random stream in the demo.
SEED: int = 20_250_601

#: Display name of the demo area.
AREA_NAME: str = "Eastbrook (fictional demo borough)"
#: Local authority code and name (GSS code in an unused range).
LAD_CODE: str = "E09999901"
LAD_NAME: str = "Eastbrook"

#: LSOAs in England (2021 geography): the national ranking runs over this many.
N_LSOA_ENGLAND: int = 33_755

#: The register's "today": records confirmed within two years of it are current.
REFERENCE_DATE: str = "2026-06-01"

FICTIONAL_NOTE = (
    "Fictional demo data: Eastbrook is an invented borough. Its boundaries, codes, deprivation figures, "
    "streets, postcodes and community assets are all made up and describe no real place."
)

# Centre of the borough in British National Grid metres (inner London; the borough itself is invented).
_CENTRE = (531_500.0, 185_000.0)

# BNG to WGS84 by a fixed Helmert pipeline (OSGB36 to WGS 84 (6), EPSG:5622-style), so that the
# written coordinates do not depend on whether a PROJ installation has the OSTN15 grid.
_PIPELINE = (
    "+proj=pipeline +step +inv +proj=tmerc +lat_0=49 +lon_0=-2 +k=0.9996012717 +x_0=400000 +y_0=-100000 "
    "+ellps=airy +step +proj=push +v_3 +step +proj=cart +ellps=airy +step +proj=helmert +x=446.448 "
    "+y=-125.157 +z=542.06 +rx=0.15 +ry=0.247 +rz=0.842 +s=-20.489 +convention=position_vector "
    "+step +inv +proj=cart +ellps=WGS84 +step +proj=pop +v_3 +step +proj=unitconvert +xy_in=rad +xy_out=deg"
)

# Approximate national quantiles of the IoD2025 LSOA scores (at _Q_LEVELS), so that demo scores,
# ranks and deciles have the shape of the published distribution.
_Q_LEVELS = (
    0,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.15,
    0.2,
    0.25,
    0.3,
    0.35,
    0.4,
    0.45,
    0.5,
    0.55,
    0.6,
    0.65,
    0.7,
    0.75,
    0.8,
    0.85,
    0.9,
    0.95,
    0.975,
    0.99,
    0.995,
    1,
)
_Q_KNOTS = {
    "imd": (
        0.165,
        1.556,
        1.951,
        2.761,
        3.769,
        5.462,
        6.954,
        8.379,
        9.689,
        11.135,
        12.549,
        14.14,
        15.686,
        17.45,
        19.4,
        21.539,
        23.944,
        26.604,
        29.67,
        33.51,
        38.29,
        44.912,
        54.256,
        61.632,
        68.773,
        73.059,
        94.223,
    ),
    "income": (
        0.002,
        0.022,
        0.028,
        0.039,
        0.05,
        0.067,
        0.08,
        0.093,
        0.105,
        0.118,
        0.133,
        0.149,
        0.165,
        0.184,
        0.206,
        0.231,
        0.258,
        0.289,
        0.322,
        0.362,
        0.408,
        0.464,
        0.544,
        0.604,
        0.666,
        0.712,
        0.998,
    ),
    "employment": (
        0.002,
        0.022,
        0.027,
        0.034,
        0.041,
        0.051,
        0.058,
        0.064,
        0.071,
        0.078,
        0.085,
        0.092,
        0.101,
        0.11,
        0.12,
        0.132,
        0.146,
        0.161,
        0.178,
        0.199,
        0.225,
        0.257,
        0.306,
        0.346,
        0.391,
        0.42,
        0.978,
    ),
    "education": (
        0.004,
        0.272,
        0.459,
        0.915,
        1.694,
        3.178,
        4.611,
        6.071,
        7.542,
        9.077,
        10.782,
        12.566,
        14.466,
        16.545,
        18.838,
        21.294,
        24.174,
        27.497,
        31.225,
        35.844,
        41.671,
        49.269,
        59.252,
        66.531,
        74.799,
        79.457,
        99.613,
    ),
    "health": (
        -3.1,
        -2.163,
        -1.974,
        -1.676,
        -1.409,
        -1.111,
        -0.914,
        -0.755,
        -0.618,
        -0.493,
        -0.374,
        -0.261,
        -0.145,
        -0.03,
        0.083,
        0.202,
        0.33,
        0.464,
        0.609,
        0.767,
        0.947,
        1.173,
        1.497,
        1.757,
        2.05,
        2.268,
        3.309,
    ),
    "crime": (
        -3.293,
        -1.984,
        -1.824,
        -1.565,
        -1.342,
        -1.078,
        -0.891,
        -0.736,
        -0.602,
        -0.479,
        -0.36,
        -0.239,
        -0.12,
        -0.007,
        0.108,
        0.22,
        0.334,
        0.458,
        0.584,
        0.722,
        0.891,
        1.092,
        1.387,
        1.638,
        1.942,
        2.111,
        3.545,
    ),
    "barriers": (
        1.49,
        3.586,
        4.507,
        6.083,
        7.652,
        9.759,
        11.395,
        12.816,
        14.145,
        15.407,
        16.594,
        17.728,
        18.889,
        20.103,
        21.387,
        22.743,
        24.185,
        25.735,
        27.594,
        29.742,
        32.583,
        36.24,
        41.592,
        45.802,
        49.673,
        51.609,
        63.502,
    ),
    "environment": (
        0.055,
        0.684,
        0.997,
        1.757,
        2.632,
        4.227,
        5.683,
        7.08,
        8.61,
        10.135,
        11.858,
        13.664,
        15.671,
        17.849,
        20.153,
        22.584,
        25.521,
        28.443,
        31.746,
        35.371,
        39.656,
        44.961,
        53.007,
        60.323,
        67.797,
        71.524,
        85.733,
    ),
}

# IoD File 7 domains in file order: (key, column prefix, score suffix, correlation with the IMD, local offset).
# The offsets make the inner-city pattern: housing barriers and poor living environment are common
# even where income deprivation is moderate.
_DOMAINS = (
    ("income", "Income", "Score (rate)", 0.95, 0.0),
    ("employment", "Employment", "Score (rate)", 0.90, -0.1),
    ("education", "Education, Skills and Training", "Score", 0.80, -0.2),
    ("health", "Health Deprivation and Disability", "Score", 0.82, 0.0),
    ("crime", "Crime", "Score", 0.70, 0.35),
    ("barriers", "Barriers to Housing and Services", "Score", 0.30, 0.9),
    ("environment", "Living Environment", "Score", 0.40, 0.8),
)

_WARD_NAMES = (
    "Ashgrove",
    "Brookmead",
    "Canalside",
    "Cinder Bank",
    "Dovecote",
    "Eastbrook Central",
    "Fernleigh",
    "Gasholder Park",
    "Hollybank",
    "Kilnworth",
    "Larkrise",
    "Marlpit",
    "Millfield",
    "Netherbrook",
    "Orchard Vale",
    "Ropewalk",
    "Saltings",
    "Tannery Green",
    "Wharfside",
    "Wrenfield",
)
_PLACE_NAMES = (
    "Copper Row",
    "Bell Green",
    "Hatter's Yard",
    "Foundry Hill",
    "Lantern Square",
    "Quill End",
    "Sedge Common",
    "Thistle Cross",
    "Weaver's Fold",
    "Pinfold",
    "Cobble Hill",
    "Drover's Gate",
    "Reedmoor",
    "Slate Yard",
    "Malthouse",
    "Cooper's End",
    "Nettlebed Green",
    "Kingfisher Reach",
    "Whitlow",
    "Clayfield",
)
_SAINTS = (
    "St Anne's",
    "St Barnabas'",
    "St Cuthbert's",
    "St Hilda's",
    "St Jude's",
    "St Mary's",
    "All Saints'",
    "Holy Trinity",
    "St Luke's",
    "St Michael's",
)
_STEMS = (
    "Abbot",
    "Acorn",
    "Albion",
    "Alder",
    "Almond",
    "Amber",
    "Anchor",
    "Appleby",
    "Arbour",
    "Ashby",
    "Aspen",
    "Badger",
    "Bakers",
    "Barley",
    "Barrow",
    "Beacon",
    "Beech",
    "Birch",
    "Blackthorn",
    "Bramble",
    "Brewery",
    "Brick",
    "Bridle",
    "Brook",
    "Buckle",
    "Burdock",
    "Buttercup",
    "Calder",
    "Canal",
    "Carter",
    "Cedar",
    "Chalk",
    "Chandler",
    "Chapel",
    "Chestnut",
    "Clover",
    "Cobden",
    "Colliers",
    "Coopers",
    "Coppice",
    "Cornflower",
    "Cotton",
    "Cowslip",
    "Crane",
    "Cromer",
    "Cutler",
    "Dairy",
    "Dale",
    "Damson",
    "Dyers",
    "Elder",
    "Elm",
    "Ember",
    "Falcon",
    "Farrier",
    "Fennel",
    "Fern",
    "Finch",
    "Flax",
    "Forge",
    "Fuller",
    "Furlong",
    "Garnet",
    "Glover",
    "Gorse",
    "Granary",
    "Hawthorn",
    "Hazel",
    "Heron",
    "Holly",
    "Hop",
    "Ivy",
    "Jasmine",
    "Juniper",
    "Kestrel",
    "Kiln",
    "Laburnum",
    "Lantern",
    "Larch",
    "Laurel",
    "Lime",
    "Linden",
    "Lock",
    "Lupin",
    "Maple",
    "Marigold",
    "Mason",
    "Meadow",
    "Medlar",
    "Mercer",
    "Mill",
    "Minster",
    "Mulberry",
    "Myrtle",
    "Nutmeg",
    "Oak",
    "Orchard",
    "Osier",
    "Otter",
    "Paddock",
    "Pear",
    "Pewter",
    "Pippin",
    "Plover",
    "Poplar",
    "Potters",
    "Primrose",
    "Quarry",
    "Quince",
    "Raven",
    "Reed",
    "Rope",
    "Rowan",
    "Saddler",
    "Saffron",
    "Sawmill",
    "Sedge",
    "Sorrel",
    "Spinney",
    "Sycamore",
    "Tanner",
    "Teasel",
    "Thatcher",
    "Thrush",
    "Timber",
    "Tinker",
    "Turner",
    "Vine",
    "Walnut",
    "Warren",
    "Weaver",
    "Wharf",
    "Wheelwright",
    "Willow",
    "Wren",
    "Yarrow",
    "Yew",
)
_SUFFIX = {
    "primary": ("Road", "High Road", "Way", "Street"),
    "secondary": ("Road", "Lane", "Street", "Hill"),
    "tertiary": ("Road", "Street", "Avenue", "Lane", "Hill"),
    "terrace": ("Street", "Road", "Terrace", "Grove", "Place", "Avenue", "Street", "Road"),
    "estate": ("Close", "Court", "Walk", "Gardens", "Mews", "Rise", "Crescent", "Drive", "Way"),
}
_FIRST = (
    "Amara",
    "Ben",
    "Chloe",
    "Dev",
    "Efua",
    "Farah",
    "Gareth",
    "Hana",
    "Idris",
    "Joy",
    "Kofi",
    "Lena",
    "Marek",
    "Nadia",
    "Owen",
    "Priya",
    "Rosa",
    "Sam",
    "Tomasz",
    "Uche",
    "Vera",
    "Wes",
    "Yusuf",
    "Zoe",
)
_LAST = (
    "Adeyemi",
    "Begum",
    "Clarke",
    "Doherty",
    "Evans",
    "Fernandes",
    "Greene",
    "Hussain",
    "Ilori",
    "Jones",
    "Kowalski",
    "Lewis",
    "Mensah",
    "Novak",
    "O'Brien",
    "Patel",
    "Quinn",
    "Rahman",
    "Shaw",
    "Taylor",
    "Usman",
    "Walsh",
    "Yilmaz",
    "Zhou",
)
_UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


# -- small helpers -----------------------------------------------------------------------


def _rng(stream: str) -> np.random.Generator:
    """Return the random stream of one part of the demo.

    One stream per part means that changing how one layer is drawn leaves the
    bytes of the others alone.
    """
    return np.random.default_rng([SEED, zlib.crc32(stream.encode("utf-8"))])


_TRANSFORMER = Transformer.from_pipeline(_PIPELINE)


def _to_lonlat(xy: np.ndarray) -> np.ndarray:
    lon, lat = _TRANSFORMER.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([lon, lat])


def _to_bng(lonlat: np.ndarray) -> np.ndarray:
    x, y = _TRANSFORMER.transform(lonlat[:, 0], lonlat[:, 1], direction="INVERSE")
    return np.column_stack([x, y])


def _geoms_to_lonlat(geoms: np.ndarray, decimals: int = 6) -> np.ndarray:
    """Reproject BNG geometries to WGS84 and round them as they will be written."""
    return shapely.transform(geoms, lambda c: np.round(_to_lonlat(c), decimals))


def _geoms_to_bng(geoms: np.ndarray) -> np.ndarray:
    return shapely.transform(geoms, _to_bng)


def _poisson_disc(
    region: Polygon, radius: Callable[[np.ndarray], np.ndarray], rng: np.random.Generator, candidates: int
) -> np.ndarray:
    """Dart-throwing sample: points in ``region`` no closer than the local radius to each other."""
    x0, y0, x1, y1 = region.bounds
    pts = np.column_stack([rng.uniform(x0, x1, candidates), rng.uniform(y0, y1, candidates)])
    pts = pts[shapely.contains_xy(region, pts[:, 0], pts[:, 1])]
    r = radius(pts)
    kept: list[int] = []
    acc = np.empty((0, 2))
    for i in range(len(pts)):
        if len(acc) == 0 or np.min(np.hypot(*(acc - pts[i]).T)) >= r[i]:
            kept.append(i)
            acc = pts[kept]
    return acc


def _voronoi_cells(points: np.ndarray, clip: Polygon) -> np.ndarray:
    """Voronoi cells of ``points`` (in input order) clipped to ``clip``."""
    envelope = shapely.box(*clip.buffer(2_000).bounds)
    cells = shapely.get_parts(shapely.voronoi_polygons(MultiPoint(points), extend_to=envelope, ordered=True))
    return shapely.intersection(cells, clip)


def _largest_part(geom: shapely.Geometry) -> Polygon:
    parts = shapely.get_parts(geom)
    parts = parts[shapely.get_type_id(parts) == 3]
    return parts[np.argmax(shapely.area(parts))]


def _fmt(value: float, decimals: int) -> str:
    """Fixed-point text without negative zero."""
    text = f"{value:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def _fmt_score(value: float) -> str:
    """Format a score as the IoD files do: up to three decimals, trailing zeros dropped."""
    text = _fmt(value, 3).rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _smooth_field(xy: np.ndarray, rng: np.random.Generator, waves: int, wavelengths: tuple[float, float]) -> np.ndarray:
    """Return a smooth random surface: plane waves with random directions and phases, unit variance."""
    angle = rng.uniform(0, 2 * np.pi, waves)
    length = rng.uniform(*wavelengths, waves)
    phase = rng.uniform(0, 2 * np.pi, waves)
    k = np.column_stack([np.cos(angle), np.sin(angle)]) * (2 * np.pi / length)[:, None]
    return np.sqrt(2.0 / waves) * np.cos(xy @ k.T + phase).sum(axis=1)


# -- the borough, its LSOAs and wards -------------------------------------------------------


def _outline() -> Polygon:
    """Return an irregular borough about 6 km by 5 km: a boxy oval with bays, bulges and a ragged edge."""
    rng = _rng("outline")
    # Irregularly spaced vertices joined by straight runs, as boundaries that follow streets and old field lines.
    t = np.sort(rng.uniform(0, 2 * np.pi, 90))
    a, b, p = 3_200.0, 2_650.0, 3.0
    r = 1.0 / ((np.abs(np.cos(t)) / a) ** p + (np.abs(np.sin(t)) / b) ** p) ** (1 / p)
    wobble = np.zeros_like(t)
    for k in range(2, 10):
        wobble += rng.normal(0, 0.09 / k**0.7) * np.cos(k * t + rng.uniform(0, 2 * np.pi))
    r = r * (1 + wobble) + rng.normal(0, 55, len(t))
    xy = np.column_stack([_CENTRE[0] + r * np.cos(t), _CENTRE[1] + r * np.sin(t)])
    poly = shapely.make_valid(Polygon(xy))
    return shapely.set_precision(_largest_part(poly), 1.0)


def _density(xy: np.ndarray) -> np.ndarray:
    """Relative residential density: highest around the centre, lower towards the edges."""
    d2 = ((xy - np.array(_CENTRE)) ** 2).sum(axis=1)
    return 0.75 + 0.8 * np.exp(-d2 / (2 * 1_900.0**2))


def _lsoa_cells(outline: Polygon) -> np.ndarray:
    """Return about 150 LSOA polygons: Voronoi cells of well-spread seeds, smaller where people live closer.

    The straight Voronoi edges are then bent by a small smooth warp of the whole
    partition, so that boundaries wander as real ones do along streets and backs of
    gardens; shared edges move together, so the cells still tile the borough.
    """
    rng = _rng("lsoa")
    seeds = _poisson_disc(outline, lambda xy: 395.0 / np.sqrt(_density(xy)), rng, 30_000)
    for _ in range(2):
        # Two Lloyd steps tidy slivers without flattening the density gradient.
        cells = _voronoi_cells(seeds, outline)
        seeds = 0.5 * seeds + 0.5 * shapely.get_coordinates(shapely.centroid(cells))
    cells = _voronoi_cells(seeds, outline)
    if (shapely.get_type_id(cells) != 3).any():
        raise RuntimeError("an LSOA cell fell apart when clipped; change the seed")  # pragma: no cover
    cells = shapely.set_precision(shapely.segmentize(cells, 30.0), 0.01)
    cells = shapely.transform(cells, _warp(_rng("lsoa edges"), 22.0, (250.0, 700.0)))
    cells = shapely.coverage_simplify(shapely.set_precision(cells, 0.01), 2.0)
    return shapely.set_precision(cells, 1.0)


def _balanced_clusters(
    xy: np.ndarray, weight: np.ndarray, k: int, rng: np.random.Generator, iterations: int = 80
) -> np.ndarray:
    """Label points in ``k`` compact clusters of similar total weight (a power-diagram k-means)."""
    start = int(rng.integers(len(xy)))
    centres = [xy[start]]
    for _ in range(1, k):
        d = np.min(((xy[:, None, :] - np.array(centres)[None]) ** 2).sum(-1), axis=1)
        centres.append(xy[int(np.argmax(d))])
    c = np.array(centres)
    bias = np.zeros(k)
    target = weight.sum() / k
    scale = ((xy - xy.mean(0)) ** 2).sum(1).mean() / k
    labels = np.zeros(len(xy), dtype=int)
    for _ in range(iterations):
        d2 = ((xy[:, None, :] - c[None]) ** 2).sum(-1) - bias[None]
        labels = d2.argmin(axis=1)
        total = np.bincount(labels, weights=weight, minlength=k)
        for axis in range(2):
            moved = np.bincount(labels, weights=weight * xy[:, axis], minlength=k)
            c[:, axis] = np.where(total > 0, moved / np.where(total > 0, total, 1), c[:, axis])
        bias += 0.3 * scale * (target - total) / target
    return labels


def _make_contiguous(cells: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Move LSOAs in detached parts or enclaves of a ward into a neighbouring ward until every ward is one piece."""
    labels = labels.copy()
    tree = shapely.STRtree(cells)
    for _ in range(50):
        changed = False
        for j in np.unique(labels):
            members = np.flatnonzero(labels == j)
            ward = shapely.union_all(cells[members])
            parts = shapely.get_parts(ward)
            if len(parts) > 1:
                main = parts[np.argmax(shapely.area(parts))]
                for i in members:
                    if not shapely.intersects(main, shapely.point_on_surface(cells[i])):
                        nbrs = [n for n in tree.query(cells[i], predicate="touches") if labels[n] != j]
                        if nbrs:
                            labels[i] = labels[
                                min(nbrs, key=lambda n: (-shapely.length(shapely.intersection(cells[i], cells[n])), n))
                            ]
                            changed = True
            if shapely.get_num_interior_rings(_largest_part(ward)) > 0:
                hole = Polygon(_largest_part(ward).interiors[0])
                inside = [i for i in tree.query(hole, predicate="contains")]
                for i in inside:
                    labels[i] = j
                    changed = True
        if not changed:
            break
    return labels


def _rebalance(cells: np.ndarray, labels: np.ndarray, max_moves: int = 300) -> np.ndarray:
    """Move boundary LSOAs from larger wards to smaller neighbours until ward sizes differ by at most two."""
    labels = labels.copy()
    tree = shapely.STRtree(cells)
    left, right = tree.query(cells, predicate="intersects")
    keep = (left != right) & (shapely.length(shapely.intersection(cells[left], cells[right])) > 1)
    neighbours = [right[keep & (left == i)] for i in range(len(cells))]
    reps = shapely.get_coordinates(shapely.point_on_surface(cells))
    for _ in range(max_moves):
        counts = np.bincount(labels)
        if counts.max() - counts.min() <= 2:
            break
        centres = np.array([reps[labels == j].mean(0) for j in range(len(counts))])
        moved = False
        for big in np.argsort(-counts, kind="stable"):
            options = sorted(
                (counts[labels[j]], float(np.hypot(*(reps[i] - centres[labels[j]]))), int(i), int(labels[j]))
                for i in np.flatnonzero(labels == big)
                for j in neighbours[i]
                if labels[j] != big and counts[labels[j]] <= counts[big] - 2
            )
            for _count, _dist, i, small in options:
                rest = shapely.union_all(cells[(labels == big) & (np.arange(len(cells)) != i)])
                grown = shapely.union_all(np.r_[cells[labels == small], cells[i : i + 1]])
                if shapely.get_type_id(rest) == 3 and shapely.get_type_id(grown) == 3:
                    labels[i] = small
                    moved = True
                    break
            if moved:
                break
        if not moved:
            break
    return labels


@dataclass
class _Geography:
    """The borough's polygons in BNG, before writing."""

    outline: Polygon
    lsoa: np.ndarray  # LSOA polygons, in code order
    lsoa_code: list[str]
    lsoa_name: list[str]
    lsoa_ward: np.ndarray  # best-fit ward index of each LSOA
    wards: np.ndarray  # ward polygons, in code order
    ward_code: list[str]
    ward_name: list[str]
    straddlers: list[int] = field(default_factory=list)


def _cut_piece(lsoa: Polygon, shared: LineString, share: float) -> Polygon | None:
    """Cut off the part of ``lsoa`` beside ``shared`` with a straight line parallel to it: ``share`` of its area."""
    (x0, y0), (x1, y1) = shared.coords[0], shared.coords[-1]
    direction = np.array([x1 - x0, y1 - y0])
    if np.hypot(*direction) < 50:
        return None
    direction /= np.hypot(*direction)
    normal = np.array([-direction[1], direction[0]])
    mid = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    rep = np.array(shapely.point_on_surface(lsoa).coords[0])
    if (rep - mid) @ normal < 0:
        normal = -normal  # point into the LSOA

    def piece(t: float) -> shapely.Geometry:
        far = 5_000.0
        a, b = mid - direction * far - normal * far, mid + direction * far - normal * far
        half = Polygon([a, b, b + normal * (far + t), a + normal * (far + t)])
        return shapely.intersection(lsoa, half)

    lo, hi = 0.0, 2_000.0
    for _ in range(40):
        t = (lo + hi) / 2
        if shapely.area(piece(t)) / lsoa.area < share:
            lo = t
        else:
            hi = t
    result = shapely.set_precision(piece((lo + hi) / 2), 1.0)
    return result if shapely.get_type_id(result) == 3 else None


def _geography() -> _Geography:
    """Draw the borough: LSOAs, wards built from them (a few LSOAs cut by ward lines), codes and names."""
    cells = _lsoa_cells(_outline())
    outline = shapely.union_all(cells)
    rng = _rng("wards")
    reps = shapely.get_coordinates(shapely.point_on_surface(cells))
    n_wards = 17
    # LSOAs hold similar populations, so wards of similar electorate hold similar numbers of LSOAs.
    labels = _make_contiguous(cells, _balanced_clusters(reps, np.ones(len(cells)), n_wards, rng))
    labels = _make_contiguous(cells, _rebalance(cells, labels))

    # Straddling LSOAs: cut a slice of a few boundary LSOAs off into the neighbouring ward, as happens
    # where ward boundaries were redrawn after the LSOAs were.
    ward_geoms = [shapely.union_all(cells[labels == j]) for j in range(n_wards)]
    order = rng.permutation(len(cells))
    pieces: dict[int, tuple[int, Polygon]] = {}
    used_wards: set[int] = set()
    for i in order:
        if len(pieces) >= 4:
            break
        a = labels[i]
        if a in used_wards:
            continue
        for b in range(n_wards):
            if b == a or b in used_wards:
                continue
            shared = shapely.line_merge(shapely.intersection(cells[i].boundary, ward_geoms[b].boundary))
            if shapely.get_type_id(shared) != 1 or shared.length < 0.3 * cells[i].length:
                continue
            piece = _cut_piece(cells[i], shared, float(rng.uniform(0.22, 0.38)))
            if piece is None or any(shapely.intersects(piece.buffer(30), cells[k]) for k in pieces):
                continue
            rest = shapely.set_precision(shapely.difference(ward_geoms[a], piece), 1.0)
            grown = shapely.set_precision(shapely.union(ward_geoms[b], piece), 1.0)
            rep = shapely.point_on_surface(cells[i])
            if (
                shapely.get_type_id(rest) == 3
                and shapely.get_type_id(grown) == 3
                and shapely.contains(rest, rep)
                and not shapely.intersects(piece, rep.buffer(20))
            ):
                pieces[int(i)] = (b, piece)
                ward_geoms[a], ward_geoms[b] = rest, grown
                used_wards.update((a, b))
                break

    # Ward codes follow the alphabetical order of names, as ONS codes run within an authority.
    pool = [n for n in _WARD_NAMES if n != "Eastbrook Central"]
    names = sorted([*_rng("ward names").choice(pool, n_wards - 1, replace=False).tolist(), "Eastbrook Central"])
    # Names go to wards in random order, so neighbouring wards are not alphabetical neighbours;
    # "Eastbrook Central" goes to the ward holding the centre.
    central = next(j for j in range(n_wards) if shapely.contains_xy(ward_geoms[j], *_CENTRE))
    others = [j for j in _rng("ward order").permutation(n_wards).tolist() if j != central]
    others.insert(names.index("Eastbrook Central"), central)
    ward_order = np.array(others)  # ward_order[k]: the cluster given the k-th name
    ward_index = np.empty(n_wards, dtype=int)
    ward_index[ward_order] = np.arange(n_wards)
    wards = np.array([ward_geoms[w] for w in ward_order], dtype=object)
    lsoa_ward = ward_index[labels]

    # LSOA names: groups of about five form an "MSOA", numbered from north to south as ONS does.
    n_msoa = max(1, round(len(cells) / 5))
    msoa = _balanced_clusters(reps, np.ones(len(cells)), n_msoa, _rng("msoa"), iterations=30)
    msoa_y = np.array([reps[msoa == j, 1].mean() if (msoa == j).any() else 0 for j in range(n_msoa)])
    msoa_x = np.array([reps[msoa == j, 0].mean() if (msoa == j).any() else 0 for j in range(n_msoa)])
    msoa_rank = np.empty(n_msoa, dtype=int)
    msoa_rank[np.lexsort((msoa_x, -msoa_y))] = np.arange(1, n_msoa + 1)
    letters = {}
    for j in range(n_msoa):
        members = np.flatnonzero(msoa == j)
        members = members[np.lexsort((reps[members, 0], -reps[members, 1]))]
        for n, i in enumerate(members):
            letters[int(i)] = chr(ord("A") + n)
    lsoa_names = [f"{LAD_NAME} {msoa_rank[msoa[i]]:03d}{letters[i]}" for i in range(len(cells))]
    lsoa_order = sorted(range(len(cells)), key=lambda i: lsoa_names[i])
    return _Geography(
        outline=outline,
        lsoa=cells[lsoa_order],
        lsoa_code=[f"E01999{n + 1:03d}" for n in range(len(cells))],
        lsoa_name=[lsoa_names[i] for i in lsoa_order],
        lsoa_ward=lsoa_ward[lsoa_order],
        wards=wards,
        ward_code=[f"E05999{901 + n}" for n in range(n_wards)],
        ward_name=names,
        straddlers=sorted(lsoa_order.index(i) for i in pieces),
    )


# -- deprivation and population -------------------------------------------------------------


def _national_quantile(key: str, p: np.ndarray) -> np.ndarray:
    return np.interp(p, _Q_LEVELS, _Q_KNOTS[key])


def _rank_nationally(key: str, local: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rank local scores (1 = most deprived) among a simulated England of :data:`N_LSOA_ENGLAND` LSOAs."""
    others = np.round(_national_quantile(key, ndtr(rng.standard_normal(N_LSOA_ENGLAND - len(local)))), 3)
    scores = np.concatenate([local, others])
    order = np.lexsort((np.arange(len(scores)), -scores))
    ranks = np.empty(len(scores), dtype=int)
    ranks[order] = np.arange(1, len(scores) + 1)
    return ranks[: len(local)]


def _decile(rank: np.ndarray) -> np.ndarray:
    return np.ceil(rank * 10 / N_LSOA_ENGLAND).astype(int)


def _deprivation(geo: _Geography) -> dict[str, np.ndarray]:
    """Scores, ranks, deciles and populations per LSOA, spatially clustered."""
    rng = _rng("deprivation")
    reps = shapely.get_coordinates(shapely.point_on_surface(geo.lsoa))
    rel = (reps - np.array(_CENTRE)) / 1_000.0  # km from the centre
    core = np.exp(-((rel - [0.4, -0.3]) ** 2).sum(1) / (2 * 1.1**2))
    east = np.tanh((rel[:, 0] - 0.5) / 1.6)
    pockets = sum(
        np.exp(-((rel - c) ** 2).sum(1) / (2 * s**2))
        for c, s in (([-2.0, 1.3], 0.7), ([-1.6, -1.4], 0.6), ([0.9, 1.7], 0.45), ([-0.4, 0.5], 0.35))
    )
    field_ = _smooth_field(reps, rng, 12, (1_500.0, 3_500.0))
    latent = 1.1 * core + 0.9 * east - 1.5 * pockets + 0.45 * field_ + rng.normal(0, 0.35, len(reps))
    latent = 0.45 + 1.0 * (latent - latent.mean()) / latent.std()
    out: dict[str, np.ndarray] = {"latent": latent}
    imd = np.round(_national_quantile("imd", ndtr(latent)), 3)
    out["imd_score"] = imd
    out["imd_rank"] = _rank_nationally("imd", imd, rng)
    for key, _label, _suffix, rho, offset in _DOMAINS:
        own = _smooth_field(reps, rng, 6, (1_200.0, 3_000.0))
        z = rho * latent + np.sqrt(1 - rho**2) * (0.6 * own + 0.8 * rng.standard_normal(len(reps))) + offset
        score = np.round(_national_quantile(key, ndtr(z)), 3)
        out[f"{key}_score"] = score
        out[f"{key}_rank"] = _rank_nationally(key, score, rng)

    pop = np.clip(np.round(rng.normal(1_880, 320, len(reps))), 1_200, 2_800).astype(int)
    dep = ndtr(latent)
    child_share = np.clip(0.15 + 0.10 * dep + rng.normal(0, 0.02, len(reps)), 0.10, 0.30)
    older_share = np.clip(0.17 - 0.07 * dep + rng.normal(0, 0.02, len(reps)), 0.06, 0.28)
    children = np.round(pop * child_share).astype(int)
    older = np.round(pop * older_share).astype(int)
    # 18-66 excludes the 16-17s and the over-66s (about 60% of the over-60s here).
    working = pop - children - np.round(pop * 0.025).astype(int) - np.round(older * 0.6).astype(int)
    out.update(population=pop, children=children, older=older, working=working)
    return out


# -- streets ------------------------------------------------------------------------------


@dataclass
class _Street:
    geom: LineString
    highway: str
    name: str | None


class _Namer:
    """Street names drawn without repeats while the supply lasts."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def __call__(self, style: str) -> str:
        for _ in range(200):
            name = f"{self.rng.choice(_STEMS)} {self.rng.choice(_SUFFIX[style])}"
            if name not in self.used:
                self.used.add(name)
                return name
        return name


def _warp(
    rng: np.random.Generator, amplitude: float, wavelengths: tuple[float, float] = (1_200.0, 3_000.0)
) -> Callable[[np.ndarray], np.ndarray]:
    """Return a smooth displacement of the plane that bends straight streets into gentle curves."""
    waves = 6
    angle = rng.uniform(0, 2 * np.pi, (2, waves))
    length = rng.uniform(*wavelengths, (2, waves))
    phase = rng.uniform(0, 2 * np.pi, (2, waves))

    def move(xy: np.ndarray) -> np.ndarray:
        out = xy.copy()
        for axis in range(2):
            k = np.column_stack([np.cos(angle[axis]), np.sin(angle[axis])]) * (2 * np.pi / length[axis])[:, None]
            out[:, axis] += amplitude / np.sqrt(waves) * np.sin(xy @ k.T + phase[axis]).sum(axis=1)
        return out

    return move


def _wavy_line(
    start: np.ndarray, end: np.ndarray, rng: np.random.Generator, amplitude: float, step: float = 40.0
) -> LineString:
    """Return a line from ``start`` to ``end`` bending gently either side of the straight path."""
    length = float(np.hypot(*(end - start)))
    s = np.linspace(0, 1, max(2, int(length / step)) + 1)
    normal = np.array([-(end - start)[1], (end - start)[0]]) / length
    bend = amplitude * (
        np.sin(np.pi * s * rng.uniform(1.0, 2.5) + rng.uniform(0, 2 * np.pi))
        + 0.4 * np.sin(np.pi * s * rng.uniform(3, 5) + rng.uniform(0, 2 * np.pi))
    )
    bend *= np.sin(np.pi * s) ** 0.3  # pinned at the ends
    return LineString(start + s[:, None] * (end - start) + bend[:, None] * normal)


def _grid_streets(
    patch: Polygon, style: str, rng: np.random.Generator, namer: _Namer, warp: Callable[[np.ndarray], np.ndarray]
) -> list[_Street]:
    """Streets of one neighbourhood: a bent, gappy grid at the neighbourhood's own angle."""
    theta = rng.uniform(0, np.pi)
    if style == "terrace":
        long_gap, cross_gap, drop, stub, foot, bend = rng.uniform(95, 140), rng.uniform(170, 260), 0.10, 0.05, 0.02, 8.0
        step = 60.0
    else:  # estate: bigger, curvier blocks, cul-de-sacs and footpaths
        long_gap, cross_gap, drop, stub, foot, bend = (
            rng.uniform(120, 170),
            rng.uniform(150, 220),
            0.22,
            0.25,
            0.12,
            22.0,
        )
        step = 30.0  # finer vertices so that the curves stay smooth
    c = np.array(shapely.get_coordinates(patch.centroid)[0])
    radius = float(np.max(np.hypot(*(shapely.get_coordinates(patch) - c).T))) + 50
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    u_lines = np.arange(-radius, radius + long_gap, long_gap) + rng.uniform(0, long_gap)
    v_lines = np.arange(-radius, radius + cross_gap, cross_gap) + rng.uniform(0, cross_gap)
    wave_len, wave_phase = rng.uniform(500, 1_000), rng.uniform(0, 2 * np.pi)

    def to_world(uv: np.ndarray) -> np.ndarray:
        uv = uv.copy()
        uv[:, 0] += bend * np.sin(2 * np.pi * uv[:, 1] / wave_len + wave_phase)
        return warp(uv @ rot.T + c)

    def segment(p: np.ndarray, q: np.ndarray) -> np.ndarray:
        n = max(2, int(np.hypot(*(q - p)) / step) + 1)
        return p + np.linspace(0, 1, n)[:, None] * (q - p)

    streets: list[_Street] = []
    suffix = "terrace" if style == "terrace" else "estate"
    # Long streets (constant u) run along v; cross streets (constant v) along u.
    for axis, lines, stops in ((0, u_lines, v_lines), (1, v_lines, u_lines)):
        for value in lines:
            name = namer(suffix)
            run: list[np.ndarray] = []
            for s0, s1 in itertools.pairwise(stops):
                p = np.array([value, s0] if axis == 0 else [s0, value])
                q = np.array([value, s1] if axis == 0 else [s1, value])
                roll = rng.random()
                if roll < drop + foot:
                    if run:
                        streets.append(_Street(LineString(to_world(np.vstack(run))), "residential", name))
                        run = []
                    if roll >= drop:
                        streets.append(_Street(LineString(to_world(segment(p, q))), "footway", None))
                    continue
                if axis == 1 and roll < drop + foot + stub:
                    # A cul-de-sac: half a block, closed at one end.
                    if run:
                        streets.append(_Street(LineString(to_world(np.vstack(run))), "residential", name))
                        run = []
                    half = segment(p, p + (q - p) * rng.uniform(0.4, 0.65))
                    streets.append(_Street(LineString(to_world(half)), "residential", namer("estate")))
                    continue
                pts = segment(p, q)
                run.append(pts if not run else pts[1:])
            if run:
                streets.append(_Street(LineString(to_world(np.vstack(run))), "residential", name))
    clipped: list[_Street] = []
    for st in streets:
        # Drop vertices that carry no bend (under 1 m off the line) before clipping, so ends stay on the edge.
        for part in shapely.get_parts(shapely.intersection(shapely.simplify(st.geom, 1.0), patch)):
            if shapely.get_type_id(part) == 1 and part.length >= 20:
                clipped.append(_Street(part, st.highway, st.name))
    return clipped


def _park_paths(patch: Polygon, rng: np.random.Generator) -> list[_Street]:
    """Footpaths across a park: a perimeter path and a few paths from edge to edge."""
    out: list[_Street] = []
    inner = patch.buffer(-45)
    if not inner.is_empty:
        loop = _largest_part(inner).exterior.simplify(8)
        out.append(_Street(LineString(loop.coords), "path", None))
    centre = np.array(shapely.point_on_surface(patch).coords[0])
    for f in np.sort(rng.uniform(0, 1, 4)):
        edge = np.array(patch.exterior.interpolate(f, normalized=True).coords[0])
        # Every path runs to one meeting point (a bandstand, a cafe), so they join there.
        line = _wavy_line(edge, centre, rng, 15.0, step=30.0)
        out.append(_Street(line, "footway", None))
    return out


def _streets(outline: Polygon) -> list[_Street]:
    """Draw the borough's walkable street network as named, noded lines."""
    rng = _rng("streets")
    namer = _Namer(_rng("street names"))
    region = shapely.set_precision(outline.buffer(120, quad_segs=4), 1.0)
    warp = _warp(rng, 40.0)
    c = np.array(_CENTRE)

    # Neighbourhoods: Voronoi patches with their own street grids; their edges are local distributor roads.
    seeds = _poisson_disc(region, lambda xy: np.full(len(xy), 820.0), rng, 6_000)
    patches = _voronoi_cells(seeds, shapely.box(*region.buffer(400).bounds))
    patches = shapely.simplify(shapely.transform(shapely.segmentize(patches, 60.0), warp), 1.0)
    patches = shapely.intersection(patches, region)
    dist = np.hypot(*(seeds - c).T)
    styles = np.where(rng.random(len(seeds)) < 0.35, "estate", "terrace").astype(object)
    # Parks: a few neighbourhoods away from the very centre and not on the edge of the map.
    candidates = np.flatnonzero((dist > 900) & (dist < 2_300))
    for i in rng.choice(candidates, 3, replace=False):
        styles[i] = "park"
    streets: list[_Street] = []
    for patch, style in zip(patches, styles, strict=True):
        if shapely.is_empty(patch):
            continue
        patch = _largest_part(patch)
        if style == "park":
            streets += _park_paths(patch, rng)
        else:
            streets += _grid_streets(patch, style, rng, namer, warp)

    edges = shapely.line_merge(shapely.union_all(shapely.boundary(patches), grid_size=0.5))
    edge_parts = shapely.get_parts(edges)
    outer = region.boundary.buffer(2)
    for e in edge_parts:
        if shapely.covered_by(e, outer) or e.length < 30:
            continue
        highway = "tertiary" if rng.random() < 0.55 else "residential"
        streets.append(_Street(e, highway, namer("tertiary" if highway == "tertiary" else "terrace")))

    # Main roads: four radials crossing around the centre, an inner ring and two cross routes.
    main: list[_Street] = []
    base = rng.uniform(0, np.pi / 4)
    for i in range(4):
        ang = base + i * np.pi / 4 + rng.normal(0, 0.12)
        d = np.array([np.cos(ang), np.sin(ang)])
        off = np.array([-d[1], d[0]]) * rng.choice([-1, 1]) * rng.uniform(150, 550)
        line = _wavy_line(c + off - d * 5_000, c + off + d * 5_000, rng, 170.0, step=50.0)
        main.append(_Street(line, "primary", namer("primary")))
    t = np.linspace(0, 2 * np.pi, 261)
    ring_r = 1_300 * (
        1
        + 0.10 * np.sin(2 * t + rng.uniform(0, 6))
        + 0.06 * np.sin(3 * t + rng.uniform(0, 6))
        + 0.04 * np.sin(5 * t + rng.uniform(0, 6))
    )
    ring = np.column_stack([c[0] + 1.1 * ring_r * np.cos(t), c[1] + 0.9 * ring_r * np.sin(t)])
    ring[-1] = ring[0]
    for q in range(4):
        main.append(_Street(LineString(ring[q * 65 : (q + 1) * 65 + 1]), "secondary", namer("secondary")))
    for _ in range(2):
        ang = rng.uniform(0, np.pi)
        d = np.array([np.cos(ang), np.sin(ang)])
        off = np.array([-d[1], d[0]]) * rng.choice([-1, 1]) * rng.uniform(1_600, 2_100)
        main.append(
            _Street(_wavy_line(c + off - d * 5_000, c + off + d * 5_000, rng, 90.0), "secondary", namer("secondary"))
        )
    for st in main:
        st.geom = shapely.simplify(LineString(warp(shapely.get_coordinates(st.geom))), 1.0)
    streets += main
    clipped = []
    for st in streets:
        for part in shapely.get_parts(shapely.intersection(st.geom, region)):
            if shapely.get_type_id(part) == 1 and part.length >= 15:
                clipped.append(_Street(part, st.highway, st.name))
    return _node(clipped)


# Snap-rounding grid of the street network, in metres: coarse enough to fuse vertices that
# nearly coincide (which would leave sub-metre stubs), fine enough to be invisible.
_NODE_GRID = 2.0

_PRIORITY = {"primary": 0, "secondary": 1, "tertiary": 2, "residential": 3, "footway": 4, "path": 5}


def _node(streets: list[_Street]) -> list[_Street]:
    """Split every street where it meets another so that crossing ways share a node.

    Snap-rounding to a 2 m grid nodes the lines robustly (a street ending on
    another is joined to it), then each noded piece gets back the attributes of
    the street it came from and the pieces of one street are merged again.
    """
    geoms = np.array([s.geom for s in streets], dtype=object)
    noded = shapely.get_parts(shapely.union_all(geoms, grid_size=_NODE_GRID))
    mids = shapely.line_interpolate_point(noded, 0.5, normalized=True)
    tree = shapely.STRtree(geoms)
    # Snap-rounding moves a line by up to a grid cell's half-diagonal: look that far and a little more.
    piece_idx, src_idx = tree.query(mids, predicate="dwithin", distance=2 * _NODE_GRID)
    dist = shapely.distance(mids[piece_idx], geoms[src_idx])
    prio = np.array([_PRIORITY[streets[i].highway] for i in src_idx])
    order = np.lexsort((src_idx, prio, np.round(dist, 3), piece_idx))
    first = np.r_[True, piece_idx[order][1:] != piece_idx[order][:-1]]
    owner = np.full(len(noded), -1)
    owner[piece_idx[order][first]] = src_idx[order][first]
    if (owner < 0).any():
        raise RuntimeError("a noded street piece lost its street")  # pragma: no cover
    out: list[_Street] = []
    for s in np.unique(owner[owner >= 0]):
        merged = shapely.line_merge(shapely.multilinestrings(noded[owner == s]))
        for part in shapely.get_parts(merged):
            out.append(_Street(part, streets[s].highway, streets[s].name))
    return out


# -- postcodes ------------------------------------------------------------------------------


def _postcodes(
    geo: _Geography, lsoa_ll: np.ndarray, population: np.ndarray, streets: list[_Street]
) -> dict[str, np.ndarray]:
    """Postcode units: about one per 55 residents, on streets, inside their LSOA, in districts EB1-EB8."""
    rng = _rng("postcodes")
    lsoa_bng = _geoms_to_bng(lsoa_ll)
    roads = np.array([s.geom for s in streets if s.highway not in ("footway", "path")], dtype=object)
    road_tree = shapely.STRtree(roads)
    xs: list[np.ndarray] = []
    owners: list[np.ndarray] = []
    for i, poly in enumerate(lsoa_bng):
        want = max(8, round(population[i] / 55))
        inner = poly.buffer(-3)  # keep clear of the boundary so rounding never moves a unit next door
        x0, y0, x1, y1 = poly.bounds
        pts = np.column_stack([rng.uniform(x0, x1, want * 10), rng.uniform(y0, y1, want * 10)])
        pts = pts[shapely.contains_xy(inner, pts[:, 0], pts[:, 1])]
        near = np.zeros(len(pts), bool)
        hit, _ = road_tree.query(shapely.points(pts), predicate="dwithin", distance=35)
        near[hit] = True
        chosen = np.vstack([pts[near], pts[~near]])[:want]
        xs.append(chosen)
        owners.append(np.full(len(chosen), i))
    xy = np.vstack(xs)
    owner = np.concatenate(owners)

    # Districts EB1-EB8: EB1 the centre, then clockwise from the north.
    labels = _balanced_clusters(xy, np.ones(len(xy)), 8, _rng("postcode districts"), iterations=25)
    centres = np.array([xy[labels == j].mean(0) for j in range(8)])
    rel = centres - np.array(_CENTRE)
    central = int(np.argmin(np.hypot(*rel.T)))
    bearing = np.mod(np.arctan2(rel[:, 0], rel[:, 1]), 2 * np.pi)
    bearing[central] = -1
    district = np.empty(8, dtype=int)
    district[np.argsort(bearing, kind="stable")] = np.arange(1, 9)
    codes = np.empty(len(xy), dtype=object)
    for j in range(8):
        members = np.flatnonzero(labels == j)
        n_sectors = min(10, max(2, math.ceil(len(members) / 110)))
        sec = _balanced_clusters(xy[members], np.ones(len(members)), n_sectors, _rng(f"sectors {j}"), iterations=20)
        sec_y = np.array([xy[members[sec == s], 1].mean() for s in range(n_sectors)])
        sector_digit = np.empty(n_sectors, dtype=int)
        sector_digit[np.argsort(-sec_y, kind="stable")] = np.arange(n_sectors)
        if n_sectors < 10:
            sector_digit += 1  # sector 0 is rarer in real districts
        for s in range(n_sectors):
            unit_members = members[sec == s]
            # Units run along a rough walk through the sector, as a postman's round would.
            centre = xy[unit_members].mean(0)
            angle = np.arctan2(*(xy[unit_members] - centre).T[::-1])
            unit_members = unit_members[np.argsort(angle, kind="stable")]
            pairs = [a + b for a in _UNIT_LETTERS for b in _UNIT_LETTERS]
            pick = np.sort(_rng(f"units {j} {s}").choice(len(pairs), len(unit_members), replace=False))
            for m, p in zip(unit_members, pick, strict=True):
                codes[m] = f"EB{district[j]} {sector_digit[s]}{pairs[p]}"
    lonlat = np.round(_to_lonlat(xy), 6)
    terminated = rng.random(len(xy)) < 0.025
    doterm = np.where(
        terminated,
        [f"{y}{m:02d}" for y, m in zip(rng.integers(2008, 2025, len(xy)), rng.integers(1, 13, len(xy)), strict=True)],
        "",
    )
    order = np.argsort(codes.astype(str), kind="stable")
    return {
        "pcds": codes[order].astype(str),
        "lonlat": lonlat[order],
        "xy": xy[order],
        "lsoa": owner[order],
        "doterm": doterm[order],
    }


# -- assets ----------------------------------------------------------------------------------

# Weight of each asset type in the register (how common it is), by taxonomy key.
_TYPE_WEIGHT = {
    "vcse_group": 42,
    "growing_hub": 15,
    "allotment": 7,
    "neighbourhood_forum": 17,
    "social_prescribing": 7,
    "wellness_service": 10,
    "community_development": 5,
    "community_centre": 24,
    "volunteer_centre": 3,
    "advice_service": 15,
    "food_bank": 21,
    "library": 7,
    "faith_group": 30,
    "training_provider": 12,
    "sports_club": 20,
    "arts_group": 17,
    "youth_service": 16,
    "health_champions": 8,
    "partnership_board": 3,
    "housing_support": 10,
}

_NAMES = {
    "vcse_group": (
        "{place} Community Action",
        "Friends of {park}",
        "{place} Mutual Aid",
        "{place} Neighbours Network",
        "{place} Good Neighbours",
        "{street} Community Trust",
        "{place} Carers' Circle",
        "{place} Refugee Welcome",
        "{place} Men's Shed",
        "{place} Befriending Scheme",
    ),
    "growing_hub": (
        "{saint} Growing Hub",
        "{place} Community Garden",
        "{street} Growing Space",
        "{park} Orchard Project",
        "{place} Edible Garden",
    ),
    "allotment": ("{street} Allotments", "{place} Allotment Society", "{park} Allotments"),
    "neighbourhood_forum": (
        "{place} Residents' Forum",
        "{street} Tenants' Association",
        "{place} Neighbourhood Forum",
        "{place} Residents' Association",
        "{street} Estate Community Panel",
    ),
    "social_prescribing": ("{place} Social Prescribing Service", "{place} Link Workers", "Health Connect {place}"),
    "wellness_service": ("{place} Wellbeing Hub", "Healthy Living {place}", "{place} Health Trainers"),
    "community_development": ("{place} Community Development Team", "{place} Neighbourhood Team"),
    "community_centre": (
        "{place} Community Centre",
        "{saint} Church Hall",
        "{street} Community Hall",
        "{place} Neighbourhood Centre",
        "The {street} Centre",
    ),
    "volunteer_centre": ("Volunteer Centre {place}", "{place} Council for Voluntary Service"),
    "advice_service": (
        "{place} Advice Centre",
        "{place} Money and Debt Advice",
        "{place} Welfare Rights Service",
        "{place} Housing Advice Surgery",
        "{place} Legal Advice Clinic",
    ),
    "food_bank": (
        "{place} Community Pantry",
        "{place} Food Bank",
        "{street} Community Fridge",
        "{place} Food Club",
        "{saint} Food Bank",
    ),
    "library": ("{place} Library", "{place} Community Library"),
    "faith_group": (
        "{saint} Church",
        "{place} Mosque",
        "{place} Baptist Church",
        "{place} Methodist Church",
        "{place} Gurdwara",
        "{place} Pentecostal Fellowship",
        "{place} Quaker Meeting",
        "{place} Islamic Centre",
        "{place} Hindu Temple",
        "{place} Synagogue",
    ),
    "training_provider": (
        "{place} Adult Learning Centre",
        "{place} Skills Hub",
        "{place} Job Club",
        "{place} Digital Skills Project",
        "{place} Employment Support Service",
    ),
    "sports_club": (
        "{place} Football Club",
        "{park} parkrun",
        "{place} Walking Group",
        "{place} Boxing Club",
        "{place} Cricket Club",
        "{place} Leisure Centre",
        "{place} Netball Club",
        "{park} Running Club",
    ),
    "arts_group": (
        "{place} Community Choir",
        "{place} Arts Collective",
        "{street} Studios",
        "{place} Theatre Group",
        "{place} Steel Band",
        "{place} Craft Circle",
    ),
    "youth_service": (
        "{place} Youth Club",
        "{place} Young People's Project",
        "{street} Youth Centre",
        "{place} Scouts",
        "{place} Girls' Group",
    ),
    "health_champions": ("{place} Health Champions", "{place} Peer Support Network", "{place} Community Champions"),
    "partnership_board": (
        "{place} Health and Wellbeing Partnership",
        "{place} Community Alliance",
        "{place} Anti-Poverty Strategy Board",
    ),
    "housing_support": (
        "{place} Tenancy Support",
        "{place} Homelessness Outreach",
        "{place} Housing Co-operative",
        "{street} Supported Housing Project",
    ),
}

_DESCRIPTIONS = {
    "vcse_group": "Volunteer-run group bringing neighbours together for practical help and social activities.",
    "growing_hub": "Shared growing space with weekly volunteer sessions, seed swaps and cooking from the garden.",
    "allotment": "Allotment plots and a shared tool store; waiting list open to borough residents.",
    "neighbourhood_forum": "Residents meet monthly to discuss local issues and talk to the council and partners.",
    "social_prescribing": "Link workers help people find local activities and support, by GP or self referral.",
    "wellness_service": "Free sessions on healthy eating, getting active and stopping smoking.",
    "community_development": "Council team working with residents and groups to start and grow local activity.",
    "community_centre": "Community building with rooms for hire, a cafe and a weekly programme of groups.",
    "volunteer_centre": "Matches volunteers with local groups and supports groups with funding and governance.",
    "advice_service": "Free, confidential advice on benefits, debt, housing and employment rights.",
    "food_bank": "Food parcels and a low-cost pantry, with signposting to advice services.",
    "library": "Public library with free computers, study space, children's activities and reading groups.",
    "faith_group": "Faith community running a lunch club, a parent and toddler group and a warm space in winter.",
    "training_provider": "Courses in English, maths, digital skills and help with finding work.",
    "sports_club": "Friendly sessions for all abilities; taster sessions are free.",
    "arts_group": "Creative sessions open to all, with performances and exhibitions through the year.",
    "youth_service": "Evening youth sessions, holiday activities and one-to-one support for young people.",
    "health_champions": "Residents trained to share health information and support their neighbours.",
    "partnership_board": "Partners from the council, NHS and VCSE agreeing shared priorities and outcome measures.",
    "housing_support": "Support to find and keep a home, with help for people at risk of homelessness.",
}
_ORGANISATIONS = {
    "library": "Eastbrook Council",
    "community_development": "Eastbrook Council",
    "social_prescribing": "Eastbrook Primary Care Network",
    "wellness_service": "Eastbrook Community Health",
    "partnership_board": "Eastbrook Council",
    "volunteer_centre": "Eastbrook Voluntary Action",
}
_OPENING = (
    "Mon-Fri 9:00-17:00",
    "Tue and Thu 10:00-14:00",
    "Sat 10:00-12:00",
    "Wed 18:30-20:30",
    "Mon, Wed, Fri 10:00-15:00",
    "By appointment",
    "Sun 11:00-13:00",
    "Daily 8:00-20:00",
    "Thu 13:00-16:00",
    "Term time, Mon-Fri 15:30-19:00",
)
_ACCESS = (
    "Step-free access; accessible toilet",
    "Step-free access; hearing loop",
    "Ground floor only",
    "Steps at entrance; ring bell for ramp",
    "Step-free access; quiet room available",
    "",
)
_AUDIENCE = {
    "youth_service": ("Young people aged 11-19", "Young people aged 8-16"),
    "library": ("Everyone",),
    "partnership_board": ("Partner organisations",),
    "housing_support": ("Adults at risk of homelessness", "Tenants"),
    "_": (
        "Everyone",
        "Adults",
        "Older people (60+)",
        "Families with children",
        "Everyone",
        "People with long-term conditions",
        "Everyone",
    ),
}
# Names that say who a group is for, and the audience that goes with them.
_NAMED_AUDIENCE = (
    ("Men's Shed", "Men"),
    ("Girls' Group", "Girls and young women aged 10-18"),
    ("Refugee Welcome", "Refugees and asylum seekers"),
    ("Carers' Circle", "Carers"),
    ("Befriending", "Older people (60+)"),
    ("Scouts", "Young people aged 6-18"),
)
_SENSITIVE = (
    (
        "housing_support",
        "Eastbrook Women's Refuge Outreach",
        "Support for women and children escaping domestic abuse. Location shared on referral only.",
        "Women and children",
    ),
    (
        "vcse_group",
        "Safe Space Survivors' Group",
        "Peer support group for survivors of abuse. Contact by phone before visiting.",
        "Adults",
    ),
    (
        "youth_service",
        "Eastbrook LGBTQ+ Youth Group",
        "Weekly group for LGBTQ+ young people; venue given on registration.",
        "Young people aged 13-19",
    ),
)


# Synonyms that name one kind of place or a real organisation ("mosque", "Citizens Advice"):
# written as a type they would contradict the record's name, so the messy spellings avoid them.
_SPECIFIC_SYNONYMS = frozenset(
    {
        "village hall",
        "church hall",
        "hall",
        "citizens advice",
        "church",
        "mosque",
        "gurdwara",
        "temple",
        "synagogue",
        "park run",
        "leisure centre",
        "theatre",
        "music group",
        "housing association",
        "health and wellbeing board",
        "alliance",
        "cvs",
        "council for voluntary service",
        "link worker",
        "social prescriber",
        "health trainer",
        "community development worker",
        "walking group",
        "arts centre",
        "community fridge",
        "food club",
    }
)


def _slug(text: str) -> str:
    out = "".join(ch.lower() if ch.isalnum() else "-" for ch in text)
    while "--" in out:
        out = out.replace("--", "-")
    return out.strip("-")


def _messy_type(tax: Taxonomy, key: str, rng: np.random.Generator) -> str:
    """Write a type as a register would: mostly the label, sometimes the key or a synonym in odd case."""
    t = tax.asset_type(key)
    roll = rng.random()
    if roll < 0.7 or not t.synonyms:
        return t.label
    if roll < 0.85:
        return t.key
    synonyms = [s for s in t.synonyms if tax.normalise_type(s) == key and s not in _SPECIFIC_SYNONYMS]
    text = str(rng.choice(synonyms)) if synonyms else t.label
    case = rng.integers(3)
    return text.upper() if case == 0 else text.title() if case == 1 else text.lower()


def _assets(
    geo: _Geography,
    ward_ll: np.ndarray,
    dep: dict[str, np.ndarray],
    pc: dict[str, np.ndarray],
    streets: list[_Street],
    patch_names: Sequence[str],
) -> list[dict[str, str]]:
    """Draw the asset register: uneven, a little messy, and with gaps where need is high."""
    rng = _rng("assets")
    tax = load_taxonomy()
    wards_bng = _geoms_to_bng(ward_ll)
    inside = shapely.union_all(wards_bng).buffer(-5)
    shapely.prepare(inside)
    live = np.flatnonzero(pc["doterm"] == "")
    pxy = pc["xy"][live]
    ward_of_pc = np.full(len(pxy), -1)
    hit_pc, hit_w = shapely.STRtree(wards_bng).query(shapely.points(pxy), predicate="within")
    ward_of_pc[hit_pc] = hit_w

    # Need per ward (population-weighted latent deprivation): three deprived wards away from the centre
    # get far fewer assets, so that the gap analysis has real gaps to find.
    w_need = np.array(
        [
            np.average(dep["latent"][geo.lsoa_ward == w], weights=dep["population"][geo.lsoa_ward == w])
            for w in range(len(geo.wards))
        ]
    )
    w_dist = np.hypot(*(shapely.get_coordinates(shapely.point_on_surface(wards_bng)) - np.array(_CENTRE)).T)
    far = np.flatnonzero(w_dist > 1_500)
    starved = far[np.argsort(-w_need[far], kind="stable")[:3]]
    d = np.hypot(*(pxy - np.array(_CENTRE)).T)
    weight = 0.3 + 1.8 * np.exp(-(d**2) / (2 * 1_300.0**2))
    weight *= np.where(np.isin(ward_of_pc, starved), 0.2, 1.0)
    weight /= weight.sum()

    named = [s for s in streets if s.name and s.highway != "footway"]
    name_tree = shapely.STRtree(np.array([s.geom for s in named], dtype=object))
    parks = [p for p in patch_names if p.endswith(("Park", "Fields", "Recreation Ground", "Common"))]

    keys = [t.key for t in tax.asset_types if t.key in _NAMES]  # the demo's own types: new ones leave it as it is
    counts = {k: _TYPE_WEIGHT.get(k, 5) for k in keys}
    type_list = [k for k in keys for _ in range(counts[k])]
    type_list = [type_list[i] for i in rng.permutation(len(type_list))]
    used_names: set[str] = set()
    rows: list[dict[str, str]] = []

    def fill_name(key: str, place: str, street: str) -> str:
        for _ in range(40):
            template = str(rng.choice(_NAMES[key]))
            name = template.format(
                place=place if rng.random() < 0.8 else str(rng.choice(_PLACE_NAMES)),
                street=street.rsplit(" ", 1)[0],
                park=str(rng.choice(parks)),
                saint=str(rng.choice(_SAINTS)),
            )
            if name not in used_names:
                used_names.add(name)
                return name
        name = f"{name} ({len(used_names)})"
        used_names.add(name)
        return name

    def one(
        key: str,
        name: str | None = None,
        description: str | None = None,
        audience: str | None = None,
        sensitive: bool = False,
    ) -> dict[str, str]:
        i = int(rng.choice(len(pxy), p=weight))
        ward = int(ward_of_pc[i])
        place = geo.ward_name[ward] if ward >= 0 else LAD_NAME
        for _ in range(50):
            jitter = pxy[i] + rng.normal(0, 25, 2)
            if shapely.contains_xy(inside, *jitter):
                break
        else:
            jitter = pxy[i]
        near = name_tree.nearest(Point(jitter))
        street = named[int(near)].name or "High Street"
        name = name or fill_name(key, place, street)
        lonlat = np.round(_to_lonlat(jitter[None])[0], 6)
        slug = _slug(name)
        has_phone, has_web, has_email, has_contact = rng.random(4) < (0.7, 0.5, 0.6, 0.4)
        org = _ORGANISATIONS.get(key, name if rng.random() < 0.5 else "")
        charity = (
            f"999{rng.integers(1000, 9999):04d}"
            if key in ("vcse_group", "food_bank", "advice_service", "housing_support", "arts_group")
            and rng.random() < 0.4
            else ""
        )
        first, last = str(rng.choice(_FIRST)), str(rng.choice(_LAST))
        fallback = str(rng.choice(_AUDIENCE.get(key, _AUDIENCE["_"])))
        audience = audience or next((a for word, a in _NAMED_AUDIENCE if word in name), fallback)
        return {
            "name": name,
            "type": _messy_type(tax, key, rng),
            "elements": "",
            "description": description or _DESCRIPTIONS[key],
            "organisation": org,
            "charity_number": charity,
            "address": f"{rng.integers(1, 180)} {street}, {LAD_NAME}",
            "postcode": str(pc["pcds"][live[i]]),
            "latitude": _fmt(lonlat[1], 6),
            "longitude": _fmt(lonlat[0], 6),
            "website": f"https://www.example.org/{slug}" if has_web else "",
            "email": f"{slug.replace('-', '')[:24]}@example.org" if has_email else "",
            "phone": f"020 7946 0{rng.integers(0, 1000):03d}" if has_phone else "",
            "contact_name": f"{first} {last}" if has_contact else "",
            "contact_email": f"{first.lower()}.{_slug(last).replace('-', '')}@example.org" if has_contact else "",
            "opening_times": str(rng.choice(_OPENING)),
            "accessibility": str(rng.choice(_ACCESS)),
            "audience": audience,
            "source": "register",
            "status": "approved",
            "sensitive": "true" if sensitive else "false",
            "last_confirmed": "",
        }

    for key in type_list:
        rows.append(one(key))
    for key, name, description, audience in _SENSITIVE:
        rows.insert(int(rng.integers(len(rows))), one(key, name, description, audience, sensitive=True))
    n = len(rows)

    # Element overrides on about a fifth of rows: the type's elements plus one more, as officers record them.
    for r in rng.choice(n, n // 5, replace=False):
        key = tax.normalise_type(rows[r]["type"])
        base = set(tax.asset_type(key).elements)
        extra = int(rng.choice([e for e in range(1, 12) if e not in base]))
        rows[r]["elements"] = ";".join(str(e) for e in sorted(base | {extra}))

    # Where the record is: 10% coordinates only, 10% postcode only, the rest both.
    modes = rng.permutation(np.r_[np.zeros(n // 10, int), np.ones(n // 10, int), np.full(n - 2 * (n // 10), 2)])
    for r, mode in enumerate(modes):
        if mode == 0:
            rows[r]["postcode"] = ""
        elif mode == 1:
            rows[r]["latitude"] = rows[r]["longitude"] = ""

    # Last confirmed: 15% stale (over two years before the reference date), the rest within two years.
    ref = np.datetime64(REFERENCE_DATE)
    stale = rng.random(n) < 0.15
    days = np.where(stale, rng.integers(731, 2_200, n), rng.integers(1, 729, n))
    for r in range(n):
        rows[r]["last_confirmed"] = str(ref - np.timedelta64(int(days[r]), "D"))

    status = np.array(["approved"] * n, dtype=object)
    pending = rng.choice(n, 8, replace=False)
    status[pending] = "pending"
    status[int(rng.choice(np.flatnonzero(status == "approved")))] = "withdrawn"
    for r in range(n):
        rows[r]["status"] = str(status[r])

    # Near-duplicates: the same group entered again with its name typed differently, at the same postcode.
    with_postcode = [
        r
        for r in range(n)
        if rows[r]["postcode"] and rows[r]["status"] == "approved" and rows[r]["sensitive"] == "false"
    ]
    for k, r in enumerate(rng.choice(with_postcode, 5, replace=False)):
        dup = dict(rows[r])
        name = dup["name"]
        dup["name"] = (
            name.upper(),
            name.lower(),
            name.replace("'", ""),
            name.replace(" ", "  "),
            name.replace(" and ", " & ") if " and " in name else name + ".",
        )[k]
        dup["type"] = _messy_type(tax, tax.normalise_type(dup["type"]), rng)
        dup["last_confirmed"] = str(ref - np.timedelta64(int(rng.integers(30, 1_500)), "D"))
        if rng.random() < 0.5:
            dup["latitude"] = dup["longitude"] = ""  # entered by postcode alone this time
        rows.append(dup)
    for r, row in enumerate(rows):
        row["asset_id"] = f"EBA-{r + 1:04d}"
    return rows


# -- writers -------------------------------------------------------------------------------------


def _ring_text(ring: np.ndarray) -> str:
    return "[" + ",".join(f"[{_fmt(x, 6)},{_fmt(y, 6)}]" for x, y in ring) + "]"


def _polygon_text(poly: Polygon) -> str:
    rings = [np.asarray(poly.exterior.coords)] + [np.asarray(r.coords) for r in poly.interiors]
    return "[" + ",".join(_ring_text(r) for r in rings) + "]"


def _geometry_text(geom: shapely.Geometry) -> str:
    if shapely.get_type_id(geom) == 3:
        return '{"type": "Polygon", "coordinates": ' + _polygon_text(geom) + "}"
    parts = shapely.get_parts(geom)
    return '{"type": "MultiPolygon", "coordinates": [' + ",".join(_polygon_text(p) for p in parts) + "]}"


def _write_geojson(path: Path, name: str, description: str, props: list[dict[str, str]], geoms: np.ndarray) -> None:
    """GeoJSON (RFC 7946), one feature per line, with counter-clockwise exterior rings."""
    geoms = shapely.orient_polygons(geoms, exterior_cw=False)
    head = json.dumps({"type": "FeatureCollection", "name": name, "description": description}, ensure_ascii=False)
    lines = [head[:-1] + ', "features": [']
    for k, (p, g) in enumerate(zip(props, geoms, strict=True)):
        sep = "," if k < len(props) - 1 else ""
        lines.append(
            '{"type": "Feature", "properties": '
            + json.dumps(p, ensure_ascii=False)
            + ', "geometry": '
            + _geometry_text(g)
            + "}"
            + sep
        )
    lines.append("]}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def _xml_attr(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&apos;")
    )


def _write_osm(path: Path, streets: list[_Street]) -> int:
    """Write OSM XML (API 0.6 layout) with one node per junction or bend; return the number of nodes."""
    # Order ways deterministically: main roads first, then by their first vertex.
    keyed = sorted(streets, key=lambda s: (_PRIORITY[s.highway], *np.round(s.geom.coords[0], 1), s.name or ""))
    index: dict[tuple[int, int], int] = {}
    vertex_refs: list[list[int]] = []
    for st in keyed:
        refs = []
        for x, y in np.asarray(st.geom.coords):
            k = (round(x / _NODE_GRID), round(y / _NODE_GRID))  # coordinates sit on the noding grid: exact keys
            refs.append(index.setdefault(k, len(index)))
        vertex_refs.append(refs)
    xy = np.array(list(index), dtype=float) * _NODE_GRID
    # Fuse vertices a few metres apart (a street ending just beside a bend of another) into one node,
    # as a mapper would: such pairs would otherwise leave stub edges shorter than a pavement is wide.
    root = np.arange(len(xy))
    for a, b in sorted(cKDTree(xy).query_pairs(r=4.5)):
        ra, rb = root[a], root[b]
        while root[ra] != ra:
            ra = root[ra]
        while root[rb] != rb:
            rb = root[rb]
        root[max(ra, rb)] = min(ra, rb)
    for i in range(len(root)):
        root[i] = root[root[i]]
    node_id: dict[int, int] = {}
    ways: list[tuple[list[int], _Street]] = []
    for refs, st in zip(vertex_refs, keyed, strict=True):
        way_refs: list[int] = []
        for r in refs:
            nid = node_id.setdefault(int(root[r]), 1_000_001 + len(node_id))
            if not way_refs or way_refs[-1] != nid:
                way_refs.append(nid)
        if len(way_refs) >= 2:
            ways.append((way_refs, st))
    node_xy = xy[list(node_id)]
    ll = _to_lonlat(node_xy)
    lon0, lat0 = ll.min(0)
    lon1, lat1 = ll.max(0)
    out = [
        "<?xml version='1.0' encoding='UTF-8'?>",
        '<osm version="0.6" generator="assetmap demo (fictional data)">',
        f"  <note>{_xml_attr(FICTIONAL_NOTE)}</note>",
        f'  <bounds minlat="{_fmt(lat0, 7)}" minlon="{_fmt(lon0, 7)}" maxlat="{_fmt(lat1, 7)}" maxlon="{_fmt(lon1, 7)}"/>',
    ]
    out += [
        f'  <node id="{1_000_001 + i}" lat="{_fmt(lat, 7)}" lon="{_fmt(lon, 7)}"/>' for i, (lon, lat) in enumerate(ll)
    ]
    for w, (refs, st) in enumerate(ways):
        out.append(f'  <way id="{2_000_001 + w}">')
        out += [f'    <nd ref="{r}"/>' for r in refs]
        out.append(f'    <tag k="highway" v="{st.highway}"/>')
        if st.name:
            out.append(f'    <tag k="name" v="{_xml_attr(st.name)}"/>')
        out.append("  </way>")
    out.append("</osm>")
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return len(node_xy)


_MANIFEST = """\
# assetmap area manifest for the built-in demo area. Fictional demo data: generated by
# `python tools/make_demo.py`; every place, code and figure in this folder is invented.

[area]
name = "{name}"
code = "{code}"
fictional = true
as_of = "{ref}"
description = "{note}"

[layers.boundaries]
path = "boundaries/demo_wards.geojson"
code_col = "WD24CD"
name_col = "WD24NM"
vintage = "Wards, May 2024 (fictional)"

[layers.small_areas]
path = "boundaries/demo_lsoa21.geojson"
code_col = "LSOA21CD"
name_col = "LSOA21NM"
vintage = "LSOA 2021 (fictional)"

[layers.deprivation]
path = "deprivation/demo_iod2025_file7.csv"
vintage = "IoD2025-style (fictional)"

[layers.lookup]
path = "lookups/demo_lsoa21_to_ward24.csv"
lsoa_col = "LSOA21CD"
area_col = "WD24CD"
vintage = "Best-fit LSOA 2021 to ward 2024 lookup (fictional)"

[layers.network]
path = "streets/demo_streets.osm"
source = "fictional"
vintage = "Street network (fictional)"

[layers.postcodes]
path = "postcodes/demo_postcodes.csv"
vintage = "NSPL-style postcode lookup (fictional)"

[[layers.assets]]
path = "assets/demo_assets.csv"
vintage = "Community asset register, June 2026 (fictional)"
"""

_README = """\
# Eastbrook: the fictional demo area

**Everything in this folder is fictional demo data.** Eastbrook is an invented
inner-city borough. Its boundaries, codes, deprivation figures, streets,
postcodes and community assets are made up and describe no real place, people
or organisation. It exists so that assetmap can be tried, taught and tested
without any real data.

The borough is drawn in British National Grid in inner London only so that
distances, projections and densities behave like real data; it does not follow
any real boundary or street. Codes sit in unused GSS ranges so they cannot be
mistaken for real ones: local authority `E09999901`, wards `E05999901`...,
LSOAs `E01999001`... (named "Eastbrook 001A" and so on). Postcodes use the area
`EB`, which does not exist. Websites and emails use the reserved domain
`example.org` and phone numbers are in Ofcom's range for drama (020 7946 0xxx).

## Files

| File | What it holds |
| --- | --- |
| `area.toml` | The manifest assetmap reads: the area's name and its layers. |
| `boundaries/demo_wards.geojson` | {n_wards} wards (WGS84, `WD24CD`, `WD24NM`, `LAD24CD`, `LAD24NM`). |
| `boundaries/demo_lsoa21.geojson` | {n_lsoa} LSOAs (WGS84, `LSOA21CD`, `LSOA21NM`); {n_cross} of them cross a ward boundary. |
| `deprivation/demo_iod2025_file7.csv` | Scores, ranks and deciles in the layout of IoD2025 File 7, with populations (mid 2022 style). |
| `lookups/demo_lsoa21_to_ward24.csv` | Best-fit LSOA to ward lookup in the ONS layout. |
| `streets/demo_streets.osm` | Walkable street network as OpenStreetMap XML ({n_nodes} nodes). |
| `postcodes/demo_postcodes.csv` | {n_postcodes} postcode units in the NSPL layout (`pcds`, `lat`, `long`, `lsoa21`, `doterm`). |
| `assets/demo_assets.csv` | Community asset register of {n_assets} records. |

## How it is made

`python tools/make_demo.py` writes this folder from a fixed random seed, and
writes the same bytes every time; the test suite regenerates it and compares.

- **Borough, LSOAs and wards.** An irregular outline about 6 km by 5 km is cut
  into LSOAs as Voronoi cells of well-spread points (smaller near the centre,
  where people live closer). Wards are compact groups of LSOAs of similar
  population; a few LSOAs have a slice cut off into the next ward, as happens
  where ward boundaries were redrawn after the LSOAs were.
- **Deprivation.** A smooth random surface with a deprived core and east side
  and a few affluent pockets sets each LSOA's position in the national
  distribution; domain scores are correlated with it. Ranks and deciles are
  positions among a simulated England of 33,755 LSOAs whose scores follow the
  shape of the published IoD2025 distribution, so they are consistent with the
  scores (decile = ceil(rank x 10 / 33,755)).
- **Streets.** Neighbourhoods each have a bent, gappy street grid at their own
  angle, with cul-de-sacs and footpaths, bounded by local distributor roads;
  main roads run across the borough and round an inner ring; parks have
  footpaths. Streets meet at shared nodes.
- **Postcodes.** About one unit per 55 residents, placed on streets inside
  their LSOA, grouped into districts EB1 to EB8; a few are terminated.
- **Assets.** Types from the taxonomy (written as labels, keys or synonyms, as
  real registers do), placed unevenly: more in the centre, few in some
  deprived wards so that the gap analysis has gaps to find. The register is
  messy on purpose: near-duplicates, records with only a postcode or only
  coordinates, stale confirmation dates (reference date {ref}), pending and
  withdrawn records, and a few sensitive locations.
"""


def build_demo(out_dir: str | Path | None = None) -> dict[str, Path]:
    """Write the fictional demo area to a folder.

    Parameters
    ----------
    out_dir : str or Path, optional
        Folder to write (created if needed); default
        :data:`assetmap.settings.demo_area_path`. Existing demo files are overwritten.

    Returns
    -------
    dict
        Layer name (``manifest``, ``readme``, ``boundaries``, ``small_areas``,
        ``deprivation``, ``lookup``, ``network``, ``postcodes``, ``assets``) to the file written.
    """
    root = Path(out_dir) if out_dir is not None else settings.demo_area_path
    paths = {
        "manifest": root / "area.toml",
        "readme": root / "README.md",
        "boundaries": root / "boundaries" / "demo_wards.geojson",
        "small_areas": root / "boundaries" / "demo_lsoa21.geojson",
        "deprivation": root / "deprivation" / "demo_iod2025_file7.csv",
        "lookup": root / "lookups" / "demo_lsoa21_to_ward24.csv",
        "network": root / "streets" / "demo_streets.osm",
        "postcodes": root / "postcodes" / "demo_postcodes.csv",
        "assets": root / "assets" / "demo_assets.csv",
    }
    for p in paths.values():
        p.parent.mkdir(parents=True, exist_ok=True)

    geo = _geography()
    ward_ll = _geoms_to_lonlat(geo.wards)
    lsoa_ll = _geoms_to_lonlat(geo.lsoa)
    if not (shapely.is_valid(ward_ll).all() and shapely.is_valid(lsoa_ll).all()):
        raise RuntimeError("demo boundaries became invalid when rounded; change the seed")  # pragma: no cover

    # Best fit as ONS does it: the ward holding the LSOA's (population-weighted) centre, here its
    # representative point, taken from the geometry as written so that loaders agree.
    reps = shapely.point_on_surface(lsoa_ll)
    rep_idx, ward_idx = shapely.STRtree(ward_ll).query(reps, predicate="within")
    best = np.full(len(lsoa_ll), -1)
    best[rep_idx] = ward_idx
    if (best < 0).any() or len(rep_idx) != len(lsoa_ll):
        raise RuntimeError("an LSOA's representative point is not in exactly one ward")  # pragma: no cover

    desc = FICTIONAL_NOTE
    _write_geojson(
        paths["boundaries"],
        f"{LAD_NAME} wards (fictional demo data)",
        desc,
        [
            {"WD24CD": c, "WD24NM": n, "LAD24CD": LAD_CODE, "LAD24NM": LAD_NAME}
            for c, n in zip(geo.ward_code, geo.ward_name, strict=True)
        ],
        ward_ll,
    )
    _write_geojson(
        paths["small_areas"],
        f"{LAD_NAME} LSOAs 2021 (fictional demo data)",
        desc,
        [{"LSOA21CD": c, "LSOA21NM": n} for c, n in zip(geo.lsoa_code, geo.lsoa_name, strict=True)],
        lsoa_ll,
    )

    dep = _deprivation(geo)
    header = [
        "LSOA code (2021)",
        "LSOA name (2021)",
        "Local Authority District code (2024)",
        "Local Authority District name (2024)",
        "Index of Multiple Deprivation (IMD) Score",
        "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)",
        "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)",
    ]
    for _key, label, suffix, _rho, _off in _DOMAINS:
        header += [
            f"{label} {suffix}",
            f"{label} Rank (where 1 is most deprived)",
            f"{label} Decile (where 1 is most deprived 10% of LSOAs)",
        ]
    header += [
        "Total population: mid 2022",
        "Dependent Children aged 0-15: mid 2022",
        "Older population aged 60 and over: mid 2022",
        "Working age population 18-66 (for use with Employment Deprivation Domain): mid 2022",
    ]
    rows = []
    for i in range(len(geo.lsoa)):
        row = [
            geo.lsoa_code[i],
            geo.lsoa_name[i],
            LAD_CODE,
            LAD_NAME,
            _fmt_score(dep["imd_score"][i]),
            str(dep["imd_rank"][i]),
            str(_decile(dep["imd_rank"][i : i + 1])[0]),
        ]
        for key, *_ in _DOMAINS:
            rank = dep[f"{key}_rank"][i]
            row += [_fmt_score(dep[f"{key}_score"][i]), str(rank), str(_decile(np.array([rank]))[0])]
        row += [str(dep[k][i]) for k in ("population", "children", "older", "working")]
        rows.append(row)
    _write_csv(paths["deprivation"], header, rows)

    _write_csv(
        paths["lookup"],
        ["LSOA21CD", "LSOA21NM", "WD24CD", "WD24NM", "LAD24CD", "LAD24NM"],
        [
            [geo.lsoa_code[i], geo.lsoa_name[i], geo.ward_code[best[i]], geo.ward_name[best[i]], LAD_CODE, LAD_NAME]
            for i in range(len(geo.lsoa))
        ],
    )

    streets = _streets(geo.outline)
    n_nodes = _write_osm(paths["network"], streets)

    pc = _postcodes(geo, lsoa_ll, dep["population"], streets)
    _write_csv(
        paths["postcodes"],
        ["pcds", "lat", "long", "lsoa21", "doterm"],
        [
            [
                pc["pcds"][k],
                _fmt(pc["lonlat"][k, 1], 6),
                _fmt(pc["lonlat"][k, 0], 6),
                geo.lsoa_code[pc["lsoa"][k]],
                pc["doterm"][k],
            ]
            for k in range(len(pc["pcds"]))
        ],
    )

    park_names = [
        f"{p} {s}"
        for p, s in zip(
            _PLACE_NAMES[:8],
            ("Park", "Fields", "Common", "Recreation Ground", "Park", "Park", "Fields", "Park"),
            strict=True,
        )
    ]
    assets = _assets(geo, ward_ll, dep, pc, streets, park_names)
    columns = [
        "asset_id",
        "name",
        "type",
        "elements",
        "description",
        "organisation",
        "charity_number",
        "address",
        "postcode",
        "latitude",
        "longitude",
        "website",
        "email",
        "phone",
        "contact_name",
        "contact_email",
        "opening_times",
        "accessibility",
        "audience",
        "source",
        "status",
        "sensitive",
        "last_confirmed",
    ]
    _write_csv(paths["assets"], columns, [[a[c] for c in columns] for a in assets])

    paths["manifest"].write_text(
        _MANIFEST.format(name=AREA_NAME, code=LAD_CODE, note=FICTIONAL_NOTE, ref=REFERENCE_DATE), encoding="utf-8"
    )
    paths["readme"].write_text(
        _README.format(
            n_wards=len(geo.wards),
            n_lsoa=len(geo.lsoa),
            n_cross=len(geo.straddlers),
            n_nodes=f"{n_nodes:,}",
            n_postcodes=f"{len(pc['pcds']):,}",
            n_assets=len(assets),
            ref=REFERENCE_DATE,
        ),
        encoding="utf-8",
    )
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python tools/make_demo.py [--out DIR]``."""
    parser = argparse.ArgumentParser(prog="python tools/make_demo.py", description=build_demo.__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=settings.demo_area_path,
        help=f"folder to write (default: {settings.demo_area_path})",
    )
    args = parser.parse_args(argv)
    paths = build_demo(args.out)
    for name, path in paths.items():
        print(f"{name:12s} {path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
