"""The web map's legend: the shading's classes or bivariate key, the catchment, the pillars, and notes."""

from __future__ import annotations

from collections.abc import Sequence

from branca.element import MacroElement
from jinja2 import Template

from assetmap.render import styles
from assetmap.render.webmap.layers import CATCHMENT_COLOUR
from assetmap.render.webmap.points import pillar_symbol_img
from assetmap.render.webmap.safe import safe_text


def _luminance(colour: str) -> float:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def legend_html(
    classification: styles.Classification,
    title: str,
    *,
    pillars: Sequence[tuple[str, str, int]] = (),
    note: str | None = None,
    fictional: bool = False,
    catchment: str | None = None,
) -> str:
    """Return the map legend as an HTML block with every text escaped.

    Parameters
    ----------
    classification : Classification
        The area shading, from :func:`assetmap.render.styles.classify`.
    title : str
        What the shading shows.
    pillars : sequence of (key, name, count)
        Pillars drawn as points, with the number of points serving each.
    note : str, optional
        A line under the legend (assets not drawn, and why).
    fictional : bool, default False
        Say in the legend that the data is invented.
    catchment : str, optional
        What the catchment shading shows, when the map has one.

    Returns
    -------
    str
    """
    parts = [
        '<div class="am-legend" role="region" aria-label="Map legend" style="background:rgba(255,255,255,0.94);'
        "color:#111;padding:6px 10px;border:1px solid #777;border-radius:4px;font:12px/1.3 sans-serif;"
        'max-width:230px;max-height:45vh;overflow-y:auto"><details open>'
        '<summary style="cursor:pointer;font-weight:bold">Legend</summary>'
    ]
    if fictional:
        parts.append(
            '<div class="am-fictional" style="font-weight:bold;color:#7a0000;margin-bottom:4px">'
            "Fictional demo data</div>"
        )
    parts.append(f'<div style="font-weight:bold;margin-bottom:4px">{safe_text(title)}</div>')
    if classification.scheme == "bivariate":
        parts.append(_bivariate_legend(classification))
    else:
        parts.extend(_class_rows(classification))
    if catchment:
        parts.append(
            f'<div style="margin-top:4px"><span style="display:inline-block;width:14px;height:12px;margin-right:6px;'
            f'vertical-align:middle;border:2px dashed {CATCHMENT_COLOUR};background:rgba(0,68,27,0.15)"></span>'
            f"{safe_text(catchment)}</div>"
        )
    if pillars:
        parts.append('<div style="font-weight:bold;margin:6px 0 2px">Assets by pillar</div>')
        parts.append(
            '<div style="color:#444;font-size:11px">Counts: assets shown serving each pillar; one serving '
            "several counts in each, drawn once with the symbol of the first.</div>"
        )
        for key, name, count in pillars:
            parts.append(
                f'<div><span style="display:inline-block;margin-right:6px;vertical-align:middle;line-height:0">'
                f"{pillar_symbol_img(key)}</span>{safe_text(name)} ({count:,})</div>"
            )
    if note:
        parts.append(f'<div style="margin-top:6px;color:#333">{safe_text(note)}</div>')
    parts.append("</details></div>")
    return "".join(parts)


_SWATCH = "display:inline-block;width:14px;height:12px;margin-right:6px;vertical-align:middle;border:1px solid #555"


def _class_rows(classification: styles.Classification) -> list[str]:
    parts = []
    rows = list(zip(classification.colours, classification.labels, strict=True))
    if rows and _luminance(rows[-1][0]) < _luminance(rows[0][0]):
        rows = rows[::-1]  # darkest (most deprived, or most) at the top, as published maps do
    for colour, label in rows:
        parts.append(f'<div><span style="{_SWATCH};background:{colour}"></span>{safe_text(label)}</div>')
    if classification.n_missing:
        parts.append(f'<div><span style="{_SWATCH};background:{styles.NO_DATA_COLOUR}"></span>No data</div>')
    if classification.scheme and classification.labels:
        parts.append(f'<div style="color:#444;font-size:11px">Classes: {safe_text(classification.scheme)}</div>')
    return parts


def _bivariate_legend(classification: styles.Classification) -> str:
    """Return a 3 x 3 key: need rising upward, access to the right, each cell with its count of areas."""
    counts = dict(zip(styles.BIVARIATE_COLOURS, classification.counts, strict=True))
    cell = "width:22px;height:22px;text-align:center;font-size:10px;line-height:22px;border:1px solid #fff"
    rows = []
    for need in (3, 2, 1):
        cells = "".join(
            f'<td title="{safe_text(styles.BIVARIATE_WORDS[need])} need, '
            f'{safe_text(styles.BIVARIATE_WORDS[access])} access" '
            f'style="{cell};background:{styles.BIVARIATE_COLOURS[f"{need}-{access}"]};'
            f'color:{"#fff" if _luminance(styles.BIVARIATE_COLOURS[f"{need}-{access}"]) < 140 else "#111"}">'
            f"{counts[f'{need}-{access}']}</td>"
            for access in (1, 2, 3)
        )
        label = styles.BIVARIATE_WORDS[need].capitalize() if need != 2 else ""
        rows.append(f'<tr><th style="font-weight:normal;text-align:right;padding-right:4px">{label}</th>{cells}</tr>')
    axis = '<tr><th></th><td colspan="3" style="text-align:center">Low &rarr; high access</td></tr>'
    missing = (
        f'<div><span style="{_SWATCH};background:{styles.NO_DATA_COLOUR}"></span>No data</div>'
        if classification.n_missing
        else ""
    )
    return (
        '<div class="am-bivariate" role="img" aria-label="Bivariate key: need rises upward, access to the right; '
        'the top-left cell is high need with low access">'
        '<div style="font-size:11px">Need &uarr;</div>'
        f'<table style="border-collapse:collapse;font-size:11px">{"".join(rows)}{axis}</table>'
        '<div style="font-size:11px;margin-top:2px">Top left (pink): high need, low access. Numbers: areas.</div>'
        f"{missing}</div>"
    )


class LegendControl(MacroElement):
    """A legend drawn as a Leaflet control, so it stacks with the other controls instead of covering them."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.control({position: {{ this.position|tojson }}});
        {{ this.get_name() }}.onAdd = function () {
            var div = L.DomUtil.create("div", "leaflet-control");
            div.innerHTML = {{ this.html|tojson }};
            L.DomEvent.disableClickPropagation(div);
            L.DomEvent.disableScrollPropagation(div);
            return div;
        };
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, html_text: str, position: str = "bottomleft"):
        super().__init__()
        self._name = "Legend"
        self.html = html_text
        self.position = position
