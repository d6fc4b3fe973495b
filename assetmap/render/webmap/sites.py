"""The planning map's layers: the area's outlines, reach before and added by candidate sites, and numbered sites.

Candidate sites are numbered discs and suggested sites numbered squares ("S1"),
so shape as well as colour tells them apart; the reach now is the dashed green
of the Map page's catchment, the reach the sites add a light orange.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import folium
import geopandas as gpd
import numpy as np

from assetmap import settings
from assetmap.render.webmap.layers import CATCHMENT_COLOUR
from assetmap.render.webmap.safe import safe_text
from assetmap.render.webmap.screen import check_crs, feature_collection, round_coords, screen_geometry
from assetmap.render.webmap.shell import MapLayers

#: Colour of the candidate sites and of the reach they add (ColorBrewer PuOr, dark orange).
ADDED_COLOUR: str = "#b35806"

#: Colour of the suggested sites (ColorBrewer PuOr, dark purple).
SUGGESTED_COLOUR: str = "#542788"

#: CSS class of a candidate site's marker (for styling and tests).
SITE_CLASS: str = "am-site"

#: CSS class of a suggested site's marker.
SUGGESTED_CLASS: str = "am-suggested"

#: CSS class of the shading of the reach the candidate sites add.
ADDED_CLASS: str = "am-added"


@dataclass(frozen=True)
class PlacedSite:
    """A site drawn on the planning map: its number, what it is called and where it is (WGS84)."""

    number: int
    label: str
    longitude: float
    latitude: float


def _marker_html(text: str, colour: str, css_class: str, square: bool) -> str:
    radius = "3px" if square else "50%"
    return (
        f'<div class="{css_class}" style="width:24px;height:24px;border-radius:{radius};background:{colour};'
        "color:#fff;border:2px solid #fff;box-shadow:0 0 0 1px #333;font:bold 12px/24px sans-serif;"
        f'text-align:center">{safe_text(text)}</div>'
    )


def _markers(sites: Sequence[PlacedSite], *, suggested: bool, name: str) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=safe_text(name))
    for site in sites:
        number = f"S{site.number}" if suggested else str(site.number)
        colour, css = (SUGGESTED_COLOUR, SUGGESTED_CLASS) if suggested else (ADDED_COLOUR, SITE_CLASS)
        folium.Marker(
            [round(site.latitude, 6), round(site.longitude, 6)],
            icon=folium.DivIcon(
                html=_marker_html(number, colour, css, suggested), icon_size=(28, 28), icon_anchor=(14, 14)
            ),
            tooltip=safe_text(f"{number}. {site.label}"),
        ).add_to(group)
    return group


def _shape_layer(shape: gpd.GeoSeries, name: str, style: dict[str, object]) -> folium.FeatureGroup | None:
    shapes = shape[~(shape.isna() | shape.is_empty)].to_crs(settings.storage_crs)
    if not len(shapes):
        return None
    geoms = gpd.GeoSeries(round_coords(shapes.to_numpy()), crs=shapes.crs)
    group = folium.FeatureGroup(name=safe_text(name))
    folium.GeoJson(
        feature_collection(gpd.GeoDataFrame(geometry=geoms), [{"kind": "reach"}] * len(geoms)),
        style_function=lambda _: style,
        interactive=False,  # clicks go through to the map, where they place a site
        control=False,
    ).add_to(group)
    return group


def site_layers(
    areas: gpd.GeoDataFrame,
    *,
    sites: Sequence[PlacedSite] = (),
    suggested: Sequence[PlacedSite] = (),
    reach: gpd.GeoSeries | None = None,
) -> MapLayers:
    """Return the planning map's data layers and their legend.

    Parameters
    ----------
    areas : GeoDataFrame
        The area's wards (or neighbourhoods) with ``name``, outlined faintly, each named in a tooltip.
    sites : sequence of PlacedSite
        Candidate sites, drawn as numbered discs.
    suggested : sequence of PlacedSite
        Suggested sites, drawn as numbered squares.
    reach : GeoSeries, optional
        From :func:`assetmap.render.views.what_if_reach`: ``before`` (dashed green) and ``added`` (orange).

    Returns
    -------
    MapLayers
        The legend names only what the map shows.
    """
    check_crs(areas, "areas")
    areas = areas[~(areas.geometry.isna() | areas.geometry.is_empty)]
    screen = screen_geometry(areas, 2.0)
    outlines = folium.FeatureGroup(name="Areas")
    folium.GeoJson(
        feature_collection(
            gpd.GeoDataFrame(geometry=screen.to_numpy(), crs=settings.storage_crs),
            [{"kind": "area", "name": safe_text(n)} for n in areas["name"]],
        ),
        style_function=lambda _: {"color": "#444", "weight": 1, "fillColor": "#ffffff", "fillOpacity": 0.05},
        tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
        control=False,
    ).add_to(outlines)
    groups = [outlines]
    keys: list[tuple[str, str]] = []
    if reach is not None:
        reach_groups, keys = _reach_layers(reach)
        groups += reach_groups
    # Candidate sites last, on top: the change shown is theirs.
    if suggested:
        groups.append(_markers(suggested, suggested=True, name="Suggested sites"))
    if sites:
        groups.append(_markers(sites, suggested=False, name="Candidate sites"))
        keys.append((f"border-radius:50%;background:{ADDED_COLOUR}", "Candidate site (numbered)"))
    if suggested:
        keys.append((f"border-radius:3px;background:{SUGGESTED_COLOUR}", "Suggested site (S1 is chosen first)"))
    b = screen.total_bounds
    bounds = [[float(b[1]), float(b[0])], [float(b[3]), float(b[2])]] if np.isfinite(b).all() else None
    return MapLayers(groups=groups, legend=_legend(keys), bounds=bounds)


def _reach_layers(reach: gpd.GeoSeries) -> tuple[list[folium.FeatureGroup], list[tuple[str, str]]]:
    """Return the layers of the reach now and the reach added, and their keys (only those drawn)."""
    groups: list[folium.FeatureGroup] = []
    keys: list[tuple[str, str]] = []
    check_crs(reach, "reach")
    before = _shape_layer(
        reach.loc[["before"]],
        "Within reach now",
        {
            "color": CATCHMENT_COLOUR,
            "weight": 1.5,
            "dashArray": "6 4",
            "fillColor": CATCHMENT_COLOUR,
            "fillOpacity": 0.1,
        },
    )
    added = _shape_layer(
        reach.loc[["added"]],
        "Newly within reach",
        {
            "color": ADDED_COLOUR,
            "weight": 1,
            "fillColor": ADDED_COLOUR,
            "fillOpacity": 0.3,
            "className": ADDED_CLASS,
        },
    )
    # Only what is drawn is keyed.
    if before is not None:
        groups.append(before)
        keys.append((f"border:2px dashed {CATCHMENT_COLOUR};background:rgba(0,68,27,0.1)", "Within reach now"))
    if added is not None:
        groups.append(added)
        keys.append(
            (f"border:1px solid {ADDED_COLOUR};background:rgba(179,88,6,0.3)", "Newly within reach with the sites")
        )
    return groups, keys


def _legend(keys: list[tuple[str, str]]) -> str:
    """Return the key as one line of swatches that wraps on a narrow screen."""
    if not keys:
        return ""
    items = "".join(
        f'<li style="display:flex;align-items:center;gap:6px"><span aria-hidden="true" '
        f'style="display:inline-block;width:16px;height:14px;{style}"></span>{safe_text(text)}</li>'
        for style, text in keys
    )
    return (
        '<ul class="am-plan-legend" aria-label="Map key" style="list-style:none;margin:0;padding:0;display:flex;'
        f'flex-wrap:wrap;gap:4px 18px;font:13px/1.4 sans-serif">{items}</ul>'
    )
