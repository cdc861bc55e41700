"""Regularization Lab: a placeholder page until the app lands."""

import streamlit as st

st.set_page_config(page_title="Regularization Lab", layout="wide")
st.title("Regularization Lab")
st.write("The training engine is ready: `python -m regdemo train`.")
