"""The map an officer checks one record's place on: its pin, to drag where the group really meets, and its postcode.

The pin is a plain Leaflet marker with a tooltip (no popup: folium's popups need
jQuery, which the maps do not load). Dragging the pin, or clicking the map, moves it
and reports the new place as the map's last click, which the app reads back; nothing
is saved until the officer confirms. The submitted postcode's centre is a second
marker of another shape (a square), so the two are told apart without colour.
"""

from __future__ import annotations

import math

import folium
from branca.element import MacroElement
from jinja2 import Template

from assetmap.render.webmap.safe import safe_text
from assetmap.render.webmap.shell import base_map

#: Class of the record's pin and of the postcode's marker (for styling and tests).
PIN_CLASS: str = "am-record-pin"
POSTCODE_CLASS: str = "am-postcode-pin"

#: The postcode marker: a dark square with a white edge, unlike the pin's drop shape.
_POSTCODE_ICON: str = (
    f'<div class="{POSTCODE_CLASS}" style="width:18px;height:18px;margin:1px;background:#5b2a86;'
    'border:2px solid #fff;box-shadow:0 0 0 1px #5b2a86"></div>'
)

#: The record's pin: a blue drop with a white dot, drawn inline (Leaflet's default marker is an image whose
#: address Leaflet guesses from its stylesheet's, which the app's map frame does not give it).
_PIN_ICON: str = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="26" height="38" viewBox="0 0 26 38" aria-hidden="true" '
    'focusable="false"><path d="M13 37C13 37 1 21.5 1 13a12 12 0 0 1 24 0c0 8.5-12 24-12 24z" fill="#0b5394" '
    'stroke="#fff" stroke-width="2"/><circle cx="13" cy="13" r="4.5" fill="#fff"/></svg>'
)

#: Half the span of the view around the pin, in degrees (about 450 m north-south).
_HALF_SPAN: tuple[float, float] = (0.004, 0.006)


class _MovablePin(MacroElement):
    """Moves the pin to a clicked point, and reports a dragged pin's new place as a click on the map."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var pin = {{ this.pin }}, map = {{ this.map }};
            map.on("click", function (e) { pin.setLatLng(e.latlng); });
            pin.on("dragend", function () { map.fire("click", {latlng: pin.getLatLng()}); });
        })();
        {% endmacro %}
        """
    )

    def __init__(self, pin: folium.Marker, m: folium.Map):
        super().__init__()
        self._name = "MovablePin"
        self.pin = pin.get_name()
        self.map = m.get_name()


def metres_between(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Return the distance between two WGS84 points in metres (great circle; ample for a street's length)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(min(1.0, a)))


#: Metres within which a pin is taken to be at its postcode's centre (one marker would hide the other).
SAME_PLACE_M: float = 10.0


def at_postcode(lon: float, lat: float, postcode: tuple[str, float, float] | None) -> bool:
    """Whether a place is at the centre of its postcode ``(code, longitude, latitude)``, within :data:`SAME_PLACE_M`."""
    return postcode is not None and metres_between(lon, lat, postcode[1], postcode[2]) <= SAME_PLACE_M


def place_map(
    lon: float,
    lat: float,
    *,
    name: object,
    attribution: str,
    postcode: tuple[str, float, float] | None = None,
    libs_url: str | None = None,
) -> folium.Map:
    """Return a map of one record's place with its pin draggable, and its postcode's centre beside it.

    Parameters
    ----------
    lon, lat : float
        The record's place in WGS84.
    name : object
        The record's name, for the pin's tooltip (escaped here).
    attribution : str
        Data attribution, for the map's attribution line.
    postcode : (str, float, float), optional
        The submitted postcode and its centre's longitude and latitude.
    libs_url : str, optional
        Address of the app's copies of the map's scripts (see :func:`base_map`).

    Returns
    -------
    folium.Map
        A map whose last click (read back by the app) is the pin's new place once moved.
    """
    dy, dx = _HALF_SPAN
    south, west, north, east = lat - dy, lon - dx, lat + dy, lon + dx
    if postcode is not None:  # keep the postcode's marker in view too
        south, north = min(south, postcode[2] - dy / 4), max(north, postcode[2] + dy / 4)
        west, east = min(west, postcode[1] - dx / 4), max(east, postcode[1] + dx / 4)
    m = base_map(attribution=attribution, bounds=[[south, west], [north, east]], libs_url=libs_url)
    # A pin already at its postcode's centre is not covered by a second marker (nothing to compare).
    if postcode is not None and not at_postcode(lon, lat, postcode):
        code, plon, plat = postcode
        folium.Marker(
            [plat, plon],
            icon=folium.DivIcon(
                html=_POSTCODE_ICON, icon_size=(24, 24), icon_anchor=(12, 12), class_name="am-div-icon"
            ),
            tooltip=f"Postcode {safe_text(code)}: its centre",
            # The marker's name for screen readers: fixed words, never the record's own text.
            title="The submitted postcode's centre",
        ).add_to(m)
    pin = folium.Marker(
        [lat, lon],
        tooltip=f"{safe_text(name)}: drag the pin, or click the map, to move it",
        icon=folium.DivIcon(html=_PIN_ICON, icon_size=(26, 38), icon_anchor=(13, 37), class_name=PIN_CLASS),
        draggable=True,
        z_index_offset=1000,
        title="The record's place: drag it, or click the map, to move it",
    )
    pin.add_to(m)
    _MovablePin(pin, m).add_to(m)
    return m
