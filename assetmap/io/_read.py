"""Reading files by their content: vector layers and tables.

Officers' files arrive with the wrong extension, zipped, with a BOM, or from
Excel; these helpers find out what a file really is before parsing it, and
turn every failure into a message that names the file and the fix.
"""

from __future__ import annotations

import csv
import io
import json
import warnings
import zipfile
from pathlib import Path, PurePosixPath

import geopandas as gpd
import numpy as np
import pandas as pd

from assetmap import settings
from assetmap._errors import AssetMapWarning, CRSError, DataFormatError
from assetmap.io._guard import (
    check_archive,
    check_json_depth,
    check_sheet_rows,
    check_workbook_parts,
    check_xml_stream,
    decode_text,
)

VECTOR_FORMATS = ("geojson", "gpkg", "shp", "shpzip", "kml")
TABLE_FORMATS = ("csv", "xlsx")

# A zip archive may not unpack to more than this, whatever it claims (zip bombs).
_MAX_UNZIPPED_BYTES = 2_000_000_000


def _check_file(path: Path) -> None:
    if not path.exists():
        raise DataFormatError(f"{path}: no such file. Check the path and the file name.")
    if path.is_dir():
        raise DataFormatError(f"{path}: is a folder, not a file. Name the file inside it.")
    size = path.stat().st_size
    if size == 0:
        raise DataFormatError(f"{path.name}: the file is empty. Export it again from its source.")
    if size > settings.max_file_mb * 1_000_000:
        raise DataFormatError(
            f"{path.name}: the file is {size / 1e6:.0f} MB, over the {settings.max_file_mb} MB limit. "
            "Trim it to the area you need, or raise assetmap.settings.max_file_mb."
        )


def _check_zip(path: Path) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise DataFormatError(
            f"{path.name}: not a readable zip archive or workbook ({exc}): the file may have been cut short. "
            "Zip it again, or save the workbook again as .xlsx."
        ) from exc
    check_archive(archive, path.name)
    total = 0
    for info in archive.infolist():
        member = PurePosixPath(info.filename)
        if member.is_absolute() or ".." in member.parts:
            raise DataFormatError(
                f"{path.name}: the archive holds an unsafe path '{info.filename}'. Zip the files again from their folder."
            )
        total += info.file_size
    if total > _MAX_UNZIPPED_BYTES:
        raise DataFormatError(f"{path.name}: the archive unpacks to {total / 1e9:.1f} GB, which is too large.")
    return archive


def sniff_format(path: str | Path) -> str:
    """Tell what kind of data file this is by its content, not its name.

    Parameters
    ----------
    path : str or Path
        The file.

    Returns
    -------
    str
        One of ``geojson``, ``gpkg``, ``shp``, ``shpzip``, ``kml``, ``csv``, ``xlsx``.

    Raises
    ------
    DataFormatError
        When the file is missing, empty, too large or of no supported kind.
    """
    path = Path(path)
    _check_file(path)
    with path.open("rb") as fh:
        head = fh.read(4096)
    if head.startswith(b"SQLite format 3\x00"):
        return "gpkg"
    if head[:4] == b"\x00\x00\x27\x0a":
        return "shp"
    if head.startswith(b"PK\x03\x04"):
        archive = _check_zip(path)
        names = [n.lower() for n in archive.namelist()]
        if "[content_types].xml" in names and any(n.startswith("xl/") for n in names):
            check_workbook_parts(archive, path.name)
            return "xlsx"
        if any(n.endswith(".shp") for n in names):
            return "shpzip"
        if any(n.endswith((".geojson", ".gpkg", ".kml")) for n in names):
            raise DataFormatError(
                f"{path.name}: a zip archive of {', '.join(sorted(set(names)))}; only zipped shapefiles are read "
                "from archives. Unzip it and load the file inside."
            )
        raise DataFormatError(f"{path.name}: a zip archive with no shapefile or spreadsheet inside it.")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise DataFormatError(
            f"{path.name}: an old Excel (.xls) workbook. Save it as .xlsx or CSV (File > Save As) and load that."
        )
    if b"\x00" in head:
        raise DataFormatError(
            f"{path.name}: a binary file of no supported kind. Use GeoJSON, GeoPackage, Shapefile (zipped or not), "
            "KML, CSV or XLSX."
        )
    text = head.decode("utf-8", errors="ignore").lstrip("\ufeff \t\r\n")
    if text.startswith("{") or text.startswith("["):
        return "geojson"
    if text.startswith("<"):
        if "<kml" in text[:1000].lower():
            return "kml"
        raise DataFormatError(
            f"{path.name}: an XML or HTML file, not a data table. If it is OpenStreetMap XML, load it as a street "
            "network; if a web page was saved by mistake, download the data file itself."
        )
    return "csv"


