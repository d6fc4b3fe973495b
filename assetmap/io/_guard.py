"""Cheap checks that refuse an expensive or hostile file before a parser reads it whole.

A small file can unpack to gigabytes (a zip bomb), hold millions of rows, nest
JSON deeper than a parser's stack, declare XML entities that expand without end,
or mix two text encodings. Each check here reads the file as a stream (or only
the zip directory) and raises :class:`~assetmap._errors.DataFormatError` naming
the file and the fix, so that openpyxl, pandas, :mod:`json` and GDAL only ever
see files worth parsing. :mod:`assetmap.io._read` calls them for every surface.
"""

from __future__ import annotations

import posixpath
import re
import warnings
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Iterator
from typing import BinaryIO

import numpy as np

from assetmap._errors import AssetMapWarning, DataFormatError

#: Rows in one worksheet of Excel (2007 and later): a sheet with more is not from Excel.
EXCEL_MAX_ROWS = 1_048_576

#: Deepest JSON nesting read; GeoJSON, Open Referral and 360Giving files need fewer than ten levels.
MAX_JSON_DEPTH = 100

#: Most files in one zip archive (a workbook has a few dozen parts, a zipped shapefile a handful).
MAX_ZIP_ENTRIES = 10_000

#: Largest unpacked-to-packed size ratio of a workbook part; real sheets pack 5 to 30 times.
MAX_XLSX_RATIO = 100

# Parts smaller than this are not judged by their ratio: tiny parts pack oddly and cost nothing.
_RATIO_FROM_BYTES = 1_000_000
# Bytes read at a time from a stream.
_CHUNK = 1 << 20
# Bytes of an XML part read to find its root element; a prolog longer than this is not a workbook's.
_PROLOG_BYTES = 65_536
# Largest workbook directory part (workbook.xml, its relations) parsed to find the sheets.
_MAX_INDEX_BYTES = 10_000_000
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_ROOT = re.compile(rb"<([A-Za-z_][\w.-]{0,30}:)?([A-Za-z_][\w.-]*)")
#: A sheet's row tag under a namespace prefix (``<x:row ...>``).
_PREFIXED_ROW = re.compile(rb"<[A-Za-z_][\w.-]*:row[\s/>]")
#: The end of a complete sheet: its closing root tag, under any prefix.
_SHEET_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?worksheet>$")


def _damaged(name: str) -> str:
    return f"{name}: the workbook is damaged"


def check_archive(archive: zipfile.ZipFile, name: str) -> None:
    """Refuse an archive with too many files, or a workbook whose parts unpack far beyond their size.

    Only the zip directory is read. Python's :mod:`zipfile` (which openpyxl uses)
    never unpacks a member past its declared size, so the declared sizes bound
    what reading it can cost.

    Raises
    ------
    DataFormatError
        Naming the file and what to do.
    """
    infos = archive.infolist()
    if len(infos) > MAX_ZIP_ENTRIES:
        raise DataFormatError(
            f"{name}: the archive holds {len(infos):,} files, over the limit of {MAX_ZIP_ENTRIES:,}. "
            "Zip only the files of the layer you need."
        )
    names = {i.filename.lower() for i in infos}
    if "[content_types].xml" not in names:
        return  # not a workbook: GDAL reads zipped shapefiles itself, within the overall size limit
    for info in infos:
        if info.file_size > _RATIO_FROM_BYTES and info.file_size > MAX_XLSX_RATIO * max(info.compress_size, 1):
            raise DataFormatError(
                f"{name}: the workbook part {info.filename} unpacks to {info.file_size / 1e6:,.0f} MB, "
                f"{info.file_size / max(info.compress_size, 1):,.0f} times its packed size, which no spreadsheet "
                "does. Open the file in Excel and save it again as .xlsx, or save it as CSV."
            )


def _stream(archive: zipfile.ZipFile, part: str, name: str) -> Iterator[bytes]:
    """Yield a workbook part in chunks, turning a damaged archive into a message."""
    try:
        with archive.open(part) as fh:
            while chunk := fh.read(_CHUNK):
                yield chunk
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
        raise DataFormatError(
            f"{_damaged(name)} (its part {part} cannot be unpacked: {exc}). Open it in Excel and save it again "
            "as .xlsx, or save it as CSV."
        ) from exc


