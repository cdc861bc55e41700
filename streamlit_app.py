"""Regularization Lab: `streamlit run streamlit_app.py`.

The entry script draws what every page shares -- the sidebar with the run's
setup (kept in the URL) and presentation mode -- then runs the chosen page.
"""

import streamlit as st

from webapp import layout, sidebar
from webapp.state import t

st.set_page_config(page_title="Regularization Lab", page_icon="🧪", layout="wide")

sidebar.render()
layout.apply_presentation_mode()

pages = {
    t("nav.section.lab"): [
        st.Page("pages/playground.py", title=t("nav.playground"), icon="🧪", default=True),
    ],
    t("nav.section.lessons"): [
        st.Page("pages/dropout.py", title=t("nav.dropout"), icon="🎲"),
        st.Page("pages/l1_l2.py", title=t("nav.l1_l2"), icon="⚖️"),
        st.Page("pages/early_stopping.py", title=t("nav.early_stopping"), icon="⏱️"),
        st.Page("pages/augmentation.py", title=t("nav.augmentation"), icon="🔄"),
    ],
    t("nav.section.more"): [
        st.Page("pages/about.py", title=t("nav.about"), icon="ℹ️"),
    ],
}
page = st.navigation(pages)
sidebar.show_url_warnings()
page.run()
layout.presentation_exit()
