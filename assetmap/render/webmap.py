"""Interactive web map of an area: shaded wards or neighbourhoods and the assets in them.

The map is for the screen only (printing is :mod:`assetmap.render.printmap`).
Geometry is reprojected to WGS84, lightly simplified and rounded to about a
metre, which keeps the page small without changing what anyone can see.

Folium writes popups, tooltips and layer names into the page as raw HTML, so
every string that came from a user or a file passes through :func:`safe_text`
first. Only approved records are drawn, private fields never reach the page,
and records with a sensitive location are counted in their area but never
drawn as points.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.utilities import JsCode
from jinja2 import Template

from assetmap import settings
from assetmap._errors import CRSError
from assetmap.record import is_blank, public_records, sensitive_mask
from assetmap.render import styles
from assetmap.taxonomy import Taxonomy, load_taxonomy

#: Decimal places kept in WGS84 coordinates (5 is about a metre).
COORD_DECIMALS: int = 5

#: Default tiles (OpenStreetMap's standard layer, which needs no key). Tiles that fail
#: to load (no network) leave the map working, only without a background.
DEFAULT_TILES: str = "OpenStreetMap"

#: Above this many points, each pillar's assets are clustered.
CLUSTER_ABOVE: int = 150

#: CSS class of area outlines and of asset markers in the page (for styling and tests).
AREA_CLASS: str = "am-area"
ASSET_CLASS: str = "am-asset"


@dataclass(frozen=True)
class WebLib:
    """A script or stylesheet a map loads: its path in the app's ``static`` folder and its CDN address."""

    name: str
    path: str
    cdn: str

    def url(self, base: str | None) -> str:
        """Return the address under ``base`` (the app's copy), or the CDN's when ``base`` is None."""
        return self.cdn if base is None else f"{base}{self.path}"


_LEAFLET_CDN = "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist"
_CLUSTER_CDN = "https://cdn.jsdelivr.net/npm/leaflet.markercluster@1.5.3/dist"

#: What every map loads: Leaflet alone. folium's defaults add jQuery, Bootstrap and Font
#: Awesome, which nothing here uses, and the app's map fetches its scripts one after another.
MAP_JS: tuple[WebLib, ...] = (WebLib("leaflet", "leaflet/leaflet.js", f"{_LEAFLET_CDN}/leaflet.js"),)
MAP_CSS: tuple[WebLib, ...] = (WebLib("leaflet_css", "leaflet/leaflet.css", f"{_LEAFLET_CDN}/leaflet.css"),)

#: What a map with clustered points loads as well.
CLUSTER_JS: tuple[WebLib, ...] = (
    WebLib(
        "markerclusterjs", "leaflet.markercluster/leaflet.markercluster.js", f"{_CLUSTER_CDN}/leaflet.markercluster.js"
    ),
)
CLUSTER_CSS: tuple[WebLib, ...] = (
    WebLib("markerclustercss", "leaflet.markercluster/MarkerCluster.css", f"{_CLUSTER_CDN}/MarkerCluster.css"),
    WebLib(
        "markerclusterdefaultcss",
        "leaflet.markercluster/MarkerCluster.Default.css",
        f"{_CLUSTER_CDN}/MarkerCluster.Default.css",
    ),
)


def _use_libs(element: Any, js: Sequence[WebLib], css: Sequence[WebLib], base: str | None) -> None:
    # Instance attributes: folium reads default_js and default_css from each element it renders.
    element.default_js = [(lib.name, lib.url(base)) for lib in js]
    element.default_css = [(lib.name, lib.url(base)) for lib in css]


@dataclass(frozen=True)
class Measure:
    """How to shade areas by one column.

    Attributes
    ----------
    label : str
        Legend and column title.
    scheme : str
        Classification scheme (see :func:`assetmap.render.styles.classify`).
    palette : str
        Palette name (see :func:`assetmap.render.styles.palette`).
    fmt : str
        Number format of the legend and tooltips.
    reverse : bool
        True where lower values mean more deprived (ranks).
    """

    label: str
    scheme: str = "natural_breaks"
    palette: str = "deprivation"
    fmt: str = ",.1f"
    reverse: bool = False


