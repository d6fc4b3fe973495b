"""The ``assetmap`` command: thin commands over the library.

Every command prints what it did; a bad input ends with ``error:`` and a message
naming the file and the fix (exit status 2), never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assetmap import settings
from assetmap._errors import AssetMapError, AssetMapWarning
from assetmap.cli_register import add_personal_data_parsers, add_source_parsers, area_register, check_network_flag
from assetmap.cli_sites import add_measure_args, add_suggest_parser


def _cmd_init_area(args: argparse.Namespace) -> int:
    from assetmap.analysis.assign import check_buffer_m
    from assetmap.area.create import LayerColumns, LayerOptions, init_area
    from assetmap.area.units import UnitLabel

    if args.boundary_label is not None:
        UnitLabel.of(args.boundary_label, source="--boundary-label")  # a blank one is refused before any work
    if args.network is not None:
        check_network_flag(args.network)
    options = LayerOptions(
        population=args.population,
        lookup=args.lookup,
        network=args.network,
        postcodes=args.postcodes,
        assets=args.assets or [],
        asset_type=args.asset_type,
        skip_invalid_assets=args.skip_invalid_assets,
        asset_buffer_m=None if args.buffer is None else check_buffer_m(args.buffer, field="--buffer"),
        columns=LayerColumns(
            boundaries=_columns(code_col=args.boundaries_code_col, name_col=args.boundaries_name_col),
            small_areas=_columns(code_col=args.small_areas_code_col, name_col=args.small_areas_name_col),
            lookup=_columns(lsoa_col=args.lookup_lsoa_col, area_col=args.lookup_area_col),
        ),
        boundary_label=args.boundary_label,
    )
    area = init_area(
        args.directory,
        boundaries=args.boundaries,
        small_areas=args.small_areas,
        imd=args.imd,
        options=options,
        name=args.name,
        code=args.code,
        overwrite=args.overwrite,
    )
    _print_area(area)
    print(f"Created area folder {args.directory}")
    return 0


def _columns(**kwargs: str | None) -> dict[str, str] | None:
    given = {k: v for k, v in kwargs.items() if v}
    return given or None


def _print_area(area) -> None:
    print(f"{area.name}{' (fictional)' if area.fictional else ''}")
    print(
        f"  areas: {len(area.boundaries)}  LSOAs: {len(area.small_areas)}  "
        f"population: {area.deprivation['population'].sum():,.0f}  assets: {len(area.assets)}"
    )
    for layer, vintage in area.vintages.items():
        print(f"  {layer}: {vintage}")
    for note in area.notes:
        print(f"note: {note}")


def _cmd_info(args: argparse.Namespace) -> int:
    from assetmap.area.load import load_area

    area = load_area(args.area)
    _print_area(area)
    return 0


def _cmd_deprivation_summary(args: argparse.Namespace) -> int:
    from assetmap.analysis.deprivation import summarise_deprivation
    from assetmap.io.deprivation import read_deprivation
    from assetmap.io.export import write_table

    dep = read_deprivation(args.imd, population=args.population)
    if "population" not in dep:
        raise AssetMapError(
            f"{Path(args.imd).name} has no population column, which every summary needs. Give --population F "
            "(the IoD File 6 of the same edition), or use File 7, which includes it."
        )
    by = args.by or ("area" if (args.lookup or args.boundaries) else "lad")
    if by == "lad":
        dep = _with_authority(dep, args)
        dep = dep[_wholly_counted(dep["lsoa_code"], dep["lad_code"], dep, "local authorities")]
        table = summarise_deprivation(dep, by="lad")
    else:
        lookup, names = _area_lookup(dep, args)
        lookup = lookup[_wholly_counted(lookup["lsoa_code"], lookup["area_code"], dep, "areas")]
        table = summarise_deprivation(dep, lookup, by="area", names=names)
    write_table(table, args.out)
    print(f"Wrote {len(table)} rows to {args.out}")
    return 0


def _with_authority(dep, args: argparse.Namespace):
    """Return the deprivation rows with each LSOA's local authority: from --lookup where given, else the file's."""
    from assetmap.io.lookups import read_lad_lookup

    if args.lookup:
        lads = read_lad_lookup(args.lookup, lsoa_vintage=dep.attrs.get("lsoa_vintage"))
        out = dep.drop(columns=["lad_code", "lad_name"], errors="ignore").merge(lads, on="lsoa_code", how="inner")
        out.attrs.update(dep.attrs)
        if out.empty:
            raise AssetMapError(
                f"{Path(args.lookup).name}: none of its LSOA codes ({lads.attrs['lsoa_col']}) are in "
                f"{Path(args.imd).name}. Give a lookup of the same LSOA vintage as the deprivation file "
                f"({dep.attrs.get('lsoa_vintage')} LSOAs)."
            )
        return out
    if "lad_code" not in dep:
        raise AssetMapError(
            f"{Path(args.imd).name} has no local authority column, so --by lad needs --lookup F: an ONS lookup "
            "with an LSOA column and a local authority column (such as LAD24CD or ltla24_code), e.g. the "
            "'LSOA (2021) to Electoral Ward (2024) to LAD (2024) Best Fit Lookup in EW'."
        )
    return dep


def _wholly_counted(lsoas, groups, dep, what: str):
    """Mark the rows of the groups whose every LSOA has a population; note the groups left out."""
    pop = lsoas.map(dep.set_index("lsoa_code")["population"])
    whole = pop.notna().groupby(groups.to_numpy()).transform("all").to_numpy()
    left_out = groups[~whole].nunique()
    if left_out and not whole.any():
        raise AssetMapError(
            f"no {what} can be summarised: each has LSOAs without a population. Give --population F with the "
            "population of every LSOA (the national IoD File 6 of the same edition)."
        )
    if left_out:
        print(
            f"note: {left_out} {what} left out: some of their LSOAs have no population "
            "(give the national IoD File 6 of the same edition with --population to include them).",
            file=sys.stderr,
        )
    return whole


def _area_lookup(dep, args: argparse.Namespace):
    """Return the LSOA-to-area lookup for --by area (from --lookup or the boundaries) and the areas' names."""
    from assetmap.analysis.assign import lookup_from_geometry
    from assetmap.io.boundaries import read_boundaries, read_small_areas
    from assetmap.io.lookups import read_lookup

    names = None
    if args.lookup:
        lookup = read_lookup(args.lookup)
        lookup = lookup[lookup["lsoa_code"].isin(dep["lsoa_code"])]
        if args.boundaries:
            names = read_boundaries(args.boundaries)[["code", "name"]]
    elif args.boundaries:
        if not args.small_areas:
            raise AssetMapError(
                "--boundaries needs --small-areas (the LSOA boundaries) to place each LSOA in an area; "
                "or give a published lookup with --lookup."
            )
        areas = read_boundaries(args.boundaries)
        lookup = lookup_from_geometry(read_small_areas(args.small_areas), areas)
        names = areas[["code", "name"]]
    else:
        raise AssetMapError("--by area needs --lookup F or --boundaries F with --small-areas F.")
    return lookup, names


