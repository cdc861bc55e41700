"""requirements.txt installs a CPU-only torch, here and on Streamlit Community Cloud.

Cloud installs the file with uv and falls back to pip. Both are asked to
resolve it here as Cloud would, with one change: PyTorch's find-links page is
replaced by a temp folder holding a stand-in `torch-2.13.0+cpu` wheel the test
builds, beside a stale `requests` of the kind PyTorch's CPU index carries. Every
other package comes from the default index (PyPI), which CI reaches. The
resolution must pick the +cpu torch from the folder, no CUDA package, and
nothing else from the folder.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "requirements.txt"
TORCH_PAGE = "https://download.pytorch.org/whl/cpu/torch/"
# Words of pip and uv when they could not talk to an index at all (then the
# test cannot judge the file and skips); any other failure is the file's fault.
OFFLINE_SIGNS = (
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "Could not fetch URL",
    "ConnectTimeoutError",
    "Failed to fetch",
    "dns error",
)
# What the real torch 2.13.0+cpu wheel requires (its METADATA), so the
# resolution around the stand-in is the one Cloud gets.
TORCH_REQUIRES = ("filelock", "typing-extensions>=4.10.0", "setuptools>=77.0.3", "sympy>=1.13.3",
                  "networkx>=2.5.1", "jinja2", "fsspec>=0.8.5")


def _lines():
    return [line.split("#", 1)[0].strip() for line in REQUIREMENTS.read_text().splitlines()]


def _build_wheel(folder: pathlib.Path, name: str, version: str, requires=()) -> pathlib.Path:
    """A minimal pure-Python wheel: enough for a resolver, nothing to run."""
    dist = f"{name}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nRequires-Python: >=3.10\n"
    metadata += "".join(f"Requires-Dist: {r}\n" for r in requires)
    files = {f"{name}/__init__.py": "",
             f"{dist}/METADATA": metadata,
             f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    record = []
    path = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for member, text in files.items():
            wheel.writestr(member, text)
            digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
            record.append(f"{member},sha256={digest},{len(text)}")
        wheel.writestr(f"{dist}/RECORD", "\n".join(record + [f"{dist}/RECORD,,"]) + "\n")
    return path


@pytest.fixture
def local_requirements(tmp_path):
    """requirements.txt with PyTorch's page swapped for a folder of stand-ins."""
    page = tmp_path / "torch-page"
    page.mkdir()
    _build_wheel(page, "torch", "2.13.0+cpu", TORCH_REQUIRES)
    _build_wheel(page, "requests", "2.28.1", ("urllib3<1.27",))
    text = REQUIREMENTS.read_text()
    assert TORCH_PAGE in text
    local = tmp_path / "requirements.txt"
    local.write_text(text.replace(TORCH_PAGE, str(page)))
    return local, page


def _isolated_env(tmp_path):
    """No pip/uv settings of this machine (its own wheel folder and mirrors)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    env.update(PIP_CONFIG_FILE=os.devnull, UV_NO_CONFIG="1", UV_CACHE_DIR=str(tmp_path / "uv-cache"),
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    return env


def _run(command, tmp_path):
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600,
                            env=_isolated_env(tmp_path))
    output = result.stdout + result.stderr
    if result.returncode != 0:
        if any(sign in output for sign in OFFLINE_SIGNS):
            pytest.skip(f"could not reach a package index: {output[-600:]}")
        pytest.fail(f"{command[0]} rejected requirements.txt:\n{output[-3000:]}")


def _check(chosen: dict[str, tuple[str, str]], page: pathlib.Path):
    assert chosen.get("torch", ("",))[0] == "2.13.0+cpu", chosen.get("torch")
    cuda = sorted(name for name in chosen if name.startswith("nvidia-") or name in ("triton", "cuda-python")
                  or "cuda" in name)
    assert cuda == [], f"CUDA packages would be installed: {cuda}"
    from_page = sorted(name for name, (_, url) in chosen.items() if page.name in url)
    assert from_page == ["torch"], f"taken from PyTorch's page: {from_page}"
    for needed in ("streamlit", "altair", "pandas", "requests", "jinja2"):
        assert needed in chosen, f"{needed} is missing from the resolution"


def test_requirements_pin_cpu_torch_through_find_links():
    lines = _lines()
    assert f"--find-links {TORCH_PAGE}" in lines
    assert not any(line.startswith(("--extra-index-url", "--index-url", "-i ")) for line in lines)
    # A loose torch spec anywhere else would let the resolver pick a CUDA build.
    assert [line for line in lines if line.startswith("torch")] == [
        'torch==2.13.0+cpu ; sys_platform == "linux"', 'torch==2.13.0 ; sys_platform != "linux"']
    # Cloud installs the first of these it finds instead of requirements.txt.
    assert [name for name in ("uv.lock", "Pipfile", "environment.yml") if (ROOT / name).exists()] == []


@pytest.mark.subprocess
def test_uv_resolves_requirements_as_cloud_does(local_requirements, tmp_path):
    uv = shutil.which("uv", path=str(pathlib.Path(sys.executable).parent)) or shutil.which("uv")
    if uv is None:
        pytest.fail("uv is not installed: pip install -r requirements-dev.txt")
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    requirements, page = local_requirements
    lock = tmp_path / "pylock.toml"
    # Cloud's containers: Linux x86-64, the Python chosen in its settings (3.11 here).
    _run([uv, "pip", "compile", "--no-config", "--python-version", "3.11",
          "--python-platform", "x86_64-manylinux_2_28", str(requirements), "-o", str(lock)], tmp_path)
    chosen = {}
    for package in tomllib.loads(lock.read_text())["packages"]:
        sources = [w.get("url", w.get("path", "")) for w in package.get("wheels", [])]
        sources.append(package.get("sdist", {}).get("url", ""))
        chosen[package["name"].lower()] = (package["version"], " ".join(sources))
    _check(chosen, page)


@pytest.mark.subprocess
def test_pip_resolves_requirements_as_cloud_does(local_requirements, tmp_path):
    requirements, page = local_requirements
    report = tmp_path / "report.json"
    _run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--retries", "0",
          "--quiet", "--report", str(report), "-r", str(requirements)], tmp_path)
    chosen = {item["metadata"]["name"].lower(): (item["metadata"]["version"], item["download_info"]["url"])
              for item in json.loads(report.read_text())["install"]}
    _check(chosen, page)
