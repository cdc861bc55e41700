"""The Draw page's input: the canvas (or an uploaded PNG), the move buttons, the prepared digit.

The canvas is the streamlit-drawable-canvas component; where it is not installed the
page takes an uploaded picture instead and says why. Preparing the digit is
regdemo.training.drawing's (numpy and PIL, no torch).
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from regdemo.messages import msg
from regdemo.training import drawing
from webapp.state import render_message, t

try:
    from streamlit_drawable_canvas import st_canvas
except ImportError:  # the page falls back to an upload and says so
    st_canvas = None

CANVAS_PIXELS = 280  # ten screen pixels per MNIST pixel
STROKE = 22  # a pen about as thick, relative to the digit, as MNIST's
STEP_PIXELS, STEP_DEGREES = 2, 15
MOVE = "draw_move"  # session state: {"right": px, "down": px, "degrees": d}
ss = st.session_state


def _moves() -> dict:
    return ss.setdefault(MOVE, {"right": 0, "down": 0, "degrees": 0})


def _nudge(**change) -> None:
    moves = _moves()
    for name, value in change.items():
        moves[name] += value


def _reset() -> None:
    ss[MOVE] = {"right": 0, "down": 0, "degrees": 0}


def _ink() -> np.ndarray | None:
    """The ink of the canvas or of the uploaded picture (the upload wins when there is one);
    None when neither holds anything yet. Raises drawing.DrawingError for a bad upload."""
    ink = None
    if st_canvas is not None:
        st.caption(t("draw.canvas"))
        result = st_canvas(stroke_width=STROKE, stroke_color="#FFFFFF", background_color="#000000",
                           height=CANVAS_PIXELS, width=CANVAS_PIXELS, drawing_mode="freedraw",
                           return_image_data=True, key="draw_canvas")
        if result.image_data is not None:
            ink = drawing.ink_from_rgba(result.image_data)
    else:
        st.info(t("draw.no_canvas"), icon=":material/upload:")
    with st.expander(t("draw.upload"), expanded=st_canvas is None):
        upload = st.file_uploader(t("draw.upload"), type=["png"], help=t("draw.upload.help"), key="draw_upload",
                                  label_visibility="collapsed")
    if upload is not None:
        ink = drawing.ink_from_png(upload.getvalue())
    return ink


def move_buttons() -> None:
    st.caption(t("draw.move"))
    buttons = [("draw.left", {"right": -STEP_PIXELS}), ("draw.right", {"right": STEP_PIXELS}),
               ("draw.up", {"down": -STEP_PIXELS}), ("draw.down", {"down": STEP_PIXELS}),
               ("draw.turn_left", {"degrees": STEP_DEGREES}), ("draw.turn_right", {"degrees": -STEP_DEGREES})]
    for col, (key, change) in zip(st.columns(len(buttons) + 1), buttons, strict=False):
        col.button(t(key), key=key, help=t(f"{key}.help"), on_click=_nudge, kwargs=change, width="stretch")
    st.button(t("draw.reset"), key="draw.reset", on_click=_reset)
    moves = _moves()
    if any(moves.values()):
        st.caption(t("draw.moved", **moves))


def digit() -> np.ndarray | None:
    """The student's digit, prepared and moved (uint8 28x28), or None with the reason shown."""
    try:
        ink = _ink()
        if ink is None:
            raise drawing.DrawingError(msg("draw.empty"))
        prepared = drawing.moved(drawing.mnist_digit(ink), **_moves())
    except drawing.DrawingError as err:
        st.info(render_message(err), icon=":material/draw:")
        prepared = None
    move_buttons()
    return prepared


def preview(prepared: np.ndarray) -> None:
    """The 28x28 digit the nets get, drawn big with square pixels (no smoothing)."""
    big = np.kron(prepared, np.ones((5, 5), dtype=np.uint8))  # 140 px
    st.image(big, caption=t("draw.prepared"), width=140)
