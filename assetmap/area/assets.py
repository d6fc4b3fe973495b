"""Adding one asset file to an existing area: into its register where it has one, else as an asset layer.

Each file comes with its own type and columns (:class:`AssetFile`). Nothing is half
added: a register takes the file's records in one batch through its own checks; a
layer is listed in ``area.toml`` only once the whole area loads with it. Adding the
same file again adds nothing: a register knows its records by the file's name and
each row's id (:mod:`assetmap.store.sync`), a layer by the file's content.
"""

from __future__ import annotations

import copy
import hashlib
import shutil
import warnings
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from assetmap._errors import AreaError, AssetMapWarning, Problem, ValidationError
from assetmap.area.manifest import LAYER_FOLDERS, area_taxonomy, layer_path, read_manifest, write_manifest
from assetmap.area.register import has_register, is_demo_area, open_area_register, ward_finder
from assetmap.io.assets import RowDefaults, read_assets
from assetmap.record import FIELDS
from assetmap.record_checks import check_records
from assetmap.store.sync import SyncSpec, sync_records
from assetmap.taxonomy import Taxonomy

#: Fields a file's rows hold, refreshed on a record already added from the same file and row.
_FILE_FIELDS = tuple(
    f
    for f in FIELDS
    if f not in ("asset_id", "status", "source", "source_id", "created_at", "updated_at") and not f.endswith("_by")
)

# What each field's problem means, in the summary line.
_REASONS = {
    "postcode": "postcode not found",
    "location": "no location",
    "latitude": "bad coordinates",
    "easting": "bad coordinates",
    "geometry": "bad geometry",
    "type": "type not known",
    "asset_id": "repeated id",
    "name": "no name",
}


@dataclass(frozen=True)
class AssetFile:
    """How to read one asset file: the type of its rows, and its columns where not detected.

    Attributes
    ----------
    asset_type : str, optional
        Type of every row (``--type``), whatever a type column says.
    type_map : mapping, optional
        The file's own type values to type keys (``--type-map``).
    columns : mapping
        Record field to the file's column (``--name-col``, ``--type-col``, ``--id-col``,
        ``--postcode-col``, ``--lat-col``/``--lon-col``, ``--x-col``/``--y-col``).
    skip_invalid : bool
        Leave out bad rows (listed) instead of refusing the file.
    status : {"approved", "pending"}
        Status of the records added.
    """

    asset_type: str | None = None
    type_map: Mapping[str, str] | None = None
    columns: Mapping[str, str] = field(default_factory=dict)
    skip_invalid: bool = False
    status: str = "approved"


@dataclass
class AddedAssets:
    """What adding a file did.

    Attributes
    ----------
    area : str
        The area's name.
    file : str
        The file's name.
    into : {"register", "layer"}
        Where its records went.
    rows : int
        Rows in the file.
    added : int
        Records added.
    already : int
        Records the area had already (the same file added before).
    problems : list of Problem
        Why rows were left out.
    left_out : int
        Rows left out.
    types : list of str
        Type keys of the records read.
    listed_as : str, optional
        The asset layer that already holds the same file (nothing added).
    """

    area: str
    file: str
    into: str
    rows: int = 0
    added: int = 0
    already: int = 0
    problems: list[Problem] = field(default_factory=list)
    left_out: int = 0
    types: list[str] = field(default_factory=list)
    listed_as: str | None = None

    def summary(self) -> str:
        """One line: what was added where, and how many rows were left out and why."""
        if self.listed_as:
            return (
                f"Nothing added: {self.file} is already {self.area}'s asset layer {self.listed_as} (the same content)."
            )
        what = _plural(self.types[0]) if len(set(self.types)) == 1 else "assets"
        where = f"{self.area}'s register" if self.into == "register" else f"{self.area}'s asset layers"
        if self.already and not self.added:  # the same file again
            line = f"Nothing added: the {self.already} {what} of {self.file} are in {where} already (added before)"
        else:
            line = f"Added {self.added} {what} from {self.file} to {where}"
        if self.already and self.added:
            line += f"; {self.already} were there already (this file was added before)"
        if self.left_out:
            reasons = Counter(_REASONS.get(p.field or "", p.field or "other") for p in self.problems if p.row)
            listed = ", ".join(f"{n} {why}" for why, n in reasons.most_common())
            line += f"; {self.left_out} rows left out: {listed or 'see the notes'}"
        return line + "."


