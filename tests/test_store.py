"""The register store, the same tests against SQLite and against a real PostgreSQL + PostGIS server."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from assetmap._errors import ValidationError
from assetmap.area.register import export_register
from assetmap.store import (
    ConflictError,
    RecordNotFoundError,
    RegisterStore,
    TransitionError,
    open_store,
)
from assetmap.store.sqlite import SQLiteStore

REPO = Path(__file__).resolve().parent.parent


def group(n: int = 0, **values: Any) -> dict[str, Any]:
    """A valid form submission, placed near Westminster and spread out by ``n``."""
    record = {
        "name": f"Group {n}",
        "type": "vcse_group",
        "longitude": -0.12 + (n % 100) * 0.001,
        "latitude": 51.50 + (n // 100) * 0.001,
        "postcode": "SW1A 1AA",
        "contact_name": f"Private Person {n}",
        "contact_email": f"private{n}@example.org",
    }
    record.update(values)
    return record


@pytest.fixture(params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a fresh, empty store lives: a SQLite file, or a new PostGIS database."""
    if request.param == "sqlite":
        return str(tmp_path / "register.sqlite")
    return request.getfixturevalue("postgis_server").fresh_database()


@pytest.fixture
def store(store_url: str) -> Iterator[RegisterStore]:
    with open_store(store_url) as s:
        yield s


# -- schema --------------------------------------------------------------------------------


def test_open_store_creates_and_migrates_once(store_url: str) -> None:
    with open_store(store_url) as first:
        assert first.schema_version() >= 1
        assert first.migrate() == []  # nothing left to apply
    with open_store(store_url) as again:  # reopening applies nothing twice
        assert again.schema_version() == first.schema_version()
        assert again.counts() == {"pending": 0, "approved": 0, "rejected": 0, "withdrawn": 0}


def test_open_store_chooses_backend(tmp_path: Path) -> None:
    with open_store(tmp_path) as s:  # an area folder
        assert isinstance(s, SQLiteStore) and s.path == tmp_path / "register.sqlite"
    with open_store(f"sqlite:///{tmp_path / 'x.sqlite'}") as s:
        assert s.path == tmp_path / "x.sqlite"
        assert s.url.startswith("sqlite:///")
    with pytest.raises(Exception, match="not a register store"):
        open_store("mysql://somewhere/db")


def test_sqlite_uses_wal(tmp_path: Path) -> None:
    with open_store(tmp_path) as s:
        mode = s._run(lambda tx: tx.execute("PRAGMA journal_mode"), write=False)
        assert next(iter(mode[0].values())) == "wal"
        assert s.integrity_check() == "ok"


@pytest.mark.postgis
def test_postgis_has_geometry_and_spatial_index(postgis_server: Any) -> None:
    with open_store(postgis_server.fresh_database()) as s:
        rid = s.submit(group(1), actor="t")
        rows = s._run(
            lambda tx: tx.execute("SELECT ST_SRID(geom) AS srid, ST_X(geom) AS x FROM records WHERE id = ?", (rid,)),
            write=False,
        )
        assert rows[0]["srid"] == 27700 and rows[0]["x"] == pytest.approx(s.get(rid)["x"])
        index = s._run(
            lambda tx: tx.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'records_geom'"), write=False
        )
        assert "gist" in index[0]["indexdef"].lower()
        s.edit(rid, {"longitude": -0.13}, actor="t")  # the trigger keeps the point in step
        moved = s._run(lambda tx: tx.execute("SELECT ST_X(geom) AS x FROM records WHERE id = ?", (rid,)), write=False)
        assert moved[0]["x"] == pytest.approx(s.get(rid)["x"])


# -- adding ----------------------------------------------------------------------------------


def test_submit_is_pending_and_not_public(store: RegisterStore) -> None:
    rid = store.submit(group(1), actor="public form")
    assert rid.startswith("R")
    assert store.get(rid)["status"] == "pending"
    assert store.records().empty
    with pytest.raises(RecordNotFoundError):
        store.get(rid, public=True)
    officer = store.records(public=False)
    assert officer["asset_id"].tolist() == [rid]
    assert officer.crs.to_epsg() == 27700
    assert officer.loc[0, "contact_name"] == "Private Person 1"
    assert officer.loc[0, "elements"] == tuple(sorted(store.taxonomy.asset_type("vcse_group").elements))


