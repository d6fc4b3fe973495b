"""Open Referral UK: import from files and a paginated API (a local server), export, round trip."""

from __future__ import annotations

import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from assetmap import settings
from assetmap.area import sources
from assetmap.cli import main
from assetmap.io import oruk
from assetmap.io.http import OfflineError
from assetmap.store import open_store

FIXTURES = Path(__file__).parent / "fixtures" / "oruk"


@pytest.fixture
def store(tmp_path):
    with open_store(tmp_path / "register.sqlite") as s:
        yield s


@pytest.fixture
def api():
    """A local ORUK API serving the two committed pages of /services; yields (base URL, requests seen)."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            parts = urlsplit(self.path)
            number = int(parse_qs(parts.query).get("page", ["1"])[0])
            fixture = FIXTURES / f"services_page{number}.json"
            if parts.path != "/api/services" or not fixture.is_file():
                self.send_error(404)
                return
            body = fixture.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api", seen
    finally:
        server.shutdown()
        server.server_close()


def test_api_pagination_reads_every_page(api, store):
    base, seen = api
    services = list(oruk.services_from_api(base, page_size=3))
    assert [s["id"] for s in services] == [f"svc-{i:03d}" for i in range(1, 6)]
    assert len(seen) == 2 and all("per_page=3" in path for path in seen)
    result = sources.import_oruk(store, services, status="approved", actor="officer")
    assert len(result.added) == 5 and not result.skipped
    records = store.records(public=False).set_index("source_id")
    assert dict(records["type"]) == {
        "svc-001": "food_bank",
        "svc-002": "library",
        "svc-003": "advice_service",
        "svc-004": "growing_hub",
        "svc-005": "wellness_service",
    }
    first = records.loc["svc-001"]
    assert first["organisation"] == "Elmfield Trust 1" and first["postcode"] == "M19 2AB"
    assert first["address"] == "1 Elm Street, Manchester" and first["area_code"] == "E05011361"
    assert first["opening_times"] == "Tuesdays 10:00-12:00" and first["accessibility"] == "Step-free entrance"
    assert set(records["source"]) == {"oruk"} and set(records["status"]) == {"approved"}


def test_mixed_file_gives_clear_messages(store):
    result = sources.import_oruk(store, oruk.read_oruk(FIXTURES / "services_mixed.json"), actor="officer")
    records = store.records(public=False).set_index("source_id")
    assert set(records.index) == {"svc-101", "svc-106", "svc-108"}
    assert set(records["status"]) == {"pending"}
    # Missing optional fields are fine.
    assert records.loc["svc-101", "type"] == "youth_service" and records.loc["svc-101", "website"] is None
    # The older ORUK layout: physical_addresses, service_taxonomys, regular_schedules.
    old = records.loc["svc-106"]
    assert (
        old["type"] == "allotment" and old["postcode"] == "M19 2AB" and old["opening_times"] == "Saturday 09:00-12:00"
    )
    skipped = "\n".join(result.skipped)
    assert "svc-102" in skipped and "latitude 95.0" in skipped and "not coordinates in the United Kingdom" in skipped
    assert "svc-103" in skipped and "'not a number'" in skipped
    assert "svc-104" in skipped and "'Canine agility'" in skipped and "--default-type" in skipped
    assert "svc-105" in skipped and "inactive" in skipped
    assert "svc-107" in skipped and "needs an id and a name" in skipped
    assert any("svc-108" in n and "website" in n for n in result.notes)  # a bad website is dropped, and said so


def test_unknown_terms_with_a_default_type(store):
    services = [s for s in oruk.read_oruk(FIXTURES / "services_mixed.json") if s["id"] == "svc-104"]
    result = sources.import_oruk(store, services, actor="officer", default_type="vcse_group")
    assert len(result.added) == 1 and "Canine agility" in result.notes[0]
    assert store.get(result.added[0])["type"] == "vcse_group"


def test_reimport_updates_rather_than_duplicates(store, tmp_path):
    services = oruk.read_oruk(FIXTURES / "services_page1.json")
    sources.import_oruk(store, services, actor="officer")
    audit_rows = len(store.audit())
    again = sources.import_oruk(store, services, actor="officer")
    assert again.added == [] and again.updated == [] and len(again.unchanged) == 3
    assert len(store.audit()) == audit_rows
    services[0]["name"] = "Elmfield Community Food Bank"
    changed = sources.import_oruk(store, services, actor="officer")
    assert len(changed.updated) == 1 and store.get(changed.updated[0])["name"] == "Elmfield Community Food Bank"


def test_export_round_trips_through_the_importer(store, tmp_path):
    sources.import_oruk(store, oruk.read_oruk(FIXTURES / "services_page1.json"), status="approved", actor="officer")
    store.submit({"name": "Not yet approved", "type": "library", "longitude": -2.19, "latitude": 53.47}, actor="form")
    form_id = store.submit(
        {
            "name": "Elmfield Credit Union",
            "type": "advice_service",
            "elements": "11;6",
            "longitude": -2.18,
            "latitude": 53.46,
            "contact_email": "private@example.org",
        },
        actor="form",
    )
    store.approve(form_id, actor="officer")
    text = oruk.export_oruk(store.records(public=True), store.taxonomy)
    assert "private@example.org" not in text and "Not yet approved" not in text
    page = json.loads(text)
    assert page["total_items"] == 4 and page["last_page"] is True
    out = tmp_path / "export.json"
    out.write_text(text, encoding="utf-8")

    with open_store(tmp_path / "other.sqlite") as other:
        result = sources.import_oruk(other, oruk.read_oruk(out), status="approved", actor="officer")
        assert len(result.added) == 4 and not result.skipped
        fields = ["name", "type", "elements", "postcode", "website", "phone", "opening_times", "longitude", "latitude"]
        before = store.records().sort_values("name")[fields].reset_index(drop=True)
        after = other.records().sort_values("name")[fields].reset_index(drop=True)
        assert before.equals(after)
        # Exported again, the file is the same services.
        assert sorted(
            s["id"] for s in json.loads(oruk.export_oruk(other.records(public=True), other.taxonomy))["contents"]
        ) == sorted(s["id"] for s in page["contents"])


def test_cli_import_and_export(tmp_path, capsys):
    area = tmp_path / "area"
    shutil.copytree(settings.demo_area_path, area, ignore=shutil.ignore_patterns("register.sqlite*"))
    assert main(["import-oruk", "--area", str(area), str(FIXTURES / "services_mixed.json")]) == 0
    out = capsys.readouterr().out
    assert "3 added" in out and "svc-104" in out
    target = tmp_path / "out.json"
    assert main(["export-oruk", "--area", str(area), "--out", str(target)]) == 0
    assert json.loads(target.read_text(encoding="utf-8"))["contents"] == []  # imported as pending: none approved


def test_api_offline_is_a_clear_message():
    import socket

    with socket.socket() as sock:  # a port nobody listens on: the connection is refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    before = settings.fetch_backoff_s
    settings.fetch_backoff_s = 0.0
    try:
        with pytest.raises(OfflineError, match="offline"):
            list(oruk.services_from_api(f"http://127.0.0.1:{port}/api"))
    finally:
        settings.fetch_backoff_s = before