#: Columns of :meth:`assetmap.area.load.Area.area_summary` the map knows how to shade by.
MEASURES: dict[str, Measure] = {
    "avg_score": Measure("Population-weighted IMD score (higher is more deprived)"),
    "share_pop_decile_1_2": Measure("Share of residents in the 20% most deprived LSOAs nationally", fmt=".0%"),
    "population": Measure("Population", palette="count", fmt=",.0f"),
    "avg_rank": Measure("Population-weighted average IMD rank (higher is more deprived)", fmt=",.0f"),
    "avg_rank_where_1_most_deprived": Measure(
        "Population-weighted average IMD rank (1 is most deprived)", fmt=",.0f", reverse=True
    ),
    "share_lsoas_decile_1_2": Measure("Share of LSOAs in the 20% most deprived nationally", fmt=".0%"),
    "prop_lsoas_most_deprived_10pct": Measure("Share of LSOAs in the 10% most deprived nationally", fmt=".0%"),
    "extent": Measure("Extent: weighted share of residents in the most deprived 30% of LSOAs", fmt=".0%"),
    "n_assets": Measure("Approved assets", palette="count", fmt=",.0f"),
    "imd_decile": Measure("National IMD decile (1 is most deprived)", scheme="deciles", fmt=".0f"),
    "access_share": Measure("Share of residents within reach", palette="count", fmt=".0%"),
    "need_percentile": Measure("Need: national percentile of the IMD score", fmt=".0f"),
    "gap_index": Measure("Gap index: need x share of residents out of reach", fmt=".2f"),
    "bivariate_class": Measure("Need and access", scheme="bivariate"),
}

#: Style of asset popups (see :func:`popup_html`), added once to every map's page.
POPUP_CSS: str = (
    ".am-popup{min-width:180px;max-width:300px}.am-popup .am-type{color:#444}"
    ".am-popup table{font-size:0.85rem;margin-top:4px}"
    ".am-popup th{text-align:left;padding-right:6px;vertical-align:top}"
)

#: CSS class of the walking-catchment shading.
CATCHMENT_CLASS: str = "am-catchment"

#: Outline and fill of the walking catchment: a dark green that reads over every shading used.
CATCHMENT_COLOUR: str = "#00441b"

# Every character that means something to HTML, to JavaScript template literals (folium
# writes popups and tooltips into backtick strings) or to Jinja (folium and branca compile
# the script they render as a template a second time, so "{{ 7*7 }}" in a group's name would
# be evaluated on the server), replaced by its character reference in one pass: no "{" is
# left, so no "{{", "{%" or "{#" can reach a template.
_SAFE_CHARS = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "'": "&#x27;",
        "`": "&#96;",
        "$": "&#36;",
        "\\": "&#92;",
        "{": "&#123;",
        "}": "&#125;",
        "#": "&#35;",
    }
)


def safe_text(value: Any) -> str:
    """Return ``value`` as text that is inert in HTML, in folium's JavaScript strings and in Jinja.

    This is the one way user text (record fields, area and ward names, file
    names, notes) reaches a folium or branca map. ``html.escape`` alone is not
    enough there: folium writes popup and tooltip HTML into JavaScript template
    literals, where a backtick, ``${`` or a backslash would run as code, and
    branca compiles each rendered script again as a Jinja template, where
    ``{{ }}``, ``{% %}`` and ``{# #}`` would be evaluated on the server. The
    result shows exactly the original text wherever the browser reads it as HTML.

    Parameters
    ----------
    value : object
        Anything; None and NaN become an empty string.

    Returns
    -------
    str
        Text with no ``<``, ``>``, quote, backtick, ``$``, backslash, ``{`` or ``}``,
        and ``#`` only inside character references.
    """
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA or value is pd.NaT:
        return ""
    return str(value).translate(_SAFE_CHARS)


def _present(value: Any) -> bool:
    return not is_blank(value)


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


def _check_crs(frame: gpd.GeoDataFrame, what: str) -> None:
    if frame.crs is None:
        raise CRSError(
            f"The {what} layer has no coordinate reference system. Set it with "
            f"`.set_crs('{settings.analysis_crs}')` (or the CRS the coordinates are in) before mapping."
        )


def _round_coords(geoms: np.ndarray) -> np.ndarray:
    return shapely.transform(geoms, lambda xy: np.round(xy, COORD_DECIMALS))


#: Geometries already drawn for the screen, by the identity of the geometry objects drawn
#: (see :func:`_for_screen`); each entry keeps its source alive so no identity is reused.
_SCREEN_CACHE: OrderedDict[tuple[Any, ...], tuple[np.ndarray, np.ndarray]] = OrderedDict()
_SCREEN_CACHE_SIZE: int = 32
_SCREEN_LOCK = threading.Lock()


