"""The measured curves of each lesson's pair: every epoch's test accuracy and loss of the
runs `python -m regdemo lessons --check --write` trained, one small JSON file per lesson in
curves/ next to measured.json.

A lesson page draws them the moment it opens, before anything trains (issue 18): on a slow
hosted CPU a pair takes minutes, and the result should not wait for it. The files are written
from the same runs as measured.json, so the kept epoch of each seed's curve is the number
measured.json stores for that seed (tests/unit/test_measured_curves.py holds them to it).

File shape: {"lesson", "seeds": [0, 1, 2], "command", "date", "baseline": side, "treated": side} where
side = {"best_epoch": [per seed], "test_acc": [[per epoch] per seed], "test_loss": [...]},
accuracies in percent (0-100). Under early stopping a seed's curve ends where it stopped.
"""

from __future__ import annotations

import json
import logging
import os
import pathlib
import tempfile
from collections.abc import Sequence

log = logging.getLogger(__name__)

CURVES_DIR = pathlib.Path(__file__).resolve().parent / "curves"  # beside catalog.MEASURED_PATH
SIDES = ("baseline", "treated")
METRICS = ("test_acc", "test_loss")


def folder_for(measured_path: str | os.PathLike) -> pathlib.Path:
    """Where the curves of a measured.json live: a curves/ folder beside it."""
    return pathlib.Path(measured_path).resolve().parent / "curves"


def lesson_curves(result, command: str = "", date: str = "") -> dict:
    """One lesson's file (check.LessonResult in, the shape above out)."""
    def side(runs) -> dict:
        return {"best_epoch": [r.best_epoch for r in runs],
                "test_acc": [[round(v, 2) for v in r.test_acc_curve] for r in runs],
                "test_loss": [[round(v, 4) for v in r.test_loss_curve] for r in runs]}

    return {"lesson": result.lesson.name, "seeds": list(result.seeds), "command": command, "date": date,
            "baseline": side(result.baseline), "treated": side(result.treated)}


def write_curves(results: Sequence, folder: str | os.PathLike = CURVES_DIR, command: str = "",
                 date: str = "") -> list[pathlib.Path]:
    """Write each lesson's file atomically (a page reads the old file or the new one)."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for result in results:
        path = folder / f"{result.lesson.name}.json"
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(lesson_curves(result, command, date), f, separators=(",", ":"))
                f.write("\n")
            os.chmod(tmp, 0o644)  # mkstemp's 0600 is for secrets; these ship in the repository
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
        written.append(path)
    return written


def load(name: str, folder: str | os.PathLike = CURVES_DIR) -> dict | None:
    """A lesson's curves, or None when there are none (or the file is damaged: no curve is
    better than a wrong one)."""
    path = pathlib.Path(folder) / f"{name}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, json.JSONDecodeError) as err:
        log.warning("ignoring %s: %s", path, err)
        return None
    try:
        seeds = len(data["seeds"])
        ok = seeds > 0 and all(len(data[side][key]) == seeds for side in SIDES
                               for key in ("best_epoch", *METRICS))
    except (KeyError, TypeError):
        ok = False
    if not ok:
        log.warning("ignoring %s: not the curves shape", path)
        return None
    return data


def kept(curve: Sequence[float], best_epoch: int) -> float:
    """The value of the epoch the run kept: its best under early stopping, else its last
    (check.result_from_lines' rule)."""
    return curve[best_epoch - 1] if 1 <= best_epoch <= len(curve) else curve[-1]


def mean_curve(data: dict, side: str, metric: str) -> list[tuple[int, float]]:
    """(epoch, mean over the seeds that trained that epoch), epoch 1 first."""
    curves = data[side][metric]
    longest = max((len(c) for c in curves), default=0)
    points = []
    for i in range(longest):
        values = [c[i] for c in curves if len(c) > i]
        points.append((i + 1, sum(values) / len(values)))
    return points
