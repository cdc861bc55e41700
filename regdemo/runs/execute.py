"""One run through a worker: `train_run(key, config, store)`, the one function every kind of
worker calls -- a process of the local pool (runs/worker.py), a thread of the in-process pool
(unit tests), or an RQ task on another machine (runs/cluster.py). It trains with engine.fit and
sends everything through the run store (see docs/load.md for why the store and not a pipe):

  - mark_started (a run stopped or claimed meanwhile is skipped);
  - events go to store.append_events in batches, at most ~0.2 s old, and at once
    for Started, EpochEnd and Done; a second Started means "forget the first
    attempt" (the GPU ran out of memory and the run trains again on the CPU);
  - a watcher thread heartbeats every second and polls the row's stop_reason
    every 0.2 s, so Stop is honoured within a step of that (well under 1 s);
  - a missing device or a GPU out of memory trains on the CPU with a notice; any
    exception ends the run "failed" with a readable message (no traceback: that
    goes to the log);
  - at the end the finished run is saved (store.save) and its final status and
    message set on the live row, in that order: whoever sees the final status
    finds the run in the store.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable

from regdemo.messages import encode, msg
from regdemo.runs.records import RUNNING, Run
from regdemo.training.config import ConfigError, RunConfig
from regdemo.training.events import FINAL_STATUSES, Done, EpochEnd, Started

log = logging.getLogger(__name__)

FLUSH_SECONDS = 0.15  # events wait at most this long (plus one watcher tick) before they are written
WATCH_SECONDS = 0.2  # the watcher polls the stop request and flushes this often
HEARTBEAT_SECONDS = 1.0


class _Batcher:
    """Collects a run's events and writes them in batches (one transaction each)."""

    def __init__(self, store, key: str):
        self.store, self.key = store, key
        self._pending: list = []
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def add(self, event) -> None:
        with self._lock:
            self._pending.append(event)
            urgent = isinstance(event, (Started, EpochEnd, Done))
            if urgent or time.monotonic() - self._last >= FLUSH_SECONDS:
                self._flush()

    def flush(self) -> None:
        with self._lock:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self.store.append_events(self.key, self._pending)
            self._pending = []
        self._last = time.monotonic()


class _Watcher(threading.Thread):
    """Heartbeats, flushes events that waited too long, and turns a stop request in the
    store into the run's stop event."""

    def __init__(self, store, key: str, record: Run, batcher: _Batcher):
        super().__init__(name=f"regdemo-watch-{key}", daemon=True)
        self.store, self.key, self.record, self.batcher = store, key, record, batcher
        self._halt = threading.Event()

    def run(self) -> None:
        beat = time.monotonic()
        while not self._halt.wait(WATCH_SECONDS):
            try:
                self.batcher.flush()
                row = self.store.live(self.key)
                if row is None:
                    self.record.stop(encode(msg("run.dropped")))
                elif row.stop_reason:
                    self.record.stop(row.stop_reason)
                if time.monotonic() - beat >= HEARTBEAT_SECONDS:
                    self.store.heartbeat(self.key)
                    beat = time.monotonic()
            except Exception:  # noqa: BLE001 -- the watcher must outlive a store hiccup
                log.exception("run %s: watcher", self.key)

    def halt(self) -> None:
        self._halt.set()
        self.join(5)


