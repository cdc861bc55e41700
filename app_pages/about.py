"""About: what overfitting is, how to read the curves, what each regularizer does, credits."""

import streamlit as st

from regdemo.teaching.lessons import lesson
from webapp.state import lang, t

st.title(t("nav.about"))
st.markdown(t("about.overfitting"))

st.header(t("about.curves.title"))
st.markdown(t("about.curves"))

st.header(t("about.regularizers.title"))
names = ("dropout", "l1", "l2", "early_stopping", "augment", "data", "batchnorm")
st.markdown("\n".join(f"- {t(f'about.regularizer.{name}')}" for name in names))

st.header(t("about.lab.title"))
st.markdown(lesson("about", lang()))

st.header(t("about.credits.title"))
st.markdown(t("about.credits"))