def _reproject_for_screen(geom: gpd.GeoSeries, simplify_m: float) -> np.ndarray:
    if simplify_m > 0 and geom.crs.is_projected:
        try:
            geom = geom.simplify_coverage(simplify_m)
        except (shapely.errors.GEOSException, ValueError):
            # Overlapping neighbourhoods are not a coverage: simplify each on its own.
            geom = geom.simplify(simplify_m, preserve_topology=True)
    return _round_coords(geom.to_crs(settings.storage_crs).to_numpy())


def _for_screen(geom: gpd.GeoSeries, simplify_m: float = 0.0) -> gpd.GeoSeries:
    """Simplify (in metres, keeping shared edges shared), reproject to WGS84 and round.

    The result is remembered for the same geometry objects. The app draws the same
    areas and assets on every run, each run on a new thread, and pyproj builds its
    transformation afresh on each thread (tens of milliseconds); geometries are
    immutable, so the same objects always give the same drawing.
    """
    source = geom.to_numpy()
    key = (geom.crs.srs if geom.crs is not None else None, float(simplify_m), *map(id, source))
    with _SCREEN_LOCK:
        hit = _SCREEN_CACHE.get(key)
        if hit is not None:
            _SCREEN_CACHE.move_to_end(key)
            return gpd.GeoSeries(hit[1], index=geom.index, crs=settings.storage_crs)
    drawn = _reproject_for_screen(geom, simplify_m)
    with _SCREEN_LOCK:
        _SCREEN_CACHE[key] = (source, drawn)
        while len(_SCREEN_CACHE) > _SCREEN_CACHE_SIZE:
            _SCREEN_CACHE.popitem(last=False)
    return gpd.GeoSeries(drawn, index=geom.index, crs=settings.storage_crs)


def _screen_geometry(areas: gpd.GeoDataFrame, simplify_m: float) -> gpd.GeoSeries:
    """Simplify (in metres, keeping shared edges shared) and reproject to WGS84."""
    return _for_screen(areas.geometry, simplify_m)


def classify_measure(values: Any, measure: Measure, *, scheme: str | None = None, k: int = 5) -> styles.Classification:
    """Class a column for shading by ``measure`` (bivariate codes, IMD deciles or numbers).

    Parameters
    ----------
    values : array-like
        The column.
    measure : Measure
        How it is shaded.
    scheme : str, optional
        Override of the measure's own scheme (numbers only).
    k : int, default 5
        Number of classes for classed schemes.

    Returns
    -------
    Classification
    """
    chosen = scheme or measure.scheme
    if chosen == "bivariate":
        return styles.bivariate(values)
    return styles.classify(
        values, scheme=chosen, k=k, palette_name=measure.palette, fmt=measure.fmt, reverse=measure.reverse
    )


def _value_text(classes: styles.Classification, i: int, value: Any, fmt: str) -> str:
    if classes.scheme == "bivariate":
        c = int(classes.classes[i])
        return "no data" if c < 0 else classes.labels[c]
    return _format_value(value, fmt)


def _format_value(value: Any, fmt: str) -> str:
    if not _present(value):
        return "no data"
    try:
        return format(float(value), fmt)
    except (TypeError, ValueError):
        return safe_text(value)


def _feature_collection(frame: gpd.GeoDataFrame, properties: list[dict[str, Any]]) -> dict[str, Any]:
    geoms = shapely.to_geojson(frame.geometry.to_numpy())
    features = [
        {"type": "Feature", "id": str(i), "properties": props, "geometry": json.loads(g)}
        for i, (props, g) in enumerate(zip(properties, geoms, strict=True))
    ]
    return {"type": "FeatureCollection", "features": features}


def _link(url: Any) -> str:
    """Return a website as a link when it is http(s), else as plain text (no javascript: links)."""
    if not _present(url):
        return ""
    text = str(url).strip()
    if re.match(r"^https?://", text, re.I):
        target = text
    elif re.match(r"^[a-z][a-z0-9+.-]*:(?!\d)", text, re.I):
        return safe_text(text)  # another scheme (javascript:, data:, file:...): never a link
    else:
        target = f"https://{text}"
    if not urlparse(target).netloc:
        return safe_text(text)
    return f'<a href="{safe_text(target)}" target="_blank" rel="noopener noreferrer">{safe_text(text)}</a>'


