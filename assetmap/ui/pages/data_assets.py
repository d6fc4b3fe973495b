"""Data page: adding one asset file to the area on show, with the same code as ``assetmap add-assets``."""

from __future__ import annotations

import re
import tempfile
import warnings
from pathlib import Path
from typing import Any

import streamlit as st

from assetmap import settings
from assetmap._errors import AssetMapError, AssetMapWarning, ValidationError
from assetmap.area.assets import AddedAssets, AssetFile, add_assets
from assetmap.area.manifest import area_taxonomy
from assetmap.io import uploads
from assetmap.io.type_map import read_type_map
from assetmap.ui import auth, common
from assetmap.ui.pages.data import plain, show_error

#: The column pickers: record field, label, help.
COLUMN_CONTROLS: tuple[tuple[str, str, str], ...] = (
    ("name", "Name column", "The column holding each asset's name."),
    ("asset_id", "Id column", "The file's own id for each row; adding the file again then updates those rows."),
    ("postcode", "Postcode column", "Used to place rows without coordinates (needs the area's postcode lookup)."),
    ("latitude", "Latitude column", "Latitude in degrees (WGS84), with the longitude column."),
    ("longitude", "Longitude column", "Longitude in degrees (WGS84), with the latitude column."),
    (
        "phone",
        "Public phone column",
        "The places' own public numbers. A phone beside a named contact person is otherwise left out: it may be "
        "that person's own.",
    ),
)

TYPE_CONTROL = "Type of every row"
TYPE_COLUMN_CONTROL = "Type column"
MAP_CONTROL = "Type mapping file"
SKIP_CONTROL = "Leave out bad rows"
_DETECT = "(detect)"
_BY_ROW, _BY_COLUMN = TYPE_CONTROL, "Read the type from a column"

#: The command line's words in the shared loaders' messages, and this section's control for each.
_PAGE_WORDS: tuple[tuple[str, str], ...] = (
    ("give add-assets --name-col", "choose the 'Name column'"),
    ("give --skip-invalid", f"tick '{SKIP_CONTROL}'"),
    ("--type-map", f"'{MAP_CONTROL}'"),
    ("--type-col", f"'{TYPE_COLUMN_CONTROL}'"),
    ("--type", f"'{TYPE_CONTROL}'"),
    ("--skip-invalid", f"'{SKIP_CONTROL}'"),
    ("--name-col", "'Name column'"),
    ("--id-col", "'Id column'"),
    ("--postcode-col", "'Postcode column'"),
    ("--lat-col", "'Latitude column'"),
    ("--lon-col", "'Longitude column'"),
)


def page_words(text: str) -> str:
    """Return a loader's message in this section's words: each flag becomes the control that does the same."""
    text = re.sub(r" \(on the Data page: '[^']*'\)", "", text)
    for flag, control in _PAGE_WORDS:
        text = text.replace(flag, control)
    return text


def add_assets_section() -> None:
    """Draw "Add an asset file to this area" for an officer's own area (the demo is read-only)."""
    st.subheader("Add an asset file to this area")
    path = common.area_path()
    if Path(path).resolve() == settings.demo_area_path.resolve():
        st.info(
            "The demo area is read-only: show an area of your own to add asset files to it.", icon=":material/info:"
        )
        return
    st.caption(
        "One file of assets (CSV, XLSX or a map layer), each with its own type and columns. Nothing is added "
        "unless the whole file can be; adding the same file again adds nothing new."
    )
    upload = st.file_uploader(
        "Asset file",
        type=[t.lstrip(".") for t in uploads.UPLOAD_TYPES["assets"]],
        help=f"Up to {uploads.upload_limit_mb('assets'):g} MB.",
        key="data_add_file",
    )
    data = _checked(upload)
    name = upload.name if upload is not None else ""
    columns = _headers(name, data) if data is not None else []
    how = _choices(path, columns)
    go = st.button("Add the file", type="primary", icon=":material/add:", disabled=data is None, key="data_add_go")
    if go and data is not None and how is not None:
        # Written out only when added: the register knows records by the file's own (safe) name.
        with tempfile.TemporaryDirectory() as folder:
            src = Path(folder) / uploads.safe_filename(name)
            src.write_bytes(data)
            _add(path, src, how, Path(folder))


def _checked(upload: Any) -> bytes | None:
    """Return the upload's bytes, or None where there is none or it is refused (the message shown)."""
    if upload is None:
        return None
    data = upload.getvalue()
    problems = uploads.check_upload(upload.name, len(data), "assets")
    if problems:
        show_error(ValidationError(problems, summary=f"{upload.name} cannot be added:"))
        return None
    return data


