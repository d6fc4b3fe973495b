"""What a web map sends to the browser besides text: geometry for the screen, GeoJSON, and the scripts it loads."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from assetmap import settings
from assetmap._errors import CRSError

#: Decimal places kept in WGS84 coordinates (5 is about a metre).
COORD_DECIMALS: int = 5


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


def use_libs(element: Any, js: Sequence[WebLib], css: Sequence[WebLib], base: str | None) -> None:
    """Make a map element load ``js`` and ``css`` from under ``base`` (None: their CDN) instead of folium's defaults."""
    # Instance attributes: folium reads default_js and default_css from each element it renders.
    element.default_js = [(lib.name, lib.url(base)) for lib in js]
    element.default_css = [(lib.name, lib.url(base)) for lib in css]


def check_crs(frame: gpd.GeoDataFrame, what: str) -> None:
    """Refuse a layer with no coordinate reference system, saying how to set one."""
    if frame.crs is None:
        raise CRSError(
            f"The {what} layer has no coordinate reference system. Set it with "
            f"`.set_crs('{settings.analysis_crs}')` (or the CRS the coordinates are in) before mapping."
        )


def round_coords(geoms: np.ndarray) -> np.ndarray:
    """Return geometries with coordinates rounded to :data:`COORD_DECIMALS` places."""
    return shapely.transform(geoms, lambda xy: np.round(xy, COORD_DECIMALS))


#: Geometries already drawn for the screen, by the identity of the geometry objects drawn
#: (see :func:`for_screen`); each entry keeps its source alive so no identity is reused.
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
    return round_coords(geom.to_crs(settings.storage_crs).to_numpy())


def for_screen(geom: gpd.GeoSeries, simplify_m: float = 0.0) -> gpd.GeoSeries:
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


def screen_geometry(areas: gpd.GeoDataFrame, simplify_m: float) -> gpd.GeoSeries:
    """Simplify (in metres, keeping shared edges shared) and reproject to WGS84."""
    return for_screen(areas.geometry, simplify_m)


def feature_collection(frame: gpd.GeoDataFrame, properties: list[dict[str, Any]]) -> dict[str, Any]:
    """Return a GeoJSON feature collection of ``frame``'s geometries, each with its properties."""
    geoms = shapely.to_geojson(frame.geometry.to_numpy())
    features = [
        {"type": "Feature", "id": str(i), "properties": props, "geometry": json.loads(g)}
        for i, (props, g) in enumerate(zip(properties, geoms, strict=True))
    ]
    return {"type": "FeatureCollection", "features": features}
