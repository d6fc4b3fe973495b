"""Printed ward maps of the demo borough: one ward's PDF, and a ward pack of every ward.

Measured on the demo area, loaded and with its street network read (as the app keeps them):
``print_ward`` for the ward with the most assets (the map page with the street base and street names,
shading, numbered assets and their placement, inset, legend and scale bar, then the facts and a two-page
index); the same ward given 330 assets spread over it, as a county's busiest ward has (the label placement
and the index pages must grow with the assets, not faster; target under 5 s); ``print_pack`` of all 17 wards
with its contents page, and that time scaled to 20 wards (the target is for 20; the pack does not repeat
wards). Baseline: a bare matplotlib figure of the same A4 size with every ward's polygon in one
collection, saved to PDF: the least a page of this area can cost.
"""

from __future__ import annotations

import io

import numpy as np
import shapely
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure

from assetmap import Area, load_area, settings
from assetmap.render import printmap

PACK_TARGET_WARDS = 20


def _bare_page(area: Area) -> bytes:
    layout = printmap.page_layout()
    paths = [printmap.layers.geom_path(g) for g in area.boundaries.geometry]
    fig = Figure(figsize=(layout.width / 25.4, layout.height / 25.4))
    FigureCanvasAgg(fig)
    ax = fig.add_axes(layout.frac(layout.map))
    ax.add_collection(PathCollection(paths, facecolors="#eeeeee", edgecolors="#333333", linewidths=0.6))
    minx, miny, maxx, maxy = area.boundaries.total_bounds
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    buf = io.BytesIO()
    with PdfPages(buf) as pdf:
        pdf.savefig(fig)
    return buf.getvalue()


BUSY_ASSETS = 330


def _busy_layers(area: Area, code: str) -> printmap.PrintLayers:
    """Return print layers in which ward ``code`` has :data:`BUSY_ASSETS` assets spread over it."""
    layers = printmap.prepare_print(area)
    base = printmap.layers.ward_assets(layers, code)
    geom = area.boundaries.set_index(area.boundaries["code"].astype(str)).loc[code, "geometry"]
    rng = np.random.default_rng(11)
    minx, miny, maxx, maxy = geom.bounds
    xs, ys = rng.uniform(minx, maxx, 4 * BUSY_ASSETS), rng.uniform(miny, maxy, 4 * BUSY_ASSETS)
    inside = shapely.contains_xy(geom, xs, ys)
    rows = base.iloc[np.arange(BUSY_ASSETS) % len(base)].reset_index(drop=True).copy()
    rows["asset_id"] = [f"busy-{i}" for i in range(BUSY_ASSETS)]
    rows["sensitive"] = False
    rows["x"], rows["y"] = xs[inside][:BUSY_ASSETS], ys[inside][:BUSY_ASSETS]
    layers.register.by_ward[code] = rows
    return layers


def run(repeat: int) -> list:
    from benchmarks.__main__ import Result, interleaved, timed

    area = load_area(settings.demo_area_path)
    area.network()
    area.gaps()
    code = str(area.approved_assets().groupby("area_code").size().idxmax())
    n_wards = len(area.boundaries)
    busy = _busy_layers(area, code)
    seconds = interleaved(
        {
            "bare": lambda: _bare_page(area),
            "ward": lambda: printmap.print_ward(area, code),
            "busy": lambda: printmap.print_ward(area, code, layers=busy),
        },
        repeat,
    )
    pack = timed(lambda: printmap.print_pack(area), max(1, repeat // 3))
    pdf = printmap.print_ward(area, code)
    n_assets = int(area.approved_assets()["area_code"].eq(code).sum())
    print(
        f"print: ward {code} with {n_assets} approved assets; its PDF {len(pdf) / 1024:,.0f} KB; "
        f"pack of {n_wards} wards {pack:.1f} s, {pack / n_wards * 1000:,.0f} ms a ward",
        flush=True,
    )
    base = seconds["bare"]
    label = "bare A4 figure of the ward polygons"
    scaled = pack * PACK_TARGET_WARDS / n_wards
    assert np.isfinite(scaled)
    return [
        Result("print_ward (busiest demo ward)", seconds["ward"], label, base, "< 2 s"),
        Result(f"print_ward (a ward of {BUSY_ASSETS} assets)", seconds["busy"], label, base, "< 5 s"),
        Result(f"print_pack ({n_wards} wards, contents)", pack, label, base, "reference"),
        Result(f"print_pack scaled to {PACK_TARGET_WARDS} wards", scaled, label, base, "< 20 s"),
    ]
