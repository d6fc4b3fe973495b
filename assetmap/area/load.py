"""One area's layers, loaded from an area folder, all in EPSG:27700.

An area folder holds an ``area.toml`` manifest naming its layer files; see
:func:`init_area` to create one and :func:`load_area` to read one.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import geopandas as gpd
import networkx as nx
import pandas as pd

from assetmap import settings
from assetmap._errors import AreaError, AssetMapWarning, Problem, ValidationError
from assetmap.analysis.assign import (
    OUTSIDE,
    check_buffer_m,
    generalise_sensitive,
    place_points,
)
from assetmap.analysis.groups import MAX_THRESHOLD_M
from assetmap.analysis.note import distance_words
from assetmap.area.layers import (
    note_uncounted,
    read_asset_file,
    read_deprivation_layer,
    read_lookup_layer,
    read_polygons,
)
from assetmap.area.manifest import MANIFEST, area_taxonomy, layer_path, read_manifest
from assetmap.area.units import UnitLabel, find_units
from assetmap.io.assets import flag_duplicates
from assetmap.io.network import network_format, read_network
from assetmap.io.postcodes import read_postcodes
from assetmap.record import FIELDS, stale_mask
from assetmap.taxonomy import Taxonomy

if TYPE_CHECKING:  # pragma: no cover
    from assetmap.analysis.access import AccessResult
    from assetmap.analysis.scenario import WhatIf
    from assetmap.analysis.walkgraph import WalkGraph
    from assetmap.area.coverage import GapAnalysis


T = TypeVar("T")


@dataclass
class Area:
    """One area's layers, ready for analysis.

    Attributes
    ----------
    name : str
        Display name of the area (a borough, a city...).
    boundaries : GeoDataFrame
        Wards or neighbourhoods: ``code``, ``name``, ``geometry`` (EPSG:27700).
    small_areas : GeoDataFrame
        LSOAs: ``code``, ``name``, ``geometry`` (EPSG:27700); ``attrs['lsoa_vintage']`` is 2011 or 2021.
    deprivation : DataFrame
        One row per LSOA in the canonical deprivation columns (``lsoa_code``,
        ``imd_score``, ``imd_rank``, ``imd_decile``, domain columns, ``population``).
    lookup : DataFrame
        LSOA to area: ``lsoa_code``, ``area_code``, ``weight`` (share of the LSOA's
        population in the area; 1 for a best-fit lookup).
    assets : GeoDataFrame
        The asset register: record fields (see :mod:`assetmap.record`), ``pillars``,
        ``area_code``, ``area_name`` and point ``geometry`` (EPSG:27700).
    postcodes : DataFrame or None
        Postcode lookup: ``postcode``, ``longitude``, ``latitude``, ``lsoa_code``, ``terminated``.
    network_path : Path or None
        Street network file (OSM XML or GraphML), loaded on demand by :meth:`network`.
    path : Path or None
        The area folder.
    code : str or None
        GSS code of the authority, where there is one.
    fictional : bool
        True for the demo area: every view says so.
    as_of : date
        Date the register describes; records confirmed more than
        ``settings.stale_after_days`` before it are stale (default: today).
    network_source : str or None
        Where the street network comes from (``osm`` by default for OSM XML); decides its attribution.
    grants_path : Path or None
        360Giving grants file (``[layers.grants]``), read on demand by :func:`assetmap.area.funding.area_funding`.
    vintages : dict
        Layer name to a short description of its edition ("IoD2025", "Wards May 2024").
    notes : list of str
        What was repaired or assumed while loading, for display.
    unit_label : UnitLabel
        What the boundaries are called ("Wards" by default; "Localities", "Neighbourhoods"...):
        every page, table and print says this.
    asset_buffer_m : float
        Metres beyond the boundary within which assets were kept (``asset_buffer_m`` in
        ``area.toml``, else ``settings.asset_buffer_m``): those in no ward count for
        walking access only (:func:`assetmap.analysis.assign.place_points`).
    assets_left_out : int
        Records that lay further out than that, left out when the area loaded.
    """

    name: str
    boundaries: gpd.GeoDataFrame
    small_areas: gpd.GeoDataFrame
    deprivation: pd.DataFrame
    lookup: pd.DataFrame
    assets: gpd.GeoDataFrame
    postcodes: pd.DataFrame | None = None
    network_path: Path | None = None
    path: Path | None = None
    code: str | None = None
    fictional: bool = False
    as_of: date = field(default_factory=date.today)
    network_source: str | None = None
    grants_path: Path | None = None
    vintages: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    unit_label: UnitLabel = field(default_factory=UnitLabel)
    asset_buffer_m: float = 2000.0
    assets_left_out: int = 0
    _cache: dict[Hashable, Any] = field(default_factory=dict, repr=False)

    # -- derived views -----------------------------------------------------------------

    @property
    def attribution(self) -> str:
        """Attribution and licence text every map and export of this area must carry."""
        parts = []
        if self.fictional:
            parts.append("Fictional demo data: places, codes and figures are invented.")
        parts.append(settings.attribution_ons)
        if self.network_source == "osm" or (len(self.assets) and self.assets["source"].eq("osm").any()):
            parts.append(settings.attribution_osm)
        return " ".join(parts)

    def memo(self, key: Hashable, build: Callable[[], T]) -> T:
        """Return what ``build`` makes for ``key``, made once per area (None included).

        The one cache of things derived from the area's layers (walking graph, access,
        outline, catchments, street base): every layer that derives something heavy from
        an area keeps it here under its own key, so it is made once per loaded area.

        Parameters
        ----------
        key : hashable
            What is made, with every argument it depends on, e.g. ``("access", True, 800.0)``.
        build : callable
            Makes it; called only when ``key`` has not been made yet.
        """
        if key not in self._cache:
            self._cache[key] = build()
        return cast(T, self._cache[key])

    def _of_assets(self, key: str, build: Callable[[], Any]) -> Any:
        # Derived from the register alone, and asked for several times on every page run:
        # made once while ``assets`` is the same frame (a caller may replace it).
        hit = self._cache.get(key)
        if hit is None or hit[0] is not self.assets:
            hit = (self.assets, build())
            self._cache[key] = hit
        return hit[1]

    def find_units(self, texts: list[str], *, flag: str | None = None) -> list[str]:
        """Return the codes of the units named by code or name: see :func:`assetmap.area.units.find_units`."""
        return find_units(self.boundaries, texts, label=self.unit_label, area_name=self.name, flag=flag)

    def stale_mask(self) -> pd.Series:
        """Return True for records not seen current for ``settings.stale_after_days`` before ``as_of``.

        See :func:`assetmap.record.stale_mask`, the one rule for staleness.
        """
        return self._of_assets("stale_mask", lambda: stale_mask(self.assets, as_of=self.as_of)).copy()

    def approved_assets(self) -> gpd.GeoDataFrame:
        """Return the records the analysis and public views may use: status ``approved``."""
        return self.assets[self.assets["status"].eq("approved")]

    def placed_assets(self) -> gpd.GeoDataFrame:
        """Return the approved assets as every public figure counts them: sensitive ones at their ward's point.

        See :func:`assetmap.analysis.assign.generalise_sensitive`.
        """
        placed = self._of_assets("placed_assets", lambda: generalise_sensitive(self.approved_assets(), self.boundaries))
        return placed.copy(deep=False)  # a frame of the caller's own, as approved_assets gives

    def lsoa_ward_names(self) -> pd.Series:
        """Return the name of each LSOA's ward, by LSOA code: the ward holding most of its residents (the lookup's weight)."""

        def build() -> pd.Series:
            lookup = self.lookup.sort_values("weight", ascending=False, kind="stable").drop_duplicates("lsoa_code")
            return lookup.set_index("lsoa_code")["area_code"].map(self.boundaries.set_index("code")["name"])

        return self.memo("lsoa_ward_names", build)

    def area_summary(self) -> gpd.GeoDataFrame:
        """Deprivation summary and approved asset count per area, with boundaries (EPSG:27700).

        Returns
        -------
        GeoDataFrame
            ``code``, ``name``, ``geometry``, the columns of
            :func:`assetmap.analysis.deprivation.summarise_deprivation`, and ``n_assets``.
        """
        if "area_summary" not in self._cache:
            from assetmap.analysis.deprivation import summarise_deprivation

            summary = summarise_deprivation(
                self.deprivation, self.lookup, by="area", names=self.boundaries[["code", "name"]]
            ).drop(columns=["name"], errors="ignore")
            counts = self.approved_assets().groupby("area_code").size().rename("n_assets")
            out = self.boundaries.merge(summary, on="code", how="left")
            out["n_assets"] = out["code"].map(counts).fillna(0).astype(int)
            self._cache["area_summary"] = out
        return self._cache["area_summary"].copy()

    # -- coverage and gaps: thin methods over assetmap.area.coverage ------------------------------

    def walk_graph(self) -> WalkGraph | None:
        """Return the street network prepared for shortest paths (built once); None where there is none."""
        from assetmap.area.coverage import walk_graph

        return walk_graph(self)

    def access(self, *, include_stale: bool = True, network: bool = True, limit: float | None = None) -> AccessResult:
        """Distances from residents to the nearest approved asset of each group: see :func:`assetmap.area.coverage.area_access`."""
        from assetmap.area.coverage import area_access

        return area_access(self, include_stale=include_stale, network=network, limit=limit)

    def gaps(
        self,
        *,
        threshold: float | None = None,
        thresholds: Iterable[float] | None = None,
        by: str = "area",
        groups: Iterable[str] | None = None,
        include_stale: bool = True,
        network: bool = True,
        audience: str | None = None,
    ) -> GapAnalysis:
        """Gap table and method note per ward or LSOA: see :func:`assetmap.area.coverage.analyse_gaps`."""
        from assetmap.area.coverage import analyse_gaps

        return analyse_gaps(
            self,
            threshold=threshold,
            thresholds=thresholds,
            by=by,
            groups=groups,
            include_stale=include_stale,
            network=network,
            audience=audience,
        )

    def what_if(
        self,
        points: object,
        group: str,
        *,
        threshold: float | None = None,
        include_stale: bool = True,
        network: bool = True,
    ) -> WhatIf:
        """Change in reach if assets of ``group`` opened at ``points``: see :func:`assetmap.area.coverage.area_what_if`."""
        from assetmap.area.coverage import area_what_if

        return area_what_if(self, points, group, threshold=threshold, include_stale=include_stale, network=network)

    def suggest_sites(
        self,
        group: str,
        k: int,
        *,
        candidates: object | None = None,
        threshold: float | None = None,
        include_stale: bool = True,
        network: bool = True,
        method: str = "greedy",
    ) -> gpd.GeoDataFrame:
        """Greedy or exact choice of ``k`` sites: see :func:`assetmap.area.sites.area_suggest_sites`."""
        from assetmap.area.sites import area_suggest_sites

        return area_suggest_sites(
            self,
            group,
            k,
            candidates=candidates,
            threshold=threshold,
            include_stale=include_stale,
            network=network,
            method=method,
        )

    def network_bounds(self) -> tuple[float, float, float, float]:
        """Return ``(minx, miny, maxx, maxy)`` of the streets the area needs: its wards and LSOAs and a buffer.

        The buffer is the furthest walk searched (:data:`~assetmap.analysis.groups.MAX_THRESHOLD_M`) or the
        asset buffer if wider, so a street network of a whole county gives the same walks as one of the area.
        """
        buffer = max(MAX_THRESHOLD_M, float(self.asset_buffer_m))
        minx, miny, maxx, maxy = self.boundaries.total_bounds
        if len(self.small_areas):
            sminx, sminy, smaxx, smaxy = self.small_areas.total_bounds
            minx, miny, maxx, maxy = min(minx, sminx), min(miny, sminy), max(maxx, smaxx), max(maxy, smaxy)
        return (float(minx - buffer), float(miny - buffer), float(maxx + buffer), float(maxy + buffer))

    def network(self) -> nx.MultiDiGraph | None:
        """Return the street network in EPSG:27700, within :meth:`network_bounds`, read on first use; None without."""
        if self.network_path is None:
            return None
        path = self.network_path
        return self.memo("network", lambda: read_network(path, clip=self.network_bounds()))


# -- manifest -------------------------------------------------------------------------


def load_area(
    path: str | Path, *, taxonomy: Taxonomy | None = None, register: bool = True, manifest: dict[str, Any] | None = None
) -> Area:
    """Load an area folder: every layer read, checked and put in EPSG:27700.

    Parameters
    ----------
    path : str or Path
        Folder with an ``area.toml`` manifest.
    taxonomy : Taxonomy, optional
        Asset types and elements (default: the area's own, where ``[area] taxonomy``
        names a file, else the shipped taxonomy).
    register : bool, default True
        Add the approved records of the area's register. False leaves the register
        unread (for a page that must work while the register cannot be reached).
    manifest : dict, optional
        The manifest's contents, read in place of ``area.toml``: a change is checked
        this way before the file is written.

    Returns
    -------
    Area
        ``notes`` lists what was repaired or assumed on the way in.

    Raises
    ------
    AreaError, DataFormatError, CRSError, ValidationError
        With a message naming the file and what to do.
    """
    root = Path(path)
    data = read_manifest(root) if manifest is None else manifest
    meta = data.get("area", {})
    layers = data["layers"]
    if taxonomy is None and meta.get("taxonomy"):
        taxonomy = area_taxonomy(root)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AssetMapWarning)
        area = _load_layers(root, meta, layers, taxonomy, register=register)
    for w in caught:
        if issubclass(w.category, AssetMapWarning):
            area.notes.append(str(w.message))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return area


def _load_layers(
    root: Path, meta: dict[str, Any], layers: dict[str, Any], taxonomy: Taxonomy | None, *, register: bool = True
) -> Area:
    notes: list[str] = []
    vintages: dict[str, str] = {}
    boundaries, small_areas = read_polygons(root, layers, vintages)
    deprivation = read_deprivation_layer(root, layers, small_areas, vintages)
    lookup = read_lookup_layer(root, layers, (boundaries, small_areas), deprivation, notes, vintages)
    note_uncounted(lookup, deprivation, notes)
    lookup = lookup.reset_index(drop=True)

    postcodes = None
    if "postcodes" in layers:
        spec = layers["postcodes"]
        postcodes = read_postcodes(layer_path(root, spec, "postcodes"))
        vintages["postcodes"] = spec.get("vintage", Path(spec["path"]).name)

    grants_path = None
    if "grants" in layers:
        grants_path = layer_path(root, layers["grants"], "grants")
        vintages["grants"] = layers["grants"].get("vintage", grants_path.name)

    network_path = network_source = None
    if "network" in layers:
        network_path = layer_path(root, layers["network"], "network")
        kind = network_format(network_path)
        network_source = layers["network"].get("source", "osm" if kind in ("osm", "pbf") else None)
        vintages["network"] = layers["network"].get("vintage", network_path.name)

    asset_specs = layers.get("assets", [])
    if isinstance(asset_specs, dict):
        asset_specs = [asset_specs]
    frames = [read_asset_file(root, spec, postcodes, taxonomy) for spec in asset_specs]
    from assetmap.area.register import register_assets
    from assetmap.store import REGISTER_FILE

    buffer_m = _asset_buffer(root, meta)
    # Approved records of <area>/register.sqlite, or of the shared register in this area and its buffer.
    records = register_assets(root, taxonomy=taxonomy, boundaries=boundaries, buffer_m=buffer_m) if register else None
    if records is not None and len(records):
        frames.append(records)
        vintages["register"] = f"{REGISTER_FILE}: {len(records)} approved records"
    as_of = _as_of(root, meta)
    name = str(meta.get("name", root.name))
    assets, left_out = _combine_assets(frames, boundaries, notes, as_of, buffer_m=buffer_m, name=name)
    if asset_specs:
        vintages["assets"] = "; ".join(s.get("vintage", Path(s["path"]).name) for s in asset_specs)

    return Area(
        name=name,
        code=meta.get("code"),
        fictional=bool(meta.get("fictional", False)),
        unit_label=_unit_label(root, meta),
        boundaries=boundaries,
        small_areas=small_areas,
        deprivation=deprivation,
        lookup=lookup,
        assets=assets,
        postcodes=postcodes,
        network_path=network_path,
        network_source=network_source,
        grants_path=grants_path,
        path=root,
        as_of=as_of,
        vintages=vintages,
        notes=notes,
        asset_buffer_m=buffer_m,
        assets_left_out=left_out,
    )


def _as_of(root: Path, meta: dict[str, Any]) -> date:
    """Return the manifest's ``as_of`` date (default today); a value that is not a date is an error."""
    as_of = meta.get("as_of", date.today())
    if isinstance(as_of, str):
        try:
            as_of = date.fromisoformat(as_of)
        except ValueError as exc:
            raise AreaError(f"{root / MANIFEST}: as_of '{as_of}' is not a date. Write it as YYYY-MM-DD.") from exc
    return as_of


