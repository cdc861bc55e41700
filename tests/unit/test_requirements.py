"""requirements.txt installs a CPU-only torch, here and on Streamlit Community Cloud.

Here a local torch==2.13.0+cpu wheel satisfies the pin; on Cloud only the
PyTorch CPU index line keeps pip from pulling the PyPI build with several GB of
CUDA packages. The first test guards that line (a local wheel would hide its
loss); the second asks pip's resolver for the whole file without installing.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "requirements.txt"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
# pip's words when it could not talk to an index at all (then the test cannot
# judge the file and skips); any other failure is the file's fault.
OFFLINE_SIGNS = (
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "Could not fetch URL",
    "ConnectTimeoutError",
)


def _lines():
    return [line.split("#", 1)[0].strip() for line in REQUIREMENTS.read_text().splitlines()]


def test_requirements_pin_torch_and_name_the_cpu_index():
    lines = _lines()
    assert f"--extra-index-url {CPU_INDEX}" in lines
    assert "torch==2.13.0" in lines
    # A loose torch spec anywhere else would let the resolver pick a CUDA build.
    assert [line for line in lines if line.startswith("torch")] == ["torch==2.13.0"]


@pytest.mark.subprocess
def test_pip_resolves_requirements_to_cpu_torch(tmp_path):
    report = tmp_path / "report.json"
    command = [
        sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
        "--retries", "0", "--quiet", "--disable-pip-version-check",
        "--report", str(report), "-r", str(REQUIREMENTS),
    ]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    if result.returncode != 0:
        if any(sign in output for sign in OFFLINE_SIGNS):
            pytest.skip(f"pip could not reach a package index: {output[-600:]}")
        pytest.fail(f"pip rejected requirements.txt:\n{output[-3000:]}")

    chosen = {item["metadata"]["name"].lower(): item["metadata"]["version"]
              for item in json.loads(report.read_text())["install"]}
    assert chosen.get("torch") == "2.13.0+cpu", chosen.get("torch")
    cuda = sorted(name for name in chosen if name.startswith("nvidia-") or name == "triton")
    assert cuda == [], f"CUDA packages would be installed: {cuda}"
    for needed in ("streamlit", "altair", "pandas"):
        assert needed in chosen, f"{needed} is missing from the resolution"
