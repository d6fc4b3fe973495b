"""National scale: a million assets assigned to 7,000 wards and the ward gap table built, against a bare STRtree query.

Synthetic England, generated from a fixed seed: 33,755 LSOA-like polygons (Voronoi cells of random seed
points in a 500 km x 600 km box), 7,000 wards (Voronoi cells grown around 7,000 of those seeds, so each
ward holds at least one LSOA; an LSOA belongs to the ward holding its seed, as in a best-fit lookup), LSOA
populations and IMD scores, residents at each LSOA's representative point, and 1,000,000 approved assets
with one to three random elements each.

Measured, as one pipeline: ``assign_to_areas`` of the assets to the wards; ``element_masks``; the ward
deprivation summary; ``compute_access(residents, assets, graph=None, limit=1200)``, the straight-line
distance from the residents to the nearest asset of each element and pillar (the library's path without a
street network: one pass over the nearby (resident, asset) pairs, found through a grid of cells; checked
against brute force on a sample of residents outside the timing); ``access_shares`` per ward; ``gap_table`` (counts per ward x group, assets per 1,000, need, gap
index).
Baseline: ``shapely.STRtree(ward polygons).query(asset points, predicate="intersects")``, the bare
point-in-polygon step any assignment to wards needs, on the same data; the same query on the 33,755 LSOA
polygons is printed for reference. The jobs take turns, so that a slow spell of a shared machine hits all.
"""

from __future__ import annotations

import resource
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from assetmap import settings
from assetmap.analysis.access import compute_access
from assetmap.analysis.assign import area_index_of_points, assign_to_areas
from assetmap.analysis.deprivation import summarise_deprivation
from assetmap.analysis.gaps import gap_table
from assetmap.analysis.groups import DEFAULT_THRESHOLDS, element_masks, group_keys, group_masks
from assetmap.analysis.shares import access_shares

SEED = 20_261_123
N_LSOAS = 33_755
N_WARDS = 7_000
N_ASSETS = 1_000_000
BOX = (100_000.0, 50_000.0, 600_000.0, 650_000.0)  # 500 km x 600 km in EPSG:27700


def _voronoi(points: np.ndarray, frame: shapely.Polygon) -> np.ndarray:
    cells = shapely.voronoi_polygons(shapely.multipoints(points), extend_to=frame, ordered=True)
    return shapely.intersection(shapely.get_parts(cells), frame)


def make_data(seed: int = SEED) -> dict:
    """Generate the synthetic country: LSOAs, wards, lookup, deprivation, residents and assets."""
    rng = np.random.default_rng(seed)
    lo, hi = np.array(BOX[:2]), np.array(BOX[2:])
    frame = shapely.box(*BOX)
    crs = settings.analysis_crs

    lsoa_codes = np.array([f"E01{i:06d}" for i in range(1, N_LSOAS + 1)], dtype=object)
    seeds = rng.uniform(lo, hi, (N_LSOAS, 2))
    lsoas = gpd.GeoDataFrame({"code": lsoa_codes}, geometry=_voronoi(seeds, frame), crs=crs)
    # Wards grow around 7,000 of the LSOA seeds, so each holds at least one LSOA; an LSOA's seed lies in its
    # own cell, and the ward holding it is the LSOA's best-fit ward.
    ward_codes = np.array([f"E05{i:06d}" for i in range(1, N_WARDS + 1)], dtype=object)
    wards = gpd.GeoDataFrame(
        {"code": ward_codes, "name": [f"Ward {i}" for i in range(1, N_WARDS + 1)]},
        geometry=_voronoi(seeds[rng.choice(N_LSOAS, N_WARDS, replace=False)], frame),
        crs=crs,
    )
    ward_of = area_index_of_points(shapely.points(seeds), wards)
    lookup = pd.DataFrame({"lsoa_code": lsoa_codes, "area_code": ward_codes[ward_of], "weight": 1.0})

    score = rng.lognormal(2.8, 0.6, N_LSOAS).round(3)
    deprivation = pd.DataFrame(
        {
            "lsoa_code": lsoa_codes,
            "imd_score": score,
            "imd_rank": pd.Series(score).rank(ascending=False, method="first").to_numpy(),
            "population": rng.integers(1_000, 3_000, N_LSOAS).astype("float64"),
        }
    )
    deprivation.attrs.update(n_national=N_LSOAS, lsoa_vintage=2021)
    rep = shapely.get_coordinates(shapely.point_on_surface(lsoas.geometry.array))
    residents = pd.DataFrame(
        {"lsoa_code": lsoa_codes, "x": rep[:, 0], "y": rep[:, 1], "population": deprivation["population"]}
    )

    # One to three distinct elements per asset, sorted, as read_assets gives them.
    k = rng.integers(1, 4, N_ASSETS)
    picks = np.argsort(rng.random((N_ASSETS, 11)), axis=1)[:, :3] + 1
    picks = np.sort(np.where(np.arange(3)[None, :] < k[:, None], picks, 0), axis=1)
    elements = [tuple(int(e) for e in row if e) for row in picks.tolist()]
    pts = rng.uniform(lo, hi, (N_ASSETS, 2))
    assets = gpd.GeoDataFrame(
        {"asset_id": np.arange(N_ASSETS), "elements": pd.Series(elements, dtype=object), "status": "approved"},
        geometry=shapely.points(pts),
        crs=crs,
    )
    return {
        "lsoas": lsoas,
        "wards": wards,
        "lookup": lookup,
        "deprivation": deprivation,
        "residents": residents,
        "assets": assets,
    }


