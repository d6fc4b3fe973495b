"""The assets on a web map: which are drawn, their popups and symbols, and one layer of points per pillar."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
from folium.utilities import JsCode

from assetmap.analysis.assign import beyond_boundary
from assetmap.record import public_records, sensitive_mask
from assetmap.render import styles
from assetmap.render.webmap.safe import present, safe_link, safe_mailto, safe_text, script_json
from assetmap.render.webmap.screen import CLUSTER_CSS, CLUSTER_JS, check_crs, feature_collection, for_screen, use_libs
from assetmap.taxonomy import Taxonomy, load_taxonomy

#: CSS class of asset markers in the page (for styling and tests).
ASSET_CLASS: str = "am-asset"

#: Style of asset popups (see :func:`popup_html`), added once to every map's page.
POPUP_CSS: str = (
    ".am-popup{min-width:180px;max-width:300px}.am-popup .am-type{color:#444}"
    ".am-popup table{font-size:0.85rem;margin-top:4px}"
    ".am-popup th{text-align:left;padding-right:6px;vertical-align:top}"
)


def _pillars_of_row(elements: Any, pillars: Any, taxonomy: Taxonomy) -> list[str]:
    if isinstance(pillars, (list, tuple)) and pillars:
        return [str(p) for p in pillars]
    if isinstance(elements, (list, tuple)) and elements:
        try:
            return taxonomy.pillars_of(tuple(int(e) for e in elements))
        except (KeyError, ValueError):
            return []
    return []


def _main_pillar(elements: Any, pillars: list[str], shown: Sequence[str] | None, taxonomy: Taxonomy) -> str | None:
    """Pillar of the record's first element that is on show; else its first pillar on show."""
    candidates = list(pillars)
    if isinstance(elements, (list, tuple)):
        for e in elements:
            try:
                p = taxonomy.pillar_of(int(e))
            except (KeyError, ValueError):
                continue
            if p in candidates:
                candidates.remove(p)
                candidates.insert(0, p)
                break
    for p in candidates:
        if shown is None or p in shown:
            return p
    return None


def filter_by_pillars(
    assets: gpd.GeoDataFrame, pillars: Sequence[str] | None, taxonomy: Taxonomy | None = None
) -> gpd.GeoDataFrame:
    """Return the records serving at least one of ``pillars`` (all records when ``pillars`` is None).

    Parameters
    ----------
    assets : GeoDataFrame
        Records with ``pillars`` (tuples of pillar keys) or ``elements`` (tuples of element numbers).
    pillars : sequence of str or None
        Pillar keys to keep.
    taxonomy : Taxonomy, optional
        Used where a record has elements but no pillars (default: the built-in taxonomy).

    Returns
    -------
    GeoDataFrame
    """
    if pillars is None:
        return assets
    taxonomy = taxonomy or load_taxonomy()
    wanted = set(pillars)
    elements = assets["elements"] if "elements" in assets.columns else pd.Series(None, index=assets.index)
    own = assets["pillars"] if "pillars" in assets.columns else pd.Series(None, index=assets.index)
    keep = [bool(wanted.intersection(_pillars_of_row(e, p, taxonomy))) for e, p in zip(elements, own, strict=True)]
    return assets.loc[np.asarray(keep, dtype=bool)]


#: The rows of an asset's popup, in order: (label, key of its field in :func:`popup_fields`).
POPUP_ROWS: tuple[tuple[str, str], ...] = (
    ("Address", "a"),
    ("Opening times", "o"),
    ("Website", "w"),
    ("Email", "m"),
    ("Phone", "p"),
)


def popup_fields(record: pd.Series | dict[str, Any], taxonomy: Taxonomy) -> dict[str, Any]:
    """Return what an asset's popup shows, each value ready for HTML: public fields only, escaped.

    Parameters
    ----------
    record : Series or dict
        One asset record.
    taxonomy : Taxonomy
        For the type label and element names.

    Returns
    -------
    dict
        ``name`` and ``t`` (type label), escaped; ``e``, the elements: numbers of the
        taxonomy's elements, or escaped text for anything else; and the :data:`POPUP_ROWS`
        keys that have a value (escaped text, or a link made by :func:`safe_link` or :func:`safe_mailto`).
    """
    get = record.get
    type_key = get("type")
    try:
        type_label = taxonomy.asset_type(str(type_key)).label if present(type_key) else ""
    except KeyError:
        type_label = str(type_key)
    elements: list[int | str] = []
    given = get("elements")
    if isinstance(given, (list, tuple)):
        for e in given:
            try:
                taxonomy.element(int(e))
                elements.append(int(e))
            except (KeyError, ValueError, TypeError):
                elements.append(safe_text(e))
    address = ", ".join(str(get(k)).strip() for k in ("address", "postcode") if present(get(k)))
    rows = {
        "a": safe_text(address),
        "o": safe_text(get("opening_times")),
        "w": safe_link(get("website")),
        "m": safe_mailto(get("email")),
        "p": safe_text(get("phone")),
    }
    fields: dict[str, Any] = {"name": safe_text(get("name")), "t": safe_text(type_label)}
    if elements:
        fields["e"] = elements
    fields.update({k: v for k, v in rows.items() if v})
    return fields


