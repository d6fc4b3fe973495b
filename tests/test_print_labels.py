"""What a printed ward map shows of its assets and its base: grouped places, names, shading, the street base."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection
from test_print_wall import check_sheet, label_boxes, map_labels, overlaps, page_texts, save_png

from assetmap import load_area, settings
from assetmap.cli import main
from assetmap.render import printmap
from assetmap.render.printmap.content import display_name, ward_content
from assetmap.render.printmap.labels import Occupied, place_labels
from assetmap.render.printmap.layout import new_figure
from assetmap.render.printmap.mappage import map_page
from assetmap.render.printmap.text import PT_PER_MM

pypdf = pytest.importorskip("pypdf")


def _busiest(area) -> str:
    return str(area.approved_assets().groupby("area_code").size().idxmax())


def busy_ward(layers, code: str, n: int, seed: int = 7) -> pd.DataFrame:
    """Give ward ``code`` ``n`` assets spread over it (a few sharing an address), as a county's busiest ward has."""
    base = printmap.layers.ward_assets(layers, code)
    geom = layers.area.boundaries.set_index(layers.area.boundaries["code"].astype(str)).loc[code, "geometry"]
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = geom.bounds
    import shapely

    pts: list[tuple[float, float]] = []
    while len(pts) < n:
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if shapely.contains_xy(geom, x, y):
            pts.append((x, y))
            if len(pts) % 25 == 0 and len(pts) < n:
                pts.append((x, y))  # two at one address
    rows = base.iloc[np.arange(n) % len(base)].reset_index(drop=True).copy()
    rows["asset_id"] = [f"busy-{i}" for i in range(n)]
    rows["name"] = [f"Busy place {i}" for i in range(n)]
    rows["sensitive"] = False
    rows["x"], rows["y"] = np.array(pts[:n]).T
    layers.register.by_ward[code] = rows
    return rows


def test_a_busy_ward_of_330_assets_labels_every_place_without_overlap(demo, artifacts):
    layers = printmap.prepare_print(demo)
    code = _busiest(demo)
    busy_ward(layers, code, 330)
    layout = printmap.page_layout("a3", "landscape")
    pdf = printmap.print_ward(demo, code, paper="a3", layers=layers)
    ward = ward_content(layers, code, layout)
    assert len(ward.assets) == 330 and ward.assets["place"].nunique() < 330
    check_sheet(pdf, layout, int(ward.assets["place"].nunique()))
    index = " ".join(" ".join(p.extract_text().split()) for p in pypdf.PdfReader(__import__("io").BytesIO(pdf)).pages)
    assert "Busy place 329" in index
    save_png(pdf, artifacts, "print_busy_ward_330_a3")


def test_placement_never_overlaps_and_grows_with_the_labels_not_their_square():
    rng = np.random.default_rng(3)
    pts = rng.uniform(0, 200, size=(400, 2))
    occupied = Occupied()
    placed = place_labels(pts, [(6.0, 3.5)] * len(pts), (0, 0, 200, 200), occupied, gap=1.5)
    boxes = [(*p.box, 0) for p in placed if p is not None]
    assert len(boxes) == 400 and overlaps(boxes) == []
    assert any(p.leader for p in placed if p is not None)  # crowded ones moved out, with a leader line
    # The grid holds each box in the few cells it covers: far fewer look-ups than pairs of boxes.
    assert sum(len(v) for v in occupied._grid.values()) < 6 * len(boxes)


def test_assets_at_one_address_share_a_symbol_numbered_as_a_range(demo):
    layers = printmap.prepare_print(demo)
    code = _busiest(demo)
    rows = printmap.layers.ward_assets(layers, code).copy()
    # The 1st, 5th and 9th assets of the index at one address: they become 1-3, next to each other.
    rows.loc[[4, 8], ["x", "y"]] = rows.loc[0, ["x", "y"]].to_numpy()
    rows["sensitive"] = False
    layers.register.by_ward[code] = rows
    layout = printmap.page_layout()
    ward = ward_content(layers, code, layout)
    assert ward.assets["asset_id"].head(3).tolist() == rows["asset_id"].iloc[[0, 4, 8]].tolist()
    labels = map_labels(printmap.print_ward(demo, code, layers=layers), layout)
    assert "1\u20133" in labels and "2" not in labels and "3" not in labels


def test_a_record_with_no_real_name_is_printed_by_its_type(demo):
    assert display_name("Unknown", "Library") == "Library"
    assert display_name("  ", "Food bank") == "Food bank"
    assert display_name("The Unknown Café", "Café") == "The Unknown Café"
    layers = printmap.prepare_print(demo)
    code = _busiest(demo)
    rows = printmap.layers.ward_assets(layers, code).copy()
    rows.loc[0, "name"] = "Unknown"
    layers.register.by_ward[code] = rows
    pdf = printmap.print_ward(demo, code, layers=layers)
    text = " ".join(" ".join(p.extract_text().split()) for p in pypdf.PdfReader(__import__("io").BytesIO(pdf)).pages)
    assert "Unknown" not in text and rows.loc[0, "type"] in text


