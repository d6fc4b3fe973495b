"""Candidate sites for a what-if, placed the ways an officer knows a place: a postcode, a point on a map, an asset.

Each way gives a :class:`Site` in the area's analysis CRS, checked to be near
enough to the area to reach any of its residents, for
:meth:`assetmap.area.load.Area.what_if`. A refusal is a :class:`ValidationError`
whose problem names the field (``postcode``, ``point``, ``asset``), so a page or
a command can say which of its controls to change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from assetmap import settings
from assetmap._errors import Problem, ValidationError
from assetmap.analysis.groups import MAX_THRESHOLD_M
from assetmap.area.coverage import area_outline
from assetmap.record import geocode_postcodes, normalise_postcode

if TYPE_CHECKING:
    from assetmap.area.load import Area


@dataclass(frozen=True)
class Site:
    """One candidate site.

    Attributes
    ----------
    label : str
        What the site is called on screen: the postcode, the asset's name, or "Point on the map".
    x, y : float
        Easting and northing in EPSG:27700.
    longitude, latitude : float
        The same place in WGS84, for maps.
    how : str
        ``postcode``, ``map`` or ``asset``.
    """

    label: str
    x: float
    y: float
    longitude: float
    latitude: float
    how: str


def _to_grid(lon: float, lat: float) -> tuple[float, float]:
    x, y = Transformer.from_crs(settings.storage_crs, settings.analysis_crs, always_xy=True).transform(lon, lat)
    return float(x), float(y)


def _to_lonlat(x: float, y: float) -> tuple[float, float]:
    lon, lat = Transformer.from_crs(settings.analysis_crs, settings.storage_crs, always_xy=True).transform(x, y)
    return float(lon), float(lat)


def outside_by(area: Area, x: float, y: float) -> float:
    """Return how far a point lies outside the area's outline, in metres (0 inside)."""
    return float(shapely.distance(area_outline(area), shapely.Point(x, y)))


def _check_near(area: Area, site: Site, field: str, what: str, fix: str) -> Site:
    """Return the site if it is within reach of the area's residents; refuse it otherwise."""
    away = outside_by(area, site.x, site.y) if np.isfinite([site.x, site.y]).all() else np.inf
    if away > MAX_THRESHOLD_M:
        far = f"{away / 1000:,.1f} km" if np.isfinite(away) else "far"
        raise ValidationError(
            Problem(
                f"{what} is {far} outside {area.name}, too far to reach any of its residents.", field=field, fix=fix
            )
        )
    return site


def site_from_postcode(area: Area, text: object) -> Site:
    """Return the site at a postcode, looked up in the area's postcode file.

    Parameters
    ----------
    area : Area
        A loaded area.
    text : object
        A postcode in any case and spacing.

    Returns
    -------
    Site

    Raises
    ------
    ValidationError
        With ``field="postcode"``: the text is not a postcode, the area has no postcode
        lookup, the lookup does not hold it, or it is far outside the area.
    """
    typed = " ".join(str(text or "").split())
    if not typed:
        raise ValidationError(Problem("no postcode was given.", field="postcode", fix="Type a postcode, e.g. M1 1AE."))
    postcode = normalise_postcode(typed)
    if postcode is None:
        raise ValidationError(
            Problem(f"'{typed[:20]}' is not a UK postcode.", field="postcode", fix="Write it as e.g. M1 1AE.")
        )
    if area.postcodes is None:
        raise ValidationError(
            Problem(
                "this area has no postcode lookup, so postcodes cannot be placed.",
                field="postcode",
                fix="Choose the site on the map or from the existing assets instead.",
            )
        )
    hit = geocode_postcodes(pd.Series([postcode]), area.postcodes).iloc[0]
    if not hit["found"]:
        raise ValidationError(
            Problem(
                f"'{postcode}' is not in the area's postcode lookup.",
                field="postcode",
                fix="Check it (a new or mistyped postcode?), or place the site on the map or at an existing asset.",
            )
        )
    lon, lat = float(hit["longitude"]), float(hit["latitude"])
    x, y = _to_grid(lon, lat)
    site = Site(postcode, x, y, lon, lat, "postcode")
    return _check_near(area, site, "postcode", f"postcode '{postcode}'", "Give a postcode in or near the area.")


def site_from_lonlat(area: Area, longitude: float, latitude: float) -> Site:
    """Return the site at a point given in WGS84 (a click on a map), refused when far outside the area.

    Raises
    ------
    ValidationError
        With ``field="point"``.
    """
    lon, lat = float(longitude), float(latitude)
    x, y = _to_grid(lon, lat)
    site = Site("Point on the map", x, y, lon, lat, "map")
    return _check_near(area, site, "point", "that point", "Click inside the area's outline.")


def site_from_point(area: Area, label: str, x: float, y: float, how: str = "asset") -> Site:
    """Return the site at a point in EPSG:27700 (an existing asset or building), refused when far outside the area.

    Raises
    ------
    ValidationError
        With ``field="asset"``.
    """
    lon, lat = _to_lonlat(float(x), float(y))
    site = Site(label, float(x), float(y), lon, lat, how)
    return _check_near(area, site, "asset", f"'{label}'", "Choose a place in or near the area.")
