"""The shaded layers of a web map: what each measure means, how it is classed, and the area and catchment layers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import folium
import geopandas as gpd

from assetmap import settings
from assetmap.render import styles
from assetmap.render.webmap.safe import present, safe_text
from assetmap.render.webmap.screen import check_crs, feature_collection, round_coords

#: CSS class of area outlines in the page (for styling and tests).
AREA_CLASS: str = "am-area"

#: CSS class of the walking-catchment shading.
CATCHMENT_CLASS: str = "am-catchment"

#: Outline and fill of the walking catchment: a dark green that reads over every shading used.
CATCHMENT_COLOUR: str = "#00441b"


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


def value_text(classes: styles.Classification, i: int, value: Any, fmt: str) -> str:
    """Return what an area's tooltip says of its value: the bivariate class's words, or the number in ``fmt``."""
    if classes.scheme == "bivariate":
        c = int(classes.classes[i])
        return "no data" if c < 0 else classes.labels[c]
    return _format_value(value, fmt)


def _format_value(value: Any, fmt: str) -> str:
    if not present(value):
        return "no data"
    try:
        return format(float(value), fmt)
    except (TypeError, ValueError):
        return safe_text(value)


def catchment_layer(catchment: gpd.GeoSeries, label: str) -> folium.FeatureGroup | None:
    """Return the catchment as a dashed, lightly filled layer that clicks pass through; None when it is empty."""
    check_crs(catchment, "catchment")
    shapes = catchment[~(catchment.isna() | catchment.is_empty)].to_crs(settings.storage_crs)
    if not len(shapes):
        return None
    geoms = gpd.GeoSeries(round_coords(shapes.to_numpy()), crs=shapes.crs)
    group = folium.FeatureGroup(name=safe_text(label))
    folium.GeoJson(
        feature_collection(gpd.GeoDataFrame(geometry=geoms), [{"kind": "catchment"}] * len(geoms)),
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


def area_layer(
    areas: gpd.GeoDataFrame,
    screen: gpd.GeoSeries,
    value: str,
    classes: styles.Classification,
    measure: Measure,
    label: str,
    selected: str | None,
) -> folium.FeatureGroup:
    """Return the areas shaded by their class, with a tooltip of name and value, and ``selected`` outlined boldly.

    Parameters
    ----------
    areas : GeoDataFrame
        The areas drawn, with ``code``, ``name`` and the ``value`` column.
    screen : GeoSeries
        Their geometry for the screen (see :func:`assetmap.render.webmap.screen.screen_geometry`).
    value : str
        The column shaded by.
    classes : Classification
        Its classes (see :func:`classify_measure`).
    measure : Measure
        How it is shaded; gives the tooltip's number format.
    label : str
        The layer's name and the tooltip's title of the value.
    selected : str or None
        Code of the area outlined boldly.

    Returns
    -------
    folium.FeatureGroup
    """
    props = [
        {
            "kind": "area",
            "code": safe_text(code),
            "name": safe_text(name),
            "value": value_text(classes, i, v, measure.fmt),
            "fill": classes.colour_of(i),
            "selected": selected is not None and code == selected,
        }
        for i, (code, name, v) in enumerate(zip(areas["code"], areas["name"], areas[value], strict=True))
    ]
    area_group = folium.FeatureGroup(name=safe_text(label))
    folium.GeoJson(
        feature_collection(gpd.GeoDataFrame(geometry=screen), props),
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
    return area_group
