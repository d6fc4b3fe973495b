"""The map shell: the base map every view shares, the data layers put together over it, and the table twin."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import MacroElement
from jinja2 import Template

from assetmap.record import public_records
from assetmap.render import styles
from assetmap.render.webmap.layers import MEASURES, Measure, area_layer, catchment_layer, classify_measure
from assetmap.render.webmap.legend import LegendControl, legend_html
from assetmap.render.webmap.points import (
    POPUP_CSS,
    filter_by_pillars,
    n_drawn_beyond,
    point_layers,
    point_notes,
    points_to_draw,
)
from assetmap.render.webmap.safe import safe_text
from assetmap.render.webmap.screen import MAP_CSS, MAP_JS, check_crs, screen_geometry, use_libs
from assetmap.taxonomy import Taxonomy, load_taxonomy

#: Default tiles (OpenStreetMap's standard layer, which needs no key). Tiles that fail
#: to load (no network) leave the map working, only without a background.
DEFAULT_TILES: str = "OpenStreetMap"

#: Above this many points, each pillar's assets are clustered.
CLUSTER_ABOVE: int = 150

#: A clicked ward drew the browser's black focus rectangle around its outline's box: the
#: outline shows for keyboard focus only. Leaflet keeps tooltips on one line, so a long name
#: ran off the map's edge and was cut: they wrap instead, within the map's width.
MAP_FIX_CSS: str = (
    ".leaflet-interactive:focus{outline:none}"
    ".leaflet-container :focus-visible,.leaflet-interactive:focus-visible,.leaflet-marker-icon:focus-visible"
    f"{{outline:3px solid {styles.FOCUS_COLOUR};outline-offset:2px}}"
    ".leaflet-tooltip{white-space:normal;overflow-wrap:anywhere;max-width:min(280px,70vw);width:max-content}"
)


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


class _IconPath(MacroElement):
    """Tells Leaflet where its default marker images are: it guesses wrong from inside the app's map frame."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        L.Icon.Default.imagePath = {{ this.path|tojson }};
        {% endmacro %}
        """
    )

    def __init__(self, path: str):
        super().__init__()
        self._name = "IconPath"
        self.path = path


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
        The other parameters of :func:`map_layers` (``fictional`` and the ``libs_url`` of
        its ``display`` also apply to the base map).

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
        libs_url=options.get("display", MapDisplay()).libs_url,
    )
    for group in layers.groups:
        group.add_to(m)
    LegendControl(layers.legend).add_to(m)
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
    use_libs(m, MAP_JS, MAP_CSS, libs_url)
    if libs_url is not None:
        _IconPath(f"{libs_url}leaflet/images/").add_to(m)
    if tiles:
        folium.TileLayer(tiles, name="Basemap", control=False).add_to(m)
    # A long attribution would otherwise wrap across the whole width and cover the scale bar.
    # A marker or control reached with the Tab key shows a ring (Leaflet's own focus is faint or none);
    # the attribution's links are underlined, not told from its text by colour alone.
    m.get_root().header.add_child(  # type: ignore[attr-defined]  # the root is a Figure
        folium.Element(
            f"<style>.leaflet-control-attribution{{max-width:65%;font-size:11px}}{POPUP_CSS}{MAP_FIX_CSS}"
            ".leaflet-container .leaflet-control-attribution a{text-decoration:underline}</style>"
        )
    )
    data_attribution = (
        "Fictional demo data. " if fictional and "fictional" not in attribution.lower() else ""
    ) + attribution
    _Attribution(safe_text(data_attribution)).add_to(m)
    if bounds is not None:
        m.fit_bounds(bounds)
    return m


@dataclass(frozen=True)
class MapDisplay:
    """How :func:`map_layers` draws and labels its layers: none of it changes which areas or assets are shown.

    Attributes
    ----------
    value_label : str, optional
        Legend title of the shading (default: from :data:`MEASURES`, else the column name).
    catchment_label : str, optional
        What the catchment shows, for the legend (default "Within reach").
    selected : str, optional
        Code of an area to outline boldly (the one chosen for its profile).
    scheme : str, optional
        Classification scheme (default: the measure's own).
    k : int, default 5
        Number of classes for classed schemes.
    cluster_above : int, default 150
        Cluster each pillar's points when more than this many points are drawn in all.
    simplify_m : float, default 2.0
        Simplification tolerance for area outlines, in the layer's units (metres
        for EPSG:27700); shared edges stay shared. 0 to keep every vertex.
    libs_url : str, optional
        Address of a folder holding copies of the map's scripts and stylesheets
        (:data:`MAP_JS`, :data:`CLUSTER_JS` and their CSS, at their ``path``), ending
        in "/". By default they come from a public CDN.
    """

    value_label: str | None = None
    catchment_label: str | None = None
    selected: str | None = None
    scheme: str | None = None
    k: int = 5
    cluster_above: int = CLUSTER_ABOVE
    simplify_m: float = 2.0
    libs_url: str | None = None


def map_layers(
    areas: gpd.GeoDataFrame,
    assets: gpd.GeoDataFrame | None = None,
    *,
    value: str = "avg_score",
    fictional: bool = False,
    pillars: Sequence[str] | None = None,
    taxonomy: Taxonomy | None = None,
    catchment: gpd.GeoSeries | None = None,
    display: MapDisplay = MapDisplay(),
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
    fictional : bool, default False
        Say on the map that the data is invented.
    pillars : sequence of str, optional
        Pillar keys whose assets to draw (default: all).
    taxonomy : Taxonomy, optional
        Pillar names, type labels and element names (default: the built-in taxonomy).
    catchment : GeoSeries, optional
        Land within reach of an asset (see :func:`assetmap.render.views.catchment`),
        drawn as a dashed, lightly filled outline above the shading.
    display : MapDisplay, optional
        Labels, the selected area, classing, clustering, simplification and where the
        scripts come from (default: :class:`MapDisplay`'s defaults).

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
    _check_areas(areas, value)
    taxonomy = taxonomy or load_taxonomy()
    measure = MEASURES.get(value, Measure(display.value_label or value))
    label = display.value_label or measure.label

    areas = areas[~(areas.geometry.isna() | areas.geometry.is_empty)]
    screen = screen_geometry(areas, display.simplify_m)
    classes = classify_measure(areas[value].to_numpy(), measure, scheme=display.scheme, k=display.k)
    groups = [area_layer(areas, screen, value, classes, measure, label, display.selected)]
    if catchment is not None:
        group = catchment_layer(catchment, display.catchment_label or "Within reach")
        if group is not None:
            groups.append(group)

    point_groups, legend_pillars, note = _points(assets, pillars, taxonomy, display)
    groups += point_groups

    legend = legend_html(
        classes,
        label,
        pillars=legend_pillars,
        note=note,
        fictional=fictional,
        catchment=(display.catchment_label or "Within reach") if catchment is not None else None,
    )
    b = screen.total_bounds
    bounds = [[float(b[1]), float(b[0])], [float(b[3]), float(b[2])]] if np.isfinite(b).all() else None
    return MapLayers(groups=groups, legend=legend, bounds=bounds)


def _points(
    assets: gpd.GeoDataFrame | None, pillars: Sequence[str] | None, taxonomy: Taxonomy, display: MapDisplay
) -> tuple[list[folium.FeatureGroup], list[tuple[str, str, int]], str | None]:
    """Return the layers of points per pillar, (key, name, count) of each, and the note on assets not drawn."""
    drawn, n_hidden, n_unplaced = points_to_draw(assets, pillars, taxonomy)
    note = " ".join(point_notes(n_hidden, n_unplaced, n_drawn_beyond(drawn))) or None
    point_groups, legend_pillars = (
        point_layers(drawn, pillars, taxonomy, display.cluster_above, display.libs_url)
        if drawn is not None
        else ([], [])
    )
    return point_groups, legend_pillars, note


def _check_areas(areas: gpd.GeoDataFrame, value: str) -> None:
    """Refuse areas with no CRS, or without ``code``, ``name`` or the ``value`` column."""
    check_crs(areas, "areas")
    missing = [c for c in ("code", "name", value) if c not in areas.columns]
    if missing:
        raise KeyError(
            f"The areas layer has no column {', '.join(repr(c) for c in missing)}; "
            f"it has: {', '.join(map(str, areas.columns))}."
        )


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
