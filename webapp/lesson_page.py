"""What the regularizer pages share: the title with its lesson, Train / Stop / Try it for the
sidebar's run, and a set of runs a page trains together (the L1 vs L2 trio, the train sizes)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from regdemo.i18n import STRINGS
from regdemo.runs import runsets
from regdemo.runs.frames import TEST, TRAIN_EVAL, curves_frame
from regdemo.runs.records import Run, RunLimitError
from regdemo.teaching import effect as lesson_effect
from regdemo.teaching.lessons import lesson
from regdemo.training.config import ConfigError, RunConfig
from regdemo.training.data import EXPECTED_COUNTS
from regdemo.viz.overlay import overlay_chart, overlay_spec
from regdemo.viz.theme import PAIR_COLORS
from webapp import export, measured_curves, sidebar
from webapp.axes import axis_defaults, axis_toggles
from webapp.layout import chart_scale
from webapp.live import live_runs, status_text
from webapp.memorization import memorization_panel
from webapp.state import (
    current_config,
    current_run,
    hold_for_first_point,
    lang,
    presentation,
    registry,
    render_message,
    session_id,
    start_current,
    t,
)
from webapp.weights import WEIGHT_LESSONS, weights_panel


def header(title_key: str, topic: str) -> None:
    """The page title, its lesson (for reading at a desk, so not in presentation mode) and
    the error a Try it button left behind on the previous run of the script."""
    st.title(t(title_key))
    if not presentation():
        with st.expander(t("lesson.expander")):
            st.markdown(lesson(topic, lang()))
    if error := st.session_state.pop("lesson_error", None):
        st.error(error)


def train_with(**changes) -> None:
    """Try it's callback, run before the sidebar draws: put the change into the sidebar, train it."""
    try:
        config = current_config().replace(**changes).validate()  # a new config enters here
    except ConfigError as err:
        st.session_state.lesson_error = render_message(err)
        return
    train_config(config)


def overfitting_config() -> RunConfig | None:
    """The setup that shows overfitting plainest: the baseline of the lesson whose stored check
    saw the largest fall from peak test accuracy (the dropout lesson's when nothing is stored)."""
    found = lesson_effect.lessons()
    if not found:
        return None
    falls = {name: e.peak_minus_final for name in found
             if (e := lesson_effect.measured_effect(name)) is not None and e.peak_minus_final is not None}
    name = max(falls, key=falls.get) if falls else ("dropout" if "dropout" in found else next(iter(found)))
    return found[name].baseline


def train_config(config: RunConfig) -> None:
    """A button's callback, run before the sidebar draws: the whole setup into the sidebar, trained."""
    sidebar.load_config(config)
    try:
        run = registry().get_or_start(config, session=session_id())
    except (RunLimitError, ConfigError) as err:
        st.session_state.lesson_error = render_message(err)
        return
    st.session_state.run_key = run.key
    hold_for_first_point(run)


def run_buttons(prefix: str, try_label: str, try_changes: dict, widths: list[int]) -> Run | None:
    """Train, Stop and Try it in one row (widget keys `<prefix>_train|_stop|_try`).

    Returns the sidebar's run, the one just started included."""
    run = current_run()
    if presentation():  # a projected page has no controls
        return run
    left, middle, right, _ = st.columns(widths)
    if left.button(t("button.train"), type="primary", key=f"{prefix}_train"):
        try:
            run = start_current()
        except (RunLimitError, ConfigError) as err:
            st.error(render_message(err))
    if middle.button(t("button.stop"), disabled=run is None or run.finished, key=f"{prefix}_stop"):
        registry().stop(run.key)
    right.button(try_label, key=f"{prefix}_try", on_click=train_with, kwargs=try_changes)
    return run


class RunSet:
    """Runs a page trains side by side. Train marks them wanted in the session; each redraw
    starts or joins the wanted ones as the session's run limit allows (advance), so a set
    larger than the limit finishes in turns."""

    def __init__(self, name: str, configs: list[RunConfig]):
        self.state_key = f"{name}_wanted"
        self.configs = configs
        self.keys = [config.key() for config in configs]

    def want(self) -> None:
        st.session_state[self.state_key] = self.keys

    def stop(self) -> None:
        """Stop this session's own runs of the set (a classmate's run is theirs to stop)."""
        st.session_state[self.state_key] = []
        runsets.stop_own(registry(), self.keys, session_id())

    def advance(self) -> str:
        """Start or join each wanted run; past the limit the rest wait for a later redraw.
        Returns the reason some are waiting, if any."""
        wanted = st.session_state.get(self.state_key, [])
        _, refused = runsets.start_within_limit(registry(), [c for c in self.configs if c.key() in wanted],
                                                session_id())
        return render_message(refused) if refused else ""


