"""The sidebar: every choice of a run as a widget, kept in sync with the URL.

On a session's first run the widgets take their values from the URL's query
parameters (a bad one becomes a warning and the default); after that the
widgets are the truth and the URL is rewritten from them on every rerun, so
the address bar is always a link to the current setup.
"""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

from regdemo.i18n import LANGUAGES
from regdemo.messages import msg
from regdemo.teaching import exercise
from regdemo.training.config import (
    DATASET_TRAIN_SIZES,
    QUERY_FIELDS,
    TRAIN_SIZE_STEPS,
    RunConfig,
    from_query_params,
    knobs,
    to_query_params,
)
from regdemo.training.devices import cuda_missing
from webapp.state import render_message, t

KNOBS = knobs()  # each field's label, help, range and stops (config.py declares them once)
DEFAULT = RunConfig()


def widget_key(name: str) -> str:
    """The session-state key of a field's widget: cfg_ and its URL name (cfg_noise), or its own."""
    return "cfg_" + (KNOBS[name].url or name)


# Each control an exercise link can show, lock or hide (its URL name) -> its widget key.
CONTROL_KEYS = {url: widget_key(name) for url, name in QUERY_FIELDS.items()}
WIDGET_FIELDS = [name for name, knob in KNOBS.items() if knob.label]


def init_from_url() -> None:
    """First run of a session: language and widgets start from the link's parameters.

    The entry script calls it before st.navigation (the page titles need the
    language); render() calls it too, so a page works either way."""
    if st.session_state.get("cfg_ready"):
        return
    params = {k: st.query_params.get_all(k) for k in st.query_params.keys()}
    config, warnings = from_query_params(params)
    lang = (params.get("lang") or ["en"])[-1]
    if lang not in LANGUAGES:
        warnings.append(msg("url.unknown_lang", value=repr(lang[:20])))
        lang = "en"
    present = (params.get("present") or ["0"])[-1]
    task, task_warnings = exercise.parse(params)
    st.session_state.update({
        "cfg_ready": True,
        "url_warnings": warnings + task_warnings,
        "lang": lang,
        "presentation": present == "1",
        # An exercise link: which controls stay free, and the setup it fixes.
        "exercise": task,
        "exercise_config": config,
    })
    _set_widgets(config)


def _set_widgets(config: RunConfig, only: set[str] | None = None) -> None:
    """The widgets' values from a config (`only`: just these widget keys)."""
    values = _widget_values(config)
    st.session_state.update({k: v for k, v in values.items() if only is None or k in only})


def _widget_values(config: RunConfig) -> dict:
    values = {widget_key(name): getattr(config, name) for name in WIDGET_FIELDS}
    for name in WIDGET_FIELDS:
        if isinstance(values[widget_key(name)], float):
            values[widget_key(name)] = float(values[widget_key(name)])
    values["cfg_train_size"] = config.train_size or DATASET_TRAIN_SIZES[config.dataset]
    values["cfg_device"] = config.device if config.device in device_choices() else "auto"
    return values


def current_exercise() -> exercise.Exercise:
    return st.session_state.get("exercise") or exercise.Exercise()


def _pin_exercise() -> None:
    """Locked and hidden controls keep the exercise link's values, whatever else set them
    (a Try it button, a hidden widget's state dropped by Streamlit)."""
    task = current_exercise()
    if not task.active:
        return
    fixed = {CONTROL_KEYS[c] for c in CONTROL_KEYS if task.mode(c) != exercise.FREE}
    if task.show is not None:
        fixed.add("cfg_device")  # not a control of the link; hidden with the rest, left on auto
    _set_widgets(st.session_state.get("exercise_config", DEFAULT), only=fixed)


def _shown(control: str) -> bool:
    return current_exercise().mode(control) != exercise.HIDDEN


def _locked(control: str) -> bool:
    return current_exercise().mode(control) == exercise.LOCKED


def _label(control: str, text: str) -> str:
    """A locked control's label carries a lock, so it reads as locked, not broken."""
    return f"🔒 {text}" if _locked(control) else text


def load_config(config: RunConfig) -> None:
    """Put a config into the widgets (presets, "Try it" buttons); call before the sidebar renders."""
    st.session_state["cfg_ready"] = True
    _set_widgets(config)


