"""Runs as pandas frames: what the charts draw and the CSV export writes.

A run (records.RunView, live or reopened from the store) becomes tidy frames with
one row per point and a `split` column, so a chart colours by split and the
same code serves one run, many runs, live and stored.
"""

from __future__ import annotations

import pandas as pd

# Split names as they appear in legends; regdemo.viz.theme gives each a fixed colour.
TRAIN, TRAIN_EVAL, TEST, VAL = "train", "train (eval mode)", "test", "validation"

EPOCH_COLUMNS = [
    "run", "label", "epoch", "train_loss", "train_acc", "train_loss_eval", "train_acc_eval",
    "test_loss", "test_acc", "val_loss", "val_acc", "gap", "l1_norm", "l2_norm", "near_zero",
    "best_epoch", "seconds", "memorized", "train_acc_clean",
]


def epochs_frame(view, label: str | None = None) -> pd.DataFrame:
    """One row per finished epoch, wide format (the CSV export)."""
    rows = []
    for e in view.epochs:
        rows.append({
            "run": view.key, "label": label or view.config.label(), "epoch": e.epoch,
            "train_loss": e.train_loss, "train_acc": e.train_acc,
            "train_loss_eval": e.train_loss_eval, "train_acc_eval": e.train_acc_eval,
            "test_loss": e.test_loss, "test_acc": e.test_acc,
            "val_loss": e.val_loss, "val_acc": e.val_acc,
            # The generalization gap: how much better the model does on the
            # digits it trained on than on new ones (eval mode on both).
            "gap": e.train_acc_eval - e.test_acc,
            "l1_norm": e.l1_norm, "l2_norm": e.l2_norm, "near_zero": e.near_zero,
            "best_epoch": e.best_epoch, "seconds": e.seconds,
            # label noise only (empty cells on clean data): see events.EpochEnd
            "memorized": e.memorized, "train_acc_clean": e.train_acc_clean,
        })
    return pd.DataFrame(rows, columns=EPOCH_COLUMNS)


def curves_frame(view, label: str | None = None, eval_train: bool = False) -> pd.DataFrame:
    """Long format for curves: columns run, label, epoch, split, acc, loss, kind.

    Epoch-end points (kind "epoch") for train, test and validation; plus the
    running train-mode points from progress events (kind "progress") so the
    curve moves several times per epoch before the first epoch ends.
    """
    label = label or view.config.label()
    rows = []
    for p in view.progress:
        rows.append((view.key, label, p.epoch, TRAIN, p.train_acc, p.train_loss, "progress"))
    for e in view.epochs:
        rows.append((view.key, label, float(e.epoch), TRAIN, e.train_acc, e.train_loss, "epoch"))
        rows.append((view.key, label, float(e.epoch), TEST, e.test_acc, e.test_loss, "epoch"))
        if eval_train:
            rows.append((view.key, label, float(e.epoch), TRAIN_EVAL, e.train_acc_eval,
                         e.train_loss_eval, "epoch"))
        if e.val_loss is not None:
            rows.append((view.key, label, float(e.epoch), VAL, e.val_acc, e.val_loss, "epoch"))
    return pd.DataFrame(rows, columns=["run", "label", "epoch", "split", "acc", "loss", "kind"])


def kept_epoch(view):
    """The EpochEnd whose weights the run kept: the best one under early stopping,
    else the last; None before the first epoch ends."""
    if not view.epochs:
        return None
    best = view.done.best_epoch if view.done is not None and view.config.patience else 0
    return next((e for e in view.epochs if e.epoch == best), view.epochs[-1])


SUMMARY_COLUMNS = ["run", "label", "status", "epochs", "kept_epoch", "train_acc", "train_acc_eval",
                   "test_acc", "gap"]


def summary_frame(views, labels: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per run, its kept epoch's accuracies (fractions) and the gap (Compare's table)."""
    rows = []
    for view in views:
        e = kept_epoch(view)
        rows.append({
            "run": view.key, "label": (labels or {}).get(view.key) or view.config.label(),
            "status": view.status, "epochs": len(view.epochs), "kept_epoch": e.epoch if e else None,
            "train_acc": e.train_acc if e else None, "train_acc_eval": e.train_acc_eval if e else None,
            "test_acc": e.test_acc if e else None, "gap": e.train_acc_eval - e.test_acc if e else None,
        })
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