def read_unit_label(path: str | Path) -> UnitLabel:
    """Return what an area folder's manifest calls its boundaries, without loading the area.

    Raises
    ------
    AreaError
        No manifest, or a label that is blank or not text.
    """
    root = Path(path)
    return _unit_label(root, read_manifest(root).get("area", {}))


def _unit_label(root: Path, meta: dict[str, Any]) -> UnitLabel:
    """Return what the manifest calls the boundaries (``boundary_label``, default "Wards")."""
    plural, singular = meta.get("boundary_label"), meta.get("boundary_label_singular")
    for key, value in (("boundary_label", plural), ("boundary_label_singular", singular)):
        if value is not None and not isinstance(value, str):
            raise AreaError(f'{root / MANIFEST}: {key} is not text. Write it in quotes, e.g. {key} = "Localities".')
    try:
        return UnitLabel.of(plural, singular)
    except AreaError as exc:
        raise AreaError(f"{root / MANIFEST}: {exc}") from exc


def _asset_buffer(root: Path, meta: dict[str, Any]) -> float:
    """Return the area's border buffer in metres: its manifest's ``asset_buffer_m``, else the setting."""
    if "asset_buffer_m" in meta:
        return check_buffer_m(meta["asset_buffer_m"], field="asset_buffer_m", file=str(root / MANIFEST))
    return check_buffer_m(settings.asset_buffer_m, field="ASSETMAP_ASSET_BUFFER_M")


