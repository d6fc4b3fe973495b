"""The ``assetmap`` options beyond presence: access for one audience, the capacity score, and site choice.

:mod:`assetmap.cli` adds ``--audience`` and ``--capacity`` to ``gaps`` and the ``suggest`` command.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from assetmap import settings
from assetmap.taxonomy import RESIDENT_GROUPS


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


def add_suggest_parser(
    sub: argparse._SubParsersAction,
    group_args: Callable[[argparse.ArgumentParser], None],
    command: Callable[[argparse.Namespace], int],
) -> None:
    """Add the suggest command, run by ``command``."""
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
    p.set_defaults(func=command)
