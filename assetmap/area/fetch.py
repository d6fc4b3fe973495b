"""Fetch an area's open data (online machines): ONS boundaries, the IoD and OpenStreetMap.

:func:`fetch_area` downloads a local authority's ward and LSOA boundaries from the
ONS Open Geography Portal (ArcGIS REST queries with GeoJSON output, page by page),
the latest IoD File 7, and an OpenStreetMap extract of its streets and community
places (Overpass API), then builds the area folder as ``assetmap init-area`` does,
imports the places into the register and saves the walk network as GraphML.

Every download (:func:`download`) has a timeout, retries with backoff, an on-disk
cache under ``settings.cache_dir/downloads`` keyed by the request, and a clear
message when the machine is offline. The addresses are settings
(``settings.ons_arcgis_url``, ``settings.iod_file7_url``, ``settings.overpass_url``...).
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assetmap import settings
from assetmap.io.http import FetchError, arcgis_query, download, overpass_query

if TYPE_CHECKING:  # pragma: no cover
    from assetmap.area.load import Area


_GSS_LAD = re.compile(r"^[EWSN]\d{8}$")


# -- ONS Open Geography Portal ------------------------------------------------------------------


def _field(properties: dict[str, Any], pattern: str) -> str | None:
    return next((k for k in properties if re.fullmatch(pattern, k, flags=re.IGNORECASE)), None)


def resolve_authority(authority: str) -> tuple[str, str, list[str], str]:
    """Find a local authority by name or GSS code in the ONS ward lookup.

    Returns
    -------
    code, name : str
        The authority's GSS code and name.
    wards : list of str
        Codes of its wards.
    ward_field : str
        Name of the ward code field (``WD24CD``) in this vintage.

    Raises
    ------
    FetchError
        No authority of that name or code.
    """
    text = authority.strip()
    found = re.search(r"LAD(\d{2})", settings.ons_ward_lookup_service)
    year = found.group(1) if found else "24"  # field names follow the lookup's vintage: LAD24CD
    safe = text.replace("'", "''")
    where = (
        f"LAD{year}CD = '{safe.upper()}'" if _GSS_LAD.match(text.upper()) else f"UPPER(LAD{year}NM) = '{safe.upper()}'"
    )
    rows = [
        f.get("properties") or {}
        for f in arcgis_query(settings.ons_ward_lookup_service, where, geometry=False)["features"]
    ]
    if not rows:
        raise FetchError(
            f"no local authority called '{text}' in the ONS ward lookup ({settings.ons_ward_lookup_service}). "
            "Give its name as ONS writes it (e.g. 'Manchester', 'Bristol, City of') or its code (E08000003)."
        )
    ward_field = _field(rows[0], r"WD\d{2}CD")
    code_field, name_field = _field(rows[0], r"LAD\d{2}CD"), _field(rows[0], r"LAD\d{2}NM")
    if not (ward_field and code_field and name_field):
        raise FetchError(f"{settings.ons_ward_lookup_service} has no WDnnCD/LADnnCD/LADnnNM fields. Check the service.")
    wards = sorted({str(r[ward_field]) for r in rows})
    return str(rows[0][code_field]), str(rows[0][name_field]), wards, ward_field


def _filter_file7(body: bytes, lsoa_codes: set[str]) -> bytes:
    """Keep the header and the rows of the area's LSOAs (File 7 covers all of England)."""
    text = body.decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = next(reader, None)
    if header is None or not header[0].strip().lower().startswith("lsoa code"):
        raise FetchError(
            "the IoD file downloaded is not File 7 (its first column is not 'LSOA code'). Check settings.iod_file7_url."
        )
    writer.writerow(header)
    for row in reader:
        if row and row[0].strip() in lsoa_codes:
            writer.writerow(row)
    return out.getvalue().encode("utf-8")


