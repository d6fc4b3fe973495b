"""The print jobs: one ward's PDF, a pack of wards, a zip of ward PDFs, and a preview image of a map page."""

from __future__ import annotations

import io
import math
import multiprocessing
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from matplotlib.backends.backend_pdf import PdfPages

from assetmap._errors import Problem, ValidationError
from assetmap.area.units import unit_title
from assetmap.render.printmap.content import WardContent, ward_content
from assetmap.render.printmap.layers import PrintLayers, prepare_print
from assetmap.render.printmap.layout import PageLayout, contents_rows_per_page, new_figure, page_layout
from assetmap.render.printmap.mappage import map_page
from assetmap.render.printmap.pages import (
    contents_pages,
    footer,
    header,
    map_title,
    poster_index,
    qr_code,
    render_ward,
)
from assetmap.render.printmap.text import clean_text

if TYPE_CHECKING:
    from assetmap.area.load import Area


def _ward_codes(area: Area, codes: Iterable[str] | str | None) -> list[str]:
    """Return the codes of the units ``codes`` names (by code or name; default every unit, by name)."""
    known = area.boundaries.sort_values(["name", "code"], kind="stable")["code"].astype(str).tolist()
    if codes is None:
        return known
    wanted = area.find_units([str(c) for c in ([codes] if isinstance(codes, str) else codes)])
    if not wanted:
        label = area.unit_label.singular_lower
        raise ValidationError(Problem(f"no {label} was chosen.", field="code", fix=f"Choose at least one {label}."))
    return wanted


def _metadata(layers: PrintLayers, title: str) -> dict[str, str]:
    return {"Title": title, "Subject": f"Community assets and deprivation: {clean_text(layers.area.name)}"}


def print_ward(
    area: Area,
    code: str,
    *,
    paper: str = "a4",
    orientation: str = "landscape",
    layout: str = "standard",
    layers: PrintLayers | None = None,
    **options: Any,
) -> bytes:
    """Return a print-ready PDF of one ward: the map, then its facts and the index of its assets.

    Parameters
    ----------
    area : Area
        A loaded area.
    code : str
        The ward's code.
    paper : {"a4", "a3", "a2"}
        Paper size (default A4).
    orientation : {"landscape", "portrait"}
        Default landscape.
    layout : {"standard", "poster"}
        ``standard``: the map page, then the facts and the full asset index; ``poster``: one sheet for a wall,
        the map filling it with the legend and the first ten assets in a side panel.
    layers : PrintLayers, optional
        From :func:`prepare_print`, to share the preparation between several wards.
    **options
        ``colour_by`` (LSOAs shaded by national IMD decile, decile 1 darkest, or by the gap
        index of ``group``), ``group``, ``threshold``, ``include_stale``, ``public_url`` (the
        map then carries a QR code of ``<public_url>/ward?code=<code>``), ``tiles``,
        ``streets``: as for :func:`prepare_print`, when ``layers`` is not given.

    Returns
    -------
    bytes
        The PDF.

    Raises
    ------
    ValidationError
        An unknown ward, paper size, orientation, shading or group.
    """
    sheet = page_layout(paper, orientation, layout)
    (code,) = _ward_codes(area, [code])
    layers = layers or prepare_print(area, **options)
    ward = ward_content(layers, code, sheet)
    buf = io.BytesIO()
    with PdfPages(buf, metadata=_metadata(layers, unit_title(ward.name, code))) as pdf:
        render_ward(pdf, layers, ward, sheet, 1, _n_pages(ward, sheet))
    return buf.getvalue()


def _n_pages(ward: WardContent, sheet: PageLayout) -> int:
    """Return the pages a ward takes: its map, then (not on a poster) its facts and index pages."""
    return 1 if sheet.kind == "poster" else 1 + len(ward.pages)


ProgressCallback = Callable[[int, int, str], None]


def print_pack(
    area: Area,
    codes: Iterable[str] | None = None,
    *,
    paper: str = "a4",
    orientation: str = "landscape",
    layout: str = "standard",
    progress: ProgressCallback | None = None,
    layers: PrintLayers | None = None,
    **options: Any,
) -> bytes:
    """Return one PDF of several wards (default every ward, by name) after a contents page.

    Parameters
    ----------
    area : Area
        A loaded area.
    codes : iterable of str, optional
        Ward codes, printed in this order (default: every ward, sorted by name).
    paper, orientation, layout
        As for :func:`print_ward`.
    progress : callable, optional
        Called as ``progress(done, total, message)`` after each ward is laid out and drawn.
    layers : PrintLayers, optional
        From :func:`prepare_print`, when they are already made.
    **options
        As for :func:`print_ward`: passed to :func:`prepare_print`, called once for the whole pack.

    Returns
    -------
    bytes
        The PDF: contents page(s), then each ward's map, facts and index pages.
    """
    buf = io.BytesIO()
    write_pack(
        buf,
        area,
        codes,
        paper=paper,
        orientation=orientation,
        layout=layout,
        progress=progress,
        layers=layers,
        **options,
    )
    return buf.getvalue()


