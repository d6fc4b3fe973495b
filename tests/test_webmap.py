"""The web map: what it draws, what it never shows, and that user text stays inert."""

from __future__ import annotations

import re

import folium
import geopandas as gpd
import numpy as np
import pytest

from assetmap._errors import CRSError
from assetmap.render import styles, webmap
from assetmap.taxonomy import load_taxonomy


def _walk(element):
    yield element
    for child in element._children.values():
        yield from _walk(child)


def _features(m: folium.Map, kind: str) -> list[dict]:
    return [
        f
        for el in _walk(m)
        if isinstance(el, folium.GeoJson)
        for f in el.data["features"]
        if f["properties"].get("kind") == kind
    ]


def _html(m: folium.Map) -> str:
    # Folium writes GeoJSON with Jinja's tojson, which writes & < > ' as \u00XX and
    # quotes as \"; undo that so the assertions read the strings the browser gets.
    page = m.get_root().render()
    for code, char in (("0026", "&"), ("003c", "<"), ("003e", ">"), ("0027", "'")):
        page = page.replace(f"\\u{code}", char)
    return page.replace('\\"', '"')


@pytest.fixture
def fmap(tiny) -> folium.Map:
    return webmap.area_map(tiny["summary"], tiny["assets"], attribution="Contains tiny data", fictional=True)


def test_one_area_feature_per_area(fmap, tiny):
    assert len(_features(fmap, "area")) == len(tiny["summary"])


def test_markers_are_the_approved_non_sensitive_assets(fmap, tiny):
    a = tiny["assets"]
    expected = a[a["status"].eq("approved") & ~a["sensitive"]]
    names = sorted(f["properties"]["name"] for f in _features(fmap, "asset"))
    assert len(names) == len(expected) == 5
    assert all(f["geometry"]["type"] == "Point" for f in _features(fmap, "asset"))


def test_user_text_is_escaped(fmap):
    assert "<script>alert(1)" not in fmap.get_root().render()
    page = _html(fmap)
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in page
    assert "<b>High</b>" not in page
    # folium puts popups and tooltips in JavaScript template literals: no live ${ } or backtick.
    assert "${alert(2)}" not in page
    assert "&#36;&#123;alert(2)&#125;" in page


def test_safe_text_neutralises_html_and_template_literals():
    assert webmap.safe_text('<a href="x">`${1}`\\</a>') == (
        "&lt;a href=&quot;x&quot;&gt;&#96;&#36;&#123;1&#125;&#96;&#92;&lt;/a&gt;"
    )
    assert webmap.safe_text(None) == "" and webmap.safe_text(float("nan")) == ""


def test_private_fields_and_unapproved_records_never_appear(fmap):
    page = _html(fmap)
    for text in (
        "Private Person Alpha",
        "private.alpha@example.org",
        "Pending Group Unseen",
        "Rejected Group Unseen",
        "Withdrawn Group Unseen",
        "Safe House Hidden Point",
    ):
        assert text not in page


def test_non_web_links_are_not_links(fmap):
    page = _html(fmap)
    assert 'href="javascript:' not in page
    assert 'href="https://example.org/a?x=1&amp;y=2"' in page
    assert 'href="mailto:hello@pantry.example"' in page


def test_legend_attribution_and_fictional_label(fmap):
    page = _html(fmap)
    assert 'class="am-legend"' in page
    assert "Population-weighted IMD score" in page
    assert "Fictional demo data" in page
    assert "Contains tiny data" in page
    assert "1 asset(s) with a sensitive location" in page
    for colour in styles.palette("deprivation", 3):
        assert colour in page


def test_pillar_layers_and_clustering(tiny):
    m = webmap.area_map(
        tiny["summary"], tiny["assets"], attribution="x", display=webmap.MapDisplay(cluster_above=2), tiles=None
    )
    clusters = [el for el in _walk(m) if isinstance(el, folium.plugins.MarkerCluster)]
    assert clusters and len(_features(m, "asset")) == 5
    assert not any(isinstance(el, folium.TileLayer) for el in _walk(m))
    unclustered = webmap.area_map(tiny["summary"], tiny["assets"], attribution="x")
    assert not any(isinstance(el, folium.plugins.MarkerCluster) for el in _walk(unclustered))


