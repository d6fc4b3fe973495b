"""Creating an area folder: from files on disk (:func:`init_area`) or from uploads, staged so nothing is half-written."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from dataclasses import replace as replace_fields
from pathlib import Path
from typing import Any

from assetmap._errors import AreaError, Problem, ValidationError
from assetmap.analysis.assign import check_buffer_m
from assetmap.area.load import Area, load_area
from assetmap.area.manifest import LAYER_FOLDERS, write_manifest
from assetmap.area.units import UnitLabel
from assetmap.io.uploads import (
    COLUMN_ROLES,
    ColumnCheck,
    ColumnsNotDetected,
    Upload,
    check_columns,
    check_uploads,
    safe_folder_name,
    write_uploads,
)


@dataclass(frozen=True)
class LayerColumns:
    """Column names to use where a layer's columns are not detected.

    Attributes
    ----------
    boundaries, small_areas : mapping, optional
        ``{"code_col": ..., "name_col": ...}``.
    deprivation : mapping, optional
        ``{canonical column: file column}`` for a deprivation table not in IoD layout.
    lookup : mapping, optional
        ``{"lsoa_col": ..., "area_col": ...}``.
    """

    boundaries: Mapping[str, str] | None = None
    small_areas: Mapping[str, str] | None = None
    deprivation: Mapping[str, str] | None = None
    lookup: Mapping[str, str] | None = None


@dataclass(frozen=True)
class LayerOptions:
    """An area's optional files, and how to read its files where the defaults do not fit.

    Attributes
    ----------
    population : str or Path, optional
        IoD File 6, where the deprivation file has no population.
    lookup : str or Path, optional
        LSOA-to-area lookup; without one, LSOAs are linked by their boundaries.
    network : str or Path, optional
        Street network (OSM XML or GraphML).
    postcodes : str or Path, optional
        Postcode lookup (NSPL/ONSPD or Code-Point Open).
    assets : sequence of str or Path
        Asset register files.
    asset_type : str, optional
        Type of every asset in register files with no type column.
    skip_invalid_assets : bool
        Leave out bad asset rows (listed in the area's notes) instead of refusing the files.
    asset_buffer_m : float, optional
        Metres beyond the boundary within which assets are kept, counting for walking
        access but in no ward (written to ``area.toml`` as ``asset_buffer_m``; default
        ``settings.asset_buffer_m``, 2,000 m). Assets further out are left out.
    columns : LayerColumns
        Column names where detection fails.
    boundary_label : str, optional
        What the boundaries are called, in the plural ("Localities", "Neighbourhoods"); default "Wards".
        Every page and print says it; its singular is derived and stored beside it in ``area.toml``.
    """

    population: str | Path | None = None
    lookup: str | Path | None = None
    network: str | Path | None = None
    postcodes: str | Path | None = None
    assets: Sequence[str | Path] = ()
    asset_type: str | None = None
    skip_invalid_assets: bool = False
    asset_buffer_m: float | None = None
    columns: LayerColumns = field(default_factory=LayerColumns)
    boundary_label: str | None = None


def init_area(
    directory: str | Path,
    *,
    boundaries: str | Path,
    small_areas: str | Path,
    imd: str | Path,
    options: LayerOptions | None = None,
    name: str | None = None,
    code: str | None = None,
    overwrite: bool = False,
) -> Area:
    """Create an area folder from an officer's files, checking every one on the way in.

    The files are copied into the folder beside an ``area.toml`` manifest. The
    folder is built and loaded in a temporary place first and only then moved
    into place, so a bad file never leaves a half-written area behind.

    Parameters
    ----------
    directory : str or Path
        Folder to create.
    boundaries, small_areas : str or Path
        Wards or neighbourhoods, and LSOA boundaries.
    imd : str or Path
        IoD file (File 7 best), or any table with a column mapping in ``options.columns.deprivation``.
    options : LayerOptions, optional
        Optional files (population, lookup, network, postcodes, assets) and how to read the files.
    name, code : str, optional
        The area's display name and GSS code.
    overwrite : bool
        Replace an existing area folder.

    Returns
    -------
    Area
        The new area, loaded.
    """
    options = options or LayerOptions()
    label = UnitLabel.of(options.boundary_label) if options.boundary_label is not None else None
    buffer_m = None
    if options.asset_buffer_m is not None:
        buffer_m = check_buffer_m(options.asset_buffer_m, field="asset_buffer_m")
    target = Path(directory)
    if target.exists() and any(target.iterdir()) and not overwrite:
        raise AreaError(f"{target}: the folder exists and is not empty. Choose a new folder or pass overwrite.")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        layers = _place_layers(staging, {"boundaries": boundaries, "small_areas": small_areas, "imd": imd}, options)
        meta = {"name": name or target.name, "code": code, "asset_buffer_m": buffer_m}
        if label is not None:
            meta |= {"boundary_label": label.plural, "boundary_label_singular": label.singular}
        write_manifest(staging, meta, layers)
        area = load_area(staging)
        if options.network:
            _check_network_overlap(area)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    area.path = target
    area.network_path = target / layers["network"]["path"] if options.network else None
    return area


def _place(staging: Path, src: str | Path, layer: str) -> str:
    """Copy ``src`` into the layer's folder under ``staging``; return its path relative to ``staging``."""
    src = Path(src)
    if not src.is_file():
        raise AreaError(f"{src}: no such file (given as the {layer} layer). Check the path.")
    folder = staging / LAYER_FOLDERS[layer]
    folder.mkdir(exist_ok=True)
    dest = folder / src.name
    stem, n = dest.stem, 1
    while dest.exists():  # two inputs with one name: keep both
        n += 1
        dest = folder / f"{stem}_{n}{src.suffix}"
    shutil.copy2(src, dest)
    return dest.relative_to(staging).as_posix()


def _place_layers(staging: Path, required: Mapping[str, str | Path], options: LayerOptions) -> dict[str, Any]:
    """Copy every given file into ``staging``; return the manifest's layers table."""
    columns = options.columns
    layers: dict[str, Any] = {
        "boundaries": {"path": _place(staging, required["boundaries"], "boundaries"), **(columns.boundaries or {})},
        "small_areas": {
            "path": _place(staging, required["small_areas"], "small_areas"),
            **(columns.small_areas or {}),
        },
        "deprivation": {
            "path": _place(staging, required["imd"], "deprivation"),
            "columns": dict(columns.deprivation) if columns.deprivation is not None else None,
        },
    }
    if options.population:
        layers["population"] = {"path": _place(staging, options.population, "population")}
    if options.lookup:
        layers["lookup"] = {"path": _place(staging, options.lookup, "lookup"), **(columns.lookup or {})}
    if options.network:
        layers["network"] = {"path": _place(staging, options.network, "network")}
    if options.postcodes:
        layers["postcodes"] = {"path": _place(staging, options.postcodes, "postcodes")}
    if options.assets:
        layers["assets"] = [
            {
                "path": _place(staging, a, "assets"),
                "default_type": options.asset_type,
                "skip_invalid": options.skip_invalid_assets or None,
            }
            for a in options.assets
        ]
    return layers


def _check_network_overlap(area: Area) -> None:
    """Read the area's street network (kept prepared for later runs), refusing one of another place."""
    from assetmap.area.coverage import walk_graph

    graph = walk_graph(area)  # refuses a network with no street within reach of the area
    assert graph is not None and area.network_path is not None  # only called when a network was given
    minx, miny, maxx, maxy = area.boundaries.total_bounds
    if not ((graph.x >= minx) & (graph.x <= maxx) & (graph.y >= miny) & (graph.y <= maxy)).any():
        raise ValidationError(
            Problem(
                "the street network does not overlap the area's boundaries.",
                file=area.network_path.name,
                fix="Use a network extract of the same place (check it is not of another town or in another CRS).",
            )
        )


@dataclass(frozen=True)
class AreaEntry:
    """An area folder kept in the areas folder.

    Attributes
    ----------
    name : str
        The area's display name (from its manifest).
    path : Path
        The folder.
    """

    name: str
    path: Path


def list_areas(folder: str | Path) -> list[AreaEntry]:
    """Return the areas kept in ``folder``, by name; folders without a readable manifest are left out."""
    from assetmap.area.manifest import read_manifest

    root = Path(folder)
    if not root.is_dir():
        return []
    entries = []
    for sub in root.iterdir():
        if sub.name.startswith(".") or not sub.is_dir():
            continue  # hidden: work in progress
        try:
            meta = read_manifest(sub).get("area", {})
        except AreaError:
            continue
        entries.append(AreaEntry(str(meta.get("name", sub.name)), sub))
    return sorted(entries, key=lambda e: (e.name.lower(), e.path.name))


def _given(mapping: Mapping[str, str | None] | None, check: ColumnCheck | None) -> dict[str, str] | None:
    """Columns the user named that the file has: what the loader is told."""
    if not mapping:
        return None
    columns = set(check.columns) if check is not None else None
    named = {k: v for k, v in mapping.items() if v and (columns is None or v in columns)}
    return named or None


def _move_into_place(built: Path, target: Path, work: Path) -> None:
    """Rename ``built`` to ``target``; a folder already there goes into ``work`` (removed with it)."""
    old = None
    if target.exists():
        old = work / "replaced"
        os.replace(target, old)
    try:
        os.replace(built, target)
    except OSError:
        if old is not None:
            os.replace(old, target)
        raise


@dataclass(frozen=True)
class UploadChoices:
    """What an officer chose beside the uploads: how to read the asset files, what the areas are called.

    Attributes
    ----------
    asset_type : str, optional
        Type of every asset in register files with no type column.
    skip_invalid_assets : bool
        Leave out bad asset rows (listed in the notes) instead of refusing the files.
    boundary_label : str, optional
        What the boundaries are called, in the plural ("Localities"); default "Wards".
    asset_buffer_m : object, optional
        Metres beyond the boundary within which assets are kept (a number, or text holding
        one); default ``settings.asset_buffer_m``.
    fields : mapping
        What the choices are called where they were made (``boundary_label`` and
        ``asset_buffer_m`` to a control's label), for the messages refusing them.
    """

    asset_type: str | None = None
    skip_invalid_assets: bool = False
    boundary_label: str | None = None
    asset_buffer_m: object = None
    fields: Mapping[str, str] = field(default_factory=dict)

    def checked(self) -> float | None:
        """Check the boundary label; return the buffer in metres. Refuse either naming where it was given."""
        if self.boundary_label is not None:
            UnitLabel.of(self.boundary_label, source=self.fields.get("boundary_label", "boundary_label"))
        buffer_m = None
        if self.asset_buffer_m is not None:
            buffer_m = check_buffer_m(self.asset_buffer_m, field=self.fields.get("asset_buffer_m", "asset_buffer_m"))
        return buffer_m


def area_from_uploads(
    files: Mapping[str, Sequence[Upload]],
    *,
    name: str,
    areas_dir: str | Path,
    columns: Mapping[str, Mapping[str, str | None]] | None = None,
    replace: bool = False,
    choices: UploadChoices | None = None,
    on_step: Callable[[str], None] | None = None,
) -> Area:
    """Create an area from uploaded files in ``areas_dir``, all or nothing.

    Parameters
    ----------
    files : mapping
        Layer (a key of :data:`UPLOAD_TYPES`) to its uploads; boundaries,
        small_areas and deprivation are required.
    name : str
        The area's display name; its folder is :func:`safe_folder_name` of it.
    areas_dir : str or Path
        Folder of areas (see ``settings.areas_dir``).
    columns : mapping, optional
        Layer to ``{role: column}`` where detection fails (roles in :data:`COLUMN_ROLES`).
    replace : bool
        Replace an area of the same name; otherwise an existing one is an error.
    choices : UploadChoices, optional
        Asset type, bad asset rows, label and buffer (these two checked before any file is read).
    on_step : callable, optional
        Called with a short description before each slow step, to show progress.

    Returns
    -------
    Area
        The new area, loaded, with ``path`` in ``areas_dir``.

    Raises
    ------
    ValidationError
        Bad uploads (kind, size, missing layers), listing every one.
    ColumnsNotDetected
        Required columns not found in some files; ``checks`` lists the files' columns.
    AssetMapError
        Any loader's error, naming the file, row or field and the fix. Nothing
        is left in ``areas_dir`` on any error.
    """
    step = on_step or (lambda _text: None)
    title = _area_title(name)
    choices = choices or UploadChoices()
    choices = replace_fields(choices, asset_buffer_m=choices.checked())  # before any file is written
    step("Checking the files")
    check_uploads(files)
    root = Path(areas_dir)
    target = _free_target(root, title, replace=replace)
    root.mkdir(parents=True, exist_ok=True)
    # Built beside its final place so that the last step is one rename on the same disk.
    work = Path(tempfile.mkdtemp(prefix=".upload-", dir=root))
    try:
        paths = write_uploads(files, work / "uploads")
        step("Reading the column headers")
        checks = _check_upload_columns(paths, columns or {})
        slow = " and the street network (this can take a minute or two)" if paths.get("network") else ""
        step(f"Reading and checking every layer{slow}")
        options = _upload_options(paths, columns or {}, checks, choices)
        boundaries, small_areas, imd = (paths[layer][0] for layer in ("boundaries", "small_areas", "deprivation"))
        area = init_area(
            work / "area", boundaries=boundaries, small_areas=small_areas, imd=imd, options=options, name=title
        )
        step("Saving the area")
        _move_into_place(work / "area", target, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if area.network_path is not None:
        area.network_path = target / area.network_path.relative_to(work / "area")
    area.path = target
    return area


def _area_title(name: str) -> str:
    """Return the area's name with its spaces tidied; refuse a blank name."""
    title = " ".join(name.split())
    if not title:
        raise ValidationError(
            Problem("the area has no name.", field="Area name", fix="Name it, e.g. after the borough.")
        )
    return title


def _free_target(root: Path, title: str, *, replace: bool) -> Path:
    """Return the folder for an area called ``title`` in ``root``; one already there is an error unless replaced."""
    target = root / safe_folder_name(title)
    if target.exists() and not replace:
        raise AreaError(
            f"An area called '{title}' is already kept in {target}. Choose another name, or choose to replace it."
        )
    return target


def _upload_options(
    paths: Mapping[str, Sequence[Path]],
    columns: Mapping[str, Mapping[str, str | None]],
    checks: Mapping[str, ColumnCheck],
    choices: UploadChoices,
) -> LayerOptions:
    """Gather the optional uploads and the columns named for them, as :func:`init_area` takes them."""

    def first(layer: str) -> Path | None:
        return paths[layer][0] if paths.get(layer) else None

    return LayerOptions(
        population=first("population"),
        lookup=first("lookup"),
        network=first("network"),
        postcodes=first("postcodes"),
        assets=paths.get("assets", []),
        asset_type=choices.asset_type,
        skip_invalid_assets=choices.skip_invalid_assets,
        asset_buffer_m=choices.asset_buffer_m,  # type: ignore[arg-type]  # checked: metres
        boundary_label=choices.boundary_label,
        columns=LayerColumns(
            boundaries=_given(columns.get("boundaries"), checks["boundaries"]),
            small_areas=_given(columns.get("small_areas"), checks["small_areas"]),
            deprivation=_given(columns.get("deprivation"), checks["deprivation"]),
        ),
    )


def _check_upload_columns(
    paths: Mapping[str, Sequence[Path]], columns: Mapping[str, Mapping[str, str | None]]
) -> dict[str, ColumnCheck]:
    """Check each layer with column roles for its columns; raise :class:`ColumnsNotDetected` if any are missing."""
    checks = {
        layer: check_columns(paths[layer][0], layer, columns.get(layer), population_given=bool(paths.get("population")))
        for layer in COLUMN_ROLES
    }
    pending = {layer: check for layer, check in checks.items() if check.missing}
    if pending:
        raise ColumnsNotDetected(pending)
    return checks