def _cmd_assign(args: argparse.Namespace) -> int:
    from assetmap.analysis.assign import assign_to_areas
    from assetmap.io.boundaries import read_boundaries, read_small_areas
    from assetmap.io.export import write_table
    from assetmap.io.places import read_points
    from assetmap.io.postcodes import read_postcodes

    out = _output_path(args.out)
    areas = read_boundaries(args.boundaries, code_col=args.code_col, name_col=args.name_col)
    small_areas = read_small_areas(args.small_areas) if args.small_areas else None
    postcodes = read_postcodes(args.postcodes) if args.postcodes else None
    points = read_points(args.assets, postcodes=postcodes, on_error="skip" if args.skip_invalid else "raise")
    added = ["area_code", "area_name"] + (["lsoa_code"] if small_areas is not None else [])
    clash = {c: f"{c}_input" for c in added if c in points.columns}
    if clash:
        # The file's own columns of these names are kept beside the ones assign adds, renamed.
        points = points.rename(columns=clash)
        print(f"note: the file's own {', '.join(clash)} columns are kept as {', '.join(clash.values())}.")
    points[["area_code", "area_name"]] = assign_to_areas(points, areas)
    if small_areas is not None:
        points["lsoa_code"] = assign_to_areas(points, small_areas)["area_code"]
    outside = points["area_code"].isna()
    if outside.any():
        rows = (points.index[outside] + 2).tolist()
        print(f"note: {int(outside.sum())} rows lie in no area (rows {rows[:20]}); their area_code is blank.")
    write_table(points, out)
    print(f"Wrote {len(points)} rows ({int((~outside).sum())} in an area) to {out}")
    return 0