def _element_text(e: int | str, taxonomy: Taxonomy) -> str:
    return f"{e}. {safe_text(taxonomy.element(e).name)}" if isinstance(e, int) else e


def popup_html(record: pd.Series | dict[str, Any], taxonomy: Taxonomy | None = None) -> str:
    """Return the popup of one asset: public fields only, every value escaped.

    The app's maps build the same popup in the browser from :func:`popup_fields`
    (:data:`_BIND_ASSET_POPUP`), so each point carries its fields and not the markup.

    Parameters
    ----------
    record : Series or dict
        One asset record.
    taxonomy : Taxonomy, optional
        For the type label and element names (default: the built-in taxonomy).

    Returns
    -------
    str
        An HTML fragment.
    """
    taxonomy = taxonomy or load_taxonomy()
    fields = popup_fields(record, taxonomy)
    rows = [("Elements", "; ".join(_element_text(e, taxonomy) for e in fields.get("e", [])))]
    rows += [(label, fields.get(key, "")) for label, key in POPUP_ROWS]
    body = "".join(f"<tr><th>{label}</th><td>{value}</td></tr>" for label, value in rows if value)
    # Styled by POPUP_CSS, which every map carries once, rather than inline in each of hundreds of popups.
    return (
        f'<div class="am-popup"><strong>{fields["name"]}</strong>'
        f'<div class="am-type">{fields["t"]}</div><table>{body}</table></div>'
    )


#: Each printed marker of :data:`assetmap.render.styles.PILLAR_MARKERS` as SVG on a 16 x 16 box.
_SVG_SHAPES: dict[str, str] = {
    "o": '<circle cx="8" cy="8" r="6"/>',
    "s": '<rect x="2.5" y="2.5" width="11" height="11"/>',
    "^": '<polygon points="8,1.5 14.5,14 1.5,14"/>',
    "D": '<polygon points="8,1 15,8 8,15 1,8"/>',
}


def pillar_symbol(key: str, size: int = 16) -> str:
    """Return a pillar's map symbol as inline SVG: its colour and its printed shape.

    Pillars differ by shape as well as colour, so the map reads without colour vision
    and matches the printed maps.

    Parameters
    ----------
    key : str
        Pillar key (an unknown one gets the fallback colour and a circle).
    size : int, default 16
        Width and height in pixels.

    Returns
    -------
    str
        An ``<svg>`` element, hidden from screen readers (the legend names the pillar).
    """
    shape = _SVG_SHAPES.get(styles.PILLAR_MARKERS.get(key, "o"), _SVG_SHAPES["o"])
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{int(size)}" height="{int(size)}" viewBox="0 0 16 16" '
        'aria-hidden="true" focusable="false">'
        f'<g fill="{styles.pillar_colour(key)}" stroke="#222222" stroke-width="1.5">{shape}</g></svg>'
    )


def pillar_symbol_img(key: str, size: int = 13) -> str:
    """Return :func:`pillar_symbol` as an ``<img>`` with the SVG inline (for HTML that may not hold SVG).

    Streamlit's HTML element keeps images but removes inline SVG, and the legend is shown there.
    """
    data = base64.b64encode(pillar_symbol(key, size).encode()).decode()
    return (
        f'<img src="data:image/svg+xml;base64,{data}" width="{int(size)}" height="{int(size)}" alt="" '
        'style="vertical-align:middle">'
    )


def _cluster_icon(colour: str) -> str:
    # A disc in the pillar's colour with the count in it, instead of the plugin's
    # green-yellow-orange discs that would read as a second colour scale.
    return (
        "function(cluster) {"
        " var n = cluster.getChildCount();"
        " var size = n < 10 ? 28 : n < 100 ? 34 : 40;"
        " return L.divIcon({"
        f" html: '<div style=\"background:{colour};color:#fff;border:2px solid #222;border-radius:50%;"
        "width:' + size + 'px;height:' + size + 'px;line-height:' + (size - 4) + 'px;text-align:center;"
        "font:bold 12px sans-serif;text-shadow:0 0 2px #000\"><span>' + n + '</span></div>',"
        " className: 'marker-cluster am-cluster', iconSize: L.point(size, size)});"
        "}"
    )