def _plural(key: str) -> str:
    word = key.replace("_", " ")
    return word[:-1] + "ies" if word.endswith("y") else word + "s"


def add_assets(
    area_dir: str | Path, path: str | Path, how: AssetFile | None = None, *, actor: str = "add-assets"
) -> AddedAssets:
    """Add one asset file to an area folder, all or nothing.

    Where the area has a register (:func:`assetmap.area.register.has_register`), the
    file's records go into it (new ones added with ``how.status``; those added before
    from this file refreshed, never added twice). Otherwise the file is copied into the
    area's ``assets/`` folder and listed as an asset layer with its options, once the
    whole area is seen to load with it.

    Parameters
    ----------
    area_dir : str or Path
        The area folder.
    path : str or Path
        The asset file (CSV, XLSX, GeoJSON, GeoPackage, Shapefile).
    how : AssetFile, optional
        The type of its rows and its columns.
    actor : str
        Who adds it, for the register's audit log.

    Returns
    -------
    AddedAssets

    Raises
    ------
    AreaError, DataFormatError, ValidationError
        Naming the file, row or column and the flag that fixes it; the area is unchanged.
    """
    how = how or AssetFile()
    root, src = Path(area_dir), Path(path)
    data = read_manifest(root)
    if not src.is_file():
        raise AreaError(f"{src}: no such file. Check the path of the asset file.")
    taxonomy = area_taxonomy(root)
    postcodes = _postcodes(root, data)
    name = str(data.get("area", {}).get("name", root.name))
    if has_register(root):
        return _into_register(root, src, how, name, taxonomy=taxonomy, postcodes=postcodes, actor=actor)
    return _into_layer(root, src, how, name, data, taxonomy=taxonomy, postcodes=postcodes)


def _postcodes(root: Path, data: dict[str, Any]) -> pd.DataFrame | None:
    from assetmap.io.postcodes import read_postcodes

    layers = data["layers"]
    return read_postcodes(layer_path(root, layers["postcodes"], "postcodes")) if "postcodes" in layers else None


def _read(
    src: Path, how: AssetFile, *, taxonomy: Taxonomy, postcodes: pd.DataFrame | None
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Read the file as ``how`` says; return its good rows and the notes on the way (bad rows are in attrs)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AssetMapWarning)
        try:
            frame = read_assets(
                src,
                postcodes=postcodes,
                taxonomy=taxonomy,
                columns=dict(how.columns),
                defaults=RowDefaults(status=how.status, asset_type=how.asset_type, type_map=how.type_map),
                on_error="skip" if how.skip_invalid else "raise",
            )
        except ValidationError as exc:
            summary = f"{exc.summary} (nothing was added; give --skip-invalid to add the other rows)"
            raise ValidationError(exc.problems, summary=summary) from exc
    left = f"{src.name}: left out"
    notes = [str(w.message) for w in caught if issubclass(w.category, AssetMapWarning)]
    return frame, [n for n in notes if not n.startswith(left)]


