"""Regularization Lab: `streamlit run streamlit_app.py`.

The entry script draws what every page shares -- the sidebar with the run's
setup (kept in the URL) and presentation mode -- then runs the chosen page.
"""

import streamlit as st

from webapp import layout, sidebar
from webapp.state import t

st.set_page_config(page_title="Regularization Lab", page_icon="🧪", layout="wide")

sidebar.init_from_url()  # language and setup from the link, before anything is drawn

pages = {
    t("nav.section.lab"): [
        st.Page("pages/playground.py", title=t("nav.playground"), icon="🧪", default=True),
        st.Page("pages/compare.py", title=t("nav.compare"), icon="📊"),
        st.Page("pages/sweep.py", title=t("nav.sweep"), icon="📈"),
        st.Page("pages/mistakes.py", title=t("nav.mistakes"), icon="🔍"),
        st.Page("pages/history.py", title=t("nav.history"), icon="🗂️"),
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
# st.navigation before any widget: widgets drawn before it on a session's
# first run come back at their defaults on the next rerun (Streamlit 1.67,
# seen in Chromium), which would drop the setup a shared link carried.
page = st.navigation(pages)
sidebar.render()
layout.apply_presentation_mode()
sidebar.show_url_warnings()
page.run()
layout.presentation_exit()
