"""The ``assetmap`` commands that fill and keep an area's register.

Importing OpenStreetMap, Open Referral UK and 360Giving data into an area,
exporting its register, and the personal data commands. :mod:`assetmap.cli`
adds them to its parser.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Literal, overload

from assetmap import settings
from assetmap._errors import AssetMapError

if TYPE_CHECKING:
    from assetmap.store import RegisterStore


def add_source_parsers(sub: argparse._SubParsersAction) -> None:
    """Add the commands that import data into an area or export its register."""
    p = sub.add_parser("import-osm", help="import community places from OpenStreetMap into an area's register")
    p.add_argument("--area", required=True, help="area folder")
    p.add_argument("--xml", help="OpenStreetMap XML file (.osm); without it the area is downloaded (online)")
    p.add_argument("--status", choices=["pending", "approved"], default="pending", help="status of new records")
    p.add_argument("--tags", help="own OSM tag mapping (default: assetmap/osm_tags.toml)")
    p.add_argument("--actor", type=_actor, default="osm import", help="who imports, for the audit log")
    p.set_defaults(func=_cmd_import_osm)

    p = sub.add_parser("build-network", help="give an area its walk network, from a street file or downloaded")
    p.add_argument("--area", required=True, help="area folder")
    p.add_argument(
        "--network",
        "--xml",
        dest="network",
        help="street network: OpenStreetMap .osm or .osm.pbf (e.g. a county from Geofabrik), OS Open Roads "
        "GeoPackage or another line layer, or GraphML; without it the area's streets are downloaded (online)",
    )
    p.set_defaults(func=_cmd_build_network)

    p = sub.add_parser("import-oruk", help="import services from an Open Referral UK JSON file or API")
    p.add_argument("--area", required=True, help="area folder")
    p.add_argument("source", help="ORUK JSON file, or the API's base URL (its /services are read page by page)")
    p.add_argument("--status", choices=["pending", "approved"], default="pending", help="status of new records")
    p.add_argument("--default-type", help="asset type for services whose taxonomy terms are not recognised")
    p.add_argument("--actor", type=_actor, default="oruk import", help="who imports, for the audit log")
    p.set_defaults(func=_cmd_import_oruk)

    p = sub.add_parser("export-oruk", help="export the approved register as Open Referral UK JSON")
    p.add_argument("--area", required=True, help="area folder")
    p.add_argument("--out", required=True, help="output .json")
    p.set_defaults(func=_cmd_export_oruk)

    _add_assets_parser(sub)
    p = sub.add_parser("taxonomy", help="list the asset types with the elements and pillars each serves")
    p.add_argument("--area", help="area folder, to list its own taxonomy where it has one (default: the shipped one)")
    p.set_defaults(func=_cmd_taxonomy)

    p = sub.add_parser("import-grants", help="add a 360Giving grants file to an area (funding per ward on Gaps)")
    p.add_argument("--area", required=True, help="area folder")
    p.add_argument("file", help="360Giving CSV or JSON")
    p.set_defaults(func=_cmd_import_grants)


def _add_assets_parser(sub: argparse._SubParsersAction) -> None:
    """Add add-assets: one asset file into an area, with its own type and columns."""
    p = sub.add_parser("add-assets", help="add one asset file to an area (its register, or else its asset layers)")
    p.add_argument("area", help="area folder")
    p.add_argument("file", help="asset file: CSV, XLSX, GeoJSON, GeoPackage or Shapefile")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--type", help="type of every row, e.g. food_bank (see: assetmap taxonomy)")
    which.add_argument("--type-col", help="column holding each row's type, where not detected")
    p.add_argument("--type-map", help="CSV of value,type: the file's own type values and the type each stands for")
    p.add_argument("--name-col", help="column holding each asset's name, where not detected")
    p.add_argument("--id-col", help="column holding each row's own id (default: ids made from each row)")
    p.add_argument("--postcode-col", help="column holding the postcode, where not detected")
    p.add_argument("--lat-col", help="latitude column (WGS84), with --lon-col")
    p.add_argument("--lon-col", help="longitude column (WGS84), with --lat-col")
    p.add_argument("--x-col", help="easting column (British National Grid), with --y-col")
    p.add_argument("--y-col", help="northing column (British National Grid), with --x-col")
    p.add_argument(
        "--phone-col",
        help="column of the places' public phone numbers (a phone beside a named contact person is otherwise left out)",
    )
    p.add_argument("--skip-invalid", action="store_true", help="leave out bad rows (listed) instead of stopping")
    p.add_argument("--status", choices=["approved", "pending"], default="approved", help="status of added records")
    p.add_argument("--actor", type=_actor, default="add-assets", help="who adds them, for the audit log")
    p.set_defaults(func=_cmd_add_assets)


_COLUMN_ARGS = {
    "name": "name_col",
    "type": "type_col",
    "asset_id": "id_col",
    "postcode": "postcode_col",
    "latitude": "lat_col",
    "longitude": "lon_col",
    "easting": "x_col",
    "northing": "y_col",
    "phone": "phone_col",
}


def _cmd_add_assets(args: argparse.Namespace) -> int:
    from assetmap.area.assets import AssetFile, add_assets
    from assetmap.area.manifest import area_taxonomy
    from assetmap.io.type_map import read_type_map

    for one, other in (("lat_col", "lon_col"), ("x_col", "y_col")):
        if bool(getattr(args, one)) != bool(getattr(args, other)):
            flags = f"--{one.replace('_', '-')} and --{other.replace('_', '-')}"
            raise AssetMapError(f"give {flags} together: each row needs both.")
    taxonomy = area_taxonomy(args.area)
    kind = None
    if args.type:
        kind = taxonomy.normalise_type(args.type)
        if kind is None:
            raise AssetMapError(f"--type {args.type}: not an asset type. Use one of: {', '.join(taxonomy.type_keys)}.")
    how = AssetFile(
        asset_type=kind,
        type_map=read_type_map(args.type_map, taxonomy) if args.type_map else None,
        columns={f: getattr(args, a) for f, a in _COLUMN_ARGS.items() if getattr(args, a)},
        skip_invalid=args.skip_invalid,
        status=args.status,
    )
    result = add_assets(args.area, args.file, how, actor=args.actor)
    print(result.summary())
    for problem in result.problems[:20]:
        print(f"  {problem}")
    if len(result.problems) > 20:
        print(f"  ... and {len(result.problems) - 20} more")
    return 0


def _cmd_taxonomy(args: argparse.Namespace) -> int:
    from assetmap.area.manifest import area_taxonomy
    from assetmap.taxonomy import load_taxonomy

    taxonomy = area_taxonomy(args.area) if args.area else load_taxonomy()
    for t in taxonomy.asset_types:
        elements = ", ".join(f"{e} {taxonomy.element(e).name}" for e in t.elements)
        pillars = ", ".join(taxonomy.pillar(p).name for p in taxonomy.pillars_of(t.elements))
        print(f"{t.key}: {t.label}")
        print(f"  elements: {elements}")
        print(f"  pillars: {pillars}")
    return 0


def _cmd_import_osm(args: argparse.Namespace) -> int:
    from assetmap.area.sources import import_osm_to_area

    result = import_osm_to_area(args.area, xml=args.xml, status=args.status, actor=args.actor, tags=args.tags)
    print(f"OpenStreetMap import into {args.area}: {result.summary()}")
    for line in result.skipped[:20]:
        print(f"  {line}")
    if len(result.skipped) > 20:
        print(f"  ... and {len(result.skipped) - 20} more left out")
    print(settings.attribution_osm)
    return 0


def check_network_flag(path: str) -> None:
    """Refuse a ``--network`` file that is no street network before any work, naming the flag."""
    from assetmap._errors import DataFormatError
    from assetmap.io.network import network_format

    try:
        network_format(path)
    except DataFormatError as exc:
        raise DataFormatError(f"--network {exc}") from exc


def _cmd_build_network(args: argparse.Namespace) -> int:
    from assetmap.area.load import load_area
    from assetmap.area.sources import build_network

    if args.network is not None:
        check_network_flag(args.network)
    out = build_network(args.area, network=args.network)
    print(f"Saved the walk network {out} and recorded it in {Path(args.area) / 'area.toml'}")
    print(load_area(args.area, register=False).attribution)
    return 0


def _cmd_import_oruk(args: argparse.Namespace) -> int:
    from assetmap.area.sources import import_oruk_to_area

    result = import_oruk_to_area(
        args.area, args.source, status=args.status, actor=args.actor, default_type=args.default_type
    )
    print(f"Open Referral import into {args.area}: {result.summary()}")
    for line in result.skipped[:20]:
        print(f"  {line}")
    if len(result.skipped) > 20:
        print(f"  ... and {len(result.skipped) - 20} more left out")
    return 0


def _cmd_export_oruk(args: argparse.Namespace) -> int:
    from assetmap.area.register import open_area_register
    from assetmap.io.oruk import export_oruk

    with open_area_register(args.area) as store:
        text = export_oruk(store.records(public=True), store.taxonomy)
    Path(args.out).write_text(text, encoding="utf-8")
    print(f"Wrote the approved register as Open Referral UK JSON to {args.out}")
    return 0


def _cmd_import_grants(args: argparse.Namespace) -> int:
    from assetmap.area.sources import import_grants_to_area

    report = import_grants_to_area(args.area, args.file)
    print(report)
    return 0


# -- personal data: housekeeping, export for one person, erasure -------------------------------


@overload
def area_register(area: str | None, *, needed: Literal[True]) -> RegisterStore: ...


@overload
def area_register(area: str | None, *, needed: bool) -> RegisterStore | None: ...


def area_register(area: str | None, *, needed: bool) -> RegisterStore | None:
    """Open the register the app uses for this area (the shared one where ``settings.register_url`` is set).

    Parameters
    ----------
    area : str, optional
        Area folder given with ``--area`` (default: ``settings.default_area_path``).
    needed : bool
        Whether a missing register is an error.

    Returns
    -------
    RegisterStore or None
        The open register; None where the area folder has no register yet (none is created).
    """
    from assetmap.area.register import has_register, open_area_register
    from assetmap.store import REGISTER_FILE

    folder = Path(area) if area else settings.default_area_path
    if not settings.register_url and not folder.is_dir():
        raise AssetMapError(f"{folder}: no such area folder. Give an existing area folder with --area.")
    if not has_register(folder):
        if needed:
            raise AssetMapError(
                f"{folder} has no register ({REGISTER_FILE}): it holds no records. Check the folder given with --area."
            )
        return None
    return open_area_register(folder)


def _cmd_housekeeping(args: argparse.Namespace) -> int:
    store = area_register(args.area, needed=False)
    if store is None:
        print(f"Housekeeping: {args.area or settings.default_area_path} has no register yet; nothing to do.")
        return 0
    with store:
        erased = store.erase_expired()
    days = settings.personal_data_retention_days
    if erased:
        ids = ", ".join(list(erased)[:10]) + (" ..." if len(erased) > 10 else "")
        print(
            f"Housekeeping: erased the personal details of {len(erased)} rejected or withdrawn "
            f"record{'s' if len(erased) != 1 else ''} unchanged for over {days} days ({ids})."
        )
    else:
        print(f"Housekeeping: no rejected or withdrawn record has kept personal details for over {days} days.")
    return 0


def _cmd_personal_data(args: argparse.Namespace) -> int:
    import json

    out = Path(args.out)
    if out.suffix.lower() != ".json":
        raise AssetMapError(f"{out.name}: the personal data export is JSON. Give --out a file ending .json.")
    if not out.parent.is_dir():
        raise AssetMapError(f"{out.parent}: no such folder for --out. Create it, or write the file elsewhere.")
    if not args.email.strip():
        raise AssetMapError("--email is blank. Give the email address of the person asking.")
    with area_register(args.area, needed=True) as store:
        held = store.subject_access(args.email, actor=args.actor, reason=args.reason)
    out.write_text(json.dumps(held, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    print(
        f"Wrote {len(held['records'])} records and {len(held['audit'])} audit rows held about {held['email']} "
        f"to {out}; the export is recorded in the audit log."
    )
    return 0


def _cmd_erase_personal(args: argparse.Namespace) -> int:
    if not args.reason.strip():
        raise AssetMapError("--reason is blank. Say which request the erasure answers.")
    with area_register(args.area, needed=True) as store:
        erased = store.erase_personal(args.ids, actor=args.actor, reason=args.reason)
    for rid in args.ids:
        fields = erased.get(rid)
        print(f"  {rid}: " + (f"erased {', '.join(fields)}" if fields else "no personal details held"))
    print(f"Erased the personal details of {len(erased)} of {len(args.ids)} records; the erasure is in the audit log.")
    return 0


def add_personal_data_parsers(sub: argparse._SubParsersAction) -> None:
    """Add the personal data commands: housekeeping, personal-data, erase-personal."""
    area_help = "area folder (default: the demo area; the shared register where ASSETMAP_REGISTER_URL is set)"
    p = sub.add_parser(
        "housekeeping",
        help="erase the personal details of rejected and withdrawn records kept past the retention period",
    )
    p.add_argument("--area", help=area_help)
    p.set_defaults(func=_cmd_housekeeping)

    p = sub.add_parser("personal-data", help="export everything the register holds about one person, by email")
    p.add_argument("--area", help=area_help)
    p.add_argument("--email", required=True, help="the person's email address")
    p.add_argument("--out", required=True, help="output .json")
    p.add_argument("--reason", help="the request it answers, for the audit log")
    p.add_argument(
        "--actor", type=_actor, default="command line", help="who asks, for the audit log (default: %(default)s)"
    )
    p.set_defaults(func=_cmd_personal_data)

    p = sub.add_parser("erase-personal", help="erase the personal details of records on request")
    p.add_argument("--area", help=area_help)
    p.add_argument("ids", nargs="+", metavar="ID", help="record references (R...)")
    p.add_argument("--reason", required=True, help="the request it answers, for the audit log")
    p.add_argument(
        "--actor", type=_actor, default="command line", help="who erases, for the audit log (default: %(default)s)"
    )
    p.set_defaults(func=_cmd_erase_personal)


def _actor(text: str) -> str:
    """Return an ``--actor`` value (who acts, for the audit log); argparse refuses a blank one with a message."""
    if not text.strip():
        raise argparse.ArgumentTypeError("give a name for the audit log, e.g. --actor 'j.smith'")
    return text.strip()
