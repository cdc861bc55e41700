"""Regularization Lab: `streamlit run streamlit_app.py`.

The entry script draws what every page shares -- the sidebar with the run's
setup (kept in the URL) and presentation mode -- then runs the chosen page.
"""

import streamlit as st

from webapp import layout, sidebar
from webapp.state import t

st.set_page_config(page_title="Regularization Lab", page_icon=":material/science:", layout="wide")

sidebar.init_from_url()  # language and setup from the link, before anything is drawn

pages = {
    t("nav.section.lab"): [
        st.Page("app_pages/playground.py", title=t("nav.playground"), icon=":material/science:", default=True),
        st.Page("app_pages/compare.py", title=t("nav.compare"), icon=":material/compare_arrows:"),
        st.Page("app_pages/sweep.py", title=t("nav.sweep"), icon=":material/show_chart:"),
        st.Page("app_pages/mistakes.py", title=t("nav.mistakes"), icon=":material/search:"),
        st.Page("app_pages/draw.py", title=t("nav.draw"), icon=":material/draw:"),
        st.Page("app_pages/history.py", title=t("nav.history"), icon=":material/history:"),
    ],
    t("nav.section.lessons"): [
        st.Page("app_pages/dropout.py", title=t("nav.dropout"), icon=":material/grain:"),
        st.Page("app_pages/l1_l2.py", title=t("nav.l1_l2"), icon=":material/balance:"),
        st.Page("app_pages/l2.py", title=t("nav.l2"), icon=":material/compress:"),
        st.Page("app_pages/early_stopping.py", title=t("nav.early_stopping"), icon=":material/timer:"),
        st.Page("app_pages/augmentation.py", title=t("nav.augmentation"), icon=":material/rotate_right:"),
        st.Page("app_pages/batchnorm.py", title=t("nav.batchnorm"), icon=":material/tune:"),
    ],
    t("nav.section.more"): [
        st.Page("app_pages/about.py", title=t("nav.about"), icon=":material/info:"),
    ],
}
# st.navigation before any widget: widgets drawn before it on a session's
# first run come back at their defaults on the next rerun (Streamlit 1.67,
# seen in Chromium), which would drop the setup a shared link carried.
# The page files live in app_pages/, not pages/: with a folder named pages/
# beside the entry script, a cold server's first request to a page link runs
# Streamlit's older folder-based navigation (no sidebar, file names as titles).
page = st.navigation(pages)
sidebar.render()
layout.apply_presentation_mode()
sidebar.show_url_warnings()
page.run()
layout.presentation_exit()