def _prolog_root(head: bytes, name: str, part: str | None) -> bytes:
    """Return the root element's namespace prefix (``b""`` or ``b"x:"``), refusing DOCTYPE and ENTITY declarations."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", errors="ignore").encode("utf-8")
    # The root element is the first '<' followed by a name (not '<?', '<!'); everything before is the prolog.
    match = _ROOT.search(head)
    # Anywhere in the head, not only before what looks like the root: a comment can hide a
    # '<name' that is not the root, and markup text never holds these declarations raw.
    if b"<!DOCTYPE" in head.upper() or b"<!ENTITY" in head.upper():
        raise DataFormatError(
            f"{name}: {f'the part {part}' if part else 'the file'} declares a DOCTYPE or entities, which "
            "spreadsheet and map files never "
            "need and which can make a reader expand text without end. Save the file again from Excel "
            "(or your GIS) and load that copy."
        )
    if match is None:
        raise DataFormatError(
            f"{_damaged(name)} (its part {part} holds no XML element). Open it in Excel and save it again as "
            ".xlsx, or save it as CSV."
        )
    return match.group(1) or b""


def check_xml_stream(fh: BinaryIO, name: str) -> None:
    """Refuse an XML file or part that declares a DOCTYPE or entities (billion laughs, external entities).

    Only the prolog is read: an XML document may declare a DOCTYPE nowhere else.
    """
    head = fh.read(_PROLOG_BYTES)
    if _ROOT.search(head) is not None or b"<!" in head:  # leave files that are not XML to their reader's message
        _prolog_root(head, name, None)


def _sheet_parts(archive: zipfile.ZipFile) -> list[tuple[str, str]]:
    """Return (sheet name, part) of every worksheet in workbook order; [] where the directory cannot be read."""
    members = {i.filename.lower(): i for i in archive.infolist()}
    try:
        book, rels = members["xl/workbook.xml"], members["xl/_rels/workbook.xml.rels"]
        if book.file_size > _MAX_INDEX_BYTES or rels.file_size > _MAX_INDEX_BYTES:
            return []
        # The prologs were checked (no DOCTYPE, so no entities to expand) before this parse.
        targets = {
            r.get("Id"): r.get("Target") or "" for r in ET.fromstring(archive.read(rels)) if r.tag.endswith("ship")
        }
        out = []
        for sheet in ET.fromstring(archive.read(book)).iter():
            if sheet.tag.rpartition("}")[2] != "sheet":
                continue
            target = targets.get(sheet.get(f"{_REL_NS}id"), "")
            part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
            if part.lower() in members:
                out.append((sheet.get("name") or part, members[part.lower()].filename))
        return out
    except (KeyError, ET.ParseError, zipfile.BadZipFile, zlib.error, EOFError, OSError):
        return []


def check_workbook_parts(archive: zipfile.ZipFile, name: str) -> None:
    """Refuse a workbook any of whose XML parts declares a DOCTYPE or entities, or holds no XML.

    Only the first bytes of each part are unpacked: a DOCTYPE may only stand before the root element.

    Raises
    ------
    DataFormatError
        Naming the file, the part and what to do.
    """
    for info in archive.infolist():
        if not info.filename.lower().endswith((".xml", ".rels", ".vml")):
            continue
        try:
            with archive.open(info) as fh:
                head = fh.read(_PROLOG_BYTES)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
            raise DataFormatError(
                f"{_damaged(name)} (its part {info.filename} cannot be unpacked: {exc}). Open it in Excel and save "
                "it again as .xlsx, or save it as CSV."
            ) from exc
        _prolog_root(head, name, info.filename)


def check_sheet_rows(
    archive: zipfile.ZipFile, name: str, sheet: str | int | None = None, max_rows: int | None = None
) -> None:
    """Count the rows of the sheet to be read, streaming its XML, before openpyxl opens it.

    Parameters
    ----------
    archive : zipfile.ZipFile
        The workbook, already checked by :func:`check_archive` and :func:`check_workbook_parts`.
    name : str
        File name, for messages.
    sheet : str or int, optional
        The sheet to be read (name or position; the first when omitted). Where the
        workbook's directory cannot be read, every sheet is counted.
    max_rows : int, optional
        Most data rows (below the header) accepted; Excel's own limit always applies.

    Raises
    ------
    DataFormatError
        Too many rows, or a damaged or truncated sheet.
    """
    sheets = _sheet_parts(archive)
    wanted = 0 if sheet is None else sheet
    chosen = [s for i, s in enumerate(sheets) if wanted in (i, s[0])]
    if not chosen:
        chosen = sheets or [
            (i.filename, i.filename)
            for i in archive.infolist()
            if i.filename.lower().startswith("xl/worksheets/") and i.filename.lower().endswith(".xml")
        ]
    for sheet_name, part in chosen:
        _count_rows(archive, part, sheet_name, name, max_rows)


def _rows_in(buf: bytes, end: int) -> int:
    """Count the row tags in ``buf[:end]``, under any namespace prefix (a sheet may bind its namespace to several).

    Plain ``<row`` is counted with a byte count (fast: this runs over hundreds of megabytes);
    ``<rowBreaks>``, counted with them, only ever adds one or two.
    """
    rows = buf.count(b"<row", 0, end)
    if buf.find(b":row", 0, end) != -1:
        rows += len(_PREFIXED_ROW.findall(buf, 0, end))
    return rows


def _count_rows(archive: zipfile.ZipFile, part: str, sheet_name: str, name: str, max_rows: int | None) -> None:
    limit = EXCEL_MAX_ROWS if max_rows is None else min(EXCEL_MAX_ROWS, max_rows + 1)  # +1: the header row
    prefix, rows, carry, tail = None, 0, b"", b""
    for chunk in _stream(archive, part, name):
        buf = carry + chunk
        if prefix is None:
            prefix = _prolog_root(buf[:_PROLOG_BYTES], name, part)
        # Split before the last '<' so that no tag is cut in two between chunks.
        cut = buf.rfind(b"<")
        if cut <= 0 or len(buf) - cut > _PROLOG_BYTES:
            cut = len(buf)
        rows += _rows_in(buf, cut)
        carry, tail = buf[cut:], (tail + buf)[-256:]
        if rows > limit:
            what = "Excel's limit of a sheet" if limit == EXCEL_MAX_ROWS else "the limit for one file"
            allowed = EXCEL_MAX_ROWS if limit == EXCEL_MAX_ROWS else max_rows
            raise DataFormatError(
                f"{name}: sheet '{sheet_name}' has more than {allowed:,} rows, over {what}. "
                f"Split it into files of at most {allowed:,} rows."
            )
    rows += _rows_in(carry, len(carry))
    if not _SHEET_END.search(tail.rstrip()):
        raise DataFormatError(
            f"{_damaged(name)}: sheet '{sheet_name}' stops part way (the file was cut short or not saved "
            "completely). Open it in Excel and save it again as .xlsx, or save it as CSV."
        )


def _chunks(source: bytes | BinaryIO) -> Iterator[bytes]:
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        for start in range(0, len(data), _CHUNK):
            yield data[start : start + _CHUNK]
    else:
        while chunk := source.read(_CHUNK):
            yield chunk


def check_json_depth(source: bytes | BinaryIO, name: str, limit: int = MAX_JSON_DEPTH) -> None:
    """Refuse JSON nested deeper than ``limit``, counted by a vectorised scan before any parser recurses.

    Brackets inside strings do not count; escapes are read as JSON reads them.

    Raises
    ------
    DataFormatError
        Naming the file and where the nesting passes the limit.
    """
    depth, in_string, carry, offset = 0, False, b"", 0
    for chunk in _chunks(source):
        buf = carry + chunk
        # A run of backslashes at the end may pair with the next chunk's first byte: keep it for then.
        keep = len(buf) - len(buf.rstrip(b"\\"))
        buf, carry = (buf[:-keep], buf[-keep:]) if keep else (buf, b"")
        # Escape pairs, read left to right as JSON does, can never open or close a string.
        text = buf.replace(b"\\\\", b"__").replace(b'\\"', b"__")
        a = np.frombuffer(text, dtype=np.uint8)
        inside = (np.cumsum(a == 34) + in_string) % 2 == 1
        step = ((a == 91) | (a == 123)).astype(np.int64) - ((a == 93) | (a == 125))
        step[inside] = 0
        level = depth + np.cumsum(step)
        if len(level) and level.max() > limit:
            at = offset + int(np.argmax(level > limit))
            raise DataFormatError(
                f"{name}: the JSON is nested more than {limit} levels deep (at byte {at:,}), which no GeoJSON, "
                "Open Referral or 360Giving file is. Export the file again from its source."
            )
        if len(level):
            depth, in_string = int(level[-1]), bool(inside[-1])
        offset += len(buf)


def decode_text(raw: bytes, name: str) -> str:
    """Decode a text file as UTF-8 (with or without BOM), naming the lines that are not.

    Windows-1252 (Excel's "CSV" on many council PCs) is used only when no line of
    the file is UTF-8 beyond plain ASCII, and a warning says so: a file that mixes
    the two is refused with its bad lines named, rather than read as "CafÃ©".

    Raises
    ------
    DataFormatError
        Mixed encodings (lines named), or bytes that are text in neither encoding.
    """
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    bad: list[int] = []
    utf8 = False
    for number, line in enumerate(raw.splitlines(), start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8 = True
        except UnicodeDecodeError:
            bad.append(number)
    if utf8:
        shown = ", ".join(str(n) for n in bad[:10]) + (f" and {len(bad) - 10} more" if len(bad) > 10 else "")
        raise DataFormatError(
            f"{name}, line{'s' if len(bad) > 1 else ''} {shown}: not UTF-8 text, though the rest of the file is "
            "(letters such as é or £ typed or pasted in another encoding). Retype those letters, or open the "
            "file in Excel and save it as 'CSV UTF-8'."
        )
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise DataFormatError(
            f"{name}: not a text file in UTF-8 or Windows-1252 (byte {exc.start:,}). Save it as 'CSV UTF-8'."
        ) from exc
    warnings.warn(
        f"{name}: not UTF-8, so it was read as Windows-1252 (Excel's 'CSV' on Windows). If letters such as é "
        "or £ look wrong, save the file as 'CSV UTF-8' and load it again.",
        AssetMapWarning,
        stacklevel=3,
    )
    return text
