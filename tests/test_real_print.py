"""A printed ward map of real data: the Manchester ward under the OpenStreetMap extract, with its streets."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
import shapely

from assetmap.analysis import profile
from assetmap.render import printmap

pytestmark = pytest.mark.realdata

pypdf = pytest.importorskip("pypdf")


def test_ward_under_the_extract_prints_with_streets_assets_and_osm_attribution(manchester, artifacts):
    # The extract (named after Levenshulme) lies over its north-western neighbours: print the ward
    # with the most of its street segments.
    segments = printmap.street_segments(manchester.network())
    middles = shapely.points(np.concatenate(list(segments.values())).mean(axis=1))
    wards = manchester.boundaries
    counts = [int(shapely.contains(g, middles).sum()) for g in wards.geometry]
    ward = wards.iloc[int(np.argmax(counts))]
    code, name = str(ward["code"]), str(ward["name"])
    assert max(counts) > 300
    pdf = printmap.print_ward(manchester, code)
    pages = [" ".join(p.extract_text().split()) for p in pypdf.PdfReader(io.BytesIO(pdf)).pages]
    assert f"{name} ({code})" in pages[0]
    assert "Manchester (E08000003)" in pages[0]
    assert "© OpenStreetMap contributors" in pages[0] and "Contains OS data" in pages[0]
    assert "Fictional" not in " ".join(pages)
    assert re.search(r"\b\d+ (m|km)\b", pages[0])
    listed = profile.ward_assets(manchester.assets, code).drop_duplicates("asset_id")
    text = " ".join(pages[1:])
    for name in listed["name"]:
        assert printmap.clean_text(name) in text
    (artifacts / "print_real_manchester.pdf").write_bytes(pdf)
    png = printmap.ward_preview_png(manchester, code, dpi=70)
    (artifacts / "print_real_manchester.png").write_bytes(png)
    assert png.startswith(b"\x89PNG")


def test_whole_manchester_pack_opens(manchester):
    codes = manchester.boundaries.sort_values("name")["code"].astype(str).tolist()[:4]
    pdf = printmap.print_pack(manchester, codes)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 1 + 2 * len(codes)
    assert "Contents" in reader.pages[0].extract_text()
