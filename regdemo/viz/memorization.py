"""Memorization of wrong labels: the share a run has learnt by heart per epoch, and the
gallery of wrong-labelled training digits with what each run answers now.

The numbers come from the runs' events (EpochEnd.memorized, .train_acc_clean,
.gallery_predictions; Started's gallery fields), measured in the engine's eval pass.
Only numpy, pandas, altair and PIL here: the server draws this without torch.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import altair as alt
import numpy as np
import pandas as pd
from PIL import Image, ImageDraw, ImageFont

from regdemo.viz.lessons import epoch_axis
from regdemo.viz.theme import FIT_WIDTH, Translate

MEMORIZED, CLEAN = "memorized", "clean"  # the two measures, the data's fixed names


def memorization_frame(views: Mapping[str, object]) -> pd.DataFrame:
    """One row per (run, epoch, measure): the share memorized and the clean accuracy (0..1).

    `views` maps a run's name to its RunView (None for a run not started); epochs without
    the figures (a clean run) give no rows."""
    rows = []
    for name, view in views.items():
        for e in view.epochs if view is not None else ():
            if e.memorized is not None:
                rows.append((name, e.epoch, MEMORIZED, e.memorized))
            if e.train_acc_clean is not None:
                rows.append((name, e.epoch, CLEAN, e.train_acc_clean))
    return pd.DataFrame(rows, columns=["run", "epoch", "measure", "share"])


def memorization_chart(frame: pd.DataFrame, colors: Mapping[str, str], *, t: Translate,
                       epochs: int | None = None, kept: Mapping[str, int] | None = None, height: int = 300):
    """Per run (its colour): the share of wrong labels memorized (solid) and the accuracy on
    the correctly labelled digits (dashed), per epoch, on 0-100 %. `kept`: run -> the epoch
    early stopping kept, drawn as a rule in the run's colour."""
    names = {MEMORIZED: t("memo.chart.memorized"), CLEAN: t("memo.chart.clean")}
    frame = frame.assign(what=frame["measure"].map(names))
    runs = list(colors)
    scale = alt.Scale(domain=runs, range=[colors[r] for r in runs])
    color = alt.Color("run:N", title=t("chart.run"), scale=scale, legend=alt.Legend(orient="bottom",
                                                                                   direction="vertical"))
    # No points on the lines: with them the dash legend loses its strokes.
    lines = alt.Chart(frame).mark_line(strokeWidth=3).encode(
        x=epoch_axis(frame, {"epoch": t("chart.epoch")}, epochs),
        y=alt.Y("share:Q", title=t("memo.chart.share"), axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        color=color,
        strokeDash=alt.StrokeDash("what:N", title=None, sort=[names[MEMORIZED], names[CLEAN]],
                                  scale=alt.Scale(domain=[names[MEMORIZED], names[CLEAN]], range=[[1, 0], [6, 4]]),
                                  legend=alt.Legend(orient="bottom", direction="vertical", symbolType="stroke",
                                                     symbolStrokeColor="#555555", symbolStrokeWidth=3,
                                                     symbolSize=600)),
        detail="measure:N",
        tooltip=[alt.Tooltip("run:N", title=t("chart.run")), alt.Tooltip("epoch:Q", title=t("chart.epoch")),
                 alt.Tooltip("what:N", title=None), alt.Tooltip("share:Q", format=".1%", title=t("memo.chart.share"))],
    )
    layers = [lines]
    marks = pd.DataFrame([(run, epoch, t("memo.chart.kept", epoch=epoch)) for run, epoch in (kept or {}).items()
                          if run in colors and epoch], columns=["run", "epoch", "label"])
    if not marks.empty:
        rule = alt.Chart(marks).mark_rule(strokeWidth=2, strokeDash=[2, 2]).encode(
            x="epoch:Q", color=alt.Color("run:N", scale=scale, legend=None))
        # Half-way up: the curves run along the top (clean accuracy) and the bottom (memorized, early on).
        text = alt.Chart(marks).mark_text(align="left", baseline="middle", dx=5, fontSize=14,
                                          fontWeight="bold").encode(
            x="epoch:Q", y=alt.value(height // 2), text="label:N",
            color=alt.Color("run:N", scale=scale, legend=None))
        layers += [rule, text]
    # fit-x: the width follows the page; the height stays the plot's own, legends below it.
    return alt.layer(*layers).properties(height=height, width="container", autosize=FIT_WIDTH)


# --- the gallery ----------------------------------------------------------------------------

@dataclass(frozen=True)
class GalleryDigit:
    true: int
    given: int  # the wrong label the runs train on
    answers: tuple[int | None, ...]  # each run's answer now, None before its first epoch

    def memorized(self, run: int) -> bool:
        return self.answers[run] == self.given


def gallery_pixels(started) -> np.ndarray:
    """The gallery's digits, uint8 (K, 28, 28), from events.Started (empty on clean data)."""
    raw = base64.b64decode(started.gallery_pixels) if started is not None and started.gallery_pixels else b""
    return np.frombuffer(raw, dtype=np.uint8).reshape(-1, 28, 28)


def gallery_digits(started, answers: Sequence[Sequence[int]]) -> list[GalleryDigit]:
    """The gallery's labels with each run's latest answers (`answers[run]`: one per digit, or
    empty before its first epoch). Runs of a lesson pair share the gallery: same data seed."""
    return [GalleryDigit(true, given, tuple(run[i] if len(run) > i else None for run in answers))
            for i, (true, given) in enumerate(zip(started.gallery_true, started.gallery_given, strict=True))]


def _font(size: int):
    return ImageFont.load_default(size=size)


def _labels_line(draw: ImageDraw.ImageDraw, middle: int, y: int, true: int, given: int, font, size: int) -> None:
    """"true -> given" centred on (middle, y), the arrow drawn (fonts without a glyph for it
    would show a box)."""
    arrow, gap, ink = size, size // 4, "#333333"
    width = draw.textlength(str(true), font=font) + draw.textlength(str(given), font=font) + arrow + 2 * gap
    x = middle - width / 2
    draw.text((x, y), str(true), fill=ink, font=font, anchor="lm")
    x += draw.textlength(str(true), font=font) + gap
    draw.line((x, y, x + arrow, y), fill=ink, width=2)
    draw.polygon(((x + arrow, y), (x + arrow - size // 3, y - size // 4), (x + arrow - size // 3, y + size // 4)),
                 fill=ink)
    draw.text((x + arrow + gap, y), str(given), fill=ink, font=font, anchor="lm")


def gallery_picture(pixels: np.ndarray, digits: Sequence[GalleryDigit], colors: Sequence[str], *,
                    columns: int = 8, scale: int = 3, font_size: int = 16) -> np.ndarray:
    """The gallery as one RGB picture: each digit (pixels upscaled `scale` times, crisp), under
    it "true → given", and one box per run with its answer, in the run's colour: filled when
    the run answers the wrong label (memorized), outlined otherwise."""
    n = len(digits)
    side = 28 * scale
    box = font_size + 8
    tile_w = max(side, len(colors) * (box + 4)) + 12
    tile_h = side + 2 * box + 16
    rows = max(1, -(-n // columns))
    picture = Image.new("RGB", (columns * tile_w, rows * tile_h), "white")
    draw = ImageDraw.Draw(picture)
    font = _font(font_size)
    for i, digit in enumerate(digits):
        left, top = (i % columns) * tile_w, (i // columns) * tile_h
        ink = Image.fromarray(255 - pixels[i]).resize((side, side), Image.NEAREST)  # dark ink on white
        picture.paste(ink, (left + (tile_w - side) // 2, top + 4))
        _labels_line(draw, left + tile_w // 2, top + side + 6 + box // 2, digit.true, digit.given, font, font_size)
        boxes_left = left + (tile_w - len(colors) * (box + 4) + 4) // 2
        y = top + side + 8 + box
        for run, color in enumerate(colors):
            x = boxes_left + run * (box + 4)
            answer = digit.answers[run] if run < len(digit.answers) else None
            filled = answer is not None and digit.memorized(run)
            draw.rectangle((x, y, x + box, y + box), fill=color if filled else "white", outline=color, width=3)
            draw.text((x + box / 2 + 1, y + box / 2 + 1), "·" if answer is None else str(answer),
                      fill="white" if filled else "#222222", font=font, anchor="mm")
    return np.asarray(picture)


def memorized_counts(digits: Sequence[GalleryDigit], runs: int) -> list[int]:
    """How many gallery digits each run answers with their wrong label."""
    return [sum(d.memorized(run) for d in digits) for run in range(runs)]
