"""Files uploaded in the app: safe names, allowed kinds and sizes, column headers, and a new area from them.

An upload is a name and its bytes. Nothing here trusts either: the name is
reduced to a safe base name before anything is written, the kind is checked
against an allow-list by extension (and parsed by content later, by the
loaders), and the size against a per-layer limit from :mod:`assetmap.settings`.

:func:`area_from_uploads` builds a new area folder from uploads in a hidden
working folder beside the areas and moves it into place only when every layer
has loaded, so a bad file never leaves a half-written area behind.
"""

from __future__ import annotations

import io
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from assetmap import settings
from assetmap._errors import AssetMapError, AssetMapWarning, DataFormatError, Problem, ValidationError
from assetmap.io._guard import decode_text
from assetmap.io._read import sniff_format

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd


#: File extensions accepted for each layer of an area (what its loader reads).
UPLOAD_TYPES: dict[str, tuple[str, ...]] = {
    "boundaries": (".geojson", ".json", ".gpkg", ".zip", ".kml"),
    "small_areas": (".geojson", ".json", ".gpkg", ".zip", ".kml"),
    "deprivation": (".csv", ".xlsx"),
    "population": (".csv", ".xlsx"),
    "lookup": (".csv", ".xlsx"),
    "network": (".osm", ".pbf", ".xml", ".gpkg", ".graphml"),
    "postcodes": (".csv", ".xlsx"),
    "assets": (".csv", ".xlsx", ".geojson", ".json", ".gpkg", ".kml", ".zip"),
}

#: What each layer is, in the words of the messages.
LAYER_LABELS: dict[str, str] = {
    "boundaries": "ward or neighbourhood boundaries",
    "small_areas": "LSOA boundaries",
    "deprivation": "Indices of Deprivation file",
    "population": "population file",
    "lookup": "LSOA-to-ward lookup",
    "network": "street network",
    "postcodes": "postcode lookup",
    "assets": "asset register",
}

#: Layers an area cannot do without.
REQUIRED_LAYERS: tuple[str, ...] = ("boundaries", "small_areas", "deprivation")

#: Layers that take several files.
MULTIPLE_LAYERS: tuple[str, ...] = ("assets",)

#: Column roles of each layer whose columns can be named where detection fails.
COLUMN_ROLES: dict[str, tuple[str, ...]] = {
    "boundaries": ("code_col", "name_col"),
    "small_areas": ("code_col", "name_col"),
    "deprivation": ("lsoa_code", "imd_score", "imd_rank", "population"),
}

#: Column roles in words.
ROLE_LABELS: dict[str, str] = {
    "code_col": "Code column",
    "name_col": "Name column",
    "lsoa_code": "LSOA code column",
    "imd_score": "IMD score column",
    "imd_rank": "IMD rank column",
    "population": "Population column",
}

# Rows read to tell the columns of a map layer by their content (codes that look like GSS codes).
_SAMPLE_FEATURES = 500
# Bytes read to find a table's header line.
_HEADER_BYTES = 1_000_000
_MAX_NAME_CHARS = 100


@dataclass(frozen=True)
class Upload:
    """One uploaded file: the name the browser sent and its content.

    Parameters
    ----------
    name : str
        File name as uploaded (untrusted: may hold a path or odd characters).
    data : bytes
        The file's content.
    """

    name: str
    data: bytes = field(repr=False)

    @property
    def size(self) -> int:
        """Size in bytes."""
        return len(self.data)


def safe_filename(name: str, default: str = "upload") -> str:
    r"""Return a safe base name for an uploaded file: no folders, no control or shell characters.

    Parameters
    ----------
    name : str
        The name as uploaded, e.g. ``"../../etc/passwd"`` or ``"C:\\Users\\me\\wards.geojson"``.
    default : str
        Stem used when nothing usable is left.

    Returns
    -------
    str
        Letters, digits, ``.``, ``-`` and ``_`` only, not starting with a dot,
        at most 100 characters, keeping the (lower-cased) extension.

    Examples
    --------
    >>> safe_filename("../../etc/passwd")
    'passwd'
    >>> safe_filename("C:\\data\\Wards May 2024.GeoJSON")
    'Wards_May_2024.geojson'
    """
    base = re.split(r"[/\\]", unicodedata.normalize("NFKC", name or ""))[-1]
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._-")
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    stem = re.sub(r"\.+", ".", stem).strip("._-") or default
    ext = ext.lower()[:10]
    room = _MAX_NAME_CHARS - len(ext) - 1
    return f"{stem[:room]}.{ext}" if ext else stem[:_MAX_NAME_CHARS]