def test_submit_refuses_bad_record_and_stores_nothing(store: RegisterStore) -> None:
    with pytest.raises(ValidationError) as info:
        store.submit(group(1, name="", latitude=95, email="not an email"), actor="public form")
    fields = {p.field for p in info.value.problems}
    assert {"name", "latitude", "email"} <= fields
    assert store.records(public=False).empty and store.audit().empty


def test_idempotent_retry_is_stored_once(store: RegisterStore) -> None:
    first = store.submit(group(1), actor="public form", idempotency_key="form-abc")
    again = store.submit(group(1, name="Edited on retry"), actor="public form", idempotency_key="form-abc")
    assert again == first
    assert len(store.records(public=False)) == 1
    assert store.audit()["action"].tolist() == ["submit"]
    ids = store.bulk_add([group(2), group(3)], actor="o", idempotency_key="upload-1")
    assert store.bulk_add([group(2), group(3)], actor="o", idempotency_key="upload-1") == ids
    assert len(store.records(public=False)) == 3


def test_bulk_add_is_all_or_nothing(store: RegisterStore) -> None:
    good = [group(i, row=i + 2) for i in range(5)]
    bad = [*good, group(9, name=None, row=7), group(10, latitude="north", row=8)]
    with pytest.raises(ValidationError) as info:
        store.bulk_add(bad, actor="o", file="groups.csv")
    assert [(p.row, p.field) for p in info.value.problems] == [(7, "name"), (8, "latitude")]
    assert "nothing was stored" in str(info.value)
    assert store.records(public=False).empty and store.audit().empty
    ids = store.bulk_add(good, actor="o", file="groups.csv")
    assert len(ids) == len(set(ids)) == 5
    audit = store.audit()
    assert Counter(audit["action"]) == {"submit": 5} and set(audit["record_id"]) == set(ids)


def test_bulk_add_refuses_ids_already_held(store: RegisterStore) -> None:
    store.bulk_add([group(1, asset_id="CT-1")], actor="o", status="approved")
    with pytest.raises(ValidationError, match="already in the register"):
        store.bulk_add([group(2, asset_id="CT-2"), group(3, asset_id="CT-1")], actor="o")
    assert store.counts()["approved"] == 1 and store.counts()["pending"] == 0
    assert store.get("CT-1")["status"] == "approved"
    assert store.audit()["action"].tolist() == ["import"]


# -- moderation --------------------------------------------------------------------------------


def test_lifecycle_and_audit(store: RegisterStore) -> None:
    a, b, c = store.bulk_add([group(1), group(2), group(3)], actor="public form")
    store.approve([a, b], actor="officer1", reason="checked")
    store.reject(c, actor="officer1", reason="not a community asset")
    assert set(store.records()["asset_id"]) == {a, b}
    store.withdraw(b, actor="officer2", reason="closed")
    assert store.records()["asset_id"].tolist() == [a]
    assert store.counts() == {"pending": 0, "approved": 1, "rejected": 1, "withdrawn": 1}
    with pytest.raises(TransitionError, match="withdrawn"):
        store.approve(b, actor="officer1")
    with pytest.raises(ValidationError, match="reason"):
        store.reject(a, actor="officer1", reason=" ")
    with pytest.raises(RecordNotFoundError):
        store.approve("R-NO-SUCH", actor="officer1")

    log = store.audit(b)
    assert log["action"].tolist() == ["submit", "approve", "withdraw"]
    assert log["actor"].tolist() == ["public form", "officer1", "officer2"]
    assert log.iloc[1]["before"]["status"] == "pending" and log.iloc[1]["after"]["status"] == "approved"
    assert log.iloc[2]["reason"] == "closed"
    assert log["at"].is_monotonic_increasing
    assert store.last_change() == store.audit()["id"].max()


def test_moderation_is_all_or_nothing(store: RegisterStore) -> None:
    a, b = store.bulk_add([group(1), group(2)], actor="p")
    store.withdraw(b, actor="o")
    with pytest.raises(TransitionError, match="Nothing was changed"):
        store.approve([a, b], actor="o")
    assert store.get(a)["status"] == "pending"


