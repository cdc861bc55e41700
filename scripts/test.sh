#!/usr/bin/env bash
# One command that sets up everything the tests need and runs them:
#   bash scripts/test.sh
# Creates .venv (Python 3.10+), installs requirements-dev.txt (torch pinned to
# the CPU build), installs Debian's chromium + a CJK font for the browser tests
# when running as root with apt, then runs ruff and pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
# --retries 0: PyTorch's CPU index (for Streamlit Cloud) is unreachable on an
# offline machine; fail over to the other indexes at once instead of backing off.
.venv/bin/python -m pip install -q --retries 0 -r requirements-dev.txt
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing chromium and fonts for the browser tests (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        chromium fonts-noto-cjk fonts-dejavu-core >/dev/null
fi
.venv/bin/ruff check .
exec .venv/bin/python -m pytest -q "$@"