def access_frame(assets: gpd.GeoDataFrame, masks: np.ndarray) -> gpd.GeoDataFrame:
    """The assets as ``compute_access`` takes them: points in EPSG:27700, status and ``element_mask``."""
    return gpd.GeoDataFrame(
        {"status": assets["status"], "element_mask": masks}, geometry=assets.geometry, crs=assets.crs
    )


def check_distance(data: dict, distance: pd.DataFrame, masks: np.ndarray, limit: float, sample: int = 500) -> None:
    """Check ``compute_access``'s straight-line distances against brute force on a sample of residents (not timed).

    Every asset within ``limit`` of a sampled resident is found by measuring to all million; a group's
    expected distance is the least over those serving it.
    """
    xy = shapely.get_coordinates(data["assets"].geometry.array)
    rxy = data["residents"][["x", "y"]].to_numpy()
    keys = group_keys()
    bits = group_masks(keys)
    picked = np.random.default_rng(SEED + 1).choice(len(rxy), sample, replace=False)
    got = distance[keys].to_numpy()[picked]
    for row, i in enumerate(picked.tolist()):
        metres = np.hypot(xy[:, 0] - rxy[i, 0], xy[:, 1] - rxy[i, 1])
        near = np.flatnonzero(metres <= limit)
        for col, key in enumerate(keys):
            serving = near[(masks[near] & bits[col]) != 0]
            expected = metres[serving].min(initial=np.inf)
            if not (expected == got[row, col] or np.isclose(expected, got[row, col])):
                raise AssertionError(
                    f"straight-line distance of resident {i} to {key}: {got[row, col]} m, brute force {expected} m."
                )


def pipeline(data: dict, stages: dict[str, float] | None = None) -> pd.DataFrame:
    """Assign the assets to wards and build the ward gap table; ``stages`` collects each step's seconds."""
    clock = [time.perf_counter()]

    def lap(name: str) -> None:
        clock.append(time.perf_counter())
        if stages is not None:
            stages[name] = clock[-1] - clock[-2]

    assets, wards = data["assets"], data["wards"]
    placed = assign_to_areas(assets, wards)
    lap("assign_to_areas")
    masks = element_masks(assets["elements"])
    counted = pd.DataFrame({"area_code": placed["area_code"], "element_mask": masks})
    lap("element masks")
    summary = summarise_deprivation(data["deprivation"], data["lookup"], names=wards[["code", "name"]])
    lap("ward summary")
    access = compute_access(data["residents"], access_frame(assets, masks), graph=None, limit=max(DEFAULT_THRESHOLDS))
    lap("compute_access")
    shares = access_shares(data["residents"], access.distance, data["lookup"])
    lap("access_shares")
    table = gap_table(summary, shares, counted, deprivation=data["deprivation"])
    lap("gap_table")
    return table


def _bare_query(polygons: gpd.GeoDataFrame, points: np.ndarray) -> None:
    shapely.STRtree(polygons.geometry.array).query(points, predicate="intersects")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kilobytes on Linux


def run(repeat: int) -> list:
    from benchmarks.__main__ import Result, interleaved

    start = time.perf_counter()
    data = make_data()
    made = time.perf_counter() - start
    points = np.asarray(data["assets"].geometry.array)
    wards = data["wards"]
    seconds = interleaved(
        {
            "bare": lambda: _bare_query(wards, points),
            "bare_lsoa": lambda: _bare_query(data["lsoas"], points),
            "assign": lambda: assign_to_areas(data["assets"], wards),
            "full": lambda: pipeline(data),
        },
        max(1, min(repeat, 7)),
    )
    stages: dict[str, float] = {}
    table = pipeline(data, stages)
    masks = element_masks(data["assets"]["elements"])
    limit = max(DEFAULT_THRESHOLDS)
    access = compute_access(data["residents"], access_frame(data["assets"], masks), graph=None, limit=limit)
    check_distance(data, access.distance, masks, limit)
    print(
        f"national: data generated in {made:.1f} s; gap table {len(table):,} rows "
        f"({table['code'].nunique() - 1:,} wards x {table['group'].nunique()} groups + whole area); "
        f"peak memory (ru_maxrss) {_peak_mb():,.0f} MB, target < 4,096 MB\n"
        f"national: one run by stage: " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in stages.items()),
        flush=True,
    )
    label = f"{N_ASSETS:,} assets, {N_WARDS:,} wards, {N_LSOAS:,} LSOAs"
    base = seconds["bare"]
    return [
        Result(f"assign_to_areas ({label})", seconds["assign"], "bare STRtree point-in-polygon", base, "<= 2x"),
        Result(
            "assign + ward gap table (straight-line access)",
            seconds["full"],
            "bare STRtree point-in-polygon",
            base,
            "<= 2x",
        ),
        Result(
            "assign + ward gap table (straight-line access)",
            seconds["full"],
            "bare STRtree on the LSOA polygons",
            seconds["bare_lsoa"],
            "reference",
        ),
    ]
