"""Memorization on the pages: the "wrong labels memorized" curve and the gallery of
wrong-labelled training digits, for a noisy lesson pair and for the Playground's run.

regdemo.viz.memorization builds the chart and the picture from the runs' events; this
module lays them out and says what they show, in the page's language.
"""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from regdemo.runs.records import RunView
from regdemo.teaching import effect as lesson_effect
from regdemo.viz.memorization import (
    gallery_digits,
    gallery_picture,
    gallery_pixels,
    memorization_chart,
    memorization_frame,
    memorized_counts,
)
from regdemo.viz.theme import PAIR_COLORS, style
from webapp.layout import chart_scale
from webapp.live import cached_chart
from webapp.state import lang, presentation, t


def kept_epochs(views: Mapping[str, RunView]) -> dict[str, int]:
    """Run name -> the epoch early stopping kept, for finished runs that stopped early."""
    return {name: view.done.best_epoch for name, view in views.items()
            if view.config.patience and view.done is not None and view.done.best_epoch}


def not_less_seeds(lesson: str) -> list:
    """The seeds of the stored check where the lesson's treated run did not memorize less
    than its baseline (empty when it did in every seed, or nothing is stored)."""
    entry = (lesson_effect.measured().get("lessons") or {}).get(lesson) or {}
    less, seeds = entry.get("memorizes_less"), entry.get("seeds")
    if not isinstance(less, list) or not isinstance(seeds, list) or len(less) != len(seeds):
        return []
    return [seed for seed, ok in zip(seeds, less, strict=True) if not ok]


def _cache_key(views: Mapping[str, RunView]) -> tuple:
    """What the panel's pictures depend on besides the first run: the others' progress."""
    return tuple((name, v.key, v.status, len(v.epochs)) for name, v in views.items())


def memorization_panel(views: Mapping[str, RunView], colors: Mapping[str, str], *, epochs: int,
                       lesson: str | None = None) -> None:
    """The curve and the gallery for `views` (run name -> view, in the legend's order);
    nothing while no run has a measured epoch."""
    views = {name: v for name, v in views.items() if v is not None}
    frame = memorization_frame(views)
    if frame.empty:
        return
    first = next(iter(views.values()))
    options = (lang(), chart_scale(), _cache_key(views), tuple(colors.items()))
    st.subheader(t("memo.title"))
    chart = cached_chart(first, "memorization", lambda: style(memorization_chart(
        frame, {n: colors[n] for n in views}, t=t, epochs=epochs, kept=kept_epochs(views)), chart_scale()), *options)
    st.altair_chart(chart, width="stretch")
    if not presentation():
        st.caption(t("memo.why"))
    if lesson and (seeds := not_less_seeds(lesson)):
        st.warning(t("memo.not_less", seeds="、".join(map(str, seeds)) if lang() == "zh" else
                     ", ".join(map(str, seeds)), count=len(seeds)))
    gallery(views, colors, options)


def _answers(view: RunView) -> tuple[int, ...]:
    """A run's gallery answers: after its latest epoch, or the epoch early stopping kept once
    it has finished (the weights it ends with)."""
    kept = kept_epochs({"run": view}).get("run")
    chosen = [e for e in view.epochs if e.epoch == kept] or view.epochs[-1:]
    return chosen[0].gallery_predictions if chosen else ()


def gallery(views: Mapping[str, RunView], colors: Mapping[str, str], options: tuple) -> None:
    """The wrong-labelled digits with each run's answer now. Runs trained on the same digits
    share one gallery; runs on different digits (the more-data pair) get one each."""
    groups: dict[tuple, dict[str, RunView]] = {}
    for name, view in views.items():
        if view.started is not None and view.started.gallery_indices:
            groups.setdefault(view.started.gallery_indices, {})[name] = view
    if not groups:
        return
    st.markdown(f"**{t('memo.gallery.title')}**")
    for members in groups.values():
        first = next(iter(members.values()))
        answers = [_answers(v) for v in members.values()]
        digits = gallery_digits(first.started, answers)
        picture = cached_chart(first, "memorization-gallery", lambda f=first, d=digits, m=members: gallery_picture(
            gallery_pixels(f.started), d, [colors[n] for n in m]), *options)
        counts = memorized_counts(digits, len(members))
        st.caption("  ·  ".join(t("memo.gallery.count", run=name, count=count, total=len(digits))
                                for name, count in zip(members, counts, strict=True)))
        st.image(picture, width="content")
    if not presentation():
        st.caption(t("memo.gallery.how"))


def playground_memorization(view: RunView) -> None:
    """The Playground's run, when it trains on noisy labels: its curve and gallery."""
    if view.config.label_noise > 0:
        name = t("memo.this_run")
        memorization_panel({name: view}, {name: PAIR_COLORS[0]}, epochs=view.config.epochs)