def _output_path(text: str) -> Path:
    """Return the output path, refusing a format that cannot be written before any work is done."""
    from assetmap.io.export import TABLE_SUFFIXES

    out = Path(text)
    if TABLE_SUFFIXES.get(out.suffix.lower()) is None:
        raise AssetMapError(f"{out.name}: cannot write this kind of file. Use .csv, .xlsx, .geojson or .gpkg.")
    return out


def _groups_from_args(args: argparse.Namespace) -> list[str] | None:
    from assetmap.analysis.groups import resolve_groups

    return resolve_groups(element=args.element, pillar=args.pillar, combine=args.combine)


def _cmd_gaps(args: argparse.Namespace) -> int:
    from assetmap.area.load import load_area
    from assetmap.io.export import write_table

    out = _output_path(args.out)
    area = load_area(args.area)
    options = {"include_stale": not args.exclude_stale, "network": not args.straight_line, "audience": args.audience}
    result = area.gaps(threshold=args.threshold, by=args.by, groups=_groups_from_args(args), **options)
    table, note_text = result.table, result.note
    if args.capacity:
        from assetmap.area.capacity import gaps_with_capacity

        table, note_text = gaps_with_capacity(area, result, args.capacity, options)
    if out.suffix.lower() in (".csv", ".xlsx"):
        table = table.drop(columns="geometry")
    write_table(table, out, layer="gaps")
    note = out.with_name(out.stem + ".method.md")
    note.write_text(note_text, encoding="utf-8")
    ranked = result.table[~result.table["whole_area"]].sort_values(["group", "gap_rank"])
    print(
        f"{area.name}: {len(ranked)} rows ({ranked['code'].nunique()} {area.unit_label.plural_lower if args.by == 'area' else 'LSOAs'} x "
        f"{ranked['group'].nunique()} groups) + whole-area rows; access by {result.access.method} distance, "
        f"within {result.threshold:g} m"
    )
    for group, rows in ranked.groupby("group", sort=False):
        top = rows[rows["gap_rank"] == 1]
        if len(top) and top["gap_index"].iloc[0] > 0:
            r = top.iloc[0]
            print(
                f"  {group}: largest gap {r['name']} ({r['code']}): gap index {r['gap_index']:.2f}, "
                f"need percentile {r['need_percentile']:.0f}, {r['access_share']:.0%} within reach"
            )
    print(f"Wrote {out} and the method note {note}")
    return 0


def _read_candidates(path: str, area) -> object:
    if path.strip().lower() in ("nodes", "grid", "buildings"):
        return path.strip().lower()
    from assetmap.io.assets import read_assets

    assets = read_assets(path, postcodes=area.postcodes, default_type="community_centre", on_error="raise")
    return assets[["name", "geometry"]]


