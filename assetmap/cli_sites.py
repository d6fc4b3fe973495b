"""The ``assetmap`` options beyond presence: access for one audience, the capacity score, and site choice.

:mod:`assetmap.cli` adds ``--audience`` and ``--capacity`` to ``gaps`` and the ``suggest`` command.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd

from assetmap import settings
from assetmap._errors import AssetMapError
from assetmap.taxonomy import RESIDENT_GROUPS

if TYPE_CHECKING:
    from assetmap.area.coverage import GapAnalysis
    from assetmap.area.load import Area


def add_measure_args(p: argparse.ArgumentParser) -> None:
    """Add ``--audience`` and ``--capacity`` to the gaps command."""
    p.add_argument(
        "--audience",
        choices=list(RESIDENT_GROUPS),
        default="everyone",
        help="access for one group of residents and the assets for them (default everyone)",
    )
    p.add_argument(
        "--capacity",
        choices=["sessions_week", "places"],
        help="add the capacity score (E2SFCA) per 1,000 residents beside the share within reach, in this unit",
    )


def with_capacity(area: Area, result: GapAnalysis, unit: str, options: dict[str, Any]) -> tuple[pd.DataFrame, str]:
    """Return the gap table with its ``capacity_per_1000`` column, and the method note with the score's bullet."""
    from assetmap.analysis.capacity import capacity_note
    from assetmap.area.capacity import area_capacity

    groups = list(dict.fromkeys(result.table["group"]))
    scores = area_capacity(area, groups=groups, threshold=result.threshold, unit=unit, **options)
    by = scores.by_area if result.by == "area" else scores.by_lsoa
    assert by is not None  # an area always has its lookup
    table = result.table.merge(by[["code", "group", "capacity_per_1000"]], on=["code", "group"], how="left")
    # The whole authority: the population-weighted mean of its wards.
    for group, rows in by.groupby("group"):
        mean = (rows["capacity_per_1000"].fillna(0) * rows["population"]).sum() / max(rows["population"].sum(), 1e-9)
        table.loc[table["whole_area"] & table["group"].eq(group), "capacity_per_1000"] = mean
    lines = result.note.split("\n")
    at = next((i for i, line in enumerate(lines) if line.startswith("- **Data:**")), len(lines))
    return table, "\n".join(lines[:at] + list(capacity_note(scores)) + lines[at:])


def add_suggest_parser(sub: argparse._SubParsersAction, group_args: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add the suggest command."""
    p = sub.add_parser("suggest", help="sites that bring the most deprived residents within reach (greedy or optimal)")
    p.add_argument("--area", default=str(settings.default_area_path), help="area folder (default: the demo area)")
    group_args(p)
    p.add_argument("--k", type=int, default=5, help="number of sites (1 to 50; default 5)")
    p.add_argument(
        "--method",
        choices=["greedy", "optimal"],
        default="greedy",
        help="one site at a time (default), or the best set of k with the greedy's share of it",
    )
    p.add_argument(
        "--candidates",
        help="sites to choose from: nodes (every street node; greedy's default), grid (street nodes thinned to "
        f"one per {settings.site_grid_m:g} m; optimal's default), buildings (the area's community buildings), "
        "or an asset-style file (name and location)",
    )
    p.add_argument("--out", required=True, help="output .csv, .xlsx, .geojson or .gpkg")
    p.set_defaults(func=_cmd_suggest)


def _read_candidates(path: str, area: Area) -> object:
    if path.strip().lower() in ("nodes", "grid", "buildings"):
        return path.strip().lower()
    from assetmap.io.assets import read_assets

    assets = read_assets(path, postcodes=area.postcodes, default_type="community_centre", on_error="raise")
    return assets[["name", "geometry"]]


def _cmd_suggest(args: argparse.Namespace) -> int:
    from assetmap import settings as live
    from assetmap.area.load import load_area
    from assetmap.cli import _groups_from_args, _output_path
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
    table = chosen.to_crs(live.storage_crs)
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
