"""Exact site choice (maximal covering location model) beside the greedy choice."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from assetmap.analysis.sites import Cover, exact_cover, greedy_cover
from assetmap.cli import main


def _cover() -> Cover:
    # Candidate 0 reaches the four residents in the middle (weight 4); candidates 1 and 2 each reach two of
    # them and one resident at an end (weight 1 + 1 + 1.5 = 3.5 each). Greedy takes 0 first (4 > 3.5), then
    # 1 or 2 adds only its end resident: 5.5. The pair 1 and 2 reaches everyone: 7.
    return Cover(
        covered=[np.array([0, 1, 2, 3]), np.array([0, 1, 4]), np.array([2, 3, 5])],
        weight=np.array([1, 1, 1, 1, 1.5, 1.5]),
    )


def test_greedy_is_suboptimal_and_the_exact_model_finds_the_better_pair() -> None:
    greedy = greedy_cover(_cover(), 2)
    assert greedy.chosen == (0, 1) and greedy.covered_weight == pytest.approx(5.5)
    best = exact_cover(_cover(), 2)
    assert best.status == "optimal"
    assert best.chosen == (1, 2) and best.covered_weight == pytest.approx(7.0)


def test_residents_already_reached_weigh_nothing() -> None:
    cover = Cover(covered=[np.array([0]), np.array([1])], weight=np.array([0.0, 2.0]))
    assert exact_cover(cover, 1).chosen == (1,)
    assert exact_cover(Cover([np.array([0])], np.array([0.0])), 1).chosen == ()


def test_time_limit_falls_back_to_greedy_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    import pulp

    def stopped(self: pulp.LpProblem, solver: object = None, **kwargs: object) -> int:
        self.sol_status = pulp.LpSolutionIntegerFeasible  # what CBC reports when the time limit stops it
        return 1

    monkeypatch.setattr(pulp.LpProblem, "solve", stopped)
    result = exact_cover(_cover(), 2, time_limit_s=1)
    assert result.status == "greedy (time limit)" and result.chosen == (0, 1)


def test_demo_optimal_reaches_at_least_greedy(demo) -> None:
    greedy = demo.suggest_sites("e6", 5, candidates="grid")
    best = demo.suggest_sites("e6", 5, method="optimal")
    compared = best.attrs["comparison"]
    assert compared["status"] == "optimal"
    assert best["cumulative_deprived"].iloc[-1] == pytest.approx(compared["optimal_deprived"])
    assert compared["optimal_deprived"] >= greedy["cumulative_deprived"].iloc[-1] - 1e-6
    assert compared["greedy_deprived"] == pytest.approx(greedy["cumulative_deprived"].iloc[-1])
    assert 0 < compared["greedy_share"] <= 1
    assert len(best) == 5 and best["x"].nunique() == 5
    assert f"{compared['greedy_share']:.1%} of the optimum" in best.attrs["note"]


def test_demo_buildings_as_candidates(demo) -> None:
    sites = demo.suggest_sites("e6", 2, method="optimal", candidates="buildings")
    named = set(demo.approved_assets()["name"])
    assert len(sites) >= 1 and set(sites["name"]) <= named


def test_cli_suggest_optimal(tmp_path, capsys) -> None:
    out = tmp_path / "sites.csv"
    assert main(["suggest", "--element", "6", "--k", "3", "--method", "optimal", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "maximal covering location model, solved exactly with CBC" in printed and "of the optimum" in printed
    sites = pd.read_csv(out, encoding="utf-8-sig")
    assert sites["rank"].tolist() == [1, 2, 3] and set(sites["chosen_by"]) == {"optimal"}


def test_cli_unknown_candidates(tmp_path, capsys) -> None:
    code = main(["suggest", "--element", "6", "--candidates", "nowhere.csv", "--out", str(tmp_path / "s.csv")])
    assert code == 2
    assert "nowhere.csv" in capsys.readouterr().err