def _mailto(email: Any) -> str:
    if not _present(email):
        return ""
    text = str(email).strip()
    if re.fullmatch(r"[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+", text):
        return f'<a href="mailto:{safe_text(text)}">{safe_text(text)}</a>'
    return safe_text(text)


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
        keys that have a value (escaped text, or a link made by :func:`_link` or :func:`_mailto`).
    """
    get = record.get
    type_key = get("type")
    try:
        type_label = taxonomy.asset_type(str(type_key)).label if _present(type_key) else ""
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
    address = ", ".join(str(get(k)).strip() for k in ("address", "postcode") if _present(get(k)))
    rows = {
        "a": safe_text(address),
        "o": safe_text(get("opening_times")),
        "w": _link(get("website")),
        "m": _mailto(get("email")),
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


def _luminance(colour: str) -> float:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def legend_html(
    classification: styles.Classification,
    title: str,
    *,
    pillars: Sequence[tuple[str, str, int]] = (),
    note: str | None = None,
    fictional: bool = False,
    catchment: str | None = None,
) -> str:
    """Return the map legend as an HTML block with every text escaped.

    Parameters
    ----------
    classification : Classification
        The area shading, from :func:`assetmap.render.styles.classify`.
    title : str
        What the shading shows.
    pillars : sequence of (key, name, count)
        Pillars drawn as points, with the number of points each.
    note : str, optional
        A line under the legend (assets not drawn, and why).
    fictional : bool, default False
        Say in the legend that the data is invented.
    catchment : str, optional
        What the catchment shading shows, when the map has one.

    Returns
    -------
    str
    """
    parts = [
        '<div class="am-legend" role="region" aria-label="Map legend" style="background:rgba(255,255,255,0.94);'
        "color:#111;padding:6px 10px;border:1px solid #777;border-radius:4px;font:12px/1.3 sans-serif;"
        'max-width:230px;max-height:45vh;overflow-y:auto"><details open>'
        '<summary style="cursor:pointer;font-weight:bold">Legend</summary>'
    ]
    if fictional:
        parts.append(
            '<div class="am-fictional" style="font-weight:bold;color:#7a0000;margin-bottom:4px">'
            "Fictional demo data</div>"
        )
    parts.append(f'<div style="font-weight:bold;margin-bottom:4px">{safe_text(title)}</div>')
    if classification.scheme == "bivariate":
        parts.append(_bivariate_legend(classification))
    else:
        parts.extend(_class_rows(classification))
    if catchment:
        parts.append(
            f'<div style="margin-top:4px"><span style="display:inline-block;width:14px;height:12px;margin-right:6px;'
            f'vertical-align:middle;border:2px dashed {CATCHMENT_COLOUR};background:rgba(0,68,27,0.15)"></span>'
            f"{safe_text(catchment)}</div>"
        )
    if pillars:
        parts.append('<div style="font-weight:bold;margin:6px 0 2px">Assets by pillar</div>')
        for key, name, count in pillars:
            parts.append(
                f'<div><span style="display:inline-block;margin-right:6px;vertical-align:middle;line-height:0">'
                f"{pillar_symbol_img(key)}</span>{safe_text(name)} ({count:,})</div>"
            )
    if note:
        parts.append(f'<div style="margin-top:6px;color:#333">{safe_text(note)}</div>')
    parts.append("</details></div>")
    return "".join(parts)


_SWATCH = "display:inline-block;width:14px;height:12px;margin-right:6px;vertical-align:middle;border:1px solid #555"


def _class_rows(classification: styles.Classification) -> list[str]:
    parts = []
    rows = list(zip(classification.colours, classification.labels, strict=True))
    if rows and _luminance(rows[-1][0]) < _luminance(rows[0][0]):
        rows = rows[::-1]  # darkest (most deprived, or most) at the top, as published maps do
    for colour, label in rows:
        parts.append(f'<div><span style="{_SWATCH};background:{colour}"></span>{safe_text(label)}</div>')
    if classification.n_missing:
        parts.append(f'<div><span style="{_SWATCH};background:{styles.NO_DATA_COLOUR}"></span>No data</div>')
    if classification.scheme and classification.labels:
        parts.append(f'<div style="color:#444;font-size:11px">Classes: {safe_text(classification.scheme)}</div>')
    return parts


def _bivariate_legend(classification: styles.Classification) -> str:
    """Return a 3 x 3 key: need rising upward, access to the right, each cell with its count of areas."""
    counts = dict(zip(styles.BIVARIATE_COLOURS, classification.counts, strict=True))
    cell = "width:22px;height:22px;text-align:center;font-size:10px;line-height:22px;border:1px solid #fff"
    rows = []
    for need in (3, 2, 1):
        cells = "".join(
            f'<td title="{safe_text(styles.BIVARIATE_WORDS[need])} need, '
            f'{safe_text(styles.BIVARIATE_WORDS[access])} access" '
            f'style="{cell};background:{styles.BIVARIATE_COLOURS[f"{need}-{access}"]};'
            f'color:{"#fff" if _luminance(styles.BIVARIATE_COLOURS[f"{need}-{access}"]) < 140 else "#111"}">'
            f"{counts[f'{need}-{access}']}</td>"
            for access in (1, 2, 3)
        )
        label = styles.BIVARIATE_WORDS[need].capitalize() if need != 2 else ""
        rows.append(f'<tr><th style="font-weight:normal;text-align:right;padding-right:4px">{label}</th>{cells}</tr>')
    axis = '<tr><th></th><td colspan="3" style="text-align:center">Low &rarr; high access</td></tr>'
    missing = (
        f'<div><span style="{_SWATCH};background:{styles.NO_DATA_COLOUR}"></span>No data</div>'
        if classification.n_missing
        else ""
    )
    return (
        '<div class="am-bivariate" role="img" aria-label="Bivariate key: need rises upward, access to the right; '
        'the top-left cell is high need with low access">'
        '<div style="font-size:11px">Need &uarr;</div>'
        f'<table style="border-collapse:collapse;font-size:11px">{"".join(rows)}{axis}</table>'
        '<div style="font-size:11px;margin-top:2px">Top left (pink): high need, low access. Numbers: areas.</div>'
        f"{missing}</div>"
    )


class _Legend(MacroElement):
    """A legend drawn as a Leaflet control, so it stacks with the other controls instead of covering them."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.control({position: {{ this.position|tojson }}});
        {{ this.get_name() }}.onAdd = function () {
            var div = L.DomUtil.create("div", "leaflet-control");
            div.innerHTML = {{ this.html|tojson }};
            L.DomEvent.disableClickPropagation(div);
            L.DomEvent.disableScrollPropagation(div);
            return div;
        };
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, html_text: str, position: str = "bottomleft"):
        super().__init__()
        self._name = "Legend"
        self.html = html_text
        self.position = position