# Popups and tooltips are bound to each marker, not to its layer: a cluster adopts the
# markers but not the layer, and a layer that is not on the map cannot open a popup.
# Each point carries its popup's fields (popup_fields: escaped text, or links made safe)
# and the popup is put together when opened, as popup_html does: a register's markup is
# not sent with every redraw. ELEMENTS and ROWS are filled in per layer.
_BIND_ASSET_POPUP = """
function(feature, layer) {
    var p = feature.properties, names = ELEMENTS, rows = ROWS;
    layer.bindPopup(function() {
        var elements = (p.e || []).map(function(e) { return typeof e === "number" ? e + ". " + names[e] : e; });
        var body = elements.length ? "<tr><th>Elements</th><td>" + elements.join("; ") + "</td></tr>" : "";
        rows.forEach(function(r) { if (p[r[1]]) { body += "<tr><th>" + r[0] + "</th><td>" + p[r[1]] + "</td></tr>"; } });
        return '<div class="am-popup"><strong>' + p.name + '</strong><div class="am-type">' + p.t
            + "</div><table>" + body + "</table></div>";
    }, {maxWidth: 320});
    layer.bindTooltip(p.name, {sticky: true});
    // A marker is a button (Leaflet makes it one, for the keyboard): it is named by its asset,
    // type and pillar, as the text (not the markup) of the escaped fields.
    var text = function(html) { return new DOMParser().parseFromString(html, "text/html").documentElement.textContent; };
    var label = text(p.name) + ", " + text(p.t) + " (" + PILLAR + ")";
    layer.on("add", function() { var el = layer.getElement(); if (el) { el.setAttribute("aria-label", label); } });
}
"""


def _bind_asset_popup(props: list[dict[str, Any]], taxonomy: Taxonomy, pillar: str) -> str:
    numbers = sorted({e for p in props for e in p.get("e", []) if isinstance(e, int)})
    names = {n: safe_text(taxonomy.element(n).name) for n in numbers}
    rows = [list(r) for r in POPUP_ROWS]
    return (
        _BIND_ASSET_POPUP.replace("ELEMENTS", script_json(names))
        .replace("ROWS", script_json(rows))
        .replace("PILLAR", script_json(pillar))
    )


#: The fields of an asset that its point uses: its popup's, and those that choose its pillar.
_POINT_FIELDS: tuple[str, ...] = (
    "name",
    "type",
    "elements",
    "pillars",
    "address",
    "postcode",
    "opening_times",
    "website",
    "email",
    "phone",
)


def _asset_properties(record: dict[str, Any], taxonomy: Taxonomy) -> dict[str, Any]:
    return {"kind": "asset", **popup_fields(record, taxonomy)}


def point_layers(
    drawn: gpd.GeoDataFrame,
    pillars: Sequence[str] | None,
    taxonomy: Taxonomy,
    cluster_above: int,
    libs_url: str | None = None,
) -> tuple[list[folium.FeatureGroup], list[tuple[str, str, int]]]:
    """Return one layer of points per pillar, and (key, name, count) of each.

    Each asset is drawn once, with the symbol of its first pillar on show; the count is of every drawn
    asset serving the pillar, so an asset serving two pillars counts in both.
    """
    legend_pillars: list[tuple[str, str, int]] = []
    layers: list[folium.FeatureGroup] = []
    if not len(drawn):
        return layers, legend_pillars
    # Only the fields a point shows: a register has dozens of columns, and splitting and
    # reading all of them once per pillar was most of this function's time.
    keep = [c for c in _POINT_FIELDS if c in drawn.columns]
    points = for_screen(drawn.geometry)
    drawn = gpd.GeoDataFrame(drawn[keep], geometry=points.to_numpy(), crs=points.crs)
    elements = drawn["elements"] if "elements" in drawn.columns else pd.Series(None, index=drawn.index)
    own = drawn["pillars"] if "pillars" in drawn.columns else pd.Series(None, index=drawn.index)
    served = [_pillars_of_row(e, p, taxonomy) for e, p in zip(elements, own, strict=True)]
    main = [_main_pillar(e, row, pillars, taxonomy) for e, row in zip(elements, served, strict=True)]
    # The legend counts every drawn asset serving a pillar, as the Gaps page does, not only those drawn with its symbol.
    serving = pd.Series([k for row in served for k in dict.fromkeys(row)], dtype=object).value_counts()
    drawn = drawn.assign(_main=main)
    cluster = len(drawn) > cluster_above
    known = [p.key for p in taxonomy.pillars]
    order = known + sorted({p for p in main if p and p not in known})
    for key in order:
        group = drawn[drawn["_main"] == key]
        if not len(group):
            continue
        try:
            name = taxonomy.pillar(key).name
        except KeyError:
            name = key
        legend_pillars.append((key, name, int(serving.get(key, len(group)))))
        colour = styles.pillar_colour(key)
        layer_name = f'<span style="color:{colour}">&#9679;</span> {safe_text(name)} ({len(group):,})'
        # Each pillar is a plain feature group (so the app can send it alone, without redrawing
        # the map), holding the clusterer when there are many points.
        layer = folium.FeatureGroup(name=layer_name)
        layers.append(layer)
        parent: folium.Element = layer
        if cluster:
            parent = folium.plugins.MarkerCluster(
                icon_create_function=_cluster_icon(colour),
                options={"showCoverageOnHover": False, "maxClusterRadius": 40},
                control=False,
            ).add_to(layer)
            use_libs(parent, CLUSTER_JS, CLUSTER_CSS, libs_url)
        props = [_asset_properties(row, taxonomy) for row in group.drop(columns=group.geometry.name).to_dict("records")]
        folium.GeoJson(
            feature_collection(group, props),
            name=layer_name,
            control=False,
            # A marker with the pillar's symbol: shaped as well as coloured by pillar, and
            # (unlike a drawn circle) reachable with the Tab key, opening its popup with Enter.
            marker=folium.Marker(
                icon=folium.DivIcon(
                    html=pillar_symbol(key), icon_size=(16, 16), icon_anchor=(8, 8), class_name=ASSET_CLASS
                )
            ),
            on_each_feature=JsCode(_bind_asset_popup(props, taxonomy, name)),
        ).add_to(parent)
    return layers, legend_pillars


