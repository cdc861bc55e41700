"""Regularization Lab's library: data, models, the training loop, runs and charts.

Never imports streamlit: the app, the CLI, the tests and the benchmark all use
the same pieces.

The names below load on first use (PEP 562): `import regdemo.config` from the
Streamlit server must not pull in torch through this file, since the server
draws from numbers and uint8 arrays and leaves torch to its workers.
"""

import importlib

_HOMES = {"load_model": "regdemo.checkpoint", "save_checkpoint": "regdemo.checkpoint",
          "ConfigError": "regdemo.config", "RunConfig": "regdemo.config", "preset": "regdemo.config",
          "fit": "regdemo.engine"}

__all__ = ["ConfigError", "RunConfig", "fit", "load_model", "preset", "save_checkpoint"]


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module 'regdemo' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value  # once: later lookups do not come back here
    return value
