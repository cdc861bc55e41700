"""Export for slides: a run's curves as CSV, every chart as PNG or SVG.

PNG and SVG are regdemo.viz.slide's figures (1600 px wide, the claim as the title, the legend
inside, text >= 16 px), rendered only when a button is clicked (a deferred download):
converting costs ~0.1 s per chart, and the first conversion of a server process several
seconds. Without vl-convert-python the buttons give way to a note; every chart's own ⋯ menu
can still save it. Export buttons are controls: presentation mode hides them.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import pandas as pd
import streamlit as st

from regdemo.viz import slide
from regdemo.viz.theme import style
from webapp.state import presentation, t

EXPORT_WIDTH = 960  # px: chart_bytes' default (half of a 1920-wide slide)
PNG_SCALE = 2  # pixels per CSS pixel: crisp when a slide is projected large
MIME = {"png": "image/png", "svg": "image/svg+xml", "csv": "text/csv"}


def image_export_missing() -> str:
    """Why PNG/SVG export cannot work here ("" when it can)."""
    return slide.missing()


def chart_bytes(chart, fmt: str, width: int = EXPORT_WIDTH, scale: float = 1.0) -> bytes:
    """The chart as PNG or SVG bytes, `width` pixels wide, fonts as on screen.

    `chart` is an unstyled chart of regdemo.viz (style is applied here, at
    `scale`); a "container" width means nothing outside a browser, so a fixed
    width replaces it.
    """
    if fmt not in ("png", "svg"):
        raise ValueError(f"format must be png or svg, got {fmt!r}")
    fixed = style(chart.properties(width=width), scale)
    out = io.BytesIO() if fmt == "png" else io.StringIO()
    options = {"scale_factor": PNG_SCALE} if fmt == "png" else {}
    fixed.save(out, format=fmt, **options)
    value = out.getvalue()
    return value if isinstance(value, bytes) else value.encode("utf-8")


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode("utf-8")


def file_stem(*parts: str) -> str:
    """A safe file name from parts: 'regdemo-1a2b3c-accuracy'."""
    text = "-".join(p for p in parts if p)
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "regdemo"


def csv_button(frame: pd.DataFrame, stem: str, key: str, label: str | None = None) -> None:
    st.download_button(label or t("export.csv"), csv_bytes(frame), file_name=f"{stem}.csv", mime=MIME["csv"],
                       key=key, on_click="ignore", icon=":material/table:", disabled=frame.empty)


def chart_buttons(build: Callable[[float], object], stem: str, key: str, label: str,
                  title: str | None = None) -> None:
    """PNG and SVG download buttons for one chart, as a slide figure (regdemo.viz.slide).

    `build(scale)` returns the unstyled altair chart drawn at `scale` (lines and marks for a
    slide); it is called only when a button is clicked. `title`: the claim the figure makes.
    Nothing in presentation mode (no controls on a projected page)."""
    if presentation():
        return
    missing = image_export_missing()
    if missing:
        st.caption(t("export.no_images", reason=missing))
        return
    for fmt in slide.FORMATS:
        st.download_button(
            t(f"export.{fmt}", chart=label),
            lambda fmt=fmt: slide.slide_bytes(build(slide.SLIDE_SCALE), fmt, title=title),
            file_name=f"{stem}.{fmt}", mime=MIME[fmt], key=f"{key}_{fmt}", on_click="ignore",
            icon=":material/image:",
        )