def test_edit_writes_audit_and_guards_versions(store: RegisterStore) -> None:
    rid = store.submit(group(1), actor="p")
    version = store.get(rid)["version"]
    edited = store.edit(rid, {"description": "Tuesday lunch club", "elements": "4;6"}, actor="o", reason="typo")
    assert edited["description"] == "Tuesday lunch club" and edited["elements"] == (4, 6)
    assert edited["version"] == version + 1
    with pytest.raises(ConflictError, match="Reload"):
        store.edit(rid, {"description": "stale"}, actor="o2", expected_version=version)
    with pytest.raises(ValidationError):
        store.edit(rid, {"status": "approved"}, actor="o")
    with pytest.raises(ValidationError):
        store.edit(rid, {"latitude": 10}, actor="o")
    store.edit(rid, {"description": "Tuesday lunch club"}, actor="o")  # no change: no audit row
    log = store.audit(rid)
    assert log["action"].tolist() == ["submit", "edit"]
    assert log.iloc[1]["before"]["description"] is None
    assert log.iloc[1]["after"]["description"] == "Tuesday lunch club"
    assert store.get(rid)["description"] == "Tuesday lunch club"


def test_confirm_and_merge(store: RegisterStore) -> None:
    keep, drop = store.bulk_add(
        [group(1, name="Lunch Club"), group(1, name="The Lunch Club", website="https://lunch.example")],
        actor="p",
    )
    store.approve(keep, actor="o")
    store.confirm([keep], actor="o")
    assert store.get(keep)["last_confirmed"] == time.strftime("%Y-%m-%d")
    kept = store.merge(keep, [drop], actor="o")
    assert kept["website"] == "https://lunch.example"  # blank field filled from the duplicate
    dropped = store.get(drop)
    assert dropped["status"] == "withdrawn" and dropped["merged_into"] == keep
    assert store.audit(drop)["action"].tolist() == ["submit", "merged"]
    with pytest.raises(TransitionError, match="already merged"):
        store.merge(keep, [drop], actor="o")


def test_records_filters(store: RegisterStore) -> None:
    a, b, c = store.bulk_add(
        [
            group(1, type="food_bank", area_code="E05000001"),
            group(2, type="library", area_code="E05000002"),
            group(3, elements="1;2", area_code="E05000001"),
        ],
        actor="p",
    )
    store.approve([a, b, c], actor="o")
    assert set(store.records(area_code="E05000001")["asset_id"]) == {a, c}
    assert set(store.records(element=11)["asset_id"]) == {a}
    assert set(store.records(element=[1, 11])["asset_id"]) == {a, c}
    assert store.records(element=1, area_code="E05000002").empty
    assert store.records(status="pending", public=False).empty
    with pytest.raises(ValueError, match="public"):
        store.records(status="pending")


def test_public_reads_never_show_pending_or_private(store: RegisterStore) -> None:
    a, _ = store.bulk_add([group(1), group(2, name="Still Pending Group")], actor="p")
    store.approve(a, actor="o")
    public = store.records()
    assert public["asset_id"].tolist() == [a]
    for hidden in ("contact_name", "contact_email", "created_by", "updated_by"):
        assert hidden not in public.columns
        assert hidden not in store.get(a, public=True)
    text = export_register(store, "csv").decode("utf-8-sig")
    assert "Private Person" not in text and "private1@example.org" not in text
    assert "Still Pending Group" not in text
    officer = export_register(store, "csv", officer=True).decode("utf-8-sig")
    assert "Private Person 1" in officer and "Still Pending Group" in officer
    geojson = export_register(store, "geojson").decode()
    assert "Private Person" not in geojson and "Still Pending" not in geojson


