"""What every ward's pages share, made once per print job: shading, outlines, streets, the register, the facts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely
from matplotlib.path import Path as MplPath

from assetmap import settings
from assetmap._errors import AssetMapError, Problem, ValidationError
from assetmap.analysis import profile
from assetmap.analysis.gaps import need_percentile
from assetmap.analysis.groups import check_groups, group_label
from assetmap.record import public_records
from assetmap.render import styles
from assetmap.render.printmap.base import Streets, street_base
from assetmap.render.printmap.text import Measure, clean_text
from assetmap.taxonomy import load_taxonomy

if TYPE_CHECKING:
    from pathlib import Path

    from assetmap.area.load import Area

#: What the LSOAs can be shaded by: national IMD decile, or the gap index of one element or pillar.
COLOUR_BY: tuple[str, ...] = ("imd", "gap")

#: Row of the whole area in the table of facts (its other rows are ward codes).
WHOLE_AREA = "__whole_area__"


@dataclass
class PrintLayers:
    """What every ward's pages share, made once per print job by :func:`prepare_print`.

    Attributes
    ----------
    area : Area
        The area printed.
    colour_by : str
        ``imd`` or ``gap``.
    group : str or None
        Element or pillar of the gap shading and of the map's asset filter-free legend title.
    shading : Classification
        Classes and colours of the LSOAs.
    shading_title : str
        Legend title of the LSOA shading.
    lsoa_paths : list of Path
        One matplotlib path per LSOA, in ``area.small_areas`` order.
    lsoa_colours : list of str
        Fill of each LSOA.
    ward_paths : dict
        Ward code to its matplotlib path.
    streets : Streets
        The street base: segments by class, named streets and places, where it comes from and its credit.
    register : Register
        The approved records; each ward's list (:func:`assetmap.analysis.profile.ward_assets` columns plus
        ``main_pillar``, ``pillars``, ``contact``, ``x`` and ``y``, one row per asset) is made on first use.
    coverage : DataFrame or None
        The gap table by ward (None where access cannot be measured).
    access_note : str
        How access was measured, for the facts box.
    printed : date
        Date printed on every page.
    public_url : str or None
        Base address of the app for the QR code.
    without_streets : list of str
        Codes of the wards whose map was drawn with no street base under it (for a warning).
    """

    area: Area
    colour_by: str
    group: str | None
    shading: styles.Classification
    shading_title: str
    lsoa_paths: list[MplPath]
    lsoa_colours: list[str]
    ward_paths: dict[str, MplPath]
    streets: Streets
    register: Register
    coverage: pd.DataFrame | None
    access_note: str
    printed: date
    public_url: str | None
    threshold: float
    facts: pd.DataFrame | None = None
    names: dict[str, str] = field(default_factory=dict)
    measure: Measure = field(default_factory=Measure, repr=False)
    tiles: str | None = None
    tiles_attribution: str | None = None
    tile_failures: list[str] = field(default_factory=list)
    without_streets: list[str] = field(default_factory=list)


def geom_path(geom: Any) -> MplPath:
    """Return a (multi)polygon as one matplotlib path whose holes stay holes."""
    geom = shapely.orient_polygons(geom)
    parts = []
    for poly in shapely.get_parts(geom):
        if poly.is_empty or poly.geom_type != "Polygon":
            continue
        for ring in (poly.exterior, *poly.interiors):
            parts.append(MplPath(np.asarray(ring.coords)[:, :2], closed=True))
    if not parts:
        return MplPath(np.zeros((1, 2)))
    return MplPath.make_compound_path(*parts)


def _contact(record: pd.Series) -> str:
    parts = [clean_text(record.get(k)) for k in ("website", "email", "phone") if k in record.index]
    if len(parts) == 3:
        parts[2] = parts[2].replace(" ", "\u00a0")  # a phone number stays on one line
    return "; ".join(p for p in parts if p)


_ASSET_COLUMNS = [*profile.ASSET_COLUMNS, "main_pillar", "pillars", "contact", "x", "y", "area_code"]


@dataclass
class Register:
    """The approved records, ready to list ward by ward (each ward's list is made when first printed)."""

    public: pd.DataFrame | None
    stale: pd.Series | None
    n_in_wards: int
    by_ward: dict[str, pd.DataFrame] = field(default_factory=dict)


def read_register(area: Area) -> Register:
    """Return the area's approved records, ready to list ward by ward."""
    public = public_records(area.assets)
    if public is None or not len(public) or "area_code" not in public:
        return Register(None, None, 0)
    stale = area.stale_mask() if "last_confirmed" in area.assets else None
    return Register(public, stale, int(public["area_code"].notna().sum()))


def ward_assets(layers: PrintLayers, code: str) -> pd.DataFrame:
    """Return one row per approved asset of a ward, in index order, with what the map and index need."""
    reg = layers.register
    if code in reg.by_ward:
        return reg.by_ward[code]
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in _ASSET_COLUMNS})
    listed = profile.ward_assets(reg.public, code, stale=reg.stale) if reg.public is not None else empty
    if not len(listed):
        reg.by_ward[code] = empty
        return empty
    pillars = listed.groupby("asset_id", sort=False)["pillar"].agg(tuple)
    out = listed.drop_duplicates("asset_id").reset_index(drop=True)
    out["main_pillar"] = out["pillar"]
    out["pillars"] = out["asset_id"].map(pillars)
    out["area_code"] = code
    public = reg.public
    assert public is not None  # a ward lists assets only from a register
    by_id = public.assign(asset_id=public["asset_id"].astype(str)).drop_duplicates("asset_id").set_index("asset_id")
    records = by_id.loc[out["asset_id"]]
    out["contact"] = [_contact(r) for _, r in records.iterrows()]
    xy = shapely.get_coordinates(shapely.point_on_surface(np.asarray(records.geometry.array)))
    out["x"], out["y"] = xy[:, 0], xy[:, 1]
    reg.by_ward[code] = out[_ASSET_COLUMNS]
    return reg.by_ward[code]