def test_pillar_filter(tiny):
    m = webmap.area_map(tiny["summary"], tiny["assets"], attribution="x", pillars=["scaling"])
    names = {f["properties"]["name"] for f in _features(m, "asset")}
    assert names == {"Wellbeing Link"}
    none = webmap.area_map(tiny["summary"], tiny["assets"], attribution="x", pillars=[])
    assert _features(none, "asset") == []


def test_area_geometry_is_wgs84_and_rounded(fmap):
    coords = np.array(_features(fmap, "area")[0]["geometry"]["coordinates"][0])
    assert coords[:, 0].min() > -1 and coords[:, 0].max() < 1  # London longitudes
    assert 51 < coords[:, 1].min() < 52
    assert np.allclose(coords, np.round(coords, webmap.COORD_DECIMALS))


def test_inputs_are_not_changed(tiny):
    before_areas, before_assets = tiny["summary"].copy(), tiny["assets"].copy()
    webmap.area_map(tiny["summary"], tiny["assets"], attribution="x")
    assert tiny["summary"].equals(before_areas) and tiny["assets"].equals(before_assets)


def test_missing_crs_and_column_raise(tiny):
    with pytest.raises(CRSError, match="set_crs"):
        webmap.area_map(
            gpd.GeoDataFrame(tiny["summary"].drop(columns="geometry"), geometry=list(tiny["summary"].geometry)),
            attribution="x",
        )
    with pytest.raises(KeyError, match="no_such_column"):
        webmap.area_map(tiny["summary"], attribution="x", value="no_such_column")


def test_missing_values_get_a_no_data_class(tiny):
    areas = tiny["summary"].copy()
    areas.loc[0, "avg_score"] = np.nan
    page = _html(webmap.area_map(areas, None, attribution="x"))
    assert "No data" in page and styles.NO_DATA_COLOUR in page


def test_map_table_is_the_twin_of_the_map(tiny):
    table = webmap.map_table(tiny["summary"], tiny["assets"], value="avg_score")
    label = webmap.MEASURES["avg_score"].label
    assert list(table.columns) == ["Code", "Area", label, "Assets shown"]
    assert len(table) == len(tiny["summary"])
    assert table[label].is_monotonic_decreasing  # most deprived first
    # Approved records per area, sensitive ones included (the map counts them at area level).
    assert table.set_index("Code")["Assets shown"].to_dict() == {"E05000001": 2, "E05000002": 2, "E05000003": 2}
    by_pop = webmap.map_table(tiny["summary"], tiny["assets"], value="population", pillars=["scaling"])
    assert "Population" in by_pop.columns and by_pop["Assets shown"].sum() == 1


def test_classify_schemes():
    values = [1.0, 2.0, 3.0, 10.0, 11.0, 12.0, 30.0, 31.0, np.nan]
    c = styles.classify(values, k=3)
    assert c.bins == (3.0, 12.0, 31.0)
    assert list(c.classes) == [0, 0, 0, 1, 1, 1, 2, 2, -1]
    assert c.n_missing == 1 and c.counts == (3, 3, 2)
    q = styles.classify(values, scheme="quantiles", k=4)
    assert len(q.colours) == len(q.labels) == len(q.bins) <= 4
    # Fewer distinct values than classes: fewer classes, no error.
    assert len(styles.classify([5, 5, 7], k=5).colours) == 2
    assert styles.classify([np.nan, np.nan]).colours == ()


def test_natural_breaks_on_long_columns_are_deterministic_and_fast():
    y = np.random.default_rng(1).gamma(2.0, 10.0, 20_000)
    a, b = styles.classify(y, k=5), styles.classify(y, k=5)
    assert a.bins == b.bins and len(a.bins) == 5 and a.bins[-1] == y.max()


def test_deciles_darkest_first():
    c = styles.classify([1, 10, 5], scheme="deciles")
    colours = styles.imd_decile_colours()
    lum = [sum(int(colours[d][i : i + 2], 16) for i in (1, 3, 5)) for d in range(1, 11)]
    assert lum == sorted(lum)  # decile 1 darkest, getting lighter
    assert c.colour_of(0) == colours[1] and c.colour_of(1) == colours[10]
    with pytest.raises(ValueError, match="Deciles"):
        styles.classify([0, 11], scheme="deciles")


def test_palettes():
    for k in range(1, 12):
        assert len(styles.palette("deprivation", k)) == k
        assert all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in styles.palette("count", k))
    assert len(set(styles.PILLAR_COLOURS.values())) == 4
    with pytest.raises(ValueError):
        styles.palette("rainbow", 3)