# --- the lesson's preset pair: baseline vs the same setup with the regularizer -------------

def _share(value: float) -> str:
    """A share of weights: stored as a fraction (0..1) or in percent."""
    return f"{value if value > 1 else 100 * value:.1f} %"


def _key(base: str, name: str | None) -> str:
    """A lesson's own wording of a sentence where it has one (`<base>.<name>`), else the shared one."""
    return f"{base}.{name}" if name and f"{base}.{name}" in STRINGS["en"] else base


def effect_lines(effect, what: str, measured: bool, name: str | None = None) -> list[str]:
    """Sentences about one effect (lesson_effect.Effect), in the page's language, led by
    what the lesson's claim rests on: accuracy, test loss (L2) or sparsity (L1)."""
    values = dict(base=f"{100 * effect.baseline_acc:.1f}", treated=f"{100 * effect.treated_acc:.1f}",
                  gain=f"{effect.gain:+.1f}", std=f"{effect.gain_std:.1f}", low=f"{effect.gain_min:+.1f}",
                  seeds=effect.seeds, what=what)
    prefix = "pair.measured" if measured else "pair.live"
    lines = []
    if effect.measure == "sparsity" and effect.baseline_near_zero is not None and effect.treated_near_zero is not None:
        lines.append(t(f"{prefix}.sparsity", base=_share(effect.baseline_near_zero),
                       treated=_share(effect.treated_near_zero), seeds=effect.seeds, what=what))
    if effect.measure == "loss" and effect.loss_change is not None and effect.baseline_loss and effect.treated_loss:
        lines.append(t(f"{prefix}.loss", base=f"{effect.baseline_loss:.3f}", treated=f"{effect.treated_loss:.3f}",
                       change=f"{100 * effect.loss_change:+.0f}", seeds=effect.seeds, what=what))
    lines.append(t(_key(f"{prefix}.acc", name), **values))
    if effect.peak_minus_final is not None and effect.peak_minus_final >= 1.0:
        lines.append(t("pair.peak", drop=f"{effect.peak_minus_final:.1f}"))
        # Against the baseline's best epoch, not only its last: most regularizers here slow
        # memorization down (they end below that peak); augmentation beats it.
        peak = 100 * effect.baseline_acc + effect.peak_minus_final
        beyond = 100 * effect.treated_acc - peak
        lines.append(t("pair.vs_peak.above" if beyond >= 0 else "pair.vs_peak.below", peak=f"{peak:.1f}",
                       diff=f"{abs(beyond):.1f}", what=what))
    return lines


def pair_notes(name: str, config: RunConfig) -> list[str]:
    """What the pair's numbers need said beside them: on a noisy setup, what the wrong labels do
    (and this lesson's clean-digit numbers); a lesson's own note (batch norm, AdamW)."""
    notes = []
    if config.label_noise > 0:
        pct = 100 * config.label_noise  # a net that learned the real digits "misses" exactly these
        notes.append(t("pair.noise", pct=f"{pct:.0f}", keep=f"{100 - pct:.0f}"))
    if f"pair.note.{name}" in STRINGS["en"]:
        notes.append(t(f"pair.note.{name}"))
    return notes


def _measured_note(config: RunConfig) -> str:
    about = lesson_effect.about()
    test_digits = f"{(EXPECTED_COUNTS.get(config.dataset) or (0, 0))[1]:,}"
    if not about:
        return t("pair.measured.where.unknown", digits=test_digits)
    return t("pair.measured.where", digits=test_digits, command=about.get("command") or "python -m regdemo lessons "
             "--check", date=about.get("date", "?"), machine=about.get("machine", "?"), cpus=about.get("cpus", "?"),
             torch=about.get("torch", "?"))