def _lsoa_shading(
    area: Area, colour_by: str, group: str | None, threshold: float | None, include_stale: bool
) -> tuple[styles.Classification, str]:
    if colour_by == "imd":
        decile = area.small_areas["code"].map(area.deprivation.set_index("lsoa_code")["imd_decile"])
        edition = area.vintages.get("deprivation", "")
        return styles.classify(decile, scheme="deciles"), f"IMD decile, national ({edition})" if edition else (
            "IMD decile, national"
        )
    from assetmap.render.views import map_layer

    assert group is not None  # prepare_print names a group for gap shading
    layer = map_layer(area, group, threshold=threshold, include_stale=include_stale, by="lsoa")
    values = area.small_areas["code"].map(layer.set_index("code")["gap_index"])
    title = (
        f"Gap index by LSOA, {group_label(group)} (higher: more deprived and fewer residents "
        f"within {layer.attrs['threshold']:,.0f} m)"
    )
    return styles.classify(values, scheme="natural_breaks", k=5, fmt=".2f"), title


def prepare_print(
    area: Area,
    *,
    colour_by: str = "imd",
    group: str | None = None,
    threshold: float | None = None,
    include_stale: bool = True,
    public_url: str | None = None,
    tiles: str | tuple[str, str] | None = None,
    streets: str | Path | None = None,
) -> PrintLayers:
    """Make what every ward's pages share: shading, paths, streets, assets, the gap table.

    Parameters
    ----------
    area : Area
        A loaded area.
    colour_by : {"imd", "gap"}
        Shade LSOAs by national IMD decile, or by the gap index of ``group``.
    group : str, optional
        Element (``e1``..``e11``) or pillar key; needed for ``colour_by="gap"``.
    threshold : float, optional
        Metres counted as within reach (default ``settings.walk_threshold_m``).
    include_stale : bool
        Count records not confirmed recently in access and gaps (they are listed either way).
    public_url : str, optional
        Base address of the app, for a QR code on each map (default ``settings.public_url``; none without one).
    tiles : str or (str, str), optional
        An online tile address such as ``https://tile.openstreetmap.org/{z}/{x}/{y}.png``, or the address and
        its credit, drawn faintly under the map (default: none). The credit is printed in the footer
        (OpenStreetMap's for its tile servers). Where the tiles cannot be fetched the map prints without them
        and its footer says so.
    streets : str or Path, optional
        A streets file for the base (OpenStreetMap ``.osm``/``.osm.pbf``, OS Open Roads or any line layer),
        used before the area's own network (:func:`~assetmap.render.printmap.base.street_base`).

    Returns
    -------
    PrintLayers

    Raises
    ------
    ValidationError
        An unknown ``colour_by`` or group, or ``colour_by="gap"`` without a group.
    AssetMapError
        Where the area's access cannot be measured (for example LSOAs without a population).
    """
    group = _check_shading(colour_by, group)
    url, credit = tiles if isinstance(tiles, tuple) else (tiles, None)
    if url and not credit:
        credit = settings.attribution_osm if "openstreetmap" in url.lower() else f"map tiles from {url.split('/')[2]}"
    shading, title = _lsoa_shading(area, colour_by, group, threshold, include_stale)
    colours = [shading.colour_of(i) for i in range(len(area.small_areas))]
    coverage, note, t = _access(area, threshold, include_stale)
    return PrintLayers(
        area=area,
        colour_by=colour_by,
        group=group,
        shading=shading,
        shading_title=title,
        lsoa_paths=[geom_path(g) for g in area.small_areas.geometry],
        lsoa_colours=colours,
        ward_paths={
            str(c): geom_path(g) for c, g in zip(area.boundaries["code"], area.boundaries.geometry, strict=True)
        },
        streets=street_base(area, streets),
        register=read_register(area),
        coverage=coverage,
        access_note=note,
        printed=date.today(),
        public_url=(public_url if public_url is not None else settings.public_url) or None,
        threshold=t,
        facts=_deprivation_facts(area),
        names={str(c): clean_text(n) for c, n in zip(area.boundaries["code"], area.boundaries["name"], strict=True)},
        tiles=url or None,
        tiles_attribution=credit,
    )