def write_pack(
    out: str | Path | BinaryIO,
    area: Area,
    codes: Iterable[str] | None = None,
    *,
    paper: str = "a4",
    orientation: str = "landscape",
    layout: str = "standard",
    progress: ProgressCallback | None = None,
    layers: PrintLayers | None = None,
    **options: Any,
) -> PrintLayers:
    """Write the pack :func:`print_pack` makes to a file, page by page, and return the layers it used.

    Each page goes to the file as soon as it is drawn and is then let go, so memory stays flat however
    many wards the pack holds. Parameters are as for :func:`print_pack`; ``out`` is a path or a binary file.
    """
    sheet = page_layout(paper, orientation, layout)
    wanted = _ward_codes(area, codes)
    layers = layers or prepare_print(area, **options)
    wards = [ward_content(layers, code, sheet) for code in wanted]
    n_contents = max(1, math.ceil(len(wards) / contents_rows_per_page(sheet)))
    entries, page = [], n_contents + 1
    for ward in wards:
        entries.append((ward, page))
        page += _n_pages(ward, sheet)
    total_pages = page - 1
    pack_title = f"{area.unit_label.singular} pack: {clean_text(area.name)}"
    with PdfPages(out, metadata=_metadata(layers, pack_title)) as pdf:
        contents_pages(pdf, layers, sheet, entries, total_pages)
        for i, (ward, first) in enumerate(entries):
            render_ward(pdf, layers, ward, sheet, first, total_pages)
            if progress is not None:
                progress(i + 1, len(entries), unit_title(ward.name, ward.code))
    return layers


def ward_file_name(code: str, name: str) -> str:
    """Return a safe PDF file name for one ward: ``ward_<code>_<name>.pdf`` in ASCII."""
    slug = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "_", slug).strip("_")[:60]
    safe_code = re.sub(r"[^A-Za-z0-9]+", "_", code)
    return f"ward_{safe_code}{'_' + slug if slug else ''}.pdf"


def print_pack_zip(
    area: Area,
    codes: Iterable[str] | None = None,
    *,
    paper: str = "a4",
    orientation: str = "landscape",
    layout: str = "standard",
    progress: ProgressCallback | None = None,
    layers: PrintLayers | None = None,
    workers: int = 1,
    **options: Any,
) -> bytes:
    """Return a zip archive of one PDF per ward (as :func:`print_ward` makes), sharing one preparation.

    Parameters
    ----------
    area, codes, paper, orientation, layout, progress, layers, **options
        As for :func:`print_pack`.
    workers : int
        Processes drawing wards at once (default 1). More than one forks the process after the shared
        preparation (where the system can fork), so each ward costs only its own drawing; for the command
        line, not for a server's threads.

    Returns
    -------
    bytes
        The zip archive; members are named by :func:`ward_file_name`.
    """
    global _POOL_JOB
    wanted = _ward_codes(area, codes)
    page_layout(paper, orientation, layout)  # refuse a bad size or layout before any work
    layers = layers or prepare_print(area, **options)
    sheet = {"paper": paper, "orientation": orientation, "layout": layout}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        if workers > 1 and len(wanted) > 1 and "fork" in multiprocessing.get_all_start_methods():
            _POOL_JOB = (area, layers, sheet)
            try:
                context = multiprocessing.get_context("fork")
                with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
                    results = pool.map(_pool_ward, wanted, chunksize=1)
                    for i, (code, data, bare) in enumerate(results):
                        _zip_ward(zf, layers, code, data, bare, (i, len(wanted), progress))
            finally:
                _POOL_JOB = None
        else:
            for i, code in enumerate(wanted):
                data = print_ward(area, code, layers=layers, **sheet)  # notes a map with no streets itself
                _zip_ward(zf, layers, code, data, False, (i, len(wanted), progress))
    return buf.getvalue()


# The job a forked worker of :func:`print_pack_zip` draws from: the area, its shared layers and the sheet.
_POOL_JOB: tuple[Area, PrintLayers, dict[str, str]] | None = None


def _pool_ward(code: str) -> tuple[str, bytes, bool]:
    """Draw one ward's PDF in a worker; say whether its map had no street base."""
    assert _POOL_JOB is not None  # set before the pool forks
    area, layers, sheet = _POOL_JOB
    data = print_ward(area, code, layers=layers, **sheet)
    return code, data, code in layers.without_streets


def _zip_ward(
    zf: zipfile.ZipFile,
    layers: PrintLayers,
    code: str,
    data: bytes,
    bare: bool,
    step: tuple[int, int, ProgressCallback | None],
) -> None:
    """Add a ward's PDF to the archive; note a map a worker drew with no streets (``bare``); report progress."""
    zf.writestr(ward_file_name(code, layers.names.get(code, code)), data)
    if bare and code not in layers.without_streets:
        layers.without_streets.append(code)
    i, n, progress = step
    if progress is not None:
        progress(i + 1, n, f"{layers.names.get(code, code)} ({code})")


def ward_preview_png(
    area: Area,
    code: str,
    *,
    paper: str = "a4",
    orientation: str = "landscape",
    layout: str = "standard",
    dpi: float = 80,
    layers: PrintLayers | None = None,
    **kwargs: Any,
) -> bytes:
    """Return the ward's map page as a PNG image, for a preview on screen.

    Parameters
    ----------
    area : Area
        A loaded area.
    code : str
        The ward's code.
    paper, orientation, layout
        As for :func:`print_ward`.
    dpi : float
        Resolution of the image (default 80: a screen preview).
    layers : PrintLayers, optional
        From :func:`prepare_print`.
    **kwargs
        ``colour_by``, ``group``, ``threshold``, ``include_stale``, ``public_url`` for :func:`prepare_print`.

    Returns
    -------
    bytes
        PNG.
    """
    sheet = page_layout(paper, orientation, layout)
    (code,) = _ward_codes(area, [code])
    layers = layers or prepare_print(area, **kwargs)
    ward = ward_content(layers, code, sheet)
    fig = new_figure(sheet)
    legend_foot = map_page(fig, layers, ward, sheet)
    header(fig, layers, sheet, map_title(ward), layers.public_url is not None)
    if layers.public_url is not None:
        qr_code(fig, layers, sheet, ward.code)
    if sheet.panel is not None:
        poster_index(fig, layers, ward, sheet, legend_foot)
    footer(fig, layers, sheet, 1, _n_pages(ward, sheet))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    return buf.getvalue()
