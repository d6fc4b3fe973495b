"""Printed ward maps: PDFs that open, hold every asset and the attribution, and look like maps."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import X0, Y0, make_tiny_area
from shapely.geometry import Point, box

import assetmap
from assetmap import settings
from assetmap._errors import ValidationError
from assetmap.analysis import profile
from assetmap.analysis.assign import assign_to_areas
from assetmap.render import printmap

pypdf = pytest.importorskip("pypdf")

PDFTOPPM = shutil.which("pdftoppm")


def _pages(pdf: bytes) -> list[str]:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return [" ".join(p.extract_text().split()) for p in reader.pages]


def _png_pages(pdf: bytes, out: Path, stem: str, first: int = 1, last: int = 2, dpi: int = 60) -> list[Path]:
    """Render pages of a PDF to PNG with poppler (as a printer would see them) into ``out``."""
    if PDFTOPPM is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    src = out / f"{stem}.pdf"
    src.write_bytes(pdf)
    subprocess.run(
        [PDFTOPPM, "-png", "-r", str(dpi), "-f", str(first), "-l", str(last), str(src), str(out / stem)],
        check=True,
        timeout=60,
    )
    return sorted(out.glob(f"{stem}-*.png"))


def _ink(png: Path, frac: tuple[float, float, float, float] = (0, 0, 1, 1)) -> float:
    """Share of pixels in a region (left, top, right, bottom as fractions) that are not near-white."""
    from matplotlib.image import imread

    img = imread(str(png))[..., :3]
    h, w = img.shape[:2]
    x0, y0, x1, y1 = frac
    part = img[int(y0 * h) : int(y1 * h), int(x0 * w) : int(x1 * w)]
    return float((part.mean(axis=2) < 0.9).mean())


@pytest.fixture(scope="module")
def demo():
    area = assetmap.load_area(settings.demo_area_path)
    area.network()
    return area


@pytest.fixture(scope="module")
def demo_layers(demo):
    return printmap.prepare_print(demo)


def _busiest(area) -> str:
    return str(area.approved_assets().groupby("area_code").size().idxmax())


# -- the demo borough ------------------------------------------------------------------------------------


def test_demo_ward_pdf_holds_the_map_the_facts_and_every_asset(demo, demo_layers, artifacts):
    code = _busiest(demo)
    pdf = printmap.print_ward(demo, code, layers=demo_layers)
    assert pdf.startswith(b"%PDF")
    pages = _pages(pdf)
    listed = profile.ward_assets(demo.assets, code).drop_duplicates("asset_id")
    name = demo.boundaries.set_index("code").loc[code, "name"]
    # Map page, then facts and the index; this ward's many assets need more than one index page.
    assert len(pages) >= 3
    first = pages[0]
    assert f"{name} ({code})" in first
    assert re.search(r"\b\d+ (m|km)\b", first), "the scale bar's label is on the map page"
    assert "Contains OS data" in first and "Contains National Statistics data" in first
    assert "FICTIONAL DEMO DATA" in first and "Fictional demo data" in first
    assert "IMD decile" in first and "Location in" in first
    assert demo.vintages["deprivation"] in first
    every = " ".join(pages[1:])
    for asset in listed["name"]:
        assert asset in every, asset
    assert "Asset index (continued)" in every
    assert all(f"Page {i + 1} of {len(pages)}" in p for i, p in enumerate(pages))
    # Numbers 1..n label the assets in the index, each once.
    numbers = [int(n) for n in re.findall(r"\b(\d{1,2}) ", every)]
    assert set(range(1, len(listed) + 1)) <= set(numbers)
    # The facts are the ward profile's.
    facts = profile.deprivation_facts(demo.deprivation, demo.lookup, code)
    assert f"Residents {facts.loc['population', 'ward']:,.0f}" in pages[1]
    assert f"{facts.loc['avg_score', 'ward']:.1f}" in pages[1]
    # Private contacts and non-approved records never print.
    text = " ".join(pages)
    for private in demo.assets.loc[demo.assets["area_code"].eq(code), "contact_email"].dropna():
        assert str(private) not in text
    unapproved = demo.assets[demo.assets["area_code"].eq(code) & ~demo.assets["status"].eq("approved")]
    for other in unapproved["name"]:
        assert other not in listed["name"].tolist()

    pngs = _png_pages(pdf, artifacts, f"print_demo_{code}", last=3)
    assert len(pngs) == 3
    assert _ink(pngs[0]) > 0.2, "the map page is not blank"
    # The map frame (left three quarters) is full of shading, streets and symbols.
    assert _ink(pngs[0], (0.05, 0.2, 0.7, 0.85)) > 0.4
    assert _ink(pngs[1]) > 0.02


def test_demo_portrait_a3_gap_shading(demo, artifacts):
    code = str(demo.boundaries["code"].iloc[0])
    pdf = printmap.print_ward(demo, code, paper="a3", orientation="portrait", colour_by="gap", group="e6")
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    width, height = (float(v) for v in reader.pages[0].mediabox.upper_right)
    assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (297, 420)
    first = _pages(pdf)[0]
    assert "Gap index by LSOA, Element 6" in first
    png = _png_pages(pdf, artifacts, f"print_demo_gap_a3_portrait_{code}", last=1)[0]
    assert _ink(png, (0.05, 0.15, 0.95, 0.65)) > 0.3


def test_gap_shading_needs_a_group_and_known_options(demo):
    code = str(demo.boundaries["code"].iloc[0])
    with pytest.raises(ValidationError, match="element or a pillar"):
        printmap.print_ward(demo, code, colour_by="gap")
    with pytest.raises(ValidationError, match="a4, a3 or a2"):
        printmap.print_ward(demo, code, paper="letter")
    with pytest.raises(ValidationError, match="landscape or portrait"):
        printmap.print_ward(demo, code, orientation="sideways")
    with pytest.raises(ValidationError, match="no ward with code"):
        printmap.print_ward(demo, "E05000000")


def test_demo_pack_has_contents_and_every_ward_and_the_zip_one_pdf_each(demo):
    codes = demo.boundaries.sort_values("name")["code"].astype(str).tolist()[:3]
    seen = []
    pdf = printmap.print_pack(demo, codes, progress=lambda done, total, msg: seen.append((done, total)))
    assert seen == [(1, 3), (2, 3), (3, 3)]
    pages = _pages(pdf)
    assert pages[0].startswith(f"Ward pack: {demo.name}") and "Contents" in pages[0]
    names = demo.boundaries.set_index("code")["name"]
    # The contents give each ward's first page, and that page is the ward's map.
    for code in codes:
        match = re.search(rf"{re.escape(code)} [\d,]+ [\d.]+ \d+ (\d+)", pages[0])
        assert match, code
        first = int(match.group(1))
        assert f"{names[code]} ({code})" in pages[first - 1]
        assert "Location in" in pages[first - 1]
    assert all(f"Page {i + 1} of {len(pages)}" in p for i, p in enumerate(pages))

    data = printmap.print_pack_zip(demo, codes)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = zf.namelist()
        assert len(members) == 3 and all(m.endswith(".pdf") for m in members)
        for code, member in zip(codes, members, strict=True):
            assert code in member
            assert f"{names[code]} ({code})" in _pages(zf.read(member))[0]


def test_qr_code_only_with_a_public_address(demo, demo_layers, monkeypatch):
    code = str(demo.boundaries["code"].iloc[1])
    plain = printmap.print_ward(demo, code, layers=demo_layers)
    assert "Scan to open" not in _pages(plain)[0]
    pdf = printmap.print_ward(demo, code, public_url="https://assets.example.org/app/")
    assert "Scan to open" in _pages(pdf)[0]
    # The QR code is the one image on the page, and it encodes the ward's address in the app.
    images = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].images
    assert len(images) == 1
    monkeypatch.setattr(settings, "public_url", "https://assets.example.org")
    assert "Scan to open" in _pages(printmap.print_ward(demo, code))[0]


def test_street_segments_are_drawn_once_and_classed(demo):
    segments = printmap.street_segments(demo.network())
    total = sum(len(v) for v in segments.values())
    undirected = {tuple(sorted((u, v))) for u, v, _ in demo.network().edges(keys=True)}
    assert total == len(undirected)
    assert len(segments["major"]) and len(segments["minor"])
    assert printmap.street_segments(None)["major"].shape == (0, 2, 2)


# -- awkward text ------------------------------------------------------------------------------------------


def test_clean_text_keeps_what_the_font_draws_and_marks_the_rest():
    assert printmap.clean_text("Café <b> & Co") == "Café <b> & Co"
    assert printmap.clean_text("Food 🍎🍏 bank") == f"Food {printmap.PLACEHOLDER} bank"
    assert printmap.clean_text("Family 👨‍👩‍👧 group") == f"Family {printmap.PLACEHOLDER} group"
    assert printmap.clean_text("line\nbreak\tand\x00nul") == "line break and nul"
    assert printmap.clean_text(None) == "" and printmap.clean_text(float("nan")) == ""


def test_wrap_breaks_long_words_within_the_width():
    measure = printmap.text.Measure()
    word = "Supercalifragilistic" * 8
    lines = measure.wrap(f"A {word} end", 100.0, 7.0)
    assert "".join(lines).replace(" ", "") == f"A{word}end"
    assert all(measure.width(line, 7.0) <= 100.0 for line in lines)
    short = measure.wrap(word * 10, 100.0, 7.0, max_lines=3)
    assert len(short) == 3 and short[-1].endswith("\u2026")


def _tiny_with(names: dict[str, str] | None = None, extra: int = 0):
    area = make_tiny_area()
    area._cache.pop("area_summary")
    if names:
        for asset_id, name in names.items():
            area.assets.loc[area.assets["asset_id"] == asset_id, "name"] = name
    if extra:
        rows = []
        template = area.assets[area.assets["asset_id"] == "A3"].iloc[0]
        rng = np.random.default_rng(7)
        for i in range(extra):
            r = template.copy()
            r["asset_id"] = f"X{i:03d}"
            r["name"] = f"Extra group number {i:03d} with a fairly long name to wrap"
            r["geometry"] = Point(X0 + 1_000 + rng.uniform(50, 950), Y0 + rng.uniform(50, 950))
            rows.append(r)
        crs = area.assets.crs
        area.assets = pd.concat([area.assets, pd.DataFrame(rows)], ignore_index=True).set_geometry("geometry", crs=crs)
    return area


HOSTILE = {
    "A1": "<script>alert(1)</script> & Co",
    "A4": "Wellbeing 🎉🍎 Link $x^2$ \\textbf{y}",
    "A3": "Pneumonoultramicroscopicsilicovolcanoconiosis" * 4,
}


def test_hostile_names_print_as_text_without_warnings(artifacts):
    area = _tiny_with(HOSTILE)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph or a maths parse error would warn
        pdf = printmap.print_ward(area, "E05000001")
        long_word = printmap.print_ward(area, "E05000002")
    pages = _pages(pdf)
    text = " ".join(pages)
    assert "<script>alert(1)</script> & Co" in text
    assert f"Wellbeing {printmap.PLACEHOLDER} Link $x^2$ \\textbf{{y}}" in text
    # The long word is broken over lines, every letter kept.
    assert "Pneumonoultramicroscopicsilicovolcanoconiosis" * 4 in "".join(" ".join(_pages(long_word)).split())
    # Private contacts and the sensitive record's location never print; unapproved records never list.
    assert "Private Person Alpha" not in text and "private.alpha@example.org" not in text
    assert "Pending Group Unseen" not in text
    assert "Fictional demo data" in text
    assert "Contains OS data" in text
    pngs = _png_pages(pdf, artifacts, "print_tiny_hostile")
    assert _ink(pngs[0], (0.05, 0.2, 0.7, 0.85)) > 0.1
    pngs = _png_pages(long_word, artifacts, "print_tiny_long_word")
    assert _ink(pngs[1]) > 0.01


def test_sensitive_asset_is_listed_without_address_and_not_drawn():
    area = make_tiny_area()
    area._cache.pop("area_summary")
    layers = printmap.prepare_print(area)
    ward = printmap.content.ward_content(layers, "E05000003", printmap.page_layout())
    hidden = ward.assets[ward.assets["name"].eq("Safe House Hidden Point")]
    assert len(hidden) == 1 and bool(hidden["sensitive"].iloc[0])
    text = " ".join(_pages(printmap.print_ward(area, "E05000003", layers=layers)))
    assert "Safe House Hidden Point" in text
    assert profile.SENSITIVE_ADDRESS in text
    assert "not shown on the map" in text  # the legend says so
    # The map draws only the non-sensitive assets: one symbol fewer than the index lists.
    layout = printmap.page_layout()
    fig = printmap.layout.new_figure(layout)
    printmap.mappage.map_page(fig, layers, ward, layout)
    drawn = sum(len(c.get_offsets()) for c in fig.axes[0].collections if hasattr(c, "get_sizes") and len(c.get_sizes()))
    assert drawn == len(ward.assets) - 1


def test_long_asset_list_flows_onto_more_pages_without_loss(artifacts):
    area = _tiny_with(extra=70)
    pdf = printmap.print_ward(area, "E05000002")
    pages = _pages(pdf)
    assert len(pages) >= 4
    text = " ".join(pages[1:])
    for i in range(70):
        assert f"Extra group number {i:03d}" in text
    assert sum("Asset index (continued)" in p for p in pages) == len(pages) - 2
    pngs = _png_pages(pdf, artifacts, "print_tiny_long_list", first=1, last=len(pages))
    assert all(_ink(p) > 0.01 for p in pngs)


def test_ward_with_no_assets_prints():
    area = make_tiny_area()
    area._cache.pop("area_summary")
    area.assets = area.assets[area.assets["area_code"] != "E05000002"]
    pages = _pages(printmap.print_ward(area, "E05000002"))
    assert len(pages) == 2
    assert "No approved assets are recorded in this ward." in pages[1]


def test_tiny_and_huge_wards_print(artifacts):
    area = make_tiny_area()
    area._cache.pop("area_summary")
    # A 20 m square ward beside one 40 km across (a rural ward), sharing the LSOAs.
    area.boundaries.loc[0, "geometry"] = box(X0 + 480, Y0 + 480, X0 + 500, Y0 + 500)
    area.boundaries.loc[2, "geometry"] = box(X0 - 20_000, Y0 - 20_000, X0 + 23_000, Y0 + 20_000).difference(
        box(X0, Y0, X0 + 2_000, Y0 + 1_000)
    )
    area.assets[["area_code", "area_name"]] = assign_to_areas(area.assets, area.boundaries)
    for code, stem, ink in (("E05000001", "tiny", 0.001), ("E05000003", "huge", 0.01)):
        pdf = printmap.print_ward(area, code)
        first = _pages(pdf)[0]
        assert f"({code})" in first and re.search(r"\b\d+ (m|km)\b", first)
        png = _png_pages(pdf, artifacts, f"print_{stem}_ward", last=1)[0]
        assert _ink(png, (0.05, 0.2, 0.7, 0.85)) > ink


def test_pack_of_unknown_ward_is_refused_before_any_work():
    area = make_tiny_area()
    with pytest.raises(ValidationError, match="E05999999"):
        printmap.print_pack(area, ["E05000001", "E05999999"])


def test_ward_file_names_are_safe():
    assert printmap.ward_file_name("E05000001", "Riverside & Docks") == "ward_E05000001_Riverside_Docks.pdf"
    assert printmap.ward_file_name("E05000002", "../../etc/passwd") == "ward_E05000002_etc_passwd.pdf"
    assert printmap.ward_file_name("E05000003", "😀") == "ward_E05000003.pdf"


def test_print_ward_is_public():
    assert assetmap.print_ward is printmap.print_ward


@pytest.fixture(scope="module")
def tile_server():
    """A tile server on 127.0.0.1 answering every tile with one plain 256 x 256 PNG, counting requests."""
    import http.server
    import threading

    from matplotlib.figure import Figure

    fig = Figure(figsize=(2.56, 2.56), dpi=100)
    fig.patch.set_facecolor("#88aadd")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    png = buf.getvalue()
    hits: list[str] = []

    class Tiles(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(png)))
            self.end_headers()
            self.wfile.write(png)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Tiles)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{{z}}/{{x}}/{{y}}.png", hits
    finally:
        server.shutdown()


def test_online_tiles_are_an_option(demo, tile_server, tmp_path):
    url, hits = tile_server
    code = _busiest(demo)
    plain = pypdf.PdfReader(io.BytesIO(printmap.print_ward(demo, code)))
    assert not list(plain.pages[0].images)  # by default no tiles, no request
    assert not hits
    pdf = printmap.print_ward(demo, code, tiles=url)
    first = pypdf.PdfReader(io.BytesIO(pdf)).pages[0]
    assert hits and all(re.fullmatch(r"/\d+/\d+/\d+\.png", h) for h in hits)
    assert list(first.images)  # the tiles are in the map
    assert "could not be fetched" not in _pages(pdf)[0]


def test_unreachable_tiles_print_without_them_and_say_so(demo):
    from assetmap.server import free_port

    url = f"http://127.0.0.1:{free_port()}/{{z}}/{{x}}/{{y}}.png"  # nothing listens there
    pdf = printmap.print_ward(demo, _busiest(demo), tiles=url)
    assert "Online map tiles could not be fetched; printed without them." in _pages(pdf)[0]


def test_a_ward_whose_access_cannot_be_measured_is_refused_not_printed_with_the_error():
    area = make_tiny_area()
    area.deprivation.loc[0, "population"] = np.nan
    code = str(area.boundaries["code"].iloc[0])
    with pytest.raises(ValidationError, match="no population"):
        printmap.print_ward(area, code)
