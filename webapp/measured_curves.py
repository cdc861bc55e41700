"""A lesson pair's measured curves, drawn the moment its page opens (issue 18).

On a hosted quarter of a core a pair takes minutes to train; what the lesson shows should not
wait for it. The curves are regdemo.teaching.lessons.curves' files (written by `python -m
regdemo lessons --check --write`): every epoch's test accuracy and loss, the mean over the
check's seeds. They are read from the repository, so they show on a fresh REGDEMO_HOME and
when no worker can start. Try it then trains the same two runs live below them.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from regdemo.runs.frames import TEST
from regdemo.teaching.lessons import curves
from regdemo.training.config import RunConfig
from regdemo.training.data import EXPECTED_COUNTS
from regdemo.viz.overlay import overlay_spec
from webapp.layout import chart_scale
from webapp.state import t


def curves_frame(data: dict, labels: dict[str, str]) -> pd.DataFrame:
    """The mean curves as frames.curves_frame's columns (accuracy as a fraction), one label
    per side: what overlay_spec draws for live runs."""
    rows = []
    for side in curves.SIDES:
        acc, loss = curves.mean_curve(data, side, "test_acc"), curves.mean_curve(data, side, "test_loss")
        for (epoch, a), (_, loss_value) in zip(acc, loss, strict=True):
            rows.append((side, labels[side], float(epoch), TEST, a / 100, loss_value, "epoch"))
    return pd.DataFrame(rows, columns=["run", "label", "epoch", "split", "acc", "loss", "kind"])


def draw(name: str, config: RunConfig, labels: dict[str, str], colors: list[str], epochs: int, axes: dict) -> bool:
    """The pair's measured accuracy and loss charts with their caption (`config`: the
    baseline, for its test digits); False when the lesson has no curve file."""
    data = curves.load(name)
    if data is None:
        return False
    digits = f"{(EXPECTED_COUNTS.get(config.dataset) or (0, 0))[1]:,}"
    seeds = data["seeds"]
    shown = {side: t("pair.curves.label", run=labels[side]) for side in curves.SIDES}
    st.caption(t("pair.curves.title", seeds=len(seeds), seed_list=", ".join(map(str, seeds)), digits=digits,
                 command=data.get("command") or "python -m regdemo lessons --check", date=data.get("date") or "?"))
    frame = curves_frame(data, shown)
    palette = {shown[side]: color for side, color in zip(curves.SIDES, colors, strict=True)}
    for col, metric in zip(st.columns(2), ("acc", "loss"), strict=True):
        spec = overlay_spec(frame, metric, colors=palette, t=t, splits=[TEST], epochs=epochs,
                            title=t(f"pair.curves.chart.{metric}"), height=300, scale=chart_scale(), **axes)
        col.vega_lite_chart(spec, width="stretch", alt=t(f"pair.curves.chart.{metric}"))
    return True