def read_vector(path: str | Path, *, layer: str | int | None = None) -> gpd.GeoDataFrame:
    """Read a vector layer (GeoJSON, GeoPackage, Shapefile, zipped Shapefile, KML).

    Parameters
    ----------
    path : str or Path
        The file.
    layer : str or int, optional
        Layer of a multi-layer file (GeoPackage); the first when omitted.

    Returns
    -------
    GeoDataFrame
        As stored, in the file's own CRS (which may be None).
    """
    path = Path(path)
    fmt = sniff_format(path)
    if fmt in TABLE_FORMATS:
        raise DataFormatError(
            f"{path.name}: a {fmt.upper()} table, not a map layer. Boundaries must be GeoJSON, GeoPackage, "
            "Shapefile or KML."
        )
    source: str | io.BytesIO = f"/vsizip/{path.resolve()}" if fmt == "shpzip" else str(path)
    if fmt == "shpzip":
        shp = [n for n in zipfile.ZipFile(path).namelist() if n.lower().endswith(".shp")]
        if len(shp) > 1 and layer is None:
            raise DataFormatError(
                f"{path.name}: the archive holds {len(shp)} shapefiles ({', '.join(shp)}). Name the one to use as layer."
            )
        source = f"/vsizip/{path.resolve()}/{shp[0] if layer is None else layer}"
        layer = None
    if fmt in ("geojson", "kml"):
        with path.open("rb") as fh:
            (check_json_depth if fmt == "geojson" else check_xml_stream)(fh, path.name)
    if fmt in ("geojson", "kml") and path.suffix.lower() not in (".geojson", ".json", ".kml"):
        # GDAL picks a driver by extension first; hand it the bytes so it goes by content.
        source = io.BytesIO(path.read_bytes())
    try:
        import pyogrio

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            gdf = pyogrio.read_dataframe(source, layer=layer)
    except Exception as exc:  # pyogrio raises several GDAL error types; all mean "unreadable"
        raise DataFormatError(
            f"{path.name}: cannot read it as a {fmt} map layer ({exc}). Check that the file is complete; "
            "open it in QGIS and export it again as GeoPackage if in doubt."
        ) from exc
    if len(gdf) == 0:
        raise DataFormatError(f"{path.name}: the layer has no features. Check you exported the right layer.")
    return gdf


def _long_row_message(name: str, text: str) -> str | None:
    """Name the first line with more cells than the header (None if there is none), for an officer to act on."""
    # newline="": a lone carriage return ends a line, as it does for pandas' reader.
    rows = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(rows, [])
        for row in rows:
            if len(row) > len(header):
                return (
                    f"{name}, line {rows.line_num}: {len(row)} cells but the header has {len(header)} columns. "
                    "Quote any cell that contains a comma, or remove the extra cells."
                )
    except csv.Error:
        return None  # the caller's general message stands
    return None


def read_table(path: str | Path, *, sheet: str | int | None = None, max_rows: int | None = None) -> pd.DataFrame:
    """Read a CSV or XLSX table with every cell as text, as officers' files need.

    Codes keep their leading zeros and numbers their original spelling; callers
    convert the columns they use. CSV is read as UTF-8 (with or without BOM); a
    file with no UTF-8 in it at all as Windows-1252 (Excel's default "CSV" on many
    council PCs), with a warning; a file mixing the two is refused, its lines named.
    Rows are counted while reading (for XLSX, in the sheet's XML before openpyxl
    parses it), so an oversized table is refused before it costs time or memory.

    Parameters
    ----------
    path : str or Path
        The file.
    sheet : str or int, optional
        Worksheet of an XLSX workbook; the first when omitted.
    max_rows : int, optional
        Most rows (below the header) accepted; Excel's limit of a sheet always applies to XLSX.

    Returns
    -------
    DataFrame
        Strings, with blank cells as missing values; column names stripped.

    Raises
    ------
    DataFormatError
        Naming the file (and the line, where there is one) and the fix.
    """
    path = Path(path)
    fmt = sniff_format(path)
    if fmt == "xlsx":
        with zipfile.ZipFile(path) as archive:
            check_sheet_rows(archive, path.name, sheet, max_rows)
        try:
            df = pd.read_excel(path, sheet_name=sheet if sheet is not None else 0, dtype=str, engine="openpyxl")
        # SyntaxError: the XML parsers' ParseError; the sheet was counted, but its cells may still be garbled.
        except (ValueError, KeyError, OSError, SyntaxError, EOFError, zipfile.BadZipFile) as exc:
            raise DataFormatError(f"{path.name}: cannot read the workbook ({exc}). Save it again as .xlsx.") from exc
    elif fmt == "csv":
        text = decode_text(path.read_bytes(), path.name)
        try:
            with warnings.catch_warnings():
                # index_col=False: a row longer than the header must not silently become the index.
                warnings.simplefilter("error", pd.errors.ParserWarning)
                df = pd.read_csv(
                    io.StringIO(text),
                    dtype=str,
                    skipinitialspace=True,
                    keep_default_na=False,
                    na_values=[""],
                    index_col=False,
                    nrows=None if max_rows is None else max_rows + 1,  # one more tells "too many"
                )
        except pd.errors.ParserWarning as exc:
            raise DataFormatError(
                _long_row_message(path.name, text) or f"{path.name}: a row has more cells than the header."
            ) from exc
        except pd.errors.EmptyDataError as exc:
            raise DataFormatError(f"{path.name}: the file holds no table (only blank lines).") from exc
        except pd.errors.ParserError as exc:
            raise DataFormatError(
                _long_row_message(path.name, text)
                or f"{path.name}: cannot read it as CSV ({exc}). Check for unbalanced quotes or a stray line; "
                "save it again as CSV UTF-8."
            ) from exc
    else:
        raise DataFormatError(f"{path.name}: a {fmt} map layer, not a table. Give a CSV or XLSX file.")
    if max_rows is not None and len(df) > max_rows:
        raise DataFormatError(
            f"{path.name}: more than {max_rows:,} rows, over the limit for one file. "
            f"Split it into files of at most {max_rows:,} rows."
        )
    df.columns = [str(c).strip().lstrip("\ufeff") for c in df.columns]
    if len(df) == 0:
        raise DataFormatError(f"{path.name}: the table has a header but no rows.")
    return df