def _into_register(
    root: Path,
    src: Path,
    how: AssetFile,
    name: str,
    *,
    taxonomy: Taxonomy,
    postcodes: pd.DataFrame | None,
    actor: str,
) -> AddedAssets:
    """Bring the file's rows into the area's register through the record checks and the sync by source id."""
    frame, notes = _read(src, how, taxonomy=taxonomy, postcodes=postcodes)
    for note in notes:
        warnings.warn(note, AssetMapWarning, stacklevel=3)
    result = AddedAssets(name, src.name, "register", rows=frame.attrs["rows"], left_out=frame.attrs["left_out"])
    result.problems = list(frame.attrs["problems"])
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name)).astype(object)
    table = table.where(table.notna(), None)
    table["source_id"] = [f"{src.name}#{i}" for i in table["asset_id"]]  # the file's id, or the id made from the row
    table["asset_id"], table["source"], table["status"] = None, "register", how.status
    # The rules of a record the register stores (contacts well formed, text within its length).
    clean, problems = check_records(table, taxonomy=taxonomy, rows=table["row"].tolist(), file=src.name)
    if problems and not how.skip_invalid:
        summary = (
            f"{src.name}: rows the register cannot take (nothing was added; give --skip-invalid to add the others):"
        )
        raise ValidationError(problems, summary=summary)
    refused = set(clean.attrs["refused"])
    result.problems += problems
    result.left_out += len(refused)
    keep = [i for i in range(len(clean)) if i not in refused]
    records = clean.iloc[keep].assign(row=table["row"].iloc[keep].to_numpy()).to_dict("records")
    result.types = [str(r["type"]) for r in records]
    with open_area_register(root, taxonomy=taxonomy) as store:
        synced = sync_records(
            store,
            records,
            SyncSpec(source="register", fields=_FILE_FIELDS, status=how.status, actor=actor),
            area_codes=ward_finder(root),
        )
    result.added = len(synced.added)
    result.already = len(synced.updated) + len(synced.unchanged) + len(synced.matched)
    return result


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _into_layer(
    root: Path,
    src: Path,
    how: AssetFile,
    name: str,
    data: dict[str, Any],
    *,
    taxonomy: Taxonomy,
    postcodes: pd.DataFrame | None,
) -> AddedAssets:
    """Copy the file into ``assets/`` and list it in the manifest, once the area is seen to load with it."""
    from assetmap.area.load import load_area

    if is_demo_area(root):
        raise AreaError(f"{root} is the built-in demo area, which is read-only: copy the folder and give the copy.")
    layers = data["layers"]
    specs = layers.get("assets", [])
    specs = [specs] if isinstance(specs, dict) else list(specs)
    digest = _digest(src)
    for spec in specs:
        listed = root / str(spec.get("path", ""))
        if listed.is_file() and _digest(listed) == digest:
            return AddedAssets(name, src.name, "layer", already=1, listed_as=str(spec["path"]))
    frame, notes = _read(src, how, taxonomy=taxonomy, postcodes=postcodes)
    folder = root / LAYER_FOLDERS["assets"]
    folder.mkdir(exist_ok=True)
    dest = folder / src.name
    n = 1
    while dest.exists():
        n += 1
        dest = folder / f"{src.stem}_{n}{src.suffix}"
    spec = {
        "path": dest.relative_to(root).as_posix(),
        "asset_type": how.asset_type,
        "columns": dict(how.columns) or None,
        "type_map": dict(how.type_map) if how.type_map else None,
        "skip_invalid": how.skip_invalid or None,
        "status": None if how.status == "approved" else how.status,
    }
    new = copy.deepcopy(data)
    new["layers"]["assets"] = [*specs, {k: v for k, v in spec.items() if v is not None}]
    shutil.copy2(src, dest)
    try:
        load_area(root, taxonomy=taxonomy, manifest=new)  # the whole area, with the new file
        write_manifest(root, dict(new.get("area", {})), new["layers"])
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    for note in notes:
        warnings.warn(note, AssetMapWarning, stacklevel=3)
    return AddedAssets(
        name,
        src.name,
        "layer",
        rows=frame.attrs["rows"],
        added=len(frame),
        problems=list(frame.attrs["problems"]),
        left_out=frame.attrs["left_out"],
        types=[str(t) for t in frame["type"]],
    )
