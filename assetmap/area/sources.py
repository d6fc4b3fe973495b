"""Bringing outside sources into an area: OpenStreetMap, Open Referral UK and grants into its register or layers, and its walking network."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from assetmap._errors import AreaError
from assetmap.area.funding import attach_grants
from assetmap.area.manifest import set_layer
from assetmap.area.register import area_polygon, is_demo_area, ward_finder
from assetmap.io.grants import read_grants
from assetmap.io.network import network_format, read_street_edges
from assetmap.io.oruk import ORUK_FIELDS, read_oruk, record_from_service, services_from_api
from assetmap.io.osm import (
    NETWORK_FILE,
    OSM_FIELDS,
    TagMap,
    assets_from_features,
    features_from_polygon,
    features_from_xml,
    load_tag_map,
    walk_network_from_polygon,
)
from assetmap.store.base import RegisterStore
from assetmap.store.duplicates import dedupe_batch
from assetmap.store.sync import SyncResult, SyncSpec, sync_records


def _refuse_demo(root: Path) -> None:
    # Layers are files of the area folder, and the demo's is package data (read-only once installed).
    if is_demo_area(root):
        raise AreaError(
            f"{root} is the built-in demo area, which is read-only: copy the folder to one of your own and "
            "give that with --area."
        )


def import_osm(
    store: RegisterStore,
    features: gpd.GeoDataFrame,
    *,
    status: str = "pending",
    actor: str,
    tag_map: TagMap | None = None,
    area_codes: Callable[[Sequence[float], Sequence[float]], Sequence[str | None]] | None = None,
) -> SyncResult:
    """Bring OSM features into the register: new places added, known ones refreshed, nothing twice.

    A feature whose OSM id is in the register refreshes that record's OSM-held fields
    (:data:`OSM_FIELDS`) where they changed; one with a similar name within 50 m of a
    pending or approved record is taken as that record; the rest are added with
    ``status``. Importing the same data again writes nothing.

    Parameters
    ----------
    store : RegisterStore
        The register.
    features : GeoDataFrame
        From :func:`features_from_xml` or :func:`features_from_polygon`.
    status : {"pending", "approved"}
        Status of added records: ``pending`` for review, ``approved`` to publish at once.
    actor : str
        Who imports, for the audit log.
    tag_map : TagMap, optional
        Default: the shipped mapping.
    area_codes : callable, optional
        Ward code of each (longitude, latitude), for the records added (see
        :func:`assetmap.store.sync.sync_records`).

    Returns
    -------
    SyncResult
        Ids added, updated, unchanged and matched; ``skipped`` lists the features left out.
    """
    records, notes = assets_from_features(features, tag_map, taxonomy=store.taxonomy)
    records, folded = dedupe_batch(records)
    result = SyncResult(skipped=notes + folded)
    return sync_records(
        store,
        records,
        SyncSpec(source="osm", fields=OSM_FIELDS, status=status, actor=actor),
        result=result,
        area_codes=area_codes,
    )


def import_osm_to_area(
    area_dir: str | Path,
    *,
    xml: str | Path | None = None,
    status: str = "pending",
    actor: str = "osm import",
    tags: str | Path | None = None,
) -> SyncResult:
    """Import OSM community places into an area's register, from a file or (online) the area's polygon.

    Parameters
    ----------
    area_dir : str or Path
        The area folder; its ``register.sqlite`` is created if absent.
    xml : str or Path, optional
        An OSM XML file; without one the area's polygon is downloaded (online machines).
    status : {"pending", "approved"}
        Status of added records.
    actor : str
        Who imports, for the audit log.
    tags : str or Path, optional
        Own tag mapping (default: the shipped ``osm_tags.toml``).
    """
    from assetmap.area.manifest import read_manifest
    from assetmap.area.register import open_area_register

    root = Path(area_dir)
    read_manifest(root)  # an area folder, or a clear error
    with open_area_register(root) as store:
        tag_map = load_tag_map(tags, taxonomy=store.taxonomy)
        features = (
            features_from_xml(xml, tag_map) if xml is not None else features_from_polygon(area_polygon(root), tag_map)
        )
        return import_osm(store, features, status=status, actor=actor, tag_map=tag_map, area_codes=ward_finder(root))


def build_network(area_dir: str | Path, *, network: str | Path | None = None) -> Path:
    """Give an area its walk network, so later runs are offline: a street file, or the area's streets downloaded.

    A file (OpenStreetMap .osm or .osm.pbf, OS Open Roads or another line layer, GraphML; recognised by its
    content) is read first, to refuse one that is not a street network or is of another place, and then
    copied into ``<area>/streets/`` under its own name; only the streets within reach of the area are used
    when the area loads. Without a file the area's polygon is downloaded from OpenStreetMap (online machines)
    and saved as GraphML in ``<area>/streets/walk_network.graphml``. Either is recorded as the area's
    ``[layers.network]``.

    Parameters
    ----------
    area_dir : str or Path
        The area folder.
    network : str or Path, optional
        A street network file.

    Returns
    -------
    Path
        The file the area now reads its streets from.
    """
    from assetmap.area.load import load_area
    from assetmap.area.manifest import read_manifest

    root = Path(area_dir)
    read_manifest(root)
    _refuse_demo(root)
    folder = root / "streets"
    if network is None:
        import osmnx as ox

        graph = walk_network_from_polygon(area_polygon(root))
        folder.mkdir(exist_ok=True)
        out = folder / NETWORK_FILE
        ox.save_graphml(graph, out)
        source, vintage = "osm", "Walk network from OpenStreetMap (downloaded)"
    else:
        source_path = Path(network)
        kind = network_format(source_path)
        area = load_area(root, register=False)
        read_street_edges(source_path, clip=area.network_bounds())  # refuses a file of no streets, or of elsewhere
        folder.mkdir(exist_ok=True)
        out = folder / source_path.name
        if out.resolve() != source_path.resolve():
            partial = folder / f".{source_path.name}.partial"
            shutil.copyfile(source_path, partial)
            partial.replace(out)
        source = "osm" if kind in ("osm", "pbf") else "file"
        vintage = f"Walk network from {source_path.name}"
    set_layer(root, "network", {"path": f"streets/{out.name}", "source": source, "vintage": vintage})
    return out


def import_oruk(
    store: RegisterStore,
    services: list[dict[str, Any]],
    *,
    status: str = "pending",
    actor: str,
    default_type: str | None = None,
    postcodes: pd.DataFrame | None = None,
    area_codes: Callable[[Sequence[float], Sequence[float]], Sequence[str | None]] | None = None,
) -> SyncResult:
    """Bring ORUK services into the register: new ones added, known ones refreshed, nothing twice.

    Parameters
    ----------
    store : RegisterStore
        The register.
    services : list of dict
        From :func:`read_oruk` or :func:`services_from_api`.
    status : {"pending", "approved"}
        Status of added records (the officer's choice).
    actor : str
        Who imports, for the audit log.
    default_type : str, optional
        Asset type of services whose taxonomy terms match no type (otherwise they are left out).
    postcodes : DataFrame, optional
        Postcode lookup for services with a postcode and no usable coordinates.
    area_codes : callable, optional
        Ward code of each (longitude, latitude), for records added without one (see
        :func:`assetmap.store.sync.sync_records`).

    Returns
    -------
    SyncResult
        ``skipped`` names each service left out and why; ``notes`` what was assumed.
    """
    result = SyncResult()
    records: dict[str, dict[str, Any]] = {}
    for service in services:
        record, messages = record_from_service(
            service, taxonomy=store.taxonomy, default_type=default_type, postcodes=postcodes
        )
        if record is None:
            result.skipped += messages
            continue
        result.notes += messages
        if record["source_id"] in records:
            result.skipped.append(f"service {record['source_id']}: appears twice; the first is kept.")
            continue
        records[record["source_id"]] = record
    return sync_records(
        store,
        list(records.values()),
        SyncSpec(source="oruk", fields=ORUK_FIELDS, status=status, actor=actor),
        result=result,
        area_codes=area_codes,
    )


def import_oruk_to_area(
    area_dir: str | Path,
    source: str | Path,
    *,
    status: str = "pending",
    actor: str = "oruk import",
    default_type: str | None = None,
) -> SyncResult:
    """Import ORUK services from a JSON file or an API's base URL into an area's register.

    The area's postcode lookup, where it has one, places services given only by postcode.
    """
    from assetmap.area.manifest import layer_path, read_manifest
    from assetmap.area.register import open_area_register
    from assetmap.io.postcodes import read_postcodes

    root = Path(area_dir)
    layers = read_manifest(root)["layers"]
    text = str(source)
    services = list(services_from_api(text)) if text.startswith(("http://", "https://")) else read_oruk(Path(text))
    postcodes = read_postcodes(layer_path(root, layers["postcodes"], "postcodes")) if "postcodes" in layers else None
    from assetmap.area.register import ward_finder

    with open_area_register(root) as store:
        return import_oruk(
            store,
            services,
            status=status,
            actor=actor,
            default_type=default_type,
            postcodes=postcodes,
            area_codes=ward_finder(root),
        )


def import_grants_to_area(area_dir: str | Path, path: str | Path) -> str:
    """Copy a 360Giving file into an area (``grants/``), record it as ``[layers.grants]``, and report.

    Returns
    -------
    str
        How many grants and how much, how they were placed, and how many were not.
    """
    from assetmap.area.load import load_area
    from assetmap.area.manifest import read_manifest, set_layer

    root, src = Path(area_dir), Path(path)
    read_manifest(root)
    _refuse_demo(root)
    grants = read_grants(src)
    folder = root / "grants"
    folder.mkdir(exist_ok=True)
    shutil.copy2(src, folder / src.name)
    set_layer(root, "grants", {"path": f"grants/{src.name}", "vintage": f"360Giving grants: {src.name}"})
    area = load_area(root)
    attached = attach_grants(grants, area)
    by_grant = attached.drop_duplicates("grant_id")
    methods = by_grant["method"].value_counts()
    placed = by_grant[by_grant["method"] != "not placed"]
    lines = [
        f"{len(grants)} grants, {grants['amount'].sum():,.0f} in total, recorded in {root / 'area.toml'}",
        f"  placed in the area's wards: {len(placed)} "
        f"({methods.get('ward code', 0)} by ward code, {methods.get('LSOA code', 0)} by LSOA code, "
        f"{methods.get('postcode', 0)} by recipient postcode)",
        f"  not placed (outside the area, or no code or postcode the area knows): {methods.get('not placed', 0)}",
    ]
    return "\n".join(lines)
