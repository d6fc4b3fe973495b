"""Typed, documented defaults; the one place that reads the environment.

Change a value for a session by assigning to the module attribute
(``assetmap.settings.walk_threshold_m = 1200``) or, for the environment
variables listed below, before the process starts.

Environment variables
---------------------
ASSETMAP_AREA
    Folder of the area the app opens on (default: the built-in demo area).
ASSETMAP_REAL_DATA
    Folder of real public data used by the optional real-data tests.
ASSETMAP_REGISTER_URL
    Register store shared by every area: ``postgresql://...`` for PostgreSQL with
    PostGIS, or ``sqlite:///path`` (default: none; each area folder keeps its own
    ``register.sqlite``).
ASSETMAP_AREAS_DIR
    Folder where the app keeps areas created from uploaded files (default:
    ``assetmap/areas`` under the user's data folder, ``$XDG_DATA_HOME`` or
    ``~/.local/share``).
ASSETMAP_PUBLIC_URL
    Public address of the app; printed ward maps then carry a QR code linking to the ward.
ASSETMAP_CACHE_DIR
    Folder for derived data kept between runs, such as street networks prepared for
    routing, and for the register of the built-in demo area (default: ``assetmap``
    under ``$XDG_CACHE_HOME`` or ``~/.cache``).
ASSETMAP_ASSET_BUFFER_M
    Metres beyond an area's boundary within which assets are kept: they count for
    residents' walking access but in no ward (default: 2000). An area may set its own
    (``asset_buffer_m`` in ``area.toml``).
ASSETMAP_PERSONAL_DATA_RETENTION_DAYS
    Days the personal details of rejected and withdrawn records are kept after their
    last change before ``assetmap housekeeping`` (and the app, at start) erases them
    (default: 365, about 12 months).
"""

from __future__ import annotations

import os
from pathlib import Path

#: Coordinate reference system of every analysis layer (British National Grid, metres).
analysis_crs: str = "EPSG:27700"

#: Coordinate reference system of stored coordinates and of web maps (WGS84).
storage_crs: str = "EPSG:4326"

#: Walking distance, in metres, counted as "within reach" (about 10 minutes).
walk_threshold_m: float = 800.0

#: Capacity of a record that gives none, in the capacity score (E2SFCA): 1 session a week (or 1 place).
default_capacity: float = 1.0

#: Seconds the exact site model (maximal covering) may take before the greedy choice is kept instead.
site_time_limit_s: float = 60.0

#: Side of the grid, in metres, to which street nodes are thinned as candidate sites for the exact model.
site_grid_m: float = 150.0

#: Metres beyond an area's boundary within which assets are kept (``ASSETMAP_ASSET_BUFFER_M``; default
#: 2,000 m): residents near a border use assets over it, so those count for walking access, though in no
#: ward's counts; assets further out are left out when the area loads. ``asset_buffer_m`` in an area's
#: ``area.toml`` (or ``init-area --buffer``) overrides it for that area.
asset_buffer_m: float = os.environ.get("ASSETMAP_ASSET_BUFFER_M", "").strip() or 2000.0  # type: ignore[assignment]

#: Records not confirmed for longer than this many days are reported as stale.
stale_after_days: int = 730

#: Largest file, in megabytes, accepted from an upload or a loader.
max_file_mb: int = 200

#: Largest number of rows accepted in one asset register file.
max_asset_rows: int = 1_000_000

#: Largest upload, in megabytes, per layer of an area (never more than ``max_file_mb``;
#: ``server.maxUploadSize`` in ``assetmap/ui/webapp/.streamlit/config.toml`` caps every upload too).
upload_limit_mb: dict[str, float] = {
    "boundaries": 50,
    "small_areas": 100,
    "deprivation": 100,
    "population": 20,
    "lookup": 50,
    "network": 200,
    "postcodes": 200,
    "assets": 50,
}

#: Largest number of asset register files in one upload.
max_upload_files: int = 20

#: Most groups one client address, and one browser, may submit through the public page within
#: ``submission_window_s`` (counted in the register, so a reload does not reset it).
max_submissions: int = 5

#: Seconds over which ``max_submissions`` is counted.
submission_window_s: float = 600.0

#: Most times one client address, and one browser, may look up a submission on the public
#: "Check a submission" page within ``submission_check_window_s`` (counted before each look-up,
#: in the register, so a reload does not reset it): references cannot be guessed by trying many.
max_submission_checks: int = 10

#: Seconds over which ``max_submission_checks`` is counted.
submission_check_window_s: float = 600.0

#: Working days within which an officer usually checks a new entry, as the public page tells submitters.
review_working_days: int = 10

#: Most rows in one bulk upload of groups on the public page.
max_bulk_rows: int = 500

#: Failed officer sign-ins one user name, and one client address, may make before waiting
#: ``sign_in_lockout_s`` (counted in the register, so a reload does not reset it).
max_sign_in_failures: int = 5

#: Seconds a user name or client address waits after too many failed sign-ins.
sign_in_lockout_s: float = 300.0

#: Seconds an officer stays signed in (the lifetime of the signed sign-in cookie and its session).
officer_session_s: float = 8 * 3600.0

#: Seconds the one-time link that hands a new sign-in to the browser's cookie stays usable.
sign_in_link_s: float = 60.0

