"""Whether this machine could train on a CUDA GPU, asked without importing torch.

The Streamlit server imports no torch (its workers do, docs/deploy.md), yet the
sidebar offers "cuda" only where it could work. Two facts answer that from the
file system: the installed torch carries its CUDA library, and the kernel knows an
NVIDIA GPU. A wrong guess costs little: a run asked for a missing device trains on
the CPU and says so (runs.worker).
"""

from __future__ import annotations

import pathlib
import sys

NVIDIA_GPUS = pathlib.Path("/proc/driver/nvidia/gpus")


def cuda_missing() -> str | None:
    """None if a CUDA GPU looks usable, else why not: "cpu_build" or "no_device"."""
    # The torch folder on the import path, looked up as a folder: nothing is imported or run.
    folders = (pathlib.Path(entry or ".") / "torch" for entry in sys.path)
    folder = next((f for f in folders if (f / "__init__.py").is_file()), None)
    if folder is None or not any((folder / "lib").glob("libtorch_cuda*")):
        return "cpu_build"
    if not (NVIDIA_GPUS.is_dir() and any(NVIDIA_GPUS.iterdir())):
        return "no_device"
    return None
