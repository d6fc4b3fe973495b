"""Optimal sites: the exact maximal covering location model, beside the greedy choice.

:func:`assetmap.analysis.scenario.suggest_sites` chooses sites one at a time. The
maximal covering location problem (MCLP; Church and ReVelle, 1974) asks for the
``k`` candidates that together bring the most deprived residents within reach:

    maximise   sum_i w_i y_i
    subject to y_i <= sum_{j covers i} x_j   for each resident point i
               sum_j x_j = k,   x_j in {0, 1},   0 <= y_i <= 1

with ``w_i`` the residents of IMD deciles 1 and 2 at point ``i`` not yet within
reach, the weights of the greedy choice. It is solved as an integer programme with
the CBC solver that PuLP ships. Resident points reached by the same candidates are
merged first (their weights add), which keeps the model small. Where CBC does not
prove the optimum within the time limit, the greedy choice is kept and the note says
so.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from assetmap._errors import Problem, ValidationError
from assetmap.analysis.access import AccessResult
from assetmap.analysis.walkgraph import WalkGraph

#: Seconds CBC may take before the greedy choice is kept instead.
DEFAULT_TIME_LIMIT_S: float = 60.0


@dataclass(frozen=True)
class Cover:
    """Which residents each candidate brings within reach, and what each resident weighs.

    ``covered[j]`` holds the resident rows candidate ``j`` reaches; ``weight`` the deprived residents of
    each row not yet within reach (0 for the others).
    """

    covered: list[np.ndarray]
    weight: np.ndarray


@dataclass(frozen=True)
class Solution:
    """A set of chosen candidates, what it covers, and how it was found."""

    chosen: tuple[int, ...]
    covered_weight: float
    status: str  # "optimal", "greedy (time limit)", "greedy"
    seconds: float


def greedy_cover(cover: Cover, k: int) -> Solution:
    """Choose up to ``k`` candidates one at a time, each adding the most weight not yet covered."""
    start = time.perf_counter()
    remaining = cover.weight > 0
    chosen: list[int] = []
    total = 0.0
    for _ in range(k):
        gains = np.array([cover.weight[c][remaining[c]].sum() for c in cover.covered])
        best = int(np.argmax(gains)) if len(gains) else -1
        if best < 0 or gains[best] <= 0:
            break
        chosen.append(best)
        total += float(gains[best])
        remaining[cover.covered[best]] = False
    return Solution(tuple(chosen), total, "greedy", time.perf_counter() - start)


def _merged_rows(cover: Cover) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Return (row x candidate) incidence of the weighted residents, rows with the same candidates merged."""
    n_res, n_cand = len(cover.weight), len(cover.covered)
    rows = np.concatenate([np.asarray(c, dtype=np.int64) for c in cover.covered] or [np.zeros(0, np.int64)])
    cols = np.repeat(np.arange(n_cand), [len(c) for c in cover.covered])
    matrix = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_res, n_cand))
    keep = np.flatnonzero((cover.weight > 0) & (np.diff(matrix.indptr) > 0))
    groups: dict[bytes, int] = {}
    weights: list[float] = []
    first: list[int] = []
    for i in keep:
        key = matrix.indices[matrix.indptr[i] : matrix.indptr[i + 1]].tobytes()
        if key in groups:
            weights[groups[key]] += float(cover.weight[i])
        else:
            groups[key] = len(first)
            first.append(int(i))
            weights.append(float(cover.weight[i]))
    return matrix[first], np.asarray(weights)


