"""An area folder's manifest, ``area.toml``: reading, writing and naming its layer files."""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assetmap._errors import AreaError

if TYPE_CHECKING:
    from assetmap.taxonomy import Taxonomy

MANIFEST = "area.toml"


_LAYERS_REQUIRED = ("boundaries", "small_areas", "deprivation")


LAYER_FOLDERS = {
    "boundaries": "boundaries",
    "small_areas": "boundaries",
    "deprivation": "deprivation",
    "population": "deprivation",
    "lookup": "lookups",
    "network": "streets",
    "postcodes": "postcodes",
    "assets": "assets",
    "grants": "grants",
}


def layer_path(root: Path, spec: dict[str, Any], layer: str) -> Path:
    """Return the file a manifest's ``[layers.<layer>]`` section names, which must exist.

    Raises
    ------
    AreaError
        The section has no ``path``, or the file it names is not there.
    """
    if "path" not in spec:
        raise AreaError(
            f"{root / MANIFEST}: layer '{layer}' names no file. Restore the area's manifest, or create the area "
            "again with init-area (on the Data page: 'Create the area')."
        )
    path = (root / spec["path"]).resolve()
    if not path.is_file():
        raise AreaError(
            f"{root / MANIFEST}: layer '{layer}' names {spec['path']}, which is not in {root}. "
            "Restore the file or correct the path."
        )
    return path


def read_manifest(path: str | Path) -> dict[str, Any]:
    """Read and check an area folder's ``area.toml``.

    Raises
    ------
    AreaError
        No manifest, bad TOML, or a required layer missing.
    """
    root = Path(path)
    manifest = root / MANIFEST
    if not manifest.is_file():
        raise AreaError(f"{root}: not an area folder (no {MANIFEST}). Create one with `assetmap init-area`.")
    try:
        data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise AreaError(f"{manifest}: cannot read it ({exc}). Fix the TOML syntax.") from exc
    layers = data.get("layers", {})
    missing = [name for name in _LAYERS_REQUIRED if name not in layers]
    if missing:
        raise AreaError(
            f"{manifest}: no {missing[0]} layer. An area needs boundaries, small areas and deprivation: create "
            "it again with init-area (on the Data page: 'Create the area')."
        )
    return data


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a valid TOML basic string


def _toml_key(key: Any) -> str:
    # A bare key is letters, digits, '_' and '-'; any other (a register's "Mobile library") is quoted.
    text = str(key)
    return text if re.fullmatch(r"[A-Za-z0-9_-]+", text) else json.dumps(text, ensure_ascii=False)


def write_manifest(path: Path, meta: dict[str, Any], layers: dict[str, Any]) -> None:
    """Write ``area.toml`` for an area folder.

    Parameters
    ----------
    path : Path
        The area folder.
    meta : dict
        ``[area]`` keys: name, code, fictional, description.
    layers : dict
        Layer name to its settings (``path`` relative to the folder, column names, vintage);
        ``assets`` is a list of such settings.
    """
    lines = ["# assetmap area manifest: the layers of one area, with paths relative to this file.", "", "[area]"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in meta.items() if v is not None]
    for name, spec in layers.items():
        if name == "assets":
            for item in spec:
                lines += ["", "[[layers.assets]]"] + [
                    f"{k} = {_toml_value(v)}" for k, v in item.items() if v is not None
                ]
        else:
            lines += ["", f"[layers.{name}]"] + [f"{k} = {_toml_value(v)}" for k, v in spec.items() if v is not None]
    # Written beside it and renamed over it: a reader never sees half a manifest.
    temporary = path / f".{MANIFEST}.tmp"
    temporary.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(temporary, path / MANIFEST)


def set_layer(area_dir: str | Path, layer: str, spec: dict[str, Any]) -> None:
    """Record (or replace) one single-file layer in an area folder's ``area.toml``.

    Parameters
    ----------
    area_dir : str or Path
        The area folder.
    layer : str
        Layer name (``network``, ``grants``...).
    spec : dict
        Its settings, ``path`` relative to the folder.
    """
    from assetmap.area.manifest import read_manifest, write_manifest

    root = Path(area_dir)
    data = read_manifest(root)
    layers = dict(data["layers"])
    layers[layer] = spec
    write_manifest(root, dict(data.get("area", {})), layers)


def area_taxonomy(area_dir: str | Path) -> Taxonomy:
    """Return the taxonomy an area uses: its own file where ``[area] taxonomy`` names one, else the shipped one.

    A council adds its own types, or changes which elements a type serves, in a copy of
    ``assetmap/taxonomy.toml`` kept in the area folder, without editing the package.

    Parameters
    ----------
    area_dir : str or Path
        The area folder.

    Raises
    ------
    AreaError
        The manifest names a taxonomy file that is not in the folder.
    """
    from assetmap.taxonomy import load_taxonomy

    root = Path(area_dir)
    name = read_manifest(root).get("area", {}).get("taxonomy")
    if not name:
        return load_taxonomy()
    path = (root / str(name)).resolve()
    if not path.is_file():
        raise AreaError(
            f'{root / MANIFEST}: taxonomy = "{name}" names a file that is not in {root}. '
            "Restore the file, or remove the line to use the shipped taxonomy."
        )
    return load_taxonomy(path)
