"""Developer tools beside the app, not part of it: the benchmark, the screenshots, the load
tests and the measuring scripts. Run them from a checkout (`python -m tools.bench --help`).

appserver.py is the one way a tool or a test starts the real app (`streamlit run`) and drives
it in Debian's Chromium; procmem.py reads processes' memory from /proc. The app never imports
anything here.
"""