class _Attribution(MacroElement):
    """Adds a line to the map's attribution control (shown whether or not there are tiles)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, text: str):
        super().__init__()
        self._name = "Attribution"
        self.text = text


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
}
"""


def _script_json(value: Any) -> str:
    """JSON for inside a <script>: the characters that could end it or start markup are escaped."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _bind_asset_popup(props: list[dict[str, Any]], taxonomy: Taxonomy) -> str:
    numbers = sorted({e for p in props for e in p.get("e", []) if isinstance(e, int)})
    names = {n: safe_text(taxonomy.element(n).name) for n in numbers}
    rows = [list(r) for r in POPUP_ROWS]
    return _BIND_ASSET_POPUP.replace("ELEMENTS", _script_json(names)).replace("ROWS", _script_json(rows))


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


def _point_layers(
    drawn: gpd.GeoDataFrame,
    pillars: Sequence[str] | None,
    taxonomy: Taxonomy,
    cluster_above: int,
    libs_url: str | None = None,
) -> tuple[list[folium.FeatureGroup], list[tuple[str, str, int]]]:
    """Return one layer of points per pillar, and (key, name, count) of each."""
    legend_pillars: list[tuple[str, str, int]] = []
    layers: list[folium.FeatureGroup] = []
    if not len(drawn):
        return layers, legend_pillars
    # Only the fields a point shows: a register has dozens of columns, and splitting and
    # reading all of them once per pillar was most of this function's time.
    keep = [c for c in _POINT_FIELDS if c in drawn.columns]
    points = _for_screen(drawn.geometry)
    drawn = gpd.GeoDataFrame(drawn[keep], geometry=points.to_numpy(), crs=points.crs)
    elements = drawn["elements"] if "elements" in drawn.columns else pd.Series(None, index=drawn.index)
    own = drawn["pillars"] if "pillars" in drawn.columns else pd.Series(None, index=drawn.index)
    main = [
        _main_pillar(e, _pillars_of_row(e, p, taxonomy), pillars, taxonomy) for e, p in zip(elements, own, strict=True)
    ]
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
        legend_pillars.append((key, name, len(group)))
        colour = styles.pillar_colour(key)
        layer_name = f'<span style="color:{colour}">&#9679;</span> {safe_text(name)} ({len(group):,})'
        # Each pillar is a plain feature group (so the app can send it alone, without redrawing
        # the map), holding the clusterer when there are many points.
        layer = folium.FeatureGroup(name=layer_name)
        layers.append(layer)
        parent = layer
        if cluster:
            parent = folium.plugins.MarkerCluster(
                icon_create_function=_cluster_icon(colour),
                options={"showCoverageOnHover": False, "maxClusterRadius": 40},
                control=False,
            ).add_to(layer)
            _use_libs(parent, CLUSTER_JS, CLUSTER_CSS, libs_url)
        props = [_asset_properties(row, taxonomy) for row in group.drop(columns=group.geometry.name).to_dict("records")]
        folium.GeoJson(
            _feature_collection(group, props),
            name=layer_name,
            control=False,
            # A marker with the pillar's symbol: shaped as well as coloured by pillar, and
            # (unlike a drawn circle) reachable with the Tab key, opening its popup with Enter.
            marker=folium.Marker(
                icon=folium.DivIcon(
                    html=pillar_symbol(key), icon_size=(16, 16), icon_anchor=(8, 8), class_name=ASSET_CLASS
                )
            ),
            on_each_feature=JsCode(_bind_asset_popup(props, taxonomy)),
        ).add_to(parent)
    return layers, legend_pillars


def area_map(
    areas: gpd.GeoDataFrame,
    assets: gpd.GeoDataFrame | None = None,
    *,
    attribution: str,
    tiles: str | None = DEFAULT_TILES,
    **options: Any,
) -> folium.Map:
    """Draw areas shaded by a measure, with the public assets on top, as a folium map.

    Parameters
    ----------
    areas, assets
        As for :func:`map_layers`.
    attribution : str
        Data attribution and licences, added to the map's attribution line.
    tiles : str or None, default "OpenStreetMap"
        Basemap tiles; None for none (the map then needs no network at all for tiles).
    **options
        The other parameters of :func:`map_layers` (``fictional`` and ``libs_url`` also
        apply to the base map).

    Returns
    -------
    folium.Map

    Raises
    ------
    CRSError
        When a layer has no CRS.
    KeyError
        When ``areas`` lacks ``code``, ``name`` or the ``value`` column.
    """
    layers = map_layers(areas, assets, **options)
    m = base_map(
        attribution=attribution,
        fictional=options.get("fictional", False),
        tiles=tiles,
        bounds=layers.bounds,
        libs_url=options.get("libs_url"),
    )
    for group in layers.groups:
        group.add_to(m)
    _Legend(layers.legend).add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    return m


@dataclass
class MapLayers:
    """What a map draws over its base: feature groups, their legend and their extent.

    Attributes
    ----------
    groups : list of folium.FeatureGroup
        Areas, then the catchment (if any), then one group of points per pillar.
    legend : str
        The legend as escaped HTML (see :func:`legend_html`).
    bounds : list or None
        ``[[south, west], [north, east]]`` of the areas in WGS84; None when there are none.
    """

    groups: list[folium.FeatureGroup]
    legend: str
    bounds: list[list[float]] | None


def base_map(
    *,
    attribution: str,
    fictional: bool = False,
    tiles: str | None = DEFAULT_TILES,
    bounds: list[list[float]] | None = None,
    libs_url: str | None = None,
) -> folium.Map:
    """Return the map every view shares: tiles, scale, attribution and extent, with no data layers.

    The app draws this once per area and sends the data layers of
    :func:`map_layers` to it, so a change of filter redraws the layers
    without reloading the map (or losing the reader's pan and zoom).

    Parameters
    ----------
    attribution : str
        Data attribution and licences, added to the map's attribution line.
    fictional : bool, default False
        Say in the attribution that the data is invented.
    tiles : str or None, default "OpenStreetMap"
        Basemap tiles; None for none.
    bounds : list, optional
        ``[[south, west], [north, east]]`` in WGS84 to fit the view to.
    libs_url : str, optional
        Address of a folder holding copies of the map's scripts and stylesheets
        (:data:`MAP_JS`, :data:`CLUSTER_JS` and their CSS, at their ``path``), ending
        in "/". By default they come from a public CDN.

    Returns
    -------
    folium.Map
    """
    m = folium.Map(tiles=None, control_scale=True, zoom_snap=0.25)
    _use_libs(m, MAP_JS, MAP_CSS, libs_url)
    if tiles:
        folium.TileLayer(tiles, name="Basemap", control=False).add_to(m)
    # A long attribution would otherwise wrap across the whole width and cover the scale bar.
    m.get_root().header.add_child(
        folium.Element(f"<style>.leaflet-control-attribution{{max-width:65%;font-size:11px}}{POPUP_CSS}</style>")
    )
    data_attribution = (
        "Fictional demo data. " if fictional and "fictional" not in attribution.lower() else ""
    ) + attribution
    _Attribution(safe_text(data_attribution)).add_to(m)
    if bounds is not None:
        m.fit_bounds(bounds)
    return m


def map_layers(
    areas: gpd.GeoDataFrame,
    assets: gpd.GeoDataFrame | None = None,
    *,
    value: str = "avg_score",
    value_label: str | None = None,
    fictional: bool = False,
    pillars: Sequence[str] | None = None,
    taxonomy: Taxonomy | None = None,
    scheme: str | None = None,
    k: int = 5,
    cluster_above: int = CLUSTER_ABOVE,
    simplify_m: float = 2.0,
    catchment: gpd.GeoSeries | None = None,
    catchment_label: str | None = None,
    selected: str | None = None,
    libs_url: str | None = None,
) -> MapLayers:
    """Return the data layers of :func:`area_map` and their legend, without a map to hold them.

    Parameters
    ----------
    areas : GeoDataFrame
        One row per area with ``code``, ``name``, ``geometry`` (any known CRS,
        normally EPSG:27700) and the ``value`` column, such as
        :meth:`assetmap.area.load.Area.area_summary`.
    assets : GeoDataFrame, optional
        The asset register with point geometry. Only ``approved`` records are
        drawn; sensitive ones are left out of the point layer (the legend says
        how many); private fields are never read.
    value : str, default "avg_score"
        Column to shade by (see :data:`MEASURES` for the known ones).
    value_label : str, optional
        Legend title (default: from :data:`MEASURES`, else the column name).
    fictional : bool, default False
        Say on the map that the data is invented.
    pillars : sequence of str, optional
        Pillar keys whose assets to draw (default: all).
    taxonomy : Taxonomy, optional
        Pillar names, type labels and element names (default: the built-in taxonomy).
    scheme : str, optional
        Classification scheme (default: the measure's own).
    k : int, default 5
        Number of classes for classed schemes.
    cluster_above : int, default 150
        Cluster each pillar's points when more than this many points are drawn in all.
    simplify_m : float, default 2.0
        Simplification tolerance for area outlines, in the layer's units (metres
        for EPSG:27700); shared edges stay shared. 0 to keep every vertex.
    catchment : GeoSeries, optional
        Land within reach of an asset (see :func:`assetmap.area.coverage.catchment`),
        drawn as a dashed, lightly filled outline above the shading.
    catchment_label : str, optional
        What the catchment shows, for the legend.
    selected : str, optional
        Code of an area to outline boldly (the one chosen for its profile).
    libs_url : str, optional
        Address of a folder holding copies of the map's scripts and stylesheets
        (:data:`MAP_JS`, :data:`CLUSTER_JS` and their CSS, at their ``path``), ending
        in "/". By default they come from a public CDN.

    Returns
    -------
    MapLayers

    Raises
    ------
    CRSError
        When a layer has no CRS.
    KeyError
        When ``areas`` lacks ``code``, ``name`` or the ``value`` column.
    """
    _check_crs(areas, "areas")
    missing = [c for c in ("code", "name", value) if c not in areas.columns]
    if missing:
        raise KeyError(
            f"The areas layer has no column {', '.join(repr(c) for c in missing)}; "
            f"it has: {', '.join(map(str, areas.columns))}."
        )
    taxonomy = taxonomy or load_taxonomy()
    measure = MEASURES.get(value, Measure(value_label or value))
    label = value_label or measure.label

    areas = areas[~(areas.geometry.isna() | areas.geometry.is_empty)]
    screen = _screen_geometry(areas, simplify_m)
    classes = classify_measure(areas[value].to_numpy(), measure, scheme=scheme, k=k)

    props = [
        {
            "kind": "area",
            "code": safe_text(code),
            "name": safe_text(name),
            "value": _value_text(classes, i, v, measure.fmt),
            "fill": classes.colour_of(i),
            "selected": selected is not None and code == selected,
        }
        for i, (code, name, v) in enumerate(zip(areas["code"], areas["name"], areas[value], strict=True))
    ]
    area_group = folium.FeatureGroup(name=safe_text(label))
    folium.GeoJson(
        _feature_collection(gpd.GeoDataFrame(geometry=screen), props),
        name=safe_text(label),
        style_function=lambda f: {
            "fillColor": f["properties"]["fill"],
            "fillOpacity": 0.7,
            "color": styles.BOUNDARY_COLOUR,
            "weight": 4 if f["properties"]["selected"] else 1,
            "className": AREA_CLASS,
        },
        highlight_function=lambda f: {"weight": 3, "fillOpacity": 0.85},
        tooltip=folium.GeoJsonTooltip(fields=["name", "value"], aliases=["Area", safe_text(label)], sticky=True),
        control=False,
    ).add_to(area_group)
    groups = [area_group]
    if catchment is not None:
        group = _catchment_layer(catchment, catchment_label or "Within reach")
        if group is not None:
            groups.append(group)

    drawn, n_hidden, n_unplaced = points_to_draw(assets, pillars, taxonomy)
    note = " ".join(_notes(n_hidden, n_unplaced)) or None
    point_groups, legend_pillars = (
        _point_layers(drawn, pillars, taxonomy, cluster_above, libs_url) if drawn is not None else ([], [])
    )
    groups += point_groups

    legend = legend_html(
        classes,
        label,
        pillars=legend_pillars,
        note=note,
        fictional=fictional,
        catchment=(catchment_label or "Within reach") if catchment is not None else None,
    )
    b = screen.total_bounds
    bounds = [[float(b[1]), float(b[0])], [float(b[3]), float(b[2])]] if np.isfinite(b).all() else None
    return MapLayers(groups=groups, legend=legend, bounds=bounds)


def _catchment_layer(catchment: gpd.GeoSeries, label: str) -> folium.FeatureGroup | None:
    _check_crs(catchment, "catchment")
    shapes = catchment[~(catchment.isna() | catchment.is_empty)].to_crs(settings.storage_crs)
    if not len(shapes):
        return None
    geoms = gpd.GeoSeries(_round_coords(shapes.to_numpy()), crs=shapes.crs)
    group = folium.FeatureGroup(name=safe_text(label))
    folium.GeoJson(
        _feature_collection(gpd.GeoDataFrame(geometry=geoms), [{"kind": "catchment"}] * len(geoms)),
        name=safe_text(label),
        style_function=lambda f: {
            "color": CATCHMENT_COLOUR,
            "weight": 2,
            "dashArray": "6 4",
            "fillColor": CATCHMENT_COLOUR,
            "fillOpacity": 0.15,
            "className": CATCHMENT_CLASS,
        },
        # Clicks and hovers go through to the areas underneath.
        interactive=False,
        control=False,
    ).add_to(group)
    return group


def _notes(n_hidden: int, n_unplaced: int) -> list[str]:
    notes = []
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
    _check_crs(public, "assets")
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
    _, n_hidden, n_unplaced = points_to_draw(assets, pillars, taxonomy)
    return _notes(n_hidden, n_unplaced)


def map_table(
    areas: pd.DataFrame,
    assets: gpd.GeoDataFrame | None = None,
    *,
    value: str = "avg_score",
    value_label: str | None = None,
    pillars: Sequence[str] | None = None,
    taxonomy: Taxonomy | None = None,
) -> pd.DataFrame:
    """Return the table twin of :func:`area_map`: what the map shows, as plain rows.

    Parameters
    ----------
    areas : DataFrame
        Areas with ``code``, ``name`` and the ``value`` column.
    assets : GeoDataFrame, optional
        The asset register; approved records serving ``pillars`` are counted
        per ``area_code`` (sensitive ones included, as the map counts them at area level).
    value : str, default "avg_score"
        The column the map is shaded by.
    value_label : str, optional
        Its column title (default: from :data:`MEASURES`).
    pillars : sequence of str, optional
        Pillar keys on show (default: all).
    taxonomy : Taxonomy, optional
        Used where records have elements but no pillars.

    Returns
    -------
    DataFrame
        ``Code``, ``Area``, the value column under its label, and ``Assets shown``;
        sorted with the darkest-shaded areas first.
    """
    measure = MEASURES.get(value, Measure(value_label or value))
    label = value_label or measure.label
    bivariate = measure.scheme == "bivariate"
    if bivariate:
        classes = styles.bivariate(areas[value].to_numpy())
        column = [classes.labels[c] if c >= 0 else None for c in classes.classes]
        # High need first, then low access first: the pink corner of the key leads.
        order = [(-int(v[0]), int(v[2])) if isinstance(v, str) else (9, 9) for v in areas[value]]
    else:
        column = pd.to_numeric(areas[value], errors="coerce").to_numpy()
    out = pd.DataFrame({"Code": areas["code"].to_numpy(), "Area": areas["name"].to_numpy(), label: column})
    public = public_records(assets)
    if public is not None and "area_code" in public.columns:
        public = filter_by_pillars(public, pillars, taxonomy)
        counts = public.groupby("area_code").size()
        out["Assets shown"] = out["Code"].map(counts).fillna(0).astype(int)
    else:
        out["Assets shown"] = 0
    if bivariate:
        return out.iloc[sorted(range(len(out)), key=order.__getitem__)].reset_index(drop=True)
    return out.sort_values(label, ascending=measure.reverse, na_position="last", kind="stable").reset_index(drop=True)
