"""Register store: sustained submission throughput and latency with concurrent submitters.

Each backend gets N threads submitting records at once through ``RegisterStore.submit``
(validation, idempotency key, record and audit row in one transaction), against a
bare INSERT of the same rows, one transaction each, through the same driver. SQLite
runs with ``synchronous=FULL``; PostgreSQL is started by ``tests/pg.py`` with its
durable defaults (fsync and synchronous commit on).
"""

from __future__ import annotations

import contextlib
import sqlite3
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from assetmap.store import open_store
from assetmap.store.base import RECORD_COLUMNS

SUBMITTERS = 16
PER_SUBMITTER = 40


def _record(n: int) -> dict:
    return {
        "name": f"Benchmark group {n}",
        "type": "vcse_group",
        "longitude": -1.55 + (n % 200) * 1e-4,
        "latitude": 53.80 + (n // 200) * 1e-4,
        "postcode": "LS1 1UR",
        "description": "A weekly lunch club for older residents.",
        "contact_name": "Private Person",
        "contact_email": "private@example.org",
    }


def _row(n: int) -> tuple:
    r = _record(n)
    values = dict.fromkeys(RECORD_COLUMNS)
    values.update(
        id=f"B{n}",
        name=r["name"],
        type=r["type"],
        elements=";6;",
        description=r["description"],
        postcode=r["postcode"],
        longitude=r["longitude"],
        latitude=r["latitude"],
        x=430_000.0,
        y=433_000.0,
        contact_name=r["contact_name"],
        contact_email=r["contact_email"],
        source="form",
        status="pending",
        sensitive=False,
        created_at="2026-01-01T00:00:00Z",
        updated_at="2026-01-01T00:00:00Z",
        created_by="bench",
        updated_by="bench",
        version=1,
    )
    return tuple(values[c] for c in RECORD_COLUMNS)


def _hammer(submit: Callable[[int, int], None], threads: int, each: int) -> tuple[float, list[float]]:
    """Run ``submit(thread, n)`` from ``threads`` threads at once; return wall seconds and every latency."""
    start = threading.Barrier(threads + 1)
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors: list[BaseException] = []

    def worker(t: int) -> None:
        try:
            start.wait()
            for k in range(each):
                began = time.perf_counter()
                submit(t, t * each + k)
                latencies[t].append(time.perf_counter() - began)
        except BaseException as exc:  # reported after the run
            errors.append(exc)

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for p in pool:
        p.start()
    start.wait()
    began = time.perf_counter()
    for p in pool:
        p.join()
    wall = time.perf_counter() - began
    if errors:
        raise RuntimeError(f"{len(errors)} submissions failed: {errors[0]!r}")
    return wall, [v for per in latencies for v in per]


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def _sqlite_bare(path: Path) -> Callable[[int, int], None]:
    local = threading.local()
    placeholders = ", ".join("?" * len(RECORD_COLUMNS))
    sql = f"INSERT INTO records ({', '.join(RECORD_COLUMNS)}) VALUES ({placeholders})"

    def submit(_t: int, n: int) -> None:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA synchronous = FULL")
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(sql, _row(n))
        conn.execute("COMMIT")

    return submit


def _pg_bare(url: str) -> Callable[[int, int], None]:
    import psycopg

    local = threading.local()
    sql = f"INSERT INTO records ({', '.join(RECORD_COLUMNS)}) VALUES ({', '.join(['%s'] * len(RECORD_COLUMNS))})"

    def submit(_t: int, n: int) -> None:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = psycopg.connect(url, autocommit=True)
        with conn.transaction():
            conn.execute(sql, _row(n))

    return submit


def _measure(label: str, open_url: Callable[[], str], bare: Callable[[str], Callable[[int, int], None]]) -> list:
    from benchmarks.__main__ import Result

    store_url, bare_url = open_url(), open_url()
    with open_store(store_url) as store:

        def via_store(t: int, n: int) -> None:
            store.submit(_record(n), actor=f"user{t}", idempotency_key=f"bench-{n}")

        store.submit(_record(-1), actor="warm-up")
        wall, lat = _hammer(via_store, SUBMITTERS, PER_SUBMITTER)
        stored = len(store.records(public=False))
        audited = len(store.audit())
    with open_store(bare_url) as empty:  # the same schema, written to bare
        empty.submit(_record(-1), actor="warm-up")
    base_wall, base_lat = _hammer(bare(bare_url), SUBMITTERS, PER_SUBMITTER)
    n = SUBMITTERS * PER_SUBMITTER
    print(
        f"store {label}: {SUBMITTERS} concurrent submitters x {PER_SUBMITTER}: {n / wall:,.0f} submissions/s "
        f"(bare INSERT {n / base_wall:,.0f}/s); p50 {statistics.median(lat) * 1000:.1f} ms, "
        f"p95 {_p95(lat) * 1000:.1f} ms, max {max(lat) * 1000:.0f} ms (bare p95 {_p95(base_lat) * 1000:.1f} ms, "
        f"max {max(base_lat) * 1000:.0f} ms); "
        f"{stored - 1} stored, {audited - 1} audit rows",
        flush=True,
    )
    return [
        Result(
            f"{label} submit, p95 latency ({SUBMITTERS} threads)",
            _p95(lat),
            "bare INSERT p95",
            _p95(base_lat),
            "reference",
        ),
        Result(f"{label} {n} submissions, wall", wall, f"bare INSERT of {n} rows", base_wall, "reference"),
    ]


def run(repeat: int) -> list:
    results = []
    with tempfile.TemporaryDirectory(prefix="assetmap-bench-store-") as folder:
        counter = iter(range(1_000_000))
        results += _measure(
            "SQLite",
            lambda: str(Path(folder) / f"register{next(counter)}.sqlite"),
            lambda url: _sqlite_bare(Path(url)),
        )
    try:
        from tests.pg import missing_postgres, start_postgres
    except ImportError:
        print("store PostGIS: skipped (run from the repository root, where tests/pg.py is)", flush=True)
        return results
    reason = missing_postgres()
    if reason:
        print(f"store PostGIS: skipped ({reason})", flush=True)
        return results
    server = start_postgres(durable=True)
    try:
        results += _measure("PostGIS", server.fresh_database, _pg_bare)
    finally:
        with contextlib.suppress(Exception):
            server.stop()
    return results