def train_run(key: str, config, store, *, results=None, source: str = "app", save: bool = True,
              train: Callable | None = None, worker: str | None = None) -> str:
    """Train run `key` (a RunConfig or its to_dict()) through `store`; returns the final
    status ("" when the run was no longer waiting: stopped, claimed or dropped).

    `results`: where the finished run is saved (default `store`); `save=False` saves
    nothing. `train(config, stop=event)` yields events (default engine.fit; unit tests
    inject fakes in the in-process pool).
    """
    if not isinstance(config, RunConfig):
        config = RunConfig.from_dict(config)
    worker = worker or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
    if not store.mark_started(key, worker):
        row = store.live(key)
        return row.status if row is not None and row.status in FINAL_STATUSES else ""
    record = Run(config)
    record.mark_running()
    batcher = _Batcher(store, key)
    watcher = _Watcher(store, key, record, batcher)
    watcher.start()
    model = None
    try:
        model = _attempts(record, config, train, batcher, store, key)
    except BaseException as err:  # noqa: BLE001 -- even KeyboardInterrupt leaves a final status
        record.mark_failed(_failure_message(key, err))
        if not isinstance(err, Exception):
            raise
    finally:
        watcher.halt()
        if not record.finished:
            record.mark_failed(encode(msg("run.no_final_status")))
        batcher.flush()
        view = record.view()
        target = store if results is None else results
        if save and target is not None:
            try:
                if target.save(view, source=source) and model is not None:
                    from regdemo.runs import inference  # noqa: PLC0415 -- torch (a model exists): see _attempts

                    if view.status in inference.KEEPS_WEIGHTS:
                        target.save_weights(key, inference.weights_bytes(model))  # for the Draw page
            except Exception:  # noqa: BLE001 -- a store failure must not lose the status
                log.exception("run %s: saving it failed", key)
        store.set_status(key, view.status, view.message)
    return view.status


def _attempts(record: Run, config: RunConfig, train, batcher: _Batcher, store, key: str):
    """fit on the asked device, else on the CPU (device missing, GPU out of memory); returns
    the trained model of the final Done (None when there was none)."""
    # torch here, not at the top: the Streamlit server imports this module for its pool and
    # must stay free of torch (docs/deploy.md); the worker processes have it loaded already.
    import torch  # noqa: PLC0415 -- see above

    from regdemo.training import engine  # noqa: PLC0415 -- see above

    train = train or engine.fit
    try:
        engine.resolve_device(config.device)
    except ConfigError:
        config = config.replace(device="cpu")
        _notice(record, store, key, encode(msg("run.device_missing", device=record.config.device)))
    try:
        return _consume(record, config, train, batcher)
    except torch.OutOfMemoryError:
        used = record.started.device if record.started else config.device
        if used == "cpu":
            record.mark_failed(encode(msg("run.cpu_out_of_memory")))
            return
        log.warning("run %s: out of memory on %s, training again on the CPU", key, used)
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        record.restart()  # the next Started tells the readers to forget this attempt too
        _notice(record, store, key, encode(msg("run.gpu_out_of_memory", device=used)))
        try:
            return _consume(record, config.replace(device="cpu"), train, batcher)
        except Exception as err:  # noqa: BLE001 -- any failure becomes the run's status
            record.mark_failed(_failure_message(key, err))
    except Exception as err:  # noqa: BLE001 -- any failure becomes the run's status
        record.mark_failed(_failure_message(key, err))
    return None


def _notice(record: Run, store, key: str, text: str) -> None:
    record.add_notice(text)
    store.set_status(key, RUNNING, record.notice)


def _consume(record: Run, config: RunConfig, train, batcher: _Batcher):
    model = None
    for event in train(config, stop=record.stop_event):
        record.apply(event)
        if isinstance(event, Done):  # the record's message: notices and stop reason included
            model = event.model
            event = Done(event.status, event.epochs_run, event.best_epoch, event.step, record.message,
                         event.test_predictions)
        batcher.add(event)
    return model


def _failure_message(key: str, err: BaseException) -> str:
    from regdemo.training.data import DataError  # noqa: PLC0415 -- loaded already where a run trains (see _attempts)

    if isinstance(err, (DataError, ConfigError)):
        return encode(err.message)  # written for the user already
    log.error("run %s failed", key, exc_info=err)  # the traceback goes to the log only
    return encode(msg("run.training_failed", error=f"{type(err).__name__}: {err}"))


def death_how(returncode: int):
    """How the process training a run died (a Message: killed by SIGKILL, exit code 1)."""
    if returncode < 0:
        try:
            return msg("run.killed_by", signal=signal.Signals(-returncode).name)
        except ValueError:
            return msg("run.killed_by", signal=-returncode)
    return msg("run.exit_code", code=returncode)


def death_message(returncode: int) -> str:
    """What a run says when the process training it died."""
    return encode(msg("run.worker_died", how=death_how(returncode)))
