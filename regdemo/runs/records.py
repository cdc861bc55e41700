"""The records of a run: what pages, the registry, the store and the workers share.

RunView is an immutable snapshot of a run (pages draw it; the store saves and
returns it). Run is the mutable record a run's events are applied to (the
registry's in-memory copy of a live run, the worker's own copy it saves at the
end, the CLI's). The statuses of a run that is not final yet live here; the
final ones are in events.py. Neither jobs nor store imports the other: both
import this module, which imports neither torch nor streamlit.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

from regdemo.messages import MessageError, encode, msg
from regdemo.training.config import RunConfig
from regdemo.training.events import FAILED, FINAL_STATUSES, STOPPED, Done, EpochEnd, MaskSnapshot, Progress, Started

QUEUED, RUNNING = "queued", "running"
MASKS_KEPT = 6  # latest mask snapshots kept per dropout layer


class RunLimitError(MessageError, RuntimeError):
    """The server turns a new run down for now; err.message is meant for the student."""


@dataclass(frozen=True)
class RunView:
    """An immutable snapshot of a Run, safe to read while training goes on."""

    key: str
    config: RunConfig
    status: str
    message: str
    queue_position: int  # 1-based while queued, else 0
    started: Started | None
    progress: tuple[Progress, ...]
    epochs: tuple[EpochEnd, ...]
    masks: dict[str, tuple[MaskSnapshot, ...]]
    done: Done | None
    created_at: float
    started_at: float | None
    finished_at: float | None
    # "" for a run trained by this server process; for a run read back from the
    # store, who trained it: "app", "cli" or "sweep" (stored runs keep no masks).
    source: str = ""

    @property
    def finished(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def epochs_done(self) -> int:
        return len(self.epochs)

    @property
    def fraction_done(self) -> float:
        if self.finished:
            return 1.0
        if not self.progress:
            return 0.0
        return min(1.0, self.progress[-1].epoch / self.config.epochs)


class Run:
    def __init__(self, config: RunConfig):
        self.config = config
        self.key = config.key()
        self.stop_event = threading.Event()
        self._lock = threading.Lock()
        # Set once the run is final *and* its registry has saved it (see wait()).
        self._settled = threading.Event()
        self._first_point = threading.Event()  # set by the first Progress, or by the end
        self.managed = False  # True when a Registry trains it and settles it after saving
        self.status = QUEUED
        self.message = ""
        self.notice = ""  # e.g. "trained on the CPU instead"; prefixed to the final message
        self.queue_position = 0
        self.started: Started | None = None
        self.progress: list[Progress] = []
        self.epochs: list[EpochEnd] = []
        self.masks: dict[str, deque[MaskSnapshot]] = {}
        self.done: Done | None = None
        self.created_at = time.time()
        self.started_at: float | None = None
        self.finished_at: float | None = None
        self.source = ""
        self.saved = False  # in the run store: memory may let go of it
        # Registry bookkeeping, guarded by the registry's lock.
        self.owner: str | None = None  # the session that started it (session cap)
        self.viewers: dict[str, float] = {}  # session -> last touch (registry clock)
        self.watched = False  # a page called touch() for it: the grace-period rule applies
        self.started_tick: float | None = None  # registry clock when training began
        self._stop_reason = ""
        self.seq = 0  # events applied so far, by their number in the run store (registry only)

    @classmethod
    def from_view(cls, view: RunView) -> Run:
        """A finished Run holding a stored run (RunStore.get), as if trained here."""
        run = cls(view.config)
        run.status, run.message = view.status, view.message
        run.started, run.done = view.started, view.done
        run.progress, run.epochs = list(view.progress), list(view.epochs)
        run.created_at, run.started_at, run.finished_at = view.created_at, view.started_at, view.finished_at
        run.source, run.saved = view.source, True
        run._settled.set()
        run._first_point.set()
        return run

    # -- written by the training thread -------------------------------------
    def apply(self, event) -> None:
        with self._lock:
            if isinstance(event, Started):
                if self.started is not None:  # a second attempt (on the CPU): forget the first
                    self.progress, self.epochs, self.masks, self.done = [], [], {}, None
                self.started = event
            elif isinstance(event, Progress):
                self.progress.append(event)
                self._first_point.set()
            elif isinstance(event, EpochEnd):
                self.epochs.append(event)
            elif isinstance(event, MaskSnapshot):
                self.masks.setdefault(event.layer, deque(maxlen=MASKS_KEPT)).append(event)
            elif isinstance(event, Done):
                message = event.message
                if event.status == STOPPED and self._stop_reason:
                    message = self._stop_reason
                # The model stays out of the registry: it would pin memory for
                # every run ever trained. The CLI keeps it from fit() directly.
                self.done = Done(event.status, event.epochs_run, event.best_epoch, event.step,
                                 message, event.test_predictions)
                self._finish(event.status, message)

    def _finish(self, status: str, message: str) -> None:
        self._first_point.set()
        self.status = status
        self.message = encode(self.notice, message)  # stored messages (messages.py), joined
        self.queue_position = 0
        self.finished_at = time.time()
        if not self.managed:
            self._settled.set()

    def mark_running(self) -> None:
        with self._lock:
            self.status, self.queue_position, self.started_at = RUNNING, 0, time.time()

    def mark_queued_again(self, message: str) -> None:
        """Its worker was lost and the run waits again (runs/requeue.py); the curves drawn so far
        stay until the next attempt's Started replaces them."""
        with self._lock:
            if self.status == RUNNING:
                self.status, self.message = QUEUED, message

    def mark_failed(self, message: str) -> None:
        with self._lock:
            if self.status not in FINAL_STATUSES:
                self._finish(FAILED, message)

    def add_notice(self, text: str) -> None:
        """A note shown while the run trains and kept in its final message."""
        with self._lock:
            self.notice = encode(self.notice, text)
            if not self.finished:
                self.message = self.notice

    def set_notice(self, text: str) -> None:
        """The worker's notice while the run trains (e.g. trained on the CPU instead)."""
        with self._lock:
            if not self.finished and text:
                self.message = text  # the worker's Done message carries it on: not in self.notice

    def take_final(self, status: str, message: str) -> None:
        """The worker's last word: its final status and message (notices included)."""
        with self._lock:
            if self.status not in FINAL_STATUSES:
                self.finished_at = time.time()
            self.status, self.message, self.queue_position = status, message, 0
            self._first_point.set()
            if self.done is not None and (self.done.status != status or self.done.message != message):
                d = self.done
                self.done = Done(status, d.epochs_run, d.best_epoch, d.step, message, d.test_predictions)

    def restart(self) -> None:
        """Forget what a failed attempt drew, before training again (on the CPU)."""
        with self._lock:
            self.started, self.done = None, None
            self.progress, self.epochs, self.masks = [], [], {}

    # -- read by pages --------------------------------------------------------
    def wait_first_point(self, timeout: float) -> bool:
        """Block up to `timeout` s until the run has a point to draw (or has ended)."""
        return self._first_point.wait(timeout)

    def view(self) -> RunView:
        with self._lock:
            return RunView(
                key=self.key, config=self.config, status=self.status, message=self.message,
                queue_position=self.queue_position, started=self.started,
                progress=tuple(self.progress), epochs=tuple(self.epochs),
                masks={k: tuple(v) for k, v in self.masks.items()}, done=self.done,
                created_at=self.created_at, started_at=self.started_at,
                finished_at=self.finished_at, source=self.source,
            )

    @property
    def finished(self) -> bool:
        return self.status in FINAL_STATUSES

    def stop(self, reason: str = "") -> None:
        """Ask the run to end; a queued run ends at once, a running one within a step."""
        with self._lock:
            if self.status in FINAL_STATUSES:
                return
            self._stop_reason = reason
            self.stop_event.set()
            if self.status == QUEUED:
                self._finish(STOPPED, reason or encode(msg("run.stopped_before_start")))
                self._settled.set()  # no trainer will pick it up: nothing left to save

    def settle(self) -> None:
        """The registry is done with it (saved, or not worth saving)."""
        self._settled.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Until the run is final and, in a registry, saved: after wait() the store has it."""
        return self._settled.wait(timeout)
