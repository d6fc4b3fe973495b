"""Ward maps for a wall: every paper size and orientation, read back from the PDF.

Text sizes and label boxes come from the PDF itself (pypdf's text positions), so what is checked is what
prints; each map page is also saved as a PNG under test-artifacts/ to be looked at.
"""

from __future__ import annotations

import io
import math
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import shapely

from assetmap.render import printmap
from assetmap.render.printmap.text import MIN_PT, PT_PER_MM, TITLE_PT, Measure

pypdf = pytest.importorskip("pypdf")

SHEETS = [
    ("a4", "landscape", "standard"),
    ("a4", "portrait", "standard"),
    ("a3", "landscape", "standard"),
    ("a3", "portrait", "standard"),
    ("a3", "landscape", "poster"),
    ("a3", "portrait", "poster"),
    ("a2", "landscape", "poster"),
    ("a2", "portrait", "poster"),
]
_LABEL = re.compile(r"^\d+(\u2013\d+)?(  .*)?$")
_MEASURE = Measure()


@dataclass(frozen=True)
class Text:
    text: str
    x: float
    y: float
    size: float


def page_texts(pdf: bytes, page: int) -> list[Text]:
    """Return each text object of a page: its whole string, where it starts (pt) and its size (pt)."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    parts: dict[tuple[float, float], list] = {}

    def visit(text, cm, tm, font, size):
        if not text or font is None:
            return
        key = (round(cm[4], 2), round(cm[5], 2))
        scale = math.hypot(tm[0], tm[1]) * math.hypot(cm[0], cm[1])
        parts.setdefault(key, [key[0], key[1], size * scale, ""])[3] += text

    reader.pages[page].extract_text(visitor_text=visit)
    return [Text(t.strip(), x, y, s) for x, y, s, t in parts.values() if t.strip()]


def all_sizes(pdf: bytes) -> list[float]:
    n = len(pypdf.PdfReader(io.BytesIO(pdf)).pages)
    return [t.size for k in range(n) for t in page_texts(pdf, k)]


def label_boxes(texts: list[Text], frame_pt: tuple[float, float, float, float]) -> list[tuple[float, ...]]:
    """Return the boxes (pt) of the asset labels inside the map frame."""
    x0, y0, w, h = frame_pt
    out = []
    for t in texts:
        if _LABEL.match(t.text) and x0 <= t.x <= x0 + w and y0 <= t.y <= y0 + h:
            width = _MEASURE.width(t.text, t.size, bold=True)
            out.append((t.x, t.y - 0.24 * t.size, t.x + width, t.y + 0.76 * t.size, t.size))
    return out


def map_labels(pdf: bytes, layout) -> list[str]:
    """Return the asset labels on the map page (inside the map frame, not the legend's classes)."""
    x0, y0, w, h = (v * PT_PER_MM for v in layout.map)
    return [t.text for t in page_texts(pdf, 0) if _LABEL.match(t.text) and x0 <= t.x <= x0 + w and y0 <= t.y <= y0 + h]


def overlaps(boxes: list[tuple[float, ...]]) -> list[tuple[int, int]]:
    return [
        (i, j)
        for i, a in enumerate(boxes)
        for j, b in enumerate(boxes[:i])
        if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
    ]


def save_png(pdf: bytes, artifacts: Path, stem: str) -> Path:
    """Save the map page as a PNG (poppler, as a printer sees it; matplotlib's preview without poppler)."""
    src = artifacts / f"{stem}.pdf"
    src.write_bytes(pdf)
    if shutil.which("pdftoppm"):
        subprocess.run(
            ["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", "-singlefile", str(src), str(artifacts / stem)],
            check=True,
            timeout=120,
        )
    return artifacts / f"{stem}.png"


def check_sheet(pdf: bytes, layout, n_places: int) -> list[Text]:
    """Check sizes, the title, the labels and the legend of a printed ward; return the map page's texts."""
    fs = layout.font_scale
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    width, height = (float(v) for v in reader.pages[0].mediabox.upper_right)
    assert (round(width / PT_PER_MM), round(height / PT_PER_MM)) == (round(layout.width), round(layout.height))
    assert len(reader.pages) == 1 if layout.kind == "poster" else len(reader.pages) >= 2
    # No text smaller than the sheet's least size (A3: 10 pt), on any page.
    assert min(all_sizes(pdf)) >= MIN_PT * fs - 0.05
    texts = page_texts(pdf, 0)
    title = max(texts, key=lambda t: t.size)
    assert title.text.startswith("Community assets and deprivation:") and title.size >= TITLE_PT * fs - 0.05
    if layout.paper == "a3":
        assert min(t.size for t in texts) >= 10.0 and title.size >= 28.0
    frame = tuple(v * PT_PER_MM for v in layout.map)
    boxes = label_boxes(texts, frame)
    assert len(boxes) == n_places  # every place drawn has its label
    assert all(b[4] >= (9.0 if layout.paper != "a4" else MIN_PT) for b in boxes)
    assert overlaps(boxes) == []
    # The assets' heading sits right above its first item, in the same column.
    heading = next(t for t in texts if t.text.startswith("Assets (numbers"))
    below = [t for t in texts if 0 < heading.y - t.y < 2.2 * t.size and 0 < t.x - heading.x < 30 * fs * PT_PER_MM]
    assert below, "the Assets heading is split from its items"
    return texts


def legend_deciles(texts: list[Text], layout) -> set[int]:
    x0, y0, w, h = (v * PT_PER_MM for v in layout.legend)
    found = set()
    for t in texts:
        m = re.fullmatch(r"(\d+)( \(most deprived 10%\))?", t.text)
        if m and x0 - 1 <= t.x <= x0 + w and y0 - 100 <= t.y <= y0 + h:
            found.add(int(m.group(1)))
    return found


def ward_deciles(area, code: str) -> set[int]:
    geom = area.boundaries.set_index(area.boundaries["code"].astype(str)).loc[code, "geometry"]
    inside = area.small_areas[area.small_areas.geometry.intersects(geom).to_numpy()]
    deciles = inside["code"].map(area.deprivation.set_index("lsoa_code")["imd_decile"])
    return {int(d) for d in deciles.dropna()}


def n_places(layers, code: str, layout) -> int:
    ward = printmap.content.ward_content(layers, code, layout)
    shown = ward.assets[~ward.assets["sensitive"].astype(bool)]
    return int(shown["place"].nunique())


# -- the busiest demo ward -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_layers(demo):
    return printmap.prepare_print(demo)


@pytest.mark.parametrize(("paper", "orientation", "kind"), SHEETS)
def test_busiest_demo_ward_on_every_sheet(demo, demo_layers, artifacts, paper, orientation, kind):
    code = str(demo.approved_assets().groupby("area_code").size().idxmax())
    layout = printmap.page_layout(paper, orientation, kind)
    pdf = printmap.print_ward(demo, code, paper=paper, orientation=orientation, layout=kind, layers=demo_layers)
    texts = check_sheet(pdf, layout, n_places(demo_layers, code, layout))
    assert legend_deciles(texts, layout) == ward_deciles(demo, code)
    # A ward of many assets lists them by number only; the streets are named.
    joined = " ".join(t.text for t in texts)
    assert "Main road" in joined and "No street map" not in joined
    named = {"Cedar High Road", "Yew Street", "Ivy Lane", "Barrow Lane", "Oak Road", "Damson Lane", "Rope Lane"}
    assert len({n for n in named if n in joined}) >= 4
    save_png(pdf, artifacts, f"print_wall_demo_{paper}_{orientation}_{kind}")


# -- real Manchester wards ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def osm_file(real_data) -> Path:
    return real_data / "osm" / "levenshulme.osm"


@pytest.fixture(scope="module")
def manchester_layers(manchester, osm_file):
    return printmap.prepare_print(manchester, streets=osm_file)


def _under_extract(manchester, layers) -> str:
    """The ward with the most of the extract's streets in it."""
    middles = shapely.points(np.concatenate(list(layers.streets.segments.values())).mean(axis=1))
    counts = [int(shapely.contains(g, middles).sum()) for g in manchester.boundaries.geometry]
    return str(manchester.boundaries["code"].iloc[int(np.argmax(counts))])


@pytest.mark.realdata
@pytest.mark.parametrize(("paper", "orientation", "kind"), SHEETS)
def test_manchester_ward_under_the_osm_extract_on_every_sheet(
    manchester, manchester_layers, artifacts, paper, orientation, kind
):
    code = _under_extract(manchester, manchester_layers)
    layout = printmap.page_layout(paper, orientation, kind)
    pdf = printmap.print_ward(
        manchester, code, paper=paper, orientation=orientation, layout=kind, layers=manchester_layers
    )
    texts = check_sheet(pdf, layout, n_places(manchester_layers, code, layout))
    assert legend_deciles(texts, layout) == ward_deciles(manchester, code)
    joined = " ".join(t.text for t in texts)
    assert "OpenStreetMap)" in joined and "Main road" in joined and "Dickenson Road" in joined
    assert "© OpenStreetMap contributors" in joined
    assert not re.search(r"\.(geojson|csv|osm|gpkg)\b", joined)  # vintages, never file names
    save_png(pdf, artifacts, f"print_wall_manchester_{paper}_{orientation}_{kind}")


@pytest.mark.realdata
@pytest.mark.parametrize(("paper", "orientation"), [("a4", "landscape"), ("a3", "portrait")])
def test_busiest_manchester_ward_names_its_few_assets_and_says_it_has_no_streets(
    manchester, manchester_layers, artifacts, paper, orientation
):
    code = str(manchester.approved_assets().groupby("area_code").size().idxmax())
    layout = printmap.page_layout(paper, orientation)
    pdf = printmap.print_ward(manchester, code, paper=paper, orientation=orientation, layers=manchester_layers)
    texts = check_sheet(pdf, layout, n_places(manchester_layers, code, layout))
    ward = printmap.content.ward_content(manchester_layers, code, layout)
    labels = [t.text for t in texts if _LABEL.match(t.text)]
    # Few assets: each label carries the name too.
    for name in ward.assets["name"]:
        assert any(name[:12] in label for label in labels), name
    joined = " ".join(t.text for t in texts)
    assert "No street map covers this ward" in joined and "Boundaries and streets" not in joined
    save_png(pdf, artifacts, f"print_wall_manchester_busiest_{paper}_{orientation}")