@st.cache_data(show_spinner=False, max_entries=4)
def _columns_of(name: str, data: bytes) -> list[str]:
    # Once per file, not on every rerun of the page: a large file is written and read only once.
    with tempfile.TemporaryDirectory() as folder:
        src = Path(folder) / uploads.safe_filename(name)
        src.write_bytes(data)
        return uploads.file_columns(src)


def _headers(name: str, data: bytes) -> list[str]:
    try:
        return _columns_of(name, data)
    except AssetMapError as exc:
        show_error(exc)
        return []


def _picker(label: str, columns: list[str], help_text: str, key: str, *, column: Any = st) -> str | None:
    chosen = column.selectbox(label, [_DETECT, *columns], help=help_text, key=key)
    return None if chosen == _DETECT else chosen


def _choices(path: str, columns: list[str]) -> dict[str, Any] | None:
    """Draw the type, column and status choices; return them (None where the taxonomy cannot be read)."""
    try:
        taxonomy = area_taxonomy(path)
    except AssetMapError as exc:
        show_error(exc)
        return None
    way = st.radio("Type of the assets", [_BY_ROW, _BY_COLUMN], horizontal=True, key="data_add_way")
    chosen: dict[str, Any] = {"columns": {}}
    if way == _BY_ROW:
        chosen["asset_type"] = st.selectbox(
            TYPE_CONTROL,
            taxonomy.type_keys,
            format_func=lambda key: taxonomy.asset_type(key).label,
            help="Every row of the file is this type, whatever a type column says.",
            key="data_add_type",
        )
    else:
        chosen["columns"]["type"] = _picker(
            TYPE_COLUMN_CONTROL, columns, "The column holding each row's type.", "data_add_type_col"
        )
    cells = st.columns(len(COLUMN_CONTROLS))
    for cell, (field, label, help_text) in zip(cells, COLUMN_CONTROLS, strict=True):
        chosen["columns"][field] = _picker(label, columns, help_text, f"data_add_col_{field}", column=cell)
    chosen["columns"] = {k: v for k, v in chosen["columns"].items() if v}
    chosen["type_map"] = st.file_uploader(
        MAP_CONTROL + " (optional)",
        type=["csv"],
        help="A CSV of two columns, value and type: each of the file's own type values and the type it stands for.",
        key="data_add_map",
    )
    chosen["skip"] = st.checkbox(SKIP_CONTROL, help="Add the good rows and list the bad ones.", key="data_add_skip")
    chosen["status"] = st.radio(
        "New records go in as",
        ["approved", "pending"],
        format_func={"approved": "Approved (publish now)", "pending": "Pending (review them first)"}.__getitem__,
        horizontal=True,
        key="data_add_status",
    )
    chosen["taxonomy"] = taxonomy
    return chosen


def _add(path: str, src: Path, chosen: dict[str, Any], folder: Path) -> None:
    """Add the file as chosen; show the summary, or the refusal in this section's words (nothing changed)."""
    columns = chosen["columns"]
    if bool(columns.get("latitude")) != bool(columns.get("longitude")):
        st.error("Choose the Latitude column and the Longitude column together: each row needs both.")
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AssetMapWarning)
        try:
            type_map = None
            if chosen["type_map"] is not None:
                map_path = folder / ("type-map-" + uploads.safe_filename(chosen["type_map"].name))
                map_path.write_bytes(chosen["type_map"].getvalue())
                type_map = read_type_map(map_path, chosen["taxonomy"])
            how = AssetFile(
                asset_type=chosen.get("asset_type"),
                type_map=type_map,
                columns=columns,
                skip_invalid=chosen["skip"],
                status=chosen["status"],
            )
            actor = auth.current_officer() or "officer (Data page)"  # the audit log names who added them
            result = add_assets(path, src, how, actor=actor)
        except AssetMapError as exc:
            show_error(exc, words=page_words)
            return
    _show_result(result, [str(w.message) for w in caught if issubclass(w.category, AssetMapWarning)])


def _show_result(result: AddedAssets, notes: list[str]) -> None:
    summary = result.summary()
    if result.added:
        st.success(plain(summary), icon=":material/check_circle:")
    else:
        st.info(plain(summary), icon=":material/info:")
    for note in notes:
        st.info(plain(page_words(note)), icon=":material/info:")
    if result.problems:
        with st.expander(f"{len(result.problems)} rows left out"):
            st.markdown("\n".join(f"- {plain(page_words(str(p)))}" for p in result.problems[:200]))