def device_choices() -> list[str]:
    return ["auto", "cpu"] + (["cuda"] if cuda_missing() is None else [])


def _choices_with(choices: list, value) -> list:
    """A link may carry a strength that is not on the slider: add it rather than lose it."""
    return choices if value in choices else sorted(choices + [value])


def _upper(limit, key: str):
    """A slider's top: its usual limit, or the value a link (or a preset) set above it.
    RunConfig.validate has already bounded that value; a slider must never refuse it."""
    value = st.session_state.get(key)
    return max(limit, value) if isinstance(value, (int, float)) else limit


# How a number reads on its widget (Knob.shows).
SHOWN = {
    "lambda": lambda value: t("sidebar.off") if value == 0 else f"{value:g}",
    "percent": lambda value: t("sidebar.off") if value == 0 else f"{100 * value:g} %",
    "count": lambda n: f"{n:,}",
}


def _widget(name: str, control: str | None = None) -> None:
    """Draw one field's widget as its Knob declares it (control: its URL name, for exercises)."""
    knob, key = KNOBS[name], widget_key(name)
    control = control or knob.url
    options = {"key": key, "disabled": _locked(control)}
    if knob.help:
        options["help"] = t(knob.help)
    if knob.words:
        options["format_func"] = lambda v, prefix=knob.words: t(f"{prefix}.{v}")
    elif knob.shows:
        options["format_func"] = SHOWN[knob.shows]
    label = _label(control, t(knob.label))
    if knob.widget == "select":
        st.selectbox(label, knob.choices, **options)
    elif knob.widget == "slider":
        low = type(getattr(DEFAULT, name))(knob.low)
        st.slider(label, low, _upper(knob.top, key), step=knob.step, **options)
    elif knob.widget == "steps":
        stops = list(knob.steps)
        st.select_slider(label, _choices_with(stops, st.session_state.get(key, getattr(DEFAULT, name))), **options)
    elif knob.widget == "toggle":
        st.toggle(label, **options)
    elif knob.widget == "number":
        st.number_input(label, int(knob.low), int(knob.high), step=1, **options)
    else:
        raise ValueError(f"{name}: no widget {knob.widget!r}")


def render() -> RunConfig:
    """Draw the sidebar widgets; store and return the config they describe."""
    init_from_url()
    _pin_exercise()
    ss = st.session_state
    task = current_exercise()
    with st.sidebar:
        st.selectbox(t("sidebar.language"), list(LANGUAGES), format_func=LANGUAGES.get, key="lang")
        st.header(t("sidebar.header"))
        if task.active:
            st.info(t("exercise.note"), icon=":material/lock:")
        for name in ("dataset", "model"):
            if _shown(KNOBS[name].url):
                _widget(name)

        regularizers = ("dropout", "l1", "l2", "augment", "batchnorm", "patience")
        if any(_shown(KNOBS[name].url) for name in regularizers):
            st.subheader(t("sidebar.regularizers"))
        for name in regularizers:
            if _shown(KNOBS[name].url):
                _widget(name)

        if _shown(KNOBS["train_size"].url) or _shown(KNOBS["label_noise"].url):
            st.subheader(t("sidebar.data"))
        sizes = list(TRAIN_SIZE_STEPS[ss.cfg_dataset])
        if ss.get("cfg_train_size") not in sizes:
            # Dataset changed (or a link named an odd size): keep a valid choice.
            value = ss.get("cfg_train_size")
            full = DATASET_TRAIN_SIZES[ss.cfg_dataset]
            sizes = _choices_with(sizes, value) if isinstance(value, int) and 20 <= value <= full else sizes
            if ss.get("cfg_train_size") not in sizes:
                ss.cfg_train_size = sizes[-1]
        if _shown(KNOBS["train_size"].url):
            knob = KNOBS["train_size"]
            st.select_slider(_label("train_size", t(knob.label)), sizes, key="cfg_train_size",
                             disabled=_locked("train_size"), format_func=SHOWN[knob.shows], help=t(knob.help))
        if _shown(KNOBS["label_noise"].url):
            _widget("label_noise")

        if _shown(KNOBS["epochs"].url):
            knob = KNOBS["epochs"]
            st.subheader(_label("epochs", t(knob.label)))
            st.slider(t(knob.label), knob.low, _upper(knob.top, "cfg_epochs"), key="cfg_epochs",
                      disabled=_locked("epochs"), label_visibility="collapsed")
        if _shown(KNOBS["seed"].url):
            _widget("seed")
        if task.show is None:  # the server's device: not part of an exercise's few controls
            st.selectbox(t(KNOBS["device"].label), device_choices(), key="cfg_device",
                         format_func=lambda d: t(f"{KNOBS['device'].words}.{d}"))
            if (why := cuda_missing()) is not None:
                st.caption(t("sidebar.device.no_gpu", reason=t(f"sidebar.device.no_gpu.{why}")))
        advanced = ("optimizer", "lr", "batch_size")
        if any(_shown(KNOBS[name].url) for name in advanced):
            with st.expander(t("sidebar.advanced")):
                for name in advanced:
                    if _shown(KNOBS[name].url):
                        _widget(name)
        st.toggle(t("sidebar.presentation"), key="presentation", help=t("sidebar.presentation.help"))
        if task.active:
            st.button(t("exercise.reset"), key="sidebar_reset",
                      on_click=load_config, args=(ss.get("exercise_config", DEFAULT),))
        else:
            st.button(t("sidebar.reset"), key="sidebar_reset", on_click=load_config, args=(RunConfig(),))

    config = _config_from_widgets()
    ss.config = config
    _write_url(config)
    if not task.active:
        with st.sidebar:
            exercise_builder(config)
    return config