def test_sensitive_flags_from_text(tiny):
    assets = tiny["assets"].copy()
    assets["sensitive"] = ["yes", None, "", "False", "maybe", "no", "no", "no", "TRUE"]
    drawn, hidden, _ = webmap.points_to_draw(assets)
    # approved: A1 yes (hidden), A2 None, A3 "", A4 False, A5 maybe (hidden), A9 TRUE (hidden)
    assert hidden == 3 and sorted(drawn["asset_id"]) == ["A2", "A3", "A4"]


def test_bivariate_classes_and_key():
    codes = ["3-1", "1-3", None, "3-1", "2-2"]
    classes = styles.bivariate(codes)
    assert classes.scheme == "bivariate" and len(classes.colours) == 9
    assert classes.colour_of(0) == styles.BIVARIATE_COLOURS["3-1"]
    assert classes.colour_of(2) == styles.NO_DATA_COLOUR and classes.n_missing == 1
    assert classes.labels[list(styles.BIVARIATE_COLOURS).index("3-1")] == "high need, low access"
    assert sum(classes.counts) == 4
    key = webmap.legend_html(classes, "Need and access")
    assert key.count("<td title=") == 9 and "Low &rarr; high access" in key
    # Each cell shows how many areas fall in it: two in high need, low access.
    assert re.search(r'title="high need, low access"[^>]*>2</td>', key)
    with pytest.raises(ValueError, match="4-1"):
        styles.bivariate(["4-1"])


def test_bivariate_map_and_table_twin(tiny):
    areas = tiny["summary"].copy()
    areas["bivariate_class"] = ["1-3", "3-1", "2-2"][: len(areas)]
    m = webmap.area_map(areas, None, value="bivariate_class", attribution="x")
    fills = [f["properties"]["fill"] for f in _features(m, "area")]
    assert fills == [styles.BIVARIATE_COLOURS[c] for c in areas["bivariate_class"]]
    assert [f["properties"]["value"] for f in _features(m, "area")][1] == "high need, low access"
    table = webmap.map_table(areas, None, value="bivariate_class")
    assert table["Need and access"].iloc[0] == "high need, low access"  # the gap a commissioner reads first


def test_catchment_and_selected_area_are_drawn(tiny):
    areas = tiny["summary"]
    shape = gpd.GeoSeries([areas.geometry.iloc[0].buffer(-10)], crs=areas.crs)
    code = areas["code"].iloc[1]
    m = webmap.area_map(
        areas,
        None,
        attribution="x",
        catchment=shape,
        display=webmap.MapDisplay(catchment_label="Within <800 m>", selected=code),
    )
    assert len(_features(m, "catchment")) == 1
    page = _html(m)
    assert "Within &lt;800 m&gt;" in page and "Within <800 m>" not in page
    selected = [f["properties"]["selected"] for f in _features(m, "area")]
    assert selected == [c == code for c in areas["code"]]


def _script_and_style_links(page: str) -> list[str]:
    return re.findall(r'<script src="([^"]+)"', page) + re.findall(r'<link rel="stylesheet" href="([^"]+)"', page)


def test_maps_load_leaflet_alone_from_the_cdn_by_default(tiny):
    page = (
        webmap.area_map(tiny["summary"], tiny["assets"], attribution="x", display=webmap.MapDisplay(cluster_above=2))
        .get_root()
        .render()
    )
    links = _script_and_style_links(page)
    assert links and all(link.startswith("https://cdn.jsdelivr.net/npm/leaflet") for link in links), links
    # Clustered points bring the clusterer; jQuery, Bootstrap and Font Awesome are never loaded.
    assert any("leaflet.markercluster" in link for link in links)
    assert not re.search(r"jquery|bootstrap|fontawesome|awesome-markers", page, re.I)


def test_maps_can_load_the_apps_own_copies(tiny):
    page = (
        webmap.area_map(
            tiny["summary"],
            tiny["assets"],
            attribution="x",
            display=webmap.MapDisplay(cluster_above=2, libs_url="/libs/"),
        )
        .get_root()
        .render()
    )
    links = _script_and_style_links(page)
    libs = webmap.MAP_JS + webmap.MAP_CSS + webmap.CLUSTER_JS + webmap.CLUSTER_CSS
    assert sorted(links) == sorted(f"/libs/{lib.path}" for lib in libs)


