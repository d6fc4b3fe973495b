"""The synthetic county as an area folder: boundaries, deprivation, lookup and assets over the county's streets.

Generated from a fixed seed inside the street grid of :mod:`benchmarks.bench_county` (50 km x 50 km, the
grid less a 2.5 km margin) and created through the project's own :func:`assetmap.init_area`, once: the
files and the area folder are kept in the county cache folder and found there by later runs.

- 1,000 LSOAs: Voronoi cells of random seed points, their edges cut every 25 m and moved by a smooth
  random field (the same field for both sides of a shared edge, so they stay a coverage) to about 250
  vertices each, like a real LSOA's surveyed boundary;
- 200 wards: each the union of the LSOAs whose seed is nearest one of 200 of those seeds (a best-fit
  lookup, written as a CSV);
- an IoD 2025 File 7-shaped CSV: LSOA code and name, district, IMD score, rank and decile, and the
  mid-2022 population, 1.4 million residents in all;
- 20,000 approved assets in a register CSV, their types drawn evenly from the taxonomy, placed in LSOAs
  drawn with lognormal weights so that some wards are much busier than others.
"""

from __future__ import annotations

import csv
import shutil
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from assetmap import Area, LayerOptions, init_area, load_area
from assetmap.taxonomy import load_taxonomy

SEED = 20_261_208
N_LSOAS = 1_000
N_WARDS = 200
N_RESIDENTS = 1_400_000
N_ASSETS = 20_000
MARGIN_M = 2_500.0
SEGMENT_M = 25.0
WIGGLE_M = 25.0
CRS = "EPSG:27700"


def county_frame(side: int, spacing: float, origin: tuple[float, float]) -> shapely.Polygon:
    """The street grid's footprint in EPSG:27700, less the margin."""
    dlat = spacing / 111_320.0
    dlon = spacing / (111_320.0 * np.cos(np.deg2rad(origin[0])))
    lat = origin[0] + np.array([0, 0, side - 1, side - 1]) * dlat
    lon = origin[1] + np.array([0, side - 1, side - 1, 0]) * dlon
    x, y = pyproj.Transformer.from_crs("EPSG:4326", CRS, always_xy=True).transform(lon, lat)
    return shapely.Polygon(np.column_stack([x, y])).buffer(-MARGIN_M, join_style="mitre")


