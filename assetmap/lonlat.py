"""Longitude and latitude as given in a file or a form: read as numbers and judged against the United Kingdom."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from assetmap import settings
from assetmap.record import is_blank

#: What is wrong with coordinates, and the fix, by kind (shared by every reader of longitude/latitude).
LONLAT_PROBLEMS: dict[str, tuple[str, str]] = {
    "bad": (
        "latitude/longitude are missing or not numbers (or are NaN or Infinity).",
        "Give both as decimal degrees, e.g. 53.4808 and -2.2426.",
    ),
    "swapped": (
        "latitude and longitude look swapped.",
        "Latitude is about 50-60 in England, longitude about -6 to 2.",
    ),
    "outside": (
        "the coordinates are outside the United Kingdom.",
        "Check the latitude and longitude (decimal degrees, WGS84).",
    ),
}


@dataclass(frozen=True)
class LonLat:
    """Longitude/latitude columns read as numbers, with what is wrong with each row."""

    lon: np.ndarray  # float, NaN where the row's coordinates cannot be used
    lat: np.ndarray
    bad: np.ndarray  # given, but one is missing or not a finite number
    swapped: np.ndarray  # inside the United Kingdom once swapped
    outside: np.ndarray  # outside the United Kingdom


def _number(value: object) -> float:
    """Return a cell as a float: NaN when blank, and when not a number (a yes/no included)."""
    if is_blank(value) or isinstance(value, bool | np.bool_):
        return math.nan
    try:
        return float(str(value).strip()) if isinstance(value, str) else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return math.nan


def read_lonlat(lon: Sequence[Any], lat: Sequence[Any]) -> LonLat:
    """Read longitude and latitude columns and judge them against the United Kingdom.

    Parameters
    ----------
    lon, lat : sequence
        The values as given (text, numbers or blanks), aligned.

    Returns
    -------
    LonLat
        Usable coordinates (NaN elsewhere) and masks of rows whose coordinates are bad
        (one missing or not a finite number), look swapped, or lie outside the country;
        :data:`LONLAT_PROBLEMS` words each.
    """
    given = np.asarray([not (is_blank(a) and is_blank(b)) for a, b in zip(lon, lat, strict=True)], dtype=bool)
    x = np.asarray([_number(v) for v in lon], dtype=float)
    y = np.asarray([_number(v) for v in lat], dtype=float)
    finite = np.isfinite(x) & np.isfinite(y)
    bad = given & ~finite
    x0, y0, x1, y1 = settings.uk_lonlat_bounds
    beyond = finite & ~((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))
    swapped = beyond & (y >= x0) & (y <= x1) & (x >= y0) & (x <= y1)
    use = finite & ~beyond
    return LonLat(np.where(use, x, np.nan), np.where(use, y, np.nan), bad, swapped, beyond & ~swapped)