def test_the_app_ships_every_library_a_map_loads():
    from assetmap import settings

    static = settings.package_root / "ui" / "webapp" / "static"
    for lib in webmap.MAP_JS + webmap.MAP_CSS + webmap.CLUSTER_JS + webmap.CLUSTER_CSS:
        path = static / lib.path
        assert path.is_file() and path.stat().st_size > 500, path
    # Leaflet finds its marker and control images beside its stylesheet.
    assert (static / "leaflet" / "images" / "marker-icon.png").is_file()


def test_screen_geometry_is_remembered_for_the_same_objects_only(monkeypatch):
    import threading

    from shapely.geometry import box

    calls = []
    real = webmap.screen._reproject_for_screen
    monkeypatch.setattr(webmap.screen, "_reproject_for_screen", lambda g, s: calls.append(len(g)) or real(g, s))
    points = gpd.GeoSeries([box(530000 + 50 * i, 180000, 530040 + 50 * i, 180040) for i in range(5)], crs=27700)
    first = webmap.screen.for_screen(points)
    # Again, from another thread (the app runs each script run on a new one): remembered.
    out = {}
    worker = threading.Thread(target=lambda: out.setdefault("again", webmap.screen.for_screen(points)))
    worker.start()
    worker.join()
    assert calls == [5]
    assert out["again"].crs.to_epsg() == 4326
    assert [g.wkt for g in out["again"]] == [g.wkt for g in first]
    # New geometry objects are drawn afresh, even where they look the same.
    moved = gpd.GeoSeries([box(531000 + 50 * i, 180000, 531040 + 50 * i, 180040) for i in range(5)], crs=27700)
    assert webmap.screen.for_screen(moved).bounds.minx.tolist() != first.bounds.minx.tolist()
    assert calls == [5, 5]
    # The same objects with another simplification, or in another CRS, are other drawings.
    webmap.screen.for_screen(points, 10.0)
    assert calls == [5, 5, 5]


def test_popup_fields_are_escaped_and_name_elements_by_number(tiny):
    from assetmap.taxonomy import load_taxonomy

    record = {
        "name": "<b>Bold</b>",
        "type": "vcse_group",
        "elements": [6, "x<y"],
        "website": "javascript:alert(1)",
        "phone": "`${1}`",
    }
    fields = webmap.popup_fields(record, load_taxonomy())
    assert fields["name"] == "&lt;b&gt;Bold&lt;/b&gt;"
    assert fields["e"] == [6, "x&lt;y"]
    assert fields["w"] == "javascript:alert(1)"  # text, not a link
    assert fields["p"] == "&#96;&#36;&#123;1&#125;&#96;"
    assert "a" not in fields and "m" not in fields  # empty rows are left out
    # Inside the page's script, nothing can close it or open markup.
    assert webmap.safe.script_json({"6": "</script><b>"}) == '{"6": "\\u003c/script\\u003e\\u003cb\\u003e"}'


def test_assets_are_shaped_as_well_as_coloured_by_pillar(tiny):
    page = _html(webmap.area_map(tiny["summary"], tiny["assets"], attribution="x", tiles=None))
    # Each drawn pillar's markers carry its symbol, and the legend shows it beside the pillar's name.
    drawn = [k for k in styles.PILLAR_MARKERS if webmap.pillar_symbol(k) in page]
    assert len(drawn) >= 2, drawn
    for key in drawn:
        assert webmap.pillar_symbol_img(key) in page
    # Every pillar's symbol differs from the others' in shape, not only in colour.
    outlines = {re.sub(r'fill="[^"]+"', "", webmap.pillar_symbol(k)) for k in styles.PILLAR_MARKERS}
    assert len(outlines) == len(styles.PILLAR_MARKERS)


def test_legend_counts_every_asset_serving_a_pillar(demo):
    from assetmap.render.views import map_layer, shown_assets

    assets = shown_assets(demo)
    layers = webmap.map_layers(map_layer(demo, "strengthening"), assets, value="avg_score")
    drawn, _, _ = webmap.points_to_draw(assets)
    legend = layers.legend
    assert "one serving several counts in each" in legend
    for pillar in load_taxonomy().pillars:
        serving = len(webmap.filter_by_pillars(drawn, [pillar.key]))
        # As the Gaps page counts: every asset serving the pillar, not only those drawn with its symbol.
        assert f"{pillar.name} ({serving:,})" in legend