def _check_shading(colour_by: str, group: str | None) -> str | None:
    """Return the checked group of a shading; refuse an unknown shading, or a gap shading without a group."""
    if colour_by not in COLOUR_BY:
        raise ValidationError(
            Problem(
                f"cannot shade by {colour_by!r}.",
                field="colour_by",
                fix="Use --colour-by imd or gap (on the Print page: 'Shade LSOAs by').",
            )
        )
    if group is not None:
        group = check_groups([group], load_taxonomy())[0]
    if colour_by == "gap" and group is None:
        raise ValidationError(
            Problem(
                "shading by gap index needs an element or a pillar.",
                field="group",
                fix="Give group='e6' (an element) or a pillar key such as 'strengthening'.",
            )
        )
    return group


def _access(area: Area, threshold: float | None, include_stale: bool) -> tuple[pd.DataFrame, str, float]:
    """Return the gap table by ward, the facts box's note, and the threshold.

    An area whose access cannot be measured raises: a printed page never carries an error in place of figures.
    """
    gaps = area.gaps(threshold=threshold, include_stale=include_stale)
    how = "walking along streets" if gaps.access.method == "network" else "in a straight line (no street network)"
    note = (
        f"Access: share of residents within {gaps.threshold:,.0f} m of an approved asset serving the pillar, "
        f"measured {how}."
    )
    return gaps.table, note, gaps.threshold


def _deprivation_facts(area: Area) -> pd.DataFrame | None:
    """Return the facts of every ward (index: code) and of the whole area (``__whole_area__``), made at once.

    The same figures as :func:`assetmap.analysis.profile.deprivation_facts` gives ward by ward: the ward deprivation
    summary of the whole area and one national placing of its scores.
    """
    codes = area.boundaries["code"].astype(str).tolist()
    if not codes:
        return None
    try:
        whole = profile.deprivation_facts(area.deprivation, area.lookup, codes[0])["whole_area"]
        summary = area.area_summary()
    except AssetMapError:
        return None
    summary = pd.DataFrame(summary.drop(columns="geometry")).assign(code=lambda f: f["code"].astype(str))
    summary = summary.set_index("code").reindex(codes)
    nan = pd.Series(np.nan, index=summary.index)
    scores = pd.to_numeric(summary.get("avg_score", nan), errors="coerce").to_numpy(dtype="float64")
    ranks = pd.to_numeric(summary.get("avg_rank_where_1_most_deprived", nan), errors="coerce").to_numpy(dtype="float64")
    if np.isfinite(scores).any() or np.isfinite(ranks).any():
        try:
            percentile = need_percentile(scores, area.deprivation, ranks=ranks)
        except AssetMapError:
            percentile = np.full(len(codes), np.nan)
    else:
        percentile = np.full(len(codes), np.nan)
    out = pd.DataFrame(
        {
            "population": pd.to_numeric(summary.get("population", nan), errors="coerce").fillna(0.0),
            "avg_score": scores,
            "need_percentile": percentile,
            "share_pop_decile_1_2": pd.to_numeric(summary.get("share_pop_decile_1_2", nan), errors="coerce"),
        },
        index=summary.index,
    )
    out.loc[WHOLE_AREA] = [whole.get(k, np.nan) for k in out.columns]
    return out