def read_json(path: str | Path) -> object:
    """Read a JSON file, refusing an empty, oversized or absurdly nested one before parsing it.

    Parameters
    ----------
    path : str or Path
        The file (UTF-8, with or without BOM).

    Returns
    -------
    object
        The parsed document.

    Raises
    ------
    DataFormatError
        Naming the file, where the JSON breaks, and the fix.
    """
    path = Path(path)
    _check_file(path)
    return parse_json(path.read_bytes(), path.name)


def parse_json(raw: bytes, name: str) -> object:
    """Parse JSON bytes (a file's or a download's), with the nesting checked first; see :func:`read_json`."""
    if not raw.strip():
        raise DataFormatError(f"{name}: the file is empty. Export it again from its source.")
    check_json_depth(raw, name)
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise DataFormatError(f"{name}: not UTF-8 text (byte {exc.start:,}). Save it again as UTF-8 JSON.") from exc
    except json.JSONDecodeError as exc:
        raise DataFormatError(
            f"{name}: not valid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg}): the file may have been "
            "cut short. Export it again from its source."
        ) from exc
    except RecursionError as exc:  # within the nesting limit this cannot happen; never a traceback if it does
        raise DataFormatError(f"{name}: the JSON is nested too deeply to read.") from exc


def looks_like_bng(bounds: np.ndarray | tuple[float, float, float, float]) -> bool:
    """Whether coordinate bounds (minx, miny, maxx, maxy) look like British National Grid metres."""
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    bx0, by0, bx1, by1 = settings.bng_bounds
    return bx0 <= minx and by0 <= miny and maxx <= bx1 and maxy <= by1 and max(maxx, maxy) > 1_000


def looks_like_lonlat(bounds: np.ndarray | tuple[float, float, float, float]) -> bool:
    """Whether coordinate bounds (minx, miny, maxx, maxy) look like WGS84 longitude/latitude in the UK."""
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    x0, y0, x1, y1 = settings.uk_lonlat_bounds
    return x0 <= minx and y0 <= miny and maxx <= x1 and maxy <= y1


def ensure_crs(gdf: gpd.GeoDataFrame, name: str, crs: str | None = None) -> gpd.GeoDataFrame:
    """Return the layer in EPSG:27700, deciding its CRS openly where the file gives none.

    Parameters
    ----------
    gdf : GeoDataFrame
        The layer as read.
    name : str
        File name, for messages.
    crs : str, optional
        The CRS the user says the file is in; overrides the file's own.

    Raises
    ------
    CRSError
        When the file has no CRS and its coordinates do not look like British National Grid.
    """
    if crs is not None:
        gdf = gdf.set_crs(crs, allow_override=True)
    elif gdf.crs is None:
        bounds = gdf.total_bounds
        if looks_like_bng(bounds):
            warnings.warn(
                f"{name}: the file has no coordinate reference system; its coordinates look like British "
                "National Grid metres, so it was read as EPSG:27700. If that is wrong, give the CRS explicitly.",
                AssetMapWarning,
                stacklevel=3,
            )
            gdf = gdf.set_crs(settings.analysis_crs)
        elif looks_like_lonlat(bounds):
            raise CRSError(
                f"{name}: the file has no coordinate reference system. Its coordinates look like longitude and "
                "latitude; if so, give crs='EPSG:4326' (or add a .prj file beside the shapefile)."
            )
        else:
            raise CRSError(
                f"{name}: the file has no coordinate reference system and its coordinates "
                f"({', '.join(f'{v:.1f}' for v in bounds)}) are neither British National Grid nor UK longitude/"
                "latitude. Give the CRS explicitly (e.g. crs='EPSG:27700')."
            )
    if gdf.crs.to_epsg() != 27700:
        gdf = gdf.to_crs(settings.analysis_crs)
    return gdf