def exact_cover(cover: Cover, k: int, *, time_limit_s: float = DEFAULT_TIME_LIMIT_S) -> Solution:
    """Solve the maximal covering location problem for ``k`` candidates with CBC; greedy where it runs out of time.

    Parameters
    ----------
    cover : Cover
        Candidates' coverage and residents' weights.
    k : int
        Number of sites; fewer are chosen where fewer cover anyone weighted.
    time_limit_s : float
        Seconds CBC may take. Where it has not proved the optimum by then, the greedy choice is returned
        with status ``greedy (time limit)``.
    """
    import pulp

    start = time.perf_counter()
    incidence, weights = _merged_rows(cover)
    useful = np.flatnonzero(np.diff(incidence.tocsc().indptr) > 0)  # candidates that reach anyone weighted
    if len(weights) == 0:
        return Solution((), 0.0, "optimal", time.perf_counter() - start)
    k = min(int(k), len(useful))
    problem = pulp.LpProblem("mclp", pulp.LpMaximize)
    x = {int(j): problem.add_variable(f"x{j}", cat="Binary") for j in useful}
    y = [problem.add_variable(f"y{i}", lowBound=0, upBound=1) for i in range(len(weights))]
    problem += pulp.lpSum(float(w) * v for w, v in zip(weights, y, strict=True))
    for i, v in enumerate(y):
        problem += v <= pulp.lpSum(x[int(j)] for j in incidence.indices[incidence.indptr[i] : incidence.indptr[i + 1]])
    problem += pulp.lpSum(x.values()) == k
    with warnings.catch_warnings():
        # PuLP 3 calls its bundled CBC deprecated in favour of a separately installed one; the bundled one is used.
        warnings.simplefilter("ignore", DeprecationWarning)
        problem.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=max(1, int(np.ceil(time_limit_s)))))
    seconds = time.perf_counter() - start
    if problem.sol_status != pulp.LpSolutionOptimal:
        fallback = greedy_cover(cover, k)
        return Solution(fallback.chosen, fallback.covered_weight, "greedy (time limit)", seconds)
    chosen = tuple(sorted(j for j, v in x.items() if (v.value() or 0) > 0.5))
    covered = np.zeros(len(cover.weight), dtype=bool)
    for j in chosen:
        covered[cover.covered[j]] = True
    return Solution(chosen, float(cover.weight[covered].sum()), "optimal", seconds)


@dataclass(frozen=True)
class SiteOptions:
    """How sites are chosen beside the access run: threshold, candidates, network and solver time."""

    threshold: float = 800.0
    candidates: pd.DataFrame | None = None
    graph: WalkGraph | None = None
    time_limit_s: float = DEFAULT_TIME_LIMIT_S


def compare_note(optimal: Solution, greedy: Solution, k: int) -> str:
    """Return the plain-English comparison of the exact model with the greedy choice."""
    if optimal.status != "optimal":
        return (
            f"The exact model (maximal covering location, solved with CBC) did not prove its optimum within the "
            f"time limit ({optimal.seconds:,.0f} s), so the greedy choice is shown: it reaches "
            f"{greedy.covered_weight:,.0f} deprived residents and is within about 63% of the best set by construction."
        )
    share = greedy.covered_weight / optimal.covered_weight if optimal.covered_weight > 0 else 1.0
    return (
        f"Sites are the best set of {k} (maximal covering location model, solved exactly with CBC in "
        f"{optimal.seconds:,.1f} s): together they bring {optimal.covered_weight:,.0f} residents of IMD deciles 1 "
        f"and 2 within reach. Choosing one site at a time (greedy) reaches {greedy.covered_weight:,.0f}, "
        f"{share:.1%} of the optimum. The best set depends on the candidates offered: check it on the ground."
    )


def check_k(k: int) -> int:
    """Return ``k`` as an int, refusing a number of sites outside 1 to 50."""
    if not 1 <= int(k) <= 50:
        raise ValidationError(Problem(f"k = {k} sites.", field="k", fix="Ask for between 1 and 50 sites."))
    return int(k)


def cover_from_access(
    access: AccessResult, deprived: np.ndarray, before: np.ndarray, covered: list[np.ndarray], threshold: float
) -> Cover:
    """Return the covering problem of an access run: deprived residents not yet within ``threshold``."""
    return Cover(covered=covered, weight=np.where(before > threshold, deprived, 0.0))
