"""Labels on the printed map that never overlap: asset numbers (with leader lines), street and place names.

Placement works on the page in millimetres. Every label placed, every asset symbol and the map's furniture
(scale bar, north arrow) is an obstacle held in a grid of cells, so checking a candidate box looks only at
the cells it covers: the work grows with the number of labels, not with its square. Each label tries
positions round its point, nearest first, and takes the first free one; a label set away from its point
gets a leader line back to it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in mm on the page


class Occupied:
    """Boxes already taken on the page, in a grid of ``cell`` mm for quick lookup."""

    def __init__(self, cell: float = 5.0) -> None:
        self.cell = cell
        self.boxes: list[Box] = []
        self._grid: defaultdict[tuple[int, int], list[int]] = defaultdict(list)

    def _cells(self, box: Box) -> Iterator[tuple[int, int]]:
        c = self.cell
        for i in range(math.floor(box[0] / c), math.floor(box[2] / c) + 1):
            for j in range(math.floor(box[1] / c), math.floor(box[3] / c) + 1):
                yield i, j

    def free(self, box: Box) -> bool:
        """Return True where ``box`` overlaps no box taken."""
        for key in self._cells(box):
            for k in self._grid.get(key, ()):
                o = self.boxes[k]
                if box[0] < o[2] and o[0] < box[2] and box[1] < o[3] and o[1] < box[3]:
                    return False
        return True

    def add(self, box: Box) -> None:
        """Take ``box``."""
        k = len(self.boxes)
        self.boxes.append(box)
        for key in self._cells(box):
            self._grid[key].append(k)


@dataclass(frozen=True)
class Placed:
    """A label put on the page: its box (mm) and whether it needs a leader line to its point."""

    box: Box
    leader: bool


def _candidates(px: float, py: float, w: float, h: float, gap: float, rings: int) -> Iterator[tuple[Box, bool]]:
    """Yield boxes of ``w`` x ``h`` round (px, py), nearest first: 8 beside it, then rings further out."""
    step = max(h, 2.0)
    for k in range(rings):
        d = gap + k * step
        n = 8 + 4 * k
        for m in range(n):
            # East first, then alternately above and below: a reader looks right of a symbol first.
            a = (m + 1) // 2 * (2 * math.pi / n) * (1 if m % 2 else -1)
            ca, sa = math.cos(a), math.sin(a)
            cx = px + ca * (d + w / 2) if abs(ca) > 1e-9 else px
            cy = py + sa * (d + h / 2) if abs(sa) > 1e-9 else py
            yield (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), k > 0


def place_labels(
    points: np.ndarray,
    sizes: Sequence[tuple[float, float]],
    frame: Box,
    occupied: Occupied,
    *,
    gap: float,
    rings: int = 14,
) -> list[Placed | None]:
    """Put a box of each size beside its point, never over another box; return each one's place.

    Parameters
    ----------
    points : ndarray
        (n, 2) positions on the page, mm.
    sizes : sequence of (width, height)
        Each label's box, mm.
    frame : Box
        Boxes stay inside it.
    occupied : Occupied
        Obstacles; every box placed is added to it.
    gap : float
        Distance from a point to its nearest label, mm.
    rings : int
        How far out to look (rings of positions); a label with no free place in them is left out (None).

    Returns
    -------
    list of Placed or None
        In the order of ``points``.
    """
    out: list[Placed | None] = [None] * len(points)
    # Crowded points first: they have the fewest free places near them (counted in the grid, not pairwise).
    cell = np.floor(points / 10.0).astype(np.int64) if len(points) else np.empty((0, 2), np.int64)
    _, inverse, counts = np.unique(cell, axis=0, return_inverse=True, return_counts=True)
    order = np.argsort(-counts[inverse.ravel()], kind="stable")
    for i in order:
        w, h = sizes[i]
        for box, leader in _candidates(float(points[i, 0]), float(points[i, 1]), w, h, gap, rings):
            if box[0] < frame[0] or box[1] < frame[1] or box[2] > frame[2] or box[3] > frame[3]:
                continue
            if occupied.free(box):
                occupied.add(box)
                out[i] = Placed(box, leader)
                break
    return out


def leader_end(px: float, py: float, box: Box) -> tuple[float, float]:
    """Return the point of ``box`` nearest (px, py): where a leader line from the point meets the label."""
    return min(max(px, box[0]), box[2]), min(max(py, box[1]), box[3])


def rotated_extent(cx: float, cy: float, w: float, h: float, angle_deg: float) -> Box:
    """Return the upright box holding a ``w`` x ``h`` box centred at (cx, cy) turned by ``angle_deg``."""
    a = math.radians(angle_deg)
    ew = abs(w * math.cos(a)) + abs(h * math.sin(a))
    eh = abs(w * math.sin(a)) + abs(h * math.cos(a))
    return cx - ew / 2, cy - eh / 2, cx + ew / 2, cy + eh / 2
