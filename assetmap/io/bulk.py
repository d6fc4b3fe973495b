"""Reading an uploaded spreadsheet of groups into records to add, with every problem listed."""

from __future__ import annotations

import re
import tempfile
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from assetmap import settings
from assetmap._errors import AssetMapWarning, DataFormatError, Problem, ValidationError
from assetmap.io._read import read_table, sniff_format
from assetmap.io.assets import RowDefaults, read_assets
from assetmap.record import FIELDS, normalise_columns
from assetmap.record_checks import check_records
from assetmap.taxonomy import Taxonomy, load_taxonomy

#: File types a bulk upload may be (judged by content, not name).
BULK_FORMATS: tuple[str, ...] = ("csv", "xlsx")

#: Name of the made-up group in the template's example row: a row by this name is the example
#: left in, not a group, and is refused.
EXAMPLE_NAME: str = "Example Street Community Hall"


def example_problems(frame: pd.DataFrame, rows: list[int], fname: str) -> list[Problem]:
    """Return a problem for each row that is the template's example row (named :data:`EXAMPLE_NAME`).

    Parameters
    ----------
    frame : DataFrame
        The upload's rows, with a ``name`` column.
    rows : list of int
        Each row's spreadsheet row number.
    fname : str
        The file's name, for the message.
    """
    if "name" not in frame:
        return []
    names = frame["name"].map(lambda v: " ".join(str(v).split()).casefold() if v is not None else "")
    return [
        Problem(
            f"row {row} is the template's example ({EXAMPLE_NAME}), not a group of yours.",
            fname,
            row,
            "name",
            "Delete the example row, or write your own group's details over it, and upload the file again.",
        )
        for row, name in zip(rows, names, strict=True)
        if name == EXAMPLE_NAME.casefold()
    ]


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
    refused = _refuse_size(data, fname)
    if refused:
        return _empty(fname), refused
    with tempfile.TemporaryDirectory(prefix="assetmap-bulk-") as folder:
        path = Path(folder) / "upload.bin"
        path.write_bytes(data)
        try:
            had_ids = _had_ids(path, fname, max_rows)
        except DataFormatError as exc:
            return _empty(fname), _whole_file(exc, fname)
        read = _read_rows(path, fname, postcodes=postcodes, taxonomy=tax, default_type=default_type)
    if isinstance(read, list):
        return _empty(fname), read
    records, problems = read
    return _checked(records, problems, fname=fname, taxonomy=tax, had_ids=had_ids)


def _refuse_size(data: bytes, fname: str) -> list[Problem]:
    """Return the problem with an empty or oversized upload, if it is one."""
    limit_mb = settings.upload_limit_mb.get("assets", settings.max_file_mb)
    if not data:
        return [Problem("the file is empty.", file=fname, fix="Choose the file again.")]
    if len(data) > limit_mb * 1_000_000:
        return [
            Problem(
                f"the file is {len(data) / 1e6:.1f} MB, over the {limit_mb:g} MB limit.", file=fname, fix="Split it."
            )
        ]
    return []


def _had_ids(path: Path, fname: str, max_rows: int) -> bool:
    """Check the upload is a spreadsheet within ``max_rows``; return whether it has an id column."""
    fmt = sniff_format(path)
    if fmt not in BULK_FORMATS:
        raise DataFormatError(f"{fname}: a {fmt} file. Upload a spreadsheet: CSV or XLSX.")
    # Rows are counted as the file is read, so an oversized sheet is refused before it is parsed.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AssetMapWarning)  # read again below, where notes are handled
        table = read_table(path, max_rows=max_rows)
    return "asset_id" in normalise_columns(list(table.columns)).values()


def _read_rows(
    path: Path, fname: str, *, postcodes: pd.DataFrame | None, taxonomy: Taxonomy, default_type: str | None
) -> tuple[gpd.GeoDataFrame, list[Problem]] | list[Problem]:
    """Return the rows a register file would accept and the problems of the rest, or the problems alone."""
    options: dict[str, Any] = {
        "postcodes": postcodes,
        "taxonomy": taxonomy,
        "default_type": default_type,
        "defaults": RowDefaults(status="pending", source="bulk"),
    }
    problems: list[Problem] = []
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
            return [Problem(p.message, fname, p.row, p.field, p.fix) for p in problems]
        except DataFormatError as exc:
            return _whole_file(exc, fname)
    return records, [Problem(p.message, fname, p.row, p.field, p.fix) for p in problems]


def _checked(
    records: gpd.GeoDataFrame, problems: list[Problem], *, fname: str, taxonomy: Taxonomy, had_ids: bool
) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Put the surviving rows through the checks of a stored record, as a form's are."""
    # So that the file cannot carry what a form cannot.
    frame = pd.DataFrame(records.drop(columns=records.geometry.name)).astype(object)
    frame["status"], frame["source"] = "pending", "bulk"
    if not had_ids:
        frame["asset_id"] = None
    frame = frame.where(frame.notna(), None)
    rows = [int(r) for r in frame["row"]]
    clean, more = check_records(frame, taxonomy=taxonomy, rows=rows, file=fname)
    more += example_problems(frame, rows, fname)
    problems = sorted(problems + more, key=lambda p: (p.row or 0, p.field or ""))
    bad = {p.row for p in more}
    clean["row"] = rows
    clean = clean[[r not in bad for r in rows]]
    if clean.empty:
        return _empty(fname), problems
    clean = clean.reset_index(drop=True).infer_objects()
    points = gpd.points_from_xy(clean["longitude"], clean["latitude"], crs=settings.storage_crs)
    out = gpd.GeoDataFrame(clean, geometry=points, crs=settings.storage_crs).to_crs(settings.analysis_crs)
    out.attrs["source"] = fname
    return out, problems
