"""Shared fixtures: a tiny synthetic area, and a real app server driven by a headless browser.

Browser tests need Debian's ``/usr/bin/chromium`` (``apt-get install chromium``)
and, so that the map draws with no network, Debian's Leaflet and jQuery
(``apt-get install libjs-leaflet libjs-leaflet.markercluster libjs-jquery``),
which are served in place of the CDN copies the map asks for. Where they are
missing the browser tests are skipped, or fail when the environment variable
``CI`` is set.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from assetmap import server, settings
from assetmap.record import FIELDS

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts"

CHROMIUM = Path("/usr/bin/chromium")
# Features Playwright turns off in Chromium (its own --disable-features list), repeated
# because Chromium keeps only the last --disable-features it is given.
_PLAYWRIGHT_DISABLED_FEATURES = (
    "AvoidUnnecessaryBeforeUnloadCheckSync,DestroyProfileOnBrowserClose,HttpsUpgrades,"
    "HttpsFirstBalancedModeAutoEnable,LensOverlay,MediaRouter,PaintHolding,ThirdPartyStoragePartitioning,"
    "AvoidCorsURLLoaderRestartOnRedirect,TcpPortRandomizationWin,OptimizationHints,NetworkTimeServiceQuerying,"
    "AimEnabled,PreconnectToSearch"
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # No internet: every host name but the app's fails at once (map tiles, any CDN), so a
    # page that reached outside the app would show it. Nothing is intercepted on the way.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
    # Each new window of this Chromium builds its address bar's suggestion popup (a WebUI
    # page with its own renderer), nearly a CPU-second that a visitor's open browser has
    # long paid: off, so pages are timed and tested without it.
    f"--disable-features={_PLAYWRIGHT_DISABLED_FEATURES},WebUIOmniboxPopup,WebUIOmniboxFullPopup,WebUIOmniboxAimPopup",
]

SERVER_START_TIMEOUT_S = 90.0


@pytest.fixture(scope="session", autouse=True)
def _private_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Keep prepared street networks in a folder of this test session, not the user's cache."""
    folder = tmp_path_factory.mktemp("cache")
    before, env_before = settings.cache_dir, os.environ.get("ASSETMAP_CACHE_DIR")
    settings.cache_dir = folder
    os.environ["ASSETMAP_CACHE_DIR"] = str(folder)  # app servers started by tests inherit it
    yield folder
    settings.cache_dir = before
    if env_before is None:
        os.environ.pop("ASSETMAP_CACHE_DIR", None)
    else:
        os.environ["ASSETMAP_CACHE_DIR"] = env_before


@pytest.fixture
def fresh_streamlit_caches() -> Iterator[None]:
    """Clear Streamlit's caches before and after a test: cached areas outlive an AppTest run."""
    import streamlit as st

    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture(scope="module")
def demo() -> Any:
    """The built-in demo area, loaded once per test module (a module may change its copy)."""
    import assetmap

    return assetmap.load_area(settings.demo_area_path)


