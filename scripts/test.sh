#!/usr/bin/env bash
# One command that sets up everything the tests need and runs them:
#   bash scripts/test.sh
# Creates .venv (Python 3.10+), installs requirements-dev.txt (torch pinned to
# the CPU build), installs the Debian packages below when running as root with
# apt, then runs ruff and pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
# --retries 0: PyTorch's CPU wheel page (--find-links, for Streamlit Cloud) is unreachable on an
# offline machine; fail over to the other indexes at once instead of backing off.
.venv/bin/python -m pip install -q --retries 0 -r requirements-dev.txt
# Debian packages: chromium and fonts for the browser tests (CJK for the Chinese pages),
# dataset-fashion-mnist (30 MB) for the full-size IDX test, redis-server and postgresql
# for the cluster tests (they start their own instances on free ports in temp folders;
# no system service is used). Installed when root with apt; without them those tests
# skip and say why (under CI=true they fail instead). The app itself needs none of them.
DEBS="chromium fonts-noto-cjk fonts-dejavu-core dataset-fashion-mnist redis-server postgresql"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    missing=""
    for deb in $DEBS; do
        dpkg -s "$deb" >/dev/null 2>&1 || missing="$missing $deb"
    done
    if [ -n "$missing" ]; then
        echo "installing Debian packages for the tests:$missing"
        DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >/dev/null
    fi
fi
.venv/bin/ruff check .
exec .venv/bin/python -m pytest -q "$@"
