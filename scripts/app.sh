#!/usr/bin/env bash
# One command that sets up and runs the app on the embedded MNIST sample:
#   bash scripts/app.sh            (extra arguments go to `streamlit run`)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
# --retries 0: offline, skip PyTorch's CPU index (used on Streamlit Cloud) at once.
.venv/bin/python -m pip install -q --retries 0 -r requirements.txt
exec .venv/bin/streamlit run streamlit_app.py "$@"
