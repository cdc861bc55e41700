"""The Streamlit side of Regularization Lab: sidebar, session state, live drawing.

Pages in app_pages/ are short glue on top of this package and regdemo/.
"""
