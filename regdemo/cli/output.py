"""How the command line prints a run: the table per epoch, and the JSON object per epoch
that `train --json` writes (and lessons/check.py reads back).
"""

from __future__ import annotations


def _pct(x):
    return "    -" if x is None else f"{100 * x:5.2f}"


TABLE_HEADER = (
    f"{'epoch':>5}  {'train loss':>10}  {'train %':>7}  {'train % (eval)':>14}  "
    f"{'test loss':>9}  {'test %':>6}  {'gap':>5}  {'sec':>5}"
)


def table_row(ev) -> str:
    gap = 100 * (ev.train_acc_eval - ev.test_acc)
    return (
        f"{ev.epoch:>5}  {ev.train_loss:>10.4f}  {_pct(ev.train_acc):>7}  {_pct(ev.train_acc_eval):>14}  "
        f"{ev.test_loss:>9.4f}  {_pct(ev.test_acc):>6}  {gap:>5.2f}  {ev.seconds:>5.2f}"
    )


def epoch_json(ev) -> dict:
    out = {
        "epoch": ev.epoch, "train_loss": ev.train_loss, "train_acc": ev.train_acc,
        "train_acc_eval": ev.train_acc_eval, "train_loss_eval": ev.train_loss_eval,
        "test_loss": ev.test_loss, "test_acc": ev.test_acc,
        "val_loss": ev.val_loss, "val_acc": ev.val_acc,
        "l1_norm": ev.l1_norm, "l2_norm": ev.l2_norm, "near_zero": ev.near_zero,
        "best_epoch": ev.best_epoch, "seconds": ev.seconds,
    }
    # Only runs with label noise have wrong labels to memorize: the keys are absent, not
    # null, on clean data (a null would read as "not measured").
    for name in ("memorized", "train_acc_clean"):
        if getattr(ev, name, None) is not None:
            out[name] = getattr(ev, name)
    return out
