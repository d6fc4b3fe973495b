"""Measures beyond presence: access for one audience, the capacity score (E2SFCA), and exact site choice.

On the demo borough, warm (street network read and prepared once): ``area.gaps(audience="children")``
(resident points, access, shares, gap table and note redone), and the capacity score of every element
and pillar (``capacity_access`` on the same resident points: every walk within 800 m of each asset,
the two steps, LSOA and ward means), each against ``area.gaps()`` (the presence-based analysis,
redone the same way) in the same run; target within 2x of it.

Exact site choice: a synthetic county of 40,000 resident points (a 20 km square; deprived residents in
40 clusters) and 2,000 candidate sites, straight-line reach 800 m; the maximal covering location model
solved with CBC for k = 5 and 10, against the greedy choice over the same candidates (the baseline),
with the greedy's share of the optimum's coverage printed. Target under 30 s each.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.spatial import cKDTree

from assetmap import Area, load_area, settings
from assetmap.analysis.capacity import CapacityOptions, capacity_access
from assetmap.analysis.groups import group_keys
from assetmap.analysis.sites import Cover, exact_cover, greedy_cover
from assetmap.area.coverage import counted_assets


def _drop(area: Area, kinds: tuple[str, ...]) -> None:
    for key in [k for k in area._cache if isinstance(k, tuple) and k[0] in kinds]:
        del area._cache[key]
    area._cache.pop("area_summary", None)


def _job(area: Area, run: Callable[[], object]) -> Callable[[], object]:
    """Return a job that drops the cached residents, access and summary, then runs ``run``."""

    def job() -> object:
        _drop(area, ("access", "residents"))
        return run()

    return job


def synthetic_cover(n_res: int = 40_000, n_cand: int = 2_000, reach: float = 800.0, seed: int = 19) -> Cover:
    """Return a covering problem: residents in a 20 km square, deprived ones in 40 clusters, random candidates."""
    rng = np.random.default_rng(seed)
    res = rng.uniform(0, 20_000, (n_res, 2))
    centres = rng.uniform(0, 20_000, (40, 2))
    near = np.min(np.hypot(*(res[:, None, :] - centres[None, :, :]).transpose(2, 0, 1)), axis=1)
    weight = np.where(near < 1_200, rng.uniform(20, 60, n_res), 0.0)  # deprived residents per point
    cand = rng.uniform(0, 20_000, (n_cand, 2))
    covered = [np.asarray(ix, dtype=np.int64) for ix in cKDTree(res).query_ball_point(cand, reach)]
    return Cover(covered=covered, weight=weight)


def measures(area: Area, repeat: int, where: str = "") -> list:
    """Audience access and the capacity score (E2SFCA) on ``area``, warm, against its presence-based gaps.

    Parameters
    ----------
    area : Area
        A loaded area (the demo borough, or the synthetic county).
    repeat : int
        Runs of each, taking turns.
    where : str
        Put before each figure's name ("county ").
    """
    from benchmarks.__main__ import Result, interleaved

    graph = area.walk_graph()
    residents, assets = area.access().residents, counted_assets(area)
    keys, options = group_keys(), CapacityOptions(threshold=float(settings.walk_threshold_m))

    def e2sfca() -> object:
        return capacity_access(residents, assets, groups=keys, graph=graph, lookup=area.lookup, options=options)

    seconds = interleaved(
        {
            "gaps": _job(area, lambda: area.gaps()),
            "children": _job(area, lambda: area.gaps(audience="children")),
            "capacity": e2sfca,
        },
        repeat,
    )
    base, label = seconds["gaps"], f"{where}area.gaps(), presence, warm"
    return [
        Result(f'{where}area.gaps(audience="children"), warm', seconds["children"], label, base, "<= 2x"),
        Result(f"{where}capacity score E2SFCA, 15 groups, warm", seconds["capacity"], label, base, "<= 2x"),
    ]


def run(repeat: int) -> list:
    from benchmarks.__main__ import Result, timed

    results = measures(load_area(settings.demo_area_path), repeat)
    cover = synthetic_cover()
    print(
        f"sites: {len(cover.weight):,} resident points ({int((cover.weight > 0).sum()):,} weighted), "
        f"{len(cover.covered):,} candidates, reach 800 m",
        flush=True,
    )
    for k in (5, 10):
        greedy_s = timed(lambda k=k: greedy_cover(cover, k), repeat)
        best = exact_cover(cover, k, time_limit_s=60)
        greedy = greedy_cover(cover, k)
        print(
            f"sites k={k}: optimum {best.covered_weight:,.0f} ({best.status}), greedy {greedy.covered_weight:,.0f}, "
            f"greedy's share {greedy.covered_weight / best.covered_weight:.2%}",
            flush=True,
        )
        results.append(
            Result(
                f"MCLP exact, k={k}, 2,000 candidates (once)", best.seconds, "greedy, same cover", greedy_s, "< 30 s"
            )
        )
    return results