def point_notes(n_hidden: int, n_unplaced: int, n_beyond: int = 0) -> list[str]:
    """Return the notes on assets left off the map, and on those drawn beyond the area's boundary.

    Left off: at a sensitive location, or with no location yet. Beyond the boundary (within the
    area's buffer): drawn, and counted for walking access, but in no ward.
    """
    notes = []
    if n_beyond:
        notes.append(
            f"{n_beyond:,} asset(s) drawn lie beyond the area's boundary: they count for residents' walking "
            "access, but in no ward's count."
        )
    if n_hidden:
        notes.append(
            f"{n_hidden:,} asset(s) with a sensitive location are counted in their area but not shown as points."
        )
    if n_unplaced:
        notes.append(f"{n_unplaced:,} asset(s) have no location yet and are not shown as points.")
    return notes


def points_to_draw(
    assets: gpd.GeoDataFrame | None, pillars: Sequence[str] | None = None, taxonomy: Taxonomy | None = None
) -> tuple[gpd.GeoDataFrame | None, int, int]:
    """Return the assets a public map draws as points, and how many it leaves out.

    Parameters
    ----------
    assets : GeoDataFrame or None
        The asset register.
    pillars : sequence of str, optional
        Pillar keys on show (default: all).
    taxonomy : Taxonomy, optional
        Used where records have elements but no pillars.

    Returns
    -------
    drawn : GeoDataFrame or None
        Approved records serving ``pillars``, not sensitive, with a location; no private fields.
    n_hidden : int
        Approved records serving ``pillars`` left out because their location is sensitive.
    n_unplaced : int
        Approved records serving ``pillars`` left out because they have no location.
    """
    public = public_records(assets)
    if public is None or not len(public):
        return public, 0, 0
    check_crs(public, "assets")
    public = filter_by_pillars(public, pillars, taxonomy)
    hidden = sensitive_mask(public).to_numpy()
    unplaced = (public.geometry.isna() | public.geometry.is_empty).to_numpy()
    return public.loc[~hidden & ~unplaced], int(hidden.sum()), int((unplaced & ~hidden).sum())


def map_notes(
    assets: gpd.GeoDataFrame | None, pillars: Sequence[str] | None = None, taxonomy: Taxonomy | None = None
) -> list[str]:
    """Return what a reader of the map should know about assets it does not draw.

    Parameters
    ----------
    assets : GeoDataFrame or None
        The asset register.
    pillars : sequence of str, optional
        Pillar keys on show (default: all).
    taxonomy : Taxonomy, optional
        Used where records have elements but no pillars.

    Returns
    -------
    list of str
    """
    drawn, n_hidden, n_unplaced = points_to_draw(assets, pillars, taxonomy)
    return point_notes(n_hidden, n_unplaced, n_drawn_beyond(drawn))


def n_drawn_beyond(drawn: gpd.GeoDataFrame | None) -> int:
    """Return how many of the points drawn lie beyond the area's boundary (in no ward)."""
    return 0 if drawn is None else int(beyond_boundary(drawn).sum())