def test_few_assets_are_named_on_the_map_up_to_the_setting(demo, monkeypatch):
    layers = printmap.prepare_print(demo)
    code = _busiest(demo)
    rows = printmap.layers.ward_assets(layers, code).head(4).copy()
    layers.register.by_ward[code] = rows
    layout = printmap.page_layout()
    labels = map_labels(printmap.print_ward(demo, code, layers=layers), layout)
    assert any(printmap.clean_text(rows["name"].iloc[0])[:20] in label for label in labels)
    monkeypatch.setattr(settings, "print_names_up_to", 3)
    labels = map_labels(printmap.print_ward(demo, code, layers=layers), layout)
    assert sorted(labels, key=int) == ["1", "2", "3", "4"]


def test_a_ward_all_in_one_decile_still_shows_its_lsoas_and_streets(demo):
    layers = printmap.prepare_print(demo)
    code = _busiest(demo)
    one = layers.lsoa_colours[0]
    layers.lsoa_colours = [one] * len(layers.lsoa_colours)  # every LSOA the same shade
    layout = printmap.page_layout()
    fig = new_figure(layout)
    map_page(fig, layers, ward_content(layers, code, layout), layout)
    ax = fig.axes[0]
    colls = [c for c in ax.collections if isinstance(c, PathCollection)]
    fills = [c for c in colls if len(c.get_facecolors()) and c.get_alpha() is not None]
    edges = [c for c in colls if not len(c.get_facecolors()) and len(c.get_paths()) > 1]
    assert fills and fills[0].get_alpha() < 0.8  # streets and edges show through the shade
    assert edges and edges[0].get_zorder() > fills[0].get_zorder()  # LSOA edges over the shade
    assert np.allclose(edges[0].get_edgecolors()[0][:3], 1.0)
    streets = [p for p in ax.patches if p.get_zorder() == 3.0]
    assert streets and all(p.get_zorder() > fills[0].get_zorder() for p in streets)


@pytest.fixture
def demo_without_network(tmp_path):
    folder = tmp_path / "eastbrook"
    shutil.copytree(settings.demo_area_path, folder)
    toml = (folder / "area.toml").read_text()
    toml = re.sub(r"\[layers\.network\][^\[]*", "", toml)
    (folder / "area.toml").write_text(toml)
    return folder


def test_no_street_base_is_said_in_the_legend_and_by_the_cli_with_the_flag(demo_without_network, tmp_path, capsys):
    out = tmp_path / "ward.pdf"
    ward = "E05999905"
    assert main(["print", "--area", str(demo_without_network), "--ward", ward, "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "warning: 1 ward printed with no streets under the map (E05999905)" in err and "--streets FILE" in err
    joined = " ".join(t.text for t in page_texts(out.read_bytes(), 0))
    assert "No street map covers this ward" in joined and "Boundaries and streets" not in joined
    # The same streets given as a file: a base again, no warning.
    streets = settings.demo_area_path / "streets" / "demo_streets.osm"
    args = ["print", "--area", str(demo_without_network), "--ward", ward, "--streets", str(streets), "--out", str(out)]
    assert main(args) == 0
    assert "warning" not in capsys.readouterr().err
    joined = " ".join(t.text for t in page_texts(out.read_bytes(), 0))
    assert "Boundaries and streets" in joined and "No street map" not in joined


def test_a_streets_file_kept_in_the_area_is_the_base(demo_without_network):
    folder = demo_without_network
    with (folder / "area.toml").open("a") as fh:
        fh.write('\n[layers.streets]\npath = "streets/demo_streets.osm"\n')
    area = load_area(folder)
    layers = printmap.prepare_print(area)
    assert not layers.streets.empty


def test_a_bad_streets_file_is_refused_naming_the_file(demo_without_network, tmp_path, capsys):
    bad = tmp_path / "roads.txt"
    bad.write_text("not a map\n")
    out = tmp_path / "ward.pdf"
    args = [
        "print",
        "--area",
        str(demo_without_network),
        "--ward",
        "E05999905",
        "--streets",
        str(bad),
        "--out",
        str(out),
    ]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "roads.txt" in err and "--streets" in err and "Traceback" not in err
    assert not out.exists()


def test_a_poster_has_one_sheet_with_the_first_ten_assets_and_a_qr_code(demo, monkeypatch):
    layers = printmap.prepare_print(demo, public_url="https://assets.example.org")
    code = _busiest(demo)
    layout = printmap.page_layout("a2", "landscape", "poster")
    pdf = printmap.print_ward(demo, code, paper="a2", layout="poster", layers=layers)
    reader = pypdf.PdfReader(__import__("io").BytesIO(pdf))
    assert len(reader.pages) == 1
    texts = page_texts(pdf, 0)
    joined = " ".join(t.text for t in texts)
    ward = ward_content(layers, code, layout)
    assert "Assets on this map" in joined and "Scan to open" in joined
    listed = [name for name in ward.assets["name"] if name in joined]
    assert listed == ward.assets["name"].head(10).tolist()
    assert f"and {len(ward.assets) - 10:,} more" in joined
    assert min(t.size for t in texts) >= 7.1 * 2 - 0.05  # A2: twice A4
    assert b"/Subtype /Image" in pdf  # the QR code
    width = float(reader.pages[0].mediabox.width) / PT_PER_MM
    assert round(width) == 594
    assert label_boxes(texts, tuple(v * PT_PER_MM for v in layout.map))