def safe_folder_name(name: str) -> str:
    """Return the folder name for an area called ``name``: lower case words joined by hyphens.

    Examples
    --------
    >>> safe_folder_name("Manchester (wards 2023)")
    'manchester-wards-2023'
    """
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:60].strip("-")
    return slug or "area"


def upload_limit_mb(layer: str) -> float:
    """Return the largest upload accepted for ``layer``, in megabytes (per-layer limit, within the overall one)."""
    return min(float(settings.upload_limit_mb.get(layer, settings.max_file_mb)), float(settings.max_file_mb))


def _layer(layer: str) -> str:
    if layer not in UPLOAD_TYPES:
        raise ValueError(f"unknown layer {layer!r}; expected one of {', '.join(UPLOAD_TYPES)}.")
    return layer


def check_upload(name: str, size: int, layer: str) -> list[Problem]:
    """Return what is wrong with one uploaded file for ``layer``: its kind and its size.

    Parameters
    ----------
    name : str
        File name as uploaded.
    size : int
        Size in bytes.
    layer : str
        A key of :data:`UPLOAD_TYPES`.

    Returns
    -------
    list of Problem
        Empty when the file may be read; each problem names the file and the fix.
    """
    allowed = UPLOAD_TYPES[_layer(layer)]
    label = LAYER_LABELS[layer]
    shown = safe_filename(name)
    problems = []
    ext = Path(shown).suffix.lower()
    if ext not in allowed:
        problems.append(
            Problem(
                f"a {ext or 'file with no extension'} file cannot be loaded as the {label}.",
                file=shown,
                fix=f"Use one of these kinds: {', '.join(allowed)}.",
            )
        )
    limit = upload_limit_mb(layer)
    if size == 0:
        problems.append(Problem("the file is empty.", file=shown, fix="Export it again from its source."))
    elif size > limit * 1_000_000:
        problems.append(
            Problem(
                f"the file is {size / 1e6:.1f} MB, over the {limit:g} MB limit for the {label}.",
                file=shown,
                fix="Trim it to the area you need (or zip a shapefile) and upload it again.",
            )
        )
    return problems


def check_uploads(files: Mapping[str, Sequence[Upload]]) -> None:
    """Check every upload of an area at once, and that the required layers are there.

    Parameters
    ----------
    files : mapping
        Layer to its uploads.

    Raises
    ------
    ValidationError
        Listing every problem, so all can be fixed in one go.
    """
    problems: list[Problem] = []
    for layer in REQUIRED_LAYERS:
        if not files.get(layer):
            problems.append(
                Problem("no file given.", field=LAYER_LABELS[layer], fix=f"Upload the {LAYER_LABELS[layer]}.")
            )
    for layer, uploads in files.items():
        if len(uploads) > 1 and layer not in MULTIPLE_LAYERS:
            problems.append(Problem("give one file only.", field=LAYER_LABELS[_layer(layer)]))
        if len(uploads) > settings.max_upload_files:
            problems.append(
                Problem(
                    f"{len(uploads)} files, over the limit of {settings.max_upload_files}.",
                    field=LAYER_LABELS[_layer(layer)],
                    fix="Combine them into fewer files.",
                )
            )
        for upload in uploads:
            problems += check_upload(upload.name, upload.size, layer)
    if problems:
        raise ValidationError(problems, summary="These files cannot be used:")


def write_uploads(files: Mapping[str, Sequence[Upload]], folder: str | Path) -> dict[str, list[Path]]:
    """Write uploads under ``folder``, one subfolder per layer, by their safe names.

    Two uploads with one name both keep their content (the second gets ``_2``).

    Parameters
    ----------
    files : mapping
        Layer to its uploads.
    folder : str or Path
        Where to write; created if missing.

    Returns
    -------
    dict
        Layer to the paths written, in upload order (layers with no upload are left out).
    """
    root = Path(folder)
    written: dict[str, list[Path]] = {}
    for layer, uploads in files.items():
        if not uploads:
            continue
        sub = root / _layer(layer)
        sub.mkdir(parents=True, exist_ok=True)
        for upload in uploads:
            dest = sub / safe_filename(upload.name)
            stem, n = dest.stem, 1
            while dest.exists():
                n += 1
                dest = sub / f"{stem}_{n}{dest.suffix}"
            # "xb": never follow or replace anything already there.
            with dest.open("xb") as fh:
                fh.write(upload.data)
            written.setdefault(layer, []).append(dest)
    return written