def _config_from_widgets() -> RunConfig:
    """The config the widgets describe, validated: the sidebar is where a page's config enters."""
    ss = st.session_state
    values = {}
    for name in WIDGET_FIELDS:
        value, knob = ss[widget_key(name)], KNOBS[name]
        kind = type(getattr(DEFAULT, name))
        value = kind(value)
        values[name] = round(value, knob.digits) if knob.digits is not None else value
    if values["train_size"] >= DATASET_TRAIN_SIZES[values["dataset"]]:
        values["train_size"] = 0  # the whole split
    return RunConfig(**values).validate()


def _control_name(control: str) -> str:
    return t(f"exercise.control.{control}")


def exercise_builder(config: RunConfig) -> None:
    """"Copy exercise link": the teacher picks the controls students may move (and those they
    see locked); the box holds a link that fixes the rest of the current setup."""
    with st.expander(t("exercise.title"), icon=":material/school:"):
        st.caption(t("exercise.help"))
        free = st.multiselect(t("exercise.free"), list(exercise.CONTROLS), key="exercise_free",
                              format_func=_control_name)
        locked = st.multiselect(t("exercise.locked"), [c for c in exercise.CONTROLS if c not in free],
                                key="exercise_locked", format_func=_control_name)
        params = exercise.link_params(config, free, locked)
        if st.session_state.get("lang", "en") != "en":
            params["lang"] = st.session_state["lang"]
        st.code(_base_url() + "?" + urlencode(params, safe=","), language=None, wrap_lines=True)
        st.caption(t("exercise.copy"))


def _base_url() -> str:
    """This page's address without its query (the browser's, as Streamlit saw it)."""
    try:
        url = st.context.url or ""
    except Exception:  # outside a browser session (AppTest): a relative link still works
        url = ""
    return url.split("?", 1)[0]


def _write_url(config: RunConfig) -> None:
    params = to_query_params(config)
    if st.session_state.get("lang", "en") != "en":
        params["lang"] = st.session_state["lang"]
    if st.session_state.get("presentation"):
        params["present"] = "1"
    params.update(current_exercise().to_query_params())  # a reload keeps the exercise
    current = {k: st.query_params.get(k) for k in st.query_params.keys()}
    if current != params:
        st.query_params.from_dict(params)


def show_url_warnings() -> None:
    """Each ignored link parameter, shown once per session."""
    for warning in st.session_state.pop("url_warnings", []):
        st.warning(t("url.warning", detail=render_message(warning)), icon="⚠️")
