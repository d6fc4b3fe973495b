"""County scale: a 300,000-node street network read from OpenStreetMap XML and PBF, against pyosmium's bare pass.

Synthetic county street network, generated from a fixed seed and kept in a cache folder (built once;
``ASSETMAP_BENCH_CACHE``, default ``~/.cache/assetmap-bench``): a 550 x 550 grid of street nodes 100 m apart
(302,500 nodes, 55 km x 55 km, in Kent's latitudes), each moved up to 20 m at random, streets as ways of
ten nodes along the grid's rows and columns, 5% of them footways and 2% motorways (left out), and as many
building outlines (closed ways of four new nodes) as street ways, so that half of all ways are not streets,
as in a Geofabrik extract. Written as ``county.osm`` and, through pyosmium, ``county.osm.pbf``.

Measured, each in a fresh process (so that its peak memory is its own): ``read_street_edges`` and the walk
graph built from it, from XML and from PBF. Baseline: pyosmium's bare pass over the same file (every object
read, nothing kept). Target: within 3x of the bare pass; peak memory scaled to 1.5 million nodes under 2 GB.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

SEED = 20_261_207
SIDE = 550
SPACING_M = 100.0
WAY_NODES = 10
ORIGIN = (51.10, 0.40)  # latitude, longitude: Kent
TARGET_NODES = 1_500_000


def cache_folder() -> Path:
    """Return the folder the synthetic county is kept in."""
    folder = Path(os.environ.get("ASSETMAP_BENCH_CACHE") or Path.home() / ".cache" / "assetmap-bench") / "county"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _ways(rng: np.random.Generator) -> list[tuple[list[int], str]]:
    grid = np.arange(SIDE * SIDE).reshape(SIDE, SIDE) + 1
    ways = []
    for line in (*grid, *grid.T):
        for start in range(0, SIDE - 1, WAY_NODES - 1):
            nodes = line[start : start + WAY_NODES].tolist()
            draw = rng.random()
            ways.append((nodes, "motorway" if draw < 0.02 else "footway" if draw < 0.07 else "residential"))
    return ways


def write_county(folder: Path, seed: int = SEED) -> tuple[Path, Path]:
    """Write ``county.osm`` and ``county.osm.pbf`` into ``folder`` unless they are there; return their paths."""
    xml, pbf = folder / "county.osm", folder / "county.osm.pbf"
    if xml.is_file() and pbf.is_file():
        return xml, pbf
    rng = np.random.default_rng(seed)
    dlat = SPACING_M / 111_320.0
    dlon = SPACING_M / (111_320.0 * np.cos(np.deg2rad(ORIGIN[0])))
    i, j = np.divmod(np.arange(SIDE * SIDE), SIDE)
    lat = ORIGIN[0] + i * dlat + rng.uniform(-0.2, 0.2, i.size) * dlat
    lon = ORIGIN[1] + j * dlon + rng.uniform(-0.2, 0.2, i.size) * dlon
    ways = _ways(rng)
    n_streets = len(ways)
    # Buildings: a 20 m square beside a random street node, four new nodes each.
    corners = rng.integers(0, SIDE * SIDE, n_streets)
    square = np.array([[0.3, 0.3], [0.3, 0.5], [0.5, 0.5], [0.5, 0.3]])
    blat = (lat[corners, None] + square[None, :, 0] * dlat).ravel()
    blon = (lon[corners, None] + square[None, :, 1] * dlon).ravel()
    all_lat, all_lon = np.concatenate([lat, blat]), np.concatenate([lon, blon])
    tmp = xml.with_suffix(".osm.partial")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write("<?xml version='1.0' encoding='UTF-8'?>\n<osm version=\"0.6\" generator=\"assetmap benchmark\">\n")
        for k in range(0, len(all_lat), 50_000):
            fh.writelines(
                f'<node id="{n + 1}" version="1" lat="{a:.7f}" lon="{o:.7f}"/>\n'
                for n, a, o in zip(range(k, k + 50_000), all_lat[k : k + 50_000], all_lon[k : k + 50_000], strict=False)
            )
        for w, (nodes, highway) in enumerate(ways, start=1):
            refs = "".join(f'<nd ref="{n}"/>' for n in nodes)
            fh.write(f'<way id="{w}" version="1">{refs}<tag k="highway" v="{highway}"/></way>\n')
        first = SIDE * SIDE + 1
        for b in range(n_streets):
            ids = [first + 4 * b + c for c in range(4)]
            refs = "".join(f'<nd ref="{n}"/>' for n in [*ids, ids[0]])
            fh.write(f'<way id="{n_streets + b + 1}" version="1">{refs}<tag k="building" v="yes"/></way>\n')
        fh.write("</osm>\n")
    tmp.replace(xml)
    import osmium

    partial = folder / "county.partial.osm.pbf"
    partial.unlink(missing_ok=True)
    with osmium.SimpleWriter(str(partial)) as writer:
        for obj in osmium.FileProcessor(str(xml)):
            writer.add(obj)
    partial.replace(pbf)
    return xml, pbf


_READ = """
import json, resource, sys, time
path, job = sys.argv[1], sys.argv[2]
start = time.perf_counter()
if job == "bare":
    import osmium
    n = sum(1 for _ in osmium.FileProcessor(path))