# -- column headers --------------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnCheck:
    """The columns of one file and which roles were found among them.

    Attributes
    ----------
    layer : str
        A key of :data:`COLUMN_ROLES`.
    file : str
        File name.
    columns : list of str
        The file's columns (geometry left out), in file order.
    found : dict
        Role to column, for the roles found (detected or given).
    missing : tuple of str
        Required roles not found: the user must name them.
    message : str or None
        Why the file cannot be read without them, naming the file and the fix.
    """

    layer: str
    file: str
    columns: list[str]
    found: dict[str, str]
    missing: tuple[str, ...] = ()
    message: str | None = None

    @property
    def roles(self) -> tuple[str, ...]:
        """Every role of the layer that can be named: the missing ones first."""
        rest = tuple(r for r in COLUMN_ROLES[self.layer] if r not in self.missing)
        return self.missing + rest


def _vector_sample(path: Path) -> gpd.GeoDataFrame:
    import pyogrio

    fmt = sniff_format(path)
    if fmt == "shpzip":
        with zipfile.ZipFile(path) as archive:
            shp = [n for n in archive.namelist() if n.lower().endswith(".shp")]
        source = f"/vsizip/{path.resolve()}/{shp[0]}"
    elif fmt in ("geojson", "gpkg", "kml"):
        source = str(path)
    else:
        raise DataFormatError(f"{path.name}: not a map layer.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # GDAL's notes on odd files; the loader reports them
        return pyogrio.read_dataframe(source, max_features=_SAMPLE_FEATURES)


def table_columns(path: str | Path) -> list[str]:
    """Return the column names of a CSV or XLSX table from its header alone.

    CSV: the first megabyte is read, decoded as :func:`assetmap.io._read.read_table`
    decodes it. XLSX: the worksheet with an
    LSOA column and the most recognised deprivation columns, else the first.

    Raises
    ------
    DataFormatError
        When the file is not a readable table.
    """
    from assetmap.io.deprivation import best_sheet

    path = Path(path)
    fmt = sniff_format(path)
    if fmt == "xlsx":
        try:
            frame = pd.read_excel(path, sheet_name=best_sheet(path), nrows=0, engine="openpyxl")
        except (ValueError, KeyError, OSError, SyntaxError, EOFError, zipfile.BadZipFile) as exc:
            raise DataFormatError(f"{path.name}: cannot read the workbook ({exc}). Save it again as .xlsx.") from exc
    elif fmt == "csv":
        with path.open("rb") as fh:
            head = fh.read(_HEADER_BYTES)
        if len(head) == _HEADER_BYTES and b"\n" in head:
            head = head[: head.rindex(b"\n")]  # whole lines only
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AssetMapWarning)  # the loader reads the file again and says so
            text = decode_text(head, path.name)
        try:
            frame = pd.read_csv(io.StringIO(text), nrows=0, dtype=str, skipinitialspace=True)
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise DataFormatError(f"{path.name}: cannot read the header as CSV ({exc}). Save it as CSV UTF-8.") from exc
    else:
        raise DataFormatError(f"{path.name}: a {fmt} map layer, not a table. Give a CSV or XLSX file.")
    return [str(c).strip().lstrip("\ufeff") for c in frame.columns]


def file_columns(path: str | Path) -> list[str]:
    """Return the column names of a table (CSV, XLSX) or of a map layer's attributes, geometry left out.

    Only the header, or a map layer's first few hundred features, is read.

    Raises
    ------
    DataFormatError
        When the file is neither a readable table nor a map layer.
    """
    path = Path(path)
    if sniff_format(path) in ("csv", "xlsx"):
        return table_columns(path)
    try:
        sample = _vector_sample(path)
    except (OSError, RuntimeError, ValueError, IndexError, zipfile.BadZipFile) as exc:
        # pyogrio's errors are RuntimeErrors; the loader reads the file again and says more.
        raise DataFormatError(f"{path.name}: cannot read the map layer ({exc}).") from exc
    return [str(c) for c in sample.columns if c != sample.geometry.name]


