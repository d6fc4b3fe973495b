"""Loading an area: the demo borough, against reading the same files bare."""

from __future__ import annotations

import pandas as pd
import pyogrio

from assetmap import load_area, settings
from assetmap.area.manifest import read_manifest


def _bare_read(root) -> None:
    """Baseline: read every layer file with no checks, detection or reprojection."""
    layers = read_manifest(root)["layers"]
    for name in ("boundaries", "small_areas"):
        pyogrio.read_dataframe(root / layers[name]["path"])
    for name in ("deprivation", "lookup", "postcodes"):
        if name in layers:
            pd.read_csv(root / layers[name]["path"], dtype=str)
    for spec in layers.get("assets", []):
        pd.read_csv(root / spec["path"], dtype=str)


def run(repeat: int) -> list:
    from benchmarks.__main__ import Result, timed

    root = settings.demo_area_path
    area = load_area(root)
    base = timed(lambda: _bare_read(root), repeat)
    load = timed(lambda: load_area(root), repeat)
    summary = timed(lambda: load_area(root).area_summary(), repeat)
    return [
        Result(
            f"load demo area ({len(area.boundaries)} wards, {len(area.assets)} assets)",
            load,
            "bare read of the same files",
            base,
            "< 2 s",
        ),
        Result("load + ward deprivation summary", summary, "bare read of the same files", base, "< 2 s"),
    ]