def lesson_pair(name: str) -> None:
    """The lesson's claim, Try it (trains the catalog's baseline AND treated runs, exactly as
    `python -m regdemo lessons --json` prints them), the effect measured over seeds and the
    effect of the two runs trained here, side by side on one chart."""
    found = lesson_effect.lessons().get(name)
    if found is None:
        return
    pair = RunSet(f"pair_{name}", [found.baseline, found.treated])
    what = t(f"pair.what.{name}")
    st.subheader(t("pair.title", what=what))
    claim = found.claim.get(lang()) or found.claim.get("en", "")
    if claim:
        st.markdown(f"**{claim}**")
    if not presentation():
        left, right, _ = st.columns([3, 1, 3])
        left.button(t("pair.try", what=what), type="primary", key=f"pair_{name}_try", on_click=pair.want)
        right.button(t("button.stop"), key=f"pair_{name}_stop", on_click=pair.stop)
        st.caption(t("pair.setup", baseline=found.baseline.label(lang()), treated=found.treated.label(lang())))
    effect = lesson_effect.measured_effect(name)
    if effect is None:
        st.caption(t("pair.unmeasured"))
    else:
        st.info("  \n".join(effect_lines(effect, what, measured=True, name=name) + [_measured_note(found.baseline)]),
                icon=":material/fact_check:")
    if not presentation():
        for note in pair_notes(name, found.baseline):
            st.caption(note)
    axes = axis_toggles(f"pair_{name}", *st.columns(2)[:2]) if not presentation() else axis_defaults(f"pair_{name}")
    names = {found.baseline.key(): t(_key("pair.baseline", name)), found.treated.key(): t("pair.treated", what=what)}
    sides = {"baseline": t(_key("pair.baseline", name)), "treated": t("pair.treated", what=what)}
    measured_curves.draw(name, found.baseline, sides, PAIR_COLORS[:2], max(found.baseline.epochs,
                         found.treated.epochs), axes)  # the measured pair, before any run

    def draw(views) -> None:
        if notice := pair.advance():
            st.info(f"{notice} {t('lessons.auto_start')}")
        by_key = {view.key: view for view in views}
        if views:  # one line for both runs, once something started
            st.caption("  ·  ".join(t("pair.status", run=label, status=status_text(by_key.get(key)))
                                    for key, label in names.items()))
        shown = [v for v in (by_key.get(k) for k in names) if v is not None and v.epochs]
        if not shown:
            st.caption(t("pair.waiting") if views else t("pair.empty"))
            return
        curves = pd.concat([curves_frame(v, label=names[v.key], eval_train=True) for v in shown], ignore_index=True)
        colors = {names[found.baseline.key()]: PAIR_COLORS[0], names[found.treated.key()]: PAIR_COLORS[1]}
        epochs = max(found.baseline.epochs, found.treated.epochs)
        for col, metric in zip(st.columns(2), ("acc", "loss"), strict=True):
            options = dict(colors=colors, t=t, splits=[TRAIN_EVAL, TEST], epochs=epochs,
                           title=t(f"pair.chart.{metric}"), height=300, peak_of=names[found.baseline.key()], **axes)
            col.vega_lite_chart(overlay_spec(curves, metric, **options, scale=chart_scale()), width="stretch",
                                alt=t(f"pair.chart.{metric}"))
            if all(v.finished for v in shown):  # the figure for a slide, with the claim as its title
                with col:
                    export.chart_buttons(lambda scale, m=metric, o=options: overlay_chart(curves, m, **o, scale=scale),
                                         f"regdemo-{name}-{metric}", key=f"pair_{name}_{metric}",
                                         label=t(f"chart.{metric}"), title=claim)
        named = {names[v.key]: v for v in shown}
        if name in WEIGHT_LESSONS:  # the L2 and L1 pairs; keyed boxes, for a slide of each panel
            with st.container(key=f"pair_{name}_weights"):
                weights_panel(name, named, colors, epochs=epochs)
        if found.baseline.label_noise:
            with st.container(key=f"pair_{name}_memo"):
                memorization_panel(named, colors, epochs=epochs, lesson=name)
        live = lesson_effect.live_effect(by_key.get(found.baseline.key()), by_key.get(found.treated.key()),
                                         getattr(found, "measure", "accuracy"))
        if live is not None:
            st.success("  \n".join(effect_lines(live, what, measured=False, name=name)), icon=":material/check_circle:")

    pair.advance()  # before drawing: a run started now streams at once
    # A keyed box around the runs trained here, below the measured curves: a slide of the pair
    # training or trained is scrolled to it (tools/screenshots.py), not to the measured pair.
    with st.container(key=f"pair_{name}_live"):
        live_runs(pair.keys, draw, name=f"pair_{name}")

