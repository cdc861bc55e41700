"""The sidebar: every choice of a run as a widget, kept in sync with the URL.

On a session's first run the widgets take their values from the URL's query
parameters (a bad one becomes a warning and the default); after that the
widgets are the truth and the URL is rewritten from them on every rerun, so
the address bar is always a link to the current setup.
"""

from __future__ import annotations

import streamlit as st
import torch

from regdemo.config import (
    AUGMENT_LEVELS,
    DATASET_TRAIN_SIZES,
    DATASETS,
    MAX_SEED,
    MODELS,
    RunConfig,
    from_query_params,
    to_query_params,
)
from regdemo.i18n import LANGUAGES
from webapp.state import t

# Log-scale choices for the penalty strengths (0 = off).
L1_CHOICES = [0.0, 1e-6, 3e-6, 1e-5, 3e-5, 5e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2]
L2_CHOICES = [0.0, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1]
TRAIN_SIZE_CHOICES = {
    "mnist-sample": [100, 250, 500, 1000, 2000, 4000],
    "mnist": [500, 1000, 2000, 5000, 10000, 20000, 60000],
    "fashion-mnist": [500, 1000, 2000, 5000, 10000, 20000, 60000],
}
DEFAULT = RunConfig()


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
        warnings.append(f"lang={lang[:20]!r} is not a language of this app; using English.")
        lang = "en"
    present = (params.get("present") or ["0"])[-1]
    st.session_state.update({
        "cfg_ready": True,
        "url_warnings": warnings,
        "lang": lang,
        "presentation": present == "1",
    })
    _set_widgets(config)


def _set_widgets(config: RunConfig) -> None:
    full = DATASET_TRAIN_SIZES[config.dataset]
    st.session_state.update({
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
    })


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
    ss = st.session_state
    with st.sidebar:
        st.selectbox(t("sidebar.language"), list(LANGUAGES), format_func=LANGUAGES.get, key="lang")
        st.header(t("sidebar.header"))
        st.selectbox(t("sidebar.dataset"), DATASETS, key="cfg_dataset",
                     format_func=lambda d: t(f"sidebar.dataset.{d}"))
        st.selectbox(t("sidebar.model"), MODELS, key="cfg_model",
                     format_func=lambda m: t(f"sidebar.model.{m}"))

        st.subheader(t("sidebar.regularizers"))
        st.slider(t("sidebar.dropout"), 0.0, _upper(0.9, "cfg_dropout"), step=0.05, key="cfg_dropout",
                  help=t("sidebar.dropout.help"))
        st.select_slider(t("sidebar.l1"), _choices_with(L1_CHOICES, ss.get("cfg_l1", 0.0)), key="cfg_l1",
                         format_func=_fmt_lambda, help=t("sidebar.l1.help"))
        st.select_slider(t("sidebar.l2"), _choices_with(L2_CHOICES, ss.get("cfg_l2", 0.0)), key="cfg_l2",
                         format_func=_fmt_lambda, help=t("sidebar.l2.help"))
        st.select_slider(t("sidebar.augment"), AUGMENT_LEVELS, key="cfg_augment",
                         format_func=lambda a: t(f"sidebar.augment.{a}"), help=t("sidebar.augment.help"))
        st.toggle(t("sidebar.batchnorm"), key="cfg_bn")
        st.slider(t("sidebar.patience"), 0, _upper(10, "cfg_patience"), key="cfg_patience",
                  help=t("sidebar.patience.help"))
        sizes = TRAIN_SIZE_CHOICES[ss.cfg_dataset]
        if ss.get("cfg_train_size") not in sizes:
            # Dataset changed (or a link named an odd size): keep a valid choice.
            value = ss.get("cfg_train_size")
            full = DATASET_TRAIN_SIZES[ss.cfg_dataset]
            sizes = _choices_with(sizes, value) if isinstance(value, int) and 20 <= value <= full else sizes
            if ss.get("cfg_train_size") not in sizes:
                ss.cfg_train_size = sizes[-1]
        st.select_slider(t("sidebar.train_size"), sizes, key="cfg_train_size",
                         format_func=lambda n: f"{n:,}", help=t("sidebar.train_size.help"))

        st.subheader(t("sidebar.epochs"))
        st.slider(t("sidebar.epochs"), 1, _upper(50, "cfg_epochs"), key="cfg_epochs", label_visibility="collapsed")
        st.number_input(t("sidebar.seed"), 0, MAX_SEED, step=1, key="cfg_seed")
        st.selectbox(t("sidebar.device"), device_choices(), key="cfg_device",
                     format_func=lambda d: t(f"sidebar.device.{d}"))
        if not torch.cuda.is_available():
            st.caption(t("sidebar.device.no_gpu", reason="torch.cuda.is_available() is False on this server"))
        with st.expander(t("sidebar.advanced")):
            st.selectbox(t("sidebar.optimizer"), ["sgd", "adam"], key="cfg_optimizer")
            st.select_slider(t("sidebar.lr"), _choices_with([0.001, 0.003, 0.01, 0.02, 0.05, 0.1, 0.2],
                                                            ss.get("cfg_lr", DEFAULT.lr)), key="cfg_lr")
            st.select_slider(t("sidebar.batch_size"), _choices_with([16, 32, 64, 128, 256],
                                                                    ss.get("cfg_batch_size", DEFAULT.batch_size)),
                             key="cfg_batch_size")
        st.toggle(t("sidebar.presentation"), key="presentation", help=t("sidebar.presentation.help"))
        if st.button(t("sidebar.reset")):
            load_config(RunConfig())
            st.rerun()

    full = DATASET_TRAIN_SIZES[ss.cfg_dataset]
    config = RunConfig(
        dataset=ss.cfg_dataset, model=ss.cfg_model, dropout=round(float(ss.cfg_dropout), 4),
        l1=float(ss.cfg_l1), l2=float(ss.cfg_l2), augment=ss.cfg_augment, batchnorm=bool(ss.cfg_bn),
        patience=int(ss.cfg_patience), train_size=0 if ss.cfg_train_size >= full else int(ss.cfg_train_size),
        epochs=int(ss.cfg_epochs), seed=int(ss.cfg_seed), device=ss.cfg_device,
        lr=float(ss.cfg_lr), batch_size=int(ss.cfg_batch_size), optimizer=ss.cfg_optimizer,
    ).validate()
    ss.config = config
    _write_url(config)
    return config


def _write_url(config: RunConfig) -> None:
    params = to_query_params(config)
    if st.session_state.get("lang", "en") != "en":
        params["lang"] = st.session_state["lang"]
    if st.session_state.get("presentation"):
        params["present"] = "1"
    current = {k: st.query_params.get(k) for k in st.query_params.keys()}
    if current != params:
        st.query_params.from_dict(params)


def show_url_warnings() -> None:
    """Each ignored link parameter, shown once per session."""
    for warning in st.session_state.pop("url_warnings", []):
        st.warning(t("url.warning", detail=warning), icon="⚠️")