def _cmd_suggest(args: argparse.Namespace) -> int:
    from assetmap.area.load import load_area
    from assetmap.io.export import write_table

    out = _output_path(args.out)
    group = _groups_from_args(args)
    if group is None:
        raise AssetMapError("suggest needs --element N or --pillar NAME: the kind of asset to place.")
    area = load_area(args.area)
    candidates = _read_candidates(args.candidates, area) if args.candidates else None
    chosen = area.suggest_sites(
        group[0],
        args.k,
        candidates=candidates,
        threshold=args.threshold,
        include_stale=not args.exclude_stale,
        network=not args.straight_line,
        method=args.method,
    )
    table = chosen.to_crs(settings.storage_crs)
    table.insert(3, "longitude", table.geometry.x.round(6))
    table.insert(4, "latitude", table.geometry.y.round(6))
    if out.suffix.lower() in (".csv", ".xlsx"):
        table = table.drop(columns="geometry")
    write_table(table, out, layer="suggested_sites")
    for _, r in chosen.iterrows():
        where = r["name"] or f"{r['x']:.0f}, {r['y']:.0f}"
        print(
            f"  {r['rank']}. {where} ({r['area_name'] or 'outside the area'}): {r['newly_reached_deprived']:,.0f} "
            f"residents of IMD deciles 1-2 newly within {r['threshold_m']:g} m ({r['newly_reached']:,.0f} in all)"
        )
    if len(chosen) < args.k:
        print(
            f"  only {len(chosen)} {'site adds' if len(chosen) == 1 else 'sites add'} deprived residents within "
            "reach; no further candidate would."
        )
    print(chosen.attrs["note"])
    print(f"Wrote {len(chosen)} sites to {out}")
    return 0


def _cmd_print(args: argparse.Namespace) -> int:
    from assetmap.area.load import load_area
    from assetmap.render.printmap import prepare_print, print_pack_zip, print_ward, write_pack

    out = Path(args.out)
    if out.suffix.lower() not in (".pdf", ".zip"):
        raise AssetMapError(
            f"{out.name}: cannot write this kind of file. Use .pdf (or .zip with --all: one PDF per ward)."
        )
    if out.suffix.lower() == ".zip" and not args.all:
        raise AssetMapError(f"{out.name}: a .zip holds one PDF per ward; add --all, or write a .pdf.")
    if not args.all and not args.ward:
        raise AssetMapError(
            "print needs --ward CODE (one ward, by code or name) or --all (every ward, or the --ward ones given)."
        )
    group = _groups_from_args(args)
    if args.colour_by == "gap" and group is None:
        raise AssetMapError("--colour-by gap needs --element N or --pillar NAME: the gap shown.")
    area = load_area(args.area)
    codes = area.find_units(args.ward, flag="--ward") if args.ward else []
    if not args.all and len(codes) > 1:
        raise AssetMapError("several --ward codes need --all, which prints them as one pack.")
    layers = prepare_print(
        area, colour_by=args.colour_by, group=group[0] if group else None, tiles=args.tiles, streets=args.streets
    )
    sheet = {"paper": args.paper, "orientation": args.orientation, "layout": args.layout, "layers": layers}
    if args.all:

        def progress(done: int, total: int, message: str) -> None:
            print(f"  [{done}/{total}] {message}", flush=True)

        if out.suffix.lower() == ".zip":
            out.write_bytes(print_pack_zip(area, codes or None, progress=progress, workers=args.jobs, **sheet))
        else:
            _write_whole(out, lambda fh: write_pack(fh, area, codes or None, progress=progress, **sheet))
    else:
        out.write_bytes(print_ward(area, codes[0], **sheet))
    _warn_no_streets(area, layers.without_streets)
    from assetmap.area.units import unit_title

    names = area.boundaries.assign(code=area.boundaries["code"].astype(str)).set_index("code")["name"]
    shown = "" if args.all and not codes else ", ".join(unit_title(names[c], c) for c in codes[:5]) + "; "
    print(f"Wrote {out} ({shown}{out.stat().st_size / 1024:,.0f} KB)")
    return 0


def _write_whole(out: Path, write: Callable[[Any], object]) -> None:
    """Write a file through ``write`` beside ``out`` and move it into place: never half a file on a refusal."""
    part = out.with_name(out.name + ".part")
    try:
        with part.open("wb") as fh:
            write(fh)
        part.replace(out)
    finally:
        part.unlink(missing_ok=True)


