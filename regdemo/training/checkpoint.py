"""Checkpoints: a run's config and weights in one file, written atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch

from regdemo.training.config import RunConfig
from regdemo.training.models import build_model


def save_checkpoint(model: torch.nn.Module, config: RunConfig, path: str | os.PathLike) -> Path:
    """Write {config, state_dict} to `path` via a temp file and rename: never a half file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save({"config": config.to_dict(), "state_dict": state}, f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_model(path: str | os.PathLike) -> torch.nn.Module:
    """The checkpoint's model, rebuilt from its config, in eval mode on the CPU."""
    blob = torch.load(path, map_location="cpu", weights_only=True)
    config = RunConfig.from_dict(blob["config"])
    model = build_model(config.model, config.dropout, config.batchnorm)
    model.load_state_dict(blob["state_dict"])
    model.config = config
    return model.eval()
