"""Any chart of regdemo.viz as a figure for a slide: PNG or SVG, 1600 px wide, the lesson's claim
as its title, the legend inside the figure and text a projector can carry (axis labels of at
least 16 px at that width).

One function for every chart (curves, pairs, sweep, weights, masks, confusion matrix, the
lessons at a glance, memorization): webapp.export puts its bytes behind download buttons,
tools/ write them into docs/. Rendering is vl-convert's (altair's chart.save); without
vl-convert-python, `missing()` says so.
"""

from __future__ import annotations

import io
import pathlib
import re
import sys

import altair as alt

from regdemo.viz.theme import FIT_WIDTH, FONT, style

SLIDE_WIDTH = 1600  # px: a 16:9 slide's width at 1600x900
# Fonts, lines and heights of a chart built for a slide (its builder's `scale`): axis labels
# FONT["label"] * 1.3 = 18 px, titles 21 px, the heading 23 px.
SLIDE_SCALE = 1.3
MIN_TEXT_PX = 16
FORMATS = ("png", "svg")
# vl-convert takes the first family of a font list and, for a character that family lacks,
# falls back on its own: Chinese bold text (titles, axis titles) came out in a serif CJK face,
# Latin letters beside it too. A figure with Chinese text is set in Noto Sans CJK, which carries
# both scripts (where it is not installed the fallback stays as it was); an English one keeps
# the default sans (Noto Sans CJK's "·" is full-width).
SLIDE_FONT = "Noto Sans CJK SC"
_CJK = re.compile("[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef]")


def missing() -> str:
    """Why PNG/SVG export cannot work here ("" when it can)."""
    # Looked up as a folder on the import path: the package (a large native library) loads only
    # when a figure is exported.
    if not any((pathlib.Path(entry or ".") / "vl_convert").is_dir() for entry in sys.path):
        return "vl-convert-python is not installed"
    return ""


def _is_single(chart) -> bool:
    """A plot with one width (layered or not); concatenations and facets size their parts."""
    return isinstance(chart, (alt.Chart, alt.LayerChart))


def _legends_inside(chart):
    """Legends placed at the top or bottom of the plot stay there; an unplaced legend would sit
    right of the plot, where a 1600-px figure pushes it past the edge of a slide's text area.
    Vega-Lite draws legends inside the figure's bounds either way; this keeps them in view."""
    chart.config.legend.orient = "top"  # beside style()'s legend sizes, not instead of them
    chart.config.legend.direction = "horizontal"
    return chart


def slide_chart(chart, title: str | None = None, scale: float = SLIDE_SCALE):
    """`chart` (an unstyled chart of regdemo.viz) titled and styled for a slide.

    title: the claim; a title the chart had becomes its subtitle."""
    if title:
        old = chart.title if chart.title is not alt.Undefined else None
        old_text = old.text if isinstance(old, alt.TitleParams) else old
        params = {"text": title, "subtitle": old_text} if old_text else {"text": title}
        chart = chart.properties(title=alt.TitleParams(**params, subtitleFontSize=FONT["title"] * scale))
    if _is_single(chart):
        chart = chart.properties(width=SLIDE_WIDTH, autosize=FIT_WIDTH)
    styled = style(chart, scale)
    if _CJK.search(styled.to_json(validate=False)):
        styled.config.font = SLIDE_FONT
    return _legends_inside(styled) if _is_single(chart) else styled


def slide_bytes(chart, fmt: str, title: str | None = None, scale: float = SLIDE_SCALE) -> bytes:
    """The chart as a PNG or SVG for a slide: SLIDE_WIDTH px wide (a concatenated chart, drawn at
    its own size, is scaled up to it when narrower, so its text grows with it)."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be png or svg, got {fmt!r}")
    fixed = slide_chart(chart, title, scale)
    svg = _save(fixed, "svg").decode("utf-8")
    if fmt == "svg":
        return svg.encode("utf-8")
    width = svg_width(svg)
    return _save(fixed, "png", scale_factor=max(1.0, SLIDE_WIDTH / width) if width else 1.0)


def _save(chart, fmt: str, **options) -> bytes:
    out = io.BytesIO() if fmt == "png" else io.StringIO()
    chart.save(out, format=fmt, **options)
    value = out.getvalue()
    return value if isinstance(value, bytes) else value.encode("utf-8")


def svg_width(svg: str) -> float | None:
    """The width attribute of an SVG's root element (what a slide sizes it by)."""
    found = re.search(r'<svg[^>]*?\swidth="([0-9.]+)', svg)
    return float(found.group(1)) if found else None


def font_sizes(svg: str) -> list[float]:
    """Every font size an SVG's text uses, in px (the tests check them against MIN_TEXT_PX)."""
    return [float(size) for size in re.findall(r'font-size="([0-9.]+)px"', svg)]
