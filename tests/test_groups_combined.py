"""Several elements and pillars as one group: within reach of an asset of every one ("all") or of any one ("any")."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from assetmap._errors import ValidationError
from assetmap.analysis.access import compute_access
from assetmap.analysis.gaps import GapOptions, gap_table
from assetmap.analysis.groups import (
    check_groups,
    combine_groups,
    group_label,
    group_masks,
    resolve_groups,
)
from assetmap.analysis.note import method_note
from assetmap.analysis.shares import access_shares
from assetmap.taxonomy import load_taxonomy

# Three residents on a line; a Scaling asset (element 1) above the first, a Strengthening asset (element 6)
# above the second. Within 800 m: the first reaches Scaling only, the second Strengthening only, the third
# (halfway, 510 m from each) both.
RESIDENTS = pd.DataFrame(
    {"x": [0.0, 1000.0, 500.0], "y": [0.0, 0.0, 0.0], "population": [10.0, 30.0, 60.0], "lsoa_code": ["L1"] * 3}
)
ASSETS = gpd.GeoDataFrame(
    {"elements": [(1,), (6,)], "area_code": ["A", "A"]},
    geometry=[Point(0, 100), Point(1000, 100)],
    crs="EPSG:27700",
)
GROUPS = ["scaling", "strengthening", "scaling&strengthening", "scaling|strengthening"]


def _shares(distance: pd.DataFrame) -> dict[str, float]:
    shares = access_shares(RESIDENTS, distance, thresholds=[800], by="lsoa")
    return shares.set_index("group")["share_within_800m"].to_dict()


def test_combined_key_is_canonical_and_labelled():
    assert combine_groups(["strengthening", "scaling"]) == "scaling&strengthening"
    assert combine_groups(["strengthening", "scaling"], "any") == "scaling|strengthening"
    assert combine_groups(["e6"]) == "e6"
    assert check_groups(["strengthening&scaling"], load_taxonomy()) == ["scaling&strengthening"]
    assert group_label("scaling&strengthening") == "Scaling and Strengthening (both within reach)"
    assert group_label("scaling|strengthening") == "Scaling or Strengthening (either within reach)"
    # Served by every asset serving a part.
    assert group_masks(["scaling&strengthening"])[0] == group_masks(["scaling", "strengthening"]).sum()


@pytest.mark.parametrize("bad", ["scaling&", "scaling&scaling", "scaling&e99", "e1&e2|e3", "scaling&&e6"])
def test_bad_combinations_are_refused_with_the_fix(bad):
    with pytest.raises(ValidationError, match="joined by &"):
        check_groups([bad], load_taxonomy())


def test_combine_must_be_all_or_any():
    with pytest.raises(ValidationError, match="all or any"):
        combine_groups(["scaling", "e6"], "both")
    with pytest.raises(ValidationError, match="--combine all or any"):
        resolve_groups(pillar=["scaling"], element=[6], combine="both")


def test_resolve_groups_takes_several_elements_and_pillars():
    assert resolve_groups(pillar=["Strengthening", "scaling"]) == ["scaling&strengthening"]
    assert resolve_groups(element=["6", 1], combine="any") == ["e1|e6"]
    assert resolve_groups(element=6, pillar="scaling") == ["e6&scaling"]
    assert resolve_groups(pillar=["scaling"]) == ["scaling"]


def test_a_resident_near_a_scaling_asset_only_counts_for_any_not_all():
    access = compute_access(RESIDENTS, ASSETS, groups=GROUPS, limit=1200)
    d = access.distance
    assert d["scaling&strengthening"].to_numpy() == pytest.approx(np.hypot([1000, 1000, 500], 100))
    assert d["scaling|strengthening"].to_numpy() == pytest.approx([100, 100, np.hypot(500, 100)])
    shares = _shares(d)
    assert shares["scaling"] == pytest.approx(0.7)  # residents 1 and 3
    assert shares["strengthening"] == pytest.approx(0.9)  # residents 2 and 3
    assert shares["scaling&strengthening"] == pytest.approx(0.6)  # resident 3 alone
    assert shares["scaling|strengthening"] == pytest.approx(1.0)
    # Each asset serving a part counts once.
    assert access.n_assets["scaling&strengthening"] == access.n_assets["scaling|strengthening"] == 2
    assert list(access.distance.columns) == GROUPS


def test_all_with_a_part_no_asset_serves_reaches_nobody():
    access = compute_access(RESIDENTS, ASSETS, groups=["scaling&involving", "scaling|involving"], limit=1200)
    shares = _shares(access.distance)
    assert shares["scaling&involving"] == 0
    assert shares["scaling|involving"] == pytest.approx(0.7)
    summary = pd.DataFrame({"code": ["L1"], "population": [100.0], "avg_score": [40.0]})
    dep = pd.DataFrame({"lsoa_code": ["L1"], "imd_score": [40.0], "imd_rank": [3000], "population": [100.0]})
    table = gap_table(
        summary,
        access_shares(RESIDENTS, access.distance, thresholds=[800], by="lsoa"),
        ASSETS.assign(lsoa_code="L1"),
        deprivation=dep,
        by="lsoa",
        options=GapOptions(threshold=800, groups=["scaling&involving", "scaling|involving"], n_national=33_755),
    )
    rows = table[~table["whole_area"]].set_index("group")
    # The Scaling asset is counted, yet nobody can be within reach of an Involving one.
    assert rows.loc["scaling&involving", "n_assets"] == 1
    assert bool(rows.loc["scaling&involving", "no_assets"])
    assert not bool(rows.loc["scaling|involving", "no_assets"])


def test_the_method_note_states_the_rule():
    note = method_note(
        method="straight-line",
        threshold=800,
        thresholds=[800],
        include_stale=True,
        vintages={},
        n_assets={"scaling&strengthening": 2, "scaling|strengthening": 2, "all": 2},
    )
    assert "only when an asset of each of them is within reach" in note
    assert "when an asset of at least one of them is within reach" in note
    assert "distinct assets serving at least one" in note


def test_demo_combination_lies_between_its_parts(demo):
    keys = ["scaling", "strengthening", "scaling&strengthening", "scaling|strengthening"]
    table = demo.gaps(groups=keys).table
    whole = table[table["whole_area"]].set_index("group")
    share = whole["access_share"]
    assert share["scaling&strengthening"] <= min(share["scaling"], share["strengthening"])
    assert share["scaling|strengthening"] >= max(share["scaling"], share["strengthening"])
    # Counted once each: no more than the two counts added, no fewer than the larger.
    n = whole["n_assets"]
    assert max(n["scaling"], n["strengthening"]) <= n["scaling&strengthening"] <= n["scaling"] + n["strengthening"]
    # A what-if and a suggestion take the combination unchanged.
    site = table[~table["whole_area"]].sort_values("gap_rank").geometry.iloc[0].representative_point()
    change = demo.what_if([(site.x, site.y)], "strengthening&scaling")
    assert change.newly_reached >= 0 and (change.by_area["gap_change"] <= 1e-12).all()
    chosen = demo.suggest_sites("scaling&strengthening", 2)
    assert set(chosen["group"]) == {"scaling&strengthening"}