else:
    from assetmap.analysis.walkgraph import walk_graph_from_edges
    from assetmap.io.network import read_street_edges
    e = read_street_edges(path)
    g = walk_graph_from_edges(e.x, e.y, e.u, e.v, e.length, node_ids=e.node_ids)
    n = g.n_nodes
print(json.dumps({"seconds": time.perf_counter() - start, "n": n,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _in_fresh_process(path: Path, job: str) -> dict:
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run(
        [sys.executable, "-c", _READ, str(path), job], capture_output=True, text=True, check=True, env=env
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(repeat: int) -> list:
    """Generate (or find) the county's network; time each read in fresh processes, taking turns with the baseline."""
    from benchmarks.__main__ import Result

    start = time.perf_counter()
    xml, pbf = write_county(cache_folder())
    made = time.perf_counter() - start
    results = []
    # ASSETMAP_BENCH_COUNTY_NETWORK=0 leaves out the network reads, ASSETMAP_BENCH_COUNTY_AREA=0 the area's figures.
    formats = (("XML", xml), ("PBF", pbf)) if os.environ.get("ASSETMAP_BENCH_COUNTY_NETWORK", "1") != "0" else ()
    for label, path in formats:
        lean, bare = [], []
        for _ in range(max(1, min(repeat, 3))):
            lean.append(_in_fresh_process(path, "lean"))
            bare.append(_in_fresh_process(path, "bare"))
        fast = sorted(lean, key=lambda r: r["seconds"])[len(lean) // 2]
        base = sorted(bare, key=lambda r: r["seconds"])[len(bare) // 2]
        scaled = fast["peak_mb"] * TARGET_NODES / fast["n"]
        print(
            f"county {label}: {path.stat().st_size / 1e6:.0f} MB, {fast['n']:,} walkable nodes (files ready in "
            f"{made:.1f} s); peak memory {fast['peak_mb']:.0f} MB (bare pass {base['peak_mb']:.0f} MB), "
            f"scaled to {TARGET_NODES:,} nodes {scaled:.0f} MB, target < 2,048 MB"
        )
        results.append(
            Result(
                f"county network read, {label} ({fast['n'] // 1000}k nodes)",
                fast["seconds"],
                f"pyosmium bare pass, {label}",
                base["seconds"],
                "<= 3x",
            )
        )
    from benchmarks import bench_county_area
    from benchmarks.county_area import county_frame

    if os.environ.get("ASSETMAP_BENCH_COUNTY_AREA", "1") != "0":
        results += bench_county_area.run(repeat, cache_folder(), pbf, county_frame(SIDE, SPACING_M, ORIGIN))
    return results
