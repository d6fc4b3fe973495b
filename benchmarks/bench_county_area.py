"""The synthetic county area (:mod:`benchmarks.county_area`): gaps, peak memory, printing and the app.

Each figure beside a baseline measured in the same run:

- gaps by ward and by LSOA, cold (a fresh process: load the area, prepare the street network from the PBF
  with no prepared copy, run the analysis; and again with the prepared copy kept) and warm (network
  prepared; residents, access and summary redone), against the 11 bare ``scipy.sparse.csgraph.dijkstra``
  passes on the same graph and sources (:mod:`benchmarks.bench_borough`); the cold run's peak memory
  (``ru_maxrss`` of its own process);
- the busiest ward printed and a 20-ward pack, each in a fresh process with a time cap
  (``ASSETMAP_BENCH_PRINT_CAP`` seconds, default 600), against a bare A4 figure of the wards
  (:mod:`benchmarks.bench_print`);
- ``assetmap serve`` until healthy, with no prepared network and with one, against the smallest Streamlit
  page's start; the Map page's first visit and an element change, against the smallest page's first
  visit and widget change (:mod:`benchmarks.bench_app`), with the bytes the server sent for each.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from assetmap import Area, server, settings

ROOT = Path(__file__).resolve().parents[1]
PRINT_CAP_S = float(os.environ.get("ASSETMAP_BENCH_PRINT_CAP", "600"))

_COLD = """
import json, resource, sys, time
from assetmap import load_area
start = time.perf_counter()
area = load_area(sys.argv[1])
area.walk_graph()
net = time.perf_counter()
area.gaps()
ward = time.perf_counter()
area.gaps(by="lsoa")
end = time.perf_counter()
print(json.dumps({"network": net - start, "ward": ward - start, "lsoa": end - ward,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

_PRINT = """
import json, resource, sys, time
from assetmap import load_area
from assetmap.render import printmap
area = load_area(sys.argv[1])
area.walk_graph(); area.gaps()
codes = sys.argv[3].split(",")
start = time.perf_counter()
pdf = printmap.print_ward(area, codes[0]) if sys.argv[2] == "ward" else printmap.print_pack(area, codes)
print(json.dumps({"seconds": time.perf_counter() - start, "bytes": len(pdf),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _root(area: Area) -> Path:
    assert area.path is not None
    return Path(area.path)


def _child(script: str, args: list[str], cache_dir: Path, timeout: float | None = None) -> dict | None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ASSETMAP_CACHE_DIR": str(cache_dir)}
    try:
        out = subprocess.run(
            [sys.executable, "-c", script, *args], capture_output=True, text=True, check=True, env=env, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def gaps(area: Area, repeat: int, cache_dir: Path) -> list:
    """Cold (fresh processes) and warm gaps by ward and LSOA, against the bare Dijkstra passes."""
    from benchmarks.__main__ import Result, interleaved
    from benchmarks.bench_borough import _bare, _warm_gaps, check, element_sources

    with tempfile.TemporaryDirectory() as empty:
        cold = _child(_COLD, [str(_root(area))], Path(empty))
    kept = _child(_COLD, [str(_root(area))], cache_dir)
    assert cold is not None and kept is not None
    graph = area.walk_graph()
    sources = element_sources(area, graph)
    seconds = interleaved(
        {"bare": lambda: _bare(graph, sources), "ward": _warm_gaps(area), "lsoa": _warm_gaps(area, by="lsoa")},
        max(1, min(repeat, 3)),
    )
    check(area, graph, sources)
    n_res = len(area.access().residents)
    print(
        f"county gaps: {graph.n_nodes:,} street nodes, {n_res:,} resident points; cold peak memory "
        f"{cold['peak_mb']:,.0f} MB (prepared network kept: {kept['peak_mb']:,.0f} MB); cold network "
        f"{cold['network']:.1f} s, kept {kept['network']:.1f} s",
        flush=True,
    )
    base, label = seconds["bare"], "11 bare dijkstra passes, 1200 m"
    return [
        Result("county gaps by ward, cold (PBF read)", cold["ward"], label, base, "< 30 s"),
        Result("county gaps by ward, cold (network kept)", kept["ward"], label, base, "< 30 s"),
        Result("county gaps by LSOA, after ward (cold run)", cold["lsoa"], label, base, "< 30 s"),
        Result("county gaps by ward, warm", seconds["ward"], label, base, "< 5 s"),
        Result("county gaps by LSOA, warm", seconds["lsoa"], label, base, "< 5 s"),
    ]


def printing(area: Area, cache_dir: Path) -> list:
    """The busiest ward and a 20-ward pack, in fresh processes with a cap, against a bare A4 figure."""
    from benchmarks.__main__ import Result, timed
    from benchmarks.bench_print import _bare_page

    counts = area.approved_assets().groupby("area_code").size().sort_values(ascending=False)
    base = timed(lambda: _bare_page(area), 3)
    label = "bare A4 figure of the ward polygons"
    results = []
    for job, codes, target in (("ward", [str(counts.index[0])], "< 5 s"), ("pack", list(counts.index[:20]), "< 24 s")):
        got = _child(_PRINT, [str(_root(area)), job, ",".join(map(str, codes))], cache_dir, timeout=PRINT_CAP_S)
        name = (
            f"county print, busiest ward ({counts.iloc[0]} assets)" if job == "ward" else "county print, 20-ward pack"
        )
        if got is None:
            print(f"{name}: not finished within the cap of {PRINT_CAP_S:.0f} s", flush=True)
            results.append(Result(f"{name} (> cap)", PRINT_CAP_S, label, base, target))
        else:
            print(f"{name}: {got['bytes'] / 1e6:.1f} MB PDF, peak memory {got['peak_mb']:,.0f} MB", flush=True)
            results.append(Result(name, got["seconds"], label, base, target))
    return results


def _healthy(area_path: Path, log_dir: Path, env: dict[str, str], app: Path | None = None) -> Any:
    """Start a server (as ``assetmap serve`` does); return (seconds to healthy, the context to leave)."""
    kwargs: dict[str, Any] = {"env": env, "timeout_s": 1_800}
    if app is not None:
        kwargs["app"] = app
    context = server.serve(area_path, log_dir, **kwargs)
    start = time.perf_counter()
    url = context.__enter__()
    return time.perf_counter() - start, url, context


class _Bytes:
    """Bytes the server sends a page over its websocket."""

    def __init__(self, page: Any) -> None:
        self.total = 0
        page.on("websocket", lambda ws: ws.on("framereceived", self._add))

    def _add(self, payload: Any) -> None:
        self.total += len(payload)

    def since(self, mark: int) -> int:
        return self.total - mark


def _first_visit(browser: Any, url: str, n_areas: int) -> tuple[float, int, Any, Any, _Bytes]:
    from benchmarks import bench_app

    context, page = bench_app._page(browser)
    sent = _Bytes(page)
    start = time.perf_counter()
    page.goto(url, wait_until="domcontentloaded")
    bench_app._map_ready(page, n_areas)
    return time.perf_counter() - start, sent.total, context, page, sent


def app(area: Area, repeat: int, cache_dir: Path) -> list:
    """Server start, the Map page's first visit and an element change, against the smallest page."""
    from playwright.sync_api import sync_playwright

    from benchmarks import bench_app
    from benchmarks.__main__ import Result

    n_areas, repeat = len(area.boundaries), max(2, min(repeat, 3))
    kept_env = {"ASSETMAP_CACHE_DIR": str(cache_dir)}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = bench_app._browser(p)
        (Path(tmp) / "hello").mkdir()
        hello_start, url, running = _healthy(settings.demo_area_path, Path(tmp) / "hello", {}, app=bench_app.HELLO)
        try:
            bench_app._open_hello(browser, url)  # warm-up
            hello_open = statistics.median(bench_app._open_hello(browser, url) for _ in range(repeat))
            context, page = bench_app._page(browser)
            page.goto(url, wait_until="domcontentloaded")
            page.locator(bench_app.APP_IDLE).wait_for(state="attached", timeout=bench_app.TIMEOUT_MS)
            hello_change = statistics.median(
                bench_app._hello_change(page, ("two", "one")[i % 2]) for i in range(repeat)
            )
            context.close()
        finally:
            running.__exit__(None, None, None)
        starts = {}
        for label, env in (("cold", {"ASSETMAP_CACHE_DIR": str(Path(tmp) / "empty")}), ("kept", kept_env)):
            (Path(tmp) / label).mkdir()
            starts[label], url, running = _healthy(_root(area), Path(tmp) / label, env)
            if label == "cold":
                running.__exit__(None, None, None)
        try:
            first, first_bytes, context, page, sent = _first_visit(browser, url, n_areas)
            print(
                f"county serve: healthy in {starts['cold']:.1f} s (no prepared network), {starts['kept']:.1f} s (kept; "
                f"smallest page's server {hello_start:.1f} s); Map page first visit {first:.1f} s "
                f"(smallest page {hello_open:.1f} s)",
                flush=True,
            )
            changes, change_bytes = [], []
            try:
                bench_app._choose(
                    page, "Shade areas by", "Gap index for Pillar: Strengthening (need x share out of reach)"
                )
                bench_app._map_ready(page, n_areas, legend="Gap index")
                for j in range(repeat):
                    mark = sent.total
                    changes.append(bench_app._change_group(page, bench_app.GROUPS[(j + 1) % 2], n_areas))
                    change_bytes.append(sent.since(mark))
            except Exception as exc:  # a page too slow for the browser's timeout: report what was measured
                print(f"county app: element change not measured ({type(exc).__name__})", flush=True)
            context.close()
        finally:
            running.__exit__(None, None, None)
        browser.close()
    print(
        f"county app: {n_areas} wards, {len(area.approved_assets()):,} assets; the Map page's first visit sent "
        f"{first_bytes / 1e6:.2f} MB over the websocket"
        + (f", each element change {statistics.median(change_bytes) / 1e6:.2f} MB" if change_bytes else ""),
        flush=True,
    )
    results = [
        Result(
            "county serve: healthy, no prepared network",
            starts["cold"],
            "smallest page's server",
            hello_start,
            "< 60 s",
        ),
        Result("county serve: healthy, network kept", starts["kept"], "smallest page's server", hello_start, "< 15 s"),
        Result("county app: Map page, first visit", first, "smallest page, first visit", hello_open, "< 3 s"),
    ]
    if changes:
        results.append(
            Result(
                "county app: element changed, map redrawn",
                statistics.median(changes),
                "smallest page, widget change",
                hello_change,
                "< 1.5 s",
            )
        )
    return results


def run(repeat: int, folder: Path, network: Path, frame: Any) -> list:
    """Create (or find) the county area and measure gaps, printing and the app on it."""
    from benchmarks.bench_beyond import measures
    from benchmarks.county_area import county_area

    area, made = county_area(folder, network, frame)
    print(
        f"county area: {len(area.small_areas):,} LSOAs, {len(area.boundaries)} wards, "
        f"{int(area.deprivation['population'].sum()):,} residents, {len(area.assets):,} assets (ready in {made:.1f} s)",
        flush=True,
    )
    cache_dir = folder / "assetmap-cache"
    settings.cache_dir = cache_dir  # the warm figures and the kept-network runs share one prepared copy
    results = gaps(area, repeat, cache_dir)
    results += measures(area, max(1, min(repeat, 3)), "county ")  # audience and capacity beside presence
    for r in results:
        print(r.line(), flush=True)  # kept should a later part fail
    results += app(area, repeat, cache_dir)
    return results + printing(area, cache_dir)
