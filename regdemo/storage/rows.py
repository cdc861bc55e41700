"""What both run stores share (store.RunStore on SQLite, store_postgres.PostgresStore): the
records they return, which runs are worth keeping, and one way to turn a finished run's
RunView into a row of table `runs` and back, so the two stores cannot drift apart.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, fields

from regdemo.messages import MessageError, msg
from regdemo.runs.records import RunView
from regdemo.training.config import RunConfig
from regdemo.training.events import (
    DIVERGED,
    EARLY_STOPPED,
    FINISHED,
    STOPPED,
    Done,
    EpochEnd,
    Progress,
    Started,
    from_json_dict,
)

# Final answers for their config: the registry reuses them instead of training again.
REUSABLE = (FINISHED, EARLY_STOPPED, DIVERGED)
SOURCES = ("app", "cli", "sweep")

SUMMARY_COLUMNS = ("key", "label", "config", "status", "message", "source", "dataset", "model",
                    "epochs_run", "best_epoch", "step", "test_acc", "train_acc", "train_acc_eval",
                    "test_loss", "seconds", "created_at", "started_at", "finished_at", "saved_at")


def worth_saving(view) -> bool:
    """Final answers always; a stopped run only if it drew something; never a failure
    (it is retried on the next click, and its message is shown live)."""
    return view.status in REUSABLE or (view.status == STOPPED and bool(view.progress))


@dataclass(frozen=True)
class RunSummary:
    """One stored run without its curves: a row of the History list."""

    key: str
    label: str
    config: RunConfig
    status: str
    message: str
    source: str
    dataset: str
    model: str
    epochs_run: int
    best_epoch: int
    step: int
    test_acc: float | None
    train_acc: float | None
    train_acc_eval: float | None
    test_loss: float | None
    seconds: float | None
    created_at: float
    started_at: float | None
    finished_at: float | None
    saved_at: float

    def to_json(self) -> dict:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["config"] = self.config.to_dict()
        return data


@dataclass(frozen=True)
class LiveRow:
    """A run queued or training somewhere (the table `live`)."""

    key: str
    config: RunConfig
    status: str
    message: str
    owner: str | None
    worker: str | None
    stop_reason: str  # "" = none
    created_at: float
    started_at: float | None
    heartbeat_at: float | None
    watched_at: float | None
    attempts: int = 0  # times it was queued again after its worker was lost (runs/requeue.py)


class StoreUnavailable(MessageError, RuntimeError):
    """The configured store cannot be used at start; the message is one readable line that
    names the variable to fix (the app shows it instead of a traceback, the CLI prints it).
    It carries the code of what went wrong (settings.SettingError, settings.UrlError, or its
    own: store.unreachable, store.no_driver), so a page says it in the reader's language."""


# -- rows <-> RunViews -----------------------------------------------------------------------

def dumps(value) -> str:
    # allow_nan=False: events never hold NaN; if one ever did, saving fails loudly
    # (a warning) instead of writing a file strict JSON readers reject.
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def _record(event) -> dict:
    return {f.name: getattr(event, f.name) for f in fields(event) if f.name != "model"}


def _kept_epoch(view):
    """The EpochEnd whose model the run kept: the best under early stopping, else the last."""
    if not view.epochs:
        return None
    best = view.done.best_epoch if view.done is not None else 0
    for ev in view.epochs:
        if ev.epoch == best:
            return ev
    return view.epochs[-1]


def to_row(view, source: str) -> dict:
    kept = _kept_epoch(view)
    done = view.done
    started_at, finished_at = view.started_at, view.finished_at
    return {
        "key": view.key,
        "label": view.config.label(),
        "config": dumps(view.config.to_dict()),
        "status": view.status,
        "message": view.message,
        "source": source,
        "dataset": view.config.dataset,
        "model": view.config.model,
        "epochs_run": done.epochs_run if done else len(view.epochs),
        "best_epoch": done.best_epoch if done else 0,
        "step": done.step if done else (view.progress[-1].step if view.progress else 0),
        "test_acc": kept.test_acc if kept else None,
        "train_acc": kept.train_acc if kept else None,
        "train_acc_eval": kept.train_acc_eval if kept else None,
        "test_loss": kept.test_loss if kept else None,
        "seconds": finished_at - started_at if started_at and finished_at else None,
        "created_at": view.created_at,
        "started_at": started_at,
        "finished_at": finished_at,
        "saved_at": time.time(),
        "started": dumps(_record(view.started)) if view.started else None,
        "epochs": dumps([_record(ev) for ev in view.epochs]),
        "progress": dumps([[p.step, p.epoch, p.train_loss, p.train_acc] for p in view.progress]),
        "test_predictions": dumps(list(done.test_predictions) if done else []),
    }


def parse_config(text: str) -> RunConfig:
    return RunConfig.from_dict(json.loads(text))


def summaries(rows, warn) -> list[RunSummary]:
    """History rows from stored rows (either store's); a row that cannot be read is skipped
    with a warning, so one damaged run never hides the others."""
    out = []
    for row in rows:
        try:
            out.append(_summary(row))
        except (ValueError, TypeError) as err:
            warn(msg("store.run_unreadable", run=row["key"], error=str(err)))
    return out


def _summary(row) -> RunSummary:
    data = {name: row[name] for name in SUMMARY_COLUMNS}
    data["config"] = parse_config(data["config"])
    return RunSummary(**data)


def from_row(row):
    config = parse_config(row["config"])
    # from_json_dict: unknown names dropped (a newer writer), lists back to tuples
    epochs = [from_json_dict({"weight_hist": (), **data, "kind": EpochEnd.kind}) for data in json.loads(row["epochs"])]
    progress = tuple(Progress(*p) for p in json.loads(row["progress"]))
    started = from_json_dict({**json.loads(row["started"]), "kind": Started.kind}) if row["started"] else None
    done = Done(row["status"], row["epochs_run"], row["best_epoch"], row["step"], row["message"],
                test_predictions=tuple(json.loads(row["test_predictions"])))
    return RunView(
        key=row["key"], config=config, status=row["status"], message=row["message"],
        queue_position=0, started=started, progress=progress, epochs=tuple(epochs), masks={},
        done=done, created_at=row["created_at"], started_at=row["started_at"],
        finished_at=row["finished_at"], source=row["source"],
    )
