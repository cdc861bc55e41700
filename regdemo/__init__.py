"""Regularization Lab's library: data, models, the training loop, runs and charts.

Never imports streamlit: the app, the CLI, the tests and the benchmark all use
the same pieces.
"""

from regdemo.training.checkpoint import load_model, save_checkpoint
from regdemo.training.config import ConfigError, RunConfig, preset
from regdemo.training.engine import fit

__all__ = ["ConfigError", "RunConfig", "fit", "load_model", "preset", "save_checkpoint"]
