"""Text on the printed page: the font, characters it can draw, widths for wrapping, and writing at a place."""

from __future__ import annotations

import math
import re
import unicodedata
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib import font_manager, ft2font
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font

if TYPE_CHECKING:
    from assetmap.render.printmap.layout import PageLayout

#: Font of every word on the page: it ships with matplotlib and covers most scripts.
FONT_FAMILY: str = "DejaVu Sans"

#: Shown in place of characters the font cannot draw (emoji and the like).
PLACEHOLDER: str = "\u25a1"

#: Most lines one cell of the asset index may take; a longer text ends with an ellipsis.
MAX_CELL_LINES: int = 12

#: Smallest text on a page at A4, in points; every size scales with the sheet, so A3 text is at least 10 pt.
MIN_PT: float = 7.1

#: Size of a map page's title at A4, in points (28 at A3).
TITLE_PT: float = 20.0

#: Points per millimetre.
PT_PER_MM = 72.0 / 25.4
#: Colours of body text, of quieter text and of rules.
INK = "#1a1a1a"
MUTED = "#555555"
RULE = "#bdbdbd"
# Unhinted advances scale linearly with the size (the enum is new in matplotlib 3.10).
_NO_HINTING = ft2font.LoadFlags.NO_HINTING if hasattr(ft2font, "LoadFlags") else ft2font.LOAD_NO_HINTING  # type: ignore[attr-defined]  # before 3.10
# Characters that take no space and mean nothing without the emoji around them.
_INVISIBLE = re.compile("[\u200b-\u200f\u2060-\u2064\ufe00-\ufe0f\U000e0000-\U000e007f]")


@lru_cache(maxsize=2)
def _font_file(bold: bool) -> str:
    props = font_manager.FontProperties(family=FONT_FAMILY, weight="bold" if bold else "normal")
    return font_manager.findfont(props, fallback_to_default=True)


@lru_cache(maxsize=1)
def _charmap() -> frozenset[int]:
    return frozenset(FT2Font(_font_file(False)).get_charmap())


def _advances(bold: bool, chars: str) -> dict[str, float]:
    """Return each character's advance at 1 point, in points (a fresh FreeType object: they are not thread-safe)."""
    font = FT2Font(_font_file(bold))
    font.set_size(100.0, 72)
    out = {}
    for ch in chars:
        glyph = font.load_char(ord(ch), flags=_NO_HINTING)
        out[ch] = glyph.linearHoriAdvance / 65536.0 / 100.0
    return out


def clean_text(value: object) -> str:
    """Return ``value`` as one line of text the print font can draw.

    Control characters and line breaks become spaces, invisible joiners and emoji variation
    selectors go, and each run of characters the font lacks (emoji, for instance) becomes
    one visible :data:`PLACEHOLDER`, so nothing vanishes silently and no glyph warning is raised.

    Parameters
    ----------
    value : object
        Any value; None and NaN give an empty string.

    Returns
    -------
    str
    """
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = unicodedata.normalize("NFC", str(value))
    text = _INVISIBLE.sub("", text)
    known = _charmap()
    out: list[str] = []
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Zl", "Zp") or ch in "\t\r\n":
            ch = " "
        elif unicodedata.category(ch) == "Cf":
            continue
        elif ord(ch) not in known and not ch.isspace():
            if out and out[-1] == PLACEHOLDER:
                continue
            ch = PLACEHOLDER
        out.append(ch)
    return " ".join("".join(out).split())


class Measure:
    """Widths of text in the print font, for wrapping.

    A width is the sum of the characters' advances (DejaVu Sans has little kerning, and the
    columns keep a margin), which is far quicker than laying out each trial line.
    """

    def __init__(self) -> None:
        self._advance: dict[bool, dict[str, float]] = {False: {}, True: {}}

    def width(self, text: str, size: float, bold: bool = False) -> float:
        """Return the width of ``text`` in points at ``size`` points."""
        table = self._advance[bold]
        missing = [ch for ch in set(text) if ch not in table]
        if missing:
            table.update(_advances(bold, "".join(sorted(missing))))
        return size * sum(table[ch] for ch in text)

    def wrap(
        self, text: str, width_pt: float, size: float, *, bold: bool = False, max_lines: int = MAX_CELL_LINES
    ) -> list[str]:
        """Break ``text`` into lines no wider than ``width_pt``, splitting words too long for a line.

        More than ``max_lines`` lines end with an ellipsis on the last.
        """
        words = [w for w in text.split(" ") if w]  # no-break spaces hold their words together
        if not words:
            return [""]
        lines: list[str] = []
        line = ""
        for word in words:
            trial = f"{line} {word}" if line else word
            if self.width(trial, size, bold) <= width_pt:
                line = trial
                continue
            if line:
                lines.append(line)
            line = ""
            # A word wider than the column is cut wherever it reaches the edge.
            while self.width(word, size, bold) > width_pt and len(word) > 1:
                cut = self._fit(word, width_pt, size, bold)
                lines.append(word[:cut])
                word = word[cut:]
            line = word
        lines.append(line)
        if len(lines) > max_lines:
            last = lines[max_lines - 1]
            while last and self.width(last + "\u2026", size, bold) > width_pt:
                last = last[:-1]
            lines = [*lines[: max_lines - 1], last + "\u2026"]
        return lines

    def _fit(self, word: str, width_pt: float, size: float, bold: bool) -> int:
        lo, hi = 1, len(word)
        while lo < hi:  # the longest prefix that fits, at least one character
            mid = (lo + hi + 1) // 2
            if self.width(word[:mid], size, bold) <= width_pt:
                lo = mid
            else:
                hi = mid - 1
        return lo


def fmt_value(value: float, fmt: str) -> str:
    """Return a number in ``fmt``, or "not available" for a missing one."""
    return "not available" if value is None or not np.isfinite(value) else format(value, fmt)


def put_text(fig: Figure, layout: PageLayout, x: float, y: float, s: str, size: float, **kwargs: Any) -> Any:
    """Write ``s`` at (x, y) millimetres, at least :data:`MIN_PT` at A4; user text is never parsed as maths."""
    kwargs.setdefault("color", INK)
    return fig.text(
        x / layout.width,
        y / layout.height,
        s,
        fontsize=max(size, MIN_PT) * layout.font_scale,
        fontfamily=FONT_FAMILY,
        parse_math=False,
        **kwargs,
    )
