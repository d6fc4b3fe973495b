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
import hashlib
import io
import json
import re
import shutil
import socket
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assetmap import settings
from assetmap._errors import AssetMapError

if TYPE_CHECKING:  # pragma: no cover
    from assetmap.workspace import Area

#: Sent with every request, so that servers' operators can tell who is asking.
USER_AGENT: str = "assetmap (community asset mapping; +https://github.com/)"

_GSS_LAD = re.compile(r"^[EWSN]\d{8}$")


class FetchError(AssetMapError):
    """A download failed: the message names the address, why, and what to do."""


class OfflineError(FetchError):
    """The server could not be reached at all (no network, or a wrong address)."""


def _cache_path(url: str, data: bytes | None) -> Path:
    digest = hashlib.sha256(url.encode("utf-8") + b"\0" + (data or b"")).hexdigest()
    return Path(settings.cache_dir) / "downloads" / digest[:2] / digest


def download(
    url: str,
    *,
    data: bytes | None = None,
    cache: bool = True,
    timeout: float | None = None,
    retries: int | None = None,
) -> bytes:
    """Return the body of a GET (or, with ``data``, a form POST), from the cache where it was fetched before.

    Parameters
    ----------
    url : str
        The address.
    data : bytes, optional
        A form-encoded body: the request is a POST.
    cache : bool
        Keep the answer under ``settings.cache_dir/downloads`` and answer from it next time.
    timeout : float, optional
        Seconds to wait for the server on each try (default ``settings.fetch_timeout_s``).
    retries : int, optional
        Further tries after a timeout, a dropped connection or a server error
        (default ``settings.fetch_retries``), waiting ``settings.fetch_backoff_s``,
        then twice as long each time.

    Raises
    ------
    OfflineError
        The server could not be reached (offline, or a wrong address).
    FetchError
        Timeouts on every try, or the server refused the request.
    """
    path = _cache_path(url, data)
    if cache and path.is_file():
        return path.read_bytes()
    timeout = settings.fetch_timeout_s if timeout is None else timeout
    retries = settings.fetch_retries if retries is None else retries
    host = urllib.parse.urlsplit(url).netloc or url
    request = urllib.request.Request(url, data=data, headers={"User-Agent": USER_AGENT})
    last: BaseException | None = None
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(settings.fetch_backoff_s * 2 ** (attempt - 1))
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                body = response.read()
            break
        except urllib.error.HTTPError as exc:
            if exc.code < 500 and exc.code != 429:  # the request is wrong: asking again will not help
                raise FetchError(
                    f"{host} refused the request ({exc.code} {exc.reason}) for {url}. Check the address in "
                    "assetmap.settings (the service may have been renamed)."
                ) from exc
            last = exc
        except TimeoutError as exc:
            last = exc
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError | socket.timeout):
                last = exc
            else:
                last = exc
                if attempt == retries:
                    raise OfflineError(
                        f"cannot reach {host} ({exc.reason}). This machine may be offline or the address wrong. "
                        "Run the command on a machine with internet access, or build the area from files with "
                        "`assetmap init-area`."
                    ) from exc
        except (ConnectionError, OSError) as exc:  # a connection dropped mid-answer
            last = exc
    else:
        if isinstance(last, TimeoutError | socket.timeout) or (
            isinstance(last, urllib.error.URLError) and isinstance(last.reason, TimeoutError | socket.timeout)
        ):
            raise FetchError(
                f"{host} did not answer within {timeout:g} s ({retries + 1} tries). The server may be busy: "
                "try again later, or raise settings.fetch_timeout_s."
            ) from last
        raise FetchError(f"download from {host} failed after {retries + 1} tries ({last}). Try again later.") from last
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_bytes(body)
        partial.replace(path)  # a crash never leaves half an answer in the cache
    return body


# -- ONS Open Geography Portal ------------------------------------------------------------------


