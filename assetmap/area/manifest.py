"""An area folder's manifest, ``area.toml``: reading, writing and naming its layer files."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from assetmap._errors import AreaError

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
        raise AreaError(f"{root / MANIFEST}: layer '{layer}' has no path. Add path = \"...\" under [layers.{layer}].")
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
            f"{manifest}: no [layers.{missing[0]}] section. An area needs boundaries, small_areas "
            "and deprivation layers."
        )
    return data


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a valid TOML basic string


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
    (path / MANIFEST).write_text("\n".join(lines) + "\n", encoding="utf-8")


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