def _warn_no_streets(area: Any, codes: list[str]) -> None:
    """Say which maps were printed with no street base under them, and the flag that gives one."""
    if not codes:
        return
    unit = area.unit_label
    which = ", ".join(codes[:5]) + (f" and {len(codes) - 5} more" if len(codes) > 5 else "")
    print(
        f"warning: {len(codes)} {unit.singular_lower if len(codes) == 1 else unit.plural_lower} printed with no "
        f"streets under the map ({which}): the area's street network does not cover them. Give --streets FILE "
        "(an OpenStreetMap .osm or .osm.pbf extract, OS Open Roads or any line layer of roads) or --tiles URL.",
        file=sys.stderr,
    )


def _cmd_serve(args: argparse.Namespace) -> int:
    from assetmap.server import APP_SCRIPT, run_foreground, streamlit_command

    # A register that cannot be read is said here, on one line, not left for every visitor to meet.
    store = area_register(args.area, needed=False)
    if store is not None:
        with store:
            store.counts()
    env = {
        **os.environ,
        "ASSETMAP_AREA": str(Path(args.area).resolve()) if args.area else str(settings.default_area_path),
    }
    return run_foreground(streamlit_command(APP_SCRIPT, args.port), env=env)


def _cmd_add_officer(args: argparse.Namespace) -> int:
    import getpass

    from assetmap.auth import AuthError, add_officer, check_new_password

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"Password for {args.username}: ")
        check_new_password(password)  # before asking again, so a short one is refused at once
        if getpass.getpass("Same password again: ") != password:
            raise AuthError("the two passwords differ. Nothing was changed.")
    new = add_officer(args.secrets, args.username, password)
    print(f"{'Added' if new else 'Changed the password of'} officer {args.username} in {args.secrets}.")
    return 0


