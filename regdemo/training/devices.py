"""Whether this machine could train on a CUDA GPU, asked without importing torch.

The Streamlit server imports no torch (its workers do, docs/deploy.md), yet the
sidebar offers "cuda" only where it could work. Two facts answer that from the
file system: the installed torch carries its CUDA library, and the kernel knows an
NVIDIA GPU. A wrong guess costs little: a run asked for a missing device trains on
the CPU and says so (runs.worker).
"""

from __future__ import annotations

import importlib.util
import pathlib

NVIDIA_GPUS = pathlib.Path("/proc/driver/nvidia/gpus")


def cuda_missing() -> str | None:
    """None if a CUDA GPU looks usable, else why not: "cpu_build" or "no_device"."""
    spec = importlib.util.find_spec("torch")  # finds the package; does not run it
    folder = pathlib.Path(spec.origin).parent if spec is not None and spec.origin else None
    if folder is None or not any((folder / "lib").glob("libtorch_cuda*")):
        return "cpu_build"
    if not (NVIDIA_GPUS.is_dir() and any(NVIDIA_GPUS.iterdir())):
        return "no_device"
    return None