def _wiggle(geoms: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Cut edges every SEGMENT_M and move each vertex by a smooth field of its position (shared edges alike)."""
    waves = [
        (rng.uniform(0, 2 * np.pi), 2 * np.pi / rng.uniform(250, 900), rng.uniform(0, 2 * np.pi)) for _ in range(6)
    ]

    def move(xy: np.ndarray) -> np.ndarray:
        dx = np.zeros(len(xy))
        dy = np.zeros(len(xy))
        for k, (angle, wavenumber, phase) in enumerate(waves):
            s = np.sin(wavenumber * (xy[:, 0] * np.cos(angle) + xy[:, 1] * np.sin(angle)) + phase)
            if k % 2:
                dx += s
            else:
                dy += s
        return xy + WIGGLE_M / 3 * np.column_stack([dx, dy])

    return shapely.transform(shapely.segmentize(geoms, SEGMENT_M), move)


def _geography(rng: np.random.Generator, frame: shapely.Polygon) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """LSOA polygons, the ward of each LSOA, and the ward polygons."""
    minx, miny, maxx, maxy = frame.bounds
    seeds = np.empty((0, 2))
    while len(seeds) < N_LSOAS:
        draw = rng.uniform((minx, miny), (maxx, maxy), (N_LSOAS, 2))
        seeds = np.concatenate([seeds, draw[shapely.contains_xy(frame, draw[:, 0], draw[:, 1])]])
    seeds = seeds[:N_LSOAS]
    cells = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=frame, ordered=True)
    cells = shapely.intersection(shapely.get_parts(cells), frame)
    # To the centimetre, so that the two copies of a shared edge, cut from either end, match exactly.
    lsoas = shapely.set_precision(_wiggle(cells, rng), 0.01)
    # Wards: the LSOAs nearest each of N_WARDS of the seeds; each ward holds at least its own seed's LSOA.
    centres = seeds[rng.choice(N_LSOAS, N_WARDS, replace=False)]
    ward_of = np.argmin(((seeds[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2), axis=1)
    wards = np.array([shapely.union_all(lsoas[ward_of == w]) for w in range(N_WARDS)], dtype=object)
    return lsoas, ward_of, wards


def _write_geojson(path: Path, codes: list[str], names: list[str], geoms: np.ndarray, prefix: str) -> None:
    frame = gpd.GeoDataFrame({f"{prefix}CD": codes, f"{prefix}NM": names}, geometry=geoms, crs=CRS)
    frame.to_crs("EPSG:4326").to_file(path, driver="GeoJSON", COORDINATE_PRECISION=6)


def _write_iod(path: Path, codes: list[str], names: list[str], rng: np.random.Generator) -> None:
    population = rng.uniform(1_000, 1_800, N_LSOAS)
    population = np.round(population * N_RESIDENTS / population.sum()).astype(int)
    population[0] += N_RESIDENTS - population.sum()
    score = rng.lognormal(2.8, 0.6, N_LSOAS)
    # National ranks: the county's LSOAs spread over England's 33,755 by their scores.
    rank = np.empty(N_LSOAS, dtype=int)
    rank[np.argsort(-score)] = np.sort(rng.choice(np.arange(1, 33_756), N_LSOAS, replace=False))
    decile = np.minimum(10, (rank - 1) * 10 // 33_755 + 1)
    header = [
        "LSOA code (2021)",
        "LSOA name (2021)",
        "Local Authority District code (2024)",
        "Local Authority District name (2024)",
        "Index of Multiple Deprivation (IMD) Score",
        "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)",
        "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)",
        "Total population: mid 2022",
        "Dependent Children aged 0-15: mid 2022",
        "Older population aged 60 and over: mid 2022",
    ]
    # Residents by age (for audience access), from their own draws so the rest of the county is unchanged.
    ages = np.random.default_rng(SEED + 7)
    children = np.round(population * ages.uniform(0.14, 0.26, N_LSOAS)).astype(int)
    older = np.round(population * ages.uniform(0.14, 0.32, N_LSOAS)).astype(int)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(header)
        out.writerows(
            [
                *(codes[i], names[i], "E10999999", "Benchshire", f"{score[i]:.3f}", rank[i], decile[i]),
                *(population[i], children[i], older[i]),
            ]
            for i in range(N_LSOAS)
        )


def _write_assets(path: Path, lsoas: np.ndarray, rng: np.random.Generator) -> None:
    """N_ASSETS approved assets, types drawn evenly, in LSOAs drawn with lognormal weights."""
    weights = rng.lognormal(0.0, 0.6, N_LSOAS)
    home = rng.choice(N_LSOAS, N_ASSETS, p=weights / weights.sum())
    points = np.empty((N_ASSETS, 2))
    for i in np.unique(home):
        at = np.flatnonzero(home == i)
        minx, miny, maxx, maxy = shapely.bounds(lsoas[i])
        found = np.empty((0, 2))
        while len(found) < len(at):
            draw = rng.uniform((minx, miny), (maxx, maxy), (4 * len(at), 2))
            found = np.concatenate([found, draw[shapely.contains_xy(lsoas[i], draw[:, 0], draw[:, 1])]])
        points[at] = found[: len(at)]
    lon, lat = pyproj.Transformer.from_crs(CRS, "EPSG:4326", always_xy=True).transform(points[:, 0], points[:, 1])
    types = [t.label for t in load_taxonomy().asset_types]
    kind = rng.integers(0, len(types), N_ASSETS)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["asset_id", "name", "type", "latitude", "longitude", "status", "last_confirmed"])
        out.writerows(
            [
                f"BEN-{i + 1:05d}",
                f"{types[kind[i]]} {i + 1}",
                types[kind[i]],
                f"{lat[i]:.6f}",
                f"{lon[i]:.6f}",
                "approved",
                "2026-06-01",
            ]
            for i in range(N_ASSETS)
        )


def write_files(folder: Path, frame: shapely.Polygon, seed: int = SEED) -> dict[str, Path]:
    """Write the county's boundary, deprivation, lookup and asset files into ``folder`` unless they are there."""
    paths = {
        "boundaries": folder / "wards.geojson",
        "small_areas": folder / "lsoas.geojson",
        "imd": folder / "iod2025_file7_ages.csv",  # with residents by age: files without them are rewritten
        "lookup": folder / "lsoa_to_ward.csv",
        "assets": folder / "assets.csv",
    }
    if all(p.is_file() for p in paths.values()):
        return paths
    rng = np.random.default_rng(seed)
    lsoas, ward_of, wards = _geography(rng, frame)
    lsoa_codes = [f"E01{990_001 + i:06d}" for i in range(N_LSOAS)]
    lsoa_names = [f"Benchshire {i // 4 + 1:03d}{'ABCD'[i % 4]}" for i in range(N_LSOAS)]
    ward_codes = [f"E05{990_001 + w:06d}" for w in range(N_WARDS)]
    ward_names = [f"Ward {w + 1}" for w in range(N_WARDS)]
    partial = folder / "partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    _write_geojson(partial / paths["small_areas"].name, lsoa_codes, lsoa_names, lsoas, "LSOA21")
    _write_geojson(partial / paths["boundaries"].name, ward_codes, ward_names, wards, "WD24")
    _write_iod(partial / paths["imd"].name, lsoa_codes, lsoa_names, rng)
    with open(partial / paths["lookup"].name, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["LSOA21CD", "WD24CD"])
        out.writerows([lsoa_codes[i], ward_codes[ward_of[i]]] for i in range(N_LSOAS))
    _write_assets(partial / paths["assets"].name, lsoas, rng)
    for path in paths.values():
        (partial / path.name).replace(path)
    partial.rmdir()
    return paths


def county_area(folder: Path, network: Path, frame: shapely.Polygon) -> tuple[Area, float]:
    """Return the county area (created with ``init_area`` unless kept from an earlier run) and seconds it took."""
    target = folder / "area-ages"  # the county with residents by age
    start = time.perf_counter()
    if (target / "area.toml").is_file():
        return load_area(target), time.perf_counter() - start
    files = write_files(folder, frame)
    options = LayerOptions(lookup=files["lookup"], network=network, assets=[files["assets"]])
    area = init_area(
        target,
        boundaries=files["boundaries"],
        small_areas=files["small_areas"],
        imd=files["imd"],
        options=options,
        name="Benchshire (synthetic county)",
        overwrite=True,
    )
    return area, time.perf_counter() - start
