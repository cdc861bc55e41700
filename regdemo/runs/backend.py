"""Where runs train: one contract for this server's worker processes and for a task queue.

The registry hands a run to a Backend and knows nothing else of where it trains:

  - worker.LocalPool: worker processes of this server (worker.InProcessPool: threads, for
    unit tests), fed from an in-memory FIFO;
  - cluster.RQDispatcher: RQ workers anywhere, fed through Redis.

Events, statuses and stop requests travel through the live channel (storage: a SQLite file
of this server's own, or the PostgreSQL every server shares), so stop() is the same request
either way; what differs is who notices a lost worker: a local pool at once (its slot thread
sees the process die and reports it), a queue by stale heartbeats (check_stale).
"""

from __future__ import annotations

from typing import Protocol

from regdemo.training.config import RunConfig


class Backend(Protocol):
    def submit(self, key: str, config: RunConfig) -> None:
        """Queue run `key` (FIFO). Raises RuntimeError with a readable message when it cannot."""

    def stop(self, key: str, reason: str = "") -> None:
        """Ask run `key`'s worker to stop it (within a step), or to skip it if it has not begun."""

    def capacity(self) -> str:
        """"" when a run can be queued now, else why not (an encoded message)."""

    def check_stale(self) -> list[str]:
        """Fail the runs whose worker vanished; their keys (call it freely: it rate-limits itself)."""

    def predict(self, keys: list[str], pixels, timeout: float = 5.0) -> dict[str, dict]:
        """The Draw page's question about finished runs, answered where torch lives and not
        behind the training queue (predict.py, answers.py). Raises predict.PredictError when
        no worker answers within `timeout` seconds."""

    def close(self, timeout: float = 5.0) -> None:
        """Let go of every process, thread and connection of ours."""

    def alive(self) -> int:
        """Threads and processes of ours still alive (0 after close)."""