def _records(n: int) -> str:
    return f"{n:,} record lies" if n == 1 else f"{n:,} records lie"


def _empty_assets() -> gpd.GeoDataFrame:
    cols = {
        **dict.fromkeys(FIELDS),
        "pillars": None,
        "location_method": None,
        "row": None,
        "file": None,
        "area_code": None,
        "area_name": None,
    }
    return gpd.GeoDataFrame(
        {c: pd.Series(dtype=object) for c in cols}, geometry=gpd.GeoSeries([], crs=settings.analysis_crs)
    )


def _combine_assets(
    frames: list[gpd.GeoDataFrame],
    boundaries: gpd.GeoDataFrame,
    notes: list[str],
    as_of: date,
    *,
    buffer_m: float,
    name: str,
) -> tuple[gpd.GeoDataFrame, int]:
    """Return the area's assets, each with its ward, and how many lay beyond the buffer (left out)."""
    if not frames:
        return _empty_assets(), 0
    assets = pd.concat(frames, ignore_index=True)
    dup_ids = assets["asset_id"].duplicated(keep=False)
    if dup_ids.any():
        ids = sorted(assets.loc[dup_ids, "asset_id"].unique())[:10]
        raise ValidationError(
            Problem(
                f"asset ids {ids} appear in more than one register file.",
                fix="Give every record its own id across the files.",
            )
        )
    assets = gpd.GeoDataFrame(assets, geometry="geometry", crs=settings.analysis_crs)
    placed = place_points(assets, boundaries, buffer_m)
    far = placed["extent"].eq(OUTSIDE).to_numpy()
    # A region-wide register would otherwise put its every asset on this area's map: one line says so.
    if far.any():
        notes.append(f"{_records(int(far.sum()))} outside {name} and {distance_words(buffer_m)} around it: left out.")
    assets = assets.loc[~far].reset_index(drop=True)
    assets[["area_code", "area_name"]] = placed.loc[~far, ["area_code", "area_name"]].to_numpy()
    for column in ("area_code", "area_name"):
        assets[column] = assets[column].astype("string")
    beyond = int(assets["area_code"].isna().sum())
    if beyond:
        notes.append(
            f"{_records(beyond)} beyond the boundary, within {distance_words(buffer_m)}: counted for residents' "
            "walking access, in no ward."
        )
    dups = flag_duplicates(assets)
    if len(dups):
        names = assets.set_index("asset_id").loc[dups["asset_id"], "name"].tolist()
        notes.append(
            f"{len(dups)} records look like duplicates of others ({', '.join(names[:5])}); "
            "review them before relying on counts."
        )
    stale = stale_mask(assets, as_of=as_of)
    if stale.any():
        notes.append(
            f"{int(stale.sum())} records were last confirmed (or changed by an officer) more than "
            f"{settings.stale_after_days} days before {as_of.isoformat()}."
        )
    return assets, int(far.sum())