def check_columns(
    path: str | Path, layer: str, mapping: Mapping[str, str | None] | None = None, *, population_given: bool = False
) -> ColumnCheck:
    """Tell which columns of a file the loader will use, and which it cannot find.

    Only the header (and, for map layers, the first few hundred features) is
    read. Where the file cannot be read at all the check finds nothing missing:
    the loader then reports what is wrong with the file.

    Parameters
    ----------
    path : str or Path
        The file.
    layer : {"boundaries", "small_areas", "deprivation"}
        What the file is.
    mapping : mapping, optional
        Role to column, as the user named them; names not in the file are ignored.
    population_given : bool
        A separate population file was given, so the deprivation file need not have one.

    Returns
    -------
    ColumnCheck
    """
    from assetmap.io import boundaries as _boundaries
    from assetmap.io import deprivation as _deprivation

    path = Path(path)
    if layer not in COLUMN_ROLES:
        raise ValueError(f"no column roles for layer {layer!r}; expected one of {', '.join(COLUMN_ROLES)}.")
    if layer in ("boundaries", "small_areas"):
        try:
            sample = _vector_sample(path)
        except (AssetMapError, OSError, RuntimeError, ValueError, IndexError, zipfile.BadZipFile):
            # pyogrio's errors are RuntimeErrors; the loader reads the file again and says what is wrong.
            return ColumnCheck(layer, path.name, [], {})
        columns = [str(c) for c in sample.columns if c != sample.geometry.name]
        given = {k: v for k, v in (mapping or {}).items() if v in columns and k in COLUMN_ROLES[layer]}
        found = dict(given)
        kind = "small_areas" if layer == "small_areas" else "areas"
        if "code_col" not in found:
            try:
                code, name = _boundaries._detect_columns(sample, kind, path.name)
            except DataFormatError as exc:
                return ColumnCheck(layer, path.name, columns, found, ("code_col",), str(exc))
            found["code_col"] = code
            if name and "name_col" not in found:
                found["name_col"] = name
        return ColumnCheck(layer, path.name, columns, found)

    try:
        columns = table_columns(path)
    except AssetMapError:
        return ColumnCheck(layer, path.name, [], {})
    given = {k: v for k, v in (mapping or {}).items() if v in columns and k in COLUMN_ROLES[layer]}
    detected = _deprivation.detect_columns(columns, given, path.name)
    other = _deprivation.wrong_file(path.name, columns, detected)
    if other is not None:
        raise other  # another kind of file: choosing its columns would not help
    found = {k: v for k, v in detected.items() if k in COLUMN_ROLES[layer]}
    if "lsoa_code" not in found:
        return ColumnCheck(
            layer, path.name, columns, found, ("lsoa_code",), str(_deprivation._no_lsoa_column(path.name, columns))
        )
    missing: list[str] = []
    if "imd_score" not in found and "imd_rank" not in found:
        missing.append("imd_score")
    if "population" not in found and not population_given:
        missing.append("population")
    if not missing:
        return ColumnCheck(layer, path.name, columns, found)
    wanted = " and ".join(
        {"imd_score": "the IMD score (or rank)", "population": "the population"}[role] for role in missing
    )
    message = (
        f"{path.name}: no column of {wanted} found among {columns}. Expected IoD headers such as "
        "'Index of Multiple Deprivation (IMD) Score' and 'Total population: mid 2022' (File 7), or short ones "
        "such as 'IMD_score'; choose the columns below, or upload the IoD population file (File 6)."
    )
    return ColumnCheck(layer, path.name, columns, found, tuple(missing), message)


class ColumnsNotDetected(DataFormatError):
    """Some files' columns could not be told from their headers: the user must name them.

    Parameters
    ----------
    checks : dict
        Layer to its :class:`ColumnCheck`, each with ``missing`` roles.
    """

    def __init__(self, checks: dict[str, ColumnCheck]):
        self.checks = checks
        super().__init__("\n".join(c.message or f"{c.file}: columns not found." for c in checks.values()))


# -- a new area ------------------------------------------------------------------------------
