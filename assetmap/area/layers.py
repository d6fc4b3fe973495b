"""Reading each layer of an area folder as its manifest names it: boundaries, deprivation, lookup, assets."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from assetmap._errors import AreaError, AssetMapWarning, Problem, ValidationError
from assetmap.analysis.assign import lookup_from_geometry, placement_effect
from assetmap.area.manifest import layer_path
from assetmap.io.assets import RowDefaults, read_assets
from assetmap.io.boundaries import read_boundaries, read_small_areas
from assetmap.io.deprivation import check_lsoa_match, read_deprivation
from assetmap.io.lookups import best_fit_lookup_title, read_lookup
from assetmap.taxonomy import Taxonomy


def read_polygons(
    root: Path, layers: dict[str, Any], vintages: dict[str, str]
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Read the boundaries and the small areas, noting each one's vintage."""
    polygons = {}
    for name, reader in (("boundaries", read_boundaries), ("small_areas", read_small_areas)):
        spec = layers[name]
        options = {key: spec.get(key) for key in ("code_col", "name_col", "layer", "crs")}
        polygons[name] = reader(layer_path(root, spec, name), **options)
        vintages[name] = spec.get("vintage", polygons[name].attrs["source"])
    return polygons["boundaries"], polygons["small_areas"]


def read_deprivation_layer(
    root: Path, layers: dict[str, Any], small_areas: gpd.GeoDataFrame, vintages: dict[str, str]
) -> pd.DataFrame:
    """Read the deprivation table for the area's LSOAs; it must give a population for each."""
    population = None
    if "population" in layers:
        population = layer_path(root, layers["population"], "population")
    spec = layers["deprivation"]
    dep_path = layer_path(root, spec, "deprivation")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AssetMapWarning)
        deprivation = read_deprivation(
            dep_path, columns=spec.get("columns"), population=population, sheet=spec.get("sheet")
        )
    for w in caught:
        # LSOAs of a national file outside the area need no population; the area's own are checked below.
        if not (issubclass(w.category, AssetMapWarning) and "have no population" in str(w.message)):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    check_lsoa_match(deprivation, small_areas["code"], file=dep_path.name)
    deprivation = deprivation[deprivation["lsoa_code"].isin(small_areas["code"])].reset_index(drop=True)
    if "population" not in deprivation or deprivation["population"].isna().all():
        raise AreaError(
            f"{dep_path.name}: no population per LSOA. Add the IoD population file (File 6) as "
            "init-area --population (on the Data page: 'Population (IoD File 6)'), or use File 7, which includes it."
        )
    missing = deprivation.loc[deprivation["population"].isna(), "lsoa_code"].tolist()
    if missing:
        # Every figure per ward is weighted by population: refused here, not left for each page to fail on.
        edition = deprivation.attrs.get("edition", "the same edition")
        raise ValidationError(
            Problem(
                f"{len(missing)} of the area's {len(deprivation)} LSOAs have no population "
                f"({', '.join(missing[:10])}{', ...' if len(missing) > 10 else ''}), so no figure per ward can "
                "be computed.",
                file=population.name if population is not None else dep_path.name,
                fix=f"Give the population file (File 6) of {edition}, which covers every LSOA of its edition, "
                f"or the {edition} File 7, which includes the population.",
            )
        )
    vintages["deprivation"] = spec.get("vintage", deprivation.attrs.get("edition") or dep_path.name)
    return deprivation