def test_exports_neutralise_formulae(store: RegisterStore) -> None:
    payloads = ['=HYPERLINK("http://evil.example","click")', "+1+1", "-2+3", "@SUM(A1)"]
    ids = store.bulk_add([group(i, name=p, description=p, organisation=p) for i, p in enumerate(payloads)], actor="p")
    store.approve(ids, actor="o")
    rows = list(csv.DictReader(io.StringIO(export_register(store, "csv").decode("utf-8-sig"))))
    assert sorted(r["name"] for r in rows) == sorted("'" + p for p in payloads)
    assert all(r["description"].startswith("'") for r in rows)
    sheet = openpyxl.load_workbook(io.BytesIO(export_register(store, "xlsx"))).active
    header = [c.value for c in sheet[1]]
    names = [row[header.index("name")] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert sorted(names) == sorted("'" + p for p in payloads)
    assert all(row[header.index("longitude")] < 0 for row in sheet.iter_rows(min_row=2, values_only=True))


def test_find_duplicates_against_register_and_batch(store: RegisterStore) -> None:
    held = store.submit(group(1, name="Riverside Food Bank", charity_number="1123456", postcode="E1 6AN"), actor="p")
    batch = [
        group(1, name="The Riverside Foodbank", postcode="N1 9GU", charity_number=None, row=2),  # similar, 0 m
        group(50, name="Elsewhere Club", charity_number="1123456", postcode="N1 9GU", row=3),  # same charity
        group(60, name="Quiet Club", postcode="E1 6AN", row=4),  # same postcode
        group(60, name="Quiet Club", postcode="N7 8AA", row=5),  # same name, same place as row 4
        group(80, name="Nothing Alike", postcode="W1A 1AA", row=6),
    ]
    flags = store.find_duplicates(batch)
    reg = flags[flags["where"] == "register"].set_index("row")
    assert "similar name within 50 m" in reg.loc[2, "reason"] and reg.loc[2, "duplicate_of"] == held
    assert reg.loc[3, "reason"] == "same charity number"
    assert reg.loc[4, "reason"] == "same postcode"
    within = flags[flags["where"] == "batch"]
    assert (5, 4) in set(zip(within["row"], within["other_row"], strict=True))
    assert 6 not in set(flags["row"])
    queue = store.find_duplicates()  # the moderation queue: one pending record, nothing to flag
    assert queue.empty


def test_public_duplicate_check_sees_only_what_the_public_map_shows(store: RegisterStore) -> None:
    pending = store.submit(group(1, name="Riverside Food Bank", postcode="E1 6AN"), actor="p")
    hidden = store.submit(group(2, name="Riverside Food Bank Annex", postcode="E1 6AN", sensitive=True), actor="p")
    store.approve(hidden, actor="officer")
    batch = [group(1, name="The Riverside Foodbank", postcode="E1 6AN", row=2)]
    assert set(store.find_duplicates(batch)["duplicate_of"]) == {pending, hidden}  # officers see both
    assert store.find_duplicates(batch, public=True).empty  # the public sees neither
    store.approve(pending, actor="officer")
    public = store.find_duplicates(batch, public=True)
    assert set(public["duplicate_of"]) == {pending}


# -- reliability ---------------------------------------------------------------------------------


def test_concurrent_submitters_each_stored_once(store_url: str) -> None:
    threads, each = 50, 4
    start = threading.Barrier(threads)
    errors: list[BaseException] = []
    returned: list[str] = []
    lock = threading.Lock()
    with open_store(store_url) as shared:

        def submitter(t: int) -> None:
            try:
                start.wait()
                for k in range(each):
                    n = t * each + k
                    rid = shared.submit(group(n, name=f"Concurrent {n}"), actor=f"user{t}", idempotency_key=f"k{n}")
                    with lock:
                        returned.append(rid)
            except BaseException as exc:  # collected and reported by the assertion below
                errors.append(exc)

        workers = [threading.Thread(target=submitter, args=(t,)) for t in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=120)
        assert not errors, errors[:3]
        records = shared.records(public=False)
        names = Counter(records["name"])
        assert len(records) == threads * each == len(set(returned))
        assert all(names[f"Concurrent {n}"] == 1 for n in range(threads * each))
        audit = shared.audit()
        assert len(audit) == threads * each and set(audit["action"]) == {"submit"}
        assert Counter(audit["record_id"]) == Counter(returned)


def test_concurrent_retries_of_one_submission_store_it_once(store_url: str) -> None:
    threads = 20
    start = threading.Barrier(threads)
    results: list[str] = []
    errors: list[BaseException] = []
    with open_store(store_url) as shared:

        def retry() -> None:
            try:
                start.wait()
                results.append(shared.submit(group(1), actor="p", idempotency_key="double-click"))
            except BaseException as exc:  # collected and reported by the assertion below
                errors.append(exc)

        workers = [threading.Thread(target=retry) for _ in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=60)
        assert not errors, errors[:3]
        assert len(set(results)) == 1 and len(results) == threads
        assert len(shared.records(public=False)) == 1 and len(shared.audit()) == 1


_KILLED_IMPORT = textwrap.dedent(
    """
    import sys, threading
    from pathlib import Path
    from assetmap.store import open_store
    from assetmap.store.base import RegisterStore

    url, marker, n = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    store = open_store(url)
    original = RegisterStore._insert_rows

    def insert_half_then_hang(self, tx, rows):
        original(self, tx, rows[: len(rows) // 2])  # written inside the open transaction
        marker.write_text("half")  # tell the test, then wait to be killed
        threading.Event().wait()

    RegisterStore._insert_rows = insert_half_then_hang
    if store.backend == "sqlite":  # a tiny page cache makes SQLite spill uncommitted pages to the WAL file
        store._connection().execute("PRAGMA cache_size = 5")
    records = [
        {"name": f"Bulk {i}", "type": "library", "longitude": -1.5 + i * 1e-5, "latitude": 53.8, "row": i + 2}
        for i in range(n)
    ]
    store.bulk_add(records, actor="importer", idempotency_key="import-1")
    """
)


def test_bulk_import_killed_part_way_leaves_register_unchanged(store_url: str, tmp_path: Path) -> None:
    with open_store(store_url) as s:
        s.approve(s.bulk_add([group(1), group(2)], actor="p"), actor="o")
        before_records = s.records(public=False).drop(columns="geometry")
        before_audit = s.audit()
    marker = tmp_path / "half-written"
    script = tmp_path / "import.py"
    script.write_text(_KILLED_IMPORT)
    n = 3_000
    proc = subprocess.Popen(
        [sys.executable, str(script), store_url, str(marker), str(n)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert time.monotonic() < deadline, "the import never reached half-way"
            try:
                code = proc.wait(timeout=0.05)  # the pause between checks, and a check that it is still running
            except subprocess.TimeoutExpired:
                continue
            pytest.fail(f"the import exited early ({code}): {proc.stdout.read().decode()[-2000:]}")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()

    with open_store(store_url) as s:
        after = s.records(public=False).drop(columns="geometry")
        assert after.equals(before_records)
        assert s.audit().equals(before_audit)
        if isinstance(s, SQLiteStore):
            assert s.integrity_check() == "ok"
        # The killed upload's key was never taken: the retry stores every row, once.
        ids = s.bulk_add(
            [
                {"name": f"Bulk {i}", "type": "library", "longitude": -1.5 + i * 1e-5, "latitude": 53.8}
                for i in range(n)
            ],
            actor="importer",
            idempotency_key="import-1",
        )
        assert len(ids) == len(set(ids)) == n
        assert s.counts()["pending"] == n


# -- the area reads approved records from its register ---------------------------------------------


def test_load_area_reads_approved_register_records(tmp_path: Path) -> None:
    import shutil

    from assetmap import load_area, settings

    area_dir = tmp_path / "area"
    shutil.copytree(settings.demo_area_path, area_dir, ignore=shutil.ignore_patterns("register.sqlite*"))
    before = load_area(area_dir)
    inside = before.boundaries.to_crs(4326).geometry.iloc[0].representative_point()
    with open_store(area_dir) as s:
        a, b = s.bulk_add(
            [
                group(1, name="Approved From Register", longitude=inside.x, latitude=inside.y),
                group(2, name="Pending From Register", longitude=inside.x, latitude=inside.y),
            ],
            actor="p",
        )
        s.approve(a, actor="o")
    after = load_area(area_dir)
    assert len(after.assets) == len(before.assets) + 1
    added = after.assets[after.assets["asset_id"] == a].iloc[0]
    assert added["file"] == "register.sqlite" and added["status"] == "approved"
    assert added["area_code"] == before.boundaries["code"].iloc[0]
    assert b not in set(after.assets["asset_id"])
    assert (
        "contact_name" not in after.assets
        or after.assets.loc[after.assets["asset_id"] == a, "contact_name"].isna().all()
    )


def test_load_area_reads_a_shared_register_for_its_own_wards(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from assetmap import load_area, settings

    area_dir = tmp_path / "area"
    shutil.copytree(settings.demo_area_path, area_dir, ignore=shutil.ignore_patterns("register.sqlite*"))
    before = load_area(area_dir)
    inside = before.boundaries.to_crs(4326).geometry.iloc[0].representative_point()
    with open_store(store_url) as s:
        here, elsewhere = s.bulk_add(
            [
                group(1, name="Shared Here", longitude=inside.x, latitude=inside.y),
                # Another authority's place, far beyond this area's border buffer.
                group(2, name="Shared Elsewhere", longitude=-2.24, latitude=53.48),
            ],
            actor="p",
        )
        s.edit(here, {"area_code": before.boundaries["code"].iloc[0]}, actor="o")
        s.edit(elsewhere, {"area_code": "E05000000"}, actor="o")  # a ward of another authority
        s.approve([here, elsewhere], actor="o")
    monkeypatch.setattr(settings, "register_url", store_url)
    after = load_area(area_dir)
    assert set(after.assets["asset_id"]) - set(before.assets["asset_id"]) == {here}
    assert not (area_dir / "register.sqlite").exists()


# -- personal data: one person's export, erasure, retention ---------------------------------------

# Everything a person gave about themselves on one record, and where it may later appear.
ZED = {"contact_name": "Zed Quorn", "contact_email": "zed.quorn@example.org", "phone": "020 7946 0123"}


def _everything_said(store: RegisterStore) -> str:
    """The whole audit log and every record, as text."""
    rows = store._run(lambda tx: tx.execute("SELECT * FROM audit") + tx.execute("SELECT * FROM records"), write=False)
    return json.dumps(rows, default=str)


def test_subject_access_returns_every_record_and_its_history_and_is_audited(store: RegisterStore) -> None:
    mine = store.submit(group(1, **ZED), actor="public form")
    public = store.submit(group(2, email=" ZED.Quorn@example.org"), actor="public form")
    other = store.submit(group(3), actor="public form")
    store.edit(mine, {"description": "Knitting on Tuesdays"}, actor="officer1")
    store.reject(public, actor="officer1", reason="duplicate")

    held = store.subject_access("  Zed.QUORN@example.org ", actor="officer2", reason="request 17")

    assert json.loads(json.dumps(held)) == held  # JSON as it is
    assert held["email"] == ZED["contact_email"]
    assert [r["asset_id"] for r in held["records"]] == [mine, public]
    assert held["records"][0]["contact_name"] == ZED["contact_name"]
    assert {(a["record_id"], a["action"]) for a in held["audit"]} == {
        (mine, "submit"),
        (mine, "edit"),
        (public, "submit"),
        (public, "reject"),
    }
    assert all(a["record_id"] != other for a in held["audit"])
    requests = store.audit().query("action == 'subject access'")
    assert sorted(requests["record_id"]) == sorted([mine, public])
    assert set(requests["actor"]) == {"officer2"} and all("request 17" in r for r in requests["reason"])
    assert ZED["contact_email"] not in json.dumps(requests[["reason", "before", "after"]].to_dict("records"))

    nobody = store.subject_access("nobody@example.org", actor="officer2")
    assert nobody["records"] == [] and nobody["audit"] == []
    last = store.audit().iloc[-1]
    assert last["action"] == "subject access" and last["record_id"] is None
    with pytest.raises(ValidationError, match="email"):
        store.subject_access("  ", actor="officer2")


def test_erase_personal_blanks_the_record_and_scrubs_the_audit_log(store: RegisterStore) -> None:
    rid = store.submit(group(1, **ZED, email="zed.club@example.org"), actor="public form")
    store.edit(rid, {"contact_email": "zq@example.org"}, actor="officer1", reason="Zed Quorn gave a new email")
    other = store.submit(group(2), actor="public form")
    with pytest.raises(RecordNotFoundError):
        store.erase_personal([rid, "R-NO-SUCH"], actor="officer1", reason="request 18")
    with pytest.raises(ValidationError, match="reason"):
        store.erase_personal(rid, actor="officer1", reason=" ")
    assert store.get(rid)["contact_name"] == ZED["contact_name"]  # all or none: nothing was erased
    version = store.get(rid)["version"]

    erased = store.erase_personal(rid, actor="officer1", reason="request 18 from zed quorn")

    assert erased == {rid: ["contact_name", "contact_email", "email", "phone"]}
    record = store.get(rid)
    assert all(record[f] is None for f in ("contact_name", "contact_email", "email", "phone"))
    assert record["name"] == "Group 1" and record["version"] == version + 1
    said = _everything_said(store).lower()
    for value in (*ZED.values(), "zed.club@example.org", "zq@example.org"):
        assert value.lower() not in said, value
    log = store.audit(rid)
    assert log["action"].tolist() == ["submit", "edit", "erase"]
    erase = log.iloc[-1]
    assert erase["actor"] == "officer1" and erase["reason"] == "request 18 from [erased]"
    assert erase["before"]["contact_name"] == "[erased]" and erase["after"]["contact_name"] is None
    assert log.iloc[0]["after"]["contact_email"] == "[erased]"  # history keeps that a value was there
    assert log.iloc[1]["reason"] == "[erased] gave a new email"
    # Another person's record and history are untouched.
    assert store.get(other)["contact_email"] == "private2@example.org"
    assert store.audit(other).iloc[0]["after"]["contact_email"] == "private2@example.org"
    assert store.subject_access(ZED["contact_email"], actor="officer1")["records"] == []
    assert store.erase_personal(rid, actor="officer1", reason="again") == {}  # nothing left to erase


def test_erase_expired_erases_rejected_and_withdrawn_records_past_retention_once(
    store: RegisterStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    rejected, withdrawn, approved, pending, blanked = store.bulk_add(
        [group(1), group(2), group(3), group(4), group(5)], actor="public form"
    )
    store.reject(rejected, actor="o", reason="not a group")
    store.approve(approved, actor="o")
    store.withdraw(withdrawn, actor="o")
    store.edit(blanked, {"contact_name": None, "contact_email": None}, actor="o")  # held only in the history now
    store.withdraw(blanked, actor="o")
    now = datetime.now(UTC)

    assert store.erase_expired(365, now=now + timedelta(days=364)) == {}  # not yet
    erased = store.erase_expired(365, now=now + timedelta(days=366))

    assert erased == {
        rejected: ["contact_name", "contact_email"],
        withdrawn: ["contact_name", "contact_email"],
        blanked: [],
    }
    for rid in (rejected, withdrawn):
        assert store.get(rid)["contact_email"] is None and store.audit(rid)["action"].iloc[-1] == "erase"
        assert store.audit(rid)["actor"].iloc[-1] == "housekeeping"
    said = _everything_said(store)
    for n in (1, 2, 5):
        assert f"private{n}@example.org" not in said and f"Private Person {n}" not in said
    for rid, n in ((approved, 3), (pending, 4)):
        assert store.get(rid)["contact_email"] == f"private{n}@example.org"
    # Idempotent: nothing more to erase, however late it runs again.
    assert store.erase_expired(365, now=now + timedelta(days=366)) == {}
    assert store.erase_expired(365, now=now + timedelta(days=5000)) == {}
    # A record that changes again after its erasure is kept for a new period.
    store.approve(rejected, actor="o")
    store.edit(rejected, {"contact_email": "new@example.org"}, actor="o")
    store.withdraw(rejected, actor="o")
    assert store.erase_expired(365, now=now + timedelta(days=100)) == {}
    assert store.erase_expired(365, now=now + timedelta(days=400)) == {rejected: ["contact_email"]}
    assert "new@example.org" not in _everything_said(store)


def test_erase_expired_refuses_a_bad_retention_setting(store: RegisterStore, monkeypatch: pytest.MonkeyPatch) -> None:
    from assetmap import settings
    from assetmap.store import StoreError

    for bad in (0, -5, 1.5, "twelve months"):
        monkeypatch.setattr(settings, "personal_data_retention_days", bad)
        with pytest.raises(StoreError, match="ASSETMAP_PERSONAL_DATA_RETENTION_DAYS"):
            store.erase_expired()
    monkeypatch.setattr(settings, "personal_data_retention_days", 30)
    rid = store.submit(group(1), actor="p")
    store.reject(rid, actor="o", reason="no")
    assert store.erase_expired(now=datetime.now(UTC) + timedelta(days=31)) == {rid: ["contact_name", "contact_email"]}


def test_a_register_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    from assetmap.store import StoreError

    (tmp_path / "register.sqlite").write_text("not a database\n", encoding="utf-8")
    with pytest.raises(StoreError, match=r"register\.sqlite: the register cannot be read .*backup"):
        open_store(tmp_path)


# -- submission references -------------------------------------------------------------------


def test_each_record_gets_a_short_unique_reference(store: RegisterStore) -> None:
    from assetmap.store.common import REFERENCE_PATTERN

    rid = store.submit(group(1), actor="public form")
    ids = store.bulk_add([group(n) for n in range(2, 40)], actor="public bulk upload")
    refs = store.references([rid, *ids])
    assert all(REFERENCE_PATTERN.match(r) for r in refs.values()), refs
    assert len(set(refs.values())) == len(refs) == 39
    assert store.get(rid)["reference"] == refs[rid]
    assert "reference" not in store.records(public=False).columns  # never in a table or an export
    store.approve(rid, actor="officer")
    assert "reference" not in store.get(rid, public=True)


def test_a_reference_clash_is_given_another_reference(store: RegisterStore, monkeypatch: pytest.MonkeyPatch) -> None:
    from assetmap.store import core

    first = store.submit(group(1), actor="public form")
    taken = store.references([first])[first]
    drawn = iter([taken, taken, "ACDE-FGHJ"])
    monkeypatch.setattr(core, "new_reference", lambda: next(drawn))
    second = store.submit(group(2), actor="public form")
    assert store.references([second])[second] == "ACDE-FGHJ"


def test_submission_status_needs_the_reference_and_the_email(store: RegisterStore) -> None:
    rid = store.submit(group(1), actor="public form")
    ref = store.references([rid])[rid]
    seen = store.submission_status(ref.lower().replace("-", " "), "  PRIVATE1@example.org ")
    assert seen is not None
    assert (seen["reference"], seen["name"], seen["status"], seen["reason"]) == (ref, "Group 1", "pending", None)
    assert set(seen) == {"reference", "name", "status", "submitted_at", "changed_at", "reason", "merged"}
    # A wrong email and a wrong reference are answered alike.
    assert store.submission_status(ref, "private2@example.org") is None
    assert store.submission_status("ACDE-FGHJ", "private1@example.org") is None
    assert store.submission_status("", "private1@example.org") is None
    assert store.submission_status(ref, "") is None


def test_submission_status_shows_the_officers_reason_for_rejecting(store: RegisterStore) -> None:
    rid = store.submit(group(1), actor="public form")
    ref = store.references([rid])[rid]
    store.reject(rid, actor="officer", reason="We could not find the group at this address.")
    seen = store.submission_status(ref, "private1@example.org")
    assert seen is not None and seen["status"] == "rejected"
    assert seen["reason"] == "We could not find the group at this address."
    store.approve(rid, actor="officer")  # approved after all: no reason to show
    seen = store.submission_status(ref, "private1@example.org")
    assert seen is not None and (seen["status"], seen["reason"]) == ("approved", None)


def test_records_from_before_references_are_found_by_their_id(store: RegisterStore) -> None:
    rid = store.submit(group(1), actor="public form")
    store._run(lambda tx: tx.execute("UPDATE records SET reference = NULL WHERE id = ?", (rid,)))
    assert store.references([rid]) == {rid: rid}
    seen = store.submission_status(rid.lower(), "private1@example.org")
    assert seen is not None and (seen["reference"], seen["status"]) == (rid, "pending")
    # Many records without a reference live side by side (NULL is not a clash in the unique index).
    other = store.submit(group(2), actor="public form")
    store._run(lambda tx: tx.execute("UPDATE records SET reference = NULL WHERE id = ?", (other,)))
    assert store.submission_status(other, "private2@example.org") is not None
