"""Reading an uploaded spreadsheet of groups into records to add, with every problem listed."""

from __future__ import annotations

import re
import tempfile
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd

from assetmap import settings
from assetmap._errors import AssetMapWarning, DataFormatError, Problem, ValidationError
from assetmap.io._read import read_table, sniff_format
from assetmap.io.assets import read_assets
from assetmap.record import FIELDS, normalise_columns, validate_record
from assetmap.taxonomy import Taxonomy, load_taxonomy

#: File types a bulk upload may be (judged by content, not name).
BULK_FORMATS: tuple[str, ...] = ("csv", "xlsx")


def _empty(fname: str) -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame(
        {c: pd.Series(dtype=object) for c in (*FIELDS, "area_code", "row")},
        geometry=gpd.GeoSeries([], crs=settings.analysis_crs),
    )
    frame.attrs["source"] = fname
    return frame


def _whole_file(exc: Exception, fname: str) -> list[Problem]:
    """Return a problem with the whole file, named by its uploaded name rather than the temporary copy's."""
    # The message starts with the file's name ("upload.bin: ..." or "upload.bin, line 3: ..."), which
    # the Problem names again: drop it there, and name the upload elsewhere in the text.
    text = re.sub(r"^upload\.bin(: |, )", "", str(exc))
    return [Problem(text.replace("upload.bin", fname), file=fname)]


def parse_bulk(
    data: bytes,
    filename: str,
    *,
    postcodes: pd.DataFrame | None = None,
    taxonomy: Taxonomy | None = None,
    default_type: str | None = None,
    max_rows: int = 5_000,
) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Read an uploaded CSV or XLSX of groups into clean records and a list of problems.

    Nothing here raises for bad input: an unreadable file, a bad row or a bad cell each
    become a :class:`~assetmap._errors.Problem` naming the file, row and field and
    saying what to fix. Records come back as ``pending``, source ``bulk``, whatever
    the file says; text is kept as typed (escaped when shown, neutralised when
    exported) after checks for length and control characters.

    Parameters
    ----------
    data : bytes
        The uploaded file.
    filename : str
        Its name as uploaded (used in messages only; the content decides the format).
    postcodes : DataFrame, optional
        The area's postcode lookup, to place rows given only by postcode.
    taxonomy : Taxonomy, optional
        Asset types and elements (default: the shipped taxonomy).
    default_type : str, optional
        Type of every row, for a file with no type column.
    max_rows : int
        Most rows accepted in one upload.

    Returns
    -------
    records : GeoDataFrame
        The rows that passed every check (EPSG:27700), with their spreadsheet ``row``;
        ``asset_id`` only where the file gave one.
    problems : list of Problem
        Every problem, by row; when not empty the upload should be refused whole
        (:meth:`RegisterStore.bulk_add` refuses it anyway).
    """
    fname = Path(str(filename) or "upload").name[:100] or "upload"
    tax = taxonomy or load_taxonomy()
    limit_mb = settings.upload_limit_mb.get("assets", settings.max_file_mb)
    if not data:
        return _empty(fname), [Problem("the file is empty.", file=fname, fix="Choose the file again.")]
    if len(data) > limit_mb * 1_000_000:
        return _empty(fname), [
            Problem(
                f"the file is {len(data) / 1e6:.1f} MB, over the {limit_mb:g} MB limit.", file=fname, fix="Split it."
            )
        ]
    with tempfile.TemporaryDirectory(prefix="assetmap-bulk-") as folder:
        path = Path(folder) / "upload.bin"
        path.write_bytes(data)
        try:
            fmt = sniff_format(path)
            if fmt not in BULK_FORMATS:
                raise DataFormatError(f"{fname}: a {fmt} file. Upload a spreadsheet: CSV or XLSX.")
            # Rows are counted as the file is read, so an oversized sheet is refused before it is parsed.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", AssetMapWarning)  # read again below, where notes are handled
                table = read_table(path, max_rows=max_rows)
        except DataFormatError as exc:
            return _empty(fname), _whole_file(exc, fname)
        had_ids = "asset_id" in normalise_columns(list(table.columns)).values()
        problems: list[Problem] = []
        options = {
            "postcodes": postcodes,
            "taxonomy": tax,
            "default_type": default_type,
            "default_status": "pending",
            "source": "bulk",
        }
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AssetMapWarning)  # bad rows are collected as problems instead
            try:
                try:
                    records = read_assets(path, **options)
                except ValidationError as exc:
                    # Every problem is listed; read again, leaving the bad rows out, for the good ones.
                    problems += exc.problems
                    records = read_assets(path, on_error="skip", **options)
            except ValidationError as exc:  # ids repeated in the file: refused in either mode
                problems += [p for p in exc.problems if p not in problems]
                return _empty(fname), [Problem(p.message, fname, p.row, p.field, p.fix) for p in problems]
            except DataFormatError as exc:
                return _empty(fname), _whole_file(exc, fname)
    problems = [Problem(p.message, fname, p.row, p.field, p.fix) for p in problems]

    # Every surviving row through the same checks as a form, so the file cannot carry what a form cannot.
    clean_rows = []
    for record in pd.DataFrame(records.drop(columns=records.geometry.name)).to_dict("records"):
        row = int(record["row"])
        record["status"], record["source"] = "pending", "bulk"
        if not had_ids:
            record["asset_id"] = None
        try:
            clean = validate_record(record, taxonomy=tax, row=row, file=fname)
        except ValidationError as exc:
            problems += exc.problems
            continue
        clean["row"] = row
        clean_rows.append(clean)
    problems.sort(key=lambda p: (p.row or 0, p.field or ""))
    if not clean_rows:
        return _empty(fname), problems
    frame = pd.DataFrame(clean_rows)
    points = gpd.points_from_xy(frame["longitude"], frame["latitude"], crs=settings.storage_crs)
    out = gpd.GeoDataFrame(frame, geometry=points, crs=settings.storage_crs).to_crs(settings.analysis_crs)
    out.attrs["source"] = fname
    return out, problems