def _cmd_fetch_area(args: argparse.Namespace) -> int:
    from assetmap.area.fetch import fetch_area

    area = fetch_area(
        args.authority, args.directory, status=args.status, overwrite=args.overwrite, osm=not args.no_osm, log=print
    )
    _print_area(area)
    print(f"Created area folder {args.directory}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser (also used to check that every command is documented)."""
    parser = argparse.ArgumentParser(prog="assetmap", description="Community asset mapping against deprivation.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__import__('assetmap').__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _area_parsers(sub)
    _table_parsers(sub)
    _gap_and_print_parsers(sub)
    _app_parsers(sub)
    add_source_parsers(sub)
    _fetch_area_parser(sub)
    add_personal_data_parsers(sub)
    return parser


def _area_parsers(sub: argparse._SubParsersAction) -> None:
    """Add init-area and info."""
    p = sub.add_parser("init-area", help="create an area folder from boundary, deprivation and asset files")
    p.add_argument("directory", help="folder to create")
    p.add_argument("--boundaries", required=True, help="wards or neighbourhoods (GeoJSON, GPKG, SHP, zipped SHP, KML)")
    p.add_argument("--small-areas", required=True, help="LSOA boundaries")
    p.add_argument("--imd", required=True, help="IoD File 7 (CSV or XLSX), or another IoD file with --population")
    p.add_argument("--population", help="IoD File 6 population, when the IMD file has none")
    p.add_argument("--lookup", help="LSOA-to-area lookup (default: placed by boundaries)")
    p.add_argument(
        "--network",
        help="street network: OpenStreetMap .osm or .osm.pbf (e.g. a county from Geofabrik), OS Open Roads "
        "GeoPackage or another line layer, or GraphML",
    )
    p.add_argument("--postcodes", help="postcode lookup: NSPL/ONSPD or Code-Point Open")
    p.add_argument("--assets", nargs="*", help="asset register files")
    p.add_argument("--asset-type", help="type of every asset in files with no type column (e.g. food_bank)")
    p.add_argument("--skip-invalid-assets", action="store_true", help="leave out bad asset rows instead of stopping")
    p.add_argument(
        "--buffer",
        metavar="METRES",
        help="keep assets this far beyond the boundary, for walking access only (default 2000; 0 keeps only "
        "assets inside); assets further out are left out",
    )
    p.add_argument("--name", help="display name of the area")
    p.add_argument("--code", help="GSS code of the authority")
    p.add_argument(
        "--boundary-label",
        metavar="PLURAL",
        help="what the boundaries are called on every page and print, e.g. Localities (default: Wards)",
    )
    p.add_argument("--boundaries-code-col", help="code column of the boundaries, where not detected")
    p.add_argument("--boundaries-name-col", help="name column of the boundaries, where not detected")
    p.add_argument("--small-areas-code-col", help="code column of the LSOA boundaries, where not detected")
    p.add_argument("--small-areas-name-col", help="name column of the LSOA boundaries, where not detected")
    p.add_argument("--lookup-lsoa-col", help="LSOA code column of the lookup, where not detected")
    p.add_argument("--lookup-area-col", help="ward (area) code column of the lookup, where not detected")
    p.add_argument("--overwrite", action="store_true", help="replace an existing area folder")
    p.set_defaults(func=_cmd_init_area)

    p = sub.add_parser("info", help="load an area folder and describe it")
    p.add_argument("area", nargs="?", default=str(settings.default_area_path), help="area folder (default: demo)")
    p.set_defaults(func=_cmd_info)


def _table_parsers(sub: argparse._SubParsersAction) -> None:
    """Add deprivation-summary and assign, which work on files without an area folder."""
    p = sub.add_parser("deprivation-summary", help="deprivation per local authority or per area")
    p.add_argument("--imd", required=True, help="IoD file (File 7, or File 1/2/5 with --population)")
    p.add_argument("--population", help="IoD File 6 population")
    p.add_argument(
        "--lookup",
        help="LSOA-to-area lookup; with --by lad, any ONS lookup with LSOA and local authority columns (LAD24CD...)",
    )
    p.add_argument("--boundaries", help="area boundaries (with --small-areas, when there is no lookup)")
    p.add_argument("--small-areas", help="LSOA boundaries")
    p.add_argument("--by", choices=["lad", "area"], help="lad (default without a lookup) or area")
    p.add_argument("--out", required=True, help="output .csv or .xlsx")
    p.set_defaults(func=_cmd_deprivation_summary)

    p = sub.add_parser("assign", help="add the area code and name (and LSOA code) to every row of a file of places")
    p.add_argument("--boundaries", required=True, help="area boundaries")
    p.add_argument("--assets", required=True, help="any table or map layer of places; every column is kept")
    p.add_argument("--small-areas", help="LSOA boundaries, to add each row's lsoa_code")
    p.add_argument("--postcodes", help="postcode lookup, for rows given only by postcode")
    p.add_argument("--code-col", help="code column of the boundaries, where not detected")
    p.add_argument("--name-col", help="name column of the boundaries, where not detected")
    p.add_argument(
        "--skip-invalid", action="store_true", help="keep rows that cannot be placed, area blank, instead of stopping"
    )
    p.add_argument("--out", required=True, help="output .csv, .xlsx, .geojson or .gpkg")
    p.set_defaults(func=_cmd_assign)


def _choice_args(p: argparse.ArgumentParser, what: str) -> None:
    """Add --element, --pillar (each repeatable) and --combine: the chosen groups, combined as one."""
    p.add_argument("--element", action="append", metavar="N", help=f"an element{what}, 1 to 11 (repeat for several)")
    p.add_argument(
        "--pillar",
        action="append",
        metavar="NAME",
        help=f"a pillar{what}: Scaling, Involving, Strengthening or Sustaining (repeat for several)",
    )
    p.add_argument(
        "--combine",
        choices=["all", "any"],
        default="all",
        help="with several elements or pillars: residents count as within reach of an asset of every one "
        "(all; default) or of any one",
    )


def _group_args(p: argparse.ArgumentParser) -> None:
    """Add the options that choose the kind of asset and how reach is measured (gaps, suggest)."""
    _choice_args(p, "")
    p.add_argument(
        "--threshold",
        type=float,
        help=f"walking distance counted as within reach, metres (default {settings.walk_threshold_m:g})",
    )
    p.add_argument("--exclude-stale", action="store_true", help="leave out records not confirmed recently")
    p.add_argument("--straight-line", action="store_true", help="straight-line distance even where there is a network")


def _gap_and_print_parsers(sub: argparse._SubParsersAction) -> None:
    """Add gaps, suggest and print."""
    p = sub.add_parser("gaps", help="gap table per ward or LSOA: need, access and the gap index by element and pillar")
    p.add_argument("--area", default=str(settings.default_area_path), help="area folder (default: the demo area)")
    _group_args(p)
    p.add_argument("--by", choices=["area", "lsoa"], default="area", help="area (wards; default) or lsoa")
    add_measure_args(p)
    p.add_argument("--out", required=True, help="output .csv, .xlsx, .geojson or .gpkg (method note beside it)")
    p.set_defaults(func=_cmd_gaps)

    add_suggest_parser(sub, _group_args, _cmd_suggest)

    p = sub.add_parser("print", help="print-ready PDF map of a ward, or a ward pack of every ward")
    p.add_argument("--area", default=str(settings.default_area_path), help="area folder (default: the demo area)")
    p.add_argument(
        "--ward",
        action="append",
        metavar="CODE",
        help="ward (or locality...) by code or name, any case (repeat with --all for several)",
    )
    p.add_argument("--all", action="store_true", help="a ward pack: every ward (or the --ward codes) in one PDF")
    p.add_argument("--paper", choices=["a4", "a3", "a2"], default="a4", help="paper size (default a4)")
    p.add_argument(
        "--layout",
        choices=["standard", "poster"],
        default="standard",
        help="standard (map, then facts and the full index; default) or poster (one wall sheet: map, legend, top ten)",
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=1,
        metavar="N",
        help="wards drawn at once, in N processes, for a .zip pack (default 1)",
    )
    p.add_argument(
        "--streets",
        metavar="FILE",
        help="streets under the map: an OpenStreetMap .osm or .osm.pbf extract, OS Open Roads or any line layer "
        "(default: the area's street network)",
    )
    p.add_argument("--orientation", choices=["landscape", "portrait"], default="landscape", help="default landscape")
    p.add_argument(
        "--colour-by", choices=["imd", "gap"], default="imd", help="shade LSOAs by IMD decile (default) or gap index"
    )
    p.add_argument(
        "--tiles",
        metavar="URL",
        help="online map tiles under the map, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png (default: none)",
    )
    _choice_args(p, " of the gap shading")
    p.add_argument("--out", required=True, help="output .pdf (or .zip of one PDF per ward, with --all)")
    p.set_defaults(func=_cmd_print)


def _app_parsers(sub: argparse._SubParsersAction) -> None:
    """Add serve and add-officer."""
    p = sub.add_parser("serve", help="start the app")
    p.add_argument("--area", help="area folder (default: the demo area)")
    p.add_argument("--port", type=int, default=8501, help="port (default 8501)")
    p.set_defaults(func=_cmd_serve)

    p = sub.add_parser("add-officer", help="add an officer account (or change its password) in the app's secrets")
    p.add_argument("username", help="user name to sign in with")
    p.add_argument("--secrets", default=".streamlit/secrets.toml", help="secrets file (default: %(default)s)")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input (scripts)")
    p.set_defaults(func=_cmd_add_officer)


def _fetch_area_parser(sub: argparse._SubParsersAction) -> None:
    """Add fetch-area."""
    p = sub.add_parser("fetch-area", help="download an authority's boundaries, IoD and OSM data as an area (online)")
    p.add_argument("authority", help="local authority name or GSS code (e.g. Manchester or E08000003)")
    p.add_argument("directory", help="folder to create")
    p.add_argument("--status", choices=["pending", "approved"], default="pending", help="status of OSM records")
    p.add_argument("--no-osm", action="store_true", help="skip the OpenStreetMap places and walk network")
    p.add_argument("--overwrite", action="store_true", help="replace an existing area folder")
    p.set_defaults(func=_cmd_fetch_area)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AssetMapWarning)
        try:
            status = args.func(args)
        except AssetMapError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 2
    for w in caught:
        if issubclass(w.category, AssetMapWarning):
            print(f"note: {w.message}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
