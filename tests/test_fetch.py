"""fetch-area against a local server replaying ONS, IoD and Overpass answers built from the demo area's files."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from assetmap import settings
from assetmap.area import fetch
from assetmap.area.load import load_area
from assetmap.area.manifest import read_manifest
from assetmap.cli import main
from assetmap.io import http

DEMO = settings.demo_area_path
LOOKUP, WARDS, LSOAS = "WD24_LAD24_UK_LU", "Wards_Test_BGC", "LSOA_2021_Test_BGC"


def _features(path: Path, geometry: bool = True) -> list[dict]:
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    if not geometry:
        return [{"type": "Feature", "properties": f["properties"], "geometry": None} for f in features]
    return features


class Recorded:
    """Answers as the real services give them, from the demo area's files; every request is kept."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []
        self.services = {
            LOOKUP: _features(DEMO / "boundaries" / "demo_wards.geojson", geometry=False),
            WARDS: _features(DEMO / "boundaries" / "demo_wards.geojson"),
            LSOAS: _features(DEMO / "boundaries" / "demo_lsoa21.geojson"),
        }
        self.page_cap = 7  # the server's own cap per page, below what the client asks for: forces paging

    def answer(self, method: str, path: str, body: bytes) -> tuple[int, bytes, str]:
        self.requests.append((method, path))
        parts = urlsplit(path)
        if parts.path == "/iod/file7.csv":
            return 200, (DEMO / "deprivation" / "demo_iod2025_file7.csv").read_bytes(), "text/csv"
        if parts.path == "/overpass" and method == "POST":
            assert b"highway" in body
            return 200, (DEMO / "streets" / "demo_streets.osm").read_bytes(), "application/xml"
        bits = parts.path.strip("/").split("/")
        if len(bits) == 5 and bits[0] == "arcgis" and bits[2:] == ["FeatureServer", "0", "query"]:
            features = self.services.get(bits[1])
            if features is None:
                return 200, json.dumps({"error": {"code": 400, "message": "Invalid URL"}}).encode(), "application/json"
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            assert query["f"] == "geojson" and query["outSR"] == "4326"
            offset = int(query["resultOffset"])
            count = min(int(query["resultRecordCount"]), self.page_cap)
            page = features[offset : offset + count]
            out = {"type": "FeatureCollection", "features": page}
            if offset + count < len(features):
                out["properties"] = {"exceededTransferLimit": True}
            return 200, json.dumps(out).encode(), "application/geo+json"
        return 404, b"not found", "text/plain"


@pytest.fixture
def server(tmp_path, monkeypatch):
    recorded = Recorded()

    class Handler(BaseHTTPRequestHandler):
        def _reply(self, body: bytes = b"") -> None:
            status, data, kind = recorded.answer(self.command, self.path, body)
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._reply()

        def do_POST(self) -> None:
            self._reply(self.rfile.read(int(self.headers.get("Content-Length", 0))))

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    monkeypatch.setattr(settings, "cache_dir", tmp_path / "cache")
    monkeypatch.setattr(settings, "ons_arcgis_url", f"{base}/arcgis")
    monkeypatch.setattr(settings, "ons_ward_lookup_service", LOOKUP)
    monkeypatch.setattr(settings, "ons_ward_service", WARDS)
    monkeypatch.setattr(settings, "ons_lsoa_service", LSOAS)
    monkeypatch.setattr(settings, "ons_page_size", 50)
    monkeypatch.setattr(settings, "iod_file7_url", f"{base}/iod/file7.csv")
    monkeypatch.setattr(settings, "overpass_url", f"{base}/overpass")
    monkeypatch.setattr(settings, "fetch_backoff_s", 0.0)
    try:
        yield recorded
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_fetch_area_builds_an_area_that_loads_and_gaps_accepts(server, tmp_path, capsys):
    target = tmp_path / "eastbrook"
    assert main(["fetch-area", "Eastbrook", str(target), "--status", "approved"]) == 0
    out = capsys.readouterr().out
    assert "Eastbrook (E09999901): 17 wards" in out and "Created area folder" in out
    area = load_area(target)
    assert len(area.boundaries) == 17 and len(area.small_areas) == 160
    assert area.code == "E09999901" and area.deprivation["population"].sum() > 0
    assert read_manifest(target)["layers"]["network"]["path"] == "streets/osm_extract.osm"
    assert area.network() is not None and "OpenStreetMap" in area.attribution
    # ArcGIS paging: the 160 LSOAs came in pages of 7, following exceededTransferLimit.
    lsoa_pages = [p for _, p in server.requests if f"/{LSOAS}/" in p]
    assert len(lsoa_pages) == 23 and "resultOffset=154" in lsoa_pages[-1]
    assert "LSOA21NM+LIKE+%27Eastbrook+%25%27" in lsoa_pages[0]
    assert "UPPER%28LAD24NM%29+%3D+%27EASTBROOK%27" in next(p for _, p in server.requests if f"/{LOOKUP}/" in p)
    assert main(["gaps", "--area", str(target), "--out", str(tmp_path / "gaps.csv")]) == 0
    assert (tmp_path / "gaps.csv").is_file()


def test_second_fetch_is_answered_from_the_cache(server, tmp_path):
    fetch.fetch_area("E09999901", tmp_path / "one", osm=False)
    asked = len(server.requests)
    area = fetch.fetch_area("E09999901", tmp_path / "two", osm=False)
    assert len(server.requests) == asked  # no request at all the second time
    assert len(area.boundaries) == 17


def test_unknown_authority_and_renamed_service_are_clear(server, tmp_path, monkeypatch):
    server.services[LOOKUP] = []
    with pytest.raises(http.FetchError, match="no local authority called 'Nowhere'"):
        fetch.fetch_area("Nowhere", tmp_path / "x")
    monkeypatch.setattr(settings, "ons_ward_lookup_service", "Renamed_Service")
    with pytest.raises(http.FetchError, match="may have been renamed"):
        fetch.resolve_authority("Eastbrook")


def test_offline_is_a_clear_message(tmp_path, monkeypatch, capsys):
    with socket.socket() as sock:  # bound, never listening: connections are refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        monkeypatch.setattr(settings, "cache_dir", tmp_path / "cache")
        monkeypatch.setattr(settings, "ons_arcgis_url", f"http://127.0.0.1:{port}/arcgis")
        monkeypatch.setattr(settings, "fetch_backoff_s", 0.0)
        assert main(["fetch-area", "Manchester", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot reach 127.0.0.1") and "offline" in err and "init-area" in err
    assert not (tmp_path / "m").exists()


def test_timeout_is_retried_then_a_clear_message(tmp_path, monkeypatch):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []

    def accept() -> None:  # accept and never answer
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            accepted.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    monkeypatch.setattr(settings, "cache_dir", tmp_path / "cache")
    monkeypatch.setattr(settings, "fetch_backoff_s", 0.0)
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/slow"
        with pytest.raises(http.FetchError, match=r"did not answer within 0.2 s \(3 tries\)"):
            http.download(url, timeout=0.2, retries=2)
        assert len(accepted) == 3
    finally:
        listener.close()
        for conn in accepted:
            conn.close()