def missing_requirement(reason: str) -> None:
    """Fail under CI (where every test must run), skip elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this fails instead of skipping)", pytrace=False)
    pytest.skip(reason)


# -- a tiny synthetic area --------------------------------------------------------------

X0, Y0 = 530_000.0, 180_000.0  # somewhere in London, EPSG:27700
WARD = 1_000.0


def _asset(**values: Any) -> dict[str, Any]:
    record: dict[str, Any] = dict.fromkeys(FIELDS)
    record.update({"status": "approved", "sensitive": False, "source": "officer"})
    record.update(values)
    return record


def tiny_layers() -> dict[str, Any]:
    """Return the layers of a 3-ward, 6-LSOA synthetic area with 9 asset records.

    Ward E05000001 holds a record named with markup and one with script-like text;
    approved, non-sensitive, located records number 5.
    """
    from assetmap.taxonomy import load_taxonomy

    codes = ["E05000001", "E05000002", "E05000003"]
    boundaries = gpd.GeoDataFrame(
        {"code": codes, "name": ["Northgate", "Riverside & Docks", "Southfield"]},
        geometry=[box(X0 + i * WARD, Y0, X0 + (i + 1) * WARD, Y0 + WARD) for i in range(3)],
        crs="EPSG:27700",
    )
    lsoa_codes = [f"E0100000{i}" for i in range(1, 7)]
    small_areas = gpd.GeoDataFrame(
        {"code": lsoa_codes, "name": [f"Tiny {i:03d}A" for i in range(1, 7)]},
        geometry=[
            box(X0 + (i // 2) * WARD, Y0 + (i % 2) * WARD / 2, X0 + (i // 2 + 1) * WARD, Y0 + (i % 2 + 1) * WARD / 2)
            for i in range(6)
        ],
        crs="EPSG:27700",
    )
    small_areas.attrs["lsoa_vintage"] = 2021
    deprivation = pd.DataFrame(
        {
            "lsoa_code": lsoa_codes,
            "imd_score": [45.0, 38.0, 20.0, 25.0, 8.0, 12.0],
            "imd_rank": [1_200, 2_500, 12_000, 9_000, 28_000, 24_000],
            "imd_decile": [1, 1, 4, 3, 9, 8],
            "population": [1_500, 1_700, 1_600, 1_400, 1_800, 1_500],
        }
    )
    deprivation.attrs["n_national"] = 33_755  # ranks as in IoD2025
    lookup = pd.DataFrame({"lsoa_code": lsoa_codes, "area_code": [codes[i // 2] for i in range(6)], "weight": 1.0})

    taxonomy = load_taxonomy()
    rows = [
        _asset(
            asset_id="A1",
            name="<script>alert(1)</script> & Co",
            type="community_centre",
            elements=(4, 6),
            address="1 <b>High</b> Street",
            postcode="SW1A 1AA",
            website="example.org/a?x=1&y=2",
            contact_name="Private Person Alpha",
            contact_email="private.alpha@example.org",
            x=300,
            y=300,
        ),
        _asset(
            asset_id="A2",
            name="Food `${alert(2)}` Pantry",
            type="food_bank",
            elements=(11,),
            opening_times="Tue 10:00-12:00",
            email="hello@pantry.example",
            phone="020 7946 0000",
            website="javascript:alert(3)",
            x=1_300,
            y=400,
        ),
        _asset(asset_id="A3", name="Riverside Library", type="library", elements=(4, 6, 7), x=1_700, y=700),
        _asset(asset_id="A4", name="Wellbeing Link", type="social_prescribing", elements=(1, 2), x=400, y=800),
        _asset(asset_id="A5", name="Southfield Forum", type="neighbourhood_forum", elements=(3, 5), x=2_500, y=500),
        _asset(
            asset_id="A6",
            name="Pending Group Unseen",
            type="vcse_group",
            elements=(6,),
            status="pending",
            x=2_200,
            y=200,
        ),
        _asset(
            asset_id="A7",
            name="Rejected Group Unseen",
            type="vcse_group",
            elements=(6,),
            status="rejected",
            x=2_300,
            y=300,
        ),
        _asset(
            asset_id="A8",
            name="Withdrawn Group Unseen",
            type="vcse_group",
            elements=(6,),
            status="withdrawn",
            x=2_400,
            y=400,
        ),
        _asset(
            asset_id="A9",
            name="Safe House Hidden Point",
            type="housing_support",
            elements=(11,),
            sensitive=True,
            x=2_600,
            y=800,
        ),
    ]
    frame = pd.DataFrame(rows)
    geometry = [Point(X0 + x, Y0 + y) for x, y in zip(frame.pop("x"), frame.pop("y"), strict=True)]
    assets = gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:27700")
    assets["pillars"] = [tuple(taxonomy.pillars_of(e)) for e in assets["elements"]]
    assets["area_code"] = [codes[int((p.x - X0) // WARD)] for p in assets.geometry]
    assets["area_name"] = assets["area_code"].map(dict(zip(codes, boundaries["name"], strict=True)))

    # The deprivation summary is fixed here so that rendering tests do not depend on the analysis.
    joined = deprivation.merge(lookup, on="lsoa_code")
    summary_rows = []
    for code, g in joined.groupby("area_code"):
        pop = g["population"].sum()
        summary_rows.append(
            {
                "code": code,
                "population": int(pop),
                "avg_score": float(np.average(g["imd_score"], weights=g["population"])),
                "avg_rank": float(np.average(g["imd_rank"], weights=g["population"])),
                "share_pop_decile_1_2": float(g.loc[g["imd_decile"] <= 2, "population"].sum() / pop),
                "n_lsoas": len(g),
            }
        )
    summary = boundaries.merge(pd.DataFrame(summary_rows), on="code")
    approved = assets[assets["status"].eq("approved")]
    summary["n_assets"] = summary["code"].map(approved.groupby("area_code").size()).fillna(0).astype(int)
    return {
        "boundaries": boundaries,
        "small_areas": small_areas,
        "deprivation": deprivation,
        "lookup": lookup,
        "assets": assets,
        "summary": summary,
    }


def make_tiny_area(name: str = "Tinyborough", fictional: bool = True) -> Any:
    """Return an :class:`assetmap.area.load.Area` built from :func:`tiny_layers`."""
    from assetmap.area.load import Area

    layers = tiny_layers()
    summary = layers.pop("summary")
    area = Area(
        name=name,
        fictional=fictional,
        vintages={"boundaries": "Tiny wards 2024", "deprivation": "Tiny IoD 2025"},
        notes=["Repaired 0 invalid geometries."],
        **layers,
    )
    area._cache["area_summary"] = summary
    return area


@pytest.fixture
def tiny() -> dict[str, Any]:
    """The layers of the tiny synthetic area (fresh for each test)."""
    return tiny_layers()


@pytest.fixture
def tiny_area() -> Any:
    """The tiny synthetic area as an :class:`assetmap.area.load.Area` (fresh for each test)."""
    return make_tiny_area()


# -- a real app server and a headless browser -------------------------------------------


free_port = server.free_port
stop = server.stop


def wait_until_healthy(proc: subprocess.Popen, url: str, log: Path, timeout_s: float) -> None:
    """Wait for a server to answer its health check; fail the test (with the server's log) if it does not."""
    try:
        server.wait_until_healthy(proc, url, log, timeout_s)
    except server.ServerError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def app_area() -> Path:
    """Area folder the app server serves: ASSETMAP_AREA, else the demo area (override to serve another)."""
    from assetmap import settings

    return Path(settings.default_area_path)


@pytest.fixture(scope="session")
def app_script() -> Path:
    """Script the app server runs (override to serve another)."""
    return REPO / "assetmap" / "ui" / "webapp" / "app.py"


@contextlib.contextmanager
def serve_app(app_script: Path, app_area: Path, log_dir: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """Run ``streamlit run <app_script>`` with ASSETMAP_AREA=<app_area> on a free port; yield its base URL.

    The server is stopped on exit; ``env`` adds or overrides environment variables.
    """
    try:
        with server.serve(app_area, log_dir, app=app_script, env=env, timeout_s=SERVER_START_TIMEOUT_S) as base:
            yield base
    except server.ServerError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def app_server(app_script: Path, app_area: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app serving ``app_area`` for the whole session; yields its base URL."""
    if not (app_area / "area.toml").is_file():
        pytest.skip(f"No area to serve: {app_area / 'area.toml'} does not exist (build the demo area first).")
    with serve_app(app_script, app_area, tmp_path_factory.mktemp("app-server")) as base:
        yield base


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """A headless Debian Chromium driven by Playwright, for the session."""
    if not CHROMIUM.exists():
        missing_requirement(f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser page (a new context: no cookies, no cache) with no network beyond the app."""
    context = browser.new_context(viewport={"width": 1400, "height": 1600})
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Folder for screenshots and other test output (not committed)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


# -- real public data (optional) ----------------------------------------------------------


def real_data_dir() -> Path | None:
    """Return the real public data folder, or None where there is none.

    ASSETMAP_REAL_DATA names it; otherwise ``../shared/data/real`` beside the repository.
    """
    candidates = [settings.real_data_path, Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"]
    for folder in candidates:
        if folder is not None and (folder / "MANIFEST.md").is_file():
            return folder
    return None


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The real public data folder; tests that use it skip cleanly where it is absent."""
    folder = real_data_dir()
    if folder is None:
        pytest.skip("real public data folder not found (set ASSETMAP_REAL_DATA)")
    return folder


@pytest.fixture(scope="session")
def manchester(real_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Manchester built from the published files as an officer would, with the OpenStreetMap street extract."""
    from assetmap import LayerOptions, init_area

    r = real_data
    return init_area(
        tmp_path_factory.mktemp("areas") / "manchester",
        boundaries=r / "boundaries" / "manchester_wards_2023.geojson",
        small_areas=r / "boundaries" / "manchester_lsoa21.geojson",
        imd=r / "deprivation" / "IoD2025_File_7_manchester_partial.csv",
        options=LayerOptions(
            lookup=r / "lookups" / "LSOA21_to_WD24_LAD24_EW.csv",
            network=r / "osm" / "levenshulme.osm",
            postcodes=r / "postcodes" / "manchester_postcodes_codepoint_2025.csv",
            assets=[r / "assets" / "libraries_manchester.geojson", r / "assets" / "gm_food_banks.csv"],
            asset_type="food_bank",
            skip_invalid_assets=True,
        ),
        name="Manchester",
        code="E08000003",
    )


# -- a PostgreSQL server with PostGIS, for the register store tests -----------------------


@pytest.fixture(scope="session")
def postgis_server() -> Iterator[Any]:
    """A throwaway PostgreSQL + PostGIS server for the session (see ``tests/pg.py``); fails under CI if missing."""
    from pg import missing_postgres, start_postgres

    reason = missing_postgres()
    if reason:
        missing_requirement(reason)
    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()