def read_lookup_layer(
    root: Path,
    layers: dict[str, Any],
    polygons: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame],
    deprivation: pd.DataFrame,
    notes: list[str],
    vintages: dict[str, str],
) -> pd.DataFrame:
    """Read the LSOA-to-area lookup, or link LSOAs to areas by their boundaries where there is none."""
    boundaries, small_areas = polygons
    if "lookup" not in layers:
        lookup = lookup_from_geometry(small_areas, boundaries)
        notes.append(_no_lookup_note(lookup, boundaries, small_areas, deprivation))
        return lookup
    spec = layers["lookup"]
    lookup = read_lookup(layer_path(root, spec, "lookup"), lsoa_col=spec.get("lsoa_col"), area_col=spec.get("area_col"))
    lookup = lookup[lookup["lsoa_code"].isin(small_areas["code"])]
    unknown = sorted(set(lookup["area_code"]) - set(boundaries["code"]))
    if unknown:
        raise ValidationError(
            Problem(
                f"{len(unknown)} area codes in the lookup are not in the boundaries ({', '.join(unknown[:5])}...).",
                file=spec["path"],
                fix="Use a lookup of the same boundary vintage as the boundaries file.",
            )
        )
    unmatched = sorted(set(small_areas["code"]) - set(lookup["lsoa_code"]))
    if unmatched:
        # The lookup may be older than the LSOAs: place the rest by geometry, openly.
        extra = lookup_from_geometry(small_areas[small_areas["code"].isin(unmatched)], boundaries)
        lookup = pd.concat([lookup, extra], ignore_index=True)
        notes.append(f"{spec['path']}: {len(unmatched)} LSOAs are not in the lookup; placed by their boundaries.")
    vintages["lookup"] = spec.get("vintage", Path(spec["path"]).name)
    return lookup


def _no_lookup_note(
    lookup: pd.DataFrame, boundaries: gpd.GeoDataFrame, small_areas: gpd.GeoDataFrame, deprivation: pd.DataFrame
) -> str:
    """Say how LSOAs were linked without a lookup and, where some cross area lines, how much that moves populations."""
    cut = lookup.loc[lookup["method"].eq("apportioned"), "lsoa_code"].nunique()
    note = (
        f"No LSOA-to-ward lookup given: LSOAs linked to areas by their boundaries, "
        f"{lookup['lsoa_code'].nunique() - cut} nested (best fit), {cut} cut by area boundaries and apportioned "
        "by area share."
    )
    effect = placement_effect(small_areas, boundaries, deprivation.set_index("lsoa_code")["population"])
    top = effect.iloc[0] if len(effect) else None
    if top is None or (not cut and top["change"] < 0.01):
        return note
    ward_year = re.fullmatch(r"WD(\d{2})CD", str(boundaries.attrs.get("code_col") or ""), flags=re.IGNORECASE)
    title = best_fit_lookup_title(
        deprivation.attrs.get("lsoa_vintage"), 2000 + int(ward_year.group(1)) if ward_year else None
    )
    return (
        f"{note} Where LSOAs cross ward lines their placement changes ward populations by up to "
        f"{top['change']:.0%}: {top['name']} ({effect.index[0]}) has {top['by_point']:,.0f} residents with each "
        f"LSOA wholly in the ward holding its representative point, {top['by_share']:,.0f} with LSOAs shared by "
        f"area. For ward figures as ONS gives them, get {title} and give it as the lookup: --lookup on "
        "init-area, or 'LSOA-to-ward lookup' on the Data page."
    )


def note_uncounted(lookup: pd.DataFrame, deprivation: pd.DataFrame, notes: list[str]) -> None:
    """Note the residents of LSOAs that the areas do not wholly cover, who are counted in no area."""
    counted = lookup.groupby("lsoa_code")["weight"].sum()
    pop = deprivation.set_index("lsoa_code")["population"]
    lost = (pop * (1 - counted.reindex(pop.index).fillna(0)).clip(lower=0)).sum()
    if lost >= 0.5:
        partly = int((counted.reindex(pop.index).fillna(0) < 1 - 1e-9).sum())
        notes.append(
            f"{lost:,.0f} residents of {partly} LSOAs live outside every area and are counted in none "
            "(the areas do not cover all of the LSOAs)."
        )


def read_asset_file(
    root: Path, spec: dict[str, Any], postcodes: pd.DataFrame | None, taxonomy: Taxonomy | None
) -> gpd.GeoDataFrame:
    """Read one asset register file of the manifest, each row marked with the file's name."""
    frame = read_assets(
        layer_path(root, spec, "assets"),
        postcodes=postcodes,
        taxonomy=taxonomy,
        columns=spec.get("columns"),
        default_type=spec.get("default_type"),
        defaults=RowDefaults(
            status=spec.get("status", "approved"), asset_type=spec.get("asset_type"), type_map=spec.get("type_map")
        ),
        on_error="skip" if spec.get("skip_invalid") else "raise",
    )
    frame["file"] = Path(spec["path"]).name
    return frame
