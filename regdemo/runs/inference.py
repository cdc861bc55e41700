"""A finished run's weights, and what its net says about one digit: the worker's side.

Workers save a finished run's weights next to the run (store.save_weights) as the bytes
of `weights_bytes`; the Draw page's questions (predict.py) are answered here, in the
worker processes, where torch already is. `listen` serves them on a Unix socket from a
thread of the worker: the training thread runs on, and a forward pass of one digit
through the wide net takes about a millisecond, so the answer does not wait for the run.
"""

from __future__ import annotations

import io
import json
import logging
import os
import socketserver
import threading
from collections import OrderedDict

import torch

from regdemo.runs.predict import DIVERGED_RUN, NO_RUN, NO_STORE, NO_WEIGHTS
from regdemo.storage.rows import REUSABLE
from regdemo.training.config import RunConfig
from regdemo.training.events import DIVERGED, EARLY_STOPPED, FINISHED
from regdemo.training.models import build_model

log = logging.getLogger(__name__)

CACHED_MODELS = 8  # a class looks at a few lesson pairs; each net is well under a few MB
KEEPS_WEIGHTS = (FINISHED, EARLY_STOPPED)  # runs whose weights the store keeps (diverged ones are NaN)


def weights_bytes(model: torch.nn.Module) -> bytes:
    """The model's state_dict, on the CPU, as torch.save bytes."""
    buffer = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, buffer)
    return buffer.getvalue()


def model_from_bytes(config: RunConfig, blob: bytes) -> torch.nn.Module:
    """The run's net rebuilt from its config and `weights_bytes`, in eval mode."""
    model = build_model(config.model, config.dropout, config.batchnorm)
    model.load_state_dict(torch.load(io.BytesIO(blob), map_location="cpu", weights_only=True))
    return model.eval()


@torch.inference_mode()
def probabilities(model: torch.nn.Module, pixels) -> list[float]:
    """Class probabilities (10, summing to 1) of a uint8 28x28 digit, prepared like training's."""
    x = torch.as_tensor(pixels, dtype=torch.uint8).reshape(1, 1, 28, 28).float().div_(255.0)
    return model(x).float().exp()[0].tolist()  # the nets end in log-softmax


class Models:
    """The nets of the runs asked about lately, loaded from the store once each."""

    def __init__(self, store, size: int = CACHED_MODELS):
        self.store, self.size = store, size
        self._models: OrderedDict[str, torch.nn.Module] = OrderedDict()
        self._lock = threading.Lock()  # one question at a time: a forward pass is ~1 ms

    def answer(self, keys: list[str], pixels) -> dict[str, dict]:
        with self._lock:
            return {key: self._one(key, pixels) for key in keys}

    def _one(self, key: str, pixels) -> dict:
        model = self._models.get(key)
        if model is None:
            if self.store is None:
                return {"error": NO_STORE}
            view = self.store.get(key)
            if view is None or view.status not in REUSABLE:
                return {"error": NO_RUN}
            if view.status == DIVERGED:  # its weights are not numbers any more: none were kept
                return {"error": DIVERGED_RUN}
            blob = self.store.weights(key)
            if blob is None:
                return {"error": NO_WEIGHTS}
            model = model_from_bytes(view.config, blob)
            self._models[key] = model
            if len(self._models) > self.size:
                self._models.popitem(last=False)
        self._models.move_to_end(key)
        return {"probs": probabilities(model, pixels)}


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        try:
            task = json.loads(self.rfile.readline())
            results = self.server.models.answer(task["keys"], task["pixels"])
            reply = {"results": results}
        except Exception as err:  # noqa: BLE001 -- a bad question must not end the listener
            log.exception("draw: answering failed")
            reply = {"error": f"{type(err).__name__}: {err}"}
        self.wfile.write((json.dumps(reply) + "\n").encode())


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def listen(path, store) -> threading.Thread:
    """Answer predict.ask on the Unix socket `path` from a daemon thread (the worker's
    training thread is not disturbed); the socket lives in the pool's live folder, removed with it."""
    path = os.fspath(path)
    if os.path.exists(path):
        os.unlink(path)
    server = _Server(path, _Handler)
    server.models = Models(store)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.5},
                              name="regdemo-infer", daemon=True)
    thread.start()
    return thread
