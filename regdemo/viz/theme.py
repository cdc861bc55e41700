"""The one look every chart shares: colours, sizes, the projector-sized style, chart words.

Colours are the Okabe-Ito palette (safe for the common colour-blindnesses) and
fixed: train is always blue, test always vermillion, on every page.

Chart words come from the i18n catalogs only: a builder takes `t`, the page's
translate function (key -> text in the page's language; regdemo.i18n.translate
itself is English), and looks its words up with it. There are no English
defaults in chart code.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable, Mapping

import altair as alt
import pandas as pd

from regdemo.i18n import STRINGS
from regdemo.runs.frames import TEST, TRAIN, TRAIN_EVAL, VAL

Translate = Callable[..., str]  # t(key, **values) -> text; t(key) alone gives a template as written

# --- colours -------------------------------------------------------------------
TRAIN_COLOR = "#0072B2"  # blue
TEST_COLOR = "#D55E00"  # vermillion
TRAIN_EVAL_COLOR = "#009E73"  # bluish green
HELD_OUT_COLOR = "#CC79A7"  # reddish purple
SPLIT_COLORS = {TRAIN: TRAIN_COLOR, TRAIN_EVAL: TRAIN_EVAL_COLOR, TEST: TEST_COLOR, VAL: HELD_OUT_COLOR}
GAP_COLOR = "#7F7F7F"  # the shaded generalization gap: neutral, it is not a split
BEST_COLOR = "#000000"
DROPPED_COLOR = "#D9D9D9"  # a dropped unit passed nothing on: grey
# One colour per run in overlays, in the order runs get them. Okabe-Ito again,
# starting with the colours no split uses; yellow last (faint on white).
RUN_COLORS = ("#000000", "#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#0072B2", "#D55E00", "#F0E442")
# The three runs of the L1 vs L2 lesson, in colours no split uses.
PENALTY_COLORS = {"none": "#7F7F7F", "L1": "#E69F00", "L2": "#56B4E9"}
# A lesson's pair: black (without the regularizer) and orange (with it).
PAIR_COLORS = ("#000000", "#E69F00")

# --- sizes -----------------------------------------------------------------------
# At scale 1 (a laptop screen); presentation mode passes scale ~1.4.
FONT = {"label": 14, "title": 16, "legend": 14, "heading": 18, "mark": 14}
LINE_WIDTH = 2.5
HEIGHT = 320  # of the plot itself; axes, title and legend come on top
# Fill the width (axes and legend included) but keep the plot's own height:
# Streamlit's default, "fit", would squeeze title and legend into `height`.
FIT_WIDTH = alt.AutoSizeParams(type="fit-x", contains="padding")


def style(chart, scale: float = 1.0):
    """Font sizes readable on a projector; `scale` > 1 in presentation mode."""
    return (
        chart.configure_axis(labelFontSize=FONT["label"] * scale, titleFontSize=FONT["title"] * scale,
                             labelLimit=0, grid=True, gridOpacity=0.5)
        .configure_legend(labelFontSize=FONT["legend"] * scale, titleFontSize=FONT["legend"] * scale,
                          labelLimit=0, symbolStrokeWidth=LINE_WIDTH * scale, symbolSize=200 * scale)
        .configure_header(labelFontSize=FONT["label"] * scale, titleFontSize=FONT["title"] * scale)
        .configure_title(fontSize=FONT["heading"] * scale, anchor="start")
        .configure_view(strokeWidth=0)
    )


# --- words -------------------------------------------------------------------------
# The catalogs' chart words ("chart.epoch" -> words["epoch"]) and the splits' names.
CHART_KEYS = tuple(key.removeprefix("chart.") for key in STRINGS["en"] if key.startswith("chart."))
SPLIT_KEYS = {TRAIN: "split.train", TRAIN_EVAL: "split.train_eval", TEST: "split.test", VAL: "split.val"}


def words(t: Translate) -> dict[str, str]:
    """Every chart word in t's language, by its key without "chart." (templates unfilled)."""
    return {key: t(f"chart.{key}") for key in CHART_KEYS}


def split_names(t: Translate) -> dict[str, str]:
    """Each split's name in t's language (the data keeps the fixed names that pick the colours)."""
    return {split: t(key) for split, key in SPLIT_KEYS.items()}


def split_scale(splits: Iterable[str], names: Mapping[str, str] | None = None) -> alt.Scale:
    """Fixed colours by split, whatever subset is drawn; under the displayed `names` when the
    data carries those, else under the fixed split names."""
    present = set(splits)
    domain = [s for s in SPLIT_COLORS if s in present]
    names = names or {}
    return alt.Scale(domain=[names.get(s, s) for s in domain], range=[SPLIT_COLORS[s] for s in domain])


def split_legend(t: Translate) -> alt.Legend:
    """A legend below the chart for data that keeps the fixed split names: its entries read
    in t's language."""
    cases = "".join(f"datum.label === {json.dumps(split)} ? {json.dumps(name, ensure_ascii=False)} : "
                    for split, name in split_names(t).items())
    return alt.Legend(orient="bottom", labelExpr=cases + "datum.label")


# --- specs for live pages ---------------------------------------------------------------

def frozen(mapping: Mapping[str, str] | None) -> tuple:
    """A mapping as a hashable key of the spec caches."""
    return tuple(sorted((mapping or {}).items()))


def to_spec(chart) -> dict:
    """A chart as a Vega-Lite dict, without altair's default view size (as st.altair_chart
    draws it) and without schema validation (the builders here are tested instead)."""
    spec = chart.to_dict(validate=False)
    view = spec.get("config", {}).get("view", {})
    view.pop("continuousWidth", None)
    view.pop("continuousHeight", None)
    return spec


def with_data(skeleton: dict, data: Mapping[str, pd.DataFrame]) -> dict:
    """A copy of a cached spec with the frames of this redraw as its datasets."""
    spec = copy.deepcopy(skeleton)
    spec["datasets"] = dict(data)
    return spec


# --- numbers -------------------------------------------------------------------------------
# From this size on a number reads as a power of ten (a diverged run's loss of 4e12 is
# "4×10¹²", not 4000000000000).
HUGE = 1e4
_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"


def readable_number(value: float, digits: int = 3) -> str:
    """`value` in `digits` significant figures; from HUGE on (either sign) as m×10ⁿ."""
    if value != value or value in (float("inf"), float("-inf")):  # nan, inf: as Python writes them
        return str(value)
    if abs(value) < HUGE:
        return f"{round(value):d}" if abs(value) >= 10 ** digits else f"{value:.{digits}g}"
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    power = "".join(_SUPERSCRIPTS[int(d)] for d in str(int(exponent)))
    return f"{mantissa}×10{power}"


def readable_label_expr(plain: str = "datum.label") -> str:
    """A Vega axis labelExpr: values from HUGE on as m×10ⁿ (as readable_number writes them),
    the others as the axis formats them (`plain`)."""
    exponent = "floor(log(abs(datum.value)) / LN10)"
    mantissa = f"format(datum.value / pow(10, {exponent}), '.2~f')"
    digit = f"'{_SUPERSCRIPTS}'"
    tens, ones = f"floor({exponent} / 10)", f"({exponent} % 10)"
    power = (f"({exponent} >= 10 ? substring({digit}, {tens}, {tens} + 1) : '') + "
             f"substring({digit}, {ones}, {ones} + 1)")
    return f"abs(datum.value) >= {HUGE:g} ? {mantissa} + '×10' + {power} : {plain}"