def arcgis_query(service: str, where: str, *, geometry: bool = True, page_size: int | None = None) -> dict[str, Any]:
    """Run an ArcGIS REST query on an ONS service, page by page; return one GeoJSON FeatureCollection.

    Parameters
    ----------
    service : str
        Service name under ``settings.ons_arcgis_url`` (layer 0 of its FeatureServer).
    where : str
        SQL condition (``LAD24CD = 'E08000003'``).
    geometry : bool
        Ask for geometries (in WGS84) or attributes only.
    page_size : int, optional
        Features per request (default ``settings.ons_page_size``); the query follows
        ``exceededTransferLimit`` with ``resultOffset`` until the last page.

    Raises
    ------
    FetchError
        The service answered with an error (a renamed service, a bad field name).
    """
    size = page_size or settings.ons_page_size
    base = f"{settings.ons_arcgis_url.rstrip('/')}/{service}/FeatureServer/0/query"
    features: list[dict[str, Any]] = []
    offset = 0
    for _ in range(10_000):  # a bound, not a limit met in practice (10 million features)
        params = {
            "where": where,
            "outFields": "*",
            "returnGeometry": "true" if geometry else "false",
            "outSR": "4326",
            "f": "geojson",
            "resultOffset": str(offset),
            "resultRecordCount": str(size),
        }
        body = download(f"{base}?{urllib.parse.urlencode(params)}")
        try:
            page = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise FetchError(
                f"ONS service {service} did not answer with GeoJSON. Check settings.ons_arcgis_url."
            ) from exc
        if "error" in page:
            message = page["error"].get("message", "error") if isinstance(page["error"], dict) else page["error"]
            raise FetchError(
                f"ONS service {service} refused the query ({message}). The service may have been renamed: "
                "find the current name on the Open Geography Portal and set it in assetmap.settings."
            )
        batch = page.get("features") or []
        features += batch
        more = page.get("exceededTransferLimit") or (page.get("properties") or {}).get("exceededTransferLimit")
        if not more or not batch:
            break
        offset += len(batch)
    return {"type": "FeatureCollection", "features": features}


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


def overpass_query(bbox: tuple[float, float, float, float]) -> str:
    """Return an Overpass QL query for the streets and community places of a WGS84 box (XML out).

    Parameters
    ----------
    bbox : tuple of float
        (min lon, min lat, max lon, max lat).
    """
    from assetmap.io.osm import load_tag_map

    w, s, e, n = bbox
    parts = ['way["highway"];']
    for key, values in load_tag_map().query_tags().items():
        if values is True:
            parts.append(f'nwr["{key}"];')
        else:
            alternatives = "|".join(re.escape(str(v)) for v in values)  # type: ignore[union-attr]
            parts.append(f'nwr["{key}"~"^({alternatives})$"];')
    return (
        f"[out:xml][timeout:180][bbox:{s:.6f},{w:.6f},{n:.6f},{e:.6f}];\n(\n  "
        + "\n  ".join(parts)
        + "\n);\n(._;>;);\nout body;\n"
    )


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
    import geopandas as gpd

    from assetmap.io.osm import build_network, import_osm_to_area
    from assetmap.workspace import init_area, load_area

    say = log or (lambda _line: None)
    code, name, ward_codes, ward_field = resolve_authority(authority)
    say(f"{name} ({code}): {len(ward_codes)} wards")
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
        extract = None
        if osm:
            frame = gpd.read_file(staging / "wards.geojson")
            query = overpass_query(tuple(frame.total_bounds))  # type: ignore[arg-type]
            extract = staging / "osm_extract.osm"
            extract.write_bytes(download(settings.overpass_url, data=urllib.parse.urlencode({"data": query}).encode()))
            say(f"OpenStreetMap: extract of {extract.stat().st_size / 1e6:.1f} MB")
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
            build_network(directory, xml=extract)
            say("walk network saved in streets/")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return load_area(directory)