#: Rough bounds of Great Britain in EPSG:27700 (minx, miny, maxx, maxy): coordinates
#: outside them are not British National Grid.
bng_bounds: tuple[float, float, float, float] = (-1_000.0, -1_000.0, 700_000.0, 1_300_000.0)

#: Rough bounds of the United Kingdom in WGS84 (min lon, min lat, max lon, max lat).
uk_lonlat_bounds: tuple[float, float, float, float] = (-9.0, 49.5, 2.5, 61.5)

#: The installed package's folder.
package_root: Path = Path(__file__).resolve().parent

#: The built-in demo area (fictional), shipped as package data (``assetmap.datasets.get_path("eastbrook")``)
#: and written by ``python tools/make_demo.py``. It may be read-only: its register is kept in ``cache_dir``.
demo_area_path: Path = package_root / "datasets" / "eastbrook"

#: Area the app opens on.
default_area_path: Path = Path(os.environ.get("ASSETMAP_AREA", str(demo_area_path)))

#: Where areas created from uploads in the app are kept, one folder each.
areas_dir: Path = Path(
    os.environ.get("ASSETMAP_AREAS_DIR")
    or Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "assetmap" / "areas"
)

#: Folder for derived data worth keeping between runs (street networks prepared for routing,
#: named by the contents of their source files), and for what the app and the command line write
#: for the built-in demo area, whose own folder may be read-only: its register, ``demo/register.sqlite``
#: (``ASSETMAP_CACHE_DIR``; deleting it is always safe, and gives the demo its shipped records back).
cache_dir: Path = Path(
    os.environ.get("ASSETMAP_CACHE_DIR")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "assetmap"
)

#: Register store shared by every area (``postgresql://...`` or ``sqlite:///...``); None: each
#: area folder keeps its own ``register.sqlite``.
register_url: str | None = os.environ.get("ASSETMAP_REGISTER_URL") or None

#: Folder of real public data for optional tests (absent on most machines).
real_data_path: Path | None = Path(os.environ["ASSETMAP_REAL_DATA"]) if os.environ.get("ASSETMAP_REAL_DATA") else None

#: Attribution required by ONS, OS and OpenStreetMap data.
attribution_ons: str = (
    "Contains National Statistics data © Crown copyright and database right. "
    "Contains OS data © Crown copyright and database right."
)
attribution_osm: str = "© OpenStreetMap contributors, ODbL."

#: Public address of the app (``ASSETMAP_PUBLIC_URL``); printed maps then carry a QR code linking to each ward.
public_url: str | None = os.environ.get("ASSETMAP_PUBLIC_URL", "").strip() or None

#: A printed ward map with at most this many assets writes each one's name beside its number on the map.
print_names_up_to: int = 15

# -- personal data ----------------------------------------------------------------------------


def _whole_number(name: str, default: int) -> int:
    # A value that is not a whole number is kept as given, so that the code using it can refuse
    # it with a message naming the variable, instead of the import failing for every command.
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        return text  # type: ignore[return-value]


#: Days the personal details (``assetmap.record.PERSONAL_FIELDS``) of rejected and withdrawn records
#: are kept after their last change (``ASSETMAP_PERSONAL_DATA_RETENTION_DAYS``; default 365, about
#: 12 months); ``assetmap housekeeping`` and the app at start erase them after that.
personal_data_retention_days: int = _whole_number("ASSETMAP_PERSONAL_DATA_RETENTION_DAYS", 365)

# -- downloads (``assetmap fetch-area``, Open Referral APIs) ------------------------------------
# Base addresses are settings so that an authority can point them at a mirror, and tests at a
# local server. ONS renames its services with each boundary vintage: update the names here.

#: Seconds a download waits for the server before giving up on one try.
fetch_timeout_s: float = 30.0

#: Further tries of a download that failed on a timeout or a server error (with backoff).
fetch_retries: int = 2

#: Seconds before the first retry; each later retry waits twice as long.
fetch_backoff_s: float = 1.0

#: ONS Open Geography Portal's ArcGIS REST services folder.
ons_arcgis_url: str = "https://services1.arcgis.com/ESMARspQHYMw9BZ9/arcgis/rest/services"

#: ONS ward to local authority lookup service (fields ``WDnnCD``, ``WDnnNM``, ``LADnnCD``, ``LADnnNM``).
ons_ward_lookup_service: str = "WD24_LAD24_UK_LU"

#: ONS ward boundaries service (generalised, clipped: BGC).
ons_ward_service: str = "Wards_May_2024_Boundaries_UK_BGC"

#: ONS LSOA 2021 boundaries service (generalised, clipped: BGC).
ons_lsoa_service: str = "Lower_layer_Super_Output_Areas_December_2021_Boundaries_EW_BGC_V5"

#: Features asked for per page of an ArcGIS query (the server may cap it lower).
ons_page_size: int = 1000

#: IoD File 7 (all ranks, scores, deciles and population denominators), latest edition, CSV.
iod_file7_url: str = (
    "https://assets.publishing.service.gov.uk/media/68ff5daabcb10f6bf9bef911/"
    "File_7_IoD2025_All_Ranks_Scores_Deciles_Population_Denominators.csv"
)

#: Overpass API endpoint for OpenStreetMap extracts of an area.
overpass_url: str = "https://overpass-api.de/api/interpreter"
