"""The sidebar: every choice of a run as a widget, kept in sync with the URL.

On a session's first run the widgets take their values from the URL's query
parameters (a bad one becomes a warning and the default); after that the
widgets are the truth and the URL is rewritten from them on every rerun, so
the address bar is always a link to the current setup.
"""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st
import torch

from regdemo.i18n import LANGUAGES
from regdemo.messages import msg
from regdemo.teaching import exercise
from regdemo.training.config import (
    AUGMENT_LEVELS,
    DATASET_TRAIN_SIZES,
    DATASETS,
    MAX_SEED,
    MODELS,
    RunConfig,
    from_query_params,
    to_query_params,
)
from webapp.state import render_message, t

# Log-scale choices for the penalty strengths (0 = off).
L1_CHOICES = [0.0, 1e-6, 3e-6, 1e-5, 3e-5, 5e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2]
L2_CHOICES = [0.0, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1]
TRAIN_SIZE_CHOICES = {
    "mnist-sample": [100, 250, 500, 1000, 2000, 4000],
    "mnist": [500, 1000, 2000, 5000, 10000, 20000, 60000],
    "fashion-mnist": [500, 1000, 2000, 5000, 10000, 20000, 60000],
}
# Label noise: off, then 10 % steps up to config.MAX_LABEL_NOISE (a link may carry e.g. 0.25).
NOISE_CHOICES = [round(i / 10, 1) for i in range(9)]
DEFAULT = RunConfig()
# Each control an exercise link can show, lock or hide (its URL name) -> its widget key.
CONTROL_KEYS = {
    "dataset": "cfg_dataset", "model": "cfg_model", "dropout": "cfg_dropout", "l1": "cfg_l1", "l2": "cfg_l2",
    "augment": "cfg_augment", "bn": "cfg_bn", "patience": "cfg_patience", "train_size": "cfg_train_size",
    "noise": "cfg_noise", "epochs": "cfg_epochs", "seed": "cfg_seed", "optimizer": "cfg_optimizer",
    "lr": "cfg_lr", "batch": "cfg_batch_size",
}


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
    full = DATASET_TRAIN_SIZES[config.dataset]
    return {
        "cfg_dataset": config.dataset,
        "cfg_model": config.model,
        "cfg_dropout": float(config.dropout),
        "cfg_l1": float(config.l1),
        "cfg_l2": float(config.l2),
        "cfg_augment": config.augment,
        "cfg_bn": config.batchnorm,
        "cfg_patience": config.patience,
        "cfg_train_size": config.train_size or full,
        "cfg_epochs": config.epochs,
        "cfg_seed": config.seed,
        "cfg_device": config.device if config.device in device_choices() else "auto",
        "cfg_lr": config.lr,
        "cfg_batch_size": config.batch_size,
        "cfg_optimizer": config.optimizer,
        "cfg_noise": float(config.label_noise),
    }


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


def _fmt_noise(value: float) -> str:
    return t("sidebar.off") if value == 0 else f"{100 * value:g} %"


def load_config(config: RunConfig) -> None:
    """Put a config into the widgets (presets, "Try it" buttons); call before the sidebar renders."""
    st.session_state["cfg_ready"] = True
    _set_widgets(config)


