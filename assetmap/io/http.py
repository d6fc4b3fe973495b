"""Downloads with a cache, retries and clear offline errors; ArcGIS and Overpass queries."""

from __future__ import annotations

import hashlib
import json
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from assetmap import settings
from assetmap._errors import AssetMapError

#: Sent with every request, so that servers' operators can tell who is asking.
USER_AGENT: str = "assetmap (community asset mapping; +https://github.com/)"


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
    request = urllib.request.Request(url, data=data, headers={"User-Agent": USER_AGENT})
    body = _fetch_with_retries(request, url, timeout=timeout, retries=retries)
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_bytes(body)
        partial.replace(path)  # a crash never leaves half an answer in the cache
    return body


def _fetch_with_retries(request: urllib.request.Request, url: str, *, timeout: float, retries: int) -> bytes:
    """Send ``request``, trying again after a timeout, a dropped connection or a server error."""
    host = urllib.parse.urlsplit(url).netloc or url
    last: BaseException | None = None
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(settings.fetch_backoff_s * 2 ** (attempt - 1))
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.read()
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
            last = exc
            if not isinstance(exc.reason, TimeoutError | socket.timeout) and attempt == retries:
                raise OfflineError(
                    f"cannot reach {host} ({exc.reason}). This machine may be offline or the address wrong. "
                    "Run the command on a machine with internet access, or build the area from files with "
                    "`assetmap init-area`."
                ) from exc
        except (ConnectionError, OSError) as exc:  # a connection dropped mid-answer
            last = exc
    if isinstance(last, TimeoutError | socket.timeout) or (
        isinstance(last, urllib.error.URLError) and isinstance(last.reason, TimeoutError | socket.timeout)
    ):
        raise FetchError(
            f"{host} did not answer within {timeout:g} s ({retries + 1} tries). The server may be busy: "
            "try again later, or raise settings.fetch_timeout_s."
        ) from last
    raise FetchError(f"download from {host} failed after {retries + 1} tries ({last}). Try again later.") from last


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