def fetch_area(
    authority: str,
    directory: str | Path,
    *,
    status: str = "pending",
    osm: bool = True,
    overwrite: bool = False,
    log: Callable[[str], Any] | None = None,
) -> Area:
    """Download a local authority's open data and build its area folder (online machines).

    Parameters
    ----------
    authority : str
        Name (``Manchester``) or GSS code (``E08000003``) of the local authority.
    directory : str or Path
        Area folder to create.
    status : {"pending", "approved"}
        Status of the community places imported from OpenStreetMap.
    osm : bool
        Also fetch OpenStreetMap's community places (into the register) and the walk
        network (saved as GraphML in ``streets/``).
    overwrite : bool
        Replace an existing area folder.
    log : callable, optional
        Called with one line per step.

    Returns
    -------
    Area
        The new area, loaded.

    Raises
    ------
    OfflineError, FetchError
        A download failed; nothing is left half-built.
    """
    from assetmap.area.create import init_area
    from assetmap.area.load import load_area
    from assetmap.area.sources import build_network, import_osm_to_area

    say = log or (lambda _line: None)
    code, name, ward_codes, ward_field = resolve_authority(authority)
    say(f"{name} ({code}): {len(ward_codes)} wards")
    wards, lsoas = _fetch_boundaries(name, ward_codes, ward_field)
    say(f"boundaries: {len(wards['features'])} wards, {len(lsoas['features'])} LSOAs")
    lsoa_code_field = _field(lsoas["features"][0].get("properties") or {}, r"LSOA\d{2}CD") or "LSOA21CD"
    lsoa_codes = {str((f.get("properties") or {}).get(lsoa_code_field)) for f in lsoas["features"]}
    file7 = _filter_file7(download(settings.iod_file7_url), lsoa_codes)
    rows = file7.count(b"\n") - 1
    say(f"deprivation: IoD File 7, {rows} LSOAs of {name}")

    staging = Path(tempfile.mkdtemp(prefix="assetmap-fetch-"))
    try:
        (staging / "wards.geojson").write_text(json.dumps(wards), encoding="utf-8")
        (staging / "lsoas.geojson").write_text(json.dumps(lsoas), encoding="utf-8")
        (staging / "iod_file7.csv").write_bytes(file7)
        extract = _fetch_osm_extract(staging, say) if osm else None
        init_area(
            directory,
            boundaries=staging / "wards.geojson",
            small_areas=staging / "lsoas.geojson",
            imd=staging / "iod_file7.csv",
            name=name,
            code=code,
            overwrite=overwrite,
        )
        if extract is not None:
            result = import_osm_to_area(directory, xml=extract, status=status, actor="fetch-area")
            say(f"OpenStreetMap places: {result.summary()}")
            build_network(directory, network=extract)
            say("walk network saved in streets/")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return load_area(directory)


def _fetch_boundaries(name: str, ward_codes: list[str], ward_field: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Download the authority's wards and LSOAs (as GeoJSON) from the ONS services; none found is an error."""
    quoted = ", ".join(f"'{c}'" for c in ward_codes)
    wards = arcgis_query(settings.ons_ward_service, f"{ward_field} IN ({quoted})")
    if not wards["features"]:
        raise FetchError(f"{settings.ons_ward_service} returned no ward boundaries for {name}. Check the service name.")
    lsoa_field = "LSOA21NM"
    lsoa_year = re.search(r"(\d{4})", settings.ons_lsoa_service)
    if lsoa_year and lsoa_year.group(1) == "2011":
        lsoa_field = "LSOA11NM"
    safe = name.replace("'", "''")
    lsoas = arcgis_query(settings.ons_lsoa_service, f"{lsoa_field} LIKE '{safe} %'")
    if not lsoas["features"]:
        raise FetchError(f"{settings.ons_lsoa_service} returned no LSOAs named '{name} ...'. Check the service name.")
    return wards, lsoas


def _fetch_osm_extract(staging: Path, say: Callable[[str], Any]) -> Path:
    """Download the OpenStreetMap extract over the wards in ``staging``; return its path."""
    import geopandas as gpd

    frame = gpd.read_file(staging / "wards.geojson")
    minx, miny, maxx, maxy = (float(v) for v in frame.total_bounds)
    query = overpass_query((minx, miny, maxx, maxy))
    extract = staging / "osm_extract.osm"
    extract.write_bytes(download(settings.overpass_url, data=urllib.parse.urlencode({"data": query}).encode()))
    say(f"OpenStreetMap: extract of {extract.stat().st_size / 1e6:.1f} MB")
    return extract