def device_choices() -> list[str]:
    return ["auto", "cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _choices_with(choices: list, value) -> list:
    """A link may carry a strength that is not on the slider: add it rather than lose it."""
    return choices if value in choices else sorted(choices + [value])


def _upper(limit, key: str):
    """A slider's top: its usual limit, or the value a link (or a preset) set above it.
    RunConfig.validate has already bounded that value; a slider must never refuse it."""
    value = st.session_state.get(key)
    return max(limit, value) if isinstance(value, (int, float)) else limit


def _fmt_lambda(value: float) -> str:
    return t("sidebar.off") if value == 0 else f"{value:g}"


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
        if _shown("dataset"):
            st.selectbox(_label("dataset", t("sidebar.dataset")), DATASETS, key="cfg_dataset",
                         disabled=_locked("dataset"), format_func=lambda d: t(f"sidebar.dataset.{d}"))
        if _shown("model"):
            st.selectbox(_label("model", t("sidebar.model")), MODELS, key="cfg_model", disabled=_locked("model"),
                         format_func=lambda m: t(f"sidebar.model.{m}"))

        if any(_shown(c) for c in ("dropout", "l1", "l2", "augment", "bn", "patience")):
            st.subheader(t("sidebar.regularizers"))
        if _shown("dropout"):
            st.slider(_label("dropout", t("sidebar.dropout")), 0.0, _upper(0.9, "cfg_dropout"), step=0.05,
                      key="cfg_dropout", disabled=_locked("dropout"), help=t("sidebar.dropout.help"))
        if _shown("l1"):
            st.select_slider(_label("l1", t("sidebar.l1")), _choices_with(L1_CHOICES, ss.get("cfg_l1", 0.0)),
                             key="cfg_l1", disabled=_locked("l1"), format_func=_fmt_lambda,
                             help=t("sidebar.l1.help"))
        if _shown("l2"):
            st.select_slider(_label("l2", t("sidebar.l2")), _choices_with(L2_CHOICES, ss.get("cfg_l2", 0.0)),
                             key="cfg_l2", disabled=_locked("l2"), format_func=_fmt_lambda,
                             help=t("sidebar.l2.help"))
        if _shown("augment"):
            st.select_slider(_label("augment", t("sidebar.augment")), AUGMENT_LEVELS, key="cfg_augment",
                             disabled=_locked("augment"), format_func=lambda a: t(f"sidebar.augment.{a}"),
                             help=t("sidebar.augment.help"))
        if _shown("bn"):
            st.toggle(_label("bn", t("sidebar.batchnorm")), key="cfg_bn", disabled=_locked("bn"))
        if _shown("patience"):
            st.slider(_label("patience", t("sidebar.patience")), 0, _upper(10, "cfg_patience"), key="cfg_patience",
                      disabled=_locked("patience"), help=t("sidebar.patience.help"))

        if _shown("train_size") or _shown("noise"):
            st.subheader(t("sidebar.data"))
        sizes = TRAIN_SIZE_CHOICES[ss.cfg_dataset]
        if ss.get("cfg_train_size") not in sizes:
            # Dataset changed (or a link named an odd size): keep a valid choice.
            value = ss.get("cfg_train_size")
            full = DATASET_TRAIN_SIZES[ss.cfg_dataset]
            sizes = _choices_with(sizes, value) if isinstance(value, int) and 20 <= value <= full else sizes
            if ss.get("cfg_train_size") not in sizes:
                ss.cfg_train_size = sizes[-1]
        if _shown("train_size"):
            st.select_slider(_label("train_size", t("sidebar.train_size")), sizes, key="cfg_train_size",
                             disabled=_locked("train_size"), format_func=lambda n: f"{n:,}",
                             help=t("sidebar.train_size.help"))
        if _shown("noise"):
            noise_choices = _choices_with(NOISE_CHOICES, ss.get("cfg_noise", 0.0))
            st.select_slider(_label("noise", t("sidebar.noise")), noise_choices, key="cfg_noise",
                             disabled=_locked("noise"), format_func=_fmt_noise,
                             help=t("sidebar.noise.help"))

        if _shown("epochs"):
            st.subheader(_label("epochs", t("sidebar.epochs")))
            st.slider(t("sidebar.epochs"), 1, _upper(50, "cfg_epochs"), key="cfg_epochs", disabled=_locked("epochs"),
                      label_visibility="collapsed")
        if _shown("seed"):
            st.number_input(_label("seed", t("sidebar.seed")), 0, MAX_SEED, step=1, key="cfg_seed",
                            disabled=_locked("seed"))
        if task.show is None:  # the server's device: not part of an exercise's few controls
            st.selectbox(t("sidebar.device"), device_choices(), key="cfg_device",
                         format_func=lambda d: t(f"sidebar.device.{d}"))
            if not torch.cuda.is_available():
                st.caption(t("sidebar.device.no_gpu", reason="torch.cuda.is_available() is False on this server"))
        if any(_shown(c) for c in ("optimizer", "lr", "batch")):
            with st.expander(t("sidebar.advanced")):
                if _shown("optimizer"):
                    st.selectbox(_label("optimizer", t("sidebar.optimizer")), ["sgd", "adam"], key="cfg_optimizer",
                                 disabled=_locked("optimizer"))
                if _shown("lr"):
                    st.select_slider(_label("lr", t("sidebar.lr")),
                                     _choices_with([0.001, 0.003, 0.01, 0.02, 0.05, 0.1, 0.2],
                                                   ss.get("cfg_lr", DEFAULT.lr)), key="cfg_lr", disabled=_locked("lr"))
                if _shown("batch"):
                    batches = _choices_with([16, 32, 64, 128, 256], ss.get("cfg_batch_size", DEFAULT.batch_size))
                    st.select_slider(_label("batch", t("sidebar.batch_size")), batches,
                                     key="cfg_batch_size", disabled=_locked("batch"))
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
    ss = st.session_state
    full = DATASET_TRAIN_SIZES[ss.cfg_dataset]
    return RunConfig(
        dataset=ss.cfg_dataset, model=ss.cfg_model, dropout=round(float(ss.cfg_dropout), 4),
        l1=float(ss.cfg_l1), l2=float(ss.cfg_l2), augment=ss.cfg_augment, batchnorm=bool(ss.cfg_bn),
        patience=int(ss.cfg_patience), train_size=0 if ss.cfg_train_size >= full else int(ss.cfg_train_size),
        label_noise=round(float(ss.cfg_noise), 4),
        epochs=int(ss.cfg_epochs), seed=int(ss.cfg_seed), device=ss.cfg_device,
        lr=float(ss.cfg_lr), batch_size=int(ss.cfg_batch_size), optimizer=ss.cfg_optimizer,
    ).validate()


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
